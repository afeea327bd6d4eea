/**
 * The Learner's events and the callback contract, after fastai's: the training loop is a short
 * list of events, and everything else (progress, checkpoints, early stopping, the report, and
 * what later features add: a second loss term, gradient all-reduce, a skipped step) is a
 * callback with an `order`. Callbacks see the run through {@link LearnerView}, explicitly: no
 * attribute forwarding.
 *
 * One fit:
 * ```
 * beforeFit → (plan, loaders, optimizer) → afterSetup
 *   for each epoch: beforeEpoch
 *     for each batch: beforeBatch → afterPred → afterLoss → afterBackward → beforeStep → afterStep → afterBatch
 *     beforeValidate → afterValidate (when there is validation data) → afterEpoch
 * afterFit (success) | onError (failure) → cleanup (always)
 * ```
 * Per-batch events run inside the step's tensor scope and must be synchronous: tensors a
 * callback makes there are freed with the step's. Fit- and epoch-level events may be async.
 */
import { TlcvError } from '../errors.js';
import type { Tensor } from '../tensor/index.js';
import type { Batch } from '../data/index.js';
import type { EvaluationResult } from '../metrics/index.js';
import type { ClassifierModel, Stage } from '../models/index.js';
import type { ExecutionPlan } from '../execution/index.js';
import type { EpochRecord } from '../report/index.js';
import type { TrainOptions } from './options.js';
import type { TrainingOptimizer } from './optim-factory.js';
import type { Module } from '../nn/index.js';
import type { BatchSource, DataInput } from './batches.js';

export type { EpochRecord };

/** Events that may return a promise (the Learner awaits it). */
export type FitEvent = 'beforeFit' | 'afterSetup' | 'beforeEpoch' | 'beforeValidate' | 'afterValidate' | 'afterEpoch' | 'afterFit' | 'cleanup';
/** Events inside a training step: synchronous. */
export type BatchEvent = 'beforeBatch' | 'afterPred' | 'afterLoss' | 'afterBackward' | 'beforeStep' | 'afterStep' | 'afterBatch';

/** What a callback sees of the run, and the few things it may change. */
export interface LearnerView {
  readonly model: ClassifierModel;
  readonly options: TrainOptions;
  /** The numeric plan; a callback may set it in beforeFit (a resumed run keeps its checkpoint's). */
  plan: ExecutionPlan | null;
  /** Created in setup: the optimizer and its schedule; a callback may load state into it in afterSetup. */
  readonly optimizer: TrainingOptimizer | null;
  readonly train: BatchSource | null;
  readonly val: BatchSource | null;
  readonly stages: Stage[];
  /** Stages [0, frozenStages) are frozen and run in eval mode. */
  readonly frozenStages: number;
  /** Batches enter the model at this stage (earlier ones were cached). */
  readonly startStage: number;
  /** A named part of a larger run (fineTune's head stage); undefined for the main fit. */
  readonly stage: string | undefined;
  /** The first epoch this fit trains; a resumed run sets it in afterSetup. */
  startEpoch: number;
  readonly epoch: number;
  readonly epochs: number;
  /** Steps taken in this fit. */
  readonly iteration: number;
  /** Steps done in the current epoch, and the images and summed loss they covered. */
  readonly epochProgress: { steps: number; images: number; lossSum: number };
  /** The current batch; a beforeBatch callback may replace it. */
  batch: Batch | null;
  /**
   * Logits of the current step (afterPred on); an afterPred callback may replace them (DANN
   * keeps the source rows of a batch that also held target images).
   */
  pred: Tensor | null;
  /** The loss of the current step; an afterLoss callback may add to it (a second loss term). */
  loss: Tensor | null;
  /** One record per epoch of this fit (restored ones included on resume). */
  readonly history: EpochRecord[];
  /** The learning rate of each optimizer step. */
  readonly lrTrace: number[];
  /** Seconds of each epoch trained in this process. */
  readonly epochSeconds: number[];
  /** The best validation accuracy (training accuracy without validation) so far, and its epoch. */
  readonly bestScore: number;
  readonly bestEpoch: number;
  /** What is on disk if the run fails now ("nothing was saved" unless a checkpoint says more). */
  savedNote: string;
  readonly stopReason: string | null;
  /** Ends training after the current epoch (early stopping). */
  requestStop(reason: string): void;
  /** Skips the optimizer and schedule step of the current batch (call in afterBackward or beforeStep). */
  skipStep(): void;
  /** Stops training at the next batch boundary with a {@link TrainingInterrupted} error. */
  interrupt(signal: NodeJS.Signals): void;
  /** Restores the run's state from a checkpoint (resume). */
  restoreRunState(s: RunState): void;
  /** The run's state for a checkpoint. */
  runState(): RunState;
  readonly callbacks: readonly Callback[];
  /** The run's summary line (images, plan, optimizer, epochs), set in setup. */
  readonly summary: string;
  /** Evaluates the model on data with the run's plan (see Learner.evaluate). */
  evaluate(data: DataInput, o?: { batchSize?: number }): Promise<EvaluationResult>;
  log(line: string): void;
  /** The processes this run trains with (a data-parallel callback's group), or null for one process. */
  readonly collective: Collective | null;
  /** Whether this process writes the run's files (checkpoints, metrics, report): rank 0, or the only process. */
  readonly isMain: boolean;
}

