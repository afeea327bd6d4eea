// JS values <-> IValues for boxed dispatcher calls, guided by each op's schema.
#include <cmath>
#include <sstream>

#include "core/ops.h"
#include "napi/common.h"

namespace tlcv {
namespace {

std::string describe(const c10::FunctionSchema& schema, const c10::Argument& arg) {
  return "argument '" + arg.name() + "' of " + schema.name() + "." + schema.overload_name();
}

// Names an argument for error messages; the string is built only when an error is thrown,
// since building it on every call cost about 0.3 us per op.
struct Where {
  const c10::FunctionSchema& schema;
  const c10::Argument& arg;
  std::string str() const { return describe(schema, arg); }
};

// TS checks that tensor arguments are tensors (src/tensor/invoke.ts), so a number here is a handle.
at::Tensor& tensor_arg(const Napi::Value& v, const Where& w) {
  uint32_t h = 0;
  if (napi_get_value_uint32(v.Env(), v, &h) != napi_ok) throw Napi::TypeError::New(v.Env(), "expected a tensor for " + w.str());
  at::Tensor* t = find_tensor(h);
  if (t == nullptr) unwrap_tensor(v, w.str().c_str());
  return *t;
}

int64_t to_int(const Napi::Value& v, const Where& w) {
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value() ? 1 : 0;
  if (!v.IsNumber()) throw Napi::TypeError::New(v.Env(), "expected an integer for " + w.str());
  const double d = v.As<Napi::Number>().DoubleValue();
  if (d != static_cast<double>(static_cast<int64_t>(d))) {
    throw Napi::TypeError::New(v.Env(), "expected an integer for " + w.str() + " but received " + std::to_string(d));
  }
  return static_cast<int64_t>(d);
}

// A whole JS number is an int Scalar, as a Python int would be; it keeps integer tensors integer.
c10::Scalar number_scalar(double d) {
  if (std::isfinite(d) && std::fabs(d) < 9.0e18 && d == std::trunc(d)) return c10::Scalar(static_cast<int64_t>(d));
  return c10::Scalar(d);
}

c10::IValue to_ivalue(const Napi::Value& v, const c10::TypePtr& type, const Where& w);

c10::IValue list_to_ivalue(const Napi::Value& v, const c10::TypePtr& elem, const Where& w) {
  const auto kind = elem->kind();
  if (!v.IsArray()) {
    // int[2] accepts a single int, as in Python (kernel_size=3).
    if (v.IsNumber() && (kind == c10::TypeKind::IntType || kind == c10::TypeKind::FloatType)) {
      const size_t n = w.arg.N().has_value() ? static_cast<size_t>(*w.arg.N()) : 1;
      if (kind == c10::TypeKind::IntType) return std::vector<int64_t>(n, to_int(v, w));
      return std::vector<double>(n, v.As<Napi::Number>().DoubleValue());
    }
    throw Napi::TypeError::New(v.Env(), "expected an array for " + w.str());
  }
  auto arr = v.As<Napi::Array>();
  const uint32_t n = arr.Length();
  if (kind == c10::TypeKind::IntType) {
    std::vector<int64_t> out(n);
    for (uint32_t i = 0; i < n; ++i) out[i] = to_int(arr.Get(i), w);
    return out;
  }
  if (kind == c10::TypeKind::FloatType) {
    std::vector<double> out(n);
    for (uint32_t i = 0; i < n; ++i) out[i] = arr.Get(i).As<Napi::Number>().DoubleValue();
    return out;
  }
  if (kind == c10::TypeKind::BoolType) {
    c10::List<bool> out;
    for (uint32_t i = 0; i < n; ++i) out.push_back(arr.Get(i).ToBoolean().Value());
    return out;
  }
  if (kind == c10::TypeKind::TensorType) {
    c10::List<at::Tensor> out;
    for (uint32_t i = 0; i < n; ++i) out.push_back(tensor_arg(arr.Get(i), w));
    return out;
  }
  if (kind == c10::TypeKind::OptionalType) {
    c10::List<c10::optional<at::Tensor>> out;
    for (uint32_t i = 0; i < n; ++i) {
      const Napi::Value e = arr.Get(i);
      if (e.IsNull() || e.IsUndefined()) out.push_back(c10::nullopt);
      else out.push_back(tensor_arg(e, w));
    }
    return out;
  }
  throw Napi::TypeError::New(v.Env(), "unsupported list type " + elem->str() + " for " + w.str());
}

c10::IValue to_ivalue(const Napi::Value& v, const c10::TypePtr& type, const Where& w) {
  switch (type->kind()) {
    case c10::TypeKind::OptionalType:
      if (v.IsNull() || v.IsUndefined()) return c10::IValue();
      return to_ivalue(v, type->expectRef<c10::OptionalType>().getElementType(), w);
    case c10::TypeKind::TensorType:
      return tensor_arg(v, w);
    case c10::TypeKind::IntType:
      return to_int(v, w);
    case c10::TypeKind::FloatType:
      return v.As<Napi::Number>().DoubleValue();
    case c10::TypeKind::BoolType:
      return v.ToBoolean().Value();
    case c10::TypeKind::NumberType: {
      if (v.IsBoolean()) return c10::Scalar(v.As<Napi::Boolean>().Value());
      return number_scalar(v.As<Napi::Number>().DoubleValue());
    }
    case c10::TypeKind::StringType:
      return v.ToString().Utf8Value();
    case c10::TypeKind::DeviceObjType:
      return c10::Device(v.ToString().Utf8Value());
    case c10::TypeKind::ListType:
      return list_to_ivalue(v, type->expectRef<c10::ListType>().getElementType(), w);
    default:
      // ScalarType, Layout and MemoryFormat travel as ints.
      if (v.IsNumber()) return to_int(v, w);
      throw Napi::TypeError::New(v.Env(), "unsupported type " + type->str() + " for " + w.str());
  }
}

Napi::Value from_ivalue(Napi::Env env, const c10::IValue& v) {
  if (v.isTensor()) {
    const at::Tensor& t = v.toTensor();
    if (!t.defined()) return env.Null();
    return wrap_tensor(env, t);
  }
  if (v.isNone()) return env.Null();
  if (v.isInt()) return Napi::Number::New(env, static_cast<double>(v.toInt()));
  if (v.isDouble()) return Napi::Number::New(env, v.toDouble());
  if (v.isBool()) return Napi::Boolean::New(env, v.toBool());
  if (v.isString()) return Napi::String::New(env, v.toStringRef());
  if (v.isTuple() || v.isList()) {
    const auto elems = v.isTuple() ? v.toTupleRef().elements().vec() : v.toListRef().vec();
    auto arr = Napi::Array::New(env, elems.size());
    for (size_t i = 0; i < elems.size(); ++i) arr.Set(static_cast<uint32_t>(i), from_ivalue(env, elems[i]));
    return arr;
  }
  if (v.isScalar()) return Napi::Number::New(env, v.toScalar().toDouble());
  throw Napi::TypeError::New(env, "unsupported return type " + v.tagKind());
}

Napi::Value resolve(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const int id = resolve_op(info[0].ToString().Utf8Value(), info[1].ToString().Utf8Value());
    return Napi::Number::New(info.Env(), id);
  });
}

