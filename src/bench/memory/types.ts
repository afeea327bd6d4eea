/** The memory section's settings, job and figures: peak RSS and RSS growth of a training run. */
import type { Shape3 } from '../core/jobs.js';

declare module '../core/config.js' {
  interface BenchConfig {
    memory: { model: string; inputSize: Shape3; images: number; epochs: number; batch: number } | null;
  }
}
declare module '../core/report.js' {
  interface BenchReport {
    memory: { tlcv: MemorySide; peer: MemorySide; peakRatio: number; model: string; epochs: number } | null;
  }
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
  batch: number;
}

export interface MemoryResult {
  peakRss: number;
  rssPerEpoch: number[];
}

/** RSS growth from epoch 2 (index 1) to the last epoch. */
export function rssGrowth(rss: number[]): number {
  if (rss.length < 2) return NaN;
  return rss[rss.length - 1]! / rss[1]! - 1;
}
