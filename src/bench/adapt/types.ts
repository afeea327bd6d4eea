/** The adaptation section's settings and figures (bench.json's shape). */

declare module '../core/config.js' {
  interface BenchConfig {
    /** Unsupervised adaptation to shifted digits (see adaptBenchConfig). */
    adapt?: AdaptBenchConfig | null;
  }
}
declare module '../core/report.js' {
  interface BenchReport {
    /** Issue 14: adaptation scenarios. */
    adapt?: AdaptFigures | null;
  }
}

export interface AdaptBenchConfig {
  /** The source domain, and the epochs each source model trains on it. */
  source: string;
  sourceEpochs: number;
  /** The labelled source images dann and pseudo-label train on (a subset keeps each run short). */
  sourceTrain: string;
  /** Split in halves (seed 1): the unlabelled target and the labelled target test set. */
  targetPool: string;
  /** `@shift=` values, one scenario each. */
  shifts: string[];
  /** The model adabn adapts (seed-cnn has no BatchNorm). */
  batchNormModel: string;
  dann: { epochs: number };
  pseudoLabel: { rounds: number; epochs: number; threshold: number };
}

export interface AdaptCell {
  /** seed-cnn source-only, dann, pseudo-label; then the BatchNorm model's source-only and adabn. */
  method: string;
  model: string;
  accuracy: number;
  seconds: number;
  command: string;
}

export interface AdaptRow {
  shift: string;
  target: string;
  targetTest: string;
  cells: AdaptCell[];
}

export interface AdaptFigures {
  source: string;
  sourceCommands: string[];
  rows: AdaptRow[];
}
