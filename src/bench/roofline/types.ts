/**
 * The roofline section's settings, job and figures: tlcv's achieved GFLOP/s against the GEMM
 * peaks, and one profiled step each that says where the time goes.
 */
import type { Shape3, Timing } from '../core/jobs.js';
import type { ModelRow } from '../throughput/types.js';

declare module '../core/config.js' {
  interface BenchConfig {
    /** Achieved GFLOP/s against the GEMM peaks, and a profiled step (issue 16). */
    roofline?: ModelRow | null;
  }
}
declare module '../core/report.js' {
  interface BenchReport {
    roofline?: RooflineFigures | null;
  }
}

/** tlcv's achieved throughput and where a step's time goes, for the roofline (tlcv only). */
export interface RooflineJob extends Timing {
  kind: 'roofline';
  model: string;
  inputSize: Shape3;
  numClasses: number;
  batch: number;
  images: string;
  labels: string;
}

export interface RooflineRun {
  mode: 'train' | 'infer';
  /** 'default' (the timed plan; inference folded) or 'fp32'. */
  setting: string;
  plan: string;
  imagesPerSec: number;
  /** One profiled step: milliseconds per group of ops, and outside any op. */
  profile: { wallMs: number; opsMs: number; groups: Record<string, number>; top: { name: string; selfMs: number; calls: number }[] };
}

export interface RooflineResult {
  runs: RooflineRun[];
}

export interface RooflineFigures {
  model: string;
  inputSize: Shape3;
  batch: number;
  forwardFlopsPerImage: number | null;
  /** The GEMM peaks (GFLOP/s) the runs are set against. */
  peaks: { float32: number; bfloat16: number };
  runs: (RooflineRun & { gflops: number })[];
}
