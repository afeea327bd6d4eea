/** Owned copies of state dicts: for the best weights, checkpoint snapshots and plan timing. */
import { keep, noGrad, type Tensor } from '../tensor/index.js';

/**
 * Copies kept past every scope; under noGrad a clone records no graph, so no detach is needed.
 *
 * @example
 * const best = cloneState(model.stateDict()); // ... later: model.loadStateDict(best); disposeState(best);
 */
export function cloneState(sd: Map<string, Tensor>): Map<string, Tensor> {
  return noGrad(() => new Map([...sd].map(([k, v]) => [k, keep(v.clone())])));
}

/** Frees every tensor of a state dict. */
export function disposeState(sd: Map<string, Tensor>): void {
  for (const t of sd.values()) t.dispose();
}
