/**
 * The few-shot section as markdown (the README's few-shot table) and issue 14's target for it:
 * the heads within 2 points of feature extraction in at most a fifth of its fit time.
 */
import type { BenchReport, TargetCheck } from '../core/report.js';
import { pct, table } from '../core/format.js';

const s = (v: number): string => `${v.toFixed(1)} s`;
const code = (c: string): string => `\`${c}\``;

export function fewshotMarkdown(r: BenchReport): string[] {
  const f = r.fewshot;
  if (!f) return [];
  const rows = f.rows.map((row) => [row.method, pct(row.accuracy), row.accuracies.map(pct).join(', '), s(row.fitSeconds), s(row.seconds), code(row.command)]);
  const parts = [
    `### Few-shot heads: ${f.k} labels per class of ${f.target}, backbone trained on ${f.source}`,
    `Source model: ${code(f.sourceCommand)}. Test set: the rest of ${f.target} (${code(`${f.target}@k=${f.k},seed=S,rest`)}), scored by ${code('tlcv evaluate')}; seeds ${f.seeds.join(', ')}. Fit: the time the command reports for the fit itself (features or the cached body, the epochs or the head; execution plans come from the cache, primed by one untimed run of each mode); command: its wall time, start-up and data loading included.`,
    table(['method', 'accuracy (mean)', 'per seed', 'fit', 'command', 'command line (first seed)'], rows),
  ];
  if (f.peer) {
    const p = f.peer;
    parts.push(`NCM on the same features, tlcv against the PyTorch peer (peers/ncm.py): same class for ${pct(p.agreement)} of test images; accuracy ${pct(p.tlcvAccuracy)} / ${pct(p.peerAccuracy)}; fit and predict ${(p.tlcvSeconds * 1000).toFixed(1)} ms / ${(p.peerSeconds * 1000).toFixed(1)} ms.`);
  }
  return [parts.join('\n\n')];
}

export function fewshotTargets(r: BenchReport): TargetCheck[] {
  const out: TargetCheck[] = [];
  const f = r.fewshot;
  const fe = f?.rows.find((row) => row.method.startsWith('feature extraction'));
  if (f && fe) {
    for (const head of f.rows.filter((row) => row.method === 'ncm' || row.method === 'probe')) {
      const points = (head.accuracy - fe.accuracy) * 100;
      const share = head.fitSeconds / fe.fitSeconds;
      out.push({
        name: `14. few-shot ${head.method} vs feature extraction, ${f.k} labels per class`,
        target: 'within 2 points, in at most 1/5 of the fit time',
        measured: `${points >= 0 ? '+' : ''}${points.toFixed(2)} points, ${share.toFixed(3)} of the fit time (${(head.seconds / fe.seconds).toFixed(3)} of the command's)`,
        met: points >= -2 && share <= 0.2,
      });
    }
  }
  return out;
}
