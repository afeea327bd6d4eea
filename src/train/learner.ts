/**
 * The Learner, after fastai's: one object owns a training run (the model, the execution plan,
 * the data loaders, the optimizer and its schedule) and drives it through a short list of events
 * that callbacks hook into (src/train/callback.ts). Each epoch is seeded from (seed, epoch), so a
 * run resumed from a checkpoint ends on exactly the metrics of an uninterrupted one.
 */
import type { Tensor } from '../tensor/index.js';
import { TlcvError } from '../errors.js';
import type { Batch } from '../data/index.js';
import type { ClassifierModel, Stage } from '../models/index.js';
import type { EvaluationResult } from '../metrics/index.js';
import { describePlan, predictImages, type ExecutionPlan } from '../execution/index.js';
import { applyStrategy, type StrategyPlan, type TransferMode } from '../transfer/strategy.js';
import { RUN_FILES } from '../io/run-folder.js';
import type { BatchEvent, Callback, Collective, EpochRecord, FitEvent, FitResult, LearnerView, RunState } from './callback.js';
import { TrainingInterrupted } from './callback.js';
import type { BatchSource, DataInput } from './batches.js';
import { resolveTrainOptions, type TrainOptions } from './options.js';
import { createTrainingOptimizer, type TrainingOptimizer } from './optim-factory.js';
import { NonFiniteLoss, trainEpoch, type LoopHooks } from './loop.js';
import { choosePlanFor, prepareSources, type PreparedSources } from './setup.js';
import { defaultCallbacks } from './default-callbacks.js';
import { agreements } from './collective.js';
import { evaluateOn, type EvaluateDataOptions } from './evaluate.js';
import { loadModelFolder, saveModelFolder } from '../transfer/model-folder.js';

export interface LearnerOptions {
  model: ClassifierModel;
  /** A dataset (the Learner builds its loaders: shuffling, augmentation, the model's normalisation) or any batch source. */
  train?: DataInput;
  val?: DataInput | null;
  /** Training options; unset ones take {@link TRAIN_DEFAULTS}. */
  options?: Partial<TrainOptions>;
  /** A fixed numeric plan; by default each fit times the candidates on its first batch (or takes the cached choice). */
  plan?: ExecutionPlan;
  callbacks?: Callback[];
  /** Class names saved with the model (default: the training dataset's). */
  classes?: string[];
  /** Compute a frozen prefix's outputs once when nothing changes them (default true). */
  cacheFrozen?: boolean;
  /** No default progress output on stderr. */
  quiet?: boolean;
  /** Where info lines go besides the callbacks (plan timing, caching, resuming). */
  log?: (line: string) => void;
}

/**
 * @example
 * const learn = new Learner({ model, train, val, options: { epochs: 5 } });
 * await learn.fit();
 * console.log((await learn.evaluate(test)).accuracy);
 * learn.save('runs/model');
 */
export class Learner implements LearnerView {
  readonly model: ClassifierModel;
  options: TrainOptions;
  plan: ExecutionPlan | null = null;
  optimizer: TrainingOptimizer | null = null;
  train: BatchSource | null = null;
  val: BatchSource | null = null;
  stages: Stage[] = [];
  frozenStages = 0;
  startStage = 0;
  stage: string | undefined;
  startEpoch = 1;
  epoch = 0;
  epochs = 0;
  iteration = 0;
  epochProgress = { steps: 0, images: 0, lossSum: 0 };
  batch: Batch | null = null;
  pred: Tensor | null = null;
  loss: Tensor | null = null;
  history: EpochRecord[] = [];
  lrTrace: number[] = [];
  epochSeconds: number[] = [];
  bestScore = -Infinity;
  bestEpoch = 0;
  savedNote = 'nothing was saved';
  stopReason: string | null = null;
  /** Seconds spent computing the frozen prefix's outputs in the last fit (0 without caching). */
  cacheSeconds = 0;
  /** One line on what the last fit trained: images, plan, optimizer, epochs. */
  summary = '';
  readonly classes: string[] | undefined;
  readonly #base: Partial<TrainOptions>;
  readonly #trainData: DataInput | undefined;
  readonly #valData: DataInput | null;
  #fixedPlan: ExecutionPlan | null;
  readonly #cacheFrozen: boolean;
  readonly #quiet: boolean;
  readonly #log: ((line: string) => void) | undefined;
  #callbacks: Callback[];
  #active: Callback[] = [];
  #skip = false;
  #interrupt: NodeJS.Signals | null = null;
  #sources: PreparedSources | null = null;
  #inferencePlan: ExecutionPlan | null = null;

