#pragma once
// The Walsh-Hadamard transform, with MLX's signature and semantics (mlx/ops.h). A composition
// of matmuls by constant ±1 matrices (no primitive of its own): it runs on either device and
// takes its gradients and batching rules from matmul. Definition: src/ops/hadamard.cpp.
#include <optional>

#include "tessera/core/array.hpp"
#include "tessera/core/device.hpp"

namespace tessera {

// scale * H x along the last axis, of length n = m * 2^k with m in {1, 12, 20, 28} and k <= 26.
// H = H_m ⊗ H_(2^k): H_(2^k) is Sylvester's (natural order, H[i][j] = (-1)^popcount(i & j)),
// H_m the order-m matrix of Sloane's library that MLX uses, so the numbers are MLX's; the
// index along the axis is (row of H_m) * 2^k + (row of H_(2^k)). The default scale 1/sqrt(n)
// makes the transform orthonormal. Floating inputs keep their dtype, others become float32;
// complex64 and empty arrays are refused.
array hadamard_transform(const array& a, std::optional<float> scale = std::nullopt, StreamOrDevice s = {});

}  // namespace tessera
