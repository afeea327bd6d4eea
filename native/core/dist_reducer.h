// DDP's gradient synchronisation, from C++: c10d::Reducer is the engine under PyTorch's
// DistributedDataParallel. It hooks each parameter's gradient accumulator, copies a gradient
// into its bucket (divided by the world size) as soon as autograd produces it, starts the
// bucket's allreduce when the bucket is full, and at the end of backward waits for every
// bucket and copies the averages back into the gradients. So communication overlaps the rest
// of backward, with PyTorch's own bucketing, instead of tlcv re-implementing that machinery.
#pragma once
#include <ATen/ATen.h>

#include <memory>
#include <vector>

#include "core/dist_group.h"

namespace c10d {
class Reducer;
}

namespace tlcv {

class DistReducer {
 public:
  // A collective: checks that every rank has the same parameter shapes and dtypes (DDP's
  // verify_params_across_processes), then builds buckets of bucket_bytes (the first one
  // first_bucket_bytes, so that communication starts early), in reverse parameter order.
  DistReducer(std::shared_ptr<DistGroup> group, std::vector<at::Tensor> params, int64_t bucket_bytes, int64_t first_bucket_bytes);
  ~DistReducer();
  DistReducer(const DistReducer&) = delete;
  DistReducer& operator=(const DistReducer&) = delete;

  // backward() from loss with the hooks armed; returns once every gradient holds the average
  // over the ranks. Every parameter must receive a gradient (DDP's find_unused_parameters=False).
  void backward(const at::Tensor& loss);
  // The same, split: arms the hooks for a backward() that the caller runs itself.
  void prepare(const at::Tensor& loss);

  const std::vector<at::Tensor>& params() const { return params_; }
  size_t bucket_count() const { return bucket_count_; }

 private:
  std::shared_ptr<DistGroup> group_;
  std::vector<at::Tensor> params_;
  std::unique_ptr<c10d::Reducer> reducer_;
  size_t bucket_count_ = 0;
};

}  // namespace tlcv
