/**
 * The gradient-reversal layer of DANN (Ganin & Lempitsky, 2015): the identity going forward,
 * the gradient times -coeff going back, so that the features learn to fool the classifier
 * that sits after it.
 */
import { argumentError } from '../errors.js';
import { tidy, type Tensor } from '../tensor/index.js';
import { Module } from './module.js';

/**
 * x forward, -coeff * grad backward. Built from ops autograd already knows, with no custom
 * backward: (x - sg(x)) is exactly 0 with gradient 1, so sg(x) + (x - sg(x)) * (-coeff)
 * equals x to the bit and passes back -coeff times the incoming gradient.
 *
 * @example
 * const reversed = gradientReversal(features, 0.5); // same values; gradient -0.5x
 */
export function gradientReversal(x: Tensor, coeff: number): Tensor {
  if (!(coeff >= 0 && Number.isFinite(coeff))) throw argumentError('gradient reversal coeff', 'a non-negative number', coeff);
  return tidy(() => {
    const frozen = x.detach();
    return frozen.add(x.sub(frozen).mul(-coeff));
  });
}

/** The layer form, whose coefficient a schedule changes during training (TLlib's WarmStartGradientReverseLayer). */
export class GradientReversal extends Module {
  coeff: number;

  constructor(coeff = 1) {
    super();
    this.coeff = coeff;
  }

  forward(x: Tensor): Tensor {
    return gradientReversal(x, this.coeff);
  }
}
