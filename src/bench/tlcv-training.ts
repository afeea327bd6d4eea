/**
 * tlcv's side of the training workloads, each through the library's own path: the trainer
 * (`fit`), the DataLoader, and for a frozen prefix the feature cache that `runTraining` uses
 * (computePrefixOutputs + CachedBatches), so the figures are what a user of tlcv gets.
 */
import { manualSeed } from '../tensor/index.js';
import { createModel, type ClassifierModel } from '../models/index.js';
import { DataLoader, type ImageDataset } from '../data/index.js';
import { readSafetensors, writeSafetensors } from '../io/index.js';
import { resolveTrainOptions, type TrainOptions } from '../train/options.js';
import { describePlan, type ExecutionPlan } from '../train/precision.js';
import { tunePlanOn } from '../train/plan-tuning.js';
import { fit, validate } from '../train/trainer.js';
import { createProgress, type ProgressSink } from '../train/progress.js';
import { CachedBatches, computePrefixOutputs } from '../transfer/feature-cache.js';
import { applyStrategy } from '../transfer/strategy.js';
import { readImageSet } from './data-files.js';
import type { MemoryJob, MemoryResult, PrecisionJob, PrecisionResult, Shape3, TransferJob, TransferResult } from './jobs.js';

const quiet = createProgress(process.stderr, true);

function build(name: string, inputSize: Shape3, numClasses: number): ClassifierModel {
  return createModel(name, { numClasses, inChannels: inputSize[0], inputSize: [inputSize[1], inputSize[2]] });
}

function loader(ds: ImageDataset, o: TrainOptions, shuffle: boolean, mean: number[], std: number[]): DataLoader {
  return new DataLoader(ds, { batchSize: o.batchSize, shuffle, seed: o.seed, mean, std });
}

/** The plan a user of runTraining gets: timed on the first batch (src/train/plan-tuning.ts). */
function prepared(model: ClassifierModel, o: TrainOptions, ds: ImageDataset, norm: { mean: number[]; std: number[] }, frozenStages = 0): ExecutionPlan {
  const plan = tunePlanOn(loader(ds, o, false, norm.mean, norm.std), { model, stages: model.stages(), frozenStages, train: true, precision: o.precision, channelsLast: o.channelsLast, device: o.device });
  if (plan.channelsLast) model.to({ memoryFormat: 'channelsLast' });
  return plan;
}

/** Writes a seeded, randomly initialised ResNet-18 for both sides of the transfer workloads. */
export function makeWeights(job: { path: string; inputSize: Shape3; seed: number }): { path: string } {
  manualSeed(job.seed);
  const model = build('resnet18', job.inputSize, 10);
  try {
    writeSafetensors(job.path, model.stateDict());
  } finally {
    model.dispose();
  }
  return { path: job.path };
}

/**
 * The spec's loop the tlcv way: the frozen stages' outputs for the train and test images are
 * computed once, then each epoch trains the rest and scores the test set from the cache.
 */
export function transfer(job: TransferJob): TransferResult {
  manualSeed(job.seed);
  const model = build('resnet18', job.inputSize, 10);
  const weights = readSafetensors(job.weights);
  model.loadStateDict(weights);
  for (const t of weights.values()) t.dispose();
  const strategy = job.trainableLayers === 0 ? applyStrategy(model, 'feature-extraction') : applyStrategy(model, 'fine-tune', job.trainableLayers);
  const frozen = strategy.frozenStages;
  const o = resolveTrainOptions({
    epochs: job.epochs,
    batchSize: job.batch,
    optimizer: 'sgd',
    lr: job.lr,
    momentum: job.momentum,
    weightDecay: 0,
    scheduler: 'step',
    stepSize: job.stepSize,
    gamma: job.gamma,
    labelSmoothing: 0,
    seed: job.seed,
    precision: job.precision ?? 'auto',
  });
  const train = readImageSet({ images: job.trainImages, labels: job.trainLabels, inputSize: job.inputSize });
  const test = readImageSet({ images: job.testImages, labels: job.testLabels, inputSize: job.inputSize });
  const plan = prepared(model, o, train, job, frozen);
  const t0 = performance.now();
  const trainFeatures = computePrefixOutputs(model, frozen, loader(train, o, false, job.mean, job.std), plan);
  const testFeatures = computePrefixOutputs(model, frozen, loader(test, o, false, job.mean, job.std), plan);
  const cacheSeconds = (performance.now() - t0) / 1000;
  const trainBatches = new CachedBatches(trainFeatures, train.labels, { batchSize: o.batchSize, shuffle: true, seed: o.seed, dropLast: false });
  const testBatches = new CachedBatches(testFeatures, test.labels, { batchSize: o.batchSize, shuffle: false, seed: o.seed, dropLast: false });
  const history: number[] = [];
  try {
    fit({ model, train: trainBatches, val: testBatches, options: o, plan, startStage: frozen, frozenStages: frozen, progress: quiet, onEpoch: (r) => history.push(r.valAcc ?? NaN) });
  } finally {
    trainBatches.dispose();
    testBatches.dispose();
    model.dispose();
  }
  return { seconds: (performance.now() - t0) / 1000, testAcc: history[history.length - 1] ?? NaN, history, cacheSeconds, plan: describePlan(plan) };
}

/** A short seed-cnn training at one precision; the test accuracy is what bf16 must keep. */
export function precisionRun(job: PrecisionJob): PrecisionResult {
  manualSeed(job.seed);
  const model = build('seed-cnn', job.train.inputSize, 10);
  const o = resolveTrainOptions({ epochs: job.epochs, batchSize: job.batch, precision: job.precision, seed: job.seed });
  const train = readImageSet(job.train);
  const test = readImageSet(job.test);
  const plan = prepared(model, o, train, model.config);
  const t0 = performance.now();
  try {
    fit({ model, train: loader(train, o, true, model.config.mean, model.config.std), options: o, plan, progress: quiet });
    const seconds = (performance.now() - t0) / 1000;
    const { acc } = validate(model, model.stages(), loader(test, o, false, model.config.mean, model.config.std), plan);
    return { testAcc: acc, seconds, plan: describePlan(plan) };
  } finally {
    model.dispose();
  }
}

/**
 * A training run (default plan) in a fresh worker: the peak RSS, and each epoch's highest RSS
 * sampled after every step. One sample at each epoch's end swings by 10% with where the
 * allocator happens to be; the epoch's maximum is steady, so growth shows as growth.
 */
export function memoryRun(job: MemoryJob): MemoryResult {
  manualSeed(0);
  const model = build(job.model, job.inputSize, job.numClasses);
  const o = resolveTrainOptions({ epochs: job.epochs, batchSize: job.batch, scheduler: 'none', labelSmoothing: 0, weightDecay: 1e-4, seed: 0 });
  const ds = readImageSet(job);
  const plan = prepared(model, o, ds, { mean: [0.5], std: [0.5] });
  const rssPerEpoch: number[] = [];
  let epochMax = 0;
  const sampling: ProgressSink = {
    ...quiet,
    start: () => (epochMax = 0),
    step: () => (epochMax = Math.max(epochMax, process.memoryUsage().rss)),
    end: () => rssPerEpoch.push(Math.max(epochMax, process.memoryUsage().rss)),
  };
  try {
    fit({ model, train: loader(ds, o, true, [0.5], [0.5]), options: o, plan, progress: sampling });
  } finally {
    model.dispose();
  }
  // maxRSS is in kilobytes, as getrusage reports it.
  return { peakRss: process.resourceUsage().maxRSS * 1024, rssPerEpoch };
}
