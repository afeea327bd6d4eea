/**
 * The optimizer section (issue 16): AdamW's step alone over ResNet-18's parameters, tlcv fused
 * and per-op against PyTorch 1.13 with foreach=True and in its single-tensor default, interleaved.
 */
import type { Preset } from '../core/config.js';
import type { BenchContext, BenchSection, SectionConfig } from '../core/section.js';
import { figure, type BenchReport, type Figure, type TargetCheck } from '../core/report.js';
import { num, ratio3, table } from '../core/format.js';
import type { OptimStepResult } from './types.js';

const TLCV_VARIANTS = ['fused', 'per-op'];
const PEER_VARIANTS = ['foreach', 'single'];

function config(preset: Preset): SectionConfig<'optimizer'> {
  const timing = preset === 'quick' ? { warmup: 2, iters: 5, minSeconds: 0.5, maxIters: 50 } : { warmup: 3, iters: 10, minSeconds: 2, maxIters: 200 };
  return { model: 'resnet18', inputSize: [3, 224, 224], numClasses: 1000, timing };
}

async function run(ctx: BenchContext, o: SectionConfig<'optimizer'>): Promise<void> {
  const ms = { tlcv: new Map<string, number[]>(), peer: new Map<string, number[]>() };
  let params = 0;
  const order = TLCV_VARIANTS.flatMap((v, i) => [
    { side: 'tlcv' as const, variant: v },
    { side: 'peer' as const, variant: PEER_VARIANTS[i]! },
  ]);
  for (let rep = 0; rep < ctx.cfg.reps; rep += 1) {
    for (const { side, variant } of rep % 2 === 0 ? order : [...order].reverse()) {
      const job = { kind: 'optimStep', model: o.model, inputSize: o.inputSize, numClasses: o.numClasses, variant, ...o.timing };
      const r = await (side === 'tlcv' ? ctx.tlcv : ctx.peer).request<OptimStepResult>(job);
      const list = ms[side].get(variant) ?? [];
      list.push((r.seconds / r.steps) * 1000);
      ms[side].set(variant, list);
      params = r.params;
    }
  }
  const figures = (m: Map<string, number[]>): Record<string, Figure> => Object.fromEntries([...m].map(([k, v]) => [k, figure(v)]));
  const t = figures(ms.tlcv);
  const p = figures(ms.peer);
  ctx.report.optimizer = { model: o.model, params, tlcv: t, peer: p, speedupVsForeach: p.foreach!.median / t.fused!.median };
}

function markdown(r: BenchReport): string[] {
  const o = r.optimizer;
  if (!o) return [];
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
  return [`Optimizer step alone: AdamW over ${o.model}'s ${(o.params / 1e6).toFixed(2)}M parameters, gradients fixed (median of ${reps})\n\n${table(['', 'ms per step', 'speed vs PyTorch foreach'], rows)}`];
}

/** Issue 16's optimizer target. */
function targets(r: BenchReport): TargetCheck[] {
  if (!r.optimizer) return [];
  const s = r.optimizer.speedupVsForeach;
  return [{ name: `16. optimizer step alone, ${r.optimizer.model}: PyTorch AdamW foreach / tlcv`, target: '>= 2x', measured: ratio3(s), met: s >= 2 }];
}

export const section: BenchSection<'optimizer'> = {
  name: 'optimizer',
  describe: "AdamW's step alone: fused and per-op against PyTorch foreach/single",
  processes: 'shared',
  inPresets: true,
  config,
  empty: null,
  run,
  markdown,
  targets,
  tlcvJobs: new URL('./tlcv-jobs.js', import.meta.url).href,
};
