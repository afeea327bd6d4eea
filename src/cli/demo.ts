import { TlcvError } from '../errors.js';
import { runDemo } from '../demo/demo.js';
import { parseSourceImages, SOURCE_TIERS } from '../demo/source-plan.js';
import { defineCommand } from './command.js';
import { applyThreads, pct } from './common.js';

export const demoCommand = defineCommand({
  name: 'demo',
  usage: 'tlcv demo [--out DIR] [--quick] [--source-images N|auto]',
  flags: {
    out: { kind: 'string', help: 'output folder (a demo run there before is replaced)', default: 'runs/demo', placeholder: 'DIR' },
    quick: { kind: 'bool', help: 'a smaller run that finishes in about a minute' },
    'source-images': { kind: 'string', help: `source images to train on: ${SOURCE_TIERS.join(', ')}, or auto (the most that this machine trains in about 3 minutes)`, default: 'auto', placeholder: 'N|auto' },
    seed: { kind: 'int', help: 'seed', min: 0, default: 0 },
    labels: { kind: 'list', help: 'labels per class to compare, comma-separated', default: '10,100', placeholder: 'K,K' },
    source: { kind: 'string', help: 'source-domain training data', default: 'fashion-mnist:train', placeholder: 'SPEC' },
    'source-test': { kind: 'string', help: 'source-domain test data', default: 'fashion-mnist:test', placeholder: 'SPEC' },
    target: { kind: 'string', help: 'target-domain pool (split into K labels per class + the rest as test)', default: 'mnist:all', placeholder: 'SPEC' },
    threads: { kind: 'int', help: 'CPU threads', min: 1, placeholder: 'N' },
  },
  async run({ flags: f }) {
    // Checked before anything is loaded or trained: a bad value is one line and exit 2.
    const sourceImages = parseSourceImages(f['source-images']);
    if (f.quick && sourceImages !== 'auto') throw new TlcvError('ARGUMENT', '--source-images cannot be combined with --quick (which trains on 1,000 source images per class)');
    applyThreads(f.threads);
    const labels = f.labels.map(Number);
    const r = await runDemo({ out: f.out, quick: f.quick, seed: f.seed, source: f.source, sourceTest: f['source-test'], target: f.target, labelsPerClass: labels, sourceImages, log: (l) => console.log(l) });
    console.log('');
    console.log(`| labels per class | scratch | feature extraction | fine-tune |`);
    console.log(`|---|---|---|---|`);
    for (const k of labels) {
      const get = (m: string): string => pct(r.rows.find((row) => row.labelsPerClass === k && row.method === m)?.accuracy ?? NaN);
      console.log(`| ${k} | ${get('scratch')} | ${get('feature-extraction')} | ${get('fine-tune')} |`);
    }
    console.log(`\nsource accuracy ${pct(r.sourceAccuracy)}; ${r.seconds.toFixed(0)}s in all; report: ${r.reportPath}`);
    return 0;
  },
});
