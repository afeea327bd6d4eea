/** tlcv's side of the optimizer section, run in a tlcv worker: AdamW's step, fused against per-op. */
import { createModel } from '../../models/index.js';
import { AdamW } from '../../optim/index.js';
import { manualSeed, randn, tidy } from '../../tensor/index.js';
import { timeSteps } from '../core/jobs.js';
import type { Job, JobHandlers } from '../core/protocol.js';
import type { OptimStepJob, OptimStepResult } from './types.js';

/** AdamW over the model's parameters, gradients fixed, timed without forward or backward. */
export function optimStep(job: OptimStepJob): OptimStepResult {
  if (job.variant !== 'fused' && job.variant !== 'per-op') throw new Error(`unknown tlcv optimizer variant ${job.variant}`);
  manualSeed(0);
  const model = createModel(job.model, { numClasses: job.numClasses, inChannels: job.inputSize[0], inputSize: [job.inputSize[1], job.inputSize[2]] });
  const params = model.parameters();
  tidy(() => {
    for (const p of params) p.grad = randn(p.shape);
  });
  const opt = new AdamW(params, { lr: 1e-3, weightDecay: 1e-4, fused: job.variant === 'fused' });
  try {
    for (let i = 0; i < job.warmup; i += 1) opt.step();
    const { runs, seconds } = timeSteps(() => opt.step(), job);
    return { steps: runs, seconds, params: params.reduce((n, p) => n + p.numel, 0) };
  } finally {
    opt.dispose();
    model.dispose();
  }
}

export const jobs: JobHandlers = {
  optimStep: (j: Job) => optimStep(j as unknown as OptimStepJob),
};
