/** The fit section's settings and figures (bench.json's shape). */
import type { LeaderboardEntry } from '../../runs/fit/ladder.js';

declare module '../core/config.js' {
  interface BenchConfig {
    /** `tlcv fit` against the manual modes and a PyTorch recipe (see fitBenchConfig). */
    fit?: FitBenchConfig | null;
  }
}
declare module '../core/report.js' {
  interface BenchReport {
    /** Issue 22: fit's scenarios. */
    fit?: FitFigures | null;
  }
}

/** One scenario: a training set, its test set, and the model folder the manual modes and fit start from. */
export interface FitScenario {
  /** Its name in the report: `digits, 10 per class`. */
  name: string;
  /** 'digits': the Fashion-MNIST source model to MNIST; 'photos': a generated shape-photo folder with its own source. */
  kind: 'digits' | 'photos';
  /** digits: labelled MNIST digits per class. */
  perClass: number;
}

export interface FitBenchConfig {
  /** The digit scenarios' source domain, and the epochs its seed-cnn trains on it. */
  source: string;
  sourceEpochs: number;
  /** The digits' test set. */
  digitsTest: string;
  scenarios: FitScenario[];
  /** `--budget` values, in seconds. */
  budgets: number[];
  /** The photo scenario's folders: a source folder and a target folder with train and test splits. */
  photos: { sourceClasses: number; sourcePerClass: number; classes: number; trainPerClass: number; testPerClass: number; width: number; height: number };
  /** The PyTorch peer's recipe (peers/fit_recipe.py): PyTorch's transfer-learning tutorial, fine-tuning every layer. */
  recipe: { epochs: number; batch: number; lr: number; momentum: number; stepSize: number; gamma: number };
}

/** A manual run: `tlcv transfer --mode M` (or `tlcv pretrain`) with its defaults, then `tlcv evaluate`. */
export interface ManualRow {
  mode: string;
  accuracy: number;
  seconds: number;
  command: string;
}

export interface FitRow {
  budget: number;
  accuracy: number;
  /** Wall time of the command (start-up and data loading included), and fit's own figure from fit.json. */
  seconds: number;
  fitSeconds: number;
  kept: string;
  leaderboard: LeaderboardEntry[];
  command: string;
}

export interface PeerRecipeRow {
  recipe: string;
  accuracy: number;
  seconds: number;
}

export interface FitScenarioFigures {
  name: string;
  train: string;
  test: string;
  /** The model folder every run of the scenario starts from, and the command that made it. */
  sourceCommand: string;
  manual: ManualRow[];
  fits: FitRow[];
  peer: PeerRecipeRow | null;
}

export interface FitFigures {
  scenarios: FitScenarioFigures[];
}
