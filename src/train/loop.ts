/**
 * The training loop proper: one epoch (seeded from the run's seed and the epoch, so a resumed
 * run draws what an uninterrupted one would) and one step, with the events callbacks hook into.
 */
import { F, manualSeed, tidy, type Tensor } from '../tensor/index.js';
import type { FoldedInference } from '../nn/index.js';
import type { Batch } from '../data/index.js';
import type { Module } from '../nn/index.js';
import { planForward, setTrainingMode } from '../execution/index.js';
import { TlcvError } from '../errors.js';
import type { BatchEvent, EpochRecord, FitEvent, LearnerView, RunState } from './callback.js';
import { TrainingInterrupted } from './callback.js';
import { forEachBatch } from './batches.js';
import { validate } from './evaluate.js';
import type { Agreements } from './collective.js';

/** The run state the loop reads, and the fields it advances (the Learner's own). */
export type LoopState = Pick<LearnerView, 'model' | 'options' | 'plan' | 'optimizer' | 'train' | 'val' | 'stages' | 'frozenStages' | 'startStage' | 'history' | 'lrTrace' | 'epochSeconds'> & {
  epoch: number;
  iteration: number;
  epochProgress: { steps: number; images: number; lossSum: number };
  batch: Batch | null;
  pred: Tensor | null;
  loss: Tensor | null;
  bestScore: number;
  bestEpoch: number;
  /** The frozen prefix folded, when its stages run in every step (not cached). */
  frozenView: FoldedInference | null;
  /** Modules callbacks train beside the model (see Callback.auxiliaryModules). */
  auxiliary: readonly Module[];
};

/**
 * What only the Learner can do: run the callbacks, answer skip and interrupt requests, and,
 * in a data-parallel run, agree with the other ranks (one process: the values as they are).
 */
export interface LoopHooks extends Agreements {
  emit(event: FitEvent): Promise<void>;
  emitSync(event: BatchEvent): void;
  skipRequested(): boolean;
  clearSkip(): void;
}

/** Raised inside a step; the Learner turns it into the user's error once onError callbacks have run. */
export class NonFiniteLoss extends Error {
  constructor(
    readonly value: number,
    readonly epoch: number,
    readonly step: number,
    readonly lr: number,
  ) {
    super(`loss became ${value}`);
  }
}

/** A seed per epoch, so an epoch's randomness does not depend on how the run got there. */
export function epochSeed(seed: number, epoch: number): number {
  return (seed * 1_000_003 + epoch * 7919) % 2 ** 31;
}

function checkInterrupt(h: LoopHooks): void {
  const signal = h.interruptedBy();
  if (signal !== null) throw new TrainingInterrupted(signal, `interrupted by ${signal}`);
}

export async function trainEpoch(s: LoopState, h: LoopHooks, epoch: number): Promise<void> {
  const train = s.train!;
  const opt = s.optimizer!;
  s.epoch = epoch;
  manualSeed((epochSeed(s.options.seed, epoch) + h.rank * 104_729) % 2 ** 31);
  train.setEpoch(epoch);
  setTrainingMode(s.model, s.stages, s.frozenStages, true);
  for (const m of s.auxiliary) m.train(true);
  s.epochProgress = { steps: 0, images: 0, lossSum: 0 };
  await h.emit('beforeEpoch');
  const t0 = performance.now();
  const lr = opt.lr;
  let correct = 0;
  await forEachBatch(train, (batch) => {
    const [loss, right, n] = trainStep(s, h, batch);
    batch.x.dispose();
    batch.y.dispose();
    s.batch = null;
    if (!Number.isFinite(loss)) throw new NonFiniteLoss(loss, epoch, s.epochProgress.steps + 1, opt.lr);
    const p = s.epochProgress;
    p.lossSum += loss * n;
    correct += right;
    p.images += n;
    p.steps += 1;
    s.iteration += 1;
    h.emitSync('afterBatch');
    checkInterrupt(h);
  });
  const seconds = (performance.now() - t0) / 1000;
  const [lossSum, right, images] = await h.sums([s.epochProgress.lossSum, correct, s.epochProgress.images], 'training');
  // From here on, the epoch's figures are those of every rank together.
  Object.assign(s.epochProgress, { lossSum, images });
  const record: EpochRecord = { epoch, trainLoss: lossSum! / Math.max(images!, 1), trainAcc: right! / Math.max(images!, 1), lr };
  if (s.val !== null) {
    await h.emit('beforeValidate');
    const v = await validate(s.model, s.stages, s.val, s.plan!, s.startStage);
    const [vLoss, vRight, n] = await h.sums([v.lossSum, v.correct, v.n], 'validation');
    record.valLoss = vLoss! / Math.max(n!, 1);
    record.valAcc = vRight! / Math.max(n!, 1);
    await h.emit('afterValidate');
  }
  opt.endEpoch(record.valLoss);
  s.history.push(record);
  s.epochSeconds.push(seconds);
  const score = record.valAcc ?? record.trainAcc;
  if (score > s.bestScore) {
    s.bestScore = score;
    s.bestEpoch = epoch;
  }
  await h.emit('afterEpoch');
  // A signal's handler runs only when the event loop turns; the batch loop turns it every 20 ms,
  // which a short epoch may never reach. One turn per epoch lets SIGINT/SIGTERM stop any run.
  await new Promise<void>((resolve) => setImmediate(resolve));
  checkInterrupt(h);
}