  constructor(o: LearnerOptions) {
    this.model = o.model;
    this.#base = { ...(o.options ?? {}) };
    this.options = resolveTrainOptions(this.#base);
    this.#trainData = o.train;
    this.#valData = o.val ?? null;
    this.#fixedPlan = o.plan ?? null;
    this.plan = this.#fixedPlan;
    this.#callbacks = [...(o.callbacks ?? [])];
    this.classes = o.classes ?? (o.train !== undefined && 'classes' in o.train ? o.train.classes : undefined);
    this.#cacheFrozen = o.cacheFrozen ?? true;
    this.#quiet = o.quiet ?? false;
    this.#log = o.log;
  }

  get callbacks(): readonly Callback[] {
    return this.#active.length > 0 ? this.#active : this.#callbacks;
  }

  /** The group of a data-parallel run (from its DataParallel callback), or null for one process. */
  get collective(): Collective | null {
    return this.#callbacks.find((cb) => cb.collective !== undefined)?.collective ?? null;
  }

  /** Whether this process writes the run's files: rank 0 of a data-parallel run, or the only process. */
  get isMain(): boolean {
    return this.collective?.isMain ?? true;
  }

  /** Adds a callback for the following fits. */
  addCallback(cb: Callback): this {
    this.#callbacks.push(cb);
    return this;
  }

  /**
   * Freezes the model for a transfer mode (see applyStrategy) and trains accordingly from now on.
   *
   * @example
   * learn.setStrategy('fine-tune', 1); // train the last layer group and the head
   */
  setStrategy(mode: TransferMode, unfreeze: number | 'all' = 'all'): StrategyPlan {
    const s = applyStrategy(this.model, mode, unfreeze);
    this.frozenStages = s.frozenStages;
    return s;
  }

  /**
   * Times the candidate plans on the first training batch (or reads the cached choice) now, for
   * the current frozen stages, and keeps the plan for the following fits; fit does it otherwise.
   *
   * @example
   * await learn.choosePlan(); // then time learn.fit() without the plan timing
   */
  async choosePlan(): Promise<ExecutionPlan> {
    if (this.#trainData === undefined) throw new TlcvError('ARGUMENT', 'Learner.choosePlan needs training data: pass `train` to the Learner');
    this.plan = null;
    this.#fixedPlan = await choosePlanFor(this, this.#trainData);
    this.plan = this.#fixedPlan;
    return this.#fixedPlan;
  }

  /**
   * Trains for `epochs` (default: the options'), with the current frozen stages.
   *
   * @example
   * const { history } = await learn.fit(3);
   */
  async fit(epochs?: number, o: { stage?: string } = {}): Promise<FitResult> {
    this.options = resolveTrainOptions({ ...this.#base, ...(epochs === undefined ? {} : { epochs }) });
    this.#reset(o.stage);
    this.#active = [...defaultCallbacks(this, this.#callbacks, { quiet: this.#quiet || !this.isMain, hasVal: this.#valData !== null })].sort((a, b) => (a.order ?? 50) - (b.order ?? 50));
    let failed: unknown = null;
    try {
      await this.#emit('beforeFit');
      await this.#setup();
      await this.#emit('afterSetup');
      if (this.startStage > 0) this.log(`cached the frozen stages' outputs once (${this.cacheSeconds.toFixed(1)}s); each epoch now trains only the unfrozen stages`);
      const hooks: LoopHooks = {
        emit: (e) => this.#emit(e),
        emitSync: (e) => this.#emitSync(e),
        skipRequested: () => this.#skip,
        clearSkip: () => void (this.#skip = false),
        ...agreements(this.collective, () => this.#interrupt, this.#sources!.valSharded),
      };
      for (let epoch = this.startEpoch; epoch <= this.epochs && this.stopReason === null; epoch += 1) await trainEpoch(this, hooks, epoch);
      await this.#emit('afterFit');
    } catch (e) {
      failed = e;
      for (const cb of this.#active) failed = cb.replaceError?.(this, failed) ?? failed;
      for (const cb of this.#active) {
        try {
          await cb.onError?.(this, failed);
        } catch {
          // the failure being handled matters more than one in its handling
        }
      }
    } finally {
      await this.#finish();
    }
    if (failed !== null) throw this.#userError(failed);
    return { history: this.history, bestEpoch: this.bestEpoch, stoppedEarly: this.stopReason !== null, lrTrace: this.lrTrace };
  }

  /**
   * fastai's fine_tune: optionally train the new head alone first (its large early gradients
   * then do not disturb the pretrained layers), then unfreeze and train on, with discriminative
   * learning rates when `lrDecay` < 1.
   *
   * @example
   * await learn.fineTune({ headEpochs: 2, unfreeze: 1, lrDecay: 0.3 });
   */
  async fineTune(o: { epochs?: number; headEpochs?: number; unfreeze?: number | 'all'; lrDecay?: number } = {}): Promise<FitResult> {
    if ((o.headEpochs ?? 0) > 0) {
      this.setStrategy('feature-extraction');
      await this.fit(o.headEpochs, { stage: RUN_FILES.headStage });
    }
    if (o.lrDecay !== undefined) this.#base.lrDecay = o.lrDecay;
    this.setStrategy('fine-tune', o.unfreeze ?? 'all');
    return this.fit(o.epochs);
  }

  /**
   * Freezes all but the classifier and trains it (cached body features when nothing augments them).
   *
   * @example
   * await learn.featureExtract(10);
   */
  async featureExtract(epochs?: number): Promise<FitResult> {
    this.setStrategy('feature-extraction');
    return this.fit(epochs);
  }

  /**
   * Accuracy, top-5, per-class metrics, confusion matrix and loss on `data`, with the training
   * plan (or an inference plan timed on its first batch).
   *
   * @example
   * const r = await learn.evaluate(test, { batchSize: 256 });
   */
  async evaluate(data: DataInput, o: EvaluateDataOptions = {}): Promise<EvaluationResult> {
    const r = await evaluateOn(this.model, data, this.plan ?? this.#inferencePlan, this.options, this.classes, o);
    if (this.plan === null) this.#inferencePlan = r.plan;
    return r.result;
  }

  /**
   * Class probabilities for uint8 CHW images at the model's input size (normalised with the model's mean and std).
   *
   * @example
   * const [probs] = learn.predict([await decodeImage('7.png', { channels: 1, height: 28, width: 28 })]);
   */
  predict(images: Uint8Array[]): number[][] {
    return predictImages(this.model, images, { plan: this.plan });
  }

  /**
   * Writes the model folder (weights and config) that `Learner.load`, `tlcv evaluate` and `tlcv predict` read.
   *
   * @example
   * learn.save('runs/digits', { provenance: { data: 'mnist:all@k=10' } });
   */
  save(dir: string, o: { provenance?: Record<string, unknown> } = {}): void {
    const classes = this.classes ?? Array.from({ length: this.model.numClasses }, (_, i) => String(i));
    saveModelFolder(dir, this.model, { classes, provenance: { ...(o.provenance ?? {}), options: this.options, cachedPrefix: this.startStage > 0 } });
  }

  /**
   * A Learner over a saved model folder, for evaluate, predict, or more training.
   *
   * @example
   * const learn = Learner.load('runs/digits');
   */
  static load(dir: string, o: Omit<LearnerOptions, 'model'> = {}): Learner {
    const { model, config } = loadModelFolder(dir);
    return new Learner({ classes: config.classes, ...o, model });
  }

  requestStop(reason: string): void {
    this.stopReason ??= reason;
  }

  skipStep(): void {
    this.#skip = true;
  }

  interrupt(signal: NodeJS.Signals): void {
    this.#interrupt ??= signal;
  }

  log(line: string): void {
    for (const cb of this.callbacks) cb.onLog?.(line);
    this.#log?.(line);
  }

  runState(): RunState {
    const plan = this.plan === null ? null : { bf16: this.plan.bf16, channelsLast: this.plan.channelsLast };
    return { epoch: this.epoch, history: this.history, bestAcc: this.bestScore, bestEpoch: this.bestEpoch, lrTrace: this.lrTrace, plan };
  }

  restoreRunState(s: RunState): void {
    this.history = [...s.history];
    this.lrTrace = [...s.lrTrace];
    this.bestScore = s.bestAcc ?? -Infinity;
    this.bestEpoch = s.bestEpoch ?? 0;
    this.epoch = s.epoch;
    this.startEpoch = s.epoch + 1;
  }

  #reset(stage: string | undefined): void {
    this.stage = stage;
    this.epochs = this.options.epochs;
    this.plan = this.#fixedPlan;
    Object.assign(this, { startEpoch: 1, epoch: 0, iteration: 0, history: [], lrTrace: [], epochSeconds: [], bestScore: -Infinity, bestEpoch: 0, stopReason: null, cacheSeconds: 0 });
    this.savedNote = 'nothing was saved';
    this.#interrupt = null;
  }

  async #setup(): Promise<void> {
    if (this.#trainData === undefined) throw new TlcvError('ARGUMENT', 'Learner.fit needs training data: pass `train` (a dataset or a batch source) to the Learner');
    this.stages = this.model.stages();
    const s = await prepareSources(this, this.#trainData, this.#valData, { cacheFrozen: this.#cacheFrozen });
    this.#sources = s;
    this.train = s.train;
    this.val = s.val;
    this.startStage = s.startStage;
    this.cacheSeconds = s.cacheSeconds;
    this.stages = this.model.stages();
    this.summary = `${s.describe}; ${describePlan(this.plan!)}; ${this.options.optimizer} lr ${this.options.lr}, ${this.options.scheduler} schedule, ${this.epochs} epochs`;
    this.optimizer = createTrainingOptimizer(this.model, this.stages, this.frozenStages, this.options, this.train.length);
  }

  async #emit(event: FitEvent): Promise<void> {
    for (const cb of this.#active) {
      const r = cb[event]?.(this);
      if (r !== undefined) await r;
    }
  }

  #emitSync(event: BatchEvent): void {
    for (const cb of this.#active) {
      const r = cb[event]?.(this) as unknown;
      if (r instanceof Promise) throw new TlcvError('ARGUMENT', `callback ${cb.name ?? cb.constructor.name}: ${event} must be synchronous (it runs inside the training step)`);
    }
  }

  async #finish(): Promise<void> {
    this.#sources?.dispose();
    this.#sources = null;
    this.optimizer?.dispose();
    this.optimizer = null;
    this.model.eval();
    for (const cb of this.#active) await cb.cleanup?.(this);
    this.#active = [];
  }

  #userError(e: unknown): unknown {
    if (e instanceof NonFiniteLoss) {
      return new TlcvError('TRAINING', `loss became ${e.value} at epoch ${e.epoch}, step ${e.step} (lr ${e.lr.toExponential(2)}): training stopped; ${this.savedNote} (try a lower --lr)`);
    }
    // A data-parallel failure names the rank at fault; what is on disk matters as much.
    if (e instanceof TlcvError && e.code === 'DISTRIBUTED') return new TlcvError('DISTRIBUTED', `${e.message}; ${this.savedNote}`);
    if (e instanceof TrainingInterrupted) {
      return new TrainingInterrupted(e.signal, `interrupted by ${e.signal} in epoch ${this.epoch}: ${this.savedNote}; continue with --resume`);
    }
    return e;
  }
}
