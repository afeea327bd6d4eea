/** tlcv's side of the memory section: a training run in a fresh tlcv worker, its RSS sampled as it goes. */
import { manualSeed } from '../../tensor/index.js';
import { createModel } from '../../models/index.js';
import { Learner, type Callback } from '../../train/index.js';
import { resolveRunSizes } from '../../runs/index.js';
import { readImageSet } from '../core/data-files.js';
import type { Job, JobHandlers } from '../core/protocol.js';
import type { MemoryJob, MemoryResult } from './types.js';

/**
 * Each epoch's highest RSS, sampled after every step. One sample at each epoch's end swings by
 * 10% with where the allocator happens to be; the epoch's maximum is steady, so growth shows as growth.
 */
class RssSampler implements Callback {
  readonly perEpoch: number[] = [];
  #max = 0;
  beforeEpoch(): void {
    this.#max = 0;
  }
  afterBatch(): void {
    this.#max = Math.max(this.#max, process.memoryUsage().rss);
  }
  afterEpoch(): void {
    this.perEpoch.push(Math.max(this.#max, process.memoryUsage().rss));
  }
}

/** A training run (default plan) in a fresh worker: the peak RSS, and each epoch's highest RSS. */
export async function memoryRun(job: MemoryJob): Promise<MemoryResult> {
  manualSeed(0);
  const [c, h, w] = job.inputSize;
  const model = createModel(job.model, { numClasses: job.numClasses, inChannels: c, inputSize: [h, w] });
  model.config.mean = [0.5];
  model.config.std = [0.5];
  const rss = new RssSampler();
  const train = readImageSet(job);
  const fixed = { epochs: job.epochs, scheduler: 'none', labelSmoothing: 0, weightDecay: 1e-4, seed: 0 } as const;
  let batchSize: number;
  try {
    // 'auto': the batch a run without --batch-size trains at, chosen within the memory budget.
    batchSize = job.batch === 'auto' ? (await resolveRunSizes({ model, train, val: null, options: fixed, ...(job.maxMemory === undefined ? {} : { maxMemory: job.maxMemory }) })).options.batchSize : job.batch;
    await new Learner({ model, train, options: { ...fixed, batchSize }, callbacks: [rss], quiet: true }).fit();
  } finally {
    model.dispose();
  }
  // maxRSS is in kilobytes, as getrusage reports it.
  return { peakRss: process.resourceUsage().maxRSS * 1024, rssPerEpoch: rss.perEpoch, batch: batchSize };
}

export const jobs: JobHandlers = {
  memory: (j: Job) => memoryRun(j as unknown as MemoryJob),
};
