#include "napi/common.h"

namespace tlcv {

[[noreturn]] void throw_torch_error(Napi::Env env, const std::string& message, const char* kind) {
  auto* data = env.GetInstanceData<AddonData>();
  if (data != nullptr && !data->torch_error.IsEmpty()) {
    Napi::Object err = data->torch_error.New({Napi::String::New(env, message), Napi::String::New(env, kind)});
    throw Napi::Error(env, err);
  }
  throw Napi::Error::New(env, message);
}

namespace {
Napi::Value set_error_class(const Napi::CallbackInfo& info) {
  auto* data = info.Env().GetInstanceData<AddonData>();
  data->torch_error = Napi::Persistent(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}
}  // namespace

Napi::Object init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData<AddonData>(new AddonData());
  exports.Set("setErrorClass", Napi::Function::New(env, set_error_class));
  register_tensor(env, exports);
  register_ivalue(env, exports);
  register_autograd(env, exports);
  register_optim(env, exports);
  register_profiler(env, exports);
  register_memory(env, exports);
  register_distributed(env, exports);
  return exports;
}

}  // namespace tlcv

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return tlcv::init(env, exports); }

NODE_API_MODULE(tlcv_native, InitAddon)
