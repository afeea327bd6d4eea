/** The memory section's settings, job and figures: peak RSS and RSS growth of a training run. */
import type { Shape3 } from '../core/jobs.js';

declare module '../core/config.js' {
  interface BenchConfig {
    memory: { model: string; inputSize: Shape3; images: number; epochs: number; batch: number; atBudget?: MemoryAtBudgetConfig | null } | null;
  }
}
declare module '../core/report.js' {
  interface BenchReport {
    memory: { tlcv: MemorySide; peer: MemorySide; peakRatio: number; model: string; epochs: number; atBudget?: MemoryAtBudget | null } | null;
  }
}

/**
 * Issue 22's row: photos at 224 px with no --batch-size, where tlcv chooses the batch that keeps
 * the process within --max-memory; PyTorch trains at the same batch.
 */
export interface MemoryAtBudgetConfig {
  model: string;
  inputSize: Shape3;
  images: number;
  /** The --max-memory the batch is chosen under, in bytes (tlcv's default: 2.5 GiB). */
  maxMemory: number;
}

export interface MemoryAtBudget {
  model: string;
  maxMemory: number;
  /** The batch tlcv chose (both sides train at it). */
  batch: number;
  tlcvPeak: number;
  peerPeak: number;
  peakRatio: number;
}

export interface MemorySide {
  peakRss: number;
  /** Each epoch's highest RSS, sampled after every step. */
  rssPerEpoch: number[];
  /** RSS growth from epoch 2 to the last epoch, as a fraction. */
  growth: number;
}

/** A training run in a fresh worker, for peak RSS and RSS growth across epochs. */
export interface MemoryJob {
  kind: 'memory';
  model: string;
  inputSize: Shape3;
  numClasses: number;
  images: string;
  labels: string;
  epochs: number;
  /** 'auto': tlcv chooses it as a run without --batch-size does, within maxMemory (tlcv's side only). */
  batch: number | 'auto';
  maxMemory?: number;
}

export interface MemoryResult {
  peakRss: number;
  rssPerEpoch: number[];
  /** The batch the run trained at. */
  batch: number;
}

/** RSS growth from epoch 2 (index 1) to the last epoch. */
export function rssGrowth(rss: number[]): number {
  if (rss.length < 2) return NaN;
  return rss[rss.length - 1]! / rss[1]! - 1;
}
