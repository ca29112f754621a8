#pragma once
// Evaluation of the lazy graph.
#include <vector>

#include "tessera/core/array.hpp"

namespace tessera {

// Computes the arrays (and everything they need), then releases the graph above them.
void eval(std::vector<array> outputs);
// Starts the computation and returns at once; a later eval/item/data waits for it.
void async_eval(std::vector<array> outputs);

// Nodes computed on the CPU since start-up: one node is one pass over its data, the CPU's
// kernel (gpu::dispatch_count() counts the GPU's), for tests and benchmarks of fusion.
uint64_t cpu_node_count();

inline void eval(const array& a) { eval(std::vector<array>{a}); }
inline void async_eval(const array& a) { async_eval(std::vector<array>{a}); }

template <typename... Arrays>
  requires(sizeof...(Arrays) > 1 && (std::is_convertible_v<Arrays, array> && ...))
void eval(Arrays&&... outputs) {
  eval(std::vector<array>{array(std::forward<Arrays>(outputs))...});
}
template <typename... Arrays>
  requires(sizeof...(Arrays) > 1 && (std::is_convertible_v<Arrays, array> && ...))
void async_eval(Arrays&&... outputs) {
  async_eval(std::vector<array>{array(std::forward<Arrays>(outputs))...});
}

}  // namespace tessera
