// dependent_tape (transforms/tape.hpp).
#include "transforms/tape.hpp"

#include <algorithm>
#include <mutex>
#include <unordered_set>

#include "core/graph_lock.hpp"

namespace tessera {

std::vector<TapeNode> dependent_tape(const std::vector<array>& outputs,
                                     const std::vector<array>& inputs) {
  std::unordered_set<std::uintptr_t> input_ids;
  for (auto& a : inputs) input_ids.insert(a.id());
  std::unordered_set<std::uintptr_t> visited;
  std::unordered_set<std::uintptr_t> depends;  // nodes reached from an input
  std::vector<TapeNode> order;
  struct Frame {
    array node;
    size_t next;
  };
  std::vector<Frame> stack;
  std::lock_guard<std::mutex> lock(graph_mutex());
  for (auto& out : outputs) {
    if (!visited.insert(out.id()).second) continue;
    stack.push_back({out, 0});
    while (!stack.empty()) {
      auto& f = stack.back();
      if (input_ids.count(f.node.id())) {
        depends.insert(f.node.id());
        stack.pop_back();
        continue;
      }
      const auto& ins = f.node.inputs();
      if (f.next < ins.size()) {
        const array& in = ins[f.next++];
        if (visited.insert(in.id()).second) stack.push_back({in, 0});
        continue;
      }
      array node = std::move(f.node);
      stack.pop_back();
      bool dep = std::any_of(node.inputs().begin(), node.inputs().end(),
                             [&](const array& in) { return depends.count(in.id()) > 0; });
      if (dep && node.has_primitive()) {
        for (auto& o : node.outputs()) {
          depends.insert(o.id());
          visited.insert(o.id());
        }
        auto prim = node.primitive_ptr();
        auto node_inputs = node.inputs();
        order.push_back({std::move(node), std::move(prim), std::move(node_inputs)});
      }
    }
  }
  return order;
}

}  // namespace tessera
