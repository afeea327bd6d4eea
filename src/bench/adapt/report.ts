/**
 * The adaptation section as markdown (the README's adaptation table) and issue 14's target for
 * it: the best method at least 10 points over source-only on two scenarios.
 */
import type { BenchReport, TargetCheck } from '../core/report.js';
import { pct, table } from '../core/format.js';
import type { AdaptFigures } from './types.js';

const s = (v: number): string => `${v.toFixed(1)} s`;
const code = (c: string): string => `\`${c}\``;

export function adaptMarkdown(r: BenchReport): string[] {
  const f = r.adapt;
  if (!f || f.rows.length === 0) return [];
  const columns = f.rows[0]!.cells.map((c) => `${c.model} ${c.method}`);
  const rows = f.rows.map((row) => [row.shift, ...row.cells.map((c) => pct(c.accuracy))]);
  const commands = f.rows.flatMap((row) => row.cells.map((c) => `- ${row.shift}, ${c.model} ${c.method} (${pct(c.accuracy)}, ${s(c.seconds)}): ${code(c.command)}`));
  return [
    [
      `### Unsupervised domain adaptation: ${f.source} to shifted digits (target test accuracy)`,
      `Source models: ${f.sourceCommands.map(code).join('; ')}.`,
      table(['target shift', ...columns], rows),
      commands.join('\n'),
    ].join('\n\n'),
  ];
}

export function adaptTargets(r: BenchReport): TargetCheck[] {
  if (!r.adapt || r.adapt.rows.length === 0) return [];
  const gains = bestGains(r.adapt);
  const big = gains.filter((g) => g.points >= 10);
  return [
    {
      name: '14. adaptation: best method over source-only, scenarios with +10 points or more',
      target: '>= 2 scenarios',
      measured: gains.map((g) => `${g.shift}: ${g.points >= 0 ? '+' : ''}${g.points.toFixed(1)} (${g.method})`).join('; '),
      met: big.length >= 2,
    },
  ];
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
