#include "core/ops.h"

#include <unordered_map>

namespace tlcv {
namespace {
std::vector<OpEntry>& table() {
  static std::vector<OpEntry> t;
  return t;
}
std::unordered_map<std::string, int>& index() {
  static std::unordered_map<std::string, int> m;
  return m;
}
}  // namespace

int resolve_op(const std::string& name, const std::string& overload) {
  const std::string key = name + "." + overload;
  auto found = index().find(key);
  if (found != index().end()) return found->second;
  auto handle = c10::Dispatcher::singleton().findSchemaOrThrow(name.c_str(), overload.c_str());
  table().push_back(OpEntry{handle, key, make_fast_path(handle)});
  const int id = static_cast<int>(table().size()) - 1;
  index().emplace(key, id);
  return id;
}

const OpEntry& op_entry(int id) {
  TORCH_CHECK(id >= 0 && static_cast<size_t>(id) < table().size(), "tlcv: no op with id ", id);
  return table()[id];
}

const c10::FunctionSchema& op_schema(int id) { return op_entry(id).handle.schema(); }

void call_op(int id, torch::jit::Stack& stack) { op_entry(id).handle.callBoxed(&stack); }

std::vector<std::string> op_overloads(const std::string& name) {
  std::vector<std::string> out;
  for (const auto& op : c10::Dispatcher::singleton().getAllOpNames()) {
    if (op.name == name) out.push_back(op.overload_name);
  }
  return out;
}

}  // namespace tlcv
