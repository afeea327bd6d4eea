#include "core/profiler.h"

#include <ATen/record_function.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace tlcv {
namespace {

using Clock = std::chrono::steady_clock;

struct Frame {
  Clock::time_point start;
  double child_us = 0;
};

struct Totals {
  int64_t calls = 0;
  double total_us = 0;
  double self_us = 0;
};

std::mutex g_mutex;
std::unordered_map<std::string, Totals> g_totals;
double g_root_us = 0;
std::optional<at::CallbackHandle> g_handle;
// A callback that outlives a stop (an op that began before it) must not count.
uint64_t g_generation = 0;

struct ThreadFrames {
  uint64_t generation = 0;
  std::vector<Frame> frames;
};
thread_local ThreadFrames t_stack;

std::unique_ptr<at::ObserverContext> on_start(const at::RecordFunction&) {
  uint64_t gen;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    gen = g_generation;
  }
  if (t_stack.generation != gen) t_stack = {gen, {}};
  t_stack.frames.push_back({Clock::now(), 0});
  return nullptr;
}

void on_end(const at::RecordFunction& fn, at::ObserverContext*) {
  if (t_stack.frames.empty()) return;
  const Frame f = t_stack.frames.back();
  t_stack.frames.pop_back();
  const double us = std::chrono::duration<double, std::micro>(Clock::now() - f.start).count();
  if (!t_stack.frames.empty()) t_stack.frames.back().child_us += us;
  std::lock_guard<std::mutex> lock(g_mutex);
  if (!g_handle.has_value() || t_stack.generation != g_generation) return;
  Totals& t = g_totals[fn.name()];
  t.calls += 1;
  t.total_us += us;
  t.self_us += us - f.child_us;
  if (t_stack.frames.empty()) g_root_us += us;
}

}  // namespace

void profiler_start() {
  std::lock_guard<std::mutex> lock(g_mutex);
  TORCH_CHECK(!g_handle.has_value(), "a profile is already running");
  g_totals.clear();
  g_root_us = 0;
  g_generation += 1;
  g_handle = at::addGlobalCallback(
      at::RecordFunctionCallback(&on_start, &on_end).scopes({at::RecordScope::FUNCTION, at::RecordScope::BACKWARD_FUNCTION, at::RecordScope::USER_SCOPE}));
}

Profile profiler_stop() {
  Profile out;
  std::optional<at::CallbackHandle> handle;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    handle = g_handle;
    g_handle.reset();
    for (const auto& [name, t] : g_totals) out.rows.push_back({name, t.calls, t.total_us, t.self_us});
    out.root_us = g_root_us;
    g_totals.clear();
  }
  if (handle.has_value()) at::removeCallback(*handle);
  std::sort(out.rows.begin(), out.rows.end(), [](const ProfileRow& a, const ProfileRow& b) { return a.self_us > b.self_us; });
  return out;
}

}  // namespace tlcv
