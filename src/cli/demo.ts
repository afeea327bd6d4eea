import { runDemo } from '../demo/demo.js';
import { defineCommand } from './command.js';
import { applyThreads, pct } from './common.js';

export const demoCommand = defineCommand({
  name: 'demo',
  usage: 'tlcv demo [--out DIR] [--quick]',
  flags: {
    out: { kind: 'string', help: 'output folder (a demo run there before is replaced)', default: 'runs/demo', placeholder: 'DIR' },
    quick: { kind: 'bool', help: 'a smaller run that finishes in about a minute' },
    seed: { kind: 'int', help: 'seed', min: 0, default: 0 },
    labels: { kind: 'list', help: 'labels per class to compare, comma-separated', default: '10,100', placeholder: 'K,K' },
    source: { kind: 'string', help: 'source-domain training data', default: 'fashion-mnist:train', placeholder: 'SPEC' },
    'source-test': { kind: 'string', help: 'source-domain test data', default: 'fashion-mnist:test', placeholder: 'SPEC' },
    target: { kind: 'string', help: 'target-domain pool (split into K labels per class + the rest as test)', default: 'mnist:all', placeholder: 'SPEC' },
    threads: { kind: 'int', help: 'CPU threads', min: 1, placeholder: 'N' },
  },
  async run({ flags: f }) {
    applyThreads(f.threads);
    const labels = f.labels.map(Number);
    const r = await runDemo({ out: f.out, quick: f.quick, seed: f.seed, source: f.source, sourceTest: f['source-test'], target: f.target, labelsPerClass: labels, log: (l) => console.log(l) });
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
