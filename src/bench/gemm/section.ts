/**
 * The GEMM section: the peak GFLOP/s of a 2048 x 2048 matmul on each side (the best of several
 * alternating tries, since load elsewhere only lowers a peak), and the throughput rows' achieved
 * GFLOP/s set against tlcv's peaks. The roofline section reuses these peaks when both run.
 */
import type { Preset } from '../core/config.js';
import type { BenchContext, BenchSection, SectionConfig } from '../core/section.js';
import { figure, type BenchReport, type Figure, type TargetCheck } from '../core/report.js';
import { num, pct, ratio, ratio3, table } from '../core/format.js';
import type { ThroughputRow } from '../throughput/types.js';
import type { GemmFigures, GemmResult } from './types.js';

function config(preset: Preset): SectionConfig<'gemm'> {
  return { n: 2048, timing: preset === 'quick' ? { warmup: 1, iters: 2, minSeconds: 0.3, maxIters: 20 } : { warmup: 1, iters: 3, minSeconds: 1, maxIters: 50 } };
}

async function run(ctx: BenchContext, g: SectionConfig<'gemm'>): Promise<void> {
  const out: GemmFigures = { n: g.n, tlcv: {}, peer: {} };
  for (const dtype of ['float32', 'bfloat16'] as const) {
    const t: number[] = [];
    const p: number[] = [];
    // A peak: the best of several alternating tries, since load elsewhere only lowers it.
    for (let rep = 0; rep < Math.max(ctx.cfg.reps, 3); rep += 1) {
      const job = { kind: 'gemm', n: g.n, dtype, ...g.timing };
      const a = await ctx.tlcv.request<GemmResult>(job);
      const b = await ctx.peer.request<GemmResult>(job);
      t.push(a.flop / a.seconds / 1e9);
      p.push(b.flop / b.seconds / 1e9);
    }
    out.tlcv[dtype] = figure(t);
    out.peer[dtype] = figure(p);
  }
  ctx.report.gemm = out;
}

function gflops(row: ThroughputRow, f: Figure | undefined): number {
  if (row.forwardFlopsPerImage === null || f === undefined) return NaN;
  // A training step costs about three forward passes (forward, grad input, grad weight).
  return (f.median * row.forwardFlopsPerImage * (row.mode === 'train' ? 3 : 1)) / 1e9;
}

function achievedTable(r: BenchReport): string | null {
  const train = r.throughput.filter((t) => t.mode === 'train' && t.forwardFlopsPerImage !== null);
  if (train.length === 0 || !r.gemm) return null;
  const peakBf16 = r.gemm.tlcv.bfloat16?.best ?? NaN;
  const peakFp32 = r.gemm.tlcv.float32?.best ?? NaN;
  const rows = train.map((t) => {
    const auto = gflops(t, t.tlcv.auto);
    const fp32 = gflops(t, t.tlcv.fp32);
    const best = gflops(t, t.peer[t.ratios.peerBestSetting]);
    return [`${t.model} ${t.inputSize.join('x')}`, num(t.forwardFlopsPerImage! / 1e9 * 3), num(auto), pct(auto / peakBf16), num(fp32), pct(fp32 / peakFp32), `${num(best)} (${t.ratios.peerBestSetting})`];
  });
  return table(['training', 'GFLOP/image', 'tlcv default GFLOP/s', 'of bf16 peak', 'tlcv fp32 GFLOP/s', 'of fp32 peak', 'PyTorch best GFLOP/s'], rows);
}

function markdown(r: BenchReport): string[] {
  const parts: string[] = [];
  if (r.gemm) {
    const g = r.gemm;
    const rows = Object.keys(g.tlcv).map((d) => [d, num(g.tlcv[d]!.best), num(g.peer[d]!.best), ratio(g.tlcv[d]!.best / g.peer[d]!.best)]);
    parts.push(`GEMM ${g.n}x${g.n}, GFLOP/s (best of ${g.tlcv.float32?.samples.length ?? '?'})\n\n${table(['dtype', 'tlcv', 'PyTorch', 'tlcv / PyTorch'], rows)}`);
  }
  const achieved = achievedTable(r);
  if (achieved) parts.push(`Achieved GFLOP/s in training (3 forward passes per step), against tlcv's GEMM peaks above\n\n${achieved}`);
  return parts;
}

function targets(r: BenchReport): TargetCheck[] {
  if (!r.gemm) return [];
  const g = r.gemm;
  return Object.entries(g.tlcv).map(([dtype, f]) => {
    const v = f.best / g.peer[dtype]!.best;
    return { name: `6. GEMM ${g.n}x${g.n} ${dtype}, tlcv / PyTorch`, target: '>= 0.95x (issue 2)', measured: ratio3(v), met: v >= 0.95 };
  });
}

export const section: BenchSection<'gemm'> = {
  name: 'gemm',
  describe: 'peak GFLOP/s of a 2048x2048 matmul; the training rows against it',
  processes: 'shared',
  inPresets: true,
  config,
  empty: null,
  run,
  markdown,
  targets,
  tlcvJobs: new URL('./tlcv-jobs.js', import.meta.url).href,
};
