/** Conv2d, with PyTorch's default init and torchvision's parameter names (weight, bias). */
import { argumentError } from '../errors.js';
import { F, zeros, type Tensor } from '../tensor/index.js';
import { defaultBias_, kaimingUniform_ } from './init.js';
import { activeWeights, forwardTracer } from './fold-state.js';
import { Module } from './module.js';

type Pair = F.Pair;

/** F.conv2d's options, and whether the layer has a bias. */
export interface Conv2dOptions extends F.Conv2dOptions {
  bias?: boolean;
}

const pair = (p: Pair): [number, number] => (typeof p === 'number' ? [p, p] : p);

function checkPositive(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw argumentError(name, 'a positive integer', v);
}

/**
 * 2-d convolution over [N, C, H, W].
 *
 * @example
 * const conv = new Conv2d(3, 64, 7, { stride: 2, padding: 3, bias: false });
 */
export class Conv2d extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;

  constructor(inChannels: number, outChannels: number, kernelSize: Pair, o: Conv2dOptions = {}) {
    super();
    checkPositive('inChannels', inChannels);
    checkPositive('outChannels', outChannels);
    this.groups = o.groups ?? 1;
    checkPositive('groups', this.groups);
    if (inChannels % this.groups !== 0 || outChannels % this.groups !== 0) {
      throw argumentError('groups', `a divisor of inChannels ${inChannels} and outChannels ${outChannels}`, this.groups);
    }
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = pair(kernelSize);
    this.stride = pair(o.stride ?? 1);
    this.padding = pair(o.padding ?? 0);
    this.dilation = pair(o.dilation ?? 1);
    const weight = zeros([outChannels, inChannels / this.groups, ...this.kernelSize]);
    const bias = (o.bias ?? true) ? zeros([outChannels]) : null;
    // Same draws, same order as nn.Conv2d.reset_parameters.
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
    const o = { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups };
    // Inside a folded inference view (see foldedForInference): the BatchNorm after it folded in, or pre-cast.
    const w = activeWeights(this);
    if (w !== null) return F.conv2d(x.dtype === w.weight.dtype ? x : x.to(w.weight.dtype), w.weight, w.bias, o);
    const out = F.conv2d(x, this.weight, this.bias, o);
    forwardTracer?.(this, x, out);
    return out;
  }
}
