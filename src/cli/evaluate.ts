import { ENGINES } from '../deploy/index.js';
import { formatEvaluation } from '../metrics/index.js';
import { load } from '../runs/index.js';
import { defineCommand } from './command.js';
import { applyThreads } from './common.js';

export const evaluateCommand = defineCommand({
  name: 'evaluate',
  usage: 'tlcv evaluate --model DIR --data SPEC [--json]',
  flags: {
    model: { kind: 'string', help: 'model folder written by pretrain, transfer or adapt', placeholder: 'DIR', required: true },
    data: { kind: 'string', help: 'data spec to evaluate on', placeholder: 'SPEC', required: true },
    json: { kind: 'bool', help: 'print one JSON object on stdout' },
    'batch-size': { kind: 'int', help: 'batch size', min: 1, default: 256, placeholder: 'B' },
    precision: { kind: 'string', help: 'numeric precision', choices: ['auto', 'fp32', 'bf16'], default: 'auto' },
    'channels-last': { kind: 'string', help: 'channels-last memory format', choices: ['auto', 'on', 'off'], default: 'auto' },
    device: { kind: 'string', help: 'cpu, cuda or cuda:N', default: 'cpu' },
    'on-bad-image': { kind: 'string', help: 'unreadable images in folders', choices: ['error', 'skip'], default: 'error' },
    engine: { kind: 'string', help: 'inference engine: auto times libtorch against onnxruntime on the first batch of each size (cached per model, batch, threads and CPU)', choices: ENGINES, default: 'auto' },
    tta: { kind: 'bool', help: 'test-time augmentation: average each image with its mirror image (a folder written by fit may ask for it itself)' },
    threads: { kind: 'int', help: 'CPU threads', min: 1, placeholder: 'N' },
  },
  async run({ flags: f }) {
    applyThreads(f.threads);
    const cl = f['channels-last'];
    const m = await load(f.model, { precision: f.precision, channelsLast: cl === 'auto' ? 'auto' : cl === 'on', device: f.device, engine: f.engine });
    try {
      // The folder's own preprocessing: evaluation sees images exactly as predict and serve do.
      const result = await m.evaluate(f.data, { batchSize: f['batch-size'], onBadImage: f['on-bad-image'], log: (line) => console.error(line), ...(f.tta ? { tta: true } : {}) });
      if (f.json) {
        // Top-5 of five classes or fewer says nothing (every answer is in it): left out.
        const { worst, top5, ...rest } = result;
        console.log(JSON.stringify({ ...rest, ...(m.classes.length > 5 ? { top5 } : {}), classes: m.classes, model: f.model, data: f.data, worst }));
      } else {
        console.log(formatEvaluation(result));
      }
    } finally {
      m.dispose();
    }
    return 0;
  },
});
