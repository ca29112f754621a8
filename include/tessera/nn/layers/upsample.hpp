#pragma once
// Upsample and the functions upsample_nearest / upsample_linear / upsample_cubic, as mlx.nn's:
// channels last, the spatial axes are 1 .. ndim-2, any number of them (linear is bi- / tri-
// linear on 2 / 3 axes, cubic bicubic on 2). Everything is composed of take, broadcast_to,
// reshape and arithmetic, so gradients flow to the input.
//
// The sampling positions and weights are computed on the host, in float32 with MLX's
// operations in MLX's order (MLX computes them as float32 arrays with Python-float scalars):
// they are constants of the graph, and an index that rounding decides (nearest's half-way
// cases, a floor at an integer) lands where MLX's lands. Scale factors are doubles because
// Python's floats are, and the output size int(scale * N) depends on it (0.7f * 10 truncates
// to 6, 0.7 * 10 to 7).
//
// Where MLX differs from PyTorch: nearest with a non-integer scale rounds the centre-aligned
// source position (i + 0.5) * N / M - 0.5 when enlarging (PyTorch floors i * N / M), and when
// int(scale * N) is not exactly scale * N, linear and cubic centre the output grid on the
// input (PyTorch aligns its first sample); integer scale factors agree with PyTorch.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

// (reduce.hpp first: linear.hpp uses sum without including it)
#include "tessera/ops/reduce.hpp"
#include "tessera/nn/layers/linear.hpp"
#include "tessera/nn/module.hpp"
#include "tessera/ops/indexing.hpp"
#include "tessera/ops/shape.hpp"

namespace tessera::nn {

enum class UpsampleMode { Nearest, Linear, Cubic };

namespace detail {

// One tap of an axis: for every output position, the input index it reads and its weight.
struct UpsampleTap {
  std::vector<int32_t> index;
  std::vector<float> weight;
};
using UpsampleTaps = std::vector<UpsampleTap>;

inline std::string py_float(double v) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, res.ptr);
  if (s.find_first_of(".en") == std::string::npos) s += ".0";  // Python writes 2.0, not 2
  return s;
}

// Checks x and the scales and returns the output sizes int(scale * N) (Python's int()).
inline std::vector<int> upsample_sizes(const char* who, const array& x, const std::vector<double>& scale) {
  const int dims = x.ndim() - 2;
  if (dims <= 0) {
    throw std::invalid_argument(std::string("[") + who +
                                "] The input should have at least 1 spatial dimension which means it should be at "
                                "least 3D but got shape " + shape_string(x.shape()));
  }
  if (static_cast<int>(scale.size()) != dims) {
    throw std::invalid_argument(std::string("[") + who + "] One scale per spatial dimension is required but " +
                                std::to_string(scale.size()) + " were given for the input of shape " +
                                shape_string(x.shape()) + " (" + std::to_string(dims) + " spatial dimensions)");
  }
  std::vector<int> out(dims);
  for (int d = 0; d < dims; ++d) {
    const double m = scale[d] * x.shape(d + 1);
    if (!(scale[d] > 0) || !std::isfinite(scale[d]) || !(m >= 1) || m >= 2147483648.0) {
      throw std::invalid_argument(std::string("[") + who + "] scale_factor " + py_float(scale[d]) +
                                  " maps spatial axis " + std::to_string(d + 1) + " of size " +
                                  std::to_string(x.shape(d + 1)) + " (input " + shape_string(x.shape()) +
                                  ") to an empty or too large size");
    }
    out[d] = static_cast<int>(m);
  }
  return out;
}

// MLX's _scaled_indices: the (fractional) source position of every output position.
inline std::vector<float> scaled_positions(int n, int m, double scale, bool align_corners) {
  std::vector<float> pos(m);
  if (align_corners) {
    const float f = static_cast<float>(static_cast<double>(n - 1) / std::max(m - 1, 1));
    for (int i = 0; i < m; ++i) pos[i] = static_cast<float>(i) * f;
  } else {
    const double step = 1 / scale;
    const double start = ((m - 1) * step - n + 1) / 2;
    const float fstep = static_cast<float>(step), fstart = static_cast<float>(start);
    for (int i = 0; i < m; ++i) pos[i] = static_cast<float>(i) * fstep - fstart;
  }
  return pos;
}

inline int32_t clamp_index(float v, int n) {
  return static_cast<int32_t>(std::min(std::max(v, 0.0f), static_cast<float>(n - 1)));
}