Napi::Value schema_string(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    std::ostringstream os;
    os << op_schema(info[0].As<Napi::Number>().Int32Value());
    return Napi::String::New(info.Env(), os.str());
  });
}

Napi::Value overloads(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const auto names = op_overloads(info[0].ToString().Utf8Value());
    auto arr = Napi::Array::New(info.Env(), names.size());
    for (size_t i = 0; i < names.size(); ++i) arr.Set(static_cast<uint32_t>(i), Napi::String::New(info.Env(), names[i]));
    return arr;
  });
}

// How each argument and result travels, for TS: 0 a plain value, 1 a tensor, 2 an optional
// tensor, 3 a list of tensors, 4 a list of optional tensors.
int kind_of(const c10::TypePtr& type) {
  switch (type->kind()) {
    case c10::TypeKind::TensorType:
      return 1;
    case c10::TypeKind::OptionalType:
      return kind_of(type->expectRef<c10::OptionalType>().getElementType()) == 1 ? 2 : 0;
    case c10::TypeKind::ListType: {
      const int elem = kind_of(type->expectRef<c10::ListType>().getElementType());
      return elem == 1 ? 3 : elem == 2 ? 4 : 0;
    }
    default:
      return 0;
  }
}

Napi::Value op_info(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    const c10::FunctionSchema& schema = op_schema(info[0].As<Napi::Number>().Int32Value());
    auto kinds = [&](const std::vector<c10::Argument>& list) {
      auto arr = Napi::Array::New(env, list.size());
      for (size_t i = 0; i < list.size(); ++i) arr.Set(static_cast<uint32_t>(i), Napi::Number::New(env, kind_of(list[i].type())));
      return arr;
    };
    auto out = Napi::Object::New(env);
    out.Set("args", kinds(schema.arguments()));
    out.Set("returns", kinds(schema.returns()));
    return out;
  });
}

