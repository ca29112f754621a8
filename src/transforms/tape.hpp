#pragma once
// The part of the graph a transform rewrites: the nodes between traced inputs and the outputs,
// in topological order, found without recursion. Shared by vjp/jvp (autodiff.cpp) and vmap.
#include <memory>
#include <vector>

#include "tessera/core/array.hpp"
#include "tessera/core/primitive.hpp"

namespace tessera {

// A node of the walk, with its primitive and inputs as they were read under the graph lock
// (another thread may evaluate, and so detach, the same node while the transform runs).
struct TapeNode {
  array node;
  std::shared_ptr<Primitive> primitive;
  std::vector<array> inputs;
};

// Nodes that depend on one of `inputs`, in topological order (inputs before users). Each
// multi-output primitive appears once.
std::vector<TapeNode> dependent_tape(const std::vector<array>& outputs,
                                     const std::vector<array>& inputs);

}  // namespace tessera
