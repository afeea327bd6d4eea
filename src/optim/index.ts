/** Optimizers (SGD, Adam, AdamW) and LR schedules, numerically PyTorch 1.13's. */
export {
  Optimizer,
  type BaseHyperparams,
  type ParamGroup,
  type ResolvedParamGroup,
  type OptimizerOptions,
  type OptimizerStateDict,
  type OptimizerStateMeta,
  type MomentumKind,
  type JsonValue,
} from './optimizer.js';
export { SGD, type SGDHyperparams, type SGDOptions } from './sgd.js';
export { Adam, AdamW, type AdamHyperparams, type AdamOptions } from './adam.js';
export { EpochScheduler, type LRScheduler, type SchedulerStateDict } from './lr-scheduler.js';
export { StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, LinearLR, SequentialLR, cosineWithWarmup, type CosineWithWarmupOptions } from './schedules.js';
export { OneCycleLR, type OneCycleOptions } from './one-cycle.js';
export { ReduceLROnPlateau, type PlateauOptions } from './plateau.js';
