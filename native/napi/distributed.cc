// Process groups and DDP reducers for src/distributed. Everything that talks to other ranks
// can wait for seconds (a rendezvous, a collective, a backward whose buckets are allreduced),
// so it runs on libuv's thread pool and returns a Promise; the JS thread stays free.
// Groups and reducers are kept in tables by integer id, like tensors, and a task holds a
// shared reference, so destroying one while a task runs is safe.
#include "napi/common.h"

#ifdef TLCV_WITH_DIST
#include <ATen/ATen.h>

#include <functional>
#include <memory>
#include <unordered_map>

#include "core/dist_group.h"
#include "core/dist_reducer.h"

namespace tlcv {
namespace {

// Leaked on purpose: at process exit a group's threads may still be blocked in a collective
// with a dead peer, and destroying it from a static destructor would wait for them.
auto& groups = *new std::unordered_map<int, std::shared_ptr<DistGroup>>();
auto& reducers = *new std::unordered_map<int, std::shared_ptr<DistReducer>>();
int next_id = 1;

Napi::Value error_value(Napi::Env env, const std::string& message, const char* kind) {
  auto* data = env.GetInstanceData<AddonData>();
  if (data != nullptr && !data->torch_error.IsEmpty()) {
    return data->torch_error.New({Napi::String::New(env, message), Napi::String::New(env, kind)});
  }
  return Napi::Error::New(env, message).Value();
}

// Runs body on the thread pool; resolves with result(env) or rejects with a TorchError whose
// kind is "distributed" for DistError (the user's to fix), else "torch" or "native".
class Task : public Napi::AsyncWorker {
 public:
  using Body = std::function<void()>;
  using Result = std::function<Napi::Value(Napi::Env)>;

  static Napi::Promise start(Napi::Env env, Body body, Result result = nullptr) {
    auto* task = new Task(env, std::move(body), std::move(result));
    auto promise = task->deferred_.Promise();
    task->Queue();
    return promise;
  }

  void Execute() override {
    try {
      body_();
      return;
    } catch (const DistError& e) {
      kind_ = "distributed";
      message_ = e.what();
    } catch (const c10::Error& e) {
      kind_ = "torch";
      message_ = e.what_without_backtrace();
    } catch (const std::exception& e) {
      kind_ = "native";
      message_ = e.what();
    }
    SetError(message_.empty() ? kind_ : message_);
  }
  void OnOK() override { deferred_.Resolve(result_ ? result_(Env()) : Env().Undefined()); }
  void OnError(const Napi::Error&) override { deferred_.Reject(error_value(Env(), message_, kind_)); }

 private:
  Task(Napi::Env env, Body body, Result result)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), body_(std::move(body)), result_(std::move(result)) {}

