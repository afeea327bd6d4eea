/**
 * The forward recipe every pass shares (training, validation, evaluation, feature caching,
 * plan timing): the input in the plan's memory layout, the model's stages under the plan's
 * autocast, fp32 logits out. And the modes: a frozen stage stays in eval mode while the rest
 * trains, so its BatchNorm statistics do not drift.
 */
import type { Tensor } from '../tensor/index.js';
import type { FoldedInference } from '../nn/index.js';
import type { ClassifierModel, Stage } from '../models/index.js';
import { withPlan, type ExecutionPlan } from './precision.js';

export interface ForwardRange {
  from?: number;
  to?: number;
  stages?: Stage[];
  /** Run with this folded view's conv + BatchNorm pairs folded and weights pre-cast (see foldedForPlan). */
  folded?: FoldedInference | null;
}

/** The input as the plan lays it out (channels-last strides, or as it is). */
export function prepareInput(x: Tensor, plan: ExecutionPlan): Tensor {
  return plan.channelsLast && x.ndim === 4 ? x.contiguous('channelsLast') : x;
}

/** True when a [N, C, H, W] tensor with C, W > 1 has channels-last strides (C varies fastest). */
function channelsLastStrides(t: Tensor): boolean {
  return t.strides()[1] === 1;
}

/**
 * Puts the model's weights in the plan's memory layout, unless they already are: converting
 * replaces every parameter tensor, which would cut an optimizer off from the model in the
 * middle of a fit (a callback evaluating after each epoch).
 *
 * @example
 * layOutForPlan(model, plan); // then planForward(model, x, plan)
 */
export function layOutForPlan(model: ClassifierModel, plan: ExecutionPlan): void {
  // The weights go where the plan runs: a model loaded or built on the CPU, run on a GPU.
  const first = model.parameters()[0];
  if (first !== undefined && first.device.split(':')[0] !== plan.device.split(':')[0]) model.to({ device: plan.device });
  if (!plan.channelsLast) return;
  const probe = model.parameters().find((p) => p.ndim === 4 && p.size(1) > 1 && p.size(3) > 1);
  if (probe !== undefined && channelsLastStrides(probe)) return;
  model.to({ memoryFormat: 'channelsLast' });
}

/** Stages [from, to) applied in order. */
export function forwardStages(stages: Stage[], from: number, x: Tensor, to = stages.length): Tensor {
  let h = x;
  for (let i = from; i < to; i += 1) h = stages[i]!.forward(h);
  return h;
}

/**
 * Runs stages [from, to) of a model on `x` under the plan and returns float32 output. Without
 * a range or stages, the whole model runs through `model.forward`, which checks the input shape.
 * With a folded view, whatever of it applies (frozen BatchNorms, no weights being trained) runs folded.
 *
 * @example
 * const logits = tidy(() => planForward(model, x, plan));
 * const features = planForward(model, x, plan, { to: frozenStages, folded: frozenView });
 */
export function planForward(model: ClassifierModel, x: Tensor, plan: ExecutionPlan, range: ForwardRange = {}): Tensor {
  const from = range.from ?? 0;
  const input = prepareInput(x, plan);
  const folded = range.folded ?? null;
  const run = (fn: () => Tensor): Tensor => withPlan(plan, () => (folded === null ? fn() : folded.run(fn))).float();
  if (from === 0 && range.to === undefined && range.stages === undefined) return run(() => model.forward(input));
  const stages = range.stages ?? model.stages();
  return run(() => forwardStages(stages, from, input, range.to ?? stages.length));
}

/**
 * Puts the model in training mode with its first `frozenStages` stages in eval mode, or the
 * whole model in eval mode.
 *
 * @example
 * setTrainingMode(model, model.stages(), 4, true); // train the head, keep the body's BatchNorm frozen
 */
export function setTrainingMode(model: ClassifierModel, stages: Stage[], frozenStages: number, training: boolean): void {
  model.train(training);
  if (!training) return;
  // A prefix may name a parameter rather than a module (a ViT's class token): it has no mode.
  const modules = model.namedModules();
  const params = model.namedParameters();
  for (let i = 0; i < frozenStages; i += 1) {
    for (const p of stages[i]!.prefixes) {
      const m = modules.get(p);
      if (m !== undefined) m.eval();
      else if (!params.has(p)) model.getSubmodule(p); // names what is wrong with the prefix
    }
  }
}