/** One optimizer step; returns the loss, the correct predictions and the batch size. */
function trainStep(s: LoopState, h: LoopHooks, batch: Batch): readonly [number, number, number] {
  const opt = s.optimizer!;
  s.batch = batch;
  try {
    return tidy(() => {
      h.emitSync('beforeBatch');
      const b = s.batch!;
      // The forward's own tidy lets go of its intermediates before backward (autograd keeps
      // what it needs), so backward reuses that memory as in PyTorch: 7-13% faster at 224 px.
      const [logits, l] = tidy(() => {
        s.pred = planForward(s.model, b.x, s.plan!, { from: s.startStage, stages: s.stages, folded: s.frozenView });
        h.emitSync('afterPred');
        s.loss = F.crossEntropy(s.pred, b.y, { labelSmoothing: s.options.labelSmoothing });
        h.emitSync('afterLoss');
        return [s.pred, s.loss] as const;
      });
      l.backward();
      h.clearSkip();
      h.emitSync('afterBackward');
      const value = l.item();
      // Every rank checks the same number, so all stop at the same step.
      const checked = h.stepLoss(value);
      if (!Number.isFinite(checked)) return [checked, 0, 0] as const;
      h.emitSync('beforeStep');
      if (!h.skipRequested()) {
        s.lrTrace.push(opt.lr);
        opt.step();
      }
      opt.zeroGrad();
      h.emitSync('afterStep');
      const c = logits.detach().argmax(1).eq(b.y).sum().item();
      return [value, c, b.y.size(0)] as const;
    });
  } finally {
    // The step's tensors are gone with its scope.
    s.pred = null;
    s.loss = null;
  }
}

/** What a checkpoint keeps of the run besides weights and optimizer state. */
export function captureRunState(s: LoopState): RunState {
  const plan = s.plan === null ? null : { bf16: s.plan.bf16, channelsLast: s.plan.channelsLast };
  return { epoch: s.epoch, history: s.history, bestAcc: s.bestScore, bestEpoch: s.bestEpoch, lrTrace: s.lrTrace, plan, sizes: { batchSize: s.options.batchSize, epochs: s.options.epochs } };
}

/** The Learner's fields a resumed run continues from. */
export function restoredRunState(s: RunState): { history: EpochRecord[]; lrTrace: number[]; bestScore: number; bestEpoch: number; epoch: number; startEpoch: number } {
  return { history: [...s.history], lrTrace: [...s.lrTrace], bestScore: s.bestAcc ?? -Infinity, bestEpoch: s.bestEpoch ?? 0, epoch: s.epoch, startEpoch: s.epoch + 1 };
}

/** A failed fit's error as the user should read it: what happened, where, and what is on disk. */
export function userFacingError(e: unknown, epoch: number, savedNote: string): unknown {
  if (e instanceof NonFiniteLoss) {
    return new TlcvError('TRAINING', `loss became ${e.value} at epoch ${e.epoch}, step ${e.step} (lr ${e.lr.toExponential(2)}): training stopped; ${savedNote} (try a lower --lr)`);
  }
  // A data-parallel failure names the rank at fault; what is on disk matters as much.
  if (e instanceof TlcvError && e.code === 'DISTRIBUTED') return new TlcvError('DISTRIBUTED', `${e.message}; ${savedNote}`);
  if (e instanceof TrainingInterrupted) {
    return new TrainingInterrupted(e.signal, `interrupted by ${e.signal} in epoch ${epoch}: ${savedNote}; continue with --resume`);
  }
  return e;
}
