export { MetricsAccumulator, scoresFromConfusion, expectedCalibrationError } from './classification.js';
export type { EvaluationResult, ClassScores, AveragedScores, WrongPrediction, AccumulatorOptions } from './classification.js';
export { formatEvaluation } from './format.js';
export type { FormatOptions } from './format.js';
