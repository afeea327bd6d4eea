/** Patch embedding: an image cut into non-overlapping patches, each projected to a token (ViT). */
import { TlcvError, argumentError } from '../errors.js';
import type { Tensor } from '../tensor/index.js';
import { Conv2d } from './conv.js';
import { Module } from './module.js';

/**
 * [N, C, H, W] to tokens [N, (H/p)(W/p), D] through a p x p conv of stride p: torchvision's ViT
 * (`conv_proj`, then reshape and permute) and DINOv2 (`patch_embed.proj`, then flatten and
 * transpose) compute exactly this. Rows of tokens run over the patch grid row by row.
 *
 * @example
 * const tokens = patchTokens(model.convProj, x); // [N, 196, 768] for a 224-px image and 16-px patches
 */
export function patchTokens(proj: Conv2d, x: Tensor): Tensor {
  const [ph, pw] = proj.kernelSize;
  const [, , h, w] = x.shape;
  if (x.ndim !== 4 || h! % ph !== 0 || w! % pw !== 0) {
    throw new TlcvError('ARGUMENT', `Expected an image [N, C, H, W] with H and W multiples of the patch size ${ph}x${pw} but received [${x.shape.join(', ')}]`);
  }
  return proj.forward(x).flatten(2).transpose(1, 2);
}

/**
 * DINOv2's PatchEmbed: `proj` (Conv2d, kernel and stride the patch size) and the token layout above.
 *
 * @example
 * const embed = new PatchEmbed(3, 384, 14); // embed.forward(x): [N, (H/14)(W/14), 384]
 */
export class PatchEmbed extends Module {
  readonly patchSize: number;

  constructor(inChannels: number, embedDim: number, patchSize: number) {
    super();
    if (!Number.isInteger(patchSize) || patchSize < 1) throw argumentError('patch size', 'a positive integer', patchSize);
    this.patchSize = patchSize;
    this.registerModule('proj', new Conv2d(inChannels, embedDim, patchSize, { stride: patchSize }));
  }

  get proj(): Conv2d {
    return this.child<Conv2d>('proj');
  }

  forward(x: Tensor): Tensor {
    return patchTokens(this.proj, x);
  }
}
