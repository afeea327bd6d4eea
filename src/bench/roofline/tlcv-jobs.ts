/**
 * tlcv's side of the roofline section, run in a tlcv worker: throughput steps of
 * src/bench/throughput/tlcv-jobs.ts timed, then profiled op by op (src/tensor/profiler.ts).
 */
import { profileOps, type OpProfile } from '../../tensor/index.js';
import { timeSteps } from '../core/jobs.js';
import type { Job, JobHandlers } from '../core/protocol.js';
import { TLCV_SETTINGS, type ThroughputJob } from '../throughput/types.js';
import { makeRunner } from '../throughput/tlcv-jobs.js';
import type { RooflineJob, RooflineResult, RooflineRun } from './types.js';

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

export const jobs: JobHandlers = {
  roofline: (j: Job) => roofline(j as unknown as RooflineJob),
};
