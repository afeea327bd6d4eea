// Counts the tensors that JS holds handles to, so tests and users can see leaks:
// native memory is invisible to the JS garbage collector.
#pragma once
#include <ATen/ATen.h>
#include <cstdint>

namespace tlcv {

struct TensorBox {
  at::Tensor tensor;
  int64_t bytes = 0;
  bool released = false;
};

struct LiveStats {
  int64_t count;
  int64_t bytes;
  int64_t created;
};

TensorBox* box_tensor(at::Tensor t);
// Drops the tensor; returns the bytes it accounted for (0 if already released).
int64_t release_box(TensorBox* box);
LiveStats live_stats();

}  // namespace tlcv
