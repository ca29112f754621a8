// The distributions composed of uniform and bits (ops/random.hpp), written as MLX composes them
// (mlx/random.cpp) so that the same key gives the same samples; every one runs on either device
// through the ops it is made of.
#include <cmath>
#include <limits>

#include "tessera/ops/compare.hpp"
#include "tessera/ops/creation.hpp"
#include "tessera/ops/elementwise.hpp"
#include "tessera/ops/indexing.hpp"
#include "tessera/ops/random.hpp"
#include "tessera/ops/reduce.hpp"
#include "tessera/ops/scan.hpp"
#include "tessera/ops/shape.hpp"
#include "tessera/ops/sort.hpp"

namespace tessera::random {

array randint(const array& low, const array& high, const Shape& shape, Dtype dtype, const std::optional<array>& key,
              StreamOrDevice s) {
  if (issubdtype(dtype, inexact)) {
    throw std::invalid_argument("[randint] randint only accepts integer dtypes and bool, got " + to_string(dtype));
  }
  array u = uniform(low, high, shape, float32, key, s);
  array out = astype(floor(u, s), dtype, s);  // floor: astype would truncate -1.7 to -1
  // low / high may not be exact in float32, so uniform's range can reach past them: clamp.
  array hi = astype(subtract(high, array(1, high.dtype()), s), dtype, s);
  return maximum(minimum(out, hi, s), astype(low, dtype, s), s);
}

array bernoulli(const array& p, const Shape& shape, const std::optional<array>& key, StreamOrDevice s) {
  if (!issubdtype(p.dtype(), floating)) {
    throw std::invalid_argument("[bernoulli] the probability p must be a float type, got " + to_string(p.dtype()));
  }
  if (!broadcasts_to(p.shape(), shape)) {
    throw std::invalid_argument("[bernoulli] p of shape " + shape_string(p.shape()) +
                                " is incompatible with the shape " + shape_string(shape));
  }
  // p on the scale [0, next float above UINT32_MAX]: p >= 1 is always true, p <= 0 never.
  const array upper(std::nextafter(static_cast<float>(std::numeric_limits<uint32_t>::max()),
                                   std::numeric_limits<float>::max()));
  return less(bits(shape, key, s), multiply(p, upper, s), s);
}
array bernoulli(const array& p, const std::optional<array>& key, StreamOrDevice s) {
  return bernoulli(p, p.shape(), key, s);
}
array bernoulli(const std::optional<array>& key, StreamOrDevice s) { return bernoulli(array(0.5f), key, s); }

array truncated_normal(const array& lower, const array& upper, const Shape& shape, Dtype dtype,
                       const std::optional<array>& key, StreamOrDevice s) {
  if (!issubdtype(dtype, floating)) {
    throw std::invalid_argument("[truncated_normal] only floating dtypes are accepted, got " + to_string(dtype));
  }
  const array sqrt2(std::sqrt(2.0), dtype);
  array lo = astype(lower, dtype, s), hi = astype(upper, dtype, s);
  array a = erf(divide(lo, sqrt2, s), s);
  array b = erf(divide(hi, sqrt2, s), s);
  array u = uniform(a, b, shape, dtype, key, s);
  array out = multiply(sqrt2, erfinv(u, s), s);
  return maximum(minimum(hi, out, s), lo, s);  // in bounds despite rounding
}
array truncated_normal(const array& lower, const array& upper, Dtype dtype, const std::optional<array>& key,
                       StreamOrDevice s) {
  return truncated_normal(lower, upper, broadcast_shapes(lower.shape(), upper.shape(), "truncated_normal"), dtype,
                          key, s);
}

array gumbel(const Shape& shape, Dtype dtype, const std::optional<array>& key, StreamOrDevice s) {
  return negative(log(negative(log(uniform(shape, dtype, key, s), s), s), s), s);
}

namespace {

int categorical_axis(int axis, int ndim) {
  const int ax = axis < 0 ? axis + ndim : axis;
  if (ax < 0 || ax >= ndim) {
    throw std::invalid_argument("[categorical] invalid axis " + std::to_string(axis) + " for logits with " +
                                std::to_string(ndim) + " dimensions");
  }
  return ax;
}

// One distribution, many samples: the inverse CDF (O(n + samples) memory, where Gumbel-max
// would need O(n * samples)).
array categorical_inverse_cdf(const array& logits, const Shape& shape, const std::optional<array>& key,
                              StreamOrDevice s) {
  const Dtype dtype = promote_types(logits.dtype(), float32);
  array x = astype(logits, dtype, s);
  array m = max(x, false, s);
  // exp(x - m) is NaN when m is infinite: then uniform over the maximal entries. (tessera::equal:
  // with a StreamOrDevice argument, std::equal is found too, through std::variant.)
  array w = where(isinf(m, s), astype(tessera::equal(x, m, s), dtype, s), exp(subtract(x, m, s), s), s);
  array cdf = cumsum(w, 0, false, false, s);
  array u = multiply(uniform(shape, float32, key, s), sum(w, false, s), s);
  return subtract(searchsorted(cdf, u, "right", s), array(1u), s);
}

array categorical_impl(const array& logits, int axis, const Shape& shape, const std::optional<array>& key,
                       StreamOrDevice s) {
  const int n = logits.shape(axis);
  if (n > 0 && static_cast<int64_t>(logits.size()) == n && !shape.empty()) {
    return categorical_inverse_cdf(reshape(logits, {n}, s), shape, key, s);
  }
  Shape gumbel_shape = shape;
  const int offset = axis + static_cast<int>(shape.size()) - logits.ndim() + 1;
  gumbel_shape.insert(gumbel_shape.begin() + offset, n);
  array g = gumbel(gumbel_shape, float32, key, s);
  return argmax(add(g, logits, s), offset, false, s);
}

}  // namespace

array categorical(const array& logits, int axis, const Shape& shape, const std::optional<array>& key,
                  StreamOrDevice s) {
  axis = categorical_axis(axis, logits.ndim());
  Shape reduced = logits.shape();
  reduced.erase(reduced.begin() + axis);
  if (!broadcasts_to(reduced, shape)) {
    throw std::invalid_argument("[categorical] the shape " + shape_string(shape) +
                                " does not broadcast with the reduced logits shape " + shape_string(reduced));
  }
  return categorical_impl(logits, axis, shape, key, s);
}
array categorical(const array& logits_in, int axis, int num_samples, const std::optional<array>& key,
                  StreamOrDevice s) {
  axis = categorical_axis(axis, logits_in.ndim());
  array logits = expand_dims(logits_in, -1, s);
  Shape shape = logits.shape();
  shape.erase(shape.begin() + axis);
  shape.back() = num_samples;
  return categorical_impl(logits, axis, shape, key, s);
}
array categorical(const array& logits, int axis, const std::optional<array>& key, StreamOrDevice s) {
  axis = categorical_axis(axis, logits.ndim());
  Shape shape = logits.shape();
  shape.erase(shape.begin() + axis);
  return categorical_impl(logits, axis, shape, key, s);
}

array laplace(const Shape& shape, Dtype dtype, const float loc, const float scale, const std::optional<array>& key,
              StreamOrDevice s) {
  if (!issubdtype(dtype, floating)) {
    throw std::invalid_argument("[laplace] only real floating dtypes are supported, got " + to_string(dtype));
  }
  const array low(std::nextafter(-1.0f, 0.0f)), high(1.0f);
  array u = uniform(low, high, shape, float32, key, s);
  // The inverse CDF: sign(u) * log1p(-|u|).
  array out = astype(multiply(sign(u, s), log1p(multiply(array(-1.0f, dtype), abs(u, s), s), s), s), dtype, s);
  if (scale != 1.0f) out = multiply(array(scale, dtype), out, s);
  if (loc != 0.0f) out = add(array(loc, dtype), out, s);
  return out;
}

array permutation(int x, const std::optional<array>& key, StreamOrDevice s) {
  if (x < 0) throw std::invalid_argument("[permutation] a negative length " + std::to_string(x));
  return argsort(bits({x}, key, s), s);
}
array permutation(const array& x, int axis, const std::optional<array>& key, StreamOrDevice s) {
  axis = normalize_axis(axis, x.ndim(), "permutation");
  return take(x, permutation(x.shape(axis), key, s), axis, s);
}

}  // namespace tessera::random
