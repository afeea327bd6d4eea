/**
 * Batch size and epochs when the user names none, from the data and the memory rather than
 * fixed numbers: a default batch of 128 on a folder of 54 photos is one optimiser step an
 * epoch (a model that answers the same for every image), and at 224 px it is the batch's
 * activations that take the process to 4-5 GiB. Pure functions: the memory a step costs is
 * measured elsewhere (step-memory.ts) and passed in.
 */
import { TRAIN_DEFAULTS } from './options.js';
import type { StepMemory } from './step-memory.js';

/** The largest automatic batch: large data keeps today's default. */
export const AUTO_BATCH_CAP = TRAIN_DEFAULTS.batchSize;
/** The batch is at most this fraction of the training set, so an epoch has at least 8 steps. */
export const BATCH_FRACTION = 1 / 8;
/**
 * Optimiser steps a run without --epochs gets at least. On 36 photos in 3 classes (seed-cnn,
 * 64 px, batch 4; test accuracy on 120 more): 10 steps 69%, 80 steps 77%, 200 steps 84%,
 * 400 steps 84% (see the fit report for the seeds and commands).
 */
export const MIN_AUTO_STEPS = 200;
/** The most epochs the step rule may ask for (a user's large --batch-size on tiny data). */
export const MAX_AUTO_EPOCHS = 100;
/** Fewer steps than this get a warning, whoever chose the sizes. */
export const FEW_STEPS = 20;
/**
 * Peak RSS of a training run = what the process held before it (RSS, plus the decoded images it
 * will cache) + about 64 MiB + 1.7 to 2.0 times what training keeps in tensors (optimizer state
 * and a step's peak): the memory cache keeps freed blocks of the sizes a run cycles through
 * (training, the last short batch, validation) for reuse. Measured on mobilenet_v2 at 224 px
 * (batch 3, 4) and resnet18 at 224 px (batch 8, 108, 128). The rule takes 2 and 128 MiB.
 */
export const MEMORY_SLACK = 2;
export const RUNTIME_MARGIN = 128 * 2 ** 20;
/** --max-memory's default: what a laptop can spare beside a browser and an editor. */
export const DEFAULT_MAX_MEMORY = 2.5 * 2 ** 30;

/**
 * --max-memory's default on a machine with `totalBytes` of RAM: 2.5 GiB, or half the RAM on a
 * smaller machine.
 *
 * @example
 * defaultMaxMemory(16 * 2 ** 30); // 2.5 GiB
 */
export function defaultMaxMemory(totalBytes: number): number {
  return Math.min(DEFAULT_MAX_MEMORY, totalBytes / 2);
}

export interface MemoryPlan {
  /** The budget for the whole process's peak RSS. */
  budgetBytes: number;
  /** What the process holds before training (RSS) plus the decoded images it will cache. */
  baseBytes: number;
  /** The optimizer's state for the trainable parameters. */
  stateBytes: number;
  /** A step's measured cost; null when it was not measured (the batch then follows the data alone). */
  step: StepMemory | null;
}

export interface BatchChoice {
  batchSize: number;
  /** What set it: the data (an eighth of it), the memory budget, or the cap of 128. */
  limitedBy: 'data' | 'memory' | 'cap';
  /** The predicted peak RSS at this batch, when the step was measured. */
  predictedBytes: number | null;
  /** Even a batch of one (per process) is predicted over the budget. */
  overBudget: boolean;
}

/** Peak RSS predicted for a batch (per process) of `b`. */
export function predictedPeak(m: MemoryPlan & { step: StepMemory }, b: number): number {
  return m.baseBytes + RUNTIME_MARGIN + MEMORY_SLACK * (m.stateBytes + m.step.fixedBytes + m.step.perImageBytes * b);
}

const pow2Floor = (x: number): number => 2 ** Math.floor(Math.log2(Math.max(1, x)));

/**
 * The batch for `trainImages` when the user gives none: at most an eighth of the data (a power
 * of two), at most `cap` (default 128), and within the memory budget (per process); a data-parallel run's
 * global batch stays a multiple of the processes.
 *
 * @example
 * chooseBatchSize({ trainImages: 48 }); // { batchSize: 4, limitedBy: 'data', ... }
 * chooseBatchSize({ trainImages: 5000, memory: { budgetBytes: 2.5 * 2 ** 30, baseBytes: 3.3e8, stateBytes: 9e7, step: { perImageBytes: 21e6, fixedBytes: 4.3e7, method: 'peak' } } }); // 40, memory
 */
