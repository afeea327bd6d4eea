/**
 * Transfer strategies over a model's layer groups (stages). The head is always trained;
 * `unfreeze N` counts the groups before it, as fastai's freeze_to(-N-1) does.
 */
import { TlcvError } from '../errors.js';
import type { ClassifierModel } from '../models/index.js';

export type TransferMode = 'feature-extraction' | 'fine-tune' | 'scratch';

export interface StrategyPlan {
  mode: TransferMode;
  /** Stages [0, frozenStages) are frozen and run in eval mode. */
  frozenStages: number;
  trainableParams: number;
  totalParams: number;
}

export function parseUnfreeze(v: string | number | undefined): number | 'all' {
  if (v === undefined || v === 'all') return 'all';
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isInteger(n) || n < 0) {
    throw new TlcvError('ARGUMENT', `--unfreeze: expected a non-negative integer or "all", got ${JSON.stringify(v)}`);
  }
  return n;
}

export function applyStrategy(model: ClassifierModel, mode: TransferMode, unfreeze: number | 'all' = 'all'): StrategyPlan {
  const stages = model.stages();
  const body = stages.length - model.headStageCount;
  let frozen = 0;
  if (mode === 'feature-extraction') frozen = stages.length - model.featureExtractionStageCount;
  else if (mode === 'fine-tune') frozen = unfreeze === 'all' ? 0 : Math.max(0, body - unfreeze);
  model.unfreeze();
  const prefixes = stages.slice(0, frozen).flatMap((s) => s.prefixes);
  if (prefixes.length > 0) model.freeze(prefixes);
  return {
    mode,
    frozenStages: frozen,
    trainableParams: model.numParameters({ trainableOnly: true }),
    totalParams: model.numParameters(),
  };
}
