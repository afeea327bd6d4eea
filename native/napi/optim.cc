// Fused optimizer steps (core/fused_optim.h): one call per step for every parameter. Each
// parameter travels as a row of handles and a row of scalars in two typed arrays, so a
// ResNet's 62 parameters cross the boundary in one call with no per-parameter JS objects.
#include "core/fused_optim.h"
#include "napi/common.h"

namespace tlcv {
namespace {

constexpr uint32_t kNoTensor = 0xFFFFFFFFu;  // a row's empty slot (no amsgrad, no momentum)
constexpr size_t kAdamHandles = 5;            // param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq
constexpr size_t kAdamScalars = 9;            // see AdamScalars, in declaration order
constexpr size_t kSgdHandles = 3;             // param, grad, momentum_buffer
constexpr size_t kSgdScalars = 7;             // see SgdScalars, in declaration order

struct Rows {
  const uint32_t* handles;
  const double* scalars;
  size_t n;
};

Rows read_rows(const Napi::CallbackInfo& info, size_t per_handles, size_t per_scalars) {
  auto handles = info[0].As<Napi::Uint32Array>();
  auto scalars = info[1].As<Napi::Float64Array>();
  const size_t n = handles.ElementLength() / per_handles;
  TORCH_CHECK(handles.ElementLength() == n * per_handles && scalars.ElementLength() == n * per_scalars,
              "fused optimizer step: expected ", per_handles, " handles and ", per_scalars, " scalars per parameter");
  return {handles.Data(), scalars.Data(), n};
}

at::Tensor tensor_at(const Napi::CallbackInfo& info, uint32_t h, const char* what) {
  if (h == kNoTensor) return at::Tensor();
  at::Tensor* t = find_tensor(h);
  if (t == nullptr) throw_torch_error(info.Env(), std::string("tensor ") + what + " was used after dispose()", "disposed");
  return *t;
}

// Reads every row into a slot, then runs the fused step over all of them.
template <typename Slot, typename Fill>
Napi::Value step_rows(const Napi::CallbackInfo& info, size_t per_handles, size_t per_scalars, Fill fill, void (*step)(std::vector<Slot>&)) {
  return guarded(info, [&]() -> Napi::Value {
    const Rows r = read_rows(info, per_handles, per_scalars);
    std::vector<Slot> slots(r.n);
    for (size_t i = 0; i < r.n; ++i) fill(slots[i], r.handles + i * per_handles, r.scalars + i * per_scalars);
    step(slots);
    return info.Env().Undefined();
  });
}

Napi::Value adam_step(const Napi::CallbackInfo& info) {
  auto fill = [&](AdamSlot& s, const uint32_t* h, const double* x) {
    s.param = tensor_at(info, h[0], "param");
    s.grad = tensor_at(info, h[1], "grad");
    s.exp_avg = tensor_at(info, h[2], "exp_avg");
    s.exp_avg_sq = tensor_at(info, h[3], "exp_avg_sq");
    s.max_exp_avg_sq = tensor_at(info, h[4], "max_exp_avg_sq");
    s.s = {x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7] != 0, x[8] != 0};
  };
  return step_rows<AdamSlot>(info, kAdamHandles, kAdamScalars, fill, &fused_adam_step);
}

Napi::Value sgd_step(const Napi::CallbackInfo& info) {
  auto fill = [&](SgdSlot& s, const uint32_t* h, const double* x) {
    s.param = tensor_at(info, h[0], "param");
    s.grad = tensor_at(info, h[1], "grad");
    s.momentum_buffer = tensor_at(info, h[2], "momentum_buffer");
    s.s = {x[0], x[1], x[2], x[3], x[4] != 0, x[5] != 0, x[6] != 0};
  };
  return step_rows<SgdSlot>(info, kSgdHandles, kSgdScalars, fill, &fused_sgd_step);
}

Napi::Value supports(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    return Napi::Boolean::New(info.Env(), fused_step_supports(unwrap_tensor(info[0], "param")));
  });
}

}  // namespace

void register_optim(Napi::Env env, Napi::Object exports) {
  exports.Set("fusedAdamStep", Napi::Function::New(env, adam_step));
  exports.Set("fusedSgdStep", Napi::Function::New(env, sgd_step));
  exports.Set("fusedStepSupports", Napi::Function::New(env, supports));
}

}  // namespace tlcv
