/**
 * The CPU tensor-memory cache (native/core/cpu_cache.h): freed blocks of 64 KiB and more are
 * kept for the next step instead of going back to the kernel, which otherwise maps and zeroes
 * every activation again each step (measured: half the CPU time of a 224 px inference step
 * went to page faults, in PyTorch and in tlcv alike). It holds no more than four times the
 * most such memory in use at once, and at most TLCV_CPU_CACHE_MB (default a quarter of physical
 * memory; 0 turns it off).
 */
import { native } from '../native/binding.js';

export interface CpuMemoryCacheStats {
  enabled: boolean;
  limitBytes: number;
  /** Freed bytes held for reuse (part of the process's RSS). */
  cachedBytes: number;
  cachedBlocks: number;
  /** Allocations served from the cache, and those of cacheable size that were not. */
  hits: number;
  misses: number;
  /** Bytes of cacheable blocks in use now, and the most in use at once: the cache holds at most four times that. */
  inUseBytes: number;
  peakInUseBytes: number;
}

/**
 * What the cache holds and how often it served.
 * @example
 * const { hits, misses, cachedBytes } = cpuMemoryCache();
 */
export function cpuMemoryCache(): CpuMemoryCacheStats {
  return native.cpuCacheStats();
}

/**
 * Gives every cached block back to the system, e.g. between a training run and a long idle
 * period; tensors in use are untouched.
 * @example
 * releaseCpuMemoryCache();
 */
export function releaseCpuMemoryCache(): void {
  native.cpuCacheRelease();
}
