/** A Linear layer that keeps float32 under autocast, for heads whose logits are small differences of large terms. */
import { F, autocast, type Tensor } from '../tensor/index.js';
import { Linear } from './linear.js';

/** Runs fn with autocast off on x's device: the ops inside compute in their inputs' dtype. */
export function withoutAutocast<T>(x: Tensor, fn: () => T): T {
  return autocast(fn, { device: x.device.startsWith('cuda') ? 'cuda' : 'cpu', enabled: false });
}

/**
 * Linear in float32 even under bf16 autocast. A training-free head folds the feature centre
 * into its bias (W x + b = W (x - μ)), so its logits are small differences of large terms:
 * rounded to bf16 they lost 3.7 points of NCM accuracy on digits. Same parameters and names
 * as Linear, so its state loads into one.
 *
 * @example
 * const head = new Float32Linear(512, 10);
 */
export class Float32Linear extends Linear {
  override forward(x: Tensor): Tensor {
    return withoutAutocast(x, () => F.linear(x.float(), this.weight, this.bias));
  }
}
