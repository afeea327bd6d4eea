/** Training options, their defaults and validation, shared by the library and the CLI. */
import { TlcvError } from '../errors.js';
import type { Precision } from '../execution/index.js';

export type { Precision };
export const OPTIMIZERS = ['sgd', 'adam', 'adamw'] as const;
export const SCHEDULERS = ['step', 'multistep', 'exponential', 'cosine', 'onecycle', 'plateau', 'none'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];
export type SchedulerName = (typeof SCHEDULERS)[number];

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer: OptimizerName;
  momentum: number;
  weightDecay: number;
  scheduler: SchedulerName;
  /** StepLR: epochs between decays; MultiStep: milestones derive from it. */
  stepSize: number;
  gamma: number;
  warmupEpochs: number;
  labelSmoothing: number;
  seed: number;
  /** Augmentation flag text (`none`, `spec`, `light`, `standard`, or key=value,...). */
  augment: string;
  precision: Precision;
  channelsLast: boolean | 'auto';
  dropLast: boolean;
  /** Stop when validation accuracy has not improved for this many epochs (0 = never). */
  patience: number;
  device: string;
  /** Learning-rate multiplier per earlier layer group in fine-tuning (1 = same LR everywhere). */
  lrDecay: number;
}

export const TRAIN_DEFAULTS: TrainOptions = {
  epochs: 10,
  batchSize: 128,
  lr: 1e-3,
  optimizer: 'adamw',
  momentum: 0.9,
  weightDecay: 1e-4,
  scheduler: 'onecycle',
  stepSize: 5,
  gamma: 0.1,
  warmupEpochs: 0,
  labelSmoothing: 0.1,
  seed: 0,
  augment: 'none',
  precision: 'auto',
  channelsLast: 'auto',
  dropLast: false,
  patience: 0,
  device: 'cpu',
  lrDecay: 1,
};

function check(ok: boolean, flag: string, expected: string, found: unknown): void {
  if (!ok) throw new TlcvError('ARGUMENT', `--${flag}: expected ${expected}, got ${JSON.stringify(found)}`);
}

/**
 * Merges with defaults and validates; errors name the CLI flag.
 *
 * @example
 * const o = resolveTrainOptions({ epochs: 5, lr: 2e-3 }); // AdamW, one-cycle, batch 128, ...
 */
export function resolveTrainOptions(partial: Partial<TrainOptions>): TrainOptions {
  const o: TrainOptions = { ...TRAIN_DEFAULTS, ...Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) };
  check(Number.isInteger(o.epochs) && o.epochs >= 1, 'epochs', 'a positive integer', o.epochs);
  check(Number.isInteger(o.batchSize) && o.batchSize >= 1, 'batch-size', 'a positive integer', o.batchSize);
  check(Number.isFinite(o.lr) && o.lr > 0, 'lr', 'a number > 0', o.lr);
  check(o.momentum >= 0 && o.momentum < 1, 'momentum', 'a number in [0, 1)', o.momentum);
  check(o.weightDecay >= 0, 'weight-decay', 'a number >= 0', o.weightDecay);
  check(Number.isInteger(o.stepSize) && o.stepSize >= 1, 'step-size', 'a positive integer', o.stepSize);
  check(o.gamma > 0 && o.gamma <= 1, 'gamma', 'a number in (0, 1]', o.gamma);
  check(Number.isInteger(o.warmupEpochs) && o.warmupEpochs >= 0 && o.warmupEpochs < o.epochs, 'warmup-epochs', `an integer in [0, epochs)`, o.warmupEpochs);
  check(o.labelSmoothing >= 0 && o.labelSmoothing < 1, 'label-smoothing', 'a number in [0, 1)', o.labelSmoothing);
  check(Number.isInteger(o.seed) && o.seed >= 0, 'seed', 'a non-negative integer', o.seed);
  check(Number.isInteger(o.patience) && o.patience >= 0, 'patience', 'a non-negative integer', o.patience);
  check(o.lrDecay > 0 && o.lrDecay <= 1, 'lr-decay', 'a number in (0, 1]', o.lrDecay);
  return o;
}
