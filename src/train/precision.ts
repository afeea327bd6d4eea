/**
 * Picks the fastest safe numeric setting. PyTorch's defaults (fp32, NCHW) leave CPUs with
 * AVX512-BF16 mostly idle: bf16 autocast keeps fp32 master weights and fp32 loss, so accuracy
 * holds while convolutions and GEMMs run on the bf16 units.
 */
import { autocast, cpuHasFastBf16 } from '../tensor/index.js';
import type { Precision } from './options.js';

export interface ExecutionPlan {
  bf16: boolean;
  channelsLast: boolean;
  device: string;
}

export function planExecution(o: { precision: Precision; channelsLast: boolean | 'auto'; device: string }): ExecutionPlan {
  const cpu = o.device === 'cpu';
  const bf16 = o.precision === 'bf16' || (o.precision === 'auto' && cpu && cpuHasFastBf16());
  // channels-last pays off with bf16 (oneDNN's blocked kernels) and on CUDA tensor cores.
  const channelsLast = o.channelsLast === 'auto' ? bf16 || !cpu : o.channelsLast;
  return { bf16, channelsLast, device: o.device };
}

/** Runs fn under the plan's autocast, if any. */
export function withPlan<T>(plan: ExecutionPlan, fn: () => T): T {
  if (!plan.bf16) return fn();
  return autocast(fn, { device: plan.device === 'cpu' ? 'cpu' : 'cuda', dtype: 'bfloat16' });
}

export function describePlan(plan: ExecutionPlan): string {
  return `${plan.bf16 ? 'bf16 autocast' : 'fp32'}${plan.channelsLast ? ' + channels-last' : ''} on ${plan.device}`;
}
