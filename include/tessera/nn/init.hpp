#pragma once
// nn::init, MLX's mlx.nn.init in C++: factories that return an initializer, a callable that
// makes a fresh array of the shape of its argument (an array, whose values are ignored, or a
// Shape):
//
//   auto init_fn = nn::init::he_normal();
//   layer.weight = init_fn(layer.weight);                      // fan_in, gain 1
//   layer.weight = init_fn(layer.weight, nn::init::FanMode::FanOut, 2.0f);
//   model.apply(nn::init::glorot_uniform());                    // converts to std::function
//
// MLX's Glorot initializers take an extra `gain`, the He ones `mode` and `gain`; in C++ they
// are the overloads (a, gain), (a, mode, gain) or (a, InitArgs{...}). The samples come from
// tessera::random with MLX's calls in MLX's order, so a seeded run draws MLX's numbers.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "tessera/core/array.hpp"
#include "tessera/core/device.hpp"
#include "tessera/ops/creation.hpp"
#include "tessera/ops/elementwise.hpp"
#include "tessera/ops/indexing.hpp"
#include "tessera/ops/random.hpp"
#include "tessera/ops/shape.hpp"
#include "tessera/ops/sort.hpp"

namespace tessera::nn::init {

enum class FanMode { FanIn, FanOut };

// MLX's keyword arguments of the initializer call (not of the factory).
struct InitArgs {
  float gain = 1.0f;
  FanMode mode = FanMode::FanIn;
};

class Initializer {
 public:
  using Fn = std::function<array(const Shape&, const InitArgs&)>;
  // `takes_gain` / `takes_mode`: which of InitArgs the initializer reads. Passing one it does
  // not read throws, as MLX's call raises a TypeError for an unexpected keyword.
  Initializer(std::string name, Fn fn, bool takes_gain = false, bool takes_mode = false)
      : name_(std::move(name)), fn_(std::move(fn)), takes_gain_(takes_gain), takes_mode_(takes_mode) {}

