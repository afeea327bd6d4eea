// Built only where c10d and Gloo are available (scripts/libtorch-paths.cjs defines).
#ifdef TLCV_WITH_DIST
#include "core/dist_group.h"
#include "core/dist_compat.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/comm.hpp>
#include <torch/csrc/distributed/c10d/reducer.hpp>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <map>
#include <sstream>

namespace tlcv {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// One line, without the final full stop: it is embedded in tlcv's own sentence.
std::string message_of(const std::exception& e) {
  std::string m = e.what();
  if (const auto* c = dynamic_cast<const c10::Error*>(&e)) m = c->what_without_backtrace();
  m = m.substr(0, m.find('\n'));
  while (!m.empty() && (m.back() == '.' || m.back() == ' ')) m.pop_back();
  return m;
}

std::string seconds(int64_t ms) {
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(1);
  out << static_cast<double>(ms) / 1000.0 << " s";
  return out.str();
}

bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

std::string endpoint(const GroupConfig& c) { return c.master_addr + ":" + std::to_string(c.master_port); }

std::vector<uint8_t> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }
std::string string_of(const std::vector<uint8_t>& b) { return {b.begin(), b.end()}; }

std::string list_ranks(const std::vector<int>& ranks) {
  std::string out;
  for (size_t i = 0; i < ranks.size(); ++i) out += (i == 0 ? "" : ", ") + std::to_string(ranks[i]);
  return out;
}

// The store a rank reaches the others through. File stores count their users so that the last
// one removes the file: each rank opens two (the group's and the heartbeat's).
c10::intrusive_ptr<c10d::Store> open_store(const GroupConfig& c, bool server) {
  if (c.store == "file") return c10::make_intrusive<c10d::FileStore>(c.file, 2 * c.world_size);
  c10d::TCPStoreOptions o;
  o.port = static_cast<uint16_t>(c.master_port);
  o.isServer = server;
  o.waitWorkers = false;  // the join below waits, and can name who is missing
  o.timeout = milliseconds(c.timeout_ms);
  try {
    return c10::make_intrusive<c10d::TCPStore>(c.master_addr, o);
  } catch (const std::exception& e) {
    const std::string why = message_of(e);
    if (server && contains(why, "in use")) {
      throw DistError("rank 0 could not listen on " + endpoint(c) + " (MASTER_ADDR:MASTER_PORT): port " + std::to_string(c.master_port) +
                      " is already in use; choose a free port (--master-port or MASTER_PORT)");
    }
    if (server) throw DistError("rank 0 could not host the rendezvous store on " + endpoint(c) + ": " + why);
    throw DistError("rank " + std::to_string(c.rank) + " could not reach the master at " + endpoint(c) + " (MASTER_ADDR:MASTER_PORT) within " + seconds(c.timeout_ms) + ": " + why +
                    "; check that rank 0 is running, that the address and port are the master's, and that the port is open");
  }
}

