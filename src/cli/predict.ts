import { TlcvError } from '../errors.js';
import { ImageClassifier, describePrediction, type PredictionReport } from '../deploy/index.js';
import { defineCommand } from './command.js';
import { requireFlag } from './args.js';
import { applyThreads } from './common.js';

export const predictCommand = defineCommand({
  name: 'predict',
  usage: 'tlcv predict --model DIR FILE... [--top-k K] [--json]',
  summary: 'Classify image files with a model folder.',
  flags: {
    model: { kind: 'string', help: 'model folder', placeholder: 'DIR' },
    'top-k': { kind: 'int', help: 'how many classes to show per image', min: 1, default: 3, placeholder: 'K' },
    json: { kind: 'bool', help: 'print one JSON document: {"classes": [...], "predictions": [{"file", "probabilities" (class order), "top"}]}' },
    threads: { kind: 'int', help: 'CPU threads', min: 1, placeholder: 'N' },
  },
  async run(p) {
    applyThreads(p);
    const dir = requireFlag(p, 'model', 'predict');
    if (p.positional.length === 0) throw new TlcvError('ARGUMENT', 'give one or more image files after the flags (see tlcv predict --help)');
    const clf = ImageClassifier.load(dir);
    const report: PredictionReport = { classes: clf.classes, predictions: [] };
    try {
      // One image at a time: memory stays at one image whatever the number of files.
      for (const file of p.positional) {
        const [probs] = clf.classify([await clf.pixels(file)]);
        report.predictions.push(describePrediction(file, probs!, clf.classes, p.flags['top-k'] as number));
      }
    } finally {
      clf.dispose();
    }
    if (p.flags.json === true) console.log(JSON.stringify(report));
    else for (const r of report.predictions) console.log(`${r.file}: ${r.top.map((q) => `${q.class} ${(q.probability * 100).toFixed(1)}%`).join(', ')}`);
    return 0;
  },
});
