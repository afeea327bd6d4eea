/**
 * The fit section as markdown (one table per scenario: every manual mode, fit at each budget and
 * the PyTorch recipe, then fit's leaderboards) and issue 22's targets: within 1 point of the best
 * manual mode, ahead of the default mode, inside the budget (10% over allowed, as fit promises).
 */
import type { BenchReport, TargetCheck } from '../core/report.js';
import { pct, table } from '../core/format.js';
import type { FitRow, FitScenarioFigures } from './types.js';

const s = (v: number): string => `${v.toFixed(1)} s`;
const code = (c: string): string => `\`${c}\``;

/** The manual mode `tlcv transfer` runs without `--mode`. */
export const DEFAULT_MODE = 'fine-tune';

function leaderboard(f: FitRow): string {
  const rows = f.leaderboard.map((e) => [e.strategy, e.backbone, e.score === null ? '-' : pct(e.score), s(e.seconds), e.status === 'done' ? (e.strategy === f.kept ? 'kept' : 'done') : `${e.status}${e.note ? `: ${e.note}` : ''}`]);
  return `${code(f.command)}: kept ${f.kept}\n\n${table(['strategy', 'backbone', 'validation accuracy', 'time', ''], rows)}`;
}

function scenario(sc: FitScenarioFigures): string {
  const rows = [
    ...sc.manual.map((m) => [`transfer --mode ${m.mode}${m.mode === DEFAULT_MODE ? ' (the default)' : ''}`, pct(m.accuracy), s(m.seconds), code(m.command)]),
    ...sc.fits.map((f) => [`fit --budget ${f.budget}s (kept ${f.kept})`, pct(f.accuracy), `${s(f.seconds)} (fit ${s(f.fitSeconds)})`, code(f.command)]),
    ...(sc.peer ? [[sc.peer.recipe, pct(sc.peer.accuracy), s(sc.peer.seconds), 'peers/fit_recipe.py']] : []),
  ];
  return [
    `### fit: ${sc.name}`,
    `Training set ${code(sc.train)}, test set ${code(sc.test)} (scored by ${code('tlcv evaluate')}), every run from the model folder of ${code(sc.sourceCommand)}. Time: the command's wall time (start-up, data loading and plan timing included; the manual modes ran first, so fit reads their plans from the cache); the PyTorch recipe's is its training and testing, on the images tlcv decoded.`,
    table(['run', 'test accuracy', 'time', 'command'], rows),
    ...sc.fits.map(leaderboard),
  ].join('\n\n');
}

export function fitMarkdown(r: BenchReport): string[] {
  return r.fit ? r.fit.scenarios.map(scenario) : [];
}

const points = (v: number): string => `${v >= 0 ? '+' : ''}${(v * 100).toFixed(2)} points`;

export function fitTargets(r: BenchReport): TargetCheck[] {
  const out: TargetCheck[] = [];
  for (const sc of r.fit?.scenarios ?? []) {
    if (sc.manual.length === 0) continue;
    const best = sc.manual.reduce((a, b) => (b.accuracy > a.accuracy ? b : a));
    const def = sc.manual.find((m) => m.mode === DEFAULT_MODE);
    for (const f of sc.fits) {
      const name = `22. fit --budget ${f.budget}s, ${sc.name}`;
      out.push({ name: `${name}: against the best manual mode (${best.mode})`, target: 'within 1 point', measured: points(f.accuracy - best.accuracy), met: f.accuracy >= best.accuracy - 0.01 });
      if (def) out.push({ name: `${name}: against the default mode (${def.mode})`, target: 'ahead', measured: points(f.accuracy - def.accuracy), met: f.accuracy > def.accuracy });
      out.push({ name: `${name}: wall time`, target: `at most ${(f.budget * 1.1).toFixed(0)} s (budget + 10%)`, measured: s(f.seconds), met: f.seconds <= f.budget * 1.1 });
    }
  }
  return out;
}
