/** The distributed section's settings, jobs and figures: data-parallel training against PyTorch DDP. */
import type { Figure } from '../core/report.js';
import type { Shape3 } from '../core/jobs.js';

declare module '../core/config.js' {
  interface BenchConfig {
    /** Data-parallel training against PyTorch DDP (src/bench/distributed/). */
    distributed?: DistributedBenchConfig | null;
  }
}
declare module '../core/report.js' {
  interface BenchReport {
    distributed?: DistributedFigures | null;
  }
}

/** Marks rank 0's line of results on a worker's stdout (worker.ts, peers/dist_bench.py). */
export const DIST_MARK = '@@tlcv-dist ';

export type DistJob =
  | { kind: 'allreduce'; model: string; layout: 'flat' | 'buckets'; bucketBytes: number; warmup: number; reps: number }
  | { kind: 'train'; model: string; inputSize: Shape3; batch: number; warmup: number; iters: number; loop: 'learner' | 'script'; seed: number };

export type DistJobResult =
  | { kind: 'allreduce'; seconds: number[]; bytes: number }
  | { kind: 'train'; seconds: number; cpuSeconds: number; faults: number; images: number; steps: number; buckets: number };

export interface DistributedBenchConfig {
  /** CPU threads of each worker process (the figure: 1). */
  threadsPerWorker: number;
  /** Repetitions of every run; figures are medians. */
  reps: number;
  allreduce: { model: string; warmup: number; reps: number };
  /** Training workloads: communication weighs most where a model has many weights and little compute per image. */
  train: { model: string; inputSize: Shape3; batch: number; warmup: number; iters: number }[];
}

/** `tlcv bench --only distributed` (src/bench/distributed/run.ts). */
export interface DistributedFigures {
  threadsPerWorker: number;
  allreduce: { model: string; bytes: number; tlcvFlatMs: Figure; torchFlatMs: Figure; tlcvBucketsMs: Figure; torchBucketsMs: Figure };
  train: TrainFigures[];
}

export interface TrainFigures {
  model: string;
  inputSize: Shape3;
  batch: number;
  buckets: number;
  /** images/s over all processes; tlcv through the Learner (DataParallel with 2), tlcv2Script through a bare ddp.backward loop. */
  tlcv1: Figure;
  tlcv2: Figure;
  tlcv2Script: Figure;
  torch1: Figure;
  torch2: Figure;
  /** CPU milliseconds (all of one process's threads) per image that process trained, rank 0. */
  cpuMsPerImage: { tlcv1: Figure; tlcv2: Figure; torch1: Figure; torch2: Figure };
  /** Minor page faults per step, rank 0. */
  faultsPerStep: { tlcv1: Figure; tlcv2: Figure; torch1: Figure; torch2: Figure };
}
