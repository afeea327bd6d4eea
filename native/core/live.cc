#include "core/live.h"

namespace tlcv {
namespace {
int64_t g_count = 0;
int64_t g_bytes = 0;
int64_t g_created = 0;
}  // namespace

TensorBox* box_tensor(at::Tensor t) {
  auto* box = new TensorBox();
  box->bytes = t.defined() ? static_cast<int64_t>(t.nbytes()) : 0;
  box->tensor = std::move(t);
  g_count += 1;
  g_bytes += box->bytes;
  g_created += 1;
  return box;
}

int64_t release_box(TensorBox* box) {
  if (box->released) return 0;
  box->released = true;
  box->tensor = at::Tensor();
  g_count -= 1;
  g_bytes -= box->bytes;
  return box->bytes;
}

LiveStats live_stats() { return {g_count, g_bytes, g_created}; }

}  // namespace tlcv
