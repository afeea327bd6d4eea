// Built only where c10d and Gloo are available (scripts/libtorch-paths.cjs defines).
#ifdef TLCV_WITH_DIST
#include "core/dist_reducer.h"
#include "core/dist_compat.h"

#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/distributed/c10d/reducer.hpp>

#include <algorithm>

namespace tlcv {

DistReducer::DistReducer(std::shared_ptr<DistGroup> group, std::vector<at::Tensor> params, int64_t bucket_bytes, int64_t first_bucket_bytes)
    : group_(std::move(group)), params_(std::move(params)) {
  if (params_.empty()) throw DistError("data-parallel training needs at least one trainable parameter");
  for (const auto& p : params_) {
    if (!p.requires_grad() || !p.is_leaf()) throw DistError("data-parallel training: every parameter must be a leaf tensor that requires grad");
  }
  const auto& pg = group_->process_group();
  group_->note_collective();
  c10d::verify_params_across_processes(pg, params_, {});
  // As torch.nn.parallel.DistributedDataParallel builds them: buckets in parameter order, then
  // reversed, since backward produces the last layers' gradients first.
  auto assignment = c10d::compute_bucket_assignment_by_size(params_, {static_cast<size_t>(first_bucket_bytes), static_cast<size_t>(bucket_bytes)},
                                                            std::vector<bool>(params_.size(), false));
  auto buckets = std::get<0>(assignment);
  auto limits = std::get<1>(assignment);
  std::reverse(buckets.begin(), buckets.end());
  std::reverse(limits.begin(), limits.end());
  bucket_count_ = buckets.size();
  reducer_ = make_reducer(params_, std::move(buckets), std::move(limits), pg, bucket_bytes, first_bucket_bytes);
}

DistReducer::~DistReducer() = default;

void DistReducer::prepare(const at::Tensor& loss) {
  group_->note_collective();
  reducer_->prepare_for_forward();
  reducer_->prepare_for_backward({loss});
}

void DistReducer::backward(const at::Tensor& loss) {
  prepare(loss);
  torch::autograd::backward({loss});
}

}  // namespace tlcv

#endif  // TLCV_WITH_DIST
