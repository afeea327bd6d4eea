/** What the few-shot and adaptation sections are configured with and what they report (bench.json's shape). */

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
