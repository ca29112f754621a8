#pragma once
// The Convolution primitive (ops/conv.hpp). CPU kernel: backend/cpu/conv.cpp (im2col blocks
// multiplied with BLAS); Vulkan: backend/vulkan/conv.cpp + shaders/conv.glsl (implicit GEMM on
// the tiled GEMM engine of shaders/gemm_tile.glsl, the im2col matrix never stored).
//
// Channels-last layout throughout: the input is (N, spatial..., C_in), the weight (C_out,
// kernel spatial..., C_in / groups), the output (N, out spatial..., C_out); 1 to 3 spatial axes.
//
// Along each spatial axis d, output position o reads the input (virtually dilated by
// input_dilation: input_dilation - 1 zeros between neighbours) at
//   p = o * stride - padding_lo + t * kernel_dilation   (t the kernel tap; K - 1 - t if flip)
// and positions outside the dilated input read zero. Paddings may be negative (a crop). The
// output extent is floor((dilated_in + lo + hi - kernel_dilation * (K - 1) - 1) / stride) + 1.
//
// Two modes share that geometry:
//  - Forward: inputs (x, w) -> y = conv(x, w).
//  - WeightGrad: inputs (x, dy) -> dw, the gradient of <dy, conv(x, w)> with respect to w
//    (shape (C_out, kernel..., C_in / groups), given at construction): the same im2col
//    matrix, reduced over the N * out-spatial rows instead of multiplied by w.
// The input gradient needs no mode of its own: it is a Forward convolution of dy with the
// transposed, flipped weight (input dilation = stride), see ops/conv.cpp.
#include <vector>

#include "tessera/core/primitive.hpp"

namespace tessera {

struct ConvGeometry {
  std::vector<int> stride, padding_lo, padding_hi, kernel_dilation, input_dilation;
  int groups = 1;
  bool flip = false;
  bool operator==(const ConvGeometry&) const = default;
};

class Convolution : public Primitive {
 public:
  enum Mode { Forward, WeightGrad };
  Convolution(Stream s, ConvGeometry g) : Primitive(s), g_(std::move(g)), mode_(Forward) {}
  // The WeightGrad mode, producing the gradient of a weight of shape `weight_shape`.
  Convolution(Stream s, ConvGeometry g, Shape weight_shape)
      : Primitive(s), g_(std::move(g)), mode_(WeightGrad), weight_shape_(std::move(weight_shape)) {}
  TESSERA_DEFINE_EVAL()
  TESSERA_DEFINE_GRADS()
  TESSERA_DEFINE_VMAP()
  const char* name() const override { return mode_ == Forward ? "Convolution" : "ConvolutionWeightGrad"; }
  bool is_equivalent(const Primitive& other) const override;
  const ConvGeometry& geometry() const { return g_; }
  Mode mode() const { return mode_; }
  const Shape& weight_shape() const { return weight_shape_; }

  // The output spatial extents of `in_spatial` convolved with kernel extents `kernel`.
  static std::vector<int> out_spatial(const std::vector<int>& in_spatial, const std::vector<int>& kernel,
                                      const ConvGeometry& g);

 private:
  ConvGeometry g_;
  Mode mode_;
  Shape weight_shape_;  // WeightGrad only
};

}  // namespace tessera
