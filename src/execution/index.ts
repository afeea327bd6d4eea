/** How a model runs: the numeric plan (precision, memory layout), its timed choice, the shared forward recipe. */
export { planExecution, withPlan, describePlan, type ExecutionPlan, type Precision } from './precision.js';
export { tunePlan, tunePlanOn, firstBatchOf, candidatePlans, type TuneRequest, type SampleSource } from './plan-tuning.js';
export { planCachePath, readPlanCache, writePlanCache } from './plan-cache.js';
export { bestSeconds, timeInterleaved, fastestBeyondMargin, performanceClock, trialBatchSize, SWITCH_MARGIN, WARMUP, type Clock } from './timed-choice.js';
export { planForward, prepareInput, forwardStages, setTrainingMode, layOutForPlan, type ForwardRange } from './forward.js';
export { foldedForPlan, sharedFoldedView, releaseFoldedView, type FoldedRange } from './folded.js';
export { cloneState, disposeState } from './state-copy.js';
export { predictImages, ttaProbabilities, type PredictOptions } from './predict.js';
export { observeClassifierInput, forwardWithFeatures, planForwardWithFeatures, type ClassifierInputObserver } from './features.js';
