// An op-level profiler over libtorch's RecordFunction hooks: every dispatcher op and every
// autograd node (ConvolutionBackward0, ...) is timed on the thread that runs it, with its
// self time (minus the ops it calls), so a training step can be split into convolutions,
// normalisation, casts, the optimizer and the time spent outside any op (JS and the
// boundary). Plain C++, no N-API; one profile at a time per process.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tlcv {

struct ProfileRow {
  std::string name;
  int64_t calls = 0;
  double total_us = 0;  // inclusive
  double self_us = 0;   // exclusive of nested ops
};

struct Profile {
  std::vector<ProfileRow> rows;  // by self time, largest first
  double root_us = 0;            // time inside outermost ops: the rest of the wall time was outside libtorch's ops
};

// Throws c10::Error if a profile is already running.
void profiler_start();
// Stops and returns what was recorded since profiler_start (empty if none was running).
Profile profiler_stop();

}  // namespace tlcv
