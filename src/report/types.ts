/** What a report is made from. Every field but `title` and `runInfo` may be missing. */
import type { EvaluationResult } from '../metrics/classification.js';

/** One epoch of training as the trainer logs it (metrics.jsonl). */
export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  trainAcc: number;
  valLoss?: number;
  valAcc?: number;
  /**
   * Domain adaptation: loss and accuracy on a labelled target-domain test set, measured after
   * the epoch for the record only (never trained on, never used to pick a model).
   */
  targetLoss?: number;
  targetAcc?: number;
  /** The learning rate the epoch used (for per-group rates, the head's). */
  lr: number;
  seconds?: number;
}

/** One confidently wrong image; `png` is PNG bytes or their base64 text (see encodePng). */
export interface WorstImage {
  png: Uint8Array | string;
  label: string;
  predicted: string;
  confidence: number;
  /** The sample's index in its data set, shown so the reader can find it. */
  index?: number;
}

export interface ComparisonTable {
  title: string;
  columns: string[];
  rows: (string | number)[][];
}

/** Accuracy against labels per class, one series per method. */
export interface LearningCurve {
  xLabel: string;
  yLabel?: string;
  points: { x: number; series: Record<string, number> }[];
}

export interface ReportData {
  title: string;
  subtitle?: string;
  /** Shown as a key/value list: model, data, mode, seed, device, precision, time. */
  runInfo: Record<string, string | number>;
  epochs: EpochRecord[];
  /** Learning rate per optimizer step; when present it replaces the per-epoch LR chart. */
  lrTrace?: number[];
  evaluation?: EvaluationResult & { classNames: string[] };
  worstImages?: WorstImage[];
  comparison?: ComparisonTable;
  learningCurve?: LearningCurve;
}
