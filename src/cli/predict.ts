import { TlcvError } from '../errors.js';
import { ENGINES, parseUnknown, type PredictionReport } from '../deploy/index.js';
import { load } from '../runs/index.js';
import { defineCommand } from './command.js';
import { applyThreads } from './common.js';

export const predictCommand = defineCommand({
  name: 'predict',
  usage: 'tlcv predict --model DIR FILE... [--top-k K] [--json] [--unknown off|auto|VALUE] [--engine auto|libtorch|onnxruntime]',
  flags: {
    model: { kind: 'string', help: 'model folder', placeholder: 'DIR', required: true },
    'top-k': { kind: 'int', help: 'how many classes to show per image', min: 1, default: 3, placeholder: 'K' },
    json: { kind: 'bool', help: 'print one JSON document: {"classes": [...], "predictions": [{"file", "probabilities" (class order), "top", and where a threshold is in force "unknown" (true or false) and "score"}]}' },
    unknown: { kind: 'string', help: "answer unknown when the largest probability is below the model folder's calibrated threshold (auto; a folder trained without --unknown auto never does), never (off), or below VALUE", default: 'auto', placeholder: 'off|auto|VALUE' },
    engine: { kind: 'string', help: 'inference engine: auto times libtorch against onnxruntime on the first batch of each size (cached per model, batch, threads and CPU)', choices: ENGINES, default: 'auto' },
    tta: { kind: 'bool', help: 'test-time augmentation: average each image with its mirror image (a folder written by fit may ask for it itself)' },
    threads: { kind: 'int', help: 'CPU threads', min: 1, placeholder: 'N' },
  },
  async run({ flags: f, positional: files }) {
    applyThreads(f.threads);
    if (files.length === 0) throw new TlcvError('ARGUMENT', 'give one or more image files after the flags (see tlcv predict --help)');
    const unknown = parseUnknown(f.unknown);
    const m = await load(f.model, { unknown, engine: f.engine, log: (line) => console.error(line) });
    let report: PredictionReport;
    try {
      // A few images per forward: memory stays at one batch whatever the number of files.
      report = { classes: m.classes, predictions: await m.predict(files, { topK: f['top-k'], ...(f.tta ? { tta: true } : {}) }) };
    } finally {
      m.dispose();
    }
    if (f.json) console.log(JSON.stringify(report));
    else {
      for (const r of report.predictions) {
        const top = r.top.map((q) => `${q.class} ${(q.probability * 100).toFixed(1)}%`).join(', ');
        console.log(`${r.file}: ${r.unknown === true ? `unknown (nearest: ${top})` : top}`);
      }
    }
    return 0;
  },
});
