/** A permutation of dims as a module (torchvision.ops.Permute), for Sequential blocks that switch layouts. */
import { argumentError } from '../errors.js';
import type { Tensor } from '../tensor/index.js';
import { Module } from './module.js';

/**
 * Returns a view of its input with the dims in the given order.
 *
 * @example
 * new Permute([0, 2, 3, 1]); // [N, C, H, W] to [N, H, W, C], as ConvNeXt's block does before its LayerNorm
 */
export class Permute extends Module {
  readonly dims: number[];

  constructor(dims: number[]) {
    super();
    const sorted = [...dims].sort((a, b) => a - b);
    if (dims.length === 0 || !sorted.every((d, i) => d === i)) throw argumentError('Permute dims', 'a permutation of 0..n-1', dims);
    this.dims = [...dims];
  }

  forward(x: Tensor): Tensor {
    return x.permute(this.dims);
  }
}
