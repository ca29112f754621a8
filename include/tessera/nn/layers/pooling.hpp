#pragma once
// Max and average pooling in 1-3 spatial dimensions, as mlx.nn's: channels last, stride defaults
// to the kernel size, padding with -inf (max) or 0 (average) on both sides. The windows are a
// strided view of the (padded) input, reduced over the window axes; non-overlapping windows
// that tile the input exactly are a plain reshape instead.
#include <array>
#include <limits>
#include <optional>
#include <string>

#include "tessera/nn/layers/conv.hpp"
#include "tessera/ops/rearrange.hpp"
#include "tessera/ops/reduce.hpp"

namespace tessera::nn {

namespace detail {

template <size_t N>
class PoolNd : public Module {
 public:
  using Dims = std::array<int, N>;
  std::string describe() const override {
    return "kernel_size=" + tuple_string(kernel_) + ", stride=" + tuple_string(stride_) + ", padding=" +
           tuple_string(padding_);
  }
  array forward(const array& x) override { return call(x); }

 protected:
  PoolNd(const char* layer, bool is_max, Dims kernel, std::optional<Dims> stride, Dims padding)
      : layer_(layer), is_max_(is_max), kernel_(kernel), stride_(stride.value_or(kernel)), padding_(padding) {
    for (size_t i = 0; i < N; ++i) {
      check_positive(layer, "kernel_size", kernel_[i]);
      check_positive(layer, "stride", stride_[i]);
      if (padding_[i] < 0 || padding_[i] > kernel_[i] / 2) {
        throw std::invalid_argument(std::string("[") + layer + "] padding " + std::to_string(padding_[i]) +
                                    " must be in [0, kernel_size / 2] (kernel " + std::to_string(kernel_[i]) + ")");
      }
    }
  }

  array call(const array& in) const {
    if (in.ndim() != static_cast<int>(N) + 2) {
      throw std::invalid_argument("[" + std::string(layer_) + "] expects inputs of " + std::to_string(N + 2) +
                                  " dimensions (batch, spatial..., channels), got shape " + shape_string(in.shape()));
    }
    array x = in;
    bool padded = false;
    std::vector<std::pair<int, int>> widths{{0, 0}};
    for (size_t i = 0; i < N; ++i) {
      widths.push_back({padding_[i], padding_[i]});
      padded = padded || padding_[i] > 0;
    }
    widths.push_back({0, 0});
    if (padded) {
      const array fill = is_max_ ? array(-std::numeric_limits<float>::infinity(), x.dtype()) : array(0, x.dtype());
      x = pad(x, widths, fill);
    }
    for (size_t i = 0; i < N; ++i) {
      if (x.shape(static_cast<int>(i) + 1) < kernel_[i]) {
        throw std::invalid_argument("[" + std::string(layer_) + "] kernel " + tuple_string(kernel_) +
                                    " is larger than the (padded) input of shape " + shape_string(x.shape()));
      }
    }
    std::vector<int> window_axes;
    array windows = sliding_windows(x, window_axes);
    return is_max_ ? max(windows, window_axes) : mean(windows, window_axes);
  }

 private:
  // (batch, out..., kernel..., channels), or for exact non-overlapping tiles
  // (batch, out0, k0, out1, k1, ..., channels); `axes` receives the window axes.
  array sliding_windows(const array& x, std::vector<int>& axes) const {
    bool tiles = true;
    for (size_t i = 0; i < N; ++i)
      tiles = tiles && kernel_[i] == stride_[i] && x.shape(static_cast<int>(i) + 1) % kernel_[i] == 0;
    const int batch = x.shape(0), channels = x.shape(-1);
    if (tiles) {
      Shape shape{batch};
      for (size_t i = 0; i < N; ++i) {
        shape.push_back(x.shape(static_cast<int>(i) + 1) / kernel_[i]);
        shape.push_back(kernel_[i]);
        axes.push_back(static_cast<int>(2 * i + 2));
      }
      shape.push_back(channels);
      return reshape(x, shape);
    }
    array c = contiguous(x);
    Strides elem(c.ndim());
    int64_t s = 1;
    for (int d = c.ndim() - 1; d >= 0; --d) {
      elem[d] = s;
      s *= c.shape(d);
    }
    Shape shape{batch};
    Strides strides{elem[0]};
    for (size_t i = 0; i < N; ++i) {
      shape.push_back((c.shape(static_cast<int>(i) + 1) - kernel_[i]) / stride_[i] + 1);
      strides.push_back(elem[i + 1] * stride_[i]);
    }
    for (size_t i = 0; i < N; ++i) {
      shape.push_back(kernel_[i]);
      strides.push_back(elem[i + 1]);
      axes.push_back(static_cast<int>(N + 1 + i));
    }
    shape.push_back(channels);
    strides.push_back(1);
    return as_strided(c, shape, strides, 0);
  }

  const char* layer_;
  bool is_max_;
  Dims kernel_, stride_, padding_;
};

template <size_t N, bool IsMax>
class Pool : public PoolNd<N> {
 public:
  using Dims = typename PoolNd<N>::Dims;
  array operator()(const array& x) const { return this->call(x); }

 protected:
  Pool(const char* layer, Dims kernel, std::optional<Dims> stride, Dims padding)
      : PoolNd<N>(layer, IsMax, kernel, stride, padding) {}
};

}  // namespace detail

#define TESSERA_POOL_LAYER(NAME, N, IS_MAX)                                                            \
  class NAME : public detail::Pool<N, IS_MAX> {                                                        \
   public:                                                                                             \
    NAME(Dims kernel_size, std::optional<Dims> stride = std::nullopt, Dims padding = {})               \
        : Pool(#NAME, kernel_size, stride, padding) {}                                                 \
    NAME(int kernel_size, std::optional<int> stride = std::nullopt, int padding = 0)                   \
        : Pool(#NAME, filled(kernel_size), stride ? std::optional<Dims>(filled(*stride)) : std::nullopt, \
               filled(padding)) {}                                                                     \
    std::string name() const override { return #NAME; }                                                \
                                                                                                       \
   private:                                                                                            \
    static Dims filled(int v) {                                                                        \
      Dims d;                                                                                          \
      d.fill(v);                                                                                       \
      return d;                                                                                        \
    }                                                                                                  \
  };
TESSERA_POOL_LAYER(MaxPool1d, 1, true)
TESSERA_POOL_LAYER(MaxPool2d, 2, true)
TESSERA_POOL_LAYER(MaxPool3d, 3, true)
TESSERA_POOL_LAYER(AvgPool1d, 1, false)
TESSERA_POOL_LAYER(AvgPool2d, 2, false)
TESSERA_POOL_LAYER(AvgPool3d, 3, false)
#undef TESSERA_POOL_LAYER

}  // namespace tessera::nn
