/**
 * The training loop: seeded per epoch (so `--resume` after a kill ends on the same metrics
 * as an uninterrupted run), one tidy scope per step, a checkpoint written atomically every
 * epoch, early stopping that keeps the best weights, and a stop on a non-finite loss.
 */
import { appendFileSync, existsSync, mkdirSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { writeFileAtomic } from '../io/atomic-write.js';
import { join } from 'node:path';
import { F, manualSeed, noGrad, tidy, type Tensor } from '../tensor/index.js';
import { TlcvError } from '../errors.js';
import type { ClassifierModel, Stage } from '../models/index.js';
import { createTrainingOptimizer, type TrainingOptimizer } from './optim-factory.js';
import { CHECKPOINT_FILE, readCheckpoint, writeCheckpoint } from './checkpoint.js';
import { withPlan, type ExecutionPlan } from './precision.js';
import { createProgress, type ProgressSink } from './progress.js';
import type { TrainOptions } from './options.js';
import { cloneState, disposeState, epochSeed, removeStaleTempFiles } from './state.js';

export interface Batch {
  x: Tensor;
  y: Tensor;
}

/** Anything that yields batches: a DataLoader or a loader over cached features. */
export interface BatchSource {
  readonly length: number;
  setEpoch(epoch: number): void;
  [Symbol.iterator](): Iterator<Batch>;
}

export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  trainAcc: number;
  valLoss?: number;
  valAcc?: number;
  lr: number;
}

export interface FitContext {
  model: ClassifierModel;
  train: BatchSource;
  val?: BatchSource | null;
  options: TrainOptions;
  plan: ExecutionPlan;
  /** Batches enter the model at this stage (earlier stages were cached). */
  startStage?: number;
  /** Stages before this index are frozen and run in eval mode. */
  frozenStages?: number;
  outDir?: string;
  resume?: boolean;
  progress?: ProgressSink;
  /** Called after each epoch with timing, for reports and benchmarks (not written to metrics.jsonl). */
  onEpoch?: (r: EpochRecord, timing: { seconds: number; imagesPerSec: number }) => void;
}

export interface FitResult {
  history: EpochRecord[];
  bestEpoch: number;
  stoppedEarly: boolean;
  lrTrace: number[];
}

export function forwardStages(stages: Stage[], from: number, x: Tensor): Tensor {
  let h = x;
  for (let i = from; i < stages.length; i += 1) h = stages[i]!.forward(h);
  return h;
}

function setModes(model: ClassifierModel, stages: Stage[], frozen: number, training: boolean): void {
  model.train(training);
  if (!training) return;
  for (let i = 0; i < frozen; i += 1) for (const p of stages[i]!.prefixes) model.getSubmodule(p).eval();
}

function prepareInput(x: Tensor, plan: ExecutionPlan): Tensor {
  return plan.channelsLast && x.ndim === 4 ? x.contiguous('channelsLast') : x;
}

interface Totals {
  loss: number;
  correct: number;
  n: number;
}

/** One epoch; yields after every step so that an async driver can let the event loop run. */
function* runEpoch(ctx: FitContext, stages: Stage[], opt: TrainingOptimizer, progress: ProgressSink, lrTrace: number[], stop: { epoch: number; saved: string }): Generator<void, Totals> {
  const { options, plan } = ctx;
  const start = ctx.startStage ?? 0;
  const t: Totals = { loss: 0, correct: 0, n: 0 };
  let done = 0;
  for (const batch of ctx.train) {
    const [loss, correct, n] = tidy(() => {
      // The forward's own tidy lets go of its intermediates before backward (autograd keeps
      // what it needs), so backward reuses that memory as in PyTorch: 7-13% faster at 224 px.
      const [logits, l] = tidy(() => {
        const out = withPlan(plan, () => forwardStages(stages, start, prepareInput(batch.x, plan))).float();
        return [out, F.crossEntropy(out, batch.y, { labelSmoothing: options.labelSmoothing })] as const;
      });
      l.backward();
      const value = l.item();
      if (!Number.isFinite(value)) return [value, 0, 0] as const;
      lrTrace.push(opt.lr);
      opt.step();
      const c = logits.detach().argmax(1).eq(batch.y).sum().item();
      return [value, c, batch.y.size(0)] as const;
    });
    batch.x.dispose();
    batch.y.dispose();
    if (!Number.isFinite(loss)) {
      throw new TlcvError('TRAINING', `loss became ${loss} at epoch ${stop.epoch}, step ${done + 1} (lr ${opt.lr.toExponential(2)}): training stopped; ${stop.saved} (try a lower --lr)`);
    }
    t.loss += loss * n;
    t.correct += correct;
    t.n += n;
    done += 1;
    progress.step(done, t.n, t.loss / Math.max(t.n, 1));
    yield;
  }
  return t;
}

