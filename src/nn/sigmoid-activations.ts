/**
 * The sigmoid family as mobile CNNs use it: Sigmoid and Hardsigmoid (squeeze-excitation's
 * gates), and the activations gated by them, SiLU (EfficientNet) and Hardswish (MobileNetV3).
 * `inplace` mirrors torchvision's flag: torchvision's Conv2dNormActivation applies its
 * activation in place on the BatchNorm's output, which nothing else reads, and so do these.
 */
import { F, type Tensor } from '../tensor/index.js';
import { Module } from './module.js';

/** An activation that can overwrite its input, as torch.nn's `inplace=True` ones do. */
export abstract class InplaceActivation extends Module {
  constructor(readonly inplace = false) {
    super();
  }
}

/**
 * 1 / (1 + exp(-x)).
 *
 * @example
 * new Sigmoid().forward(x);
 */
export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return F.sigmoid(x);
  }
}

/**
 * x * sigmoid(x) (Swish).
 *
 * @example
 * new SiLU(true).forward(bnOutput); // overwrites bnOutput, as torchvision's SiLU(inplace=True)
 */
export class SiLU extends InplaceActivation {
  forward(x: Tensor): Tensor {
    return this.inplace ? F.silu_(x) : F.silu(x);
  }
}

/**
 * relu6(x + 3) / 6: a sigmoid made of three straight pieces.
 *
 * @example
 * new Hardsigmoid().forward(x);
 */
export class Hardsigmoid extends InplaceActivation {
  forward(x: Tensor): Tensor {
    return this.inplace ? F.hardsigmoid_(x) : F.hardsigmoid(x);
  }
}

/**
 * x * relu6(x + 3) / 6: Swish with the sigmoid made piecewise linear.
 *
 * @example
 * new Hardswish(true).forward(bnOutput);
 */
export class Hardswish extends InplaceActivation {
  forward(x: Tensor): Tensor {
    return this.inplace ? F.hardswish_(x) : F.hardswish(x);
  }
}
