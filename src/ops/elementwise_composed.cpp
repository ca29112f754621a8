// MLX 0.32's small elementwise ops, composed of the elementwise set (ops/elementwise.hpp): one
// fused node each, so both devices, gradients and batching come from the ops they use.
#include <cmath>

#include "tessera/ops/compare.hpp"
#include "tessera/ops/elementwise.hpp"

namespace tessera {

array positive(const array& a, StreamOrDevice s) {
  if (a.dtype() == bool_) throw std::invalid_argument("[positive] not defined for bool");
  return add(a, array(0, a.dtype()), s);
}

array trunc(const array& a, StreamOrDevice s) {
  if (a.dtype() == complex64) throw std::invalid_argument("[trunc] not defined for complex64");
  if (!issubdtype(a.dtype(), inexact)) return a;
  return where(less(a, array(0, a.dtype()), s), ceil(a, s), floor(a, s), s);
}

array logical_xor(const array& a, const array& b, StreamOrDevice s) {
  return not_equal(astype(a, bool_, s), astype(b, bool_, s), s);
}

array nan_to_num(const array& a, float nan, std::optional<float> posinf, std::optional<float> neginf,
                 StreamOrDevice s) {
  const Dtype t = a.dtype();
  if (t == complex64) throw std::invalid_argument("[nan_to_num] not defined for complex64");
  if (!issubdtype(t, inexact)) return a;
  const double hi = posinf ? double(*posinf) : finfo(t).max, lo = neginf ? double(*neginf) : -finfo(t).max;
  array out = where(isnan(a, s), array(double(nan), t), a, s);
  out = where(isposinf(a, s), array(hi, t), out, s);
  return where(isneginf(a, s), array(lo, t), out, s);
}

array round(const array& a, int decimals, StreamOrDevice s) {
  if (decimals == 0) return round(a, s);
  const Dtype t = issubdtype(a.dtype(), inexact) ? a.dtype() : float32;
  const double scale = std::pow(10.0, decimals);
  return multiply(round(multiply(a, array(scale, t), s), s), array(1.0 / scale, t), s);
}

std::vector<array> divmod(const array& a, const array& b, StreamOrDevice s) {
  return {floor_divide(a, b, s), remainder(a, b, s)};
}

}  // namespace tessera
