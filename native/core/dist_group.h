// A c10d process group, as torch.distributed builds one: a store for the rendezvous (TCPStore
// hosted by rank 0, or a FileStore), then ProcessGroupGloo on CPU or ProcessGroupNCCL where the
// libtorch build has it. Plain C++, no N-API: every call here blocks, and the N-API layer runs
// them off the JS thread.
//
// A heartbeat thread per rank writes "<beat> <collectives started>" into the store every
// heartbeat interval on a connection of its own. When a collective fails, those two numbers
// tell the survivors which rank is gone (its beat stopped) or hangs elsewhere (its collective
// count is behind), so the error can name it; Gloo's own errors name only socket addresses.
#pragma once
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace tlcv {

struct GroupConfig {
  std::string store = "tcp";  // "tcp" (TCPStore at master_addr:master_port) or "file"
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  std::string file;  // the FileStore's path when store == "file"
  bool host_store = true;  // rank 0 serves the TCPStore; false under torchrun, whose agent serves it
  int rank = 0;
  int world_size = 1;
  std::string backend = "gloo";  // "gloo" or "nccl"
  std::string interface;         // Gloo's network interface (GLOO_SOCKET_IFNAME); empty: by address
  std::string name = "default";  // key prefix, so that several groups can share one store
  int64_t timeout_ms = 60000;
  int64_t heartbeat_ms = 1000;
  std::string who;  // how other ranks name this process in messages ("pid 123 on host-a")
};

// A failure the user can act on (a port in use, a master that cannot be reached, a rank that
// never joined). The N-API layer gives it the "distributed" kind; TS makes it a TlcvError.
struct DistError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct PeerState {
  int rank = 0;
  bool seen = false;  // a heartbeat was found
  int64_t beat = -1;
  int64_t collectives = -1;
  std::string who;
};

class DistGroup {
 public:
  // Rendezvous: blocks until every rank has joined, or throws DistError naming the missing ones.
  explicit DistGroup(const GroupConfig& config);
  ~DistGroup();
  DistGroup(const DistGroup&) = delete;
  DistGroup& operator=(const DistGroup&) = delete;

  int rank() const { return config_.rank; }
  int size() const { return config_.world_size; }
  const GroupConfig& config() const { return config_; }
  const c10::intrusive_ptr<c10d::ProcessGroup>& process_group() const { return pg_; }
  std::string backend_name() const { return pg_->getBackendName(); }

  // Counts a collective that this rank starts; the heartbeat publishes the count.
  int64_t note_collective() { return ++collectives_; }
  int64_t collectives() const { return collectives_.load(); }

  // Sums (and with average, divides by the world size) tensors of any shapes in place, in
  // buckets of at most bucket_bytes per dtype, each bucket one allreduce_coalesced.
  void allreduce(std::vector<at::Tensor>& tensors, bool average, int64_t bucket_bytes);
  // Copies rank root's tensors into every other rank's, coalesced as DDP does at start-up.
  void broadcast(std::vector<at::Tensor>& tensors, int root);
  void barrier();

  // Every rank's last heartbeat, read from the store (throws if the store is unreachable).
  std::vector<PeerState> peers();
  // The heartbeat thread's own failure, if its store connection broke ("" while it runs).
  std::string heartbeat_error();

  // After a failed collective, the process group's threads may stay blocked until Gloo's
  // timeout, and the heartbeat in a store call to a frozen master: joining them would block
  // the caller, so the heartbeat is told to stop and left to end alone, and the caller keeps
  // the group alive (the process is about to end anyway).
  void abandon();

 private:
  void join(const c10::intrusive_ptr<c10d::Store>& store);
  void heartbeat_loop();
  std::vector<PeerState> read_peers();
  void stop_heartbeat();

  GroupConfig config_;
  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<c10d::Store> beat_store_;  // a second connection, used by the heartbeat and peers()
  c10::intrusive_ptr<c10d::ProcessGroup> pg_;
  std::atomic<int64_t> collectives_{0};
  std::mutex store_mutex_;  // guards beat_store_: the heartbeat and peers() share it
  std::mutex state_mutex_;  // guards heartbeat_error_; never held across a store call
  std::condition_variable beat_cv_;
  std::atomic<bool> stop_{false};
  std::string heartbeat_error_;
  std::thread heartbeat_;
};

}  // namespace tlcv
