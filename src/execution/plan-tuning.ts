/**
 * Picks the execution plan by timing it, as cudnn.benchmark picks kernels: which of fp32,
 * fp32 + channels-last and bf16 + channels-last is fastest depends on the model, the input
 * size and the CPU (measured: bf16 wins on resnet18 at 224 px, fp32 + channels-last on
 * mobilenet_v2 at 32 px). The choice is cached per model, input, batch, threads and CPU so
 * that a second run with the same seed takes the same plan and gives the same metrics.
 */
import { cpus } from 'node:os';
import { F, cpuHasFastBf16, getNumThreads, noGrad, runtimeInfo, tidy, type Tensor } from '../tensor/index.js';
import type { ClassifierModel, Stage } from '../models/index.js';
import { planCachePath, readPlanCache, writePlanCache } from './plan-cache.js';
import { bestSeconds, fastestBeyondMargin, performanceClock, timeInterleaved, trialBatchSize, type Clock } from './timed-choice.js';
import { cloneState, disposeState } from './state-copy.js';
import { planForward, setTrainingMode } from './forward.js';
import { foldedForPlan } from './folded.js';
import { planExecution, describePlan, type ExecutionPlan, type Precision } from './precision.js';

export interface TuneRequest {
  model: ClassifierModel;
  stages: Stage[];
  /** Stages before this index are frozen (eval mode, no gradients). */
  frozenStages: number;
  /** A sample batch: its size is the one timed. */
  x: Tensor;
  y: Tensor;
  train: boolean;
  precision: Precision;
  channelsLast: boolean | 'auto';
  device: string;
  log?: (message: string) => void;
  /** What times the steps (tests pass a fake; default performance.now). */
  clock?: Clock;
}

// The candidates are part of the key: a run pinned to fp32 must not decide for a later auto run.
function cacheKey(r: TuneRequest): string {
  const c = r.model.config;
  const among = candidatePlans(r).map(describePlan).join(' / ');
  return [c.arch, JSON.stringify(c.options), r.x.shape.join('x'), `frozen ${r.frozenStages}`, r.train ? 'train' : 'infer', among, `threads ${getNumThreads()}`, `torch ${runtimeInfo().torchVersion}`, cpus()[0]?.model ?? 'cpu'].join('|');
}

/** The plans worth timing on this device; one candidate means there is nothing to time. */
export function candidatePlans(r: Pick<TuneRequest, 'precision' | 'channelsLast' | 'device'>): ExecutionPlan[] {
  const fixed = planExecution(r);
  if (r.device !== 'cpu' || (r.precision !== 'auto' && r.channelsLast !== 'auto')) return [fixed];
  const bf16Options = r.precision === 'auto' ? (cpuHasFastBf16() ? [false, true] : [false]) : [r.precision === 'bf16'];
  const out: ExecutionPlan[] = [];
  for (const bf16 of bf16Options) {
    // NCHW bf16 was never the fastest in PyTorch's table or ours, so it is not timed.
    const layouts = r.channelsLast === 'auto' ? (bf16 ? [true] : [false, true]) : [r.channelsLast];
    for (const channelsLast of layouts) out.push({ bf16, channelsLast, device: r.device });
  }
  return out;
}

function restoreBuffers(model: ClassifierModel, saved: Map<string, Tensor>): void {
  const now = model.namedBuffers();
  noGrad(() => {
    for (const [k, v] of saved) now.get(k)?.copy_(v);
  });
  disposeState(saved);
}

/**
 * Seconds of one step (forward, and backward when training), as the passes that use the plan
 * run it: inference folded (evaluate, predict and serve do), training with its frozen prefix folded.
 */
function timeStep(r: TuneRequest, plan: ExecutionPlan, warmup: number, clock: Clock): number {
  r.model.to({ memoryFormat: plan.channelsLast ? 'channelsLast' : 'contiguous' });
  const params = r.model.parameters({ trainableOnly: true });
  const folded = !r.train ? foldedForPlan(r.model, plan) : r.frozenStages > 0 ? foldedForPlan(r.model, plan, { stages: r.stages, to: r.frozenStages }) : null;
  const pass = (): void =>
    tidy(() => {
      const out = planForward(r.model, r.x, plan, { stages: r.stages, folded });
      if (r.train) F.crossEntropy(out, r.y).backward();
      else out.sum().item();
      for (const p of params) p.grad = null;
    });
  const step = r.train ? pass : (): void => noGrad(pass);
  try {
    return bestSeconds(step, warmup, clock);
  } finally {
    folded?.dispose();
  }
}

