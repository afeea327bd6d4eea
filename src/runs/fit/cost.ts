/**
 * What each rung of `tlcv fit` is predicted to cost on this machine: from one backbone's
 * forward time per image, measured before the ladder (plan timing's first batches), and the
 * images each strategy pushes through it; after each rung the ratio of what it took to what
 * was predicted corrects that backbone's later predictions of the same family (image decoding,
 * plan timing and the loaders' overhead are in what it took). Families: the ncm/knn heads, the
 * probe (its L2 sweep grows with the feature width, not the images), feature extraction (a
 * frozen body: its time is mostly the loaders' and the validation passes', so its ratio says
 * little about a backward pass) and training; one not yet
 * measured takes the heads' correction (never below 1 for training: an overrun costs the budget,
 * a skipped rung only a chance), which already holds the machine's load and decoding. Each
 * observation moves a correction half-way (in log terms) to what it says: one rung's first-run
 * costs (a dataset read the first time) do not swing the next prediction by their whole size.
 * Pure: the measurements are passed in.
 */

export type CostFamily = 'head' | 'probe' | 'frozen' | 'train';

/** The data's size as the ladder sees it. */
export interface FitDataSize {
  train: number;
  val: number;
  /** Training runs per rung: 1, or k with k-fold validation. */
  folds: number;
}

/** A training step costs about three forwards (forward, backward through activations and weights). */
export const TRAIN_STEP_FORWARDS = 3;
/** A frozen backbone runs forward only; its head's step is a small part of it. */
export const FROZEN_STEP_FORWARDS = 1.2;
/** Set-up a run pays once (loading the weights, timing plans, building loaders), before any measurement. */
export const RUN_OVERHEAD_SECONDS = 2;
const MIN_CORRECTION = 0.25;
const MAX_CORRECTION = 8;

export class CostModel {
  readonly #forward = new Map<string, number>();
  readonly #correction = new Map<string, number>();

  /** Seconds one image's forward takes through `backbone` (measured). */
  setForward(backbone: string, secondsPerImage: number): void {
    this.#forward.set(backbone, secondsPerImage);
  }

  /** The correction learnt so far for `backbone`'s `family` (the heads', else 1, before one of its rungs ran). */
  correction(backbone: string, family: CostFamily = 'head'): number {
    const own = this.#correction.get(`${backbone}\0${family}`);
    if (own !== undefined) return own;
    const heads = this.#correction.get(`${backbone}\0head`) ?? 1;
    return family === 'train' || family === 'frozen' ? Math.max(1, heads) : heads;
  }

  /** Learns from a rung of `family` that took `seconds` where `predicted` was said. */
  observe(backbone: string, family: CostFamily, seconds: number, predicted: number): void {
    if (!(predicted > 0 && seconds > 0)) return;
    const old = this.correction(backbone, family);
    const seen = (seconds / predicted) * old;
    // The first observation of a family stands alone; later ones are averaged in (geometric mean).
    const next = this.#correction.has(`${backbone}\0${family}`) ? Math.sqrt(old * seen) : seen;
    this.#correction.set(`${backbone}\0${family}`, Math.min(MAX_CORRECTION, Math.max(MIN_CORRECTION, next)));
  }

  #seconds(backbone: string, d: FitDataSize, forwards: number, family: CostFamily): number {
    const f = this.#forward.get(backbone);
    if (f === undefined) throw new Error(`CostModel: no forward time measured for ${backbone}`);
    return d.folds * (RUN_OVERHEAD_SECONDS + forwards * f) * this.correction(backbone, family);
  }

  /**
   * A training-free head: one forward over the support set and the validation data.
   *
   * @example
   * const s = cost.head('resnet18', { train: 400, val: 100, folds: 1 });
   */
  head(backbone: string, d: FitDataSize, family: 'head' | 'probe' = 'head'): number {
    return this.#seconds(backbone, d, d.train + d.val, family);
  }

  /** `epochs` of feature extraction (the backbone frozen) with validation each epoch. */
  featureExtraction(backbone: string, d: FitDataSize, epochs: number): number {
    return this.#seconds(backbone, d, epochs * (d.train * FROZEN_STEP_FORWARDS + d.val), 'frozen');
  }

  /** `epochs` of training every layer (fine-tuning, or from scratch) with validation each epoch. */
  training(backbone: string, d: FitDataSize, epochs: number): number {
    return this.#seconds(backbone, d, epochs * (d.train * TRAIN_STEP_FORWARDS + d.val), 'train');
  }

  /** A learning-rate sweep of `steps` training steps at `batch` (once per backbone, not per fold). */
  lrFind(backbone: string, d: FitDataSize, steps: number, batch: number): number {
    return this.#seconds(backbone, { ...d, folds: 1 }, steps * batch * TRAIN_STEP_FORWARDS, 'train');
  }

  /** The most epochs of `kind` that fit in `seconds` (0 if none does). */
  epochsWithin(kind: 'frozen' | 'train', backbone: string, d: FitDataSize, seconds: number): number {
    const cost = (e: number): number => (kind === 'frozen' ? this.featureExtraction(backbone, d, e) : this.training(backbone, d, e));
    const fixed = cost(0);
    return Math.max(0, Math.floor((seconds - fixed) / (cost(1) - fixed)));
  }
}