// MLX's _nearest_indices (non-integer scales): enlarging rounds (half to even) the centre-
// aligned position, shrinking truncates i * N / M.
inline std::vector<int32_t> nearest_indices(int n, int m) {
  std::vector<int32_t> idx(m);
  const float ratio = static_cast<float>(static_cast<double>(n) / m);
  for (int i = 0; i < m; ++i) {
    float v = static_cast<float>(i);
    v = m > n ? std::nearbyint((v + 0.5f) * ratio - 0.5f) : v * ratio;
    idx[i] = clamp_index(v, n);  // a float of -0 (or a stray -0.x) is index 0, as MLX's cast
  }
  return idx;
}

inline UpsampleTaps linear_taps(int n, int m, double scale, bool align_corners) {
  const std::vector<float> pos = scaled_positions(n, m, scale, align_corners);
  UpsampleTaps taps(2, UpsampleTap{std::vector<int32_t>(m), std::vector<float>(m)});
  for (int i = 0; i < m; ++i) {
    const float p = std::min(std::max(pos[i], 0.0f), static_cast<float>(n - 1));
    const float l = std::floor(p), r = std::ceil(p), w = p - l;
    taps[0].index[i] = static_cast<int32_t>(l);
    taps[0].weight[i] = 1.0f - w;
    taps[1].index[i] = static_cast<int32_t>(r);
    taps[1].weight[i] = w;
  }
  return taps;
}

// Keys' cubic convolution kernel with a = -0.75 (PyTorch's and OpenCV's), MLX's formula and
// evaluation order; taps at floor(p), floor(p + 1), floor(p) - 1, floor(p + 1) + 1, reading the
// border value outside the input.
inline UpsampleTaps cubic_taps(int n, int m, double scale, bool align_corners) {
  const std::vector<float> pos = scaled_positions(n, m, scale, align_corners);
  UpsampleTaps taps(4, UpsampleTap{std::vector<int32_t>(m), std::vector<float>(m)});
  const float a = -0.75f;
  auto near = [&](float x) { return ((a + 2.0f) * x - (a + 3.0f)) * x * x + 1.0f; };
  auto far = [&](float x) { return (((x - 5.0f) * x + 8.0f) * x - 4.0f) * a; };
  for (int i = 0; i < m; ++i) {
    const float p = pos[i];
    const float l1 = std::floor(p), r1 = std::floor(p + 1.0f), l2 = l1 - 1.0f, r2 = r1 + 1.0f;
    const float grid[4] = {l1, r1, l2, r2};
    for (int t = 0; t < 4; ++t) {
      const float x = std::abs(p - grid[t]);
      taps[t].weight[i] = t < 2 ? near(x) : far(x);
      taps[t].index[i] = clamp_index(grid[t], n);
    }
  }
  return taps;
}

// MLX's _aa_indices: a filter widened by 1/scale when shrinking, out-of-range taps dropped and
// the weights renormalised per output position. `radius` 1 is the triangle (linear) kernel, 2
// Keys' cubic with a = -0.5 (PIL's, which PyTorch's antialiased modes use).
inline UpsampleTaps antialias_taps(int n, int m, double scale, bool align_corners, int radius) {
  const std::vector<float> pos = scaled_positions(n, m, scale, align_corners);
  const double inv_scale = scale < 1 ? 1.0 / scale : 1.0;
  const int num_taps = static_cast<int>(std::ceil(radius * inv_scale)) + 1;
  const float finv = static_cast<float>(inv_scale);
  auto kernel = [radius](float x) {
    if (radius == 1) return std::max(1.0f - x, 0.0f);
    const float a = -0.5f;
    if (x <= 1.0f) return ((a + 2.0f) * x - (a + 3.0f)) * x * x + 1.0f;
    return x <= 2.0f ? (((x - 5.0f) * x + 8.0f) * x - 4.0f) * a : 0.0f;
  };
  UpsampleTaps taps(2 * num_taps - 1, UpsampleTap{std::vector<int32_t>(m), std::vector<float>(m)});
  for (int i = 0; i < m; ++i) {
    float total = 0.0f;
    for (int k = -num_taps + 1, t = 0; k < num_taps; ++k, ++t) {
      const float idx = std::floor(pos[i]) + static_cast<float>(k);
      float w = kernel(std::abs(pos[i] - idx) / finv);
      if (!(idx >= 0.0f && idx < static_cast<float>(n))) w = 0.0f;
      taps[t].weight[i] = w;
      taps[t].index[i] = clamp_index(idx, n);
      total += w;
    }
    if (!(total > 0.0f)) total = 1.0f;
    for (auto& tap : taps) tap.weight[i] /= total;
  }
  return taps;
}

inline array take_axis(const array& x, const std::vector<int32_t>& idx, int axis) {
  return take(x, array(idx, Shape{static_cast<int32_t>(idx.size())}, int32), axis);
}