/**
 * What a Learner that is one of several processes asks of their group (src/distributed's
 * ProcessGroup has this shape): the numbers every rank must agree on (the plan, each step's
 * loss, an interrupt, the epoch's metrics) and rank 0's tensors (a resumed checkpoint). Each
 * call is a collective: every rank makes the same calls in the same order.
 */
export interface Collective {
  readonly rank: number;
  readonly worldSize: number;
  /** Rank 0, the one process that writes files. */
  readonly isMain: boolean;
  /** The element-wise sums of every rank's numbers (float64). */
  allreduceSums(values: number[], what?: string): Promise<number[]>;
  allreduceSumsSync(values: number[], what?: string): number[];
  /** Copies rank `root`'s tensors into every other rank's, in place. */
  broadcast(tensors: Tensor[], root?: number, what?: string): Promise<void>;
}

/** The Learner's part of a checkpoint: enough for a resumed run to end exactly where an uninterrupted one would. */
export interface RunState {
  epoch: number;
  history: EpochRecord[];
  bestAcc: number;
  bestEpoch: number;
  lrTrace: number[];
  plan: { bf16: boolean; channelsLast: boolean } | null;
  /** The run's batch size and epochs, which a resumed run keeps when they were chosen for it. */
  sizes?: { batchSize: number; epochs: number };
}

/** State a callback carries through checkpoints (KeepBest's best weights). */
export interface CallbackState {
  meta?: unknown;
  tensors?: Map<string, Tensor>;
}

type Handler = (learn: LearnerView) => void | Promise<void>;
type SyncHandler = (learn: LearnerView) => void;

/**
 * A callback: any of the event methods, an `order` (lower runs first; default 50) and, to take
 * part in checkpoints, a `name` with `checkpointState`/`loadCheckpointState`.
 *
 * @example
 * class PrintLoss implements Callback {
 *   afterEpoch(learn: LearnerView) { console.log(learn.epoch, learn.history.at(-1)!.trainLoss); }
 * }
 * await new Learner({ model, train, callbacks: [new PrintLoss()] }).fit(3);
 */
export interface Callback {
  readonly order?: number;
  readonly name?: string;
  beforeFit?: Handler;
  afterSetup?: Handler;
  beforeEpoch?: Handler;
  beforeBatch?: SyncHandler;
  afterPred?: SyncHandler;
  afterLoss?: SyncHandler;
  afterBackward?: SyncHandler;
  beforeStep?: SyncHandler;
  afterStep?: SyncHandler;
  afterBatch?: SyncHandler;
  beforeValidate?: Handler;
  afterValidate?: Handler;
  afterEpoch?: Handler;
  afterFit?: Handler;
  /** The fit failed (or was interrupted) with `error`; the error is rethrown after every onError ran. */
  onError?: (learn: LearnerView, error: unknown) => void | Promise<void>;
  /** Runs after afterFit or onError, always: free what the callback holds. */
  cleanup?: Handler;
  /** An info line from the Learner (plan timing, caching, resuming). */
  onLog?: (line: string) => void;
  /**
   * Modules the callback trains beside the model (DANN's domain discriminator), asked for at
   * set-up: the optimizer gets their trainable parameters (a group of their own at the base
   * learning rate and schedule), and they train and rest with the model (train mode each
   * epoch, eval mode after the fit). Saving them is the callback's own business.
   */
  auxiliaryModules?(learn: LearnerView): Module[];
  /** Makes the Learner one of several processes (at most one callback has it; see {@link Collective}). */
  readonly collective?: Collective;
  /**
   * Runs first when the fit fails: returns the error to report instead (a data-parallel
   * callback names the rank at fault behind a failed backward), or undefined to keep it.
   */
  replaceError?(learn: LearnerView, error: unknown): unknown;
  checkpointState?(): CallbackState;
  loadCheckpointState?(s: CallbackState): void;
}

/** Training stopped on SIGINT or SIGTERM; the CLI exits with 128 + the signal's number. */
export class TrainingInterrupted extends TlcvError {
  constructor(
    readonly signal: NodeJS.Signals,
    message: string,
  ) {
    super('TRAINING', message);
    this.name = 'TrainingInterrupted';
  }
}

/** The result of one fit. */
export interface FitResult {
  history: EpochRecord[];
  bestEpoch: number;
  stoppedEarly: boolean;
  lrTrace: number[];
}
