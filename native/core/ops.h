// Ops are called boxed through the ATen dispatcher rather than bound one by one:
// Debian's libtorch ships no Declarations.yaml to generate bindings from, a boxed
// call costs about the same as a direct one, and it keeps this layer free of
// per-op code while TS gets every op of whatever libtorch is installed.
#pragma once
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/stack.h>
#include <string>
#include <vector>

#include "core/fast_call.h"

namespace tlcv {

struct OpEntry {
  c10::OperatorHandle handle;
  std::string name;
  FastPath fast;
};

// Returns a stable id for "aten::name" + overload; throws c10::Error if unknown.
int resolve_op(const std::string& name, const std::string& overload);
const OpEntry& op_entry(int id);
const c10::FunctionSchema& op_schema(int id);
void call_op(int id, torch::jit::Stack& stack);
std::vector<std::string> op_overloads(const std::string& name);

}  // namespace tlcv
