/**
 * A model's state put back after a pass that must leave no trace: measuring a step's memory or
 * time, or sweeping learning rates (lr-find). It keeps copies of the weights and buffers (or
 * only the buffers: BatchNorm's running statistics, which a train-mode forward moves), and the
 * modules' training flags; `restore` copies them back, clears the gradients and frees the copies.
 */
import { noGrad, type Tensor } from '../tensor/index.js';
import type { Module } from '../nn/index.js';

export class ModelSnapshot {
  readonly #model: Module;
  readonly #saved: [Tensor, Tensor][];
  readonly #modes: [Module, boolean][];

  /**
   * @example
   * const snap = new ModelSnapshot(model, { weights: true });
   * try { sweep(model); } finally { snap.restore(); }
   */
  constructor(model: Module, o: { weights: boolean }) {
    this.#model = model;
    const live = o.weights ? [...model.stateDict().values()] : [...model.namedBuffers().values()];
    this.#saved = noGrad(() =>
      live.map((t) => {
        // The detached view is a handle of its own: freed once cloned.
        const view = t.detach();
        const copy = view.clone();
        view.dispose();
        return [t, copy] as [Tensor, Tensor];
      }),
    );
    this.#modes = [...model.namedModules().values()].map((m) => [m, m.training]);
  }

  restore(): void {
    noGrad(() => {
      for (const [live, copy] of this.#saved) live.copy_(copy);
    });
    for (const [, copy] of this.#saved) copy.dispose();
    this.#saved.length = 0;
    for (const p of this.#model.parameters()) p.grad = null;
    for (const [m, on] of this.#modes) m.training = on;
  }
}
