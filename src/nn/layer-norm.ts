/** Layer normalisation: over the last dim (nn.LayerNorm), and over channels of [N, C, H, W] (torchvision's LayerNorm2d). */
import { argumentError } from '../errors.js';
import { F, ones, zeros, type Tensor } from '../tensor/index.js';
import { Module } from './module.js';

export interface LayerNormOptions {
  eps?: number;
  /** Learnable per-feature scale (weight) and shift (bias); default true. */
  elementwiseAffine?: boolean;
}

/**
 * Normalises each vector over its last dim to zero mean and unit variance (biased), then scales
 * and shifts it: nn.LayerNorm(dim), with its parameter names (weight, bias) and init (ones, zeros).
 *
 * @example
 * const ln = new LayerNorm(768, { eps: 1e-6 }); // ViT's norm over token features [N, T, 768]
 */
export class LayerNorm extends Module {
  readonly normalizedShape: number[];
  readonly eps: number;

  constructor(dim: number, o: LayerNormOptions = {}) {
    super();
    if (!Number.isInteger(dim) || dim < 1) throw argumentError('LayerNorm dim', 'a positive integer', dim);
    const eps = o.eps ?? 1e-5;
    if (!(eps > 0)) throw argumentError('LayerNorm eps', 'a positive number', eps);
    this.normalizedShape = [dim];
    this.eps = eps;
    const affine = o.elementwiseAffine ?? true;
    this.registerParameter('weight', affine ? ones([dim]) : null);
    this.registerParameter('bias', affine ? zeros([dim]) : null);
  }

  get weight(): Tensor | null {
    return this.optionalParam('weight');
  }
  get bias(): Tensor | null {
    return this.optionalParam('bias');
  }

  forward(x: Tensor): Tensor {
    return F.layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }
}

/**
 * LayerNorm over the channels of [N, C, H, W] at each position, as torchvision's ConvNeXt does it:
 * permute to channels-last, layer_norm, permute back (the same state as nn.LayerNorm(C)).
 *
 * @example
 * const norm = new LayerNorm2d(96, { eps: 1e-6 });
 */
export class LayerNorm2d extends LayerNorm {
  override forward(x: Tensor): Tensor {
    return F.layerNorm(x.permute([0, 2, 3, 1]), this.normalizedShape, this.weight, this.bias, this.eps).permute([0, 3, 1, 2]);
  }
}
