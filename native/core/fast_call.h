// Unboxed calls for the commonest op signatures (one to three tensors and scalars, one tensor
// out): a boxed call builds an IValue stack and converts every argument twice, which is a
// fifth of a one-element add. Each fast call is checked once against the op's registered C++
// signature, so an op whose kernel differs takes the boxed path instead.
#pragma once
#include <ATen/ATen.h>
#include <ATen/core/dispatch/Dispatcher.h>

#include <string>
#include <variant>

namespace tlcv {

using SigT = at::Tensor(const at::Tensor&);
using SigTi = at::Tensor&(at::Tensor&);
using SigTT = at::Tensor(const at::Tensor&, const at::Tensor&);
using SigTTi = at::Tensor&(at::Tensor&, const at::Tensor&);
using SigTS = at::Tensor(const at::Tensor&, const at::Scalar&);
using SigTSi = at::Tensor&(at::Tensor&, const at::Scalar&);
using SigTTS = at::Tensor(const at::Tensor&, const at::Tensor&, const at::Scalar&);
using SigTTSi = at::Tensor&(at::Tensor&, const at::Tensor&, const at::Scalar&);
using SigTSS = at::Tensor(const at::Tensor&, const at::Scalar&, const at::Scalar&);
using SigTSSi = at::Tensor&(at::Tensor&, const at::Scalar&, const at::Scalar&);
using SigTTTS = at::Tensor(const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Scalar&);
using SigTTTSi = at::Tensor&(at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Scalar&);

using FastOp = std::variant<std::monostate, c10::TypedOperatorHandle<SigT>, c10::TypedOperatorHandle<SigTi>, c10::TypedOperatorHandle<SigTT>,
                            c10::TypedOperatorHandle<SigTTi>, c10::TypedOperatorHandle<SigTS>, c10::TypedOperatorHandle<SigTSi>,
                            c10::TypedOperatorHandle<SigTTS>, c10::TypedOperatorHandle<SigTTSi>, c10::TypedOperatorHandle<SigTSS>,
                            c10::TypedOperatorHandle<SigTSSi>, c10::TypedOperatorHandle<SigTTTS>, c10::TypedOperatorHandle<SigTTTSi>>;

// The op's argument kinds as a string of 'T' (tensor) and 'S' (scalar), or "" if it has no fast path.
struct FastPath {
  FastOp op;
  std::string kinds;
};

FastPath make_fast_path(const c10::OperatorHandle& handle);

// Calls a fast path; tensors and scalars are given in argument order, each kind in its own array.
at::Tensor call_fast(const FastPath& f, at::Tensor* const* tensors, const at::Scalar* scalars);

}  // namespace tlcv
