#pragma once
// RoPE, SinusoidalPositionalEncoding and ALiBi, as mlx.nn's
// (python/mlx/nn/layers/positional_encoding.py). None has parameters.
//
//   nn::RoPE rope(64);                        // rotate the first 64 features of each head
//   array q = rope(queries, cache_offset);    // (..., L, D): position = offset + row along L
//
//   nn::SinusoidalPositionalEncoding pe(32);
//   array e = pe(arange(L));                  // (L, 32)
//
//   array scores_b = nn::ALiBi()(scores);     // (N, heads, Lq, Lk) + a per-head linear bias
//
// RoPE is composed from ops (Tessera has no fused kernel yet) along MLX's own fallback of
// mx.fast.rope: the angles are computed in float32 and the cosines and sines cast to x's dtype.
#include <cmath>
#include <numbers>
#include <optional>
#include <string>
#include <vector>

#include "tessera/nn/layers/linear.hpp"
#include "tessera/ops/creation.hpp"
#include "tessera/ops/shape.hpp"

namespace tessera::nn {

// Rotary positional encoding. Feature pairs (x1, x2) of the first `dims` features are rotated
// by the angle position * base^(-2i / dims), i the pair's index; features past `dims` pass
// through. Non-traditional (the default) pairs feature i with feature i + dims/2;
// `traditional` pairs consecutive features (2i, 2i + 1), as the RoFormer paper does. The
// position of row t along axis -2 is (offset + t) * scale.
class RoPE : public Module {
 public:
  explicit RoPE(int dims, bool traditional = false, float base = 10000.0f, float scale = 1.0f)
      : dims_(dims), traditional_(traditional), base_(base), scale_(scale) {
    detail::check_positive("RoPE", "dims", dims);
    if (dims % 2 != 0) throw std::invalid_argument("[RoPE] dims must be even, got " + std::to_string(dims));
  }
  std::string name() const override { return "RoPE"; }
  std::string describe() const override {
    return std::to_string(dims_) + ", traditional=" + detail::py_bool(traditional_);
  }

  // x: (..., L, D) with D >= dims, floating point. mx.fast.rope asks for at least 3 dimensions
  // (batch, L, D); an unbatched (L, D) works here too.
  array operator()(const array& x, int offset = 0) const {
    if (x.ndim() < 2) {
      throw std::invalid_argument("[RoPE] expects an input of shape (..., L, D), got " + shape_string(x.shape()));
    }
    if (!issubdtype(x.dtype(), floating)) {
      throw std::invalid_argument(std::string("[RoPE] expects a floating-point input, got ") + dtype_name(x.dtype()));
    }
    if (x.shape(-1) < dims_) {
      throw std::invalid_argument("[RoPE] dims (" + std::to_string(dims_) + ") exceeds the " +
                                  std::to_string(x.shape(-1)) + " features of an input of shape " +
                                  shape_string(x.shape()));
    }
    const int half = dims_ / 2, T = x.shape(-2);
    // theta[t, i] = (offset + t) * scale * base^(-i / half), (T, half), in float32.
    const array positions = (arange(0.0, static_cast<double>(T), float32) + array(static_cast<float>(offset))) *
                            array(scale_);
    const array inv_freqs =
        exp(arange(0.0, static_cast<double>(-half), -1.0, float32) * array(std::log(base_) / half, float32));
    const array theta = expand_dims(positions, 1) * expand_dims(inv_freqs, 0);
    const array c = astype(cos(theta), x.dtype()), s = astype(sin(theta), x.dtype());

    const int nd = x.ndim();
    auto part = [&](int start, int stop, int step) {
      Shape lo(nd, 0), hi = x.shape(), st(nd, 1);
      lo.back() = start;
      hi.back() = stop;
      st.back() = step;
      return slice(x, lo, hi, st);
    };
    const array x1 = traditional_ ? part(0, dims_, 2) : part(0, half, 1);
    const array x2 = traditional_ ? part(1, dims_, 2) : part(half, dims_, 1);
    const array r1 = x1 * c - x2 * s;
    const array r2 = x1 * s + x2 * c;
    std::vector<array> pieces;
    if (traditional_) {
      // (..., half, 2) -> (..., dims): the rotated pairs interleaved back in place.
      Shape rotated = x.shape();
      rotated.back() = dims_;
      pieces.push_back(reshape(stack({r1, r2}, -1), rotated));
    } else {
      pieces.push_back(r1);
      pieces.push_back(r2);
    }
    if (dims_ < x.shape(-1)) pieces.push_back(part(dims_, x.shape(-1), 1));
    return pieces.size() == 1 ? pieces[0] : concatenate(pieces, -1);
  }

 private:
  int dims_;
  bool traditional_;
  float base_, scale_;
};

// sin / cos embeddings of (real-valued) positions: for x of shape S the result has shape
// (S..., dims), [sin(x * f_0), ..., sin(x * f_{d/2-1}), cos(x * f_0), ...] * scale (cosines first
// with cos_first), the frequencies f_i falling geometrically from max_freq to min_freq
// (times 2 pi with full_turns).
class SinusoidalPositionalEncoding : public Module {
 public:
  explicit SinusoidalPositionalEncoding(int dims, float min_freq = 1e-4f, float max_freq = 1.0f,
                                        std::optional<float> scale = std::nullopt, bool cos_first = false,
                                        bool full_turns = false)
      : sigmas_(make_sigmas(dims, min_freq, max_freq, full_turns)),
        dims_(dims),
        scale_(scale.value_or(std::sqrt(2.0f / static_cast<float>(dims)))),
        cos_first_(cos_first) {}
  std::string name() const override { return "SinusoidalPositionalEncoding"; }
  std::string describe() const override { return std::to_string(dims_); }