  Napi::Promise::Deferred deferred_;
  Body body_;
  Result result_;
  const char* kind_ = "native";
  std::string message_;
};

// The synchronous form of every collective (a trailing `sync` argument) serves loops whose
// per-step events cannot await, as the Learner's: the JS thread then waits, as PyTorch's own
// Python thread does, and the collective timeout still bounds the wait.
Napi::Value run(const Napi::CallbackInfo& info, size_t sync_arg, Task::Body body, Task::Result result = nullptr) {
  if (!(info.Length() > sync_arg && info[sync_arg].ToBoolean().Value())) return Task::start(info.Env(), std::move(body), std::move(result));
  try {
    body();
  } catch (const DistError& e) {
    throw_torch_error(info.Env(), e.what(), "distributed");
  }
  return result ? result(info.Env()) : info.Env().Undefined();
}

template <typename T>
std::shared_ptr<T> find_in(std::unordered_map<int, std::shared_ptr<T>>& table, const Napi::Value& v, const char* what) {
  const int id = v.As<Napi::Number>().Int32Value();
  auto it = table.find(id);
  if (it == table.end()) throw Napi::Error::New(v.Env(), std::string(what) + " " + std::to_string(id) + " was destroyed or never existed");
  return it->second;
}

std::vector<at::Tensor> read_tensors(const Napi::Value& v) {
  auto list = v.As<Napi::Array>();
  std::vector<at::Tensor> out;
  out.reserve(list.Length());
  for (uint32_t i = 0; i < list.Length(); ++i) out.push_back(unwrap_tensor(list.Get(i), "tensors[i]"));
  return out;
}

std::string read_string(const Napi::Object& o, const char* key, const std::string& fallback) {
  auto v = o.Get(key);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : fallback;
}

int64_t read_int(const Napi::Object& o, const char* key, int64_t fallback) {
  auto v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Int64Value() : fallback;
}

Napi::Value init_group(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto o = info[0].As<Napi::Object>();
    GroupConfig c;
    c.store = read_string(o, "store", c.store);
    c.master_addr = read_string(o, "masterAddr", c.master_addr);
    c.master_port = static_cast<int>(read_int(o, "masterPort", c.master_port));
    c.file = read_string(o, "file", c.file);
    c.host_store = o.Get("hostStore").ToBoolean().Value();
    c.rank = static_cast<int>(read_int(o, "rank", c.rank));
    c.world_size = static_cast<int>(read_int(o, "worldSize", c.world_size));
    c.backend = read_string(o, "backend", c.backend);
    c.interface = read_string(o, "interface", c.interface);
    c.name = read_string(o, "name", c.name);
    c.timeout_ms = read_int(o, "timeoutMs", c.timeout_ms);
    c.heartbeat_ms = read_int(o, "heartbeatMs", c.heartbeat_ms);
    c.who = read_string(o, "who", c.who);
    auto made = std::make_shared<std::shared_ptr<DistGroup>>();
    return Task::start(
        info.Env(), [c, made] { *made = std::make_shared<DistGroup>(c); },
        [made](Napi::Env env) {
          const int id = next_id++;
          groups[id] = *made;
          return Napi::Number::New(env, id);
        });
  });
}

Napi::Value group_info(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto g = find_in(groups, info[0], "process group");
    auto out = Napi::Object::New(info.Env());
    out.Set("rank", g->rank());
    out.Set("worldSize", g->size());
    out.Set("backend", g->backend_name());
    out.Set("collectives", static_cast<double>(g->collectives()));
    out.Set("heartbeatError", g->heartbeat_error());
    return out;
  });
}

Napi::Value allreduce(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto g = find_in(groups, info[0], "process group");
    auto tensors = read_tensors(info[1]);
    const bool average = info[2].ToBoolean().Value();
    const int64_t bucket_bytes = info[3].As<Napi::Number>().Int64Value();
    g->note_collective();
    return run(info, 4, [g, tensors, average, bucket_bytes]() mutable { g->allreduce(tensors, average, bucket_bytes); });
  });
}

Napi::Value broadcast(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto g = find_in(groups, info[0], "process group");
    auto tensors = read_tensors(info[1]);
    const int root = info[2].As<Napi::Number>().Int32Value();
    g->note_collective();
    return run(info, 3, [g, tensors, root]() mutable { g->broadcast(tensors, root); });
  });
}

Napi::Value barrier(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto g = find_in(groups, info[0], "process group");
    g->note_collective();
    return run(info, 1, [g] { g->barrier(); });
  });
}

Napi::Value peers(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto g = find_in(groups, info[0], "process group");
    auto found = std::make_shared<std::vector<PeerState>>();
    return run(
        info, 1, [g, found] { *found = g->peers(); },
        [found](Napi::Env env) {
          auto out = Napi::Array::New(env, found->size());
          for (uint32_t i = 0; i < found->size(); ++i) {
            const PeerState& p = (*found)[i];
            auto o = Napi::Object::New(env);
            o.Set("rank", p.rank);
            o.Set("seen", p.seen);
            o.Set("beat", static_cast<double>(p.beat));
            o.Set("collectives", static_cast<double>(p.collectives));
            o.Set("who", p.who);
            out.Set(i, o);
          }
          return out;
        });
  });
}

// destroy(id, abandon): abandon after a failure (see DistGroup::abandon), else a clean end.
Napi::Value destroy_group(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto g = find_in(groups, info[0], "process group");
    groups.erase(info[0].As<Napi::Number>().Int32Value());
    if (info[1].ToBoolean().Value()) {
      g->abandon();
      new std::shared_ptr<DistGroup>(g);  // kept alive for good: see DistGroup::abandon
    }
    return info.Env().Undefined();
  });
}

