#pragma once
// clip_grad_norm, as mlx.optimizers': scales a gradient tree so that its global L2 norm is at
// most max_norm, and returns the norm before clipping.
#include <utility>

#include "tessera/ops/elementwise.hpp"
#include "tessera/ops/reduce.hpp"
#include "tessera/utils/tree.hpp"

namespace tessera::optim {

inline std::pair<Tree, array> clip_grad_norm(const Tree& grads, float max_norm) {
  const auto leaves = tree::leaves(grads);
  if (leaves.empty()) throw std::invalid_argument("[clip_grad_norm] the gradient tree holds no arrays");
  array total = sum(square(astype(leaves[0], float32)));
  for (size_t i = 1; i < leaves.size(); ++i) total = total + sum(square(astype(leaves[i], float32)));
  array norm = sqrt(total);
  // As MLX: untouched below max_norm, scaled by max_norm / (norm + 1e-6) from it on.
  array scale = where(norm < array(max_norm), array(1.0f), array(max_norm) / (norm + array(1e-6f)));
  Tree clipped = tree::map([&](const array& g) { return array(g * astype(scale, g.dtype())); }, grads);
  return {clipped, norm};
}

}  // namespace tessera::optim
