// The few places where c10d's C++ API differs between libtorch 1.13 and 2.x, kept here so that
// dist_group.cc and dist_reducer.cc read the same on both:
// - 1.x: ProcessGroupGloo and ProcessGroupNCCL are c10d::ProcessGroups. 2.x: they are
//   c10d::Backends, and a c10d::ProcessGroup holds one per device type and dispatches each
//   collective to it (the constructor took ProcessGroup::Options until about 2.5; later the
//   default backend is set with setDefaultBackend);
// - c10d::Reducer: 1.13 takes per-bucket size limits after the bucket indices; 2.x dropped them
//   and added trailing flags (skip_all_reduce_unused_params, use_python_reducer, then a list of
//   bucket caps), defaulted in some releases and not in others.
// Within 2.x the constructor that exists is chosen at compile time (std::is_constructible), not
// by minor version: the headers say what they accept, where a release table could be wrong.
#pragma once
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/reducer.hpp>
#include <torch/version.h>

#include <memory>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

namespace tlcv {

template <typename>
inline constexpr bool kNoMatchingConstructor = false;

#if TORCH_VERSION_MAJOR >= 2

// A ProcessGroup whose collectives on `device` tensors go to `backend` (Gloo on CPU, NCCL on CUDA).
template <typename PG = c10d::ProcessGroup>
c10::intrusive_ptr<PG> wrap_backend(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size, c10::intrusive_ptr<c10d::Backend> backend,
                                    typename PG::BackendType type, c10::DeviceType device, const std::string& name, std::chrono::milliseconds timeout) {
  c10::intrusive_ptr<PG> pg;
  if constexpr (std::is_constructible_v<PG, c10::intrusive_ptr<c10d::Store>, int, int>) {
    pg = c10::make_intrusive<PG>(store, rank, size);
    pg->setDefaultBackend(type);
  } else {
    pg = c10::make_intrusive<PG>(store, rank, size, c10::make_intrusive<typename PG::Options>(name, timeout));
  }
  pg->setBackend(device, type, backend);
  return pg;
}

#endif

// c10d::Reducer over params with the given buckets, no unused parameters, gradients copied into
// the buckets (not views): DistributedDataParallel's defaults.
template <typename R = c10d::Reducer>
std::unique_ptr<R> make_reducer(std::vector<at::Tensor> params, std::vector<std::vector<size_t>> buckets, std::vector<size_t> limits,
                                c10::intrusive_ptr<c10d::ProcessGroup> pg, int64_t bucket_bytes, int64_t first_bucket_bytes) {
  using Names = std::unordered_map<size_t, std::string>;
  using PgPtr = c10::intrusive_ptr<c10d::ProcessGroup>;
  using Params = std::vector<at::Tensor>;
  using Buckets = std::vector<std::vector<size_t>>;
  std::vector<bool> sparse(params.size(), false);
  if constexpr (std::is_constructible_v<R, Params, Buckets, std::vector<size_t>, PgPtr, std::vector<bool>, int64_t, bool, bool, Names, int64_t>) {
    // 1.13
    return std::make_unique<R>(std::move(params), std::move(buckets), std::move(limits), std::move(pg), std::move(sparse), bucket_bytes,
                               /*find_unused_parameters=*/false, /*gradient_as_bucket_view=*/false, Names(), first_bucket_bytes);
  } else if constexpr (std::is_constructible_v<R, Params, Buckets, PgPtr, std::vector<bool>, int64_t, bool, bool, Names, int64_t, bool, bool,
                                               std::vector<int64_t>>) {
    // 2.x with a list of bucket caps (used when buckets are rebuilt, which tlcv does not do).
    return std::make_unique<R>(std::move(params), std::move(buckets), std::move(pg), std::move(sparse), bucket_bytes, false, false, Names(),
                               first_bucket_bytes, /*skip_all_reduce_unused_params=*/false, /*use_python_reducer=*/false,
                               std::vector<int64_t>{first_bucket_bytes, bucket_bytes});
  } else if constexpr (std::is_constructible_v<R, Params, Buckets, PgPtr, std::vector<bool>, int64_t, bool, bool, Names, int64_t, bool, bool>) {
    return std::make_unique<R>(std::move(params), std::move(buckets), std::move(pg), std::move(sparse), bucket_bytes, false, false, Names(),
                               first_bucket_bytes, false, false);
  } else if constexpr (std::is_constructible_v<R, Params, Buckets, PgPtr, std::vector<bool>, int64_t, bool, bool, Names, int64_t>) {
    return std::make_unique<R>(std::move(params), std::move(buckets), std::move(pg), std::move(sparse), bucket_bytes, false, false, Names(),
                               first_bucket_bytes);
  } else {
    static_assert(kNoMatchingConstructor<R>, "this libtorch's c10d::Reducer constructor is not one tlcv knows: see native/core/dist_compat.h");
    return nullptr;
  }
}

}  // namespace tlcv
