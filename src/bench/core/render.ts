/**
 * The bench report as markdown (ready for the README's Performance section) and as
 * bench.json. Figures are medians; ratios are tlcv over PyTorch unless a heading says otherwise.
 * Each section renders its own part (src/bench/registry.ts gives their order).
 */
import { writeFileAtomic } from '../../io/index.js';
import { SECTIONS } from '../registry.js';
import { table } from './format.js';
import type { BenchReport } from './report.js';

/**
 * The whole report as markdown.
 *
 * @example
 * console.log(renderMarkdown(await runBench({ config: presetConfig('quick', 2) })));
 */
export function renderMarkdown(r: BenchReport): string {
  const m = r.machine;
  const parts: string[] = [];
  parts.push(
    `Command: \`${r.command}\` (${r.seconds.toFixed(0)} s)\n` +
      `Machine: ${m.cpu}, ${m.cores} cores; ${m.threads} threads per side; load average ${m.loadAverageStart.map((v) => v.toFixed(2)).join(' ')} at start, ${m.loadAverageEnd.map((v) => v.toFixed(2)).join(' ')} at end\n` +
      `tlcv default plan: ${m.tlcvAutoPlan ?? 'n/a'}; PyTorch ${m.torch ?? 'n/a'}; OMP_WAIT_POLICY ${m.ompWaitPolicy ?? 'n/a'}; Node ${m.node}`,
  );
  for (const s of SECTIONS) parts.push(...(s.markdown?.(r) ?? []));
  if (r.targets.length > 0) {
    const rows = r.targets.map((t) => [t.name, t.target, t.measured, t.met === null ? '—' : t.met ? 'met' : '**missed**']);
    parts.push(`Targets (issues 7, 11, 13, 14, 16 and 22, where their sections ran)\n\n${table(['target', 'wanted', 'measured', ''], rows)}`);
  }
  const errors = Object.entries(r.errors);
  if (errors.length > 0) parts.push(`Sections that failed:\n${errors.map(([k, v]) => `- ${k}: ${v}`).join('\n')}`);
  return `${parts.join('\n\n')}\n`;
}

/** Writes bench.json atomically. */
export function writeReportJson(path: string, r: BenchReport): void {
  writeFileAtomic(path, `${JSON.stringify(r, null, 2)}\n`);
}
