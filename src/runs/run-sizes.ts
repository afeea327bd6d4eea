/**
 * A run's batch size and epochs where the user named none, decided once the data is loaded and
 * the model built (train/auto-size.ts has the rules): the batch from the data and the memory
 * budget (a step's cost measured on this machine where it can matter), the epochs from the
 * steps they give. Every command that trains goes through here (pretrain, transfer, fit), and
 * every run is told in one line when it would take too few optimiser steps, whoever chose.
 */
import { totalmem } from 'node:os';
import { isFileDataset, storedSize, type Dataset } from '../data/index.js';
import type { ClassifierModel } from '../models/index.js';
import type { ProcessGroup } from '../distributed/index.js';
import { applyStrategy, type TransferMode } from '../transfer/strategy.js';
import { chooseBatchSize, chooseEpochs, stepsPerEpoch, defaultMaxMemory, fewStepsWarning, measureStepMemory, predictedPeak, readCheckpointSizes, resolveTrainOptions, type BatchChoice, type MemoryPlan, type StepMemory, type TrainOptions } from '../train/index.js';

/**
 * Bytes a training step keeps per input value (C×H×W) per image, over every zoo model measured
 * (resnet50 at 32 px: 620; mobilenet_v2 at 224 px: 530): four times that is the pessimistic
 * cost with which digit-sized data skips the measurement when even it fits the budget.
 */
const BOUND_PER_INPUT_VALUE = 4096;

export interface SizeRequest {
  model: ClassifierModel;
  train: Dataset;
  val: Dataset | null;
  /** The user's options: batchSize and epochs are chosen where unset. */
  options: Partial<TrainOptions>;
  /** The layers that will train (a transfer's strategy); default every layer. */
  strategy?: { mode: TransferMode; unfreeze: number | 'all' };
  /** The process's peak RSS budget in bytes (default: 2.5 GiB, at most half the RAM). */
  maxMemory?: number;
  group?: ProcessGroup | null;
  /** A run folder to --resume: its checkpoint's sizes stand for those the user left unset. */
  resumeFrom?: string;
  /** Epochs of a head stage trained before the main fit (counted in the steps). */
  headEpochs?: number;
  /** The largest batch to choose (default 128). */
  cap?: number;
  /** Images a step forwards per batch position (dann: a source and a target image; default 1). */
  inputsPerImage?: number;
  log?: (line: string) => void;
}

export interface SizeDecision {
  options: Partial<TrainOptions> & { batchSize: number; epochs: number };
  batch: BatchChoice | null;
  step: StepMemory | null;
  /** The line that says what was chosen and why (also logged). */
  note: string | null;
  warning: string | null;
}

/** Bytes the decoded-image cache will hold for `ds` (its own budget bounds it). */
function imageCacheBytes(ds: Dataset | null): number {
  if (ds === null || !isFileDataset(ds) || ds.cache === null) return 0;
  let sum = 0;
  for (const id of ds.fileIds) {
    const [h, w] = storedSize(ds.files.heights[id]!, ds.files.widths[id]!, ds.preprocess);
    sum += h * w * ds.preprocess.inputSize[0];
  }
  return Math.min(sum, ds.cache.limitBytes);
}

function optimizerStateBytes(model: ClassifierModel, o: TrainOptions): number {
  const trainable = model.parameters({ trainableOnly: true }).reduce((s, p) => s + p.numel * 4, 0);
  const slots = o.optimizer === 'sgd' ? (o.momentum > 0 ? 1 : 0) : 2;
  return trainable * slots;
}

const gib = (b: number): string => `${(b / 2 ** 30).toFixed(1)} GiB`;
const mb = (b: number): string => `${(b / 1e6).toFixed(b < 1e7 ? 1 : 0)} MB`;

function describeBatch(c: BatchChoice, n: number, budget: number, step: StepMemory | null): string {
  const within = c.predictedBytes === null ? '' : `; a step measured at ${mb(step!.perImageBytes)} an image, about ${gib(c.predictedBytes)} at peak of the ${gib(budget)} --max-memory`;
  if (c.limitedBy === 'memory') return `batch ${c.batchSize} (within --max-memory${within.slice(within.indexOf(';'))})`;
  if (c.limitedBy === 'data') return `batch ${c.batchSize} (at most an eighth of ${n} training images${within})`;
  return `batch ${c.batchSize}${within ? ` (${within.slice(2)})` : ''}`;
}

