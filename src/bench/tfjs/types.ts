/** The TF.js section's settings, job and figures: pure-JS TensorFlow.js training the seed CNN. */
import type { Shape3 } from '../core/jobs.js';

declare module '../core/config.js' {
  interface BenchConfig {
    tfjs: { batch: number; warmup: number; iters: number } | null;
  }
}
declare module '../core/report.js' {
  interface BenchReport {
    tfjs: { batch: number; imagesPerSec: number; version: string; tlcvAutoImagesPerSec: number | null } | null;
  }
}

/** TF.js (pure JS, cpu backend) training step of the seed CNN. */
export interface TfjsJob {
  kind: 'tfjs';
  inputSize: Shape3;
  batch: number;
  warmup: number;
  iters: number;
}
