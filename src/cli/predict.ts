import { TlcvError } from '../errors.js';
import { decodeImage } from '../data/index.js';
import { loadModelFolder, predictPixels } from '../transfer/model-folder.js';
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
    json: { kind: 'bool', help: 'print JSON on stdout' },
    threads: { kind: 'int', help: 'CPU threads', min: 1, placeholder: 'N' },
  },
  async run(p) {
    applyThreads(p);
    const dir = requireFlag(p, 'model', 'predict');
    if (p.positional.length === 0) throw new TlcvError('ARGUMENT', 'give one or more image files after the flags (see tlcv predict --help)');
    const { model, config } = loadModelFolder(dir);
    const [c, h, w] = config.inputSize;
    const k = Math.min(p.flags['top-k'] as number, config.numClasses);
    const results: { file: string; predictions: { class: string; index: number; probability: number }[] }[] = [];
    try {
      for (const file of p.positional) {
        const pixels = await decodeImage(file, { channels: c, height: h, width: w });
        const probs = predictPixels(model, config, pixels);
        const top = probs.map((pr, i) => ({ class: config.classes[i] ?? String(i), index: i, probability: pr })).sort((a, b) => b.probability - a.probability).slice(0, k);
        results.push({ file, predictions: top });
      }
    } finally {
      model.dispose();
    }
    if (p.flags.json === true) console.log(JSON.stringify(results));
    else for (const r of results) console.log(`${r.file}: ${r.predictions.map((q) => `${q.class} ${(q.probability * 100).toFixed(1)}%`).join(', ')}`);
    return 0;
  },
});
