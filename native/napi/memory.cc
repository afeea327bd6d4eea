// The CPU tensor-memory cache (core/cpu_cache.h): installed when the addon loads, with its
// statistics and a release for JS.
#include "core/cpu_cache.h"
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

}  // namespace

void register_memory(Napi::Env env, Napi::Object exports) {
  install_cpu_cache();
  exports.Set("cpuCacheStats", Napi::Function::New(env, stats));
  exports.Set("cpuCacheRelease", Napi::Function::New(env, release));
}

}  // namespace tlcv