export function chooseBatchSize(o: { trainImages: number; worldSize?: number; memory?: MemoryPlan | null; cap?: number }): BatchChoice {
  const world = o.worldSize ?? 1;
  const cap = o.cap ?? AUTO_BATCH_CAP;
  const byData = pow2Floor(Math.floor(o.trainImages * BATCH_FRACTION));
  let batch = Math.min(cap, byData);
  let limitedBy: BatchChoice['limitedBy'] = byData < cap ? 'data' : 'cap';
  let overBudget = false;
  const m = o.memory;
  const measured = m !== null && m !== undefined && m.step !== null ? (m as MemoryPlan & { step: StepMemory }) : null;
  if (measured !== null) {
    const s = measured.step;
    const room = (measured.budgetBytes - measured.baseBytes - RUNTIME_MARGIN) / MEMORY_SLACK - measured.stateBytes - s.fixedBytes;
    const perProcess = s.perImageBytes > 0 ? Math.floor(room / s.perImageBytes) : Infinity;
    overBudget = perProcess < 1;
    // Multiples of 8 above 16: the kernels' vector widths, and numbers people recognise.
    const fit = perProcess >= 16 ? Math.floor(perProcess / 8) * 8 : Math.max(1, perProcess);
    if (fit * world < batch) {
      batch = fit * world;
      limitedBy = 'memory';
    }
  }
  batch = Math.max(world, Math.floor(batch / world) * world);
  return { batchSize: batch, limitedBy, predictedBytes: measured === null ? null : predictedPeak(measured, batch / world), overBudget };
}

/** Optimiser steps an epoch takes over `trainImages` at `batchSize`. */
export function stepsPerEpoch(trainImages: number, batchSize: number, dropLast = false): number {
  return dropLast ? Math.floor(trainImages / batchSize) : Math.ceil(trainImages / batchSize);
}

/**
 * Epochs when the user gives none: today's 10, or more where the data is small, so the run
 * takes at least MIN_AUTO_STEPS optimiser steps (never more than MAX_AUTO_EPOCHS epochs).
 *
 * @example
 * chooseEpochs({ trainImages: 32, batchSize: 4 }); // 25 (8 steps an epoch)
 * chooseEpochs({ trainImages: 54000, batchSize: 128 }); // 10
 */
export function chooseEpochs(o: { trainImages: number; batchSize: number; dropLast?: boolean }): number {
  const perEpoch = Math.max(1, stepsPerEpoch(o.trainImages, o.batchSize, o.dropLast));
  return Math.min(MAX_AUTO_EPOCHS, Math.max(TRAIN_DEFAULTS.epochs, Math.ceil(MIN_AUTO_STEPS / perEpoch)));
}

/**
 * One line when a run would take fewer than FEW_STEPS optimiser steps, naming the fix; null
 * otherwise.
 *
 * @example
 * fewStepsWarning({ trainImages: 48, batchSize: 128, epochs: 2 });
 * // 'warning: 2 optimiser steps (2 epochs of 1 batch of up to 128 of 48 images) are too few to learn from: try --epochs 100 or --batch-size 4'
 */
export function fewStepsWarning(o: { trainImages: number; batchSize: number; epochs: number; dropLast?: boolean }): string | null {
  const perEpoch = stepsPerEpoch(o.trainImages, o.batchSize, o.dropLast);
  const steps = perEpoch * o.epochs;
  // No step at all (--drop-last with a batch larger than the data) is the Learner's error to report.
  if (steps >= FEW_STEPS || perEpoch === 0) return null;
  const fixes = [`--epochs ${Math.ceil(MIN_AUTO_STEPS / perEpoch)}`];
  const smaller = pow2Floor(Math.floor(o.trainImages * BATCH_FRACTION));
  if (smaller < o.batchSize) fixes.push(`--batch-size ${smaller}`);
  const batches = `${perEpoch} batch${perEpoch === 1 ? '' : 'es'}`;
  return `warning: ${steps} optimiser step${steps === 1 ? '' : 's'} (${o.epochs} epoch${o.epochs === 1 ? '' : 's'} of ${batches} of up to ${o.batchSize} of ${o.trainImages} images) ${steps === 1 ? 'is' : 'are'} too few to learn from: try ${fixes.length > 0 ? fixes.join(' or ') : 'more training images'}`;
}
