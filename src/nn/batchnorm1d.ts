/** BatchNorm1d over [N, C], as the domain classifiers of adversarial adaptation use it. */
import { TlcvError } from '../errors.js';
import { tidy, type Tensor } from '../tensor/index.js';
import { BatchNorm2d } from './batchnorm.js';

/**
 * Batch normalisation of features [N, C]: BatchNorm2d's statistics over N on a [N, C, 1, 1]
 * view, which are the same numbers, with the same parameter and buffer names as nn.BatchNorm1d.
 *
 * @example
 * const bn = new BatchNorm1d(1024);
 */
export class BatchNorm1d extends BatchNorm2d {
  override forward(x: Tensor): Tensor {
    if (x.ndim !== 2) throw new TlcvError('ARGUMENT', `Expected a 2-d [N, C] input for BatchNorm1d but received shape [${x.shape.join(', ')}]`);
    const [n, c] = x.shape as [number, number];
    return tidy(() => super.forward(x.reshape([n, c, 1, 1])).reshape([n, c]));
  }
}
