/**
 * DANN as a Learner callback, in the form of thuml's Transfer-Learning-Library: each training
 * step's labelled source batch is joined by as many unlabelled target images, the two go
 * through the model as one batch (so BatchNorm sees both domains), the classification loss
 * is taken on the source rows only, and the domain classifier's loss on the pooled features
 * of both, behind a gradient-reversal layer whose strength follows TLlib's schedule
 * λ = 2 / (1 + exp(-10 p)) - 1 over the fit's progress p, is added to it.
 */
import { TlcvError } from '../errors.js';
import { cat, manualSeed, type Tensor } from '../tensor/index.js';
import type { Module } from '../nn/index.js';
import { DataLoader, mixSeed, type ImageDataset } from '../data/index.js';
import { disposeState, observeClassifierInput, withPlan, type ClassifierInputObserver } from '../execution/index.js';
import { DannObjective, withoutLabels, type DannOptions } from '../transfer/adapt/index.js';
import type { Callback, CallbackState, LearnerView } from './callback.js';

/** What the last epoch's steps said about the domain classifier. */
export interface DannEpochStats {
  epoch: number;
  domainLoss: number;
  /** How often the domain classifier told source from target (0.5: it cannot). */
  domainAccuracy: number;
  /** The reversal coefficient at the epoch's last step. */
  lambda: number;
}

/**
 * @example
 * const target = await loadDataset('mnist:test@shift=rotate:45'); // its labels are dropped here
 * const learn = new Learner({ model, train: source, callbacks: [new Dann(target, { tradeoff: 1 })] });
 * learn.setStrategy('fine-tune');
 * await learn.fit(10);
 */
export class Dann implements Callback {
  readonly name = 'dann';
  readonly order = 40;
  readonly target: ImageDataset;
  readonly options: DannOptions;
  objective: DannObjective | null = null;
  /** One entry per epoch of the current fit. */
  readonly epochs: DannEpochStats[] = [];
  #loader: DataLoader | null = null;
  #seen: ClassifierInputObserver | null = null;
  #sourceRows = 0;
  #domainLoss: Tensor | null = null;
  #sums = { loss: 0, accuracy: 0, steps: 0, lambda: 0 };

  /** The target images; their labels are never read (they are replaced by zeros here). */
  constructor(target: ImageDataset, o: DannOptions = {}) {
    this.target = withoutLabels(target);
    this.options = o;
  }

  beforeFit(learn: LearnerView): void {
    this.epochs.length = 0;
    // The discriminator's initial weights follow the run's seed, not whatever ran before.
    manualSeed(mixSeed(learn.options.seed, 0xda22));
    this.objective?.dispose();
    this.objective = DannObjective.forModel(learn.model, { ...this.options, labelSmoothing: learn.options.labelSmoothing });
    const device = learn.model.parameters()[0]?.device ?? 'cpu';
    if (device !== 'cpu') this.objective.discriminator.to({ device });
  }

  auxiliaryModules(): Module[] {
    return this.objective === null ? [] : [this.objective.discriminator];
  }

  afterSetup(learn: LearnerView): void {
    if (learn.startStage > 0) throw new TlcvError('ARGUMENT', 'dann trains the backbone on both domains, but the first layer groups are frozen and cached: use a fine-tune strategy');
    const bs = learn.options.batchSize;
    const dims = [this.target.channels, this.target.height, this.target.width];
    const [c, h, w] = learn.model.config.inputSize;
    if (dims[0] !== c || dims[1] !== h || dims[2] !== w) throw new TlcvError('DATA', `dann: the target images are ${dims.join('x')}, the model takes ${c}x${h}x${w}`);
    const mean = learn.model.config.mean;
    const std = learn.model.config.std;
    this.#loader = new DataLoader(this.target, { batchSize: bs, shuffle: true, seed: mixSeed(learn.options.seed, 0x7a29e7), dropLast: this.target.n >= bs, mean, std, device: learn.options.device });
  }

  beforeEpoch(): void {
    this.#sums = { loss: 0, accuracy: 0, steps: 0, lambda: 0 };
  }

  /** Training progress in [0, 1] at the current step: what the schedule follows. */
  #progress(learn: LearnerView): number {
    const steps = learn.train!.length;
    return ((learn.epoch - 1) * steps + learn.epochProgress.steps) / Math.max(1, learn.epochs * steps);
  }

  beforeBatch(learn: LearnerView): void {
    const source = learn.batch!;
    const loader = this.#loader!;
    // The target batch of this global step, so a resumed run draws what an uninterrupted one would.
    const step = (learn.epoch - 1) * learn.train!.length + learn.epochProgress.steps;
    const round = Math.floor(step / loader.length);
    const at = (step % loader.length) * loader.batchSize;
    const target = loader.batch(loader.order(round).subarray(at, at + loader.batchSize));
    this.#sourceRows = source.x.size(0);
    learn.batch = { x: cat([source.x, target.x]), y: source.y, indices: source.indices };
    this.#seen = observeClassifierInput(learn.model);
  }

  afterPred(learn: LearnerView): void {
    const features = this.#seen!.take();
    this.#release();
    if (features === null) throw new TlcvError('MODEL', `dann: ${learn.model.config.name}'s forward did not call its classifier "${learn.model.config.classifier}"`);
    const ns = this.#sourceRows;
    const nt = features.size(0) - ns;
    const progress = this.#progress(learn);
    const objective = this.objective!;
    const domain = withPlan(learn.plan!, () => objective.domainLoss(features.narrow(0, 0, ns), features.narrow(0, ns, nt), progress));
    learn.pred = learn.pred!.narrow(0, 0, ns);
    this.#domainLoss = domain.loss;
    this.#sums.accuracy += domain.accuracy;
    this.#sums.lambda = objective.lambda(progress);
  }

  afterLoss(learn: LearnerView): void {
    const domain = this.#domainLoss!;
    this.#sums.loss += domain.item();
    this.#sums.steps += 1;
    learn.loss = learn.loss!.add(domain.mul(this.objective!.tradeoff));
    this.#domainLoss = null;
  }

  afterBatch(): void {
    this.#release();
  }

  afterEpoch(learn: LearnerView): void {
    const n = Math.max(1, this.#sums.steps);
    const stats = { epoch: learn.epoch, domainLoss: this.#sums.loss / n, domainAccuracy: this.#sums.accuracy / n, lambda: this.#sums.lambda };
    this.epochs.push(stats);
    learn.log(`dann epoch ${stats.epoch}: domain loss ${stats.domainLoss.toFixed(4)}, domain accuracy ${(stats.domainAccuracy * 100).toFixed(1)}%, lambda ${stats.lambda.toFixed(3)}`);
  }

  onError(): void {
    this.#release();
  }

  cleanup(): void {
    this.#release();
    this.#loader = null;
  }

  /** The discriminator's weights travel with checkpoints, so a resumed run continues it. */
  checkpointState(): CallbackState {
    return this.objective === null ? {} : { tensors: this.objective.discriminator.stateDict() };
  }

  /** Called by the Checkpoint callback after set-up, when the discriminator exists. */
  loadCheckpointState(s: CallbackState): void {
    if (s.tensors === undefined) return;
    try {
      if (s.tensors.size > 0) this.objective?.discriminator.loadStateDict(s.tensors, { strict: true });
    } finally {
      disposeState(s.tensors);
    }
  }

  /** Frees the discriminator (the adapted model does not need it). */
  dispose(): void {
    this.objective?.dispose();
    this.objective = null;
  }

  #release(): void {
    this.#seen?.release();
    this.#seen = null;
  }
}
