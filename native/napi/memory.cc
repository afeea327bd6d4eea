// The CPU tensor-memory cache (core/cpu_cache.h): installed when the addon loads, with its
// statistics and a release for JS; and the C library's allocator (core/system_malloc.h).
#include "core/cpu_cache.h"
#include "core/system_malloc.h"
#include "napi/common.h"

namespace tlcv {
namespace {

Napi::Value stats(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const CpuCacheStats s = cpu_cache_stats();
    auto out = Napi::Object::New(info.Env());
    out.Set("enabled", s.enabled);
    out.Set("limitBytes", static_cast<double>(s.limit_bytes));
    out.Set("cachedBytes", static_cast<double>(s.cached_bytes));
    out.Set("cachedBlocks", static_cast<double>(s.cached_blocks));
    out.Set("hits", static_cast<double>(s.hits));
    out.Set("misses", static_cast<double>(s.misses));
    out.Set("inUseBytes", static_cast<double>(s.in_use_bytes));
    out.Set("peakInUseBytes", static_cast<double>(s.peak_in_use_bytes));
    return out;
  });
}

Napi::Value release(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    cpu_cache_release();
    return info.Env().Undefined();
  });
}

Napi::Value malloc_stats(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const SystemMallocStats s = system_malloc_stats();
    auto out = Napi::Object::New(info.Env());
    out.Set("available", s.available);
    out.Set("heapBytes", static_cast<double>(s.heap_bytes));
    out.Set("mmappedBytes", static_cast<double>(s.mmapped_bytes));
    out.Set("inUseBytes", static_cast<double>(s.in_use_bytes));
    out.Set("freeBytes", static_cast<double>(s.free_bytes));
    out.Set("topFreeBytes", static_cast<double>(s.top_free_bytes));
    return out;
  });
}

Napi::Value malloc_trim(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value { return Napi::Boolean::New(info.Env(), system_malloc_trim()); });
}

}  // namespace

void register_memory(Napi::Env env, Napi::Object exports) {
  install_cpu_cache();
  exports.Set("cpuCacheStats", Napi::Function::New(env, stats));
  exports.Set("cpuCacheRelease", Napi::Function::New(env, release));
  exports.Set("mallocStats", Napi::Function::New(env, malloc_stats));
  exports.Set("mallocTrim", Napi::Function::New(env, malloc_trim));
}

}  // namespace tlcv