// The unboxed path of core/fast_call.h; false when an argument needs the boxed path's handling
// (a default, a bool scalar, a released tensor and its error message).
bool call_fast_path(const Napi::CallbackInfo& info, const OpEntry& e, size_t given, bool discard, Napi::Value& out) {
  const std::string& kinds = e.fast.kinds;
  if (kinds.empty() || given != kinds.size()) return false;
  napi_env env = info.Env();
  at::Tensor* tensors[3];
  at::Scalar scalars[2];
  int nt = 0;
  int ns = 0;
  for (size_t i = 0; i < kinds.size(); ++i) {
    napi_value v = info[i + 2];
    if (kinds[i] == 'T') {
      uint32_t h = 0;
      if (napi_get_value_uint32(env, v, &h) != napi_ok) return false;
      tensors[nt] = find_tensor(h);
      if (tensors[nt++] == nullptr) return false;
    } else {
      double d = 0;
      if (napi_get_value_double(env, v, &d) != napi_ok) return false;
      scalars[ns++] = number_scalar(d);
    }
  }
  at::Tensor r = call_fast(e.fast, tensors, scalars);
  out = discard ? info.Env().Undefined() : wrap_tensor(info.Env(), std::move(r));
  return true;
}

// callOp(id, discard, ...args): args fill the schema's arguments in order; undefined takes the
// default. They come as call arguments, not an array: reading array elements costs a V8 call each.
Napi::Value call(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    const int id = info[0].As<Napi::Number>().Int32Value();
    // napi_get_value_bool, not ToBoolean: coercion sets up a V8 TryCatch on every call.
    bool discard = false;
    napi_get_value_bool(env, info[1], &discard);
    const size_t given = info.Length() - 2;
    const OpEntry& entry = op_entry(id);
    Napi::Value fast;
    if (call_fast_path(info, entry, given, discard, fast)) return fast;
    const c10::FunctionSchema& schema = entry.handle.schema();
    const auto& params = schema.arguments();
    if (given > params.size()) {
      throw Napi::TypeError::New(env, schema.name() + " takes " + std::to_string(params.size()) + " arguments, got " + std::to_string(given));
    }
    torch::jit::Stack stack;
    stack.reserve(params.size());
    for (size_t i = 0; i < params.size(); ++i) {
      const auto& p = params[i];
      const Napi::Value v = i < given ? info[i + 2] : env.Undefined();
      if (v.IsUndefined()) {
        if (p.default_value().has_value()) stack.push_back(*p.default_value());
        else if (p.type()->kind() == c10::TypeKind::OptionalType) stack.emplace_back();
        else throw Napi::TypeError::New(env, "missing " + describe(schema, p));
        continue;
      }
      stack.push_back(to_ivalue(v, p.type(), Where{schema, p}));
    }
    call_op(id, stack);
    if (discard) return env.Undefined();
    if (stack.size() == 1) return from_ivalue(env, stack[0]);
    auto out = Napi::Array::New(env, stack.size());
    for (size_t i = 0; i < stack.size(); ++i) out.Set(static_cast<uint32_t>(i), from_ivalue(env, stack[i]));
    return out;
  });
}

}  // namespace

void register_ivalue(Napi::Env env, Napi::Object exports) {
  exports.Set("resolveOp", Napi::Function::New(env, resolve));
  exports.Set("opSchema", Napi::Function::New(env, schema_string));
  exports.Set("opOverloads", Napi::Function::New(env, overloads));
  exports.Set("callOp", Napi::Function::New(env, call));
  exports.Set("opInfo", Napi::Function::New(env, op_info));
}

}  // namespace tlcv