  array operator()(const array& x) const {
    const array y = expand_dims(x, -1) * sigmas_;
    const array cosy = cos(y), siny = sin(y);
    array out = cos_first_ ? concatenate({cosy, siny}, -1) : concatenate({siny, cosy}, -1);
    if (scale_ != 1.0f) out = out * array(scale_, out.dtype());
    return out;
  }
  array forward(const array& x) override { return (*this)(x); }

 private:
  // The frequencies; not a parameter (MLX keeps them in an underscored attribute, which
  // parameters() skips), so they are neither trained nor saved.
  static array make_sigmas(int dims, float min_freq, float max_freq, bool full_turns) {
    if (dims <= 0 || dims % 2 != 0) {
      throw std::invalid_argument("[SinusoidalPositionalEncoding] dims must be positive and even, got " +
                                  std::to_string(dims));
    }
    if (!(min_freq > 0.0f) || !(max_freq > 0.0f)) {
      throw std::invalid_argument("[SinusoidalPositionalEncoding] min_freq and max_freq must be positive");
    }
    const int n = dims / 2;
    // one_zero runs from 1 down to 0 over the n frequencies (just 1 when there is one).
    const array one_zero = n == 1 ? array({1.0f}) : array(1 - arange(0.0, static_cast<double>(n), float32) /
                                                                   array(static_cast<float>(n - 1)));
    const float lo = std::log(min_freq), hi = std::log(max_freq);
    array sigmas = exp(one_zero * array(hi - lo) + array(lo));
    if (full_turns) sigmas = sigmas * array(static_cast<float>(2 * std::numbers::pi));
    return sigmas;
  }

  array sigmas_;
  int dims_;
  float scale_;
  bool cos_first_;
};

// Attention with linear biases (Press et al.): adds -slope_h * |i - j| to the score of query i
// and key j in head h, the slopes a geometric sequence over the heads.
class ALiBi : public Module {
 public:
  std::string name() const override { return "ALiBi"; }

  // (1, num_heads, q_sequence_length - offset, k_sequence_length): the query positions are
  // offset .. q_sequence_length - 1 (a cache of `offset` earlier tokens), the keys 0 .. k - 1.
  static array create_alibi_matrix(int q_sequence_length, int k_sequence_length, int num_heads, int offset,
                                   Dtype dtype = float32) {
    if (offset < 0 || offset > q_sequence_length || k_sequence_length < 0) {
      throw std::invalid_argument("[ALiBi] needs 0 <= offset <= q_sequence_length and k_sequence_length >= 0, got "
                                  "q_sequence_length " + std::to_string(q_sequence_length) + ", k_sequence_length " +
                                  std::to_string(k_sequence_length) + ", offset " + std::to_string(offset));
    }
    const array x1 = arange(offset, q_sequence_length);
    const array x2 = arange(0, k_sequence_length);
    const array distance = expand_dims(-abs(expand_dims(x1, 1) - expand_dims(x2, 0)), {0, 1});
    return astype(distance * create_alibi_slope(num_heads, dtype), dtype);
  }

  // (num_heads, 1, 1). For a power of two n the slopes are s, s^2, ..., s^n with
  // s = 2^(-8 / n); otherwise those of the power of two below n, then every other slope of
  // the power of two above, as the paper's reference code does.
  static array create_alibi_slope(int num_heads, Dtype dtype = float32) {
    detail::check_positive("ALiBi", "num_heads", num_heads);
    const std::vector<double> s = slopes(num_heads);
    return expand_dims(array(s, {num_heads}, dtype), {-1, -2});
  }

  // attention_scores: (N, num_heads, L_queries, L_keys); `offset` earlier queries are cached
  // (their scores are not in the array). `mask` is added with the biases.
  array operator()(const array& attention_scores, int offset = 0, const std::optional<array>& mask = std::nullopt) const {
    if (attention_scores.ndim() != 4) {
      throw std::invalid_argument("[ALiBi] expects attention scores of shape (batch, num_heads, queries, keys), got " +
                                  shape_string(attention_scores.shape()));
    }
    array bias = create_alibi_matrix(attention_scores.shape(-2) + offset, attention_scores.shape(-1),
                                     attention_scores.shape(1), offset, attention_scores.dtype());
    if (mask) bias = bias + *mask;
    return attention_scores + bias;
  }

 private:
  static std::vector<double> slopes(int n) {
    const int p = 1 << static_cast<int>(std::floor(std::log2(static_cast<double>(n))));
    std::vector<double> out;
    if (p == n) {
      const double start = std::pow(2.0, -std::pow(2.0, -(std::log2(static_cast<double>(n)) - 3)));
      for (int i = 0; i < n; ++i) out.push_back(std::pow(start, i + 1));
      return out;
    }
    out = slopes(p);
    const std::vector<double> more = slopes(2 * p);
    for (int i = 0; i < n - p; ++i) out.push_back(more[2 * i]);
    return out;
  }
};

}  // namespace tessera::nn
