// A caching allocator for CPU tensor memory, installed as libtorch's CPU allocator.
//
// Why: glibc returns large freed blocks to the kernel (mmap above 32 MiB, trimming below),
// so every training or inference step maps its activations afresh and the kernel zeroes them
// page by page. Measured on mobilenet_v2_035 at 224 px, batch 64, bf16: 100,000 page faults
// a step and as much system time as compute, in PyTorch 1.13 and in tlcv alike. CUDA has had
// a caching allocator for years; libtorch's CPU one (c10/mobile) is mobile-only. Steps
// allocate the same sizes every time, so keeping freed blocks for reuse removes the faults.
//
// Blocks of at least kMinCachedBytes are cached, up to a byte limit (TLCV_CPU_CACHE_MB,
// default a quarter of physical memory; 0 turns the cache off) and never more than four times
// the most such memory that was in use at once; past that the blocks freed
// longest ago go back to the system. Smaller blocks go straight to c10's allocator. Every
// block carries its size in a header, so the data pointer is its own context, as oneDNN's
// raw_allocate/raw_deallocate require.
#pragma once
#include <cstdint>

namespace tlcv {

struct CpuCacheStats {
  bool enabled;
  int64_t limit_bytes;
  int64_t cached_bytes;  // freed blocks held for reuse
  int64_t cached_blocks;
  int64_t hits;          // allocations served from the cache
  int64_t misses;        // allocations of cacheable size that went to the system
  int64_t in_use_bytes;  // cacheable blocks in use now
  int64_t peak_in_use_bytes;
};

// Installs the allocator (once; later calls do nothing). Reads TLCV_CPU_CACHE_MB.
void install_cpu_cache();
CpuCacheStats cpu_cache_stats();
// Returns every cached block to the system (what is in use stays).
void cpu_cache_release();

}  // namespace tlcv