/**
 * The fastest candidate plan for this model and batch, from the cache or timed now. The model
 * ends in the chosen memory format, with its BatchNorm statistics as they were.
 *
 * @example
 * const plan = tunePlan({ model, stages: model.stages(), frozenStages: 0, x, y, train: true, precision: 'auto', channelsLast: 'auto', device: 'cpu' });
 */
export function tunePlan(r: TuneRequest): ExecutionPlan {
  const candidates = candidatePlans(r);
  if (candidates.length === 1) return candidates[0]!;
  const path = planCachePath();
  const key = cacheKey(r);
  const cached = readPlanCache(path)[key] as ExecutionPlan | undefined;
  const known = candidates.find((c) => cached !== undefined && c.bf16 === cached.bf16 && c.channelsLast === cached.channelsLast);
  if (known !== undefined) {
    r.model.to({ memoryFormat: known.channelsLast ? 'channelsLast' : 'contiguous' });
    return known;
  }
  const saved = cloneState(r.model.namedBuffers());
  const n = Math.min(r.x.size(0), r.x.ndim === 4 ? trialBatchSize(r.x.size(2), r.x.size(3)) : trialBatchSize(1, 1));
  const trial = { ...r, x: r.x.narrow(0, 0, n).keep(), y: r.y.narrow(0, 0, n).keep() };
  const preferred = planExecution(r);
  let seconds: Map<ExecutionPlan, number>;
  try {
    setTrainingMode(r.model, r.stages, r.frozenStages, r.train);
    seconds = timeInterleaved(candidates, (plan, warmup) => timeStep(trial, plan, warmup, r.clock ?? performanceClock));
  } finally {
    restoreBuffers(r.model, saved);
    trial.x.dispose();
    trial.y.dispose();
  }
  const timings = candidates.map((c) => `${describePlan(c)} ${(n / seconds.get(c)!).toFixed(0)}/s`);
  const staticPlan = candidates.find((c) => c.bf16 === preferred.bf16 && c.channelsLast === preferred.channelsLast);
  const best = fastestBeyondMargin(candidates, seconds, staticPlan ?? candidates[0]!);
  r.model.to({ memoryFormat: best.channelsLast ? 'channelsLast' : 'contiguous' });
  r.log?.(`timed ${r.train ? 'training' : 'inference'} plans (images/s): ${timings.join(', ')}; using ${describePlan(best)}`);
  writePlanCache(path, key, best);
  return best;
}

/** Where a sample batch comes from: a loader, sync or async. */
export interface SampleSource {
  [Symbol.iterator]?(): Iterator<{ x: Tensor; y: Tensor }>;
  [Symbol.asyncIterator]?(): AsyncIterator<{ x: Tensor; y: Tensor }>;
}

/**
 * The first batch of a batch source, read through its async iterator when it has one (null if
 * it yields nothing, or cannot be iterated); the caller disposes it.
 *
 * @example
 * const sample = await firstBatchOf(loader);
 */
export async function firstBatchOf(batches: SampleSource): Promise<{ x: Tensor; y: Tensor } | null> {
  let first: IteratorResult<{ x: Tensor; y: Tensor }>;
  const asyncIt = batches[Symbol.asyncIterator]?.bind(batches);
  const syncIt = batches[Symbol.iterator]?.bind(batches);
  if (asyncIt !== undefined) {
    const it = asyncIt();
    first = await it.next();
    await it.return?.();
  } else if (syncIt !== undefined) {
    const it = syncIt();
    first = it.next();
    it.return?.();
  } else {
    return null;
  }
  return first.done === true ? null : first.value;
}

/**
 * tunePlan on the first batch of a batch source (the static plan if it yields nothing).
 *
 * @example
 * const plan = await tunePlanOn(new DataLoader(ds, { batchSize: 64, mean, std }), { model, stages, frozenStages: 0, train: false, precision: 'auto', channelsLast: 'auto', device: 'cpu' });
 */
export async function tunePlanOn(batches: SampleSource, r: Omit<TuneRequest, 'x' | 'y'>): Promise<ExecutionPlan> {
  const first = await firstBatchOf(batches);
  if (first === null) return planExecution(r);
  try {
    return tunePlan({ ...r, ...first });
  } finally {
    first.x.dispose();
    first.y.dispose();
  }
}
