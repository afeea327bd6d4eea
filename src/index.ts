/**
 * tlcv: transfer learning for computer vision in Node.js, on libtorch.
 *
 * @example
 * import { createModel, loadDataset, applyStrategy } from 'tlcv';
 */
export * from './tensor/index.js';
export { TlcvError, TorchError, argumentError, isUserError, type ErrorCode } from './errors.js';
export * from './nn/index.js';
export * from './optim/index.js';
export * from './models/index.js';
export * from './data/index.js';
export * from './distributed/index.js';
export { Augmenter, parseAugment, AUGMENT_PRESETS, type AugmentOptions } from './transforms/index.js';
export * from './metrics/index.js';
export { renderReport, writeReport, encodePng, type ReportData } from './report/index.js';
export { readSafetensors, writeSafetensors, parseSafetensors } from './io/safetensors.js';
export { readPth } from './io/pth.js';
export { writeFileAtomic } from './io/atomic-write.js';
export { applyStrategy, parseUnfreeze, type TransferMode, type StrategyPlan } from './transfer/strategy.js';
export { computePrefixOutputs, CachedBatches } from './transfer/feature-cache.js';
export { saveModelFolder, loadModelFolder, readModelConfig, type ModelFolderConfig } from './transfer/model-folder.js';
export { loadSourceModel } from './transfer/source.js';
export { runDemo, type DemoOptions, type DemoResult } from './transfer/demo.js';
export { fit, fitAsync, validate, forwardStages, type BatchSource, type FitContext, type FitResult, type EpochRecord } from './train/trainer.js';
export { evaluateModel } from './train/evaluate.js';
export { runTraining, splitValidation, loadForModel, type RunInput, type RunSummary } from './train/run.js';
export { TRAIN_DEFAULTS, resolveTrainOptions, type TrainOptions } from './train/options.js';
export { planExecution, withPlan, describePlan, type ExecutionPlan } from './train/precision.js';
export { tunePlan, tunePlanOn, candidatePlans, type TuneRequest } from './train/plan-tuning.js';
export { createProgress, type ProgressSink } from './train/progress.js';
