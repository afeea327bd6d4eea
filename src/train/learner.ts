/**
 * The Learner, after fastai's: one object owns a training run (the model, the execution plan,
 * the data loaders, the optimizer and its schedule) and drives it through a short list of events
 * that callbacks hook into (src/train/callback.ts). Each epoch is seeded from (seed, epoch), so a
 * run resumed from a checkpoint ends on exactly the metrics of an uninterrupted one.
 */
import type { Tensor } from '../tensor/index.js';
import type { FoldedInference, Module } from '../nn/index.js';
import { TlcvError } from '../errors.js';
import type { Batch } from '../data/index.js';
import type { ClassifierModel, Stage } from '../models/index.js';
import type { EvaluationResult } from '../metrics/index.js';
import { describePlan, foldedForPlan, releaseFoldedView, type ExecutionPlan } from '../execution/index.js';
import { applyStrategy, type StrategyPlan, type TransferMode } from '../transfer/strategy.js';
import { RUN_FILES } from '../io/run-folder.js';
import type { BatchEvent, Callback, Collective, EpochRecord, FitEvent, FitResult, LearnerView, RunState } from './callback.js';
import type { BatchSource, DataInput } from './batches.js';
import { resolveTrainOptions, type TrainOptions } from './options.js';
import { createTrainingOptimizer, type TrainingOptimizer } from './optim-factory.js';
import { captureRunState, restoredRunState, trainEpoch, userFacingError, type LoopHooks } from './loop.js';
import { choosePlanFor, prepareSources, type PreparedSources } from './setup.js';
import { defaultCallbacks } from './default-callbacks.js';
import { agreements } from './collective.js';
import { evaluateOn, type EvaluateDataOptions } from './evaluate.js';
import type { FewShotHeadResult } from '../transfer/heads/index.js';
import { fitHeadOn, type FewShotHeadRequest } from './few-shot.js';

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
 * // then save, export or serve it through the model object: Model.wrap(learn.model, { classes, preprocess })
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
  /** While a fit runs its frozen stages in every step (augmentation, no cache): those stages folded. */
  frozenView: FoldedInference | null = null;
  /** One line on what the last fit trained: images, plan, optimizer, epochs. */
  summary = '';
  /** Modules the callbacks of the current fit train beside the model. */
  auxiliary: Module[] = [];
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

  /** The plan evaluate and predict run with: the training plan, or the inference plan timed by the last evaluate or fewShotHead. */
  get evaluationPlan(): ExecutionPlan | null {
    return this.plan ?? this.#inferencePlan;
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
      // Frozen weights do not change during the fit (a resumed run has loaded its own by now):
      // one folded view of them serves every step.
      if (this.startStage === 0 && this.frozenStages > 0) this.frozenView = foldedForPlan(this.model, this.plan!, { stages: this.stages, to: this.frozenStages });
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
      // The failure being handled matters more than one in its handling.
      for (const cb of this.#active) await Promise.resolve().then(() => cb.onError?.(this, failed)).catch(() => undefined);
    } finally {
      await this.#finish();
    }
    if (failed !== null) throw userFacingError(failed, this.epoch, this.savedNote);
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
   * Replaces the classifier with a training-free head fitted on the training data (the
   * support set): nearest class mean, cosine k-nearest neighbours or an L-BFGS linear probe.
   * Seconds, not epochs; the backbone is not touched. Then evaluate, predict and save as usual.
   *
   * @example
   * const learn = new Learner({ model, train: await loadDataset('mnist:all@k=10,seed=1') });
   * await learn.fewShotHead({ mode: 'ncm', center: await loadDataset('fashion-mnist:train@k=100') });
   * console.log((await learn.evaluate(test)).accuracy);
   */
  async fewShotHead(r: FewShotHeadRequest): Promise<FewShotHeadResult> {
    if (this.#trainData === undefined) throw new TlcvError('ARGUMENT', 'Learner.fewShotHead needs the support set: pass it as `train` to the Learner');
    const numClasses = r.numClasses ?? this.classes?.length;
    const { result, plan } = await fitHeadOn(this.model, this.#trainData, { ...r, ...(numClasses === undefined ? {} : { numClasses }) }, this.plan ?? this.#inferencePlan, this.options);
    if (this.plan === null) this.#inferencePlan = plan;
    return result;
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
    return captureRunState(this);
  }

  restoreRunState(s: RunState): void {
    Object.assign(this, restoredRunState(s));
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
    // The weights are about to change: a cached view for prediction would only hold memory.
    releaseFoldedView(this.model);
    this.stages = this.model.stages();
    const s = await prepareSources(this, this.#trainData, this.#valData, { cacheFrozen: this.#cacheFrozen });
    this.#sources = s;
    this.train = s.train;
    this.val = s.val;
    this.startStage = s.startStage;
    this.cacheSeconds = s.cacheSeconds;
    this.stages = this.model.stages();
    this.summary = `${s.describe}; ${describePlan(this.plan!)}; ${this.options.optimizer} lr ${this.options.lr}, ${this.options.scheduler} schedule, ${this.epochs} epochs`;
    this.auxiliary = this.#active.flatMap((cb) => cb.auxiliaryModules?.(this) ?? []);
    const extra = this.auxiliary.flatMap((m) => m.parameters({ trainableOnly: true }));
    this.optimizer = createTrainingOptimizer(this.model, this.stages, this.frozenStages, this.options, this.train.length, extra);
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
    this.frozenView?.dispose();
    this.frozenView = null;
    this.#sources?.dispose();
    this.#sources = null;
    this.optimizer?.dispose();
    this.optimizer = null;
    this.model.eval();
    for (const m of this.auxiliary) m.eval();
    this.auxiliary = [];
    for (const cb of this.#active) await cb.cleanup?.(this);
    this.#active = [];
  }

}