std::shared_ptr<::gloo::transport::Device> gloo_device(const GroupConfig& c) {
  if (!c.interface.empty()) return c10d::ProcessGroupGloo::createDeviceForInterface(c.interface);
  // On one host the loopback address always works; the hostname may resolve to an address
  // that is not bound here (containers), which Gloo would then fail to listen on.
  const std::string& a = c.master_addr;
  if (c.store == "file" || a == "localhost" || a == "::1" || a.rfind("127.", 0) == 0) {
    return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  }
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

c10::intrusive_ptr<c10d::ProcessGroupGloo> make_gloo(const GroupConfig& c, const c10::intrusive_ptr<c10d::Store>& store) {
  auto o = c10d::ProcessGroupGloo::Options::create(milliseconds(c.timeout_ms));
  o->devices.push_back(gloo_device(c));
  o->threads = 2;  // torch.distributed's choice: two per device
  return c10::make_intrusive<c10d::ProcessGroupGloo>(store, c.rank, c.world_size, o);
}

c10::intrusive_ptr<c10d::ProcessGroup> make_process_group(const GroupConfig& c, const c10::intrusive_ptr<c10d::Store>& store) {
  if (c.backend != "gloo" && c.backend != "nccl") throw DistError("unknown backend \"" + c.backend + "\": expected gloo or nccl");
#if TORCH_VERSION_MAJOR >= 2
  using Type = c10d::ProcessGroup::BackendType;
  const milliseconds timeout(c.timeout_ms);
  // As init_process_group("cpu:gloo,cuda:nccl"): the metrics and checkpoints tlcv exchanges are CPU tensors.
  auto cpu_store = c10::make_intrusive<c10d::PrefixStore>("cpu/", store);
  auto pg = wrap_backend(store, c.rank, c.world_size, make_gloo(c, cpu_store), Type::GLOO, c10::DeviceType::CPU, "gloo", timeout);
  if (c.backend == "nccl") {
#ifdef USE_C10D_NCCL
    auto o = c10d::ProcessGroupNCCL::Options::create();
    o->timeout = timeout;
    c10::intrusive_ptr<c10d::Backend> nccl = c10::make_intrusive<c10d::ProcessGroupNCCL>(c10::make_intrusive<c10d::PrefixStore>("cuda/", store), c.rank, c.world_size, o);
    pg->setBackend(c10::DeviceType::CUDA, Type::NCCL, nccl);
#else
    throw DistError("backend nccl: this libtorch build has no NCCL (a CPU build); use backend gloo, or build tlcv against a CUDA libtorch (LIBTORCH=...)");
#endif
  }
  return pg;
#else
  if (c.backend == "nccl") {
#ifdef USE_C10D_NCCL
    auto o = c10d::ProcessGroupNCCL::Options::create();
    o->timeout = milliseconds(c.timeout_ms);
    return c10::make_intrusive<c10d::ProcessGroupNCCL>(store, c.rank, c.world_size, o);
#else
    throw DistError("backend nccl: this libtorch build has no NCCL (a CPU build); use backend gloo, or build tlcv against a CUDA libtorch (LIBTORCH=...)");
#endif
  }
  return make_gloo(c, store);
#endif
}

void wait_all(std::vector<c10::intrusive_ptr<c10d::Work>>& works) {
  // Every work is waited for, even after one fails: none may outlive the tensors it writes.
  std::exception_ptr first;
  for (auto& w : works) {
    try {
      w->wait();
    } catch (...) {
      if (!first) first = std::current_exception();
    }
  }
  if (first) std::rethrow_exception(first);
}

}  // namespace

DistGroup::DistGroup(const GroupConfig& config) : config_(config) {
  if (config_.world_size < 1 || config_.rank < 0 || config_.rank >= config_.world_size) {
    throw DistError("rank " + std::to_string(config_.rank) + " is outside the world of " + std::to_string(config_.world_size) + " processes");
  }
  const std::string prefix = "tlcv/" + config_.name + "/";
  auto base = open_store(config_, config_.rank == 0 && config_.host_store);
  // A second connection for the heartbeat, so that it never interleaves with Gloo's use of the first.
  beat_store_ = c10::make_intrusive<c10d::PrefixStore>(prefix, open_store(config_, false));
  store_ = c10::make_intrusive<c10d::PrefixStore>(prefix + "gloo/", base);
  join(beat_store_);
  try {
    pg_ = make_process_group(config_, store_);
  } catch (const DistError&) {
    throw;
  } catch (const std::exception& e) {
    throw DistError("rank " + std::to_string(config_.rank) + " could not connect to the other ranks (" + config_.backend + "): " + message_of(e));
  }
  heartbeat_ = std::thread([this] { heartbeat_loop(); });
}