Napi::Value create_reducer(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto g = find_in(groups, info[0], "process group");
    auto params = read_tensors(info[1]);
    const int64_t bucket_bytes = info[2].As<Napi::Number>().Int64Value();
    const int64_t first_bytes = info[3].As<Napi::Number>().Int64Value();
    auto made = std::make_shared<std::shared_ptr<DistReducer>>();
    return run(
        info, 4, [g, params, bucket_bytes, first_bytes, made] { *made = std::make_shared<DistReducer>(g, params, bucket_bytes, first_bytes); },
        [made](Napi::Env env) {
          const int id = next_id++;
          reducers[id] = *made;
          auto out = Napi::Object::New(env);
          out.Set("id", id);
          out.Set("buckets", static_cast<double>((*made)->bucket_count()));
          return out;
        });
  });
}

Napi::Value reducer_backward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto r = find_in(reducers, info[0], "reducer");
    at::Tensor loss = unwrap_tensor(info[1], "loss");
    return run(info, 2, [r, loss] { r->backward(loss); });
  });
}

// Arms the reducer for the caller's own backward() (the Learner's): its hooks then start each
// bucket's allreduce, and that backward returns once the gradients are averaged.
Napi::Value reducer_prepare(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    find_in(reducers, info[0], "reducer")->prepare(unwrap_tensor(info[1], "loss"));
    return info.Env().Undefined();
  });
}

Napi::Value destroy_reducer(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    reducers.erase(info[0].As<Napi::Number>().Int32Value());
    return info.Env().Undefined();
  });
}

Napi::Value has_backend(const Napi::CallbackInfo& info) {
  const std::string name = info[0].ToString().Utf8Value();
#ifdef USE_C10D_NCCL
  const bool nccl = true;
#else
  const bool nccl = false;
#endif
  return Napi::Boolean::New(info.Env(), name == "gloo" || (name == "nccl" && nccl));
}

}  // namespace

void register_distributed(Napi::Env env, Napi::Object exports) {
  exports.Set("distAvailable", Napi::Function::New(env, [](const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), true); }));
  exports.Set("distInit", Napi::Function::New(env, init_group));
  exports.Set("distInfo", Napi::Function::New(env, group_info));
  exports.Set("distAllreduce", Napi::Function::New(env, allreduce));
  exports.Set("distBroadcast", Napi::Function::New(env, broadcast));
  exports.Set("distBarrier", Napi::Function::New(env, barrier));
  exports.Set("distPeers", Napi::Function::New(env, peers));
  exports.Set("distDestroy", Napi::Function::New(env, destroy_group));
  exports.Set("distReducer", Napi::Function::New(env, create_reducer));
  exports.Set("distReducerBackward", Napi::Function::New(env, reducer_backward));
  exports.Set("distReducerPrepare", Napi::Function::New(env, reducer_prepare));
  exports.Set("distReducerDestroy", Napi::Function::New(env, destroy_reducer));
  exports.Set("distHasBackend", Napi::Function::New(env, has_backend));
}

}  // namespace tlcv

#else  // a libtorch without c10d's 1.x API or without Gloo's headers

namespace tlcv {
namespace {
Napi::Value unavailable(const Napi::CallbackInfo& info) {
  throw_torch_error(info.Env(),
                    "this tlcv build has no data-parallel support: it needs c10d and Gloo's headers "
                    "(Debian: apt-get install libgloo-dev, then npm run build:native), and is left out when built with TLCV_DIST=off",
                    "distributed");
}
}  // namespace

void register_distributed(Napi::Env env, Napi::Object exports) {
  exports.Set("distAvailable", Napi::Function::New(env, [](const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), false); }));
  for (const char* name : {"distInit", "distInfo", "distAllreduce", "distBroadcast", "distBarrier", "distPeers", "distDestroy", "distReducer",
                           "distReducerBackward", "distReducerPrepare", "distReducerDestroy", "distHasBackend"}) {
    exports.Set(name, Napi::Function::New(env, unavailable));
  }
}

}  // namespace tlcv
#endif  // TLCV_WITH_DIST
