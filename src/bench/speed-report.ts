/** The issue-16 parts of the bench report as markdown: the optimizer step and the roofline. */
import type { BenchReport } from './results.js';

const num = (v: number): string => (!Number.isFinite(v) ? 'n/a' : v >= 100 ? Math.round(v).toLocaleString('en-US') : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const pct = (v: number): string => (Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : 'n/a');
const table = (head: string[], rows: string[][]): string => [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

function optimizerPart(r: BenchReport): string | null {
  const o = r.optimizer;
  if (!o) return null;
  const foreach = o.peer.foreach?.median ?? NaN;
  const rows = [
    ['tlcv, fused (default)', o.tlcv.fused],
    ['tlcv, per-op (fused: false)', o.tlcv['per-op']],
    ['PyTorch 1.13, foreach=True', o.peer.foreach],
    ['PyTorch 1.13, single-tensor (its CPU default)', o.peer.single],
  ].map(([name, f]) => {
    const ms = typeof f === 'object' ? f.median : NaN;
    return [name as string, num(ms), `${(foreach / ms).toFixed(2)}x`];
  });
  const reps = o.tlcv.fused?.samples.length ?? '?';
  return `Optimizer step alone: AdamW over ${o.model}'s ${(o.params / 1e6).toFixed(2)}M parameters, gradients fixed (median of ${reps})\n\n${table(['', 'ms per step', 'speed vs PyTorch foreach'], rows)}`;
}

function rooflinePart(r: BenchReport): string | null {
  const f = r.roofline;
  if (!f) return null;
  const label = (run: (typeof f.runs)[number]): string => `${run.mode === 'train' ? 'training' : 'inference'}, ${run.setting}`;
  const rows = f.runs.map((run) => [label(run), run.plan.replace(/ on cpu$/, ''), num(run.imagesPerSec), num(run.gflops), pct(run.gflops / f.peaks.float32), pct(run.gflops / f.peaks.bfloat16)]);
  const gflop = f.forwardFlopsPerImage === null ? 'n/a' : (f.forwardFlopsPerImage / 1e9).toFixed(2);
  const head = `Roofline: ${f.model} at ${f.inputSize.join('x')}, batch ${f.batch}; ${gflop} GFLOP per image forward, 3x that per training image; GEMM peaks ${num(f.peaks.float32)} GFLOP/s fp32, ${num(f.peaks.bfloat16)} bf16`;
  const groups = [...new Set(f.runs.flatMap((run) => Object.keys(run.profile.groups)))];
  const total = (g: string): number => f.runs.reduce((s, run) => s + (run.profile.groups[g] ?? 0) / run.profile.wallMs, 0);
  groups.sort((a, b) => total(b) - total(a));
  const profile = groups.map((g) => [g, ...f.runs.map((run) => `${num(run.profile.groups[g] ?? 0)} (${pct((run.profile.groups[g] ?? 0) / run.profile.wallMs)})`)]);
  profile.push(['one step, wall', ...f.runs.map((run) => num(run.profile.wallMs))]);
  return `${head}\n\n${table(['step', 'plan', 'images/s', 'GFLOP/s', 'of fp32 peak', 'of bf16 peak'], rows)}\n\nWhere one step's time goes, ms (share of the step), from libtorch's op hooks\n\n${table(['', ...f.runs.map(label)], profile)}`;
}

/** The issue-16 sections, in report order. */
export function speedMarkdown(r: BenchReport): string[] {
  return [optimizerPart(r), rooflinePart(r)].filter((p): p is string => p !== null);
}
