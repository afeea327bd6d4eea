/** BatchNorm2d, which stays in eval mode while all its parameters are frozen. */
import { TlcvError, argumentError } from '../errors.js';
import { F, ones, zeros, type Tensor } from '../tensor/index.js';
import { Module } from './module.js';
import { forwardTracer, isFoldedAway } from './fold-state.js';

export interface BatchNorm2dOptions {
  eps?: number;
  /** Weight of the new batch in the running statistics; null gives a cumulative average. */
  momentum?: number | null;
  affine?: boolean;
  trackRunningStats?: boolean;
}

/**
 * Batch normalisation over [N, C, H, W]. Buffers as torchvision names them: running_mean,
 * running_var, num_batches_tracked (int64).
 *
 * When every parameter is frozen (requiresGrad false), the layer normalises with its running
 * statistics and leaves them alone even while the model trains: fine-tuning a frozen backbone
 * must not drift its statistics toward the new domain (the Keras pitfall). Set
 * `evalWhenFrozen = false` to get PyTorch's behaviour instead.
 *
 * @example
 * const bn = new BatchNorm2d(64);
 */
export class BatchNorm2d extends Module {
  readonly numFeatures: number;
  readonly eps: number;
  #momentum: number | null = 0.1;
  evalWhenFrozen = true;

  constructor(numFeatures: number, o: BatchNorm2dOptions = {}) {
    super();
    if (!Number.isInteger(numFeatures) || numFeatures < 1) throw argumentError('numFeatures', 'a positive integer', numFeatures);
    this.numFeatures = numFeatures;
    this.eps = o.eps ?? 1e-5;
    this.momentum = o.momentum === undefined ? 0.1 : o.momentum;
    const affine = o.affine ?? true;
    this.registerParameter('weight', affine ? ones([numFeatures]) : null);
    this.registerParameter('bias', affine ? zeros([numFeatures]) : null);
    const track = o.trackRunningStats ?? true;
    this.registerBuffer('running_mean', track ? zeros([numFeatures]) : null);
    this.registerBuffer('running_var', track ? ones([numFeatures]) : null);
    this.registerBuffer('num_batches_tracked', track ? zeros([], { dtype: 'int64' }) : null);
  }

  /**
   * Weight of the new batch in the running statistics, or null for a cumulative average over
   * the batches since the statistics were reset (PyTorch's `bn.momentum = None`, which AdaBN
   * and torch.optim.swa_utils.update_bn set for one pass over the data).
   */
  get momentum(): number | null {
    return this.#momentum;
  }
  set momentum(m: number | null) {
    if (m !== null && !(m >= 0 && m <= 1)) throw argumentError('BatchNorm2d momentum', 'a number in [0, 1] or null', m);
    this.#momentum = m;
  }

  get weight(): Tensor | null {
    return this.optionalParam('weight');
  }
  get bias(): Tensor | null {
    return this.optionalParam('bias');
  }
  get runningMean(): Tensor | null {
    return this.optionalBuffer('running_mean');
  }
  get runningVar(): Tensor | null {
    return this.optionalBuffer('running_var');
  }

  protected override optionalStateKeys(): string[] {
    return this.optionalBuffer('num_batches_tracked') === null ? [] : ['num_batches_tracked'];
  }

  /** True when the layer has parameters and none of them is trainable. */
  get isFrozen(): boolean {
    const w = this.optionalParam('weight');
    const b = this.optionalParam('bias');
    if (w === null && b === null) return false;
    return !(w?.requiresGrad ?? false) && !(b?.requiresGrad ?? false);
  }

  /** Whether a forward pass now normalises with batch statistics and updates the running ones. */
  get updatesRunningStats(): boolean {
    return this.training && this.optionalBuffer('running_mean') !== null && !(this.evalWhenFrozen && this.isFrozen);
  }

  forward(x: Tensor): Tensor {
    // Folded into the conv before it, inside a folded inference view (see foldedForInference).
    if (isFoldedAway(this)) return x;
    const out = this.normalise(x);
    forwardTracer?.(this, x, out);
    return out;
  }

  private normalise(x: Tensor): Tensor {
    if (x.ndim !== 4) throw new TlcvError('ARGUMENT', `Expected a 4-d [N, C, H, W] input for BatchNorm2d but received shape [${x.shape.join(', ')}]`);
    const runningMean = this.optionalBuffer('running_mean');
    const updating = this.updatesRunningStats;
    let momentum = this.momentum ?? 0;
    if (updating) {
      const tracked = this.buffer('num_batches_tracked');
      tracked.add_(1);
      if (this.momentum === null) momentum = 1 / tracked.item();
    }
    return F.batchNorm(x, {
      weight: this.optionalParam('weight'),
      bias: this.optionalParam('bias'),
      runningMean,
      runningVar: this.optionalBuffer('running_var'),
      // Without running statistics there is nothing else to normalise with, in any mode.
      training: updating || runningMean === null,
      momentum,
      eps: this.eps,
    });
  }
}
