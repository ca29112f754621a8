#pragma once
// Functions with their own transforms, as MLX's: custom_function (any of vjp, jvp and vmap
// given by the user; the missing ones come from transforming the function), custom_vjp, and
// checkpoint (the backward pass recomputes the function's forward from its inputs instead of
// keeping its intermediate arrays).
#include <functional>
#include <optional>
#include <vector>

#include "tessera/core/array.hpp"
#include "tessera/primitives/misc.hpp"

namespace tessera {

// fun_vjp(primals, cotangents, outputs) returns one cotangent per primal;
// fun_jvp(primals, tangents, argnums) returns one tangent per output, `tangents` holding those
// of the primals in argnums; fun_vmap(inputs, axes) returns the batched outputs and their axes.
std::function<std::vector<array>(const std::vector<array>&)> custom_function(
    std::function<std::vector<array>(const std::vector<array>&)> fun,
    std::optional<CustomVjpFn> fun_vjp = std::nullopt,
    std::optional<CustomJvpFn> fun_jvp = std::nullopt,
    std::optional<CustomVmapFn> fun_vmap = std::nullopt);

std::function<std::vector<array>(const std::vector<array>&)> custom_vjp(
    std::function<std::vector<array>(const std::vector<array>&)> fun, CustomVjpFn fun_vjp);

std::function<std::vector<array>(const std::vector<array>&)> checkpoint(
    std::function<std::vector<array>(const std::vector<array>&)> fun);

}  // namespace tessera
