#pragma once
// ConvTranspose1d / ConvTranspose2d / ConvTranspose3d, as mlx.nn's: channels last (NLC, NHWC,
// NDHWC), weights (out, kernel..., in) -- MLX's layout, not PyTorch's (in, out, kernel...) --
// initialised U(-s, s) with s = sqrt(1 / (in * prod(kernel))), bias zeros. The forward pass is
// the op conv_transpose{1,2,3}d (ops/conv.hpp); MLX's layers have no groups.
#include <array>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

// (reduce.hpp first: linear.hpp uses sum without including it)
#include "tessera/ops/reduce.hpp"
#include "tessera/nn/layers/conv.hpp"
#include "tessera/nn/layers/linear.hpp"
#include "tessera/ops/conv.hpp"
#include "tessera/ops/creation.hpp"

namespace tessera::nn {

namespace detail {

template <size_t N>
class ConvTransposeNd : public Module {
 public:
  using Dims = std::array<int, N>;
  array weight;
  std::optional<array> bias;

  // MLX's repr: "in, out, kernel_size=..., stride=..., padding=..., dilation=...,
  // output_padding=..., bias=True". Its 2-D and 3-D layers turn kernel, stride, padding and
  // output_padding into tuples but keep dilation as given, so a scalar dilation prints as one.
  std::string describe() const override {
    Dims k;
    for (size_t i = 0; i < N; ++i) k[i] = weight.shape(static_cast<int>(i) + 1);
    const std::string dil = scalar_dilation_ ? std::to_string(dilation_[0]) : tuple_string(dilation_);
    return std::to_string(weight.shape(-1)) + ", " + std::to_string(weight.shape(0)) +
           ", kernel_size=" + tuple_string(k) + ", stride=" + tuple_string(stride_) + ", padding=" +
           tuple_string(padding_) + ", dilation=" + dil + ", output_padding=" + tuple_string(output_padding_) +
           ", bias=" + py_bool(bias.has_value());
  }
  array forward(const array& x) override { return call(x); }

 protected:
  ConvTransposeNd(const char* layer, int in_channels, int out_channels, Dims kernel, Dims stride, Dims padding,
                  Dims dilation, Dims output_padding, bool use_bias, bool scalar_dilation)
      : weight(make_weight(layer, in_channels, out_channels, kernel, stride, padding, dilation, output_padding)),
        layer_(layer),
        stride_(stride),
        padding_(padding),
        dilation_(dilation),
        output_padding_(output_padding),
        scalar_dilation_(scalar_dilation) {
    if (use_bias) bias = zeros({out_channels});
    register_parameter("weight", weight);
    register_parameter("bias", bias);
  }

  array call(const array& x) const {
    // Checked here so that the message names the layer and its expected layout; the op would
    // name itself.
    if (x.ndim() != static_cast<int>(N) + 2) {
      static const char* layouts[] = {"", "(N, L, C)", "(N, H, W, C)", "(N, D, H, W, C)"};
      throw std::invalid_argument(std::string("[") + layer_ + "] expects an input of shape " + layouts[N] +
                                  " (channels last), got " + shape_string(x.shape()));
    }
    if (x.shape(-1) != weight.shape(-1)) {
      throw std::invalid_argument(std::string("[") + layer_ + "] the input of shape " + shape_string(x.shape()) +
                                  " has " + std::to_string(x.shape(-1)) + " channels, the layer expects " +
                                  std::to_string(weight.shape(-1)));
    }
    array y = [&] {
      if constexpr (N == 1) {
        return conv_transpose1d(x, weight, stride_[0], padding_[0], dilation_[0], output_padding_[0]);
      } else if constexpr (N == 2) {
        return conv_transpose2d(x, weight, {stride_[0], stride_[1]}, {padding_[0], padding_[1]},
                                {dilation_[0], dilation_[1]}, {output_padding_[0], output_padding_[1]});
      } else {
        return conv_transpose3d(x, weight, {stride_[0], stride_[1], stride_[2]},
                                {padding_[0], padding_[1], padding_[2]}, {dilation_[0], dilation_[1], dilation_[2]},
                                {output_padding_[0], output_padding_[1], output_padding_[2]});
      }
    }();
    return bias ? array(y + *bias) : y;
  }