/** Mean loss and accuracy of the model on a batch source, without gradients. */
export function validate(model: ClassifierModel, stages: Stage[], source: BatchSource, plan: ExecutionPlan, from = 0): { loss: number; acc: number } {
  model.eval();
  const t: Totals = { loss: 0, correct: 0, n: 0 };
  source.setEpoch(0);
  noGrad(() => {
    for (const batch of source) {
      tidy(() => {
        const logits = withPlan(plan, () => forwardStages(stages, from, prepareInput(batch.x, plan))).float();
        t.loss += F.crossEntropy(logits, batch.y, { reduction: 'sum' }).item();
        t.correct += logits.argmax(1).eq(batch.y).sum().item();
        t.n += batch.y.size(0);
      });
      batch.x.dispose();
      batch.y.dispose();
    }
  });
  return { loss: t.loss / Math.max(t.n, 1), acc: t.correct / Math.max(t.n, 1) };
}

/**
 * Trains `ctx.model` for `ctx.options.epochs` epochs, synchronously.
 *
 * Nothing else runs until it returns (no signal handlers, no output stream flushes, no timers):
 * prefer {@link fitAsync} for long runs (the CLI uses it).
 *
 * @example
 * const result = fit({ model, train: loader, options: resolveTrainOptions({ epochs: 2 }), plan: planExecution(opts) });
 */
export function fit(ctx: FitContext): FitResult {
  const steps = fitSteps(ctx);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * {@link fit}, letting the event loop run between steps (every 20 ms): memory stays flat however long the
 * run, and signals and output streams are served during training.
 *
 * @example
 * const result = await fitAsync({ model, train: loader, options, plan });
 */
export async function fitAsync(ctx: FitContext): Promise<FitResult> {
  const steps = fitSteps(ctx);
  let last = performance.now();
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    // Every 20 ms, not every step: a turn of the loop costs about as much as a tiny step.
    if (performance.now() - last >= YIELD_EVERY_MS) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      last = performance.now();
    }
  }
}

const YIELD_EVERY_MS = 20;

