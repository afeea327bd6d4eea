#include "core/fast_call.h"

namespace tlcv {
namespace {

template <typename Sig>
bool try_typed(const c10::OperatorHandle& handle, FastOp& out) {
  try {
    out = handle.typed<Sig>();
    return true;
  } catch (const c10::Error&) {
    return false;  // registered with another C++ signature: the boxed path handles it
  }
}

template <typename Out, typename In>
bool pick(const c10::OperatorHandle& handle, bool in_place, FastOp& out) {
  return in_place ? try_typed<In>(handle, out) : try_typed<Out>(handle, out);
}

}  // namespace

FastPath make_fast_path(const c10::OperatorHandle& handle) {
  const c10::FunctionSchema& schema = handle.schema();
  FastPath f;
  if (schema.returns().size() != 1 || schema.returns()[0].type()->kind() != c10::TypeKind::TensorType) return f;
  std::string kinds;
  for (const auto& a : schema.arguments()) {
    const auto k = a.type()->kind();
    if (k == c10::TypeKind::TensorType) kinds += 'T';
    else if (k == c10::TypeKind::NumberType) kinds += 'S';
    else return f;
  }
  const auto& first = schema.arguments();
  const bool in_place = !first.empty() && first[0].alias_info() != nullptr && first[0].alias_info()->isWrite();
  bool ok = false;
  if (kinds == "T") ok = pick<SigT, SigTi>(handle, in_place, f.op);
  else if (kinds == "TT") ok = pick<SigTT, SigTTi>(handle, in_place, f.op);
  else if (kinds == "TS") ok = pick<SigTS, SigTSi>(handle, in_place, f.op);
  else if (kinds == "TTS") ok = pick<SigTTS, SigTTSi>(handle, in_place, f.op);
  else if (kinds == "TSS") ok = pick<SigTSS, SigTSSi>(handle, in_place, f.op);
  else if (kinds == "TTTS") ok = pick<SigTTTS, SigTTTSi>(handle, in_place, f.op);
  if (ok) f.kinds = kinds;
  else f.op = std::monostate();
  return f;
}

at::Tensor call_fast(const FastPath& f, at::Tensor* const* t, const at::Scalar* s) {
  return std::visit(
      [&](const auto& op) -> at::Tensor {
        using Op = std::decay_t<decltype(op)>;
        if constexpr (std::is_same_v<Op, c10::TypedOperatorHandle<SigT>> || std::is_same_v<Op, c10::TypedOperatorHandle<SigTi>>) return op.call(*t[0]);
        else if constexpr (std::is_same_v<Op, c10::TypedOperatorHandle<SigTT>> || std::is_same_v<Op, c10::TypedOperatorHandle<SigTTi>>) return op.call(*t[0], *t[1]);
        else if constexpr (std::is_same_v<Op, c10::TypedOperatorHandle<SigTS>> || std::is_same_v<Op, c10::TypedOperatorHandle<SigTSi>>) return op.call(*t[0], s[0]);
        else if constexpr (std::is_same_v<Op, c10::TypedOperatorHandle<SigTTS>> || std::is_same_v<Op, c10::TypedOperatorHandle<SigTTSi>>) return op.call(*t[0], *t[1], s[0]);
        else if constexpr (std::is_same_v<Op, c10::TypedOperatorHandle<SigTSS>> || std::is_same_v<Op, c10::TypedOperatorHandle<SigTSSi>>) return op.call(*t[0], s[0], s[1]);
        else if constexpr (std::is_same_v<Op, c10::TypedOperatorHandle<SigTTTS>> || std::is_same_v<Op, c10::TypedOperatorHandle<SigTTTSi>>) return op.call(*t[0], *t[1], *t[2], s[0]);
        else TORCH_CHECK(false, "tlcv: op has no fast path");
      },
      f.op);
}

}  // namespace tlcv
