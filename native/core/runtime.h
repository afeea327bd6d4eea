// Process-wide libtorch state: threads, seeds, grad and autocast modes.
#pragma once
#include <c10/core/ScalarType.h>
#include <cstdint>
#include <string>

namespace tlcv {

void set_num_threads(int n);
int get_num_threads();
void manual_seed(uint64_t seed);
// Returns the previous state so JS scopes can restore it.
bool set_grad_enabled(bool enabled);
bool is_grad_enabled();
void push_inference_mode();
void pop_inference_mode();
// dtype is a c10::ScalarType code; returns whether autocast was enabled before.
bool set_autocast(const std::string& device, bool enabled, int dtype);
bool cuda_available();
int cuda_device_count();
std::string torch_version();

}  // namespace tlcv