/** The memory plan, measuring a step only where a pessimistic bound does not already fit. */
function memoryPlan(r: SizeRequest, resolved: TrainOptions, budget: number, dataCap: number): MemoryPlan {
  const [c, h, w] = [r.train.channels, r.train.height, r.train.width];
  const base = process.memoryUsage().rss + imageCacheBytes(r.train) + imageCacheBytes(r.val);
  const state = optimizerStateBytes(r.model, resolved);
  const params = r.model.parameters().reduce((s, p) => s + p.numel * 4, 0);
  const bound: StepMemory = { perImageBytes: c * h * w * BOUND_PER_INPUT_VALUE, fixedBytes: params, method: 'saved' };
  const digitSized = h * w <= 32 * 32;
  if (digitSized && predictedPeak({ budgetBytes: budget, baseBytes: base, stateBytes: state, step: bound }, dataCap) <= budget) return { budgetBytes: budget, baseBytes: base, stateBytes: state, step: null };
  const step = measureStepMemory(r.model, [c, h, w], { device: resolved.device });
  const k = r.inputsPerImage ?? 1;
  return { budgetBytes: budget, baseBytes: base, stateBytes: state, step: step === null ? null : { ...step, perImageBytes: step.perImageBytes * k } };
}

/**
 * Fills in `batchSize` and `epochs` where `r.options` leaves them unset, logs what it chose
 * and why, and warns of a run with too few optimiser steps.
 *
 * @example
 * const { options } = await resolveRunSizes({ model, train, val, options: {}, log: console.error });
 */
export async function resolveRunSizes(r: SizeRequest): Promise<SizeDecision> {
  const given = r.options;
  const world = r.group?.worldSize ?? 1;
  const isMain = r.group?.isMain ?? true;
  const n = r.train.n;
  const fromCheckpoint = r.resumeFrom === undefined ? null : readCheckpointSizes(r.resumeFrom);
  let batchSize = given.batchSize ?? fromCheckpoint?.batchSize;
  let choice: BatchChoice | null = null;
  let step: StepMemory | null = null;
  const budget = r.maxMemory ?? defaultMaxMemory(totalmem());
  if (batchSize === undefined) {
    const resolved = resolveTrainOptions({ ...given, batchSize: 1 });
    if (r.strategy !== undefined) applyStrategy(r.model, r.strategy.mode, r.strategy.unfreeze);
    const cap = r.cap === undefined ? {} : { cap: r.cap };
    const dataCap = chooseBatchSize({ trainImages: n, worldSize: world, ...cap }).batchSize;
    const memory = memoryPlan(r, resolved, budget, dataCap / world);
    step = memory.step;
    choice = chooseBatchSize({ trainImages: n, worldSize: world, memory, ...cap });
    batchSize = choice.batchSize;
  }
  let epochs = given.epochs ?? fromCheckpoint?.epochs ?? chooseEpochs({ trainImages: n, batchSize, dropLast: given.dropLast ?? false });
  if (r.group && world > 1) {
    // Every rank must train with rank 0's sizes: their measurements may differ by a few bytes.
    [batchSize, epochs] = (await r.group.allreduceSums(isMain ? [batchSize, epochs] : [0, 0], 'agreement on the batch size and epochs')) as [number, number];
  }
  const notes: string[] = [];
  if (given.batchSize === undefined && fromCheckpoint === null && choice !== null) notes.push(describeBatch(choice, n, budget, step));
  const perEpoch = stepsPerEpoch(n, batchSize, given.dropLast ?? false);
  if (given.epochs === undefined && fromCheckpoint === null) {
    const steps = perEpoch * epochs;
    notes.push(`${epochs} epochs (${steps} optimiser steps${epochs > 10 ? '; small data gets at least 200' : ''})`);
  }
  const note = notes.length > 0 ? `chose ${notes.join(', ')}; --batch-size and --epochs set them` : null;
  const over = choice?.overBudget ? `warning: --max-memory ${gib(budget)} is less than one image's training step needs here (about ${gib(choice.predictedBytes!)} at batch 1): training at batch 1 anyway` : null;
  const few = fewStepsWarning({ trainImages: n, batchSize, epochs: epochs + (r.headEpochs ?? 0), dropLast: given.dropLast ?? false });
  const warning = [over, few].filter((w) => w !== null).join('\n') || null;
  // No step at all is the Learner's error to report, alone.
  if (isMain && perEpoch > 0) {
    if (note !== null) r.log?.(note);
    if (warning !== null) r.log?.(warning);
  }
  return { options: { ...given, batchSize, epochs }, batch: choice, step, note, warning };
}
