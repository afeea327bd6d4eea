/** Small stateless layers: Dropout, Flatten, Identity. */
import { F, type Tensor } from '../tensor/index.js';
import { argumentError } from '../errors.js';
import { Module } from './module.js';

/** Zeroes elements with probability p in training mode, scaling the rest by 1/(1-p). */
export class Dropout extends Module {
  readonly p: number;
  constructor(p = 0.5) {
    super();
    if (!(p >= 0 && p <= 1)) throw argumentError('dropout p', 'a probability in [0, 1]', p);
    this.p = p;
  }
  forward(x: Tensor): Tensor {
    // Dropout draws from the generator only while it is active, as PyTorch's does.
    return this.training && this.p > 0 ? F.dropout(x, this.p, true) : x;
  }
}

/** Flattens dims startDim..endDim (default: everything after the batch dim). */
export class Flatten extends Module {
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return x.flatten(this.startDim, this.endDim);
  }
}

/** Returns its input: a placeholder where a layer is removed. */
export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}
