#pragma once
// The one lock of the lazy graph's structure: scheduling (status transitions) and detaching
// (dropping a node's primitive and inputs) take it, and so does every walk over a graph that
// other threads may be evaluating at the same time.
#include <mutex>

namespace tessera {
std::mutex& graph_mutex();
}  // namespace tessera
