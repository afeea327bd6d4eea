// Tensor handles: creation from JS memory, reading back, release and live statistics.
#include <sstream>

#include "napi/common.h"

namespace tlcv {

namespace {
// V8 only needs a rough figure to schedule GC; reporting every small tensor costs more than
// the op that made it, so changes are batched until they add up to 4 MiB.
int64_t g_unreported = 0;
constexpr int64_t kReportEvery = 4 << 20;

void report_external(Napi::Env env, int64_t delta) {
  g_unreported += delta;
  if (g_unreported >= kReportEvery || g_unreported <= -kReportEvery) {
    Napi::MemoryManagement::AdjustExternalMemory(env, g_unreported);
    g_unreported = 0;
  }
}
}  // namespace

Napi::Value wrap_tensor(Napi::Env env, at::Tensor t) {
  const int64_t bytes = t.defined() ? static_cast<int64_t>(t.nbytes()) : 0;
  const Handle h = store_tensor(std::move(t));
  report_external(env, bytes);
  napi_value out;
  NAPI_THROW_IF_FAILED(env, napi_create_uint32(env, h, &out), Napi::Value());
  return Napi::Value(env, out);
}

Handle read_handle(const Napi::Value& v, const char* what) {
  uint32_t h = 0;
  if (napi_get_value_uint32(v.Env(), v, &h) != napi_ok) {
    throw Napi::TypeError::New(v.Env(), std::string("expected a tensor handle for ") + what);
  }
  return h;
}

at::Tensor& unwrap_tensor(const Napi::Value& v, const char* what) {
  at::Tensor* t = find_tensor(read_handle(v, what));
  if (t == nullptr) throw_torch_error(v.Env(), std::string("tensor ") + what + " was used after dispose()", "disposed");
  return *t;
}

namespace {

Napi::Value from_buffer(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto view = info[0].As<Napi::TypedArray>();
    auto shape_js = info[1].As<Napi::Array>();
    const auto dtype = static_cast<c10::ScalarType>(info[2].As<Napi::Number>().Int32Value());
    std::vector<int64_t> shape(shape_js.Length());
    for (uint32_t i = 0; i < shape_js.Length(); ++i) shape[i] = shape_js.Get(i).As<Napi::Number>().Int64Value();
    auto* data = static_cast<uint8_t*>(view.ArrayBuffer().Data()) + view.ByteOffset();
    // Copy: JS may reuse or detach the buffer after this call returns.
    at::Tensor t = at::from_blob(data, shape, at::TensorOptions().dtype(dtype)).clone();
    return wrap_tensor(info.Env(), std::move(t));
  });
}

Napi::Value to_buffer(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    at::Tensor t = unwrap_tensor(info[0], "self").detach().to(at::kCPU).contiguous();
    auto buf = Napi::ArrayBuffer::New(info.Env(), t.nbytes());
    if (t.nbytes() > 0) std::memcpy(buf.Data(), t.data_ptr(), t.nbytes());
    return buf;
  });
}

Napi::Value meta(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const at::Tensor& t = unwrap_tensor(info[0], "self");
    Napi::Env env = info.Env();
    auto out = Napi::Object::New(env);
    auto shape = Napi::Array::New(env, t.dim());
    for (int64_t i = 0; i < t.dim(); ++i) shape.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(t.size(i))));
    out.Set("shape", shape);
    out.Set("dtype", Napi::Number::New(env, static_cast<int>(t.scalar_type())));
    out.Set("device", Napi::String::New(env, t.device().str()));
    out.Set("requiresGrad", Napi::Boolean::New(env, t.requires_grad()));
    return out;
  });
}

Napi::Value release(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const int64_t bytes = release_tensor(read_handle(info[0], "self"));
    if (bytes > 0) report_external(info.Env(), -bytes);
    return info.Env().Undefined();
  });
}

Napi::Value is_released(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    return Napi::Boolean::New(info.Env(), find_tensor(read_handle(info[0], "self")) == nullptr);
  });
}

Napi::Value stats(const Napi::CallbackInfo& info) {
  const LiveStats s = live_stats();
  auto out = Napi::Object::New(info.Env());
  out.Set("count", Napi::Number::New(info.Env(), static_cast<double>(s.count)));
  out.Set("bytes", Napi::Number::New(info.Env(), static_cast<double>(s.bytes)));
  out.Set("created", Napi::Number::New(info.Env(), static_cast<double>(s.created)));
  return out;
}

Napi::Value item(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const at::Tensor& t = unwrap_tensor(info[0], "self");
    TORCH_CHECK(t.numel() == 1, "item() needs a tensor with one element, got ", t.numel());
    if (t.scalar_type() == at::kBool) return Napi::Boolean::New(info.Env(), t.item<bool>());
    return Napi::Number::New(info.Env(), t.item<double>());
  });
}

// Version counters of many tensors in one call: every in-place write bumps a tensor's counter,
// so a cache derived from weights (a folded inference view) can tell when they changed.
// Inference tensors keep no counter: -1.
Napi::Value versions(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto handles = info[0].As<Napi::Uint32Array>();
    auto out = Napi::Float64Array::New(info.Env(), handles.ElementLength());
    for (size_t i = 0; i < handles.ElementLength(); ++i) {
      at::Tensor* t = find_tensor(handles[i]);
      if (t == nullptr) throw_torch_error(info.Env(), "tensor was used after dispose()", "disposed");
      out[i] = t->is_inference() ? -1.0 : static_cast<double>(t->_version());
    }
    return out;
  });
}

Napi::Value to_string(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    std::ostringstream os;
    os << unwrap_tensor(info[0], "self");
    return Napi::String::New(info.Env(), os.str());
  });
}

}  // namespace

void register_tensor(Napi::Env env, Napi::Object exports) {
  exports.Set("fromBuffer", Napi::Function::New(env, from_buffer));
  exports.Set("toBuffer", Napi::Function::New(env, to_buffer));
  exports.Set("meta", Napi::Function::New(env, meta));
  exports.Set("release", Napi::Function::New(env, release));
  exports.Set("isReleased", Napi::Function::New(env, is_released));
  exports.Set("liveStats", Napi::Function::New(env, stats));
  exports.Set("item", Napi::Function::New(env, item));
  exports.Set("toString", Napi::Function::New(env, to_string));
  exports.Set("versions", Napi::Function::New(env, versions));
}

}  // namespace tlcv
