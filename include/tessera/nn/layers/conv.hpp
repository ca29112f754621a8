#pragma once
// Conv1d / Conv2d / Conv3d, as mlx.nn's: channels last (NLC, NHWC, NDHWC), weights
// (out, kernel..., in / groups) initialised U(-s, s) with s = sqrt(1 / (in * prod(kernel))),
// bias zeros.
#include <array>
#include <cmath>
#include <optional>
#include <string>

#include "tessera/nn/layers/linear.hpp"
#include "tessera/ops/conv.hpp"
#include "tessera/ops/creation.hpp"

namespace tessera::nn {

namespace detail {
template <size_t N>
std::string tuple_string(const std::array<int, N>& v) {
  if (N == 1) return std::to_string(v[0]);
  std::string s = "(";
  for (size_t i = 0; i < N; ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + ")";
}

// The shared body of the three convolution layers; N spatial dimensions.
template <size_t N>
class ConvNd : public Module {
 public:
  using Dims = std::array<int, N>;
  array weight;
  std::optional<array> bias;

  std::string describe() const override {
    Dims k;
    for (size_t i = 0; i < N; ++i) k[i] = weight.shape(static_cast<int>(i) + 1);
    return std::to_string(weight.shape(-1) * groups_) + ", " + std::to_string(weight.shape(0)) +
           ", kernel_size=" + tuple_string(k) + ", stride=" + tuple_string(stride_) + ", padding=" +
           tuple_string(padding_) + ", dilation=" + tuple_string(dilation_) + ", groups=" + std::to_string(groups_) +
           ", bias=" + py_bool(bias.has_value());
  }
  array forward(const array& x) override { return call(x); }

 protected:
  ConvNd(const char* layer, int in_channels, int out_channels, Dims kernel, Dims stride, Dims padding, Dims dilation,
         int groups, bool use_bias)
      : weight(make_weight(layer, in_channels, out_channels, kernel, groups)),
        stride_(stride),
        padding_(padding),
        dilation_(dilation),
        groups_(groups) {
    if (use_bias) bias = zeros({out_channels});
    register_parameter("weight", weight);
    register_parameter("bias", bias);
  }
  array call(const array& x) const {
    std::vector<int> st(stride_.begin(), stride_.end()), pad(padding_.begin(), padding_.end()),
        dil(dilation_.begin(), dilation_.end());
    array y = conv_general(x, weight, st, pad, pad, dil, std::vector<int>(N, 1), groups_);
    return bias ? array(y + *bias) : y;
  }

 private:
  static array make_weight(const char* layer, int in, int out, const Dims& kernel, int groups) {
    check_positive(layer, "in_channels", in);
    check_positive(layer, "out_channels", out);
    check_positive(layer, "groups", groups);
    if (in % groups != 0 || out % groups != 0) {
      throw std::invalid_argument(std::string("[") + layer + "] in_channels (" + std::to_string(in) +
                                  ") and out_channels (" + std::to_string(out) +
                                  ") must be divisible by groups (" + std::to_string(groups) + ")");
    }
    float fan_in = static_cast<float>(in);
    Shape shape{out};
    for (int k : kernel) {
      check_positive(layer, "kernel_size", k);
      fan_in *= static_cast<float>(k);
      shape.push_back(k);
    }
    shape.push_back(in / groups);
    return uniform_init(std::sqrt(1.0f / fan_in), shape);
  }
  Dims stride_, padding_, dilation_;
  int groups_;
};
}  // namespace detail

class Conv1d : public detail::ConvNd<1> {
 public:
  Conv1d(int in_channels, int out_channels, int kernel_size, int stride = 1, int padding = 0, int dilation = 1,
         int groups = 1, bool bias = true)
      : ConvNd("Conv1d", in_channels, out_channels, {kernel_size}, {stride}, {padding}, {dilation}, groups, bias) {}
  std::string name() const override { return "Conv1d"; }
  array operator()(const array& x) const { return call(x); }
};

class Conv2d : public detail::ConvNd<2> {
 public:
  using Pair = std::pair<int, int>;
  Conv2d(int in_channels, int out_channels, Pair kernel_size, Pair stride = {1, 1}, Pair padding = {0, 0},
         Pair dilation = {1, 1}, int groups = 1, bool bias = true)
      : ConvNd("Conv2d", in_channels, out_channels, {kernel_size.first, kernel_size.second},
               {stride.first, stride.second}, {padding.first, padding.second}, {dilation.first, dilation.second},
               groups, bias) {}
  // Square kernels, strides, paddings and dilations as single ints (MLX takes either).
  Conv2d(int in_channels, int out_channels, int kernel_size, int stride = 1, int padding = 0, int dilation = 1,
         int groups = 1, bool bias = true)
      : Conv2d(in_channels, out_channels, Pair{kernel_size, kernel_size}, Pair{stride, stride},
               Pair{padding, padding}, Pair{dilation, dilation}, groups, bias) {}
  std::string name() const override { return "Conv2d"; }
  array operator()(const array& x) const { return call(x); }
};

class Conv3d : public detail::ConvNd<3> {
 public:
  using Triple = std::array<int, 3>;
  Conv3d(int in_channels, int out_channels, Triple kernel_size, Triple stride = {1, 1, 1},
         Triple padding = {0, 0, 0}, Triple dilation = {1, 1, 1}, bool bias = true)
      : ConvNd("Conv3d", in_channels, out_channels, kernel_size, stride, padding, dilation, 1, bias) {}
  Conv3d(int in_channels, int out_channels, int kernel_size, int stride = 1, int padding = 0, int dilation = 1,
         bool bias = true)
      : Conv3d(in_channels, out_channels, Triple{kernel_size, kernel_size, kernel_size},
               Triple{stride, stride, stride}, Triple{padding, padding, padding},
               Triple{dilation, dilation, dilation}, bias) {}
  std::string name() const override { return "Conv3d"; }
  array operator()(const array& x) const { return call(x); }
};

}  // namespace tessera::nn
