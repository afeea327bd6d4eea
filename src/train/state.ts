/** Small helpers for owning copies of state dicts and per-epoch seeds. */
import { keep, noGrad, type Tensor } from '../tensor/index.js';

export function cloneState(sd: Map<string, Tensor>): Map<string, Tensor> {
  return noGrad(() => new Map([...sd].map(([k, v]) => [k, keep(v.detach().clone())])));
}

export function disposeState(sd: Map<string, Tensor>): void {
  for (const t of sd.values()) t.dispose();
}

/** A seed per epoch, so an epoch's randomness does not depend on how the run got there. */
export function epochSeed(seed: number, epoch: number): number {
  return (seed * 1_000_003 + epoch * 7919) % 2 ** 31;
}
