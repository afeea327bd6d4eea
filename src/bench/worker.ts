/**
 * The tlcv worker process of `tlcv bench`: started by the harness with TLCV_THREADS and
 * OMP_WAIT_POLICY set, it answers jobs on stdin (see protocol.ts). Not meant to be run by hand.
 */
import { serveJobs, type Job } from './protocol.js';
import { gemm, hello, throughput } from './tlcv-kernels.js';
import { makeWeights, memoryRun, precisionRun, transfer } from './tlcv-training.js';
import { optimStep, roofline } from './speed-jobs.js';
import { dataDecode, dataMemory, dataTrain } from './tlcv-data.js';
import type { DataDecodeJob, DataMemoryJob, DataTrainJob, GemmJob, MemoryJob, OptimStepJob, PrecisionJob, RooflineJob, Shape3, ThroughputJob, TransferJob } from './jobs.js';

await serveJobs({
  hello: () => hello(),
  throughput: (j: Job) => throughput(j as unknown as ThroughputJob),
  gemm: (j: Job) => gemm(j as unknown as GemmJob),
  weights: (j: Job) => makeWeights(j as unknown as { path: string; inputSize: Shape3; seed: number }),
  transfer: (j: Job) => transfer(j as unknown as TransferJob),
  precision: (j: Job) => precisionRun(j as unknown as PrecisionJob),
  memory: (j: Job) => memoryRun(j as unknown as MemoryJob),
  optimStep: (j: Job) => optimStep(j as unknown as OptimStepJob),
  roofline: (j: Job) => roofline(j as unknown as RooflineJob),
  'data-decode': (j: Job) => dataDecode(j as unknown as DataDecodeJob),
  'data-memory': (j: Job) => dataMemory(j as unknown as DataMemoryJob),
  'data-train': (j: Job) => dataTrain(j as unknown as DataTrainJob),
});
