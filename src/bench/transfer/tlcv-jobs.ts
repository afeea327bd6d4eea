/**
 * tlcv's side of the transfer section, run in a tlcv worker, through the library's own path: the
 * Learner with its DataLoader, its timed plan, and for a frozen prefix the feature cache it
 * builds, so the figures are what a user of tlcv gets.
 */
import { manualSeed } from '../../tensor/index.js';
import { createModel, type ClassifierModel } from '../../models/index.js';
import { readSafetensors, writeSafetensors } from '../../io/index.js';
import { describePlan } from '../../execution/index.js';
import { Learner, type Callback, type LearnerView } from '../../train/index.js';
import { readImageSet } from '../core/data-files.js';
import type { Shape3 } from '../core/jobs.js';
import type { Job, JobHandlers } from '../core/protocol.js';
import type { TransferJob, TransferResult } from './types.js';

function build(name: string, inputSize: Shape3, numClasses: number): ClassifierModel {
  return createModel(name, { numClasses, inChannels: inputSize[0], inputSize: [inputSize[1], inputSize[2]] });
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

/** Records each epoch's validation accuracy: the spec's loop scores the test set every epoch. */
class ValAccuracy implements Callback {
  readonly history: number[] = [];
  afterEpoch(learn: LearnerView): void {
    this.history.push(learn.history.at(-1)?.valAcc ?? NaN);
  }
}

/**
 * The spec's loop the tlcv way: the frozen stages' outputs for the train and test images are
 * computed once (inside fit, and timed), then each epoch trains the rest and scores the test set
 * from the cache.
 */
export async function transfer(job: TransferJob): Promise<TransferResult> {
  manualSeed(job.seed);
  const model = build('resnet18', job.inputSize, 10);
  const weights = readSafetensors(job.weights);
  model.loadStateDict(weights);
  for (const t of weights.values()) t.dispose();
  model.config.mean = job.mean;
  model.config.std = job.std;
  const train = readImageSet({ images: job.trainImages, labels: job.trainLabels, inputSize: job.inputSize });
  const test = readImageSet({ images: job.testImages, labels: job.testLabels, inputSize: job.inputSize });
  const scores = new ValAccuracy();
  const options = { epochs: job.epochs, batchSize: job.batch, optimizer: 'sgd', lr: job.lr, momentum: job.momentum, weightDecay: 0, scheduler: 'step', stepSize: job.stepSize, gamma: job.gamma, labelSmoothing: 0, seed: job.seed, precision: job.precision ?? 'auto' } as const;
  const learn = new Learner({ model, train, val: test, options, callbacks: [scores], quiet: true });
  try {
    if (job.trainableLayers === 0) learn.setStrategy('feature-extraction');
    else learn.setStrategy('fine-tune', job.trainableLayers);
    const plan = await learn.choosePlan();
    const t0 = performance.now();
    await learn.fit();
    return { seconds: (performance.now() - t0) / 1000, testAcc: scores.history.at(-1) ?? NaN, history: scores.history, cacheSeconds: learn.cacheSeconds, plan: describePlan(plan) };
  } finally {
    model.dispose();
  }
}

export const jobs: JobHandlers = {
  weights: (j: Job) => makeWeights(j as unknown as { path: string; inputSize: Shape3; seed: number }),
  transfer: (j: Job) => transfer(j as unknown as TransferJob),
};
