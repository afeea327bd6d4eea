// The C library's allocator (glibc's malloc) seen from tlcv: what it holds, and a way to hand
// its free pages back to the kernel.
//
// Why: glibc keeps freed memory in its heaps for reuse. It returns only the free space at the
// top of the main heap, past M_TRIM_THRESHOLD, which its dynamic mmap threshold raises to
// 64 MiB after the first large blocks are freed; free pages in the middle of a heap, and in the
// heaps of other threads' arenas, stay in the process's RSS for good. Measured on
// `tlcv serve` with mobilenet_v2 at 224 px under 32 clients: 600 MB of free main-heap memory
// after the load, never given back. malloc_trim(0) releases every whole free page of every
// arena (madvise) and trims each heap's top. When to call it is policy, and lives in TS.
#pragma once
#include <cstdint>

namespace tlcv {

struct SystemMallocStats {
  bool available;          // false where the C library is not glibc: every figure is then 0
  int64_t heap_bytes;      // mapped in malloc's heaps (all arenas), free or not
  int64_t mmapped_bytes;   // in blocks mapped one by one (large allocations)
  int64_t in_use_bytes;    // allocated and not freed, in the heaps
  int64_t free_bytes;      // freed and kept in the heaps
  int64_t top_free_bytes;  // of that, at the top of the main heap (what trimming there alone returns)
};

SystemMallocStats system_malloc_stats();
// Returns free heap pages to the kernel; true if any were. A no-op outside glibc.
bool system_malloc_trim();

}  // namespace tlcv
