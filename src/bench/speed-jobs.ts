/**
 * tlcv's side of the issue-16 figures: the optimizer step alone (fused against per-op), and
 * the roofline runs, each a throughput step of src/bench/tlcv-kernels.ts timed and then
 * profiled op by op (src/tensor/profiler.ts).
 */
import { createModel } from '../models/index.js';
import { AdamW } from '../optim/index.js';
import { manualSeed, profileOps, randn, tidy, type OpProfile } from '../tensor/index.js';
import { TLCV_SETTINGS } from './config.js';
import { makeRunner, timeSteps } from './tlcv-kernels.js';
import type { OptimStepJob, OptimStepResult, RooflineJob, RooflineResult, RooflineRun, ThroughputJob } from './jobs.js';

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

/** Op names grouped by what they are, so a profile reads as a breakdown of the step. */
const GROUPS: [string, RegExp][] = [
  ['conv backward', /convolution_backward|ConvolutionBackward/],
  ['conv forward', /convolution|conv2d/],
  ['batch norm backward', /batch_norm_backward|BatchNormBackward/],
  ['batch norm forward', /batch_norm/],
  ['bf16/fp32 casts', /^aten::(copy_|_to_copy|to)$|ToCopyBackward/],
  ['optimizer step', /fused_adam|fused_sgd|_foreach_/],
  ['activations', /relu|threshold|clamp|hardtanh/],
  ['pooling', /pool/],
  ['linear', /addmm|^aten::mm$|linear|AddmmBackward|MmBackward/],
  ['loss', /nll_loss|log_softmax|cross_entropy|NllLoss|LogSoftmax/],
  ['residual adds', /^aten::add_?$|AddBackward/],
  ['allocation', /^aten::(empty|empty_strided|empty_like|zeros|zeros_like|resize_)$/],
];

function grouped(p: OpProfile): RooflineRun['profile'] {
  const groups: Record<string, number> = {};
  for (const r of p.rows) {
    const g = GROUPS.find(([, re]) => re.test(r.name))?.[0] ?? 'other ops';
    groups[g] = (groups[g] ?? 0) + r.selfMs;
  }
  groups['outside ops (JS, boundary)'] = Math.max(0, p.wallMs - p.opsMs);
  const top = p.rows.slice(0, 8).map((r) => ({ name: r.name, selfMs: r.selfMs, calls: r.calls }));
  return { wallMs: p.wallMs, opsMs: p.opsMs, groups, top };
}

/** Training and inference, tlcv's default plan and fp32: images/s, then one profiled step each. */
export function roofline(job: RooflineJob): RooflineResult {
  const runs: RooflineRun[] = [];
  for (const mode of ['train', 'infer'] as const) {
    for (const setting of TLCV_SETTINGS) {
      const t: ThroughputJob = { ...job, ...setting, kind: 'throughput', mode };
      const r = makeRunner(t);
      try {
        const { runs: n, seconds } = timeSteps(r.step, job);
        const profile = grouped(profileOps(r.step));
        runs.push({ mode, setting: setting.name === 'auto' ? 'default' : setting.name, plan: r.describe, imagesPerSec: (n * job.batch) / seconds, profile });
      } finally {
        r.dispose();
      }
    }
  }
  return { runs };
}
