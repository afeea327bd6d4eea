/** GELU, exact (x·Φ(x) through erf) or with PyTorch's tanh approximation. */
import { argumentError } from '../errors.js';
import { F, type Tensor } from '../tensor/index.js';
import { Module } from './module.js';

/**
 * nn.GELU: the exact form by default, as torchvision's ViT and ConvNeXt and DINOv2 use it.
 *
 * @example
 * const act = new GELU();
 */
export class GELU extends Module {
  readonly approximate: 'none' | 'tanh';

  constructor(approximate: 'none' | 'tanh' = 'none') {
    super();
    if (approximate !== 'none' && approximate !== 'tanh') throw argumentError('GELU approximate', '"none" or "tanh"', approximate);
    this.approximate = approximate;
  }

  forward(x: Tensor): Tensor {
    return F.gelu(x, this.approximate);
  }
}
