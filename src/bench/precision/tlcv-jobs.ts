/** tlcv's side of the precision section, run in a tlcv worker: a short seed-cnn training through the Learner. */
import { manualSeed } from '../../tensor/index.js';
import { createModel } from '../../models/index.js';
import { describePlan } from '../../execution/index.js';
import { Learner } from '../../train/index.js';
import { readImageSet } from '../core/data-files.js';
import type { Job, JobHandlers } from '../core/protocol.js';
import type { PrecisionJob, PrecisionResult } from './types.js';

/** A short seed-cnn training at one precision; the test accuracy is what bf16 must keep. */
export async function precisionRun(job: PrecisionJob): Promise<PrecisionResult> {
  manualSeed(job.seed);
  const [c, h, w] = job.train.inputSize;
  const model = createModel('seed-cnn', { numClasses: 10, inChannels: c, inputSize: [h, w] });
  const learn = new Learner({ model, train: readImageSet(job.train), options: { epochs: job.epochs, batchSize: job.batch, precision: job.precision, seed: job.seed }, quiet: true });
  try {
    const plan = await learn.choosePlan();
    const t0 = performance.now();
    await learn.fit();
    const seconds = (performance.now() - t0) / 1000;
    const { accuracy } = await learn.evaluate(readImageSet(job.test));
    return { testAcc: accuracy, seconds, plan: describePlan(plan) };
  } finally {
    model.dispose();
  }
}

export const jobs: JobHandlers = {
  precision: (j: Job) => precisionRun(j as unknown as PrecisionJob),
};
