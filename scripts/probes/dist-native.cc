// By-hand probe of tlcv's c10d layer (native/core/dist_*.cc) with no Node: two ranks in one
// process (threads), rendezvous on a FileStore, an allreduce, a broadcast, and one backward of
// a small model through DDP's reducer, whose gradients must be the average of the two ranks'.
// Built and run by scripts/probes/dist-native.sh against any libtorch (1.13 or 2.x), so a new
// libtorch can be checked before the whole addon is built against it. Prints one line per
// check and "dist-native: ok" at the end; exits 1 on the first failure.
#include <torch/torch.h>
#include <torch/version.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include <unistd.h>

#include "core/dist_group.h"
#include "core/dist_reducer.h"

namespace {

void check(bool ok, const std::string& what) {
  std::printf("%s: %s\n", ok ? "ok  " : "FAIL", what.c_str());
  if (!ok) std::exit(1);
}

void rank_main(int rank, const std::string& file, at::Tensor* grads) {
  tlcv::GroupConfig c;
  c.store = "file";
  c.file = file;
  c.rank = rank;
  c.world_size = 2;
  c.timeout_ms = 20000;
  c.who = "rank " + std::to_string(rank);
  auto group = std::make_shared<tlcv::DistGroup>(c);
  std::vector<at::Tensor> t{torch::full({3}, static_cast<double>(rank + 1))};
  group->allreduce(t, /*average=*/true, 25 << 20);
  check(torch::allclose(t[0], torch::full({3}, 1.5)), "rank " + std::to_string(rank) + ": averaging allreduce gives 1.5");
  std::vector<at::Tensor> b{torch::full({2}, static_cast<double>(rank))};
  group->broadcast(b, 0);
  check(torch::equal(b[0], torch::zeros({2}, torch::kDouble)), "rank " + std::to_string(rank) + ": broadcast from rank 0");
  torch::manual_seed(0);
  torch::nn::Linear layer(4, 2);
  std::vector<at::Tensor> params{layer->weight, layer->bias};
  tlcv::DistReducer reducer(group, params, 25 << 20, 1 << 20);
  auto x = torch::full({5, 4}, static_cast<double>(rank + 1), torch::kFloat);
  auto loss = layer->forward(x).sum();
  reducer.backward(loss);
  *grads = layer->weight.grad().clone();
}

}  // namespace

int main() {
  std::printf("libtorch %d.%d\n", TORCH_VERSION_MAJOR, TORCH_VERSION_MINOR);
  const std::string file = "/tmp/tlcv-dist-native-" + std::to_string(::getpid());
  at::Tensor g0, g1;
  std::thread r1([&] { rank_main(1, file, &g1); });
  rank_main(0, file, &g0);
  r1.join();
  // d(sum(xW^T + b))/dW = 5 * x-row: 5 on rank 0, 10 on rank 1, so 7.5 on both after averaging.
  check(torch::allclose(g0, torch::full({2, 4}, 7.5)) && torch::equal(g0, g1), "reducer: both ranks hold the averaged gradient 7.5");
  std::printf("dist-native: ok\n");
  return 0;
}
