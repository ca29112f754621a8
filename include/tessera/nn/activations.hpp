#pragma once
// The activation functions of MLX's `mlx.nn` as free functions in `tessera::nn`, with MLX's
// names, defaults and formulas (python/mlx/nn/layers/activations.py). Each is a few
// elementwise ops; the operators build one expression, so a chain such as
// `x * sigmoid(1.702 * x)` runs as one fused kernel.
//
// Dtypes follow MLX: a float16, bfloat16 or float64 input gives an output of the same dtype.
// Float constants are therefore made in the input's dtype (a bare C++ float would be a float32
// array under MLX's C++ promotion rules and would widen float16 to float32); small integer
// constants (0, 1, 3) keep the input's dtype, as MLX's Python ints do.
#include <cmath>
#include <numbers>
#include <stdexcept>
#include <string>

#include "tessera/core/array.hpp"
#include "tessera/core/dtype.hpp"
#include "tessera/core/shape.hpp"
#include "tessera/ops/elementwise.hpp"
#include "tessera/ops/misc.hpp"
#include "tessera/ops/reduce.hpp"
#include "tessera/ops/shape.hpp"

namespace tessera::nn {

namespace detail {
// A 0-d constant in x's floating dtype (float32 when x is an integer or bool array): the C++
// form of a weakly typed Python float in MLX.
inline array scalar_like(const array& x, double v) {
  return array(v, issubdtype(x.dtype(), floating) ? x.dtype() : float32);
}
}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Rectifiers.

// max(x, 0)
inline array relu(const array& x) { return maximum(x, 0); }

// max(x, 0)^2
inline array relu2(const array& x) { return square(maximum(x, 0)); }

// min(max(x, 0), 6)
inline array relu6(const array& x) { return minimum(maximum(x, 0), detail::scalar_like(x, 6.0)); }

// max(negative_slope * x, x)
inline array leaky_relu(const array& x, float negative_slope = 0.01f) {
  return maximum(detail::scalar_like(x, negative_slope) * x, x);
}

// max(0, x) + alpha * min(0, x), with `alpha` an array broadcast against x (PReLU's weight).
inline array prelu(const array& x, const array& alpha) {
  return maximum(x, 0) + alpha * minimum(x, 0);
}

// x if x > 0, else alpha * (exp(x) - 1).
// exp(x) - 1 is computed as expm1(min(x, 0)): the same values where they are used, more
// accurate near 0, and no overflow in the unused branch (which would give 0 * inf = NaN
// gradients for large x).
inline array elu(const array& x, float alpha = 1.0f) {
  return where(x > 0, x, detail::scalar_like(x, alpha) * expm1(minimum(x, 0)));
}

// max(0, x) + min(0, alpha * (exp(x / alpha) - 1)), written as MLX does:
// max(x, 0) + alpha * (exp(min(x, 0) / alpha) - 1), with expm1 as in elu.
inline array celu(const array& x, float alpha = 1.0f) {
  const array a = detail::scalar_like(x, alpha);
  return maximum(x, 0) + a * expm1(minimum(x, 0) / a);
}

// lambda * elu(x, alpha) with MLX's rounded constants lambda = 1.0507, alpha = 1.67326
// (PyTorch uses 1.0507009873554805 and 1.6732632423543772: results differ in the 5th digit).
inline array selu(const array& x) { return elu(x, 1.67326f) * detail::scalar_like(x, 1.0507); }

// ---------------------------------------------------------------------------------------------
// GELU and its approximations.

// x * Phi(x) = x * (1 + erf(x / sqrt(2))) / 2, Phi the standard normal CDF.
inline array gelu(const array& x) {
  return x * (1 + erf(x / detail::scalar_like(x, std::numbers::sqrt2))) / 2;
}

// 0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3))); |error| < 5e-4 on [-6, 6].
// x^3 is x * x * x (a power of a negative base is not defined in every GPU pow).
inline array gelu_approx(const array& x) {
  const array c = detail::scalar_like(x, std::sqrt(2.0 / std::numbers::pi));
  const array k = detail::scalar_like(x, 0.044715);
  return detail::scalar_like(x, 0.5) * x * (1 + tessera::tanh(c * (x + k * x * x * x)));
}

// x * sigmoid(1.702 * x); |error| < 0.015 on [-6, 6].
inline array gelu_fast_approx(const array& x) {
  return x * tessera::sigmoid(detail::scalar_like(x, 1.702) * x);
}

// Gated linear unit: x split in halves a, b along `axis` (its length must be even), a * sigmoid(b).
inline array glu(const array& x, int axis = -1) {
  const int ax = normalize_axis(axis, x.ndim(), "glu");
  if (x.shape(ax) % 2 != 0) {
    throw std::invalid_argument("[glu] axis " + std::to_string(axis) + " of an input of shape " +
                                shape_string(x.shape()) + " has odd length " +
                                std::to_string(x.shape(ax)) + "; it must split in two halves");
  }
  auto halves = split(x, 2, ax);
  return halves[0] * tessera::sigmoid(halves[1]);
}

// ---------------------------------------------------------------------------------------------
// Shrinkage and clamps.

// x where |x| > lambd, else 0.
inline array hard_shrink(const array& x, float lambd = 0.5f) {
  return where(abs(x) > detail::scalar_like(x, lambd), x, 0);
}

// x - lambd where x > lambd, x + lambd where x < -lambd, else 0.
inline array softshrink(const array& x, float lambd = 0.5f) {
  const array l = detail::scalar_like(x, lambd);
  return where(abs(x) > l, x - sign(x) * l, 0);
}

// min(max(x, min_val), max_val)
inline array hard_tanh(const array& x, float min_val = -1.0f, float max_val = 1.0f) {
  return minimum(maximum(x, detail::scalar_like(x, min_val)), detail::scalar_like(x, max_val));
}

// x * min(max(x + 3, 0), 6) / 6
inline array hardswish(const array& x) { return x * minimum(maximum(x + 3, 0), 6) / 6; }

// ---------------------------------------------------------------------------------------------
// Sigmoids and smooth rectifiers.

// 1 / (1 + exp(-x))
inline array sigmoid(const array& x) { return tessera::sigmoid(x); }

// log(1 + exp(x)), as logaddexp(x, 0): no overflow for large x.
inline array softplus(const array& x) { return logaddexp(x, 0); }

// log(sigmoid(x)) = -softplus(-x)
inline array log_sigmoid(const array& x) { return -logaddexp(-x, 0); }

// x * sigmoid(x) (also called swish)
inline array silu(const array& x) { return x * tessera::sigmoid(x); }

// x * tanh(softplus(x))
inline array mish(const array& x) { return x * tessera::tanh(logaddexp(x, 0)); }

// x / (1 + |x|)
inline array softsign(const array& x) { return x / (1 + abs(x)); }

// tanh(x)
inline array tanh(const array& x) { return tessera::tanh(x); }

// 1 where x >= threshold, else 0. As in MLX (where(x >= threshold, 1, 0)) the result is int32,
// whatever x's dtype; it has no useful gradient.
inline array step(const array& x, float threshold = 0.0f) {
  return where(x >= detail::scalar_like(x, threshold), 1, 0);
}

// ---------------------------------------------------------------------------------------------
// Normalisers along an axis. Their default axis is the last one (core softmax's is all axes).
// Write nn::softmax, qualified: unqualified, softmax(x, axis) also finds core softmax(x, axis,
// precise = false) through argument-dependent lookup, and the call is ambiguous.

// exp(x_i) / sum_j exp(x_j) along `axis`.
inline array softmax(const array& x, int axis = -1) {
  return tessera::softmax(x, normalize_axis(axis, x.ndim(), "softmax"));
}

// x - logsumexp(x) along `axis`. The max is subtracted first (outside the gradient): the
// logsumexp of large logits would otherwise round away the small differences that remain.
inline array log_softmax(const array& x, int axis = -1) {
  const int ax = normalize_axis(axis, x.ndim(), "log_softmax");
  const array shifted = x - stop_gradient(max(x, ax, /*keepdims=*/true));
  return shifted - logsumexp(shifted, ax, /*keepdims=*/true);
}

// softmax(-x) along `axis`.
inline array softmin(const array& x, int axis = -1) {
  return tessera::softmax(-x, normalize_axis(axis, x.ndim(), "softmin"));
}

}  // namespace tessera::nn