// The weights of axis `dim` shaped to broadcast against (batch, spatial..., channels).
inline array tap_weight(const std::vector<float>& w, int dim, int dims) {
  Shape shape(dims + 1, 1);
  shape[dim] = static_cast<int32_t>(w.size());
  return array(w, shape, float32);
}

using TapsFn = std::function<UpsampleTaps(int n, int m, double scale, bool align_corners)>;

// MLX's _interpolate: the sum over every combination of one tap per axis of the product of
// their weights times the input read there, in MLX's (lexicographic) order. The reads along
// the leading axes are shared between combinations.
inline array interpolate(const array& x, const std::vector<double>& scale, const std::vector<int>& sizes,
                         bool align_corners, const TapsFn& taps_fn) {
  const int dims = static_cast<int>(sizes.size());
  std::vector<UpsampleTaps> taps;
  for (int d = 0; d < dims; ++d) taps.push_back(taps_fn(x.shape(d + 1), sizes[d], scale[d], align_corners));
  std::optional<array> acc;
  std::function<void(const array&, const std::optional<array>&, int)> go = [&](const array& xs,
                                                                                const std::optional<array>& w, int d) {
    if (d == dims) {
      array term = *w * xs;
      acc = acc ? array(*acc + term) : term;
      return;
    }
    for (auto& tap : taps[d]) {
      array wd = tap_weight(tap.weight, d, dims);
      go(take_axis(xs, tap.index, d + 1), w ? array(*w * wd) : wd, d + 1);
    }
  };
  go(x, std::nullopt, 0);
  return *acc;
}

// MLX's _interpolate_separable (the antialiased modes): one axis after the other.
inline array interpolate_separable(const array& x, const std::vector<double>& scale, const std::vector<int>& sizes,
                                   bool align_corners, const TapsFn& taps_fn) {
  const int dims = static_cast<int>(sizes.size());
  array out = x;
  for (int d = 0; d < dims; ++d) {
    std::optional<array> acc;
    for (auto& tap : taps_fn(out.shape(d + 1), sizes[d], scale[d], align_corners)) {
      array term = take_axis(out, tap.index, d + 1) * tap_weight(tap.weight, d, dims);
      acc = acc ? array(*acc + term) : term;
    }
    out = *acc;
  }
  return out;
}

inline void check_antialias(const char* who, bool align_corners, bool antialias) {
  if (antialias && align_corners) {
    throw std::invalid_argument(std::string("[") + who +
                                "] antialias=True with align_corners=True is not supported. Use "
                                "align_corners=False for antialiased interpolation.");
  }
}

}  // namespace detail

// Nearest neighbour: integer scale factors repeat every element (a broadcast and a reshape);
// others read MLX's nearest indices.
inline array upsample_nearest(const array& x, const std::vector<double>& scale_factor) {
  const std::vector<int> sizes = detail::upsample_sizes("upsample_nearest", x, scale_factor);
  const int dims = static_cast<int>(sizes.size());
  bool integer = true;
  for (double s : scale_factor) integer = integer && s == std::floor(s);
  if (integer) {
    Shape expanded{x.shape(0)}, repeated{x.shape(0)}, out{x.shape(0)};
    for (int d = 0; d < dims; ++d) {
      expanded.insert(expanded.end(), {x.shape(d + 1), 1});
      repeated.insert(repeated.end(), {x.shape(d + 1), static_cast<int32_t>(scale_factor[d])});
      out.push_back(sizes[d]);
    }
    expanded.push_back(x.shape(-1));
    repeated.push_back(x.shape(-1));
    out.push_back(x.shape(-1));
    return reshape(broadcast_to(reshape(x, expanded), repeated), out);
  }
  array y = x;
  for (int d = 0; d < dims; ++d) y = detail::take_axis(y, detail::nearest_indices(x.shape(d + 1), sizes[d]), d + 1);
  return y;
}

// (Bi-, tri-)linear interpolation; `antialias` widens the filter when shrinking.
inline array upsample_linear(const array& x, const std::vector<double>& scale_factor, bool align_corners = false,
                             bool antialias = false) {
  detail::check_antialias("upsample_linear", align_corners, antialias);
  const std::vector<int> sizes = detail::upsample_sizes("upsample_linear", x, scale_factor);
  if (antialias) {
    return detail::interpolate_separable(x, scale_factor, sizes, align_corners, [](int n, int m, double s, bool ac) {
      return detail::antialias_taps(n, m, s, ac, 1);
    });
  }
  return detail::interpolate(x, scale_factor, sizes, align_corners, detail::linear_taps);
}

