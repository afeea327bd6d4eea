/** The distributed section's entry: its settings and its place in the bench (run.ts measures, report.ts shows). */
import type { Preset } from '../core/config.js';
import type { BenchSection } from '../core/section.js';
import type { Shape3 } from '../core/jobs.js';
import { runDistributedBench } from './run.js';
import { distributedTargets, renderDistributed } from './report.js';
import type { DistributedBenchConfig } from './types.js';

/**
 * The section's settings. Not in the presets (it starts a dozen processes): `tlcv bench
 * --only distributed` asks for it.
 *
 * @example
 * const cfg = { ...presetConfig('full', 2), distributed: distributedBenchConfig('full') };
 */
export function distributedBenchConfig(preset: Preset): DistributedBenchConfig {
  const quick = preset === 'quick';
  return {
    // One thread per process: the "2 processes x 1 thread against 1 x 1" on 2 cores.
    threadsPerWorker: 1,
    reps: quick ? 1 : 3,
    allreduce: { model: 'resnet18', warmup: 1, reps: quick ? 3 : 10 },
    // ResNet-18 at 32 px moves 45 MB of gradients per step for little compute: DDP's hardest
    // case. At 224 px the same 45 MB is a small share of a step, as in fine-tuning on photos.
    train: [
      { model: 'resnet18', inputSize: [3, 32, 32], batch: quick ? 32 : 64, warmup: 2, iters: quick ? 5 : 20 },
      ...(quick ? [] : [{ model: 'resnet18', inputSize: [3, 224, 224] as Shape3, batch: 16, warmup: 1, iters: 4 }]),
    ],
  };
}

export const section: BenchSection<'distributed'> = {
  name: 'distributed',
  describe: 'data-parallel training and allreduce against PyTorch DDP (Gloo)',
  processes: 'own',
  inPresets: false,
  config: distributedBenchConfig,
  // Its repetitions are its own: each one starts a dozen processes.
  withReps: (config, reps) => ({ ...config, reps }),
  empty: null,
  run: async (ctx, config) => void (ctx.report.distributed = await runDistributedBench(config, { python: ctx.workerEnv.python, log: ctx.log })),
  markdown: (r) => (r.distributed ? [renderDistributed(r.distributed)] : []),
  targets: (r) => (r.distributed ? distributedTargets(r.distributed) : []),
};
