#include "core/fused_optim.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace tlcv {
namespace {

// Elements per work item: large enough that a thread streams through memory, small enough
// that two threads split a model's parameters evenly whatever their sizes.
constexpr int64_t kChunk = 1 << 14;
// Fewer work items than this run on the calling thread: a parallel region costs more than
// updating a small head.
constexpr int64_t kGrain = 2;

// The capability libtorch 1.13 picks for its own kernels (AVX2 where the CPU has AVX2 and
// FMA, unless ATEN_CPU_CAPABILITY=default), so the fused step rounds as torch.optim does here.
// AVX512, where libtorch is told to use it, rounds as AVX2 does: element-wise results do not
// depend on the vector width, only on where FMAs are.
const fused::Kernels& kernels() {
  static const fused::Kernels chosen = [] {
    const char* env = std::getenv("ATEN_CPU_CAPABILITY");
    const bool forced_default = env != nullptr && std::strcmp(env, "default") == 0;
#if defined(TLCV_HAVE_AVX2)
    __builtin_cpu_init();
    if (!forced_default && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return fused::avx2_kernels();
#else
    (void)forced_default;
#endif
    return fused::default_kernels();
  }();
  return chosen;
}

void check_param(const at::Tensor& p, size_t i) {
  TORCH_CHECK(fused_step_supports(p), "fused optimizer step: parameter ", i,
              " must be a dense CPU float32 or float64 tensor, but is ", p.toString(), " with strides ", p.strides());
}

// A state tensor is written in place element for element with the parameter: same dtype, same layout.
void check_state(const at::Tensor& p, const at::Tensor& t, const char* name, size_t i) {
  TORCH_CHECK(t.defined(), "fused optimizer step: parameter ", i, " has no ", name);
  TORCH_CHECK(t.scalar_type() == p.scalar_type() && t.device() == p.device() && t.sizes() == p.sizes() && t.strides() == p.strides(),
              "fused optimizer step: ", name, " of parameter ", i, " must have the parameter's dtype, shape and strides");
}

// The gradient as the kernel reads it: itself when it is laid out as the parameter (autograd's
// usual case), else a copy in the parameter's layout.
at::Tensor grad_like(const at::Tensor& p, const at::Tensor& g, size_t i) {
  TORCH_CHECK(g.defined() && g.layout() == at::kStrided, "fused optimizer step: parameter ", i, " needs a dense gradient");
  TORCH_CHECK(g.sizes() == p.sizes() && g.device() == p.device(), "fused optimizer step: the gradient of parameter ", i, " has shape ",
              g.sizes(), " but the parameter has ", p.sizes());
  if (g.scalar_type() == p.scalar_type() && g.strides() == p.strides()) return g;
  return at::empty_like(p).copy_(g);
}

struct WorkItem {
  int32_t span;
  int64_t begin;
  int64_t end;
};

std::vector<WorkItem> split(const std::vector<int64_t>& sizes) {
  std::vector<WorkItem> items;
  for (size_t s = 0; s < sizes.size(); ++s) {
    for (int64_t b = 0; b < sizes[s]; b += kChunk) items.push_back({static_cast<int32_t>(s), b, std::min(sizes[s], b + kChunk)});
  }
  return items;
}

// Checks every slot before touching any (check may also swap in a gradient copy), runs the
// kernel over all their elements, then bumps the version of what it wrote: autograd checks
// saved tensors against their version, and an in-place update must count as one.
template <typename Slot, typename Span, typename Check, typename ToSpan, typename Written>
void run_slots(std::vector<Slot>& slots, Check check, ToSpan to_span, void (*kernel)(const Span&, int64_t, int64_t), Written written) {
  for (size_t i = 0; i < slots.size(); ++i) check(slots[i], i);
  std::vector<Span> spans;
  std::vector<int64_t> sizes;
  spans.reserve(slots.size());
  for (Slot& s : slots) {
    spans.push_back(to_span(s));
    sizes.push_back(s.param.numel());
  }
  const std::vector<WorkItem> items = split(sizes);
  at::parallel_for(0, static_cast<int64_t>(items.size()), kGrain, [&](int64_t from, int64_t to) {
    for (int64_t k = from; k < to; ++k) kernel(spans[items[k].span], items[k].begin, items[k].end);
  });
  for (Slot& s : slots) {
    for (const at::Tensor* t : written(s)) {
      if (t->defined()) t->unsafeGetTensorImpl()->bump_version();
    }
  }
}

}  // namespace

bool fused_step_supports(const at::Tensor& p) {
  return p.defined() && p.layout() == at::kStrided && p.device().is_cpu() &&
         (p.scalar_type() == at::kFloat || p.scalar_type() == at::kDouble) && p.is_non_overlapping_and_dense();
}

void fused_adam_step(std::vector<AdamSlot>& slots) {
  RECORD_FUNCTION("tlcv::fused_adam_step", std::vector<c10::IValue>());
  auto check = [](AdamSlot& s, size_t i) {
    check_param(s.param, i);
    check_state(s.param, s.exp_avg, "exp_avg", i);
    check_state(s.param, s.exp_avg_sq, "exp_avg_sq", i);
    if (s.s.amsgrad) check_state(s.param, s.max_exp_avg_sq, "max_exp_avg_sq", i);
    s.grad = grad_like(s.param, s.grad, i);
  };
  auto span = [](AdamSlot& s) {
    return AdamSpan{s.param.scalar_type(), s.param.data_ptr(), s.grad.data_ptr(), s.exp_avg.data_ptr(), s.exp_avg_sq.data_ptr(),
                    s.s.amsgrad ? s.max_exp_avg_sq.data_ptr() : nullptr, s.s};
  };
  auto written = [](const AdamSlot& s) { return std::array<const at::Tensor*, 4>{&s.param, &s.exp_avg, &s.exp_avg_sq, &s.max_exp_avg_sq}; };
  run_slots(slots, check, span, kernels().adam, written);
}

void fused_sgd_step(std::vector<SgdSlot>& slots) {
  RECORD_FUNCTION("tlcv::fused_sgd_step", std::vector<c10::IValue>());
  auto check = [](SgdSlot& s, size_t i) {
    check_param(s.param, i);
    if (s.s.momentum != 0) check_state(s.param, s.momentum_buffer, "momentum_buffer", i);
    s.grad = grad_like(s.param, s.grad, i);
  };
  auto span = [](SgdSlot& s) {
    return SgdSpan{s.param.scalar_type(), s.param.data_ptr(), s.grad.data_ptr(), s.s.momentum != 0 ? s.momentum_buffer.data_ptr() : nullptr, s.s};
  };
  auto written = [](const SgdSlot& s) { return std::array<const at::Tensor*, 2>{&s.param, &s.momentum_buffer}; };
  run_slots(slots, check, span, kernels().sgd, written);
}

}  // namespace tlcv
