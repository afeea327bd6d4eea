/** Stochastic depth (Huang et al. 2016), as torchvision.ops.StochasticDepth computes it. */
import { argumentError } from '../errors.js';
import { bernoulli, zeros, type Tensor } from '../tensor/index.js';
import { Module } from './module.js';

export type StochasticDepthMode = 'row' | 'batch';

/**
 * Drops a residual branch with probability `p` while training: per sample ('row') or for the
 * whole batch ('batch'), scaling what survives by 1/(1-p). In eval mode, and with p = 0, it
 * returns its input and draws nothing from the generator, so a model with it off gives the same
 * numbers as one without it.
 *
 * @example
 * const sd = new StochasticDepth(0.1, 'row');
 * const y = x.add(sd.forward(branch(x)));
 */
export class StochasticDepth extends Module {
  readonly p: number;
  readonly mode: StochasticDepthMode;

  constructor(p: number, mode: StochasticDepthMode = 'row') {
    super();
    if (!(p >= 0 && p <= 1)) throw argumentError('stochastic depth p', 'a probability in [0, 1]', p);
    if (mode !== 'row' && mode !== 'batch') throw argumentError('stochastic depth mode', '"row" or "batch"', mode);
    this.p = p;
    this.mode = mode;
  }

  forward(x: Tensor): Tensor {
    if (!this.training || this.p === 0) return x;
    const survival = 1 - this.p;
    const shape = this.mode === 'row' ? [x.shape[0]!, ...x.shape.slice(1).map(() => 1)] : x.shape.map(() => 1);
    // torchvision: noise = empty(shape).bernoulli_(survival); noise /= survival (when survival > 0).
    const noise = bernoulli(zeros(shape, { dtype: x.dtype, device: x.device }), survival);
    return survival > 0 ? x.mul(noise.div(survival)) : x.mul(noise);
  }
}
