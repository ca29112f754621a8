// print_graph and export_to_dot (core/graph_utils.hpp).
#include "tessera/core/graph_utils.hpp"

#include <functional>
#include <ostream>
#include <unordered_set>

#include "tessera/core/primitive.hpp"

namespace tessera {

const std::string& NodeNamer::get_name(const array& x) {
  auto it = names.find(x.id());
  if (it != names.end()) return it->second;
  // The n-th name (1-based) in A..Z, AA..AZ, BA.. (bijective base 26).
  std::string name;
  for (size_t n = names.size() + 1; n > 0; n = (n - 1) / 26) {
    name.insert(name.begin(), static_cast<char>('A' + (n - 1) % 26));
  }
  return names.emplace(x.id(), std::move(name)).first->second;
}

void NodeNamer::set_name(const array& x, std::string n) { names[x.id()] = std::move(n); }

namespace {

// Calls `visit` on every array the outputs depend on, inputs before the arrays that use them
// (post-order), each node once; the siblings of a visited node count as visited. An explicit
// stack instead of recursion.
void for_each_in_graph_order(const std::vector<array>& outputs,
                             const std::function<void(const array&)>& visit) {
  std::unordered_set<std::uintptr_t> seen;
  std::vector<std::pair<array, size_t>> stack;  // node, index of the next input to descend into
  for (const array& out : outputs) {
    if (!seen.insert(out.id()).second) continue;
    for (const array& s : out.siblings()) seen.insert(s.id());
    stack.emplace_back(out, 0);
    while (!stack.empty()) {
      auto& [node, next] = stack.back();
      if (next < node.inputs().size()) {
        const array in = node.inputs()[next++];
        if (seen.insert(in.id()).second) {
          for (const array& s : in.siblings()) seen.insert(s.id());
          stack.emplace_back(in, 0);
        }
        continue;
      }
      const array done = node;
      stack.pop_back();
      visit(done);
    }
  }
}

void print_arrays(std::ostream& os, NodeNamer& namer, const std::vector<array>& arrays) {
  for (size_t i = 0; i < arrays.size(); ++i) {
    if (i > 0) os << ", ";
    os << namer.get_name(arrays[i]) << " [" << arrays[i].shape() << ", " << arrays[i].dtype()
       << "]";
  }
}

}  // namespace

void print_graph(std::ostream& os, NodeNamer namer, const std::vector<array>& outputs) {
  std::vector<array> tape, inputs;
  for_each_in_graph_order(outputs, [&](const array& x) {
    (x.has_primitive() ? tape : inputs).push_back(x);
  });
  os << "Inputs: ";
  print_arrays(os, namer, inputs);
  os << "\nOutputs: ";
  print_arrays(os, namer, outputs);
  os << "\n";
  for (const array& x : tape) {
    os << x.primitive().name() << " ";
    print_arrays(os, namer, x.inputs());
    os << " -> ";
    print_arrays(os, namer, x.outputs());
    os << "\n";
  }
}

void export_to_dot(std::ostream& os, NodeNamer namer, const std::vector<array>& outputs) {
  // Arrays used by another node are intermediates; the others that have a primitive are the
  // graph's sinks, those without one its sources.
  std::unordered_set<std::uintptr_t> used;
  for_each_in_graph_order(outputs, [&](const array& x) {
    for (const array& in : x.inputs()) used.insert(in.id());
  });
  os << "digraph {\n";
  for_each_in_graph_order(outputs, [&](const array& x) {
    if (!x.has_primitive()) {
      os << "{ rank=source; \"" << namer.get_name(x) << "\"; }\n";
      return;
    }
    const auto pid = x.primitive_id();
    os << "{ " << pid << " [label =\"" << x.primitive().name() << "\", shape=rectangle]; }\n";
    for (const array& in : x.inputs()) os << '"' << namer.get_name(in) << "\" -> " << pid << "\n";
    for (const array& out : x.outputs()) {
      os << "{ " << (used.count(out.id()) ? "" : "rank=sink; ") << '"' << namer.get_name(out)
         << "\"; }\n";
      os << pid << " -> \"" << namer.get_name(out) << "\"\n";
    }
  });
  os << "}";
}

}  // namespace tessera
