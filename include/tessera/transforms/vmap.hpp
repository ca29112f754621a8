#pragma once
// vmap, as MLX's: the function applied to every slice of its inputs along a batch axis, computed
// as one batched graph. The function is traced once on one slice per input; then each primitive
// of the traced graph is replaced by its batching rule (Primitive::vmap), so the result is an
// ordinary lazy graph: no loop over slices, and vmap composes with grad, vjp, jvp and itself.
#include <functional>
#include <vector>

#include "tessera/core/array.hpp"

namespace tessera {

// in_axes: the batch axis of each input, -1 for an input every slice shares (empty: 0 for all);
// out_axes: where each output gets the batch axis (empty: 0 for all). Negative batch axes other
// than -1 are not accepted (an axis of the input: give it non-negative). An output that does not
// depend on a batched input is broadcast along the batch axis.
std::function<std::vector<array>(const std::vector<array>&)> vmap(
    const std::function<std::vector<array>(const std::vector<array>&)>& fun,
    const std::vector<int>& in_axes = {}, const std::vector<int>& out_axes = {});

std::function<array(const array&)> vmap(const std::function<array(const array&)>& fun,
                                        int in_axis = 0, int out_axis = 0);

std::function<array(const array&, const array&)> vmap(
    const std::function<array(const array&, const array&)>& fun, int in_axis_a = 0,
    int in_axis_b = 0, int out_axis = 0);

}  // namespace tessera
