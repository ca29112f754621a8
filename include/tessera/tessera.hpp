#pragma once
// Tessera: lazy arrays, composable transforms, CPU and Vulkan backends.
// `#include <tessera/tessera.hpp>` and `namespace mx = tessera;` is all MLX C++ code needs.
#include "tessera/config.hpp"
#include "tessera/core/array.hpp"
#include "tessera/core/device.hpp"
#include "tessera/core/dtype.hpp"
#include "tessera/core/memory.hpp"
#include "tessera/core/primitive.hpp"
#include "tessera/core/shape.hpp"
#include "tessera/expr/expr.hpp"
#include "tessera/ops/creation.hpp"
#include "tessera/ops/elementwise.hpp"
#include "tessera/ops/matmul.hpp"
#include "tessera/ops/random.hpp"
#include "tessera/ops/reduce.hpp"
#include "tessera/ops/shape.hpp"
#include "tessera/transforms/autodiff.hpp"
#include "tessera/transforms/eval.hpp"
