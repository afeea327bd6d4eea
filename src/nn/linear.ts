/** Linear (fully connected) layer with PyTorch's default init. */
import { argumentError } from '../errors.js';
import { F, zeros, type Tensor } from '../tensor/index.js';
import { defaultBias_, kaimingUniform_ } from './init.js';
import { Module } from './module.js';
import { activeWeights } from './fold-state.js';

/**
 * y = x Wᵀ + b over the last dim.
 *
 * @example
 * const fc = new Linear(512, 10);
 */
export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;

  constructor(inFeatures: number, outFeatures: number, o: { bias?: boolean } = {}) {
    super();
    if (!Number.isInteger(inFeatures) || inFeatures < 1) throw argumentError('inFeatures', 'a positive integer', inFeatures);
    if (!Number.isInteger(outFeatures) || outFeatures < 1) throw argumentError('outFeatures', 'a positive integer', outFeatures);
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    const weight = zeros([outFeatures, inFeatures]);
    const bias = (o.bias ?? true) ? zeros([outFeatures]) : null;
    // Same draws, same order as nn.Linear.reset_parameters.
    kaimingUniform_(weight, { a: Math.sqrt(5) });
    if (bias !== null) defaultBias_(bias, weight);
    this.registerParameter('weight', weight);
    this.registerParameter('bias', bias);
  }

  get weight(): Tensor {
    return this.param('weight');
  }
  get bias(): Tensor | null {
    return this.optionalParam('bias');
  }

  forward(x: Tensor): Tensor {
    // Inside a folded inference view (see foldedForInference): weights pre-cast to the plan's dtype.
    const w = activeWeights(this);
    if (w !== null) return F.linear(x.dtype === w.weight.dtype ? x : x.to(w.weight.dtype), w.weight, w.bias);
    return F.linear(x, this.weight, this.bias);
  }
}
