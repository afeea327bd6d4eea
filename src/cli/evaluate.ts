import { formatEvaluation } from '../metrics/index.js';
import { Learner, loadForModel } from '../train/index.js';
import { defineCommand } from './command.js';
import { alignToModelClasses, applyThreads } from './common.js';

export const evaluateCommand = defineCommand({
  name: 'evaluate',
  usage: 'tlcv evaluate --model DIR --data SPEC [--json]',
  flags: {
    model: { kind: 'string', help: 'model folder written by pretrain or transfer', placeholder: 'DIR', required: true },
    data: { kind: 'string', help: 'data spec to evaluate on', placeholder: 'SPEC', required: true },
    json: { kind: 'bool', help: 'print one JSON object on stdout' },
    'batch-size': { kind: 'int', help: 'batch size', min: 1, default: 256, placeholder: 'B' },
    precision: { kind: 'string', help: 'numeric precision', choices: ['auto', 'fp32', 'bf16'], default: 'auto' },
    device: { kind: 'string', help: 'cpu, cuda or cuda:N', default: 'cpu' },
    'on-bad-image': { kind: 'string', help: 'unreadable images in folders', choices: ['error', 'skip'], default: 'error' },
    threads: { kind: 'int', help: 'CPU threads', min: 1, placeholder: 'N' },
  },
  async run({ flags: f }) {
    applyThreads(f.threads);
    const learn = Learner.load(f.model, { options: { precision: f.precision, device: f.device }, quiet: true });
    try {
      const classes = learn.classes!;
      // The folder's own preprocessing: evaluation sees images exactly as predict and serve do.
      const how = { onBadImage: f['on-bad-image'], log: (m: string) => console.error(m), ...(learn.preprocess ? { preprocess: learn.preprocess } : {}) };
      const data = alignToModelClasses(await loadForModel(f.data, learn.model, how), classes);
      const result = await learn.evaluate(data, { batchSize: f['batch-size'] });
      if (f.json) {
        const { worst, ...rest } = result;
        console.log(JSON.stringify({ ...rest, classes, model: f.model, data: f.data, worst }));
      } else {
        console.log(formatEvaluation(result));
      }
    } finally {
      learn.model.dispose();
    }
    return 0;
  },
});
