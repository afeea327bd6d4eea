/** The GEMM section's settings, job and figures: an n x n matmul in float32 and bfloat16. */
import type { Figure } from '../core/report.js';
import type { Timing } from '../core/jobs.js';

declare module '../core/config.js' {
  interface BenchConfig {
    gemm: { n: number; timing: Timing } | null;
  }
}
declare module '../core/report.js' {
  interface BenchReport {
    gemm: GemmFigures | null;
  }
}

export interface GemmJob extends Timing {
  kind: 'gemm';
  n: number;
  dtype: 'float32' | 'bfloat16';
}

export interface GemmResult {
  flop: number;
  seconds: number;
}

export interface GemmFigures {
  n: number;
  /** GFLOP/s per dtype and side; the peak is `best`. */
  tlcv: Record<string, Figure>;
  peer: Record<string, Figure>;
}
