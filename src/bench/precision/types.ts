/** The precision section's settings, job and figures: does tlcv's default plan keep fp32's accuracy? */
import type { Precision } from '../../execution/index.js';
import type { ImageSetFiles } from '../core/jobs.js';

declare module '../core/config.js' {
  interface BenchConfig {
    /** seed-cnn on the digits at fp32 and at the auto plan. */
    precision: { trainImages: number; testImages: number; epochs: number; batch: number } | null;
  }
}
declare module '../core/report.js' {
  interface BenchReport {
    precision: PrecisionFigures | null;
  }
}

export interface PrecisionFigures {
  fp32: number;
  auto: number;
  autoPlan: string;
  deltaPoints: number;
  trainImages: number;
  testImages: number;
  epochs: number;
}

/** A short seed-cnn training at one precision (tlcv only): does bf16 keep fp32's accuracy? */
export interface PrecisionJob {
  kind: 'precision';
  precision: Precision;
  train: ImageSetFiles;
  test: ImageSetFiles;
  epochs: number;
  batch: number;
  seed: number;
}

export interface PrecisionResult {
  testAcc: number;
  seconds: number;
  plan: string;
}
