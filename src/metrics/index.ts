export { MetricsAccumulator, scoresFromConfusion, expectedCalibrationError } from './classification.js';
export type { EvaluationResult, ClassScores, AveragedScores, WrongPrediction, AccumulatorOptions } from './classification.js';
export { formatEvaluation } from './format.js';
export type { FormatOptions } from './format.js';
export {
  calibrate,
  fitTemperature,
  softmaxRows,
  maxSoftmax,
  meanNll,
  ncmDistanceScores,
  rejectionThreshold,
  rejectionRate,
  auroc,
  DEFAULT_TARGET_REJECTION,
  TEMPERATURE_RANGE,
  type CalibrationRecord,
  type CalibrateOptions,
  type LabelledLogits,
  type UnknownScore,
} from './calibration.js';
