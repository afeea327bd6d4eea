/**
 * Picks the fastest safe numeric setting. PyTorch's defaults (fp32, NCHW) leave CPUs with
 * AVX512-BF16 mostly idle: bf16 autocast keeps fp32 master weights and fp32 loss, so accuracy
 * holds while convolutions and GEMMs run on the bf16 units.
 */
import { autocast, cpuHasFastBf16 } from '../tensor/index.js';

/** `auto` lets tlcv pick (bf16 autocast on CPUs with native bf16); the others pin it. */
export type Precision = 'auto' | 'fp32' | 'bf16';

export interface ExecutionPlan {
  bf16: boolean;
  channelsLast: boolean;
  device: string;
}

/**
 * The static plan for a precision and layout request (what {@link tunePlan} prefers on a tie).
 *
 * @example
 * const plan = planExecution({ precision: 'auto', channelsLast: 'auto', device: 'cpu' });
 */
export function planExecution(o: { precision: Precision; channelsLast: boolean | 'auto'; device: string }): ExecutionPlan {
  const cpu = o.device === 'cpu';
  const bf16 = o.precision === 'bf16' || (o.precision === 'auto' && cpu && cpuHasFastBf16());
  // channels-last pays off with bf16 (oneDNN's blocked kernels) and on CUDA tensor cores.
  const channelsLast = o.channelsLast === 'auto' ? bf16 || !cpu : o.channelsLast;
  return { bf16, channelsLast, device: o.device };
}

/**
 * Runs fn under the plan's autocast, if any.
 *
 * @example
 * const logits = withPlan(plan, () => model.forward(x));
 */
export function withPlan<T>(plan: ExecutionPlan, fn: () => T): T {
  if (!plan.bf16) return fn();
  return autocast(fn, { device: plan.device === 'cpu' ? 'cpu' : 'cuda', dtype: 'bfloat16' });
}

/**
 * @example
 * describePlan(plan); // 'bf16 autocast + channels-last on cpu'
 */
export function describePlan(plan: ExecutionPlan): string {
  return `${plan.bf16 ? 'bf16 autocast' : 'fp32'}${plan.channelsLast ? ' + channels-last' : ''} on ${plan.device}`;
}