  array operator()(const Shape& shape, const InitArgs& args = {}) const {
    if (!takes_gain_ && args.gain != 1.0f) throw std::invalid_argument("[" + name_ + "] takes no gain");
    if (!takes_mode_ && args.mode != FanMode::FanIn) throw std::invalid_argument("[" + name_ + "] takes no mode");
    return fn_(shape, args);
  }
  array operator()(const array& like, const InitArgs& args = {}) const { return (*this)(like.shape(), args); }
  array operator()(const Shape& shape, float gain) const { return (*this)(shape, InitArgs{gain, FanMode::FanIn}); }
  array operator()(const array& like, float gain) const { return (*this)(like.shape(), gain); }
  array operator()(const Shape& shape, FanMode mode, float gain = 1.0f) const {
    return (*this)(shape, InitArgs{gain, mode});
  }
  array operator()(const array& like, FanMode mode, float gain = 1.0f) const {
    return (*this)(like.shape(), mode, gain);
  }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  Fn fn_;
  bool takes_gain_, takes_mode_;
};

// MLX's _calculate_fan_in_fan_out: for a weight (out, receptive field..., in) fan_in is
// in * prod(receptive field) and fan_out out * prod(receptive field), so a Conv2d weight
// (out, kH, kW, in) has fan_in = in*kH*kW. Fewer than two dimensions throw.
inline std::pair<int64_t, int64_t> calculate_fan_in_fan_out(const Shape& shape, const std::string& who = "init") {
  if (shape.size() < 2) {
    throw std::invalid_argument("[" + who + "] Glorot / He initialization requires at least 2 dimensional input, "
                                "got shape " + shape_string(shape));
  }
  int64_t receptive = 1;
  for (size_t d = 1; d + 1 < shape.size(); ++d) receptive *= shape[d];
  return {static_cast<int64_t>(shape.back()) * receptive, static_cast<int64_t>(shape.front()) * receptive};
}

namespace detail {
// Zero fans (an empty dimension) would divide by zero; MLX raises ZeroDivisionError there.
inline double checked_fan(int64_t fan, const std::string& who, const Shape& shape) {
  if (fan <= 0) throw std::invalid_argument("[" + who + "] the fan of shape " + shape_string(shape) + " is zero");
  return static_cast<double>(fan);
}

// Q of the QR decomposition of a square matrix (row-major, n x n), by Householder reflections
// in double precision on the host, with each column multiplied by the sign of R's diagonal
// entry (as MLX does after its LAPACK QR). With that sign fix Q is unique for a full-rank
// matrix, so the result agrees with MLX's up to rounding whatever the reflection conventions.
// Tessera has no linalg::qr yet; this is an initializer, run once, not a hot path (O(n^3)).
inline std::vector<double> sign_fixed_q(std::vector<double> a, int n) {
  std::vector<double> q(static_cast<size_t>(n) * n, 0.0), v(n), w(n);
  for (int i = 0; i < n; ++i) q[static_cast<size_t>(i) * n + i] = 1.0;
  auto at = [n](std::vector<double>& m, int r, int c) -> double& { return m[static_cast<size_t>(r) * n + c]; };
  for (int k = 0; k < n; ++k) {
    double norm = 0;
    for (int r = k; r < n; ++r) norm += at(a, r, k) * at(a, r, k);
    norm = std::sqrt(norm);
    if (norm == 0) continue;  // the column is already zero below the diagonal: H = I
    // v = x - alpha e1 with alpha = -sign(x0) |x| (no cancellation); H = I - 2 v v^T / v^T v.
    const double alpha = at(a, k, k) >= 0 ? -norm : norm;
    double vv = 0;
    for (int r = k; r < n; ++r) {
      v[r] = at(a, r, k) - (r == k ? alpha : 0.0);
      vv += v[r] * v[r];
    }
    if (vv == 0) continue;
    // A <- H A on the trailing block: w = v^T A first, then A -= (2 / v^T v) v w^T, both
    // walking rows (row-major, so the inner loops are contiguous).
    std::fill(w.begin() + k, w.end(), 0.0);
    for (int r = k; r < n; ++r)
      for (int c = k; c < n; ++c) w[c] += v[r] * at(a, r, c);
    for (int r = k; r < n; ++r) {
      const double f = 2 * v[r] / vv;
      for (int c = k; c < n; ++c) at(a, r, c) -= f * w[c];
    }
    for (int r = 0; r < n; ++r) {  // Q <- Q H
      double dot = 0;
      for (int c = k; c < n; ++c) dot += at(q, r, c) * v[c];
      const double f = 2 * dot / vv;
      for (int c = k; c < n; ++c) at(q, r, c) -= f * v[c];
    }
  }
  for (int c = 0; c < n; ++c) {
    const double d = at(a, c, c);
    const double s = d > 0 ? 1.0 : d < 0 ? -1.0 : 0.0;  // mx.sign: a zero pivot zeroes its column
    for (int r = 0; r < n; ++r) at(q, r, c) *= s;
  }
  return q;
}
}  // namespace detail

// An array filled with `value`.
inline Initializer constant(float value, Dtype dtype = float32) {
  return Initializer("init::constant", [value, dtype](const Shape& s, const InitArgs&) { return full(s, value, dtype); });
}

// Samples of N(mean, stddev^2) (MLX's `std`; renamed because tessera::std is the reduction).
inline Initializer normal(float mean = 0.0f, float stddev = 1.0f, Dtype dtype = float32) {
  return Initializer("init::normal", [mean, stddev, dtype](const Shape& s, const InitArgs&) {
    return random::normal(s, dtype, mean, stddev);
  });
}

// Samples of U[low, high).
inline Initializer uniform(float low = 0.0f, float high = 1.0f, Dtype dtype = float32) {
  return Initializer("init::uniform", [low, high, dtype](const Shape& s, const InitArgs&) {
    return random::uniform(low, high, s, dtype);
  });
}

// The identity matrix; the shape must be square.
inline Initializer identity(Dtype dtype = float32) {
  return Initializer("init::identity", [dtype](const Shape& s, const InitArgs&) {
    if (s.size() != 2 || s[0] != s[1]) {
      throw std::invalid_argument("[init::identity] The input array must be a square matrix but got shape " +
                                  shape_string(s));
    }
    return eye(s[0], dtype);
  });
}

// N(0, sigma^2), sigma = gain * sqrt(2 / (fan_in + fan_out)).
inline Initializer glorot_normal(Dtype dtype = float32) {
  return Initializer("init::glorot_normal", [dtype](const Shape& s, const InitArgs& a) {
    auto [fan_in, fan_out] = calculate_fan_in_fan_out(s, "init::glorot_normal");
    const double sigma = a.gain * std::sqrt(2.0 / detail::checked_fan(fan_in + fan_out, "init::glorot_normal", s));
    return random::normal(s, dtype, 0.0f, static_cast<float>(sigma));
  }, true);
}

// U[-limit, limit), limit = gain * sqrt(6 / (fan_in + fan_out)).
inline Initializer glorot_uniform(Dtype dtype = float32) {
  return Initializer("init::glorot_uniform", [dtype](const Shape& s, const InitArgs& a) {
    auto [fan_in, fan_out] = calculate_fan_in_fan_out(s, "init::glorot_uniform");
    const double limit = a.gain * std::sqrt(6.0 / detail::checked_fan(fan_in + fan_out, "init::glorot_uniform", s));
    return random::uniform(static_cast<float>(-limit), static_cast<float>(limit), s, dtype);
  }, true);
}

// N(0, sigma^2), sigma = gain / sqrt(fan), fan = fan_in or fan_out by `mode`.
inline Initializer he_normal(Dtype dtype = float32) {
  return Initializer("init::he_normal", [dtype](const Shape& s, const InitArgs& a) {
    auto [fan_in, fan_out] = calculate_fan_in_fan_out(s, "init::he_normal");
    const double fan = detail::checked_fan(a.mode == FanMode::FanIn ? fan_in : fan_out, "init::he_normal", s);
    return random::normal(s, dtype, 0.0f, static_cast<float>(a.gain / std::sqrt(fan)));
  }, true, true);
}

// U[-limit, limit), limit = gain * sqrt(3 / fan).
inline Initializer he_uniform(Dtype dtype = float32) {
  return Initializer("init::he_uniform", [dtype](const Shape& s, const InitArgs& a) {
    auto [fan_in, fan_out] = calculate_fan_in_fan_out(s, "init::he_uniform");
    const double fan = detail::checked_fan(a.mode == FanMode::FanIn ? fan_in : fan_out, "init::he_uniform", s);
    const double limit = a.gain * std::sqrt(3.0 / fan);
    return random::uniform(static_cast<float>(-limit), static_cast<float>(limit), s, dtype);
  }, true, true);
}

// N(mean, stddev^2) samples of a 2-D shape with ceil(sparsity * cols) entries of every row set to
// zero (MLX zeros along each row, so each output feature of `x @ w.T` loses the same share of
// its inputs), the zeroed columns picked independently per row. `sparsity` is a double, as
// Python's float: ceil(0.3 * 40) is 12, ceil(0.3f * 40) 13.
inline Initializer sparse(double sparsity, float mean = 0.0f, float stddev = 1.0f, Dtype dtype = float32) {
  if (!(sparsity >= 0.0 && sparsity <= 1.0)) {
    // MLX does not check; outside [0, 1] its slice would zero all or almost all entries.
    throw std::invalid_argument("[init::sparse] sparsity must be in [0, 1], got " + std::to_string(sparsity));
  }
  return Initializer("init::sparse", [sparsity, mean, stddev, dtype](const Shape& s, const InitArgs&) {
    if (s.size() != 2) {
      throw std::invalid_argument("[init::sparse] Only arrays with 2 dimensions are supported, got shape " +
                                  shape_string(s));
    }
    const int rows = s[0], cols = s[1];
    const int num_zeros = static_cast<int>(std::ceil(sparsity * cols));
    // MLX's order of draws: the sort keys first, then the values.
    array order = argsort(random::uniform(s), 1);
    array a = random::normal(s, dtype, mean, stddev);
    if (num_zeros == 0 || rows == 0) return a;
    array picked = slice(order, {0, 0}, {rows, num_zeros});
    return put_along_axis(a, picked, zeros({rows, num_zeros}, dtype), 1);
  });
}

// A (semi-)orthogonal matrix times `gain`: the leading rows x cols block of Q from the QR of
// an n x n standard normal matrix, n = max(rows, cols), so W^T W = gain^2 I when rows >= cols
// and W W^T = gain^2 I otherwise.
inline Initializer orthogonal(float gain = 1.0f, Dtype dtype = float32) {
  return Initializer("init::orthogonal", [gain, dtype](const Shape& s, const InitArgs&) {
    if (s.size() != 2) {
      throw std::invalid_argument("[init::orthogonal] Orthogonal initialization requires a 2D array but got a " +
                                  std::to_string(s.size()) + "D array of shape " + shape_string(s));
    }
    const int rows = s[0], cols = s[1], n = std::max(rows, cols);
    if (n == 0) return zeros(s, dtype);
    array rmat = random::normal({n, n});
    const std::vector<double> q = detail::sign_fixed_q(rmat.to_vector<double>(), n);
    std::vector<double> out(static_cast<size_t>(rows) * cols);
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < cols; ++c) out[static_cast<size_t>(r) * cols + c] = q[static_cast<size_t>(r) * n + c] * gain;
    // MLX scales in float32 and then casts; rounding once from double is at least as close.
    return astype(array(out, s, float32), dtype);
  });
}

}  // namespace tessera::nn::init
