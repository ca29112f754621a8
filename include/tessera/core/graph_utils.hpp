#pragma once
// Looking at a lazy graph, as MLX's graph_utils.h: print_graph writes the tape (one line per
// primitive, inputs first), export_to_dot writes Graphviz. Arrays are named A, B, ..., Z, AA, ...
// in the order they are met, unless a NodeNamer was given names. Both walk the graph without
// recursion, so a million-node chain prints.
#include <cstdint>
#include <iosfwd>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tessera/core/array.hpp"

namespace tessera {

struct NodeNamer {
  std::unordered_map<std::uintptr_t, std::string> names;

  const std::string& get_name(const array& x);  // the next letter name on first sight
  void set_name(const array& x, std::string n);
};

void print_graph(std::ostream& os, NodeNamer namer, const std::vector<array>& outputs);
inline void print_graph(std::ostream& os, const std::vector<array>& outputs) {
  print_graph(os, NodeNamer{}, outputs);
}
template <typename... Arrays>
  requires(std::is_convertible_v<Arrays, array> && ...)
void print_graph(std::ostream& os, Arrays&&... outputs) {
  print_graph(os, NodeNamer{}, std::vector<array>{array(std::forward<Arrays>(outputs))...});
}
template <typename... Arrays>
  requires(std::is_convertible_v<Arrays, array> && ...)
void print_graph(std::ostream& os, NodeNamer namer, Arrays&&... outputs) {
  print_graph(os, std::move(namer), std::vector<array>{array(std::forward<Arrays>(outputs))...});
}

void export_to_dot(std::ostream& os, NodeNamer namer, const std::vector<array>& outputs);
inline void export_to_dot(std::ostream& os, const std::vector<array>& outputs) {
  export_to_dot(os, NodeNamer{}, outputs);
}
template <typename... Arrays>
  requires(std::is_convertible_v<Arrays, array> && ...)
void export_to_dot(std::ostream& os, Arrays&&... outputs) {
  export_to_dot(os, NodeNamer{}, std::vector<array>{array(std::forward<Arrays>(outputs))...});
}
template <typename... Arrays>
  requires(std::is_convertible_v<Arrays, array> && ...)
void export_to_dot(std::ostream& os, NodeNamer namer, Arrays&&... outputs) {
  export_to_dot(os, std::move(namer), std::vector<array>{array(std::forward<Arrays>(outputs))...});
}

}  // namespace tessera
