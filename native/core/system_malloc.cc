#include "core/system_malloc.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace tlcv {

SystemMallocStats system_malloc_stats() {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  // mallinfo2 sums every arena; its fields are size_t (mallinfo's ints wrap past 2 GiB).
  const struct mallinfo2 m = mallinfo2();
  return {true, static_cast<int64_t>(m.arena), static_cast<int64_t>(m.hblkhd), static_cast<int64_t>(m.uordblks), static_cast<int64_t>(m.fordblks),
          static_cast<int64_t>(m.keepcost)};
#elif defined(__GLIBC__)
  const struct mallinfo m = mallinfo();
  return {true, static_cast<unsigned>(m.arena), static_cast<unsigned>(m.hblkhd), static_cast<unsigned>(m.uordblks), static_cast<unsigned>(m.fordblks),
          static_cast<unsigned>(m.keepcost)};
#else
  return {false, 0, 0, 0, 0, 0};
#endif
}

bool system_malloc_trim() {
#if defined(__GLIBC__)
  return malloc_trim(0) != 0;
#else
  return false;
#endif
}

}  // namespace tlcv
