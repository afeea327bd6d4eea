// Autograd entry points and process-wide runtime switches.
#include <torch/csrc/autograd/autograd.h>

#include "core/runtime.h"
#include "napi/common.h"

namespace tlcv {
namespace {

Napi::Value backward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    at::Tensor& root = unwrap_tensor(info[0], "self");
    std::vector<at::Tensor> grads;
    if (info.Length() > 1 && info[1].IsNumber()) grads.push_back(unwrap_tensor(info[1], "gradient"));
    const bool retain = info.Length() > 2 && info[2].ToBoolean().Value();
    torch::autograd::backward({root}, grads, retain ? c10::optional<bool>(true) : c10::nullopt, false);
    return info.Env().Undefined();
  });
}

Napi::Value grad(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const at::Tensor& g = unwrap_tensor(info[0], "self").grad();
    if (!g.defined()) return info.Env().Null();
    return wrap_tensor(info.Env(), g);
  });
}

// setGrad(t, null) drops the gradient (PyTorch's zero_grad(set_to_none=True)).
Napi::Value set_grad(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    at::Tensor& t = unwrap_tensor(info[0], "self");
    if (info[1].IsNull() || info[1].IsUndefined()) t.mutable_grad() = at::Tensor();
    else t.mutable_grad() = unwrap_tensor(info[1], "grad");
    return info.Env().Undefined();
  });
}

Napi::Value set_requires_grad(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    unwrap_tensor(info[0], "self").set_requires_grad(info[1].ToBoolean().Value());
    return info.Env().Undefined();
  });
}

Napi::Value set_threads(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    set_num_threads(info[0].As<Napi::Number>().Int32Value());
    return info.Env().Undefined();
  });
}

Napi::Value runtime_info(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto out = Napi::Object::New(info.Env());
    out.Set("threads", get_num_threads());
    out.Set("torchVersion", torch_version());
    out.Set("cudaAvailable", cuda_available());
    out.Set("cudaDeviceCount", cuda_device_count());
    out.Set("gradEnabled", is_grad_enabled());
    return out;
  });
}

Napi::Value seed(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    manual_seed(static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value()));
    return info.Env().Undefined();
  });
}

Napi::Value grad_enabled(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    return Napi::Boolean::New(info.Env(), set_grad_enabled(info[0].ToBoolean().Value()));
  });
}

Napi::Value inference_mode(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    if (info[0].ToBoolean().Value()) push_inference_mode();
    else pop_inference_mode();
    return info.Env().Undefined();
  });
}

Napi::Value autocast(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const bool previous = set_autocast(info[0].ToString().Utf8Value(), info[1].ToBoolean().Value(), info[2].As<Napi::Number>().Int32Value());
    return Napi::Boolean::New(info.Env(), previous);
  });
}

}  // namespace

void register_autograd(Napi::Env env, Napi::Object exports) {
  exports.Set("backward", Napi::Function::New(env, backward));
  exports.Set("grad", Napi::Function::New(env, grad));
  exports.Set("setGrad", Napi::Function::New(env, set_grad));
  exports.Set("setRequiresGrad", Napi::Function::New(env, set_requires_grad));
  exports.Set("setNumThreads", Napi::Function::New(env, set_threads));
  exports.Set("runtimeInfo", Napi::Function::New(env, runtime_info));
  exports.Set("manualSeed", Napi::Function::New(env, seed));
  exports.Set("setGradEnabled", Napi::Function::New(env, grad_enabled));
  exports.Set("inferenceMode", Napi::Function::New(env, inference_mode));
  exports.Set("setAutocast", Napi::Function::New(env, autocast));
}

}  // namespace tlcv
