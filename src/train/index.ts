/** Training: the Learner, its callbacks, and what a run needs around it. */
export { Learner, type LearnerOptions } from './learner.js';
export { epochSeed } from './loop.js';
export { TrainingInterrupted, type Callback, type CallbackState, type Collective, type LearnerView, type FitResult, type FitEvent, type BatchEvent, type RunState, type EpochRecord } from './callback.js';
export { DataParallel } from './data-parallel.js';
export { forEachBatch, isBatchSource, type BatchSource, type DataInput } from './batches.js';
export { Progress, formatEpoch, type ProgressOptions } from './progress.js';
export { Checkpoint, type CheckpointOptions } from './checkpoint.js';
export { readCheckpoint, readCheckpointPlan, readCheckpointSizes, parseCheckpoint, type CheckpointContents } from './checkpoint-file.js';
export { MetricsLog, readMetricsFile, metricsText } from './metrics-log.js';
export { KeepBest, EarlyStopping } from './best.js';
export { Report, writeRunReport, worstImages, type ReportOptions, type RunReportInput } from './report.js';
export { evaluateModel, evaluateOn, validate, type EvaluateOptions, type EvaluateDataOptions } from './evaluate.js';
export { computePrefixOutputs, CachedBatches, cachedBatchOrder } from './feature-cache.js';
export { TRAIN_DEFAULTS, OPTIMIZERS, SCHEDULERS, resolveTrainOptions, type TrainOptions, type OptimizerName, type SchedulerName, type Precision } from './options.js';
export { createTrainingOptimizer, type TrainingOptimizer } from './optim-factory.js';
export { loaderFor } from './setup.js';
export { fitHeadOn, type FewShotHeadRequest } from './few-shot.js';
export { Dann, type DannEpochStats } from './dann.js';
export { TargetEvaluation } from './target-eval.js';
export { measureStepMemory, type StepMemory } from './step-memory.js';
export { ModelSnapshot } from './model-snapshot.js';
export { ModelEma, DEFAULT_EMA_DECAY } from './ema.js';
export { lrFind, valleySuggestion, type LrFindOptions, type LrFindResult } from './lr-find.js';
export {
  AUTO_BATCH_CAP,
  MIN_AUTO_STEPS,
  FEW_STEPS,
  MEMORY_SLACK,
  RUNTIME_MARGIN,
  DEFAULT_MAX_MEMORY,
  chooseBatchSize,
  chooseEpochs,
  defaultMaxMemory,
  fewStepsWarning,
  predictedPeak,
  stepsPerEpoch,
  type BatchChoice,
  type MemoryPlan,
} from './auto-size.js';
