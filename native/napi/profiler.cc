// The op-level profiler (core/profiler.h): start, then stop with the table of ops.
#include "core/profiler.h"
#include "napi/common.h"

namespace tlcv {
namespace {

Napi::Value start(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    profiler_start();
    return info.Env().Undefined();
  });
}

Napi::Value stop(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const Profile p = profiler_stop();
    Napi::Env env = info.Env();
    auto rows = Napi::Array::New(env, p.rows.size());
    for (size_t i = 0; i < p.rows.size(); ++i) {
      auto row = Napi::Object::New(env);
      row.Set("name", p.rows[i].name);
      row.Set("calls", static_cast<double>(p.rows[i].calls));
      row.Set("totalUs", p.rows[i].total_us);
      row.Set("selfUs", p.rows[i].self_us);
      rows.Set(static_cast<uint32_t>(i), row);
    }
    auto out = Napi::Object::New(env);
    out.Set("rows", rows);
    out.Set("rootUs", p.root_us);
    return out;
  });
}

}  // namespace

void register_profiler(Napi::Env env, Napi::Object exports) {
  exports.Set("profilerStart", Napi::Function::New(env, start));
  exports.Set("profilerStop", Napi::Function::New(env, stop));
}

}  // namespace tlcv
