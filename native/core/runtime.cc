#include "core/runtime.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <c10/core/GradMode.h>
#include <c10/core/InferenceMode.h>
#include <torch/version.h>

#include <memory>
#include <vector>

namespace tlcv {
namespace {
std::vector<std::unique_ptr<c10::InferenceMode>>& inference_guards() {
  static std::vector<std::unique_ptr<c10::InferenceMode>> guards;
  return guards;
}
}  // namespace

void set_num_threads(int n) { at::set_num_threads(n); }
int get_num_threads() { return at::get_num_threads(); }
void manual_seed(uint64_t seed) { at::manual_seed(seed); }

bool set_grad_enabled(bool enabled) {
  const bool previous = c10::GradMode::is_enabled();
  c10::GradMode::set_enabled(enabled);
  return previous;
}
bool is_grad_enabled() { return c10::GradMode::is_enabled(); }

// InferenceMode is an RAII guard; JS scopes are strictly nested, so a stack of guards
// gives the same lifetime across calls.
void push_inference_mode() { inference_guards().push_back(std::make_unique<c10::InferenceMode>(true)); }
void pop_inference_mode() {
  TORCH_CHECK(!inference_guards().empty(), "tlcv: inference mode popped more often than pushed");
  inference_guards().pop_back();
}

bool set_autocast(const std::string& device, bool enabled, int dtype) {
  const auto type = static_cast<c10::ScalarType>(dtype);
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  const auto dev = device == "cuda" ? at::kCUDA : at::kCPU;
  const bool previous = at::autocast::is_autocast_enabled(dev);
  at::autocast::set_autocast_enabled(dev, enabled);
  at::autocast::set_autocast_dtype(dev, type);
#else
  bool previous;
  if (device == "cuda") {
    previous = at::autocast::is_enabled();
    at::autocast::set_enabled(enabled);
    at::autocast::set_autocast_gpu_dtype(type);
  } else {
    previous = at::autocast::is_cpu_enabled();
    at::autocast::set_cpu_enabled(enabled);
    at::autocast::set_autocast_cpu_dtype(type);
  }
#endif
  // Cached casts of weights must not outlive the region, or updated weights would be stale.
  if (!enabled) at::autocast::clear_cache();
  return previous;
}

bool cuda_available() { return at::hasCUDA(); }
int cuda_device_count() {
  return at::hasCUDA() ? static_cast<int>(at::detail::getCUDAHooks().getNumGPUs()) : 0;
}
std::string torch_version() { return TORCH_VERSION; }

}  // namespace tlcv
