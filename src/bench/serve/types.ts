/** The serve section's settings, jobs and figures (src/bench/serve/section.ts). */
import type { Shape3, Timing } from '../core/jobs.js';

declare module '../core/config.js' {
  interface BenchConfig {
    /** `tlcv serve` against a PyTorch HTTP peer, and onnxruntime-node against libtorch. */
    serve?: ServeBenchConfig | null;
  }
}
declare module '../core/report.js' {
  interface BenchReport {
    serve?: ServeFigures | null;
  }
}

export interface PrepareJob {
  dir: string;
  model: string;
  inputSize: Shape3;
  numClasses: number;
  photos: number;
  seed: number;
}

export interface EnginesJob extends Timing {
  model: string;
  inputSize: Shape3;
  numClasses: number;
  batch: number;
  reps: number;
}

export interface EnginesResult {
  /** images/s per repetition, alternating sides. */
  tlcv: number[];
  onnxruntime: number[];
  onnxruntimeVersion: string;
}

export interface ServeModel {
  model: string;
  inputSize: Shape3;
}

export interface ServeBenchConfig {
  /** Models served over HTTP by both sides. */
  models: ServeModel[];
  /** Concurrent closed-loop clients per measurement. */
  clients: number[];
  warmupSeconds: number;
  seconds: number;
  /** Distinct PNG photos (1.5x the input size) the clients send in turn. */
  photos: number;
  /** tlcv's batching setting for the "batching" rows; the other rows run --max-batch 1. */
  batching: { maxBatch: number; maxWaitMs: number };
  /** onnxruntime-node against tlcv's libtorch, per model and batch. */
  engines: { models: ServeModel[]; batches: number[]; timing: Timing } | null;
}

/** One side at one client count: a LoadResult per repetition. */
export interface ServeRow {
  model: string;
  inputSize: Shape3;
  clients: number;
  side: string;
  imagesPerSec: number[];
  p50Ms: number[];
  p99Ms: number[];
  errors: number;
}

export interface EngineRow {
  model: string;
  inputSize: Shape3;
  batch: number;
  tlcv: number[];
  onnxruntime: number[];
}

export interface ServeFigures {
  rows: ServeRow[];
  engines: EngineRow[];
  onnxruntimeVersion: string | null;
}
