// Fused optimizer steps: every parameter's update in one pass over its memory (parameter,
// gradient, state), all parameters in one call, vectorised and spread over libtorch's threads.
// PyTorch 1.13's single-tensor AdamW makes nine passes per parameter and its foreach form
// about as many; this is where the step's time went (memory traffic, not arithmetic).
//
// The arithmetic is PyTorch's op for op, with the same fused multiply-adds its CPU kernels
// use (add with alpha and addcmul are FMAs on AVX2, plain on the baseline build), so results
// match torch.optim bit for bit on the same CPU capability, not just to a tolerance.
#pragma once
#include <ATen/ATen.h>

#include <vector>

namespace tlcv {

// Hyperparameters of one parameter's Adam/AdamW update, as doubles: PyTorch computes them in
// Python floats and each op rounds its scalar to the tensor's dtype.
struct AdamScalars {
  double weight_decay = 0;  // Adam's L2 term, added to the gradient; 0 for AdamW
  double param_scale = 1;   // AdamW's decoupled decay, 1 - lr * weight_decay; 1 for Adam
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double step_size = 0;     // lr / (1 - beta1^step)
  double bias_correction2_sqrt = 1;
  bool maximize = false;
  bool amsgrad = false;
};

struct AdamSlot {
  at::Tensor param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq;  // the last only with amsgrad
  AdamScalars s;
};

struct SgdScalars {
  double lr = 0;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;
  bool maximize = false;
  bool first_step = false;  // the momentum buffer is set to this step's direction
};

struct SgdSlot {
  at::Tensor param, grad, momentum_buffer;  // no buffer when momentum is 0
  SgdScalars s;
};

// Whether a parameter can take the fused path: a dense CPU tensor of float32 or float64.
// Reduced precision (bf16, half) is left to the per-op path, whose rounding after every op
// the fused one would not reproduce; so are sparse and non-CPU tensors.
bool fused_step_supports(const at::Tensor& param);

// Updates every slot in place. Throws c10::Error, before touching anything, when a slot does
// not fit (see fused_step_supports; state tensors must share the parameter's layout).
void fused_adam_step(std::vector<AdamSlot>& slots);
void fused_sgd_step(std::vector<SgdSlot>& slots);

// Plain pointers and scalars for the per-capability kernels.
struct AdamSpan {
  c10::ScalarType dtype;
  void* param;
  const void* grad;
  void* exp_avg;
  void* exp_avg_sq;
  void* max_exp_avg_sq;  // null without amsgrad
  AdamScalars s;
};

struct SgdSpan {
  c10::ScalarType dtype;
  void* param;
  const void* grad;
  void* momentum_buffer;  // null without momentum
  SgdScalars s;
};

namespace fused {
// The loops over elements [begin, end) of one span, built once per CPU capability.
struct Kernels {
  void (*adam)(const AdamSpan&, int64_t begin, int64_t end);
  void (*sgd)(const SgdSpan&, int64_t begin, int64_t end);
};
Kernels default_kernels();
#if defined(TLCV_HAVE_AVX2)
Kernels avx2_kernels();
#endif
}  // namespace fused

}  // namespace tlcv
