/**
 * The issue-16 parts of `tlcv bench`, run with the throughput rows:
 * - optimizer: AdamW's step alone over ResNet-18's parameters, tlcv fused and per-op against
 *   PyTorch 1.13 with foreach=True and in its single-tensor default, interleaved;
 * - roofline: resnet18 at 224 px, tlcv's achieved GFLOP/s in training and inference against
 *   the measured GEMM peaks (fp32 and bf16), and one profiled step each that says where the
 *   time goes.
 * Each takes what it needs as arguments, so it depends on no harness internals.
 */
import type { BenchConfig } from './config.js';
import type { WorkerProcess } from './protocol.js';
import { syntheticImages, writeImageSet } from './data-files.js';
import { figure, type BenchReport, type Figure, type TargetCheck } from './results.js';
import type { FlopsResult, GemmResult, OptimStepResult, RooflineResult } from './jobs.js';

const TLCV_VARIANTS = ['fused', 'per-op'];
const PEER_VARIANTS = ['foreach', 'single'];

export async function optimizerSection(cfg: BenchConfig, tlcv: WorkerProcess, peer: WorkerProcess, report: BenchReport): Promise<void> {
  const o = cfg.optimizer!;
  const ms = { tlcv: new Map<string, number[]>(), peer: new Map<string, number[]>() };
  let params = 0;
  const order = TLCV_VARIANTS.flatMap((v, i) => [
    { side: 'tlcv' as const, variant: v },
    { side: 'peer' as const, variant: PEER_VARIANTS[i]! },
  ]);
  for (let rep = 0; rep < cfg.reps; rep += 1) {
    for (const { side, variant } of rep % 2 === 0 ? order : [...order].reverse()) {
      const job = { kind: 'optimStep', model: o.model, inputSize: o.inputSize, numClasses: o.numClasses, variant, ...o.timing };
      const r = await (side === 'tlcv' ? tlcv : peer).request<OptimStepResult>(job);
      const list = ms[side].get(variant) ?? [];
      list.push((r.seconds / r.steps) * 1000);
      ms[side].set(variant, list);
      params = r.params;
    }
  }
  const figures = (m: Map<string, number[]>): Record<string, Figure> => Object.fromEntries([...m].map(([k, v]) => [k, figure(v)]));
  const t = figures(ms.tlcv);
  const p = figures(ms.peer);
  report.optimizer = { model: o.model, params, tlcv: t, peer: p, speedupVsForeach: p.foreach!.median / t.fused!.median };
}

/** GEMM peaks from the gemm section when it ran, else measured here: the best of three each. */
async function gemmPeaks(cfg: BenchConfig, tlcv: WorkerProcess, report: BenchReport): Promise<{ float32: number; bfloat16: number }> {
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

export async function rooflineSection(cfg: BenchConfig, tlcv: WorkerProcess, peer: WorkerProcess, report: BenchReport, dir: string): Promise<void> {
  const row = cfg.roofline!;
  const data = writeImageSet(dir, `roofline-${row.inputSize.join('x')}-${row.batch}`, syntheticImages(row.batch, row.inputSize, row.numClasses, cfg.seed));
  const flops = (await peer.request<FlopsResult>({ kind: 'flops', model: row.model, inputSize: row.inputSize, numClasses: row.numClasses })).forwardFlopsPerImage;
  const peaks = await gemmPeaks(cfg, tlcv, report);
  const r = await tlcv.request<RooflineResult>({ kind: 'roofline', model: row.model, inputSize: row.inputSize, numClasses: row.numClasses, batch: row.batch, images: data.images, labels: data.labels, ...row.timing });
  // A training step costs about three forward passes (forward, grad input, grad weight).
  const runs = r.runs.map((run) => ({ ...run, gflops: (run.imagesPerSec * flops * (run.mode === 'train' ? 3 : 1)) / 1e9 }));
  report.roofline = { model: row.model, inputSize: row.inputSize, batch: row.batch, forwardFlopsPerImage: flops, peaks, runs };
}

const x = (v: number): string => `${v.toFixed(3)}x`;

/** Issue 16's targets, from the figures in the report (left out where a section did not run). */
export function speedTargets(r: BenchReport): TargetCheck[] {
  const out: TargetCheck[] = [];
  if (r.optimizer) {
    const s = r.optimizer.speedupVsForeach;
    out.push({ name: `16. optimizer step alone, ${r.optimizer.model}: PyTorch AdamW foreach / tlcv`, target: '>= 2x', measured: x(s), met: s >= 2 });
  }
  for (const [mode, want] of [['train', 1.1], ['infer', 1.2]] as const) {
    let worst: { value: number; label: string } | null = null;
    for (const row of r.throughput.filter((t) => t.mode === mode)) {
      const v = row.ratios.autoVsPeerBest;
      if (Number.isFinite(v) && (worst === null || v < worst.value)) worst = { value: v, label: `${row.model} ${row.inputSize.join('x')} vs ${row.ratios.peerBestSetting}` };
    }
    if (worst) out.push({ name: `16. every ${mode === 'train' ? 'training' : 'inference'} row: tlcv default / PyTorch's best, worst row`, target: `>= ${want}x`, measured: `${x(worst.value)} (${worst.label})`, met: worst.value >= want });
  }
  return out;
}
