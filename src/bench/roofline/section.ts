/**
 * The roofline section (issue 16): resnet18 at 224 px, tlcv's achieved GFLOP/s in training and
 * inference against the measured GEMM peaks (fp32 and bf16; the gemm section's when it ran
 * before), and one profiled step each that says where the time goes.
 */
import type { Preset } from '../core/config.js';
import type { BenchContext, BenchSection, SectionConfig } from '../core/section.js';
import type { BenchReport } from '../core/report.js';
import { num, table } from '../core/format.js';
import { syntheticImages, writeImageSet } from '../core/data-files.js';
import type { WorkerProcess } from '../core/protocol.js';
import type { FlopsResult } from '../throughput/types.js';
import type { GemmResult } from '../gemm/types.js';
import type { RooflineResult } from './types.js';

function config(preset: Preset): SectionConfig<'roofline'> {
  const quick = preset === 'quick';
  const timing = quick ? { warmup: 1, iters: 1, minSeconds: 0, maxIters: 1 } : { warmup: 2, iters: 3, minSeconds: 3, maxIters: 20 };
  return { model: 'resnet18', inputSize: [3, 224, 224], batch: quick ? 16 : 64, numClasses: 10, timing };
}

/** GEMM peaks from the gemm section when it ran, else measured here: the best of three each. */
async function gemmPeaks(tlcv: WorkerProcess, report: BenchReport): Promise<{ float32: number; bfloat16: number }> {
  const known = report.gemm?.tlcv;
  if (known?.float32 && known.bfloat16) return { float32: known.float32.best, bfloat16: known.bfloat16.best };
  const peak = async (dtype: string): Promise<number> => {
    let best = 0;
    for (let i = 0; i < 3; i += 1) {
      const r = await tlcv.request<GemmResult>({ kind: 'gemm', n: 2048, dtype, warmup: 1, iters: 2, minSeconds: 0.3, maxIters: 20 });
      best = Math.max(best, r.flop / r.seconds / 1e9);
    }
    return best;
  };
  return { float32: await peak('float32'), bfloat16: await peak('bfloat16') };
}

async function run(ctx: BenchContext, row: SectionConfig<'roofline'>): Promise<void> {
  const data = writeImageSet(ctx.dir, `roofline-${row.inputSize.join('x')}-${row.batch}`, syntheticImages(row.batch, row.inputSize, row.numClasses, ctx.cfg.seed));
  const flops = (await ctx.peer.request<FlopsResult>({ kind: 'flops', model: row.model, inputSize: row.inputSize, numClasses: row.numClasses })).forwardFlopsPerImage;
  const peaks = await gemmPeaks(ctx.tlcv, ctx.report);
  const r = await ctx.tlcv.request<RooflineResult>({ kind: 'roofline', model: row.model, inputSize: row.inputSize, numClasses: row.numClasses, batch: row.batch, images: data.images, labels: data.labels, ...row.timing });
  // A training step costs about three forward passes (forward, grad input, grad weight).
  const runs = r.runs.map((run) => ({ ...run, gflops: (run.imagesPerSec * flops * (run.mode === 'train' ? 3 : 1)) / 1e9 }));
  ctx.report.roofline = { model: row.model, inputSize: row.inputSize, batch: row.batch, forwardFlopsPerImage: flops, peaks, runs };
}

// One decimal: the profile's shares are rough.
const pct = (v: number): string => (Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : 'n/a');

function markdown(r: BenchReport): string[] {
  const f = r.roofline;
  if (!f) return [];
  const label = (run: (typeof f.runs)[number]): string => `${run.mode === 'train' ? 'training' : 'inference'}, ${run.setting}`;
  const rows = f.runs.map((run) => [label(run), run.plan.replace(/ on cpu$/, ''), num(run.imagesPerSec), num(run.gflops), pct(run.gflops / f.peaks.float32), pct(run.gflops / f.peaks.bfloat16)]);
  const gflop = f.forwardFlopsPerImage === null ? 'n/a' : (f.forwardFlopsPerImage / 1e9).toFixed(2);
  const head = `Roofline: ${f.model} at ${f.inputSize.join('x')}, batch ${f.batch}; ${gflop} GFLOP per image forward, 3x that per training image; GEMM peaks ${num(f.peaks.float32)} GFLOP/s fp32, ${num(f.peaks.bfloat16)} bf16`;
  const groups = [...new Set(f.runs.flatMap((run) => Object.keys(run.profile.groups)))];
  const total = (g: string): number => f.runs.reduce((s, run) => s + (run.profile.groups[g] ?? 0) / run.profile.wallMs, 0);
  groups.sort((a, b) => total(b) - total(a));
  const profile = groups.map((g) => [g, ...f.runs.map((run) => `${num(run.profile.groups[g] ?? 0)} (${pct((run.profile.groups[g] ?? 0) / run.profile.wallMs)})`)]);
  profile.push(['one step, wall', ...f.runs.map((run) => num(run.profile.wallMs))]);
  return [`${head}\n\n${table(['step', 'plan', 'images/s', 'GFLOP/s', 'of fp32 peak', 'of bf16 peak'], rows)}\n\nWhere one step's time goes, ms (share of the step), from libtorch's op hooks\n\n${table(['', ...f.runs.map(label)], profile)}`];
}

export const section: BenchSection<'roofline'> = {
  name: 'roofline',
  describe: 'resnet18 224 px: achieved GFLOP/s against the peaks, a profiled step',
  processes: 'shared',
  inPresets: true,
  config,
  empty: null,
  run,
  markdown,
  tlcvJobs: new URL('./tlcv-jobs.js', import.meta.url).href,
};