 private:
  static array make_weight(const char* layer, int in, int out, const Dims& kernel, const Dims& stride,
                           const Dims& padding, const Dims& dilation, const Dims& output_padding) {
    check_positive(layer, "in_channels", in);
    check_positive(layer, "out_channels", out);
    float fan_in = static_cast<float>(in);
    Shape shape{out};
    for (size_t i = 0; i < N; ++i) {
      check_positive(layer, "kernel_size", kernel[i]);
      check_positive(layer, "stride", stride[i]);
      check_positive(layer, "dilation", dilation[i]);
      if (padding[i] < 0) {
        throw std::invalid_argument(std::string("[") + layer + "] padding must be non-negative, got " +
                                    tuple_string(padding));
      }
      // The op's rule (and PyTorch's): extra rows only pick among the sizes a strided
      // convolution maps to the same input size. Checked at construction, not at the call.
      if (output_padding[i] < 0 || output_padding[i] >= std::max(stride[i], dilation[i])) {
        throw std::invalid_argument(std::string("[") + layer + "] output_padding " + tuple_string(output_padding) +
                                    " must be non-negative and smaller than the stride " + tuple_string(stride) +
                                    " or the dilation " + tuple_string(dilation));
      }
      fan_in *= static_cast<float>(kernel[i]);
      shape.push_back(kernel[i]);
    }
    shape.push_back(in);
    return uniform_init(std::sqrt(1.0f / fan_in), shape);
  }

  const char* layer_;
  Dims stride_, padding_, dilation_, output_padding_;
  bool scalar_dilation_;
};

}  // namespace detail

class ConvTranspose1d : public detail::ConvTransposeNd<1> {
 public:
  ConvTranspose1d(int in_channels, int out_channels, int kernel_size, int stride = 1, int padding = 0,
                  int dilation = 1, int output_padding = 0, bool bias = true)
      : ConvTransposeNd("ConvTranspose1d", in_channels, out_channels, {kernel_size}, {stride}, {padding}, {dilation},
                        {output_padding}, bias, true) {}
  std::string name() const override { return "ConvTranspose1d"; }
  array operator()(const array& x) const { return call(x); }
};

class ConvTranspose2d : public detail::ConvTransposeNd<2> {
 public:
  using Pair = std::pair<int, int>;
  ConvTranspose2d(int in_channels, int out_channels, Pair kernel_size, Pair stride = {1, 1}, Pair padding = {0, 0},
                  Pair dilation = {1, 1}, Pair output_padding = {0, 0}, bool bias = true)
      : ConvTransposeNd("ConvTranspose2d", in_channels, out_channels, {kernel_size.first, kernel_size.second},
                        {stride.first, stride.second}, {padding.first, padding.second},
                        {dilation.first, dilation.second}, {output_padding.first, output_padding.second}, bias,
                        false) {}
  // Square kernels, strides, paddings, dilations and output paddings as single ints.
  ConvTranspose2d(int in_channels, int out_channels, int kernel_size, int stride = 1, int padding = 0,
                  int dilation = 1, int output_padding = 0, bool bias = true)
      : ConvTransposeNd("ConvTranspose2d", in_channels, out_channels, {kernel_size, kernel_size}, {stride, stride},
                        {padding, padding}, {dilation, dilation}, {output_padding, output_padding}, bias, true) {}
  std::string name() const override { return "ConvTranspose2d"; }
  array operator()(const array& x) const { return call(x); }
};

class ConvTranspose3d : public detail::ConvTransposeNd<3> {
 public:
  using Triple = std::array<int, 3>;
  ConvTranspose3d(int in_channels, int out_channels, Triple kernel_size, Triple stride = {1, 1, 1},
                  Triple padding = {0, 0, 0}, Triple dilation = {1, 1, 1}, Triple output_padding = {0, 0, 0},
                  bool bias = true)
      : ConvTransposeNd("ConvTranspose3d", in_channels, out_channels, kernel_size, stride, padding, dilation,
                        output_padding, bias, false) {}
  ConvTranspose3d(int in_channels, int out_channels, int kernel_size, int stride = 1, int padding = 0,
                  int dilation = 1, int output_padding = 0, bool bias = true)
      : ConvTransposeNd("ConvTranspose3d", in_channels, out_channels, Triple{kernel_size, kernel_size, kernel_size},
                        Triple{stride, stride, stride}, Triple{padding, padding, padding},
                        Triple{dilation, dilation, dilation}, Triple{output_padding, output_padding, output_padding},
                        bias, true) {}
  std::string name() const override { return "ConvTranspose3d"; }
  array operator()(const array& x) const { return call(x); }
};

}  // namespace tessera::nn
