// Marshalling helpers shared by the N-API files. Every exported function runs its body
// through guarded() so no C++ exception ever crosses into JS as an abort.
#pragma once
#include <napi.h>
#include <ATen/ATen.h>

#include "core/live.h"

namespace tlcv {

struct AddonData {
  Napi::FunctionReference torch_error;  // the JS TorchError class, handed over at start-up
};

Napi::Value wrap_tensor(Napi::Env env, at::Tensor t);
Handle read_handle(const Napi::Value& v, const char* what);
at::Tensor& unwrap_tensor(const Napi::Value& v, const char* what);
[[noreturn]] void throw_torch_error(Napi::Env env, const std::string& message, const char* kind);

template <typename Fn>
Napi::Value guarded(const Napi::CallbackInfo& info, Fn&& body) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw_torch_error(info.Env(), e.what_without_backtrace(), "torch");
  } catch (const std::exception& e) {
    throw_torch_error(info.Env(), e.what(), "native");
  }
}

void register_tensor(Napi::Env env, Napi::Object exports);
void register_ivalue(Napi::Env env, Napi::Object exports);
void register_autograd(Napi::Env env, Napi::Object exports);
void register_optim(Napi::Env env, Napi::Object exports);
void register_profiler(Napi::Env env, Napi::Object exports);
void register_memory(Napi::Env env, Napi::Object exports);
void register_distributed(Napi::Env env, Napi::Object exports);

}  // namespace tlcv
