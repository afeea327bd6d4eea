import { DataLoader } from '../data/index.js';
import { loadModelFolder } from '../transfer/model-folder.js';
import { evaluateModel } from '../train/evaluate.js';
import { loadForModel } from '../train/run.js';
import { tunePlanOn } from '../train/plan-tuning.js';
import { formatEvaluation } from '../metrics/index.js';
import { defineCommand } from './command.js';
import { requireFlag } from './args.js';
import { alignToModelClasses, applyThreads } from './common.js';

export const evaluateCommand = defineCommand({
  name: 'evaluate',
  usage: 'tlcv evaluate --model DIR --data SPEC [--json]',
  summary: 'Score a model folder on a (target-domain) dataset: accuracy, top-5, per-class P/R/F1, confusion.',
  flags: {
    model: { kind: 'string', help: 'model folder written by pretrain or transfer', placeholder: 'DIR' },
    data: { kind: 'string', help: 'data spec to evaluate on', placeholder: 'SPEC' },
    json: { kind: 'bool', help: 'print one JSON object on stdout' },
    'batch-size': { kind: 'int', help: 'batch size', min: 1, default: 256, placeholder: 'B' },
    precision: { kind: 'string', help: 'numeric precision', choices: ['auto', 'fp32', 'bf16'], default: 'auto' },
    device: { kind: 'string', help: 'cpu, cuda or cuda:N', default: 'cpu' },
    'on-bad-image': { kind: 'string', help: 'unreadable images in folders', choices: ['error', 'skip'], default: 'error' },
    threads: { kind: 'int', help: 'CPU threads', min: 1, placeholder: 'N' },
  },
  async run(p) {
    applyThreads(p);
    const dir = requireFlag(p, 'model', 'evaluate');
    const spec = requireFlag(p, 'data', 'evaluate');
    const { model, config } = loadModelFolder(dir);
    try {
      const raw = await loadForModel(spec, model, { onBadImage: p.flags['on-bad-image'] as 'error' | 'skip', log: (m) => console.error(m) });
      const data = alignToModelClasses(raw, config.classes);
      const device = p.flags.device as string;
      const loader = new DataLoader(data, { batchSize: p.flags['batch-size'] as number, mean: config.mean, std: config.std, device });
      const plan = tunePlanOn(loader, { model, stages: model.stages(), frozenStages: 0, train: false, precision: p.flags.precision as 'auto', channelsLast: 'auto', device });
      if (plan.channelsLast) model.to({ memoryFormat: 'channelsLast' });
      const result = evaluateModel(model, loader, { plan, classNames: config.classes });
      if (p.flags.json === true) {
        const { worst, ...rest } = result;
        console.log(JSON.stringify({ ...rest, classes: config.classes, model: dir, data: spec, worst }));
      } else {
        console.log(formatEvaluation(result));
      }
    } finally {
      model.dispose();
    }
    return 0;
  },
});
