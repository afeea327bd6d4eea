/**
 * The transfer section's settings, jobs and figures: the spec's loop on the digits with a frozen
 * ResNet-18 body, tlcv (its feature cache) against PyTorch (which recomputes the frozen part).
 */
import type { Precision } from '../../execution/index.js';
import type { Shape3 } from '../core/jobs.js';

declare module '../core/config.js' {
  interface BenchConfig {
    /** Feature extraction (frozen ResNet-18 body) and fine-tuning of its last block. */
    transfer: (TransferConfig & { fineTune: boolean }) | null;
  }
}
declare module '../core/report.js' {
  interface BenchReport {
    transfer: TransferFigures[];
  }
}

export interface TransferConfig {
  trainImages: number;
  testImages: number;
  /** Side length the 28x28 digits are resized to (3 channels, as ResNet-18 takes). */
  size: number;
  epochs: number;
  batch: number;
  lr: number;
  momentum: number;
  stepSize: number;
  gamma: number;
}

/** The spec's loop: ResNet-18 with a frozen prefix, SGD + StepLR, test accuracy every epoch. */
export interface TransferJob {
  kind: 'transfer';
  /** Trainable residual layers before the head: 0 = feature extraction, 1 = fine-tune layer4. */
  trainableLayers: number;
  weights: string;
  trainImages: string;
  trainLabels: string;
  testImages: string;
  testLabels: string;
  /** int32 [epochs, n]: the training order of each epoch (tlcv's, which the peer follows). */
  order: string;
  inputSize: Shape3;
  mean: number[];
  std: number[];
  epochs: number;
  batch: number;
  lr: number;
  momentum: number;
  stepSize: number;
  gamma: number;
  seed: number;
  /** tlcv's precision (default auto). */
  precision?: Precision;
}

export interface TransferResult {
  seconds: number;
  testAcc: number;
  history: number[];
  /** tlcv: seconds spent computing the frozen prefix's outputs once. */
  cacheSeconds?: number;
  plan?: string;
}

export type TransferSide = TransferResult;

export interface TransferFigures {
  workload: string;
  trainImages: number;
  testImages: number;
  epochs: number;
  tlcv: TransferSide;
  peer: TransferSide;
  /** PyTorch seconds / tlcv seconds: how many times less wall time tlcv takes. */
  timeRatio: number;
  /** (tlcv - PyTorch) test accuracy, in points. */
  accuracyDeltaPoints: number;
}
