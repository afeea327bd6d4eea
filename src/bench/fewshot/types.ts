/** The few-shot section's settings and figures (bench.json's shape). */

declare module '../core/config.js' {
  interface BenchConfig {
    /** Training-free heads against feature extraction, in the demo's setting (see fewshotBenchConfig). */
    fewshot?: FewshotBenchConfig | null;
  }
}
declare module '../core/report.js' {
  interface BenchReport {
    /** Issue 14: training-free heads against feature extraction. */
    fewshot?: FewshotFigures | null;
  }
}

export interface FewshotBenchConfig {
  /** The source domain the backbone learns (the demo: fashion-mnist:train, 4 epochs). */
  source: string;
  sourceEpochs: number;
  /** The target pool: `k` labels per class are the support set, the rest is the test set. */
  target: string;
  k: number;
  /** One support/test split per seed; figures are means over them. */
  seeds: number[];
  /** Feature extraction as the demo trains it on few labels. */
  featureExtraction: { epochs: number; batch: number; lr: number };
  /** Source data ncm and knn centre on. */
  center: string;
  knnK: number;
}

export interface FewshotRow {
  method: string;
  /** Test accuracy per seed, and their mean. */
  accuracies: number[];
  accuracy: number;
  /** Wall time of the `tlcv transfer` command, mean over the seeds (start-up and data loading included). */
  seconds: number;
  /** The fit alone as the command reports it (plan, features or cached body, epochs or head), mean over the seeds. */
  fitSeconds: number;
  /** The command of the first seed, and the evaluate command that scored it. */
  command: string;
  evaluate: string;
}

export interface FewshotFigures {
  source: string;
  sourceCommand: string;
  target: string;
  k: number;
  seeds: number[];
  rows: FewshotRow[];
  /** tlcv's ncm and the PyTorch peer's on the same features (first seed). */
  peer: { agreement: number; tlcvAccuracy: number; peerAccuracy: number; tlcvSeconds: number; peerSeconds: number } | null;
}
