/** Loss modules over the functional losses. */
import { TlcvError, argumentError } from '../errors.js';
import { F, keep, tensor, type Tensor } from '../tensor/index.js';

export interface CrossEntropyLossOptions {
  /** Per-class weights [numClasses]; the module keeps its own copy. */
  weight?: Tensor | number[] | null;
  reduction?: F.Reduction;
  ignoreIndex?: number;
  labelSmoothing?: number;
}

/**
 * Cross-entropy over logits [N, C] and class indices [N] (int64), as nn.CrossEntropyLoss.
 *
 * @example
 * const lossFn = new CrossEntropyLoss({ labelSmoothing: 0.1 });
 * const loss = lossFn.forward(model.forward(x), y);
 */
export class CrossEntropyLoss {
  readonly reduction: F.Reduction;
  readonly ignoreIndex: number;
  readonly labelSmoothing: number;
  #weight: Tensor | null;

  constructor(o: CrossEntropyLossOptions = {}) {
    this.reduction = o.reduction ?? 'mean';
    if (!['none', 'mean', 'sum'].includes(this.reduction)) throw argumentError('reduction', "'none', 'mean' or 'sum'", this.reduction);
    this.ignoreIndex = o.ignoreIndex ?? -100;
    this.labelSmoothing = o.labelSmoothing ?? 0;
    if (!(this.labelSmoothing >= 0 && this.labelSmoothing <= 1)) throw argumentError('labelSmoothing', 'a number in [0, 1]', this.labelSmoothing);
    const w = o.weight ?? null;
    if (w === null) this.#weight = null;
    else if (Array.isArray(w)) {
      if (w.some((v) => !(Number.isFinite(v) && v >= 0))) throw argumentError('class weights', 'finite non-negative numbers', w);
      this.#weight = keep(tensor(w));
    } else this.#weight = keep(w.detach());
  }

  get weight(): Tensor | null {
    return this.#weight;
  }

  forward(logits: Tensor, target: Tensor): Tensor {
    if (logits.ndim < 2) throw new TlcvError('ARGUMENT', `Expected logits [N, C] for CrossEntropyLoss but received shape [${logits.shape.join(', ')}]`);
    const w = this.#weight;
    if (w !== null && w.numel !== logits.shape[1]) {
      throw new TlcvError('ARGUMENT', `Expected ${logits.shape[1]} class weights (one per class of the logits) but received ${w.numel}`);
    }
    const weight = w !== null && w.device !== logits.device ? w.to(logits.device) : w;
    return F.crossEntropy(logits, target, { weight, reduction: this.reduction, ignoreIndex: this.ignoreIndex, labelSmoothing: this.labelSmoothing });
  }

  /** Frees the class-weight tensor. */
  dispose(): void {
    this.#weight?.dispose();
    this.#weight = null;
  }
}
