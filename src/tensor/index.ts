/** The tensor engine: Tensor, creation, functional ops, scopes and runtime switches. */
import { availableParallelism } from 'node:os';
import { whenNativeLoaded } from '../native/binding.js';

export { Tensor, type TensorLike, type NestedArray } from './tensor.js';
export * from './creation.js';
export * as F from './functional.js';
export * from './runtime.js';
export { tidy, scope, keep, moveToOuter, disposeAll, scopeDepth } from './scope.js';
export { type DType, type MemoryFormat, isFloating } from './dtype.js';
export { invoke, observeOps, opExists, opSchema, type OpObserver } from './invoke.js';
export { cpuMemoryCache, releaseCpuMemoryCache, releaseFreeMemory, systemMallocStats, type CpuMemoryCacheStats, type SystemMallocStats } from './memory.js';
export { tensorsVersion } from './versions.js';
export { profileOps, type OpProfile, type OpProfileRow } from './profiler.js';
export { fusedAdamStep, fusedSgdStep, fusedStepSupports, type FusedAdamRow, type FusedSgdRow } from './fused-optim.js';

// libtorch's own default can be one thread (Debian's build); use every core unless told otherwise.
// Applied when the addon loads, which importing tlcv does not do.
whenNativeLoaded((native) => {
  const wanted = Number(process.env.TLCV_THREADS ?? availableParallelism());
  native.setNumThreads(Number.isInteger(wanted) && wanted > 0 ? wanted : availableParallelism());
});
