/** tlcv's side of the GEMM section, run in a tlcv worker: one matmul, timed. */
import { keep, manualSeed, randn, tidy } from '../../tensor/index.js';
import { timeSteps } from '../core/jobs.js';
import type { Job, JobHandlers } from '../core/protocol.js';
import type { GemmJob, GemmResult } from './types.js';

export function gemm(job: GemmJob): GemmResult {
  manualSeed(0);
  const [a, b] = tidy(() => [keep(randn([job.n, job.n]).to(job.dtype)), keep(randn([job.n, job.n]).to(job.dtype))]);
  try {
    const mm = (): void => tidy(() => void a!.matmul(b!));
    mm();
    const { runs, seconds } = timeSteps(mm, job);
    return { flop: 2 * job.n ** 3 * runs, seconds };
  } finally {
    a!.dispose();
    b!.dispose();
  }
}

export const jobs: JobHandlers = {
  gemm: (j: Job) => gemm(j as unknown as GemmJob),
};