function* fitSteps(ctx: FitContext): Generator<void, FitResult> {
  const { model, options } = ctx;
  // Cheap when the weights already are channels-last: to() then returns aliases.
  if (ctx.plan.channelsLast) model.to({ memoryFormat: 'channelsLast' });
  const stages = model.stages();
  const frozen = ctx.frozenStages ?? 0;
  const progress = ctx.progress ?? createProgress();
  const opt = createTrainingOptimizer(model, stages, frozen, options, ctx.train.length);
  const history: EpochRecord[] = [];
  const lrTrace: number[] = [];
  let best: Map<string, Tensor> | null = null;
  let bestAcc = -Infinity;
  let bestEpoch = 0;
  let firstEpoch = 1;
  const metricsPath = ctx.outDir ? join(ctx.outDir, 'metrics.jsonl') : null;
  // A run that fails before its first checkpoint leaves no empty folder behind.
  const createdOut = ctx.outDir !== undefined && !existsSync(ctx.outDir);
  let lastSaved = 0;
  if (ctx.outDir) {
    mkdirSync(ctx.outDir, { recursive: true });
    removeStaleTempFiles(ctx.outDir);
  }

  let stoppedEarly = false;
  try {
    if (ctx.resume && ctx.outDir) {
      const c = readCheckpoint(ctx.outDir);
      try {
        model.loadStateDict(c.model);
        opt.load(c.optimizer, c.optimizerMeta);
      } catch (e) {
        disposeState(c.best);
        if (!(e instanceof TlcvError)) throw e;
        const where = join(ctx.outDir, CHECKPOINT_FILE);
        throw new TlcvError(e.code, `--resume: ${where} was written by a run with another model, data or optimizer (resume with the same flags): ${e.message}`);
      } finally {
        disposeState(c.model);
        disposeState(c.optimizer);
      }
      const run = c.state.run as { history: EpochRecord[]; bestAcc: number; bestEpoch: number; lrTrace: number[] };
      history.push(...run.history);
      lrTrace.push(...run.lrTrace);
      bestAcc = run.bestAcc ?? -Infinity;
      bestEpoch = run.bestEpoch ?? 0;
      best = c.best.size > 0 ? c.best : null;
      firstEpoch = c.state.epoch + 1;
      lastSaved = c.state.epoch;
      // A kill after the metrics line of the next epoch but before its checkpoint (or in the
      // middle of that line) leaves metrics.jsonl ahead of the checkpoint: the checkpoint is the truth.
      if (metricsPath) writeFileAtomic(metricsPath, history.map((r) => `${JSON.stringify(r)}\n`).join(''));
      progress.info(`resuming from epoch ${c.state.epoch} of ${options.epochs}`);
    } else if (metricsPath && existsSync(metricsPath)) {
      rmSync(metricsPath);
    }
    for (let epoch = firstEpoch; epoch <= options.epochs; epoch += 1) {
      manualSeed(epochSeed(options.seed, epoch));
      ctx.train.setEpoch(epoch);
      setModes(model, stages, frozen, true);
      progress.start(epoch, options.epochs, ctx.train.length);
      const t0 = performance.now();
      const lr = opt.lr;
      const saved = !ctx.outDir
        ? 'nothing was saved'
        : lastSaved > 0
          ? `${join(ctx.outDir, CHECKPOINT_FILE)} still holds epoch ${lastSaved}`
          : 'no epoch had finished, so nothing was saved';
      const totals = yield* runEpoch(ctx, stages, opt, progress, lrTrace, { epoch, saved });
      const seconds = (performance.now() - t0) / 1000;
      const record: EpochRecord = { epoch, trainLoss: totals.loss / Math.max(totals.n, 1), trainAcc: totals.correct / Math.max(totals.n, 1), lr };
      if (ctx.val) {
        const v = validate(model, stages, ctx.val, ctx.plan, ctx.startStage ?? 0);
        record.valLoss = v.loss;
        record.valAcc = v.acc;
      }
      opt.endEpoch(record.valLoss);
      history.push(record);
      const score = record.valAcc ?? record.trainAcc;
      if (score > bestAcc) {
        bestAcc = score;
        bestEpoch = epoch;
        if (ctx.val && options.patience > 0) {
          if (best) disposeState(best);
          best = cloneState(model.stateDict());
        }
      }
      const timing = { seconds, imagesPerSec: totals.n / Math.max(seconds, 1e-9) };
      progress.end(formatEpoch(record, options.epochs, timing));
      if (metricsPath) appendFileSync(metricsPath, `${JSON.stringify(record)}\n`);
      ctx.onEpoch?.(record, timing);
      if (ctx.outDir) {
        const o = opt.state();
        writeCheckpoint(ctx.outDir, {
          model: model.stateDict(),
          optimizer: o.tensors,
          optimizerMeta: o.meta,
          best: best ?? new Map(),
          state: { epoch, run: { history, bestAcc, bestEpoch, lrTrace, plan: { bf16: ctx.plan.bf16, channelsLast: ctx.plan.channelsLast } } },
        });
        lastSaved = epoch;
      }
      if (ctx.val && options.patience > 0 && epoch - bestEpoch >= options.patience) {
        stoppedEarly = true;
        progress.info(`early stop: no better validation accuracy for ${options.patience} epochs (best ${(bestAcc * 100).toFixed(2)}% at epoch ${bestEpoch})`);
        break;
      }
    }
    if (best) model.loadStateDict(best);
  } finally {
    if (best) disposeState(best);
    opt.dispose();
    model.eval();
    if (createdOut && readdirSync(ctx.outDir!).length === 0) rmdirSync(ctx.outDir!);
  }
  return { history, bestEpoch, stoppedEarly, lrTrace };
}

function formatEpoch(r: EpochRecord, epochs: number, timing: { seconds: number; imagesPerSec: number }): string {
  const pct = (v: number): string => `${(v * 100).toFixed(2)}%`;
  const val = r.valAcc === undefined ? '' : `  val loss ${r.valLoss!.toFixed(4)} acc ${pct(r.valAcc)}`;
  return `epoch ${r.epoch}/${epochs}  loss ${r.trainLoss.toFixed(4)} acc ${pct(r.trainAcc)}${val}  lr ${r.lr.toExponential(2)}  ${timing.seconds.toFixed(1)}s ${timing.imagesPerSec.toFixed(0)} img/s`;
}
