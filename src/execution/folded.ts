/**
 * Folded inference views (src/nn/folded-inference.ts) as an execution plan runs them: the
 * folded and pre-cast weights take the plan's dtype and layout. Passes that run once (an
 * evaluation, a feature cache, a fit's frozen prefix) make their own view and dispose it;
 * repeated inference (predict, serve) shares one view per model, cached until the model's
 * weights change and freed with the model.
 */
import { foldedForInference, type FoldedInference } from '../nn/index.js';
import { tensorsVersion } from '../tensor/index.js';
import type { ClassifierModel, Stage } from '../models/index.js';
import type { ExecutionPlan } from './precision.js';

export interface FoldedRange {
  /** The stages the range indexes (default: model.stages()). */
  stages?: Stage[];
  /** Fold only stages [from, to): a frozen prefix, or the stages a validation runs. Default: the whole model. */
  from?: number;
  to?: number;
}

/**
 * A new folded view of `model` (or of stages [from, to)) in the plan's dtype and layout; the
 * caller disposes it.
 *
 * @example
 * const view = foldedForPlan(model, plan, { to: frozenStages }); // the frozen prefix
 * try { features = planForward(model, x, plan, { to: frozenStages, folded: view }); } finally { view.dispose(); }
 */
export function foldedForPlan(model: ClassifierModel, plan: ExecutionPlan, range: FoldedRange = {}): FoldedInference {
  const whole = range.from === undefined && range.to === undefined;
  const stages = whole ? [] : (range.stages ?? model.stages());
  const prefixes = stages.slice(range.from ?? 0, range.to ?? stages.length).flatMap((s) => s.prefixes);
  return foldedForInference(model, {
    dtype: plan.bf16 ? 'bfloat16' : 'float32',
    memoryFormat: plan.channelsLast ? 'channelsLast' : 'contiguous',
    ...(whole ? {} : { prefixes }),
  });
}

interface Cached {
  plan: string;
  weights: string;
  view: FoldedInference;
}

const cache = new WeakMap<ClassifierModel, Cached>();
const hooked = new WeakSet<ClassifierModel>();

function weightsOf(model: ClassifierModel): string {
  return tensorsVersion([...model.parameters(), ...model.namedBuffers().values()]);
}

/**
 * The model's shared folded view for this plan: made on first use, made again when the plan
 * differs or the weights changed (an optimizer step, a loaded state dict, a new memory
 * format), freed when the model is disposed or by {@link releaseFoldedView}. Do not dispose it.
 *
 * @example
 * const logits = inferenceMode(() => planForward(model, x, plan, { folded: sharedFoldedView(model, plan) }));
 */
export function sharedFoldedView(model: ClassifierModel, plan: ExecutionPlan): FoldedInference {
  const key = `${plan.bf16}|${plan.channelsLast}|${plan.device}`;
  const weights = weightsOf(model);
  const hit = cache.get(model);
  if (hit !== undefined && hit.plan === key && hit.weights === weights) return hit.view;
  releaseFoldedView(model);
  const view = foldedForPlan(model, plan);
  // Read again: making the view may have moved nothing, but the key must be what a later call sees.
  cache.set(model, { plan: key, weights: weightsOf(model), view });
  if (!hooked.has(model)) {
    hooked.add(model);
    model.onDispose(() => releaseFoldedView(model));
  }
  return view;
}

/**
 * Frees the model's shared folded view now (before training changes the weights, say).
 *
 * @example
 * releaseFoldedView(model);
 */
export function releaseFoldedView(model: ClassifierModel): void {
  const hit = cache.get(model);
  if (hit === undefined) return;
  cache.delete(model);
  hit.view.dispose();
}
