// The tensors that JS holds, addressed by small integer handles. A handle is a V8 small
// integer, so making one allocates nothing on the JS heap and needs no finalizer: lifetimes
// are explicit (dispose, tidy), and a stale handle is caught by the slot's generation.
// Counting them lets tests and users see leaks: native memory is invisible to the GC.
#pragma once
#include <ATen/ATen.h>
#include <cstdint>

namespace tlcv {

using Handle = uint32_t;

struct LiveStats {
  int64_t count;
  int64_t bytes;
  int64_t created;
};

Handle store_tensor(at::Tensor t);
// The tensor behind a live handle, or nullptr when it was released (or never existed).
at::Tensor* find_tensor(Handle h);
// Drops the tensor; returns the bytes it accounted for, or -1 if the handle was not live.
int64_t release_tensor(Handle h);
LiveStats live_stats();

}  // namespace tlcv
