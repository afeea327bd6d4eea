/** Workflows: the one model object, and the runs it makes (pretrain, transfer, heads, adaptation) with their folders. */
export { load, Model, type LoadModelOptions, type TransferOptions, type Evaluation } from './model.js';
export { type PredictInput } from './predict-input.js';
export { openModel, type OpenOptions, type Opened } from './open.js';
export { saveModelFolder, loadModelFolder, readModelConfig, modelPreprocess, isModelFolder, type ModelFolderConfig } from './model-folder.js';
export { pretrainRun, transferRun, headRun, type RunFolder, type TrainRunOptions, type TransferRunOptions, type HeadRunOptions, type RunOutcome } from './train-runs.js';
export { adaptRun, type AdaptRunOptions, type AdaptRunOutcome } from './adapt-run.js';
export { resolveRunSizes, type SizeRequest, type SizeDecision } from './run-sizes.js';
export { adaptModel, ADAPT_METHODS, ADAPT_BATCH_CAP, ADAPT_TRAIN_DEFAULTS, PSEUDO_LABEL_DEFAULTS, type AdaptMethod, type AdaptRequest, type AdaptResult, type AdaptScores, type PseudoLabelSettings, type PseudoLabelRoundSummary } from './adapt.js';
export { splitValidation, loadForModel, loadInMemoryForModel, recordForModel, prepareScratch, prepareTransfer, runPreprocess, alignToModelClasses, type Prepared, type DataChoices } from './data-prep.js';
export { folderRunCallbacks, type FolderRunOptions } from './run-callbacks.js';
export { writeResultFolder } from './result-folder.js';
export { fit, KFOLD_BELOW_PER_CLASS, KFOLDS, HOLDOUT, type FitOptions, type FitOutcome, type FitValidation } from './fit/fit.js';
export { climb, leaderboardMarkdown, type Rung, type RungContext, type RungResult, type LeaderboardEntry, type LadderOptions, type LadderOutcome } from './fit/ladder.js';
export { CostModel, type CostFamily, type FitDataSize } from './fit/cost.js';
export { chooseCandidates, cachedZooWeights, type FitCandidate } from './fit/candidates.js';
export { lrFindRun, lrFindOn, writeLrFindReport, type LrFindRunOptions, type LrFindOutcome } from './lr-find-run.js';
export { validationData, validationLogits } from './fit/validation.js';
