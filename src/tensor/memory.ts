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

/** glibc's malloc, summed over its arenas (all 0, `available` false, under another C library). */
export interface SystemMallocStats {
  available: boolean;
  /** Mapped in malloc's heaps, free or not. */
  heapBytes: number;
  /** In large blocks mapped one by one (returned to the kernel when freed). */
  mmappedBytes: number;
  inUseBytes: number;
  /** Freed and kept in the heaps: part of RSS until trimmed (or reused). */
  freeBytes: number;
}

/**
 * What the C library's allocator holds: its heaps, what is free in them, its mapped blocks.
 * @example
 * const { freeBytes } = systemMallocStats();
 */
export function systemMallocStats(): SystemMallocStats {
  const s = native.mallocStats();
  return { available: s.available, heapBytes: s.heapBytes, mmappedBytes: s.mmappedBytes, inUseBytes: s.inUseBytes, freeBytes: s.freeBytes };
}

/**
 * Gives the process's free memory back to the system: the CPU cache's blocks, then every whole
 * free page in glibc's heaps (malloc_trim), which glibc otherwise keeps for good once its
 * thresholds have grown (native/core/system_malloc.h). Tensors in use are untouched. It costs
 * page faults when the memory is needed again, so call it when the process goes idle, not
 * between steps.
 * @example
 * releaseFreeMemory(); // e.g. after a server has had no request for a while
 */
export function releaseFreeMemory(): void {
  native.cpuCacheRelease();
  native.mallocTrim();
}