// (Bi-)cubic interpolation (a = -0.75; a = -0.5 with `antialias`, as PyTorch).
inline array upsample_cubic(const array& x, const std::vector<double>& scale_factor, bool align_corners = false,
                            bool antialias = false) {
  detail::check_antialias("upsample_cubic", align_corners, antialias);
  const std::vector<int> sizes = detail::upsample_sizes("upsample_cubic", x, scale_factor);
  if (antialias) {
    return detail::interpolate_separable(x, scale_factor, sizes, align_corners, [](int n, int m, double s, bool ac) {
      return detail::antialias_taps(n, m, s, ac, 2);
    });
  }
  return detail::interpolate(x, scale_factor, sizes, align_corners, detail::cubic_taps);
}

class Upsample : public Module {
 public:
  // One scale for every spatial axis, or one per axis (checked against the input's axes at
  // the call, as MLX). Doubles, not floats (see the top); a std::vector<float> overload would
  // make a braced list of scales ambiguous.
  explicit Upsample(double scale_factor, UpsampleMode mode = UpsampleMode::Nearest, bool align_corners = false,
                    bool antialias = false)
      : Upsample(std::in_place, scale_factor, mode, align_corners, antialias) {}
  explicit Upsample(std::vector<double> scale_factor, UpsampleMode mode = UpsampleMode::Nearest,
                    bool align_corners = false, bool antialias = false)
      : Upsample(std::in_place, std::move(scale_factor), mode, align_corners, antialias) {}

  std::string name() const override { return "Upsample"; }
  std::string describe() const override {
    std::string s = "scale_factor=";
    if (auto* v = std::get_if<double>(&scale_)) {
      s += detail::py_float(*v);
    } else {
      const auto& l = std::get<std::vector<double>>(scale_);
      s += "(";
      for (size_t i = 0; i < l.size(); ++i) s += (i ? ", " : "") + detail::py_float(l[i]);
      s += l.size() == 1 ? ",)" : ")";
    }
    static const char* modes[] = {"'nearest'", "'linear'", "'cubic'"};
    s += std::string(", mode=") + modes[static_cast<int>(mode_)] + ", align_corners=" + detail::py_bool(align_corners_);
    if (antialias_) s += ", antialias=True";
    return s;
  }

  array operator()(const array& x) const {
    const int dims = x.ndim() - 2;
    if (dims <= 0) {
      throw std::invalid_argument("[Upsample] The input should have at least 1 spatial dimension which means it "
                                  "should be at least 3D but got shape " + shape_string(x.shape()));
    }
    std::vector<double> scale;
    if (auto* v = std::get_if<double>(&scale_)) {
      scale.assign(dims, *v);
    } else {
      scale = std::get<std::vector<double>>(scale_);
      if (static_cast<int>(scale.size()) != dims) {
        throw std::invalid_argument("[Upsample] One scale per spatial dimension is required but scale_factor has " +
                                    std::to_string(scale.size()) + " and the input of shape " +
                                    shape_string(x.shape()) + " has " + std::to_string(dims) +
                                    " spatial dimensions");
      }
    }
    detail::upsample_sizes("Upsample", x, scale);  // the layer's name in the message
    switch (mode_) {
      case UpsampleMode::Nearest: return upsample_nearest(x, scale);
      case UpsampleMode::Linear: return upsample_linear(x, scale, align_corners_, antialias_);
      case UpsampleMode::Cubic: return upsample_cubic(x, scale, align_corners_, antialias_);
    }
    throw std::invalid_argument("[Upsample] unknown mode");
  }
  array forward(const array& x) override { return (*this)(x); }

 private:
  Upsample(std::in_place_t, std::variant<double, std::vector<double>> scale, UpsampleMode mode, bool align_corners,
           bool antialias)
      : scale_(std::move(scale)), mode_(mode), align_corners_(align_corners), antialias_(antialias) {
    if (mode != UpsampleMode::Nearest && mode != UpsampleMode::Linear && mode != UpsampleMode::Cubic) {
      throw std::invalid_argument("[Upsample] Got unsupported upsampling algorithm " +
                                  std::to_string(static_cast<int>(mode)));
    }
    if (antialias && mode == UpsampleMode::Nearest) {
      throw std::invalid_argument("[Upsample] Antialiasing is not supported for nearest neighbor upsampling");
    }
    detail::check_antialias("Upsample", align_corners, antialias);
    auto check = [](double s) {
      if (!(s > 0) || !std::isfinite(s)) {
        throw std::invalid_argument("[Upsample] scale_factor must be positive and finite, got " + detail::py_float(s));
      }
    };
    if (auto* v = std::get_if<double>(&scale_)) check(*v);
    else for (double s : std::get<std::vector<double>>(scale_)) check(s);
  }

  std::variant<double, std::vector<double>> scale_;
  UpsampleMode mode_;
  bool align_corners_, antialias_;
};

}  // namespace tessera::nn
