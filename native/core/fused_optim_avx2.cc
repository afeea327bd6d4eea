// The fused optimizer loops for AVX2 + FMA, built with -mavx2 -mfma as PyTorch's AVX2 kernels are.
#define CPU_CAPABILITY AVX2
#define CPU_CAPABILITY_AVX2
#include "core/fused_optim_kernels.h"

namespace tlcv {
namespace fused {
Kernels avx2_kernels() { return {&adam_kernel, &sgd_kernel}; }
}  // namespace fused
}  // namespace tlcv
