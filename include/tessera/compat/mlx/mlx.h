#pragma once
// MLX source compatibility: code written for MLX's C++ API builds against Tessera unchanged.
// Link `tessera::mlx` (CMake) or add include/tessera/compat to the include path; then
// `#include "mlx/mlx.h"` (or any header below) gives all of Tessera with MLX's namespace name.
// What differs from MLX, header by header, is in docs/mlx-compat.md.
#include "tessera/gpu.hpp"
#include "tessera/tessera.hpp"

namespace mlx {
namespace core = ::tessera;
}  // namespace mlx
