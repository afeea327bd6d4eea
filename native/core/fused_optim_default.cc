// The fused optimizer loops for any CPU, without FMA (as PyTorch's DEFAULT kernels).
#define CPU_CAPABILITY DEFAULT
#define CPU_CAPABILITY_DEFAULT
#include "core/fused_optim_kernels.h"

namespace tlcv {
namespace fused {
Kernels default_kernels() { return {&adam_kernel, &sgd_kernel}; }
}  // namespace fused
}  // namespace tlcv
