// isnan / isinf / isfinite, isclose / allclose, array_equal: compositions of elementwise
// programs and reductions (see ops/compare.hpp).
#include "tessera/ops/compare.hpp"

#include <limits>

#include "tessera/ops/creation.hpp"
#include "tessera/ops/reduce.hpp"
#include "tessera/primitives/elementwise.hpp"

namespace tessera {
namespace {

bool can_be_nan(Dtype t) { return issubdtype(t, inexact); }

// `a == value` for a float (or complex) array, one instruction program plus the constant.
array equals_constant(const array& a, double value, StreamOrDevice s) {
  return apply_elementwise(ElemOp::Equal, {a, array(value, a.dtype())}, s);
}

array all_false(const array& a, StreamOrDevice s) { return zeros(a.shape(), bool_, s); }

// |a| == inf: abs of a complex number is infinite when either part is.
int emit_isinf(ProgramBuilder& b, int ra, int rinf) {
  return b.emit(ElemOp::Equal, {b.emit(ElemOp::Abs, {ra}), rinf});
}

// a and b both NaN (x != x only for NaN).
int emit_both_nan(ProgramBuilder& b, int ra, int rb) {
  return b.emit(ElemOp::LogicalAnd,
                {b.emit(ElemOp::NotEqual, {ra, ra}), b.emit(ElemOp::NotEqual, {rb, rb})});
}

}  // namespace

array isnan(const array& a, StreamOrDevice s) {
  if (!can_be_nan(a.dtype())) return all_false(a, s);
  return apply_elementwise(ElemOp::NotEqual, {a, a}, s);
}

array isinf(const array& a, StreamOrDevice s) {
  if (!can_be_nan(a.dtype())) return all_false(a, s);
  ProgramBuilder b;
  int ra = b.input(a);
  int rinf = b.input(array(std::numeric_limits<float>::infinity(), float32));
  return b.finish(emit_isinf(b, ra, rinf), s);
}

array isposinf(const array& a, StreamOrDevice s) {
  if (a.dtype() == complex64) throw std::invalid_argument("[isposinf] is not defined for complex64");
  if (!can_be_nan(a.dtype())) return all_false(a, s);
  return equals_constant(a, std::numeric_limits<double>::infinity(), s);
}

array isneginf(const array& a, StreamOrDevice s) {
  if (a.dtype() == complex64) throw std::invalid_argument("[isneginf] is not defined for complex64");
  if (!can_be_nan(a.dtype())) return all_false(a, s);
  return equals_constant(a, -std::numeric_limits<double>::infinity(), s);
}

array isfinite(const array& a, StreamOrDevice s) {
  if (!can_be_nan(a.dtype())) return ones(a.shape(), bool_, s);
  // |a| < inf is false for NaN and for either infinity.
  ProgramBuilder b;
  int ra = b.input(a);
  int rinf = b.input(array(std::numeric_limits<float>::infinity(), float32));
  return b.finish(b.emit(ElemOp::Less, {b.emit(ElemOp::Abs, {ra}), rinf}), s);
}

array isclose(const array& a, const array& b, double rtol, double atol, bool equal_nan,
              StreamOrDevice s) {
  if (a.dtype() == bool_ || b.dtype() == bool_) {
    // |a - b| has no meaning for bool (subtract rejects it): close means equal.
    return apply_elementwise(ElemOp::Equal, {a, b}, s);
  }
  // One program: close = |a - b| <= atol + rtol |b|, then the infinities fixed up (an infinite
  // operand is close only to the same infinity, which the formula gets wrong: inf - inf is NaN),
  // then NaNs (close to each other only with equal_nan).
  ProgramBuilder p;
  int ra = p.input(a), rb = p.input(b);
  int rrtol = p.input(array(rtol)), ratol = p.input(array(atol));
  int rinf = p.input(array(std::numeric_limits<float>::infinity(), float32));
  int diff = p.emit(ElemOp::Abs, {p.emit(ElemOp::Subtract, {ra, rb})});
  int bound = p.emit(ElemOp::Add, {ratol, p.emit(ElemOp::Multiply, {rrtol, p.emit(ElemOp::Abs, {rb})})});
  int close = p.emit(ElemOp::LessEqual, {diff, bound});
  const bool inexact = can_be_nan(a.dtype()) || can_be_nan(b.dtype());
  if (inexact) {
    int any_inf = p.emit(ElemOp::LogicalOr, {emit_isinf(p, ra, rinf), emit_isinf(p, rb, rinf)});
    int same = p.emit(ElemOp::Equal, {ra, rb});  // equal infinities (or equal finite values)
    close = p.emit(ElemOp::Select, {any_inf, same, close});
    if (equal_nan) close = p.emit(ElemOp::LogicalOr, {close, emit_both_nan(p, ra, rb)});
  }
  return p.finish(close, s);
}

array allclose(const array& a, const array& b, double rtol, double atol, bool equal_nan,
               StreamOrDevice s) {
  return all(isclose(a, b, rtol, atol, equal_nan, s), false, s);
}

array array_equal(const array& a, const array& b, bool equal_nan, StreamOrDevice s) {
  if (a.shape() != b.shape()) return array(false);
  Dtype t = promote_types(a.dtype(), b.dtype());
  ProgramBuilder p;
  int ra = p.input(a), rb = p.input(b);
  int eq = p.emit(ElemOp::Equal, {ra, rb});
  if (equal_nan && can_be_nan(t)) eq = p.emit(ElemOp::LogicalOr, {eq, emit_both_nan(p, ra, rb)});
  return all(p.finish(eq, s), false, s);
}

array array_equal(const array& a, const array& b, StreamOrDevice s) {
  return array_equal(a, b, false, s);
}

}  // namespace tessera
