#include "core/cpu_cache.h"

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <list>
#include <map>
#include <mutex>
#include <string>
#include <type_traits>

namespace tlcv {
namespace {

constexpr size_t kMinCachedBytes = 64 << 10;
constexpr size_t kPage = 4096;
// Every block starts with a header holding its capacity, so that the data pointer is its own
// context: oneDNN frees through raw_deallocate, which needs exactly that. 64 bytes keep the
// data at c10's 64-byte alignment.
constexpr size_t kHeader = 64;
// A cached block serves a request up to this much smaller, so batch sizes that differ a
// little (a last, shorter batch) reuse blocks instead of adding new ones.
constexpr double kMaxSlack = 1.25;
// An inference pass frees each activation soon after the next layer used it, so the sizes it
// cycles through add up to several times what is in use at once (measured on
// mobilenet_v2_035 at 224 px: with the cache capped at the peak in use, 42,000 page faults a
// step remained; at four times it, under 20).
constexpr size_t kPeakMultiple = 4;

struct Block {
  void* base;
  size_t size;
  std::multimap<size_t, Block*>::iterator by_size;
  std::list<Block*>::iterator by_age;
};

struct Cache {
  std::mutex mutex;
  std::multimap<size_t, Block*> free_by_size;
  std::list<Block*> free_by_age;  // oldest first
  size_t limit = 0;
  size_t cached = 0;
  // Bytes of cacheable blocks in use, and their high-water mark: the cache holds no more than
  // kPeakMultiple times the most a workload had in use at once, so blocks of ever new sizes
  // (images of every shape) cannot pile up toward the limit.
  size_t in_use = 0;
  size_t peak_in_use = 0;
  int64_t hits = 0;
  int64_t misses = 0;
  bool enabled = false;
};

Cache& cache() {
  static Cache* c = new Cache();  // never destroyed: tensors may be freed during exit
  return *c;
}

void take_out(Cache& c, Block* b) {
  c.free_by_size.erase(b->by_size);
  c.free_by_age.erase(b->by_age);
  c.cached -= b->size;
}

void release_block(Block* b) {
  c10::free_cpu(b->base);
  delete b;
}

size_t& capacity_of(void* base) { return *static_cast<size_t*>(base); }

void free_data(void* data) {
  if (data == nullptr) return;
  void* base = static_cast<char*>(data) - kHeader;
  const size_t size = capacity_of(base);
  if (size < kMinCachedBytes) {
    c10::free_cpu(base);
    return;
  }
  Cache& c = cache();
  auto* b = new Block{base, size, {}, {}};
  std::list<Block*> evicted;
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    c.in_use -= size;
    const size_t limit = std::min(c.limit, kPeakMultiple * c.peak_in_use);
    if (size > limit) {
      evicted.push_back(b);
    } else {
      while (c.cached + size > limit && !c.free_by_age.empty()) {
        Block* old = c.free_by_age.front();
        take_out(c, old);
        evicted.push_back(old);
      }
      b->by_size = c.free_by_size.emplace(size, b);
      b->by_age = c.free_by_age.insert(c.free_by_age.end(), b);
      c.cached += size;
    }
  }
  for (Block* e : evicted) release_block(e);
}

void* allocate_base(size_t n) {
  if (n + kHeader < kMinCachedBytes) {
    void* base = c10::alloc_cpu(n + kHeader);
    capacity_of(base) = n + kHeader;
    return base;
  }
  const size_t size = (n + kHeader + kPage - 1) / kPage * kPage;
  Cache& c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    auto it = c.free_by_size.lower_bound(size);
    if (it != c.free_by_size.end() && static_cast<double>(it->first) <= static_cast<double>(size) * kMaxSlack) {
      Block* b = it->second;
      take_out(c, b);
      c.hits += 1;
      c.in_use += b->size;
      c.peak_in_use = std::max(c.peak_in_use, c.in_use);
      void* base = b->base;
      delete b;
      return base;
    }
    c.misses += 1;
    c.in_use += size;
    c.peak_in_use = std::max(c.peak_in_use, c.in_use);
  }
  void* base = c10::alloc_cpu(size);
  capacity_of(base) = size;
  return base;
}

at::DataPtr allocate_cached(size_t n) {
  const at::Device cpu(at::DeviceType::CPU);
  if (n == 0) return {nullptr, nullptr, &free_data, cpu};
  void* data = static_cast<char*>(allocate_base(n)) + kHeader;
  return {data, data, &free_data, cpu};
}

// libtorch 2.3 made allocate() non-const and added copy_data(); both forms are provided so
// the same source builds against 1.13 and 2.x.
template <typename A, typename = void>
struct HasCopyData : std::false_type {};
template <typename A>
struct HasCopyData<A, std::void_t<decltype(&A::copy_data)>> : std::true_type {};

template <typename Base, bool = HasCopyData<Base>::value>
struct CopyData : Base {};
template <typename Base>
struct CopyData<Base, true> : Base {
  void copy_data(void* dest, const void* src, std::size_t count) const override { std::memcpy(dest, src, count); }
};

struct CachingCpuAllocator final : CopyData<c10::Allocator> {
  at::DataPtr allocate(size_t n) const { return allocate_cached(n); }
  at::DataPtr allocate(size_t n) { return allocate_cached(n); }
  c10::DeleterFnPtr raw_deleter() const override { return &free_data; }
};

size_t default_limit() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page = sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? static_cast<size_t>(pages) * static_cast<size_t>(page) / 4 : size_t(2) << 30;
}

}  // namespace

void install_cpu_cache() {
  static std::once_flag once;
  std::call_once(once, [] {
    Cache& c = cache();
    const char* env = std::getenv("TLCV_CPU_CACHE_MB");
    c.limit = env != nullptr ? static_cast<size_t>(std::strtoull(env, nullptr, 10)) << 20 : default_limit();
    if (c.limit == 0) return;
    static CachingCpuAllocator allocator;
    // Priority 1 outranks c10's default CPU allocator (0), as mobile builds register theirs.
    c10::SetCPUAllocator(&allocator, 1);
    c.enabled = true;
  });
}

CpuCacheStats cpu_cache_stats() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  return {c.enabled, static_cast<int64_t>(c.limit), static_cast<int64_t>(c.cached), static_cast<int64_t>(c.free_by_size.size()), c.hits, c.misses,
          static_cast<int64_t>(c.in_use), static_cast<int64_t>(c.peak_in_use)};
}

void cpu_cache_release() {
  Cache& c = cache();
  std::list<Block*> all;
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    all.swap(c.free_by_age);
    c.free_by_size.clear();
    c.cached = 0;
  }
  for (Block* b : all) release_block(b);
}

}  // namespace tlcv
