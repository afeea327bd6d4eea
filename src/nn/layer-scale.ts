/**
 * Layer scale (Touvron et al., CaiT 2021): a learnt per-channel factor on a residual branch, started
 * small so that each block begins close to the identity. DINOv2 keeps it in a module (`ls1.gamma`,
 * shape [dim]); torchvision's ConvNeXt keeps it as its block's own `layer_scale` parameter, shape
 * [dim, 1, 1] so that it broadcasts over [N, C, H, W].
 */
import { argumentError } from '../errors.js';
import { full, type Tensor } from '../tensor/index.js';
import { Module } from './module.js';

/**
 * A tensor of `init` for a layer-scale parameter: [dim] over channels-last features, or
 * [dim, 1, 1] over channels-first maps.
 *
 * @example
 * this.registerParameter('layer_scale', layerScaleTensor(dim, 1e-6, 'channels-first'));
 */
export function layerScaleTensor(dim: number, init: number, layout: 'channels-last' | 'channels-first' = 'channels-last'): Tensor {
  if (!Number.isInteger(dim) || dim < 1) throw argumentError('layer scale dim', 'a positive integer', dim);
  if (!Number.isFinite(init)) throw argumentError('layer scale init', 'a finite number', init);
  return full(layout === 'channels-last' ? [dim] : [dim, 1, 1], init);
}

/**
 * x · gamma over the last dim, gamma [dim] filled with `init` (DINOv2's LayerScale, init_values 1.0
 * for its published models).
 *
 * @example
 * const ls1 = new LayerScale(384, 1.0);
 */
export class LayerScale extends Module {
  constructor(dim: number, init = 1e-5) {
    super();
    this.registerParameter('gamma', layerScaleTensor(dim, init));
  }

  get gamma(): Tensor {
    return this.param('gamma');
  }

  forward(x: Tensor): Tensor {
    return x.mul(this.gamma);
  }
}
