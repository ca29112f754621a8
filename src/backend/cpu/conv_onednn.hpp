#pragma once
// The oneDNN path of the CPU convolution (backend/cpu/conv.cpp): float32 Forward and
// WeightGrad without input dilation or negative padding, through oneDNN's direct convolution
// kernels (the ones PyTorch uses on the CPU). Built when CMake finds oneDNN 2.x
// (libdnnl-dev); otherwise, and for the geometries it does not take, the im2col + BLAS path
// runs.
#include "backend/conv_plan.hpp"

namespace tessera::cpu {

#if TESSERA_HAS_ONEDNN
// Computes `out` (the output of `mode`) and returns true, or returns false without touching
// it when oneDNN cannot take the geometry. Dense inputs: x, then w (Forward) or dy.
bool onednn_conv(const conv_plan::Plan& p, int nsp, const ConvGeometry& g, Convolution::Mode mode,
                 const float* x, const float* second, float* out);
#else
inline bool onednn_conv(const conv_plan::Plan&, int, const ConvGeometry&, Convolution::Mode, const float*,
                        const float*, float*) {
  return false;
}
#endif

}  // namespace tessera::cpu
