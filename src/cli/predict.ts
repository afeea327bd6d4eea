import { TlcvError } from '../errors.js';
import { decodeImage } from '../data/index.js';
import { Learner } from '../train/index.js';
import { defineCommand } from './command.js';
import { applyThreads } from './common.js';

export const predictCommand = defineCommand({
  name: 'predict',
  usage: 'tlcv predict --model DIR FILE... [--top-k K] [--json]',
  flags: {
    model: { kind: 'string', help: 'model folder', placeholder: 'DIR', required: true },
    'top-k': { kind: 'int', help: 'how many classes to show per image', min: 1, default: 3, placeholder: 'K' },
    json: { kind: 'bool', help: 'print JSON on stdout' },
    threads: { kind: 'int', help: 'CPU threads', min: 1, placeholder: 'N' },
  },
  async run({ flags: f, positional: files }) {
    applyThreads(f.threads);
    if (files.length === 0) throw new TlcvError('ARGUMENT', 'give one or more image files after the flags (see tlcv predict --help)');
    const learn = Learner.load(f.model, { quiet: true });
    const classes = learn.classes!;
    const [c, h, w] = learn.model.config.inputSize;
    const results: { file: string; predictions: { class: string; index: number; probability: number }[] }[] = [];
    try {
      for (const file of files) {
        const [probs] = learn.predict([await decodeImage(file, { channels: c, height: h, width: w })]);
        const top = probs!.map((pr, i) => ({ class: classes[i] ?? String(i), index: i, probability: pr })).sort((a, b) => b.probability - a.probability);
        results.push({ file, predictions: top.slice(0, Math.min(f['top-k'], classes.length)) });
      }
    } finally {
      learn.model.dispose();
    }
    if (f.json) console.log(JSON.stringify(results));
    else for (const r of results) console.log(`${r.file}: ${r.predictions.map((q) => `${q.class} ${(q.probability * 100).toFixed(1)}%`).join(', ')}`);
    return 0;
  },
});