void DistGroup::join(const c10::intrusive_ptr<c10d::Store>& store) {
  const auto deadline = Clock::now() + milliseconds(config_.timeout_ms);
  const std::string me = std::to_string(config_.rank);
  const std::string world = std::to_string(config_.world_size);
  if (store->add("claim/" + me, 1) > 1) {
    throw DistError("rank " + me + " is claimed by two processes: each process needs its own RANK (check RANK, --node-rank and --nproc)");
  }
  store->set("who/" + me, bytes_of(config_.who));
  if (config_.rank == 0) store->set("world", bytes_of(world));
  std::vector<int> missing;
  for (;;) {
    missing.clear();
    for (int r = 0; r < config_.world_size; ++r) {
      if (!store->check({"who/" + std::to_string(r)})) missing.push_back(r);
    }
    if (missing.empty() && store->check({"world"})) break;
    if (Clock::now() >= deadline) {
      if (missing.empty()) missing.push_back(0);
      throw DistError("rank" + std::string(missing.size() > 1 ? "s " : " ") + list_ranks(missing) + " of " + world + " did not join within " + seconds(config_.timeout_ms) + " (rendezvous at " +
                      (config_.store == "file" ? config_.file : endpoint(config_)) + "): start every rank, with the same WORLD_SIZE");
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  const std::string agreed = string_of(store->get("world"));
  if (agreed != world) {
    throw DistError("rank " + me + " was started with WORLD_SIZE " + world + " but rank 0 with " + agreed + ": every rank needs the same WORLD_SIZE");
  }
}

void DistGroup::heartbeat_loop() {
  const std::string key = "beat/" + std::to_string(config_.rank);
  int64_t beat = 0;
  while (!stop_) {
    try {
      std::lock_guard<std::mutex> lock(store_mutex_);
      beat_store_->set(key, bytes_of(std::to_string(beat++) + " " + std::to_string(collectives_.load())));
    } catch (const std::exception& e) {
      std::lock_guard<std::mutex> lock(state_mutex_);
      heartbeat_error_ = message_of(e);
      return;
    }
    std::unique_lock<std::mutex> lock(state_mutex_);
    beat_cv_.wait_for(lock, milliseconds(config_.heartbeat_ms), [this] { return stop_.load(); });
  }
}

std::vector<PeerState> DistGroup::peers() {
  const std::string broken = heartbeat_error();
  if (!broken.empty()) throw DistError("the rendezvous store is unreachable: " + broken);
  std::lock_guard<std::mutex> lock(store_mutex_);
  try {
    return read_peers();
  } catch (const std::exception& e) {
    throw DistError("the rendezvous store is unreachable: " + message_of(e));
  }
}

std::vector<PeerState> DistGroup::read_peers() {
  std::vector<PeerState> out;
  for (int r = 0; r < config_.world_size; ++r) {
    PeerState p;
    p.rank = r;
    const std::string id = std::to_string(r);
    if (beat_store_->check({"who/" + id})) p.who = string_of(beat_store_->get("who/" + id));
    if (beat_store_->check({"beat/" + id})) {
      std::istringstream in(string_of(beat_store_->get("beat/" + id)));
      in >> p.beat >> p.collectives;
      p.seen = true;
    }
    out.push_back(p);
  }
  return out;
}

std::string DistGroup::heartbeat_error() {
  std::lock_guard<std::mutex> lock(state_mutex_);
  return heartbeat_error_;
}

void DistGroup::allreduce(std::vector<at::Tensor>& tensors, bool average, int64_t bucket_bytes) {
  if (tensors.empty()) return;
  at::NoGradGuard no_grad;
  // DDP's own bucketing: tensors grouped by dtype and device, in order, up to the byte cap.
  auto assignment = c10d::compute_bucket_assignment_by_size(tensors, {static_cast<size_t>(bucket_bytes)});
  const auto& buckets = std::get<0>(assignment);
  std::vector<std::vector<at::Tensor>> lists(buckets.size());
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  for (size_t b = 0; b < buckets.size(); ++b) {
    for (size_t i : buckets[b]) lists[b].push_back(tensors[i]);
    // allreduce_coalesced flattens a bucket into one tensor and copies the sums back; a lone
    // dense tensor is reduced in place without those copies.
    const bool lone = lists[b].size() == 1 && lists[b][0].is_contiguous();
    works.push_back(lone ? pg_->allreduce(lists[b]) : pg_->allreduce_coalesced(lists[b]));
  }
  wait_all(works);
  if (average) {
    for (auto& t : tensors) t.div_(config_.world_size);
  }
}

void DistGroup::broadcast(std::vector<at::Tensor>& tensors, int root) {
  if (tensors.empty()) return;
  at::NoGradGuard no_grad;  // parameters are leaves that require grad: copying into them is not a graph op
  // torch.distributed's buffer for broadcasting module states (250 MB).
  c10d::broadcast_coalesced(pg_, tensors, 250u * 1024u * 1024u, root);
}

void DistGroup::barrier() { pg_->barrier()->wait(); }

void DistGroup::stop_heartbeat() {
  {
    std::lock_guard<std::mutex> lock(state_mutex_);
    stop_ = true;
  }
  beat_cv_.notify_all();
}

void DistGroup::abandon() {
  stop_heartbeat();
  if (heartbeat_.joinable()) heartbeat_.detach();
}

DistGroup::~DistGroup() {
  stop_heartbeat();
  if (heartbeat_.joinable()) heartbeat_.join();
}

}  // namespace tlcv

#endif  // TLCV_WITH_DIST
