#pragma once
// Matrix products with NumPy batch broadcasting.
#include "tessera/core/array.hpp"
#include "tessera/core/device.hpp"

namespace tessera {

// a @ b; 1-D operands are promoted to matrices and the added axis removed afterwards.
array matmul(const array& a, const array& b, StreamOrDevice s = {});
// beta * c + alpha * (a @ b)
array addmm(array c, array a, array b, const float& alpha = 1.f, const float& beta = 1.f,
            StreamOrDevice s = {});

}  // namespace tessera
