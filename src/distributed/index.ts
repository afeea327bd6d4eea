/**
 * Data-parallel training on torch.distributed's engine (c10d): process groups over Gloo (or
 * NCCL), DDP's gradient reduction, PyTorch's DistributedSampler, and torchrun's launcher and
 * environment. Imports tensor, nn and data below it; train and cli build on it.
 */
export { initProcessGroup, ProcessGroup, DEFAULT_TIMEOUT_MS, DEFAULT_BUCKET_BYTES, type ProcessGroupOptions } from './process-group.js';
export { DistributedDataParallel, type DdpOptions } from './ddp.js';
export { DistributedSampler, type DistributedSamplerOptions } from './sampler.js';
export { readWorkerEnv, resolveLaunch, freePort, type WorkerEnv, type LaunchFlags, type LaunchPlan } from './env.js';
export { launchWorkers, workerEnvironment, describeWorkerExit, type LaunchOptions, type LaunchResult, type WorkerExit } from './launch.js';
export { explainFailure, type FailedGroup } from './faults.js';
