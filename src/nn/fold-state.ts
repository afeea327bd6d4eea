/**
 * Which layers run folded right now: a folded inference view (folded-inference.ts) marks its
 * convolutions (with their folded weights) and the BatchNorms folded into them for the length
 * of one call, and Conv2d/BatchNorm2d consult these marks in forward. The model's own forward
 * code then runs folded without a copy of the model and without touching its state dict.
 * Kept apart from fold.ts so that conv.ts and batchnorm.ts need not import it (a cycle).
 */
import type { Tensor } from '../tensor/index.js';
import type { Module } from './module.js';

export interface ActiveFold {
  weight: Tensor;
  bias: Tensor;
}

const convs = new Map<Module, ActiveFold>();
const norms = new Set<Module>();

/** The folded weight and bias this conv runs with now, or null. */
export function activeFold(conv: Module): ActiveFold | null {
  return convs.size === 0 ? null : (convs.get(conv) ?? null);
}

/** Whether this BatchNorm was folded into the conv before it (it passes its input through). */
export function isFoldedAway(bn: Module): boolean {
  return norms.size !== 0 && norms.has(bn);
}

/** Marks the pairs for the length of fn. */
export function withFolds<T>(pairs: { conv: Module; bn: Module; fold: ActiveFold }[], fn: () => T): T {
  const added = pairs.filter((p) => !convs.has(p.conv));
  for (const p of added) {
    convs.set(p.conv, p.fold);
    norms.add(p.bn);
  }
  try {
    return fn();
  } finally {
    for (const p of added) {
      convs.delete(p.conv);
      norms.delete(p.bn);
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
