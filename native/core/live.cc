#include "core/live.h"

#include <memory>
#include <vector>

namespace tlcv {
namespace {

// 22 index bits and 9 generation bits keep every handle below 2^31, a V8 small integer.
constexpr uint32_t kIndexBits = 22;
constexpr uint32_t kIndexMask = (1u << kIndexBits) - 1;
constexpr uint32_t kGenerationMask = 0x1FF;
// Slots live in fixed chunks so a reference to one stays valid while others are added.
constexpr uint32_t kChunkBits = 10;
constexpr uint32_t kChunkSize = 1u << kChunkBits;

struct Slot {
  at::Tensor tensor;
  int64_t bytes = 0;
  uint32_t generation = 0;
  bool live = false;
};

std::vector<std::unique_ptr<Slot[]>> g_chunks;
uint32_t g_slots = 0;
std::vector<uint32_t> g_free;
int64_t g_count = 0;
int64_t g_bytes = 0;
int64_t g_created = 0;

Slot& slot(uint32_t index) { return g_chunks[index >> kChunkBits][index & (kChunkSize - 1)]; }

}  // namespace

Handle store_tensor(at::Tensor t) {
  uint32_t index;
  if (!g_free.empty()) {
    index = g_free.back();
    g_free.pop_back();
  } else {
    TORCH_CHECK(g_slots <= kIndexMask, "tlcv: more than ", kIndexMask + 1, " tensors are alive; dispose them or create them inside tidy()");
    if ((g_slots & (kChunkSize - 1)) == 0) g_chunks.emplace_back(new Slot[kChunkSize]);
    index = g_slots++;
  }
  Slot& s = slot(index);
  s.bytes = t.defined() ? static_cast<int64_t>(t.nbytes()) : 0;
  s.tensor = std::move(t);
  s.live = true;
  g_count += 1;
  g_bytes += s.bytes;
  g_created += 1;
  return (s.generation << kIndexBits) | index;
}

at::Tensor* find_tensor(Handle h) {
  const uint32_t index = h & kIndexMask;
  if (index >= g_slots) return nullptr;
  Slot& s = slot(index);
  if (!s.live || s.generation != (h >> kIndexBits)) return nullptr;
  return &s.tensor;
}

int64_t release_tensor(Handle h) {
  if (find_tensor(h) == nullptr) return -1;
  const uint32_t index = h & kIndexMask;
  Slot& s = slot(index);
  s.tensor = at::Tensor();
  s.live = false;
  s.generation = (s.generation + 1) & kGenerationMask;
  g_free.push_back(index);
  g_count -= 1;
  g_bytes -= s.bytes;
  return s.bytes;
}

LiveStats live_stats() { return {g_count, g_bytes, g_created}; }

}  // namespace tlcv
