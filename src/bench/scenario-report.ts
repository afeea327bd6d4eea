/**
 * The few-shot and adaptation sections as markdown (the README's scenario tables) and issue
 * 14's targets: the heads within 2 points of feature extraction in at most a fifth of its
 * time; the best adaptation method at least 10 points over source-only on two scenarios.
 */
import type { BenchReport, TargetCheck } from './results.js';
import type { AdaptFigures } from './scenario-jobs.js';

const pct = (v: number): string => (Number.isFinite(v) ? `${(v * 100).toFixed(2)}%` : 'n/a');
const s = (v: number): string => `${v.toFixed(1)} s`;
const code = (c: string): string => `\`${c}\``;
const table = (head: string[], rows: string[][]): string => [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

function fewshotMarkdown(r: BenchReport): string | null {
  const f = r.fewshot;
  if (!f) return null;
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
  return parts.join('\n\n');
}

function adaptMarkdown(r: BenchReport): string | null {
  const f = r.adapt;
  if (!f || f.rows.length === 0) return null;
  const columns = f.rows[0]!.cells.map((c) => `${c.model} ${c.method}`);
  const rows = f.rows.map((row) => [row.shift, ...row.cells.map((c) => pct(c.accuracy))]);
  const commands = f.rows.flatMap((row) => row.cells.map((c) => `- ${row.shift}, ${c.model} ${c.method} (${pct(c.accuracy)}, ${s(c.seconds)}): ${code(c.command)}`));
  return [
    `### Unsupervised domain adaptation: ${f.source} to shifted digits (target test accuracy)`,
    `Source models: ${f.sourceCommands.map(code).join('; ')}.`,
    table(['target shift', ...columns], rows),
    commands.join('\n'),
  ].join('\n\n');
}

/** The sections' markdown, in report order (empty when neither ran). */
export function scenarioMarkdown(r: BenchReport): string[] {
  return [fewshotMarkdown(r), adaptMarkdown(r)].filter((x): x is string => x !== null);
}

export function scenarioTargets(r: BenchReport): TargetCheck[] {
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
  if (r.adapt && r.adapt.rows.length > 0) {
    const gains = bestGains(r.adapt);
    const big = gains.filter((g) => g.points >= 10);
    out.push({
      name: '14. adaptation: best method over source-only, scenarios with +10 points or more',
      target: '>= 2 scenarios',
      measured: gains.map((g) => `${g.shift}: ${g.points >= 0 ? '+' : ''}${g.points.toFixed(1)} (${g.method})`).join('; '),
      met: big.length >= 2,
    });
  }
  return out;
}

/** Points the best method gains over its model's source-only accuracy, per scenario. */
export function bestGains(f: AdaptFigures): { shift: string; method: string; points: number }[] {
  return f.rows.map((row) => {
    let best = { shift: row.shift, method: '', points: -Infinity };
    for (const cell of row.cells) {
      if (cell.method === 'source-only') continue;
      const base = row.cells.find((x) => x.method === 'source-only' && x.model === cell.model);
      const points = (cell.accuracy - (base?.accuracy ?? NaN)) * 100;
      if (points > best.points) best = { shift: row.shift, method: `${cell.method} (${cell.model})`, points };
    }
    return best;
  });
}
