// Debian's libtorch-dev ships c10d's reducer.hpp but not the distributed-autograd (RPC)
// headers it includes. The reducer only names two things from them: the context's shared
// pointer type (a member of c10d::Reducer, so its layout must match: a shared_ptr is a
// shared_ptr whatever it points to) and the gradient callback type. tlcv uses no RPC.
// This folder comes last on the include path, so a libtorch that has the real header wins.
#pragma once
#include <ATen/core/Tensor.h>

#include <functional>
#include <memory>

namespace torch {
namespace distributed {
namespace autograd {

class DistAutogradContext {
 public:
  using GradCallback = std::function<bool(at::Tensor&)>;
};
using ContextPtr = std::shared_ptr<DistAutogradContext>;

}  // namespace autograd
}  // namespace distributed
}  // namespace torch
