/** Squeeze-and-excitation (Hu et al. 2018), as torchvision.ops.SqueezeExcitation builds it. */
import type { Tensor } from '../tensor/index.js';
import { Conv2d } from './conv.js';
import { Module } from './module.js';
import { AdaptiveAvgPool2d } from './pooling.js';
import { ReLU } from './activation.js';
import { Sigmoid } from './sigmoid-activations.js';

export interface SqueezeExcitationOptions {
  /** Makes the activation between fc1 and fc2 (torchvision's `activation`; default ReLU). */
  activation?: () => Module;
  /** Makes the gate after fc2 (torchvision's `scale_activation`; default Sigmoid). */
  scaleActivation?: () => Module;
}

/**
 * Scales each channel by a gate computed from the whole feature map: global average pool,
 * fc1 (1x1 conv to `squeezeChannels`), activation, fc2 (back to `inputChannels`), gate.
 * Children and parameters are named as torchvision names them (`avgpool`, `fc1`, `fc2`,
 * `activation`, `scale_activation`), registered in its order, so its weights load as they are.
 *
 * @example
 * const se = new SqueezeExcitation(96, 24, { activation: () => new SiLU(true) });
 * const y = se.forward(x); // x * sigmoid(fc2(silu(fc1(mean over H, W of x))))
 */
export class SqueezeExcitation extends Module {
  constructor(inputChannels: number, squeezeChannels: number, o: SqueezeExcitationOptions = {}) {
    super();
    this.registerModule('avgpool', new AdaptiveAvgPool2d(1));
    this.registerModule('fc1', new Conv2d(inputChannels, squeezeChannels, 1));
    this.registerModule('fc2', new Conv2d(squeezeChannels, inputChannels, 1));
    this.registerModule('activation', (o.activation ?? ((): Module => new ReLU()))());
    this.registerModule('scale_activation', (o.scaleActivation ?? ((): Module => new Sigmoid()))());
  }

  /** The per-channel gate [N, C, 1, 1] for `x`. */
  scale(x: Tensor): Tensor {
    const m = (n: string): Module => this.child(n);
    return m('scale_activation').forward(m('fc2').forward(m('activation').forward(m('fc1').forward(m('avgpool').forward(x)))));
  }

  forward(x: Tensor): Tensor {
    return this.scale(x).mul(x);
  }
}
