import { runDemo } from '../transfer/demo.js';
import { defineCommand } from './command.js';
import { applyThreads, pct } from './common.js';

export const demoCommand = defineCommand({
  name: 'demo',
  usage: 'tlcv demo [--out DIR] [--quick]',
  summary: "The spec's story on embedded data: Fashion-MNIST source → MNIST digits target, scratch vs feature extraction vs fine-tuning.",
  flags: {
    out: { kind: 'string', help: 'output folder', default: 'runs/demo', placeholder: 'DIR' },
    quick: { kind: 'bool', help: 'a smaller run that finishes in about a minute' },
    seed: { kind: 'int', help: 'seed', min: 0, default: 0 },
    labels: { kind: 'list', help: 'labels per class to compare, comma-separated', placeholder: 'K,K' },
    source: { kind: 'string', help: 'source-domain training data', default: 'fashion-mnist:train', placeholder: 'SPEC' },
    'source-test': { kind: 'string', help: 'source-domain test data', default: 'fashion-mnist:test', placeholder: 'SPEC' },
    target: { kind: 'string', help: 'target-domain pool (split into K labels per class + the rest as test)', default: 'mnist:all', placeholder: 'SPEC' },
    threads: { kind: 'int', help: 'CPU threads', min: 1, placeholder: 'N' },
  },
  async run(p) {
    applyThreads(p);
    const quick = p.flags.quick === true;
    const labels = Array.isArray(p.flags.labels) ? p.flags.labels.map(Number) : quick ? [10, 100] : [10, 100];
    const r = await runDemo({
      out: p.flags.out as string,
      quick,
      seed: p.flags.seed as number,
      source: p.flags.source as string,
      sourceTest: p.flags['source-test'] as string,
      target: p.flags.target as string,
      labelsPerClass: labels,
      log: (l) => console.log(l),
    });
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
