/**
 * Which layers run folded right now: a folded inference view (folded-inference.ts) marks its
 * convolutions and linear layers (with their folded or pre-cast weights) and the BatchNorms
 * folded away for the length of one call, and Conv2d/Linear/BatchNorm2d consult these marks
 * in forward. The model's own forward code then runs folded without a copy of the model and
 * without touching its state dict. Kept apart from folded-inference.ts, which imports the
 * layers (a cycle otherwise).
 */
import type { Tensor } from '../tensor/index.js';
import type { Module } from './module.js';

/** The weights a layer runs with inside a folded view: folded with a BatchNorm, or pre-cast. */
export interface ActiveWeights {
  weight: Tensor;
  bias: Tensor | null;
}

const layers = new Map<Module, ActiveWeights>();
const norms = new Set<Module>();

/** The weights this conv or linear layer runs with now, or null (its own). */
export function activeWeights(layer: Module): ActiveWeights | null {
  return layers.size === 0 ? null : (layers.get(layer) ?? null);
}

/** Whether this BatchNorm was folded into the conv before it (it passes its input through). */
export function isFoldedAway(bn: Module): boolean {
  return norms.size !== 0 && norms.has(bn);
}

/** Marks the layers (and the BatchNorms folded into them) for the length of fn. */
export function withFolds<T>(entries: { layer: Module; bn: Module | null; weights: ActiveWeights }[], fn: () => T): T {
  const added = entries.filter((e) => !layers.has(e.layer));
  for (const e of added) {
    layers.set(e.layer, e.weights);
    if (e.bn !== null) norms.add(e.bn);
  }
  try {
    return fn();
  } finally {
    for (const e of added) {
      layers.delete(e.layer);
      if (e.bn !== null) norms.delete(e.bn);
    }
  }
}

/** Observes Conv2d and BatchNorm2d forwards (input, output) while set: how folding finds pairs. */
export let forwardTracer: ((m: Module, input: Tensor, output: Tensor) => void) | null = null;

export function traceForwards<T>(tracer: (m: Module, input: Tensor, output: Tensor) => void, fn: () => T): T {
  const previous = forwardTracer;
  forwardTracer = tracer;
  try {
    return fn();
  } finally {
    forwardTracer = previous;
  }
}
