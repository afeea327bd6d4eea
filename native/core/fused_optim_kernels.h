// The element loops of the fused optimizer steps, compiled once per CPU capability (as
// PyTorch compiles its own kernels): fused_optim_default.cc for any x86-64 or other CPU,
// fused_optim_avx2.cc with AVX2 and FMA. CPU_CAPABILITY names the inline namespace, so the
// two builds of Vectorized<T> never meet.
//
// Each expression mirrors one PyTorch op and its rounding:
//   t.mul_(s)                -> t * s
//   t.add_(o, alpha=a)       -> fmadd(o, a, t)         (vec::fmadd, as add_kernel)
//   t.addcmul_(a, b, v)      -> fmadd(v * a, b, t)     (what GCC makes of t + v * a * b)
//   t.addcdiv_(a, b, v)      -> t + (v * a) / b
//   (t.sqrt() / s).add_(e)   -> sqrt(t) / s + e
#pragma once
#include <ATen/cpu/vec/vec.h>

#include "core/fused_optim.h"

namespace tlcv {
namespace fused {
inline namespace CPU_CAPABILITY {

template <typename T>
void adam_range(const AdamSpan& a, int64_t begin, int64_t end) {
  using Vec = at::vec::Vectorized<T>;
  T* p = static_cast<T*>(a.param);
  const T* g = static_cast<const T*>(a.grad);
  T* m = static_cast<T*>(a.exp_avg);
  T* v = static_cast<T*>(a.exp_avg_sq);
  T* vmax = static_cast<T*>(a.max_exp_avg_sq);
  const AdamScalars& s = a.s;
  const Vec weight_decay(static_cast<T>(s.weight_decay));
  const Vec param_scale(static_cast<T>(s.param_scale));
  const Vec beta1(static_cast<T>(s.beta1));
  const Vec one_minus_beta1(static_cast<T>(1 - s.beta1));
  const Vec beta2(static_cast<T>(s.beta2));
  const Vec one_minus_beta2(static_cast<T>(1 - s.beta2));
  const Vec bias_correction2_sqrt(static_cast<T>(s.bias_correction2_sqrt));
  const Vec eps(static_cast<T>(s.eps));
  const Vec neg_step_size(static_cast<T>(-s.step_size));
  const bool decay_grad = s.weight_decay != 0;
  const bool scale_param = s.param_scale != 1;
  auto update = [&](int64_t i, int64_t n) {
    Vec pv = Vec::loadu(p + i, n);
    Vec gv = Vec::loadu(g + i, n);
    if (s.maximize) gv = gv.neg();
    if (decay_grad) gv = at::vec::fmadd(pv, weight_decay, gv);
    if (scale_param) pv = pv * param_scale;
    const Vec mv = at::vec::fmadd(gv, one_minus_beta1, Vec::loadu(m + i, n) * beta1);
    const Vec vv = at::vec::fmadd(gv * one_minus_beta2, gv, Vec::loadu(v + i, n) * beta2);
    Vec second = vv;
    if (vmax != nullptr) {
      second = at::vec::maximum(Vec::loadu(vmax + i, n), vv);
      second.store(vmax + i, n);
    }
    const Vec denom = second.sqrt() / bias_correction2_sqrt + eps;
    pv = pv + (neg_step_size * mv) / denom;
    mv.store(m + i, n);
    vv.store(v + i, n);
    pv.store(p + i, n);
  };
  int64_t i = begin;
  for (; i + Vec::size() <= end; i += Vec::size()) update(i, Vec::size());
  if (i < end) update(i, end - i);
}

template <typename T>
void sgd_range(const SgdSpan& a, int64_t begin, int64_t end) {
  using Vec = at::vec::Vectorized<T>;
  T* p = static_cast<T*>(a.param);
  const T* g = static_cast<const T*>(a.grad);
  T* buf = static_cast<T*>(a.momentum_buffer);
  const SgdScalars& s = a.s;
  const Vec weight_decay(static_cast<T>(s.weight_decay));
  const Vec momentum(static_cast<T>(s.momentum));
  const Vec one_minus_dampening(static_cast<T>(1 - s.dampening));
  const Vec neg_lr(static_cast<T>(-s.lr));
  auto update = [&](int64_t i, int64_t n) {
    const Vec pv = Vec::loadu(p + i, n);
    Vec d = Vec::loadu(g + i, n);
    if (s.maximize) d = d.neg();
    if (s.weight_decay != 0) d = at::vec::fmadd(pv, weight_decay, d);
    if (buf != nullptr) {
      const Vec b = s.first_step ? d : at::vec::fmadd(d, one_minus_dampening, Vec::loadu(buf + i, n) * momentum);
      b.store(buf + i, n);
      d = s.nesterov ? at::vec::fmadd(b, momentum, d) : b;
    }
    at::vec::fmadd(d, neg_lr, pv).store(p + i, n);
  };
  int64_t i = begin;
  for (; i + Vec::size() <= end; i += Vec::size()) update(i, Vec::size());
  if (i < end) update(i, end - i);
}

// One entry per capability for the driver in fused_optim.cc: the dtype is chosen per span.
inline void adam_kernel(const AdamSpan& a, int64_t begin, int64_t end) {
  if (a.dtype == at::kDouble) adam_range<double>(a, begin, end);
  else adam_range<float>(a, begin, end);
}

inline void sgd_kernel(const SgdSpan& a, int64_t begin, int64_t end) {
  if (a.dtype == at::kDouble) sgd_range<double>(a, begin, end);
  else sgd_range<float>(a, begin, end);
}

}  // namespace CPU_CAPABILITY
}  // namespace fused
}  // namespace tlcv
