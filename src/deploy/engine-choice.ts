/**
 * `--engine auto`: libtorch and onnxruntime timed against each other on the first batch of a
 * size, as numeric plans are timed (src/execution/timed-choice.ts: interleaved rounds, the best
 * of each, a 5% margin before leaving libtorch, the engine tlcv always had), and the choice
 * kept in the plan cache per model, batch, libtorch plan, threads, library versions and CPU,
 * with the timings and the session options that made it.
 */
import { cpus } from 'node:os';
import { getNumThreads, runtimeInfo } from '../tensor/index.js';
import type { ClassifierModel } from '../models/index.js';
import { bestSeconds, describePlan, fastestBeyondMargin, performanceClock, planCachePath, readPlanCache, timeInterleaved, writePlanCache, type Clock, type ExecutionPlan } from '../execution/index.js';
import type { OrtSessionOptions } from './ort-session.js';

export const ENGINES = ['auto', 'libtorch', 'onnxruntime'] as const;
/** What the user asks for: `auto` times both engines; the others pin one. */
export type EngineRequest = (typeof ENGINES)[number];
export type EngineName = Exclude<EngineRequest, 'auto'>;

/** One auto choice as the plan cache keeps it: the engine, and the figures and options that chose it. */
export interface EngineChoice {
  engine: EngineName;
  /** Images per second of each engine, on `images` images (the timed trial). */
  imagesPerSecond: Record<EngineName, number>;
  images: number;
  /** The libtorch plan that was timed. */
  libtorch: string;
  /** The onnxruntime session's options and version. */
  onnxruntime: OrtSessionOptions & { version: string };
  /** When it was timed (ISO 8601). */
  timedAt: string;
}

export interface ChoiceRequest {
  model: ClassifierModel;
  /** The batch size the choice is for (cached by {@link batchBucket}). */
  batch: number;
  /** Images in each timed step (at most `batch`). */
  images: number;
  /** The largest trial a batch of this input gets (trialBatchSize): batches from it up share one choice. */
  trialMax: number;
  libtorchPlan: ExecutionPlan;
  session: OrtSessionOptions & { version: string };
  /** One forward of the trial in each engine, as the pass that uses the choice runs it (made only when timing). */
  steps: () => Record<EngineName, () => void>;
  clock?: Clock;
  log?: (line: string) => void;
}

/**
 * The cache's name for a batch size: 1 alone (a lone request has no batch to spread over), then
 * powers of two, and every batch from the largest trial up in one (they are timed alike).
 *
 * @example
 * batchBucket(3, 8); // '3-4'
 * batchBucket(64, 8); // '8+'
 */
export function batchBucket(n: number, trialMax: number): string {
  if (n >= trialMax) return `${trialMax}+`;
  if (n <= 1) return '1';
  const hi = 2 ** Math.ceil(Math.log2(n));
  return `${hi / 2 + 1}-${Math.min(hi, trialMax - 1)}`;
}

/** The cache key: everything that changes which engine is faster. */
export function engineCacheKey(r: Pick<ChoiceRequest, 'model' | 'batch' | 'trialMax' | 'libtorchPlan' | 'session'>): string {
  const c = r.model.config;
  return [
    'engine',
    c.arch,
    JSON.stringify(c.options),
    c.inputSize.join('x'),
    `classes ${r.model.numClasses}`,
    `batch ${batchBucket(r.batch, r.trialMax)}`,
    `libtorch ${describePlan(r.libtorchPlan)}`,
    `threads ${getNumThreads()}`,
    `torch ${runtimeInfo().torchVersion}`,
    `onnxruntime ${r.session.version}`,
    cpus()[0]?.model ?? 'cpu',
  ].join('|');
}

function isChoice(v: unknown): v is EngineChoice {
  const e = (v as { engine?: unknown } | null)?.engine;
  return e === 'libtorch' || e === 'onnxruntime';
}

/** The session options in a few words, for the log line. */
export function describeSession(s: OrtSessionOptions & { version: string }): string {
  const spin = s.extra.session.intra_op.allow_spinning === '1' ? 'spinning' : 'no spinning';
  return `onnxruntime ${s.version} (${s.intraOpNumThreads} threads, graph ${s.graphOptimizationLevel}, ${s.enableCpuMemArena ? 'arena' : 'no arena'}, ${spin})`;
}

/**
 * The engine for this model and batch: from the plan cache, or timed now and cached. Logs one
 * line when it times.
 *
 * @example
 * const { engine } = chooseEngine({ model, batch: 64, images: 8, trialMax: 8, libtorchPlan, session, steps: () => ({ libtorch: runTorch, onnxruntime: runOrt }) });
 */
export function chooseEngine(r: ChoiceRequest): EngineChoice {
  const path = planCachePath();
  const key = engineCacheKey(r);
  const cached = readPlanCache(path)[key];
  if (isChoice(cached)) return cached;
  const engines: EngineName[] = ['libtorch', 'onnxruntime'];
  const clock = r.clock ?? performanceClock;
  const steps = r.steps();
  const seconds = timeInterleaved(engines, (e, warmup) => bestSeconds(steps[e], warmup, clock));
  const engine = fastestBeyondMargin(engines, seconds, 'libtorch');
  const rate = (e: EngineName): number => r.images / seconds.get(e)!;
  const choice: EngineChoice = {
    engine,
    imagesPerSecond: { libtorch: rate('libtorch'), onnxruntime: rate('onnxruntime') },
    images: r.images,
    libtorch: describePlan(r.libtorchPlan),
    onnxruntime: r.session,
    timedAt: new Date().toISOString(),
  };
  const f = (e: EngineName): string => choice.imagesPerSecond[e].toFixed(1);
  r.log?.(`timed inference engines on ${r.images} images (images/s): libtorch ${choice.libtorch} ${f('libtorch')}, ${describeSession(r.session)} ${f('onnxruntime')}; using ${engine}`);
  writePlanCache(path, key, choice);
  return choice;
}
