// Reductions: argument checking, output dtypes, the composites (mean, logsumexp, softmax) and
// the gradient rules of Reduce and ArgReduce.
#include "tessera/ops/reduce.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

#include "tessera/ops/creation.hpp"
#include "tessera/ops/elementwise.hpp"
#include "tessera/ops/misc.hpp"
#include "tessera/ops/shape.hpp"
#include "tessera/primitives/elementwise.hpp"
#include "tessera/primitives/reduce.hpp"
#include "tessera/primitives/shape.hpp"
#include "transforms/batching.hpp"

namespace tessera {

namespace {

std::vector<int> all_axes(const array& a) {
  std::vector<int> axes(a.ndim());
  std::iota(axes.begin(), axes.end(), 0);
  return axes;
}

// Sorted, distinct, non-negative axes; throws naming the op, the axis and the shape.
std::vector<int> normalize_axes(const char* op, const std::vector<int>& axes, const array& a) {
  std::vector<int> out;
  const int nd = a.ndim();
  for (int ax : axes) {
    if (ax < -nd || ax >= nd) {
      throw std::invalid_argument(std::string("[") + op + "] axis " + std::to_string(ax) +
                                  " is out of bounds for an array of shape " +
                                  shape_string(a.shape()));
    }
    int n = ax < 0 ? ax + nd : ax;
    if (std::find(out.begin(), out.end(), n) != out.end()) {
      throw std::invalid_argument(std::string("[") + op + "] duplicate axis " +
                                  std::to_string(ax) + " in " + axes_string(axes) +
                                  " for an array of shape " + shape_string(a.shape()));
    }
    out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Shape kept_shape(const Shape& shape, const std::vector<int>& axes) {
  Shape k = shape;
  for (int ax : axes) k[ax] = 1;
  return k;
}
Shape squeezed_shape(const Shape& shape, const std::vector<int>& axes) {
  Shape k;
  for (int i = 0; i < static_cast<int>(shape.size()); ++i) {
    if (std::find(axes.begin(), axes.end(), i) == axes.end()) k.push_back(shape[i]);
  }
  return k;
}

array cast(const array& a, Dtype t, StreamOrDevice s) {
  if (a.dtype() == t) return a;
  return apply_elementwise(ElemOp::AsType, {a}, s, t);
}

// The Reduce node over normalised `axes` (the node keeps them as size 1; a reshape removes
// them when !keepdims).
array reduce_node(const array& a, Reduce::ReduceType type, const std::vector<int>& axes,
                  bool keepdims, Dtype out_dtype, StreamOrDevice s) {
  if (axes.empty()) return cast(a, out_dtype, s);
  array r(kept_shape(a.shape(), axes), out_dtype,
          std::make_shared<Reduce>(to_stream(s), type, axes, out_dtype), {a});
  if (!keepdims) r = reshape(r, squeezed_shape(a.shape(), axes), s);
  return r;
}

void check_not_complex(const char* op, const array& a) {
  if (is_complex(a.dtype())) {
    throw std::invalid_argument(std::string("[") + op + "] is not supported for complex64 (shape " +
                                shape_string(a.shape()) + ")");
  }
}

void check_nonempty(const char* op, const array& a, const std::vector<int>& axes) {
  for (int ax : axes) {
    if (a.shape()[ax] == 0) {
      throw std::invalid_argument(std::string("[") + op + "] cannot reduce the empty axis " +
                                  std::to_string(ax) + " of an array of shape " +
                                  shape_string(a.shape()) + ": the reduction has no identity");
    }
  }
}

Dtype sum_dtype(Dtype t) { return t == bool_ ? int32 : t; }

// m with +-inf replaced by 0, so that `exp(x - m)` of a row whose maximum is infinite gives
// exp(-inf) = 0 or exp(inf) = inf instead of NaN.
array finite_max(const array& m, StreamOrDevice s) {
  if (!issubdtype(m.dtype(), inexact)) return m;  // integers are finite
  ProgramBuilder b;
  int rm = b.input(m);
  int rinf = b.input(array(std::numeric_limits<float>::infinity(), m.dtype()));
  int rzero = b.input(array(0.0f, m.dtype()));
  int isinf = b.emit(ElemOp::Equal, {b.emit(ElemOp::Abs, {rm}), rinf});
  return b.finish(b.emit(ElemOp::Select, {isinf, rzero, rm}), s);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Ops

#define TESSERA_REDUCTION_OVERLOADS(NAME)                                                  \
  array NAME(const array& a, bool keepdims, StreamOrDevice s) {                            \
    return NAME(a, all_axes(a), keepdims, s);                                              \
  }                                                                                        \
  array NAME(const array& a, StreamOrDevice s) { return NAME(a, false, s); }               \
  array NAME(const array& a, int axis, bool keepdims, StreamOrDevice s) {                  \
    return NAME(a, std::vector<int>{axis}, keepdims, s);                                   \
  }

array sum(const array& a, const std::vector<int>& axes, bool keepdims, StreamOrDevice s) {
  auto ax = normalize_axes("sum", axes, a);
  return reduce_node(a, Reduce::Sum, ax, keepdims, sum_dtype(a.dtype()), s);
}
TESSERA_REDUCTION_OVERLOADS(sum)

array prod(const array& a, const std::vector<int>& axes, bool keepdims, StreamOrDevice s) {
  auto ax = normalize_axes("prod", axes, a);
  return reduce_node(a, Reduce::Prod, ax, keepdims, sum_dtype(a.dtype()), s);
}
TESSERA_REDUCTION_OVERLOADS(prod)

array max(const array& a, const std::vector<int>& axes, bool keepdims, StreamOrDevice s) {
  auto ax = normalize_axes("max", axes, a);
  check_not_complex("max", a);
  check_nonempty("max", a, ax);
  return reduce_node(a, Reduce::Max, ax, keepdims, a.dtype(), s);
}
TESSERA_REDUCTION_OVERLOADS(max)

array min(const array& a, const std::vector<int>& axes, bool keepdims, StreamOrDevice s) {
  auto ax = normalize_axes("min", axes, a);
  check_not_complex("min", a);
  check_nonempty("min", a, ax);
  return reduce_node(a, Reduce::Min, ax, keepdims, a.dtype(), s);
}
TESSERA_REDUCTION_OVERLOADS(min)

array all(const array& a, const std::vector<int>& axes, bool keepdims, StreamOrDevice s) {
  auto ax = normalize_axes("all", axes, a);
  return reduce_node(a, Reduce::And, ax, keepdims, bool_, s);
}
TESSERA_REDUCTION_OVERLOADS(all)

array any(const array& a, const std::vector<int>& axes, bool keepdims, StreamOrDevice s) {
  auto ax = normalize_axes("any", axes, a);
  return reduce_node(a, Reduce::Or, ax, keepdims, bool_, s);
}
TESSERA_REDUCTION_OVERLOADS(any)

// Inexact inputs keep their dtype, integers and bool give float32. The sum runs into float32
// for 16-bit floats and integers (so it accumulates in float32 / float64 and cannot overflow)
// and one fused elementwise node scales it and rounds back.
array mean(const array& a, const std::vector<int>& axes, bool keepdims, StreamOrDevice s) {
  auto ax = normalize_axes("mean", axes, a);
  const Dtype out = issubdtype(a.dtype(), inexact) ? a.dtype() : float32;
  const Dtype acc = (out == float16 || out == bfloat16 || !issubdtype(a.dtype(), inexact))
                        ? float32 : out;
  double n = 1;
  for (int i : ax) n *= a.shape()[i];
  array total = reduce_node(a, Reduce::Sum, ax, keepdims, acc, s);
  // 1/0 = inf, so the mean over an empty axis is 0 * inf = NaN, as NumPy.
  const double scale = 1.0 / n;
  ProgramBuilder b;
  int rt = b.input(total);
  int rs = b.input(acc == float64 ? array(scale, float64)
                                  : (acc == complex64 ? array(static_cast<float>(scale), float32)
                                                      : array(static_cast<float>(scale), acc)));
  int r = b.emit(ElemOp::Multiply, {rt, rs});
  if (!(b.dtype(r) == out)) r = b.emit(ElemOp::AsType, {r}, out);
  return b.finish(r, s);
}
TESSERA_REDUCTION_OVERLOADS(mean)

// log(sum(exp(a - m))) + m with m the (gradient-stopped) maximum, made finite so that rows of
// -inf give -inf and rows holding +inf give +inf rather than NaN.
array logsumexp(const array& a, const std::vector<int>& axes, bool keepdims, StreamOrDevice s) {
  auto ax = normalize_axes("logsumexp", axes, a);
  check_not_complex("logsumexp", a);
  check_nonempty("logsumexp", a, ax);
  if (ax.empty()) return a;
  array m_raw = stop_gradient(max(a, ax, true, s), s);
  array m = finite_max(m_raw, s);
  ProgramBuilder b1;
  int ra = b1.input(a), rm = b1.input(m);
  array e = b1.finish(b1.emit(ElemOp::Exp, {b1.emit(ElemOp::Subtract, {ra, rm})}), s);
  array total = sum(e, ax, true, s);
  // log(total) + m, or the infinite maximum itself where there is one (so a row of -inf gives
  // exactly -inf, whatever exp(-inf) rounds to).
  ProgramBuilder b2;
  int rt = b2.input(total), rm2 = b2.input(m);
  const bool inexact_in = issubdtype(m_raw.dtype(), inexact);
  int rraw = inexact_in ? b2.input(m_raw) : -1;
  int rinf = inexact_in ? b2.input(array(std::numeric_limits<float>::infinity(), m_raw.dtype())) : -1;
  int r = b2.emit(ElemOp::Add, {b2.emit(ElemOp::Log, {rt}), rm2});
  if (inexact_in) {
    int isinf = b2.emit(ElemOp::Equal, {b2.emit(ElemOp::Abs, {rraw}), rinf});
    r = b2.emit(ElemOp::Select, {isinf, rraw, r});
  }
  array out = b2.finish(r, s);
  if (!keepdims) out = reshape(out, squeezed_shape(a.shape(), ax), s);
  return out;
}
TESSERA_REDUCTION_OVERLOADS(logsumexp)

// ---------------------------------------------------------------------------------------------
// argmax / argmin

namespace {
array arg_reduce(const char* op, ArgReduce::ReduceType type, const array& a, int axis,
                 bool keepdims, StreamOrDevice s) {
  if (a.ndim() == 0 && (axis == 0 || axis == -1)) {
    // A 0-d array: index 0 (as NumPy).
    return reshape(arg_reduce(op, type, reshape(a, {1}, s), 0, false, s), {}, s);
  }
  auto ax = normalize_axes(op, {axis}, a);
  check_not_complex(op, a);
  check_nonempty(op, a, ax);
  array r(kept_shape(a.shape(), ax), uint32,
          std::make_shared<ArgReduce>(to_stream(s), type, ax[0]), {a});
  if (!keepdims) r = reshape(r, squeezed_shape(a.shape(), ax), s);
  return r;
}
array arg_reduce_all(const char* op, ArgReduce::ReduceType type, const array& a, bool keepdims,
                     StreamOrDevice s) {
  array r = arg_reduce(op, type, reshape(a, {-1}, s), 0, false, s);
  if (keepdims) r = reshape(r, Shape(a.ndim(), 1), s);
  return r;
}
}  // namespace

array argmax(const array& a, int axis, bool keepdims, StreamOrDevice s) {
  return arg_reduce("argmax", ArgReduce::ArgMax, a, axis, keepdims, s);
}
array argmax(const array& a, bool keepdims, StreamOrDevice s) {
  return arg_reduce_all("argmax", ArgReduce::ArgMax, a, keepdims, s);
}
array argmax(const array& a, StreamOrDevice s) { return argmax(a, false, s); }
array argmin(const array& a, int axis, bool keepdims, StreamOrDevice s) {
  return arg_reduce("argmin", ArgReduce::ArgMin, a, axis, keepdims, s);
}
array argmin(const array& a, bool keepdims, StreamOrDevice s) {
  return arg_reduce_all("argmin", ArgReduce::ArgMin, a, keepdims, s);
}
array argmin(const array& a, StreamOrDevice s) { return argmin(a, false, s); }

// ---------------------------------------------------------------------------------------------
// softmax: exp(a - max) / sum(exp(a - max)), with the max's gradient stopped (the result does
// not depend on it). `precise` computes 16-bit inputs in float32 and rounds the result back.

array softmax(const array& a, const std::vector<int>& axes, bool precise, StreamOrDevice s) {
  auto ax = normalize_axes("softmax", axes, a);
  if (!issubdtype(a.dtype(), floating)) {
    throw std::invalid_argument("[softmax] expects a floating-point array, got " +
                                to_string(a.dtype()) + " of shape " + shape_string(a.shape()));
  }
  // Nothing to normalise: the empty result of the same shape (as MLX), not the empty-axis
  // error of the max inside.
  if (a.size() == 0) return a;
  const bool up = precise && (a.dtype() == float16 || a.dtype() == bfloat16);
  array in = up ? cast(a, float32, s) : a;
  if (ax.empty()) {  // softmax over no axes: every element is its own group
    ProgramBuilder b;
    int r = b.input(in), rm = b.input(finite_max(stop_gradient(in, s), s));
    r = b.emit(ElemOp::Exp, {b.emit(ElemOp::Subtract, {r, rm})});
    r = b.emit(ElemOp::Divide, {r, r});
    if (!(b.dtype(r) == a.dtype())) r = b.emit(ElemOp::AsType, {r}, a.dtype());
    return b.finish(r, s);
  }
  array m = finite_max(stop_gradient(max(in, ax, true, s), s), s);
  ProgramBuilder b1;
  int ra = b1.input(in), rm = b1.input(m);
  array e = b1.finish(b1.emit(ElemOp::Exp, {b1.emit(ElemOp::Subtract, {ra, rm})}), s);
  array total = sum(e, ax, true, s);
  ProgramBuilder b2;
  int re = b2.input(e), rt = b2.input(total);
  int r = b2.emit(ElemOp::Divide, {re, rt});
  if (!(b2.dtype(r) == a.dtype())) r = b2.emit(ElemOp::AsType, {r}, a.dtype());
  return b2.finish(r, s);
}
array softmax(const array& a, int axis, bool precise, StreamOrDevice s) {
  return softmax(a, std::vector<int>{axis}, precise, s);
}
array softmax(const array& a, bool precise, StreamOrDevice s) {
  return softmax(a, all_axes(a), precise, s);
}

// ---------------------------------------------------------------------------------------------
// Primitive methods and gradients

bool Reduce::is_equivalent(const Primitive& other) const {
  auto* o = dynamic_cast<const Reduce*>(&other);
  return o && o->type_ == type_ && o->axes_ == axes_;
}

bool ArgReduce::is_equivalent(const Primitive& other) const {
  auto* o = dynamic_cast<const ArgReduce*>(&other);
  return o && o->type_ == type_ && o->axis_ == axis_;
}

namespace {
bool differentiable(Dtype t) { return issubdtype(t, inexact); }

// The cotangent of a Reduce output with the reduced axes present (size 1).
array with_kept_axes(const array& ct, const array& in, const std::vector<int>& axes,
                     const Stream& s) {
  if (ct.ndim() == in.ndim()) return ct;
  return expand_dims(ct, axes, s);
}

// mask(x == out) / count(x == out) over the reduced axes: the share of each tied extreme.
array tie_weights(const array& in, const array& out, const std::vector<int>& axes,
                  const Stream& s) {
  ProgramBuilder b;
  int ri = b.input(in), ro = b.input(out);
  array mask = b.finish(b.emit(ElemOp::AsType, {b.emit(ElemOp::Equal, {ri, ro})}, in.dtype()), s);
  array count = sum(mask, axes, true, s);
  ProgramBuilder b2;
  int rm = b2.input(mask), rc = b2.input(count);
  return b2.finish(b2.emit(ElemOp::Divide, {rm, rc}), s);
}
}  // namespace

std::vector<array> Reduce::vjp(const std::vector<array>& primals,
                               const std::vector<array>& cotangents,
                               const std::vector<int>& argnums,
                               const std::vector<array>& outputs) {
  const Stream& s = stream();
  const array& in = primals[0];
  if (!differentiable(in.dtype()) || type_ == And || type_ == Or) {
    return {zeros_like(in, s)};
  }
  array ct = with_kept_axes(cotangents[0], in, axes_, s);
  switch (type_) {
    case Sum: {
      return {broadcast_to(cast(ct, in.dtype(), s), in.shape(), s)};
    }
    case Prod: {
      // d prod / d x_i = prod / x_i. Where x_i == 0 this gives NaN/inf (0/0) instead of the
      // product of the other elements: acceptable for now (a zero-safe rule needs cumprod).
      array out = with_kept_axes(outputs[0], in, axes_, s);
      ProgramBuilder b;
      int rc = b.input(ct), ro = b.input(out), ri = b.input(in);
      int r = b.emit(ElemOp::Divide, {b.emit(ElemOp::Multiply, {rc, ro}), ri});
      if (!(b.dtype(r) == in.dtype())) r = b.emit(ElemOp::AsType, {r}, in.dtype());
      return {b.finish(r, s)};
    }
    case Max:
    case Min: {
      // The cotangent is shared equally among the tied extremes (as MLX).
      array out = with_kept_axes(outputs[0], in, axes_, s);
      array w = tie_weights(in, out, axes_, s);
      ProgramBuilder b;
      int rc = b.input(ct), rw = b.input(w);
      int r = b.emit(ElemOp::Multiply, {rc, rw});
      if (!(b.dtype(r) == in.dtype())) r = b.emit(ElemOp::AsType, {r}, in.dtype());
      return {b.finish(r, s)};
    }
    default:
      return {zeros_like(in, s)};
  }
}

std::vector<array> Reduce::jvp(const std::vector<array>& primals,
                               const std::vector<array>& tangents,
                               const std::vector<int>& argnums) {
  const Stream& s = stream();
  const array& in = primals[0];
  const array& t = tangents[0];
  const Shape out_shape = kept_shape(in.shape(), axes_);
  // The forward output, rebuilt (jvp has no access to it); its dtype is the tangent's.
  auto forward = [&](Reduce::ReduceType type, Dtype dt) {
    return reduce_node(in, type, axes_, true, dt, s);
  };
  const Dtype out_dtype = (type_ == And || type_ == Or) ? bool_ : sum_dtype(in.dtype());
  if (!differentiable(in.dtype()) || type_ == And || type_ == Or) {
    return {zeros(out_shape, out_dtype, s)};
  }
  switch (type_) {
    case Sum:
      return {reduce_node(t, Sum, axes_, true, sum_dtype(t.dtype()), s)};
    case Prod: {
      // d prod = prod * sum(t / x) (same zero caveat as the vjp).
      ProgramBuilder b;
      int rt = b.input(t), ri = b.input(in);
      array q = b.finish(b.emit(ElemOp::Divide, {rt, ri}), s);
      array sq = sum(q, axes_, true, s);
      ProgramBuilder b2;
      int rs = b2.input(sq), ro = b2.input(forward(Prod, in.dtype()));
      return {b2.finish(b2.emit(ElemOp::Multiply, {rs, ro}), s)};
    }
    case Max:
    case Min: {
      array w = tie_weights(in, forward(type_, in.dtype()), axes_, s);
      ProgramBuilder b;
      int rt = b.input(t), rw = b.input(w);
      array tw = b.finish(b.emit(ElemOp::Multiply, {rt, rw}), s);
      return {sum(tw, axes_, true, s)};
    }
    default:
      return {zeros(out_shape, out_dtype, s)};
  }
}

std::vector<array> ArgReduce::vjp(const std::vector<array>& primals, const std::vector<array>&,
                                  const std::vector<int>& argnums, const std::vector<array>&) {
  std::vector<array> out;
  for (int i : argnums) out.push_back(zeros_like(primals[i], stream()));
  return out;
}

std::vector<array> ArgReduce::jvp(const std::vector<array>& primals, const std::vector<array>&,
                                  const std::vector<int>&) {
  Shape shape = primals[0].shape();
  shape[axis_] = 1;
  return {zeros(shape, uint32, stream())};
}

// Batching rules: the reduced axes shift past the batch axis, which goes to the front.
std::pair<std::vector<array>, std::vector<int>> Reduce::vmap(const std::vector<array>& in,
                                                             const std::vector<int>& axes) {
  array x = batching::to_front(in[0], axes[0], stream());
  std::vector<int> shifted;
  for (int a : axes_) shifted.push_back(a + 1);
  return {{array(kept_shape(x.shape(), shifted), out_dtype_,
                 std::make_shared<Reduce>(stream(), type_, shifted, out_dtype_), {x})},
          {0}};
}

std::pair<std::vector<array>, std::vector<int>> ArgReduce::vmap(const std::vector<array>& in,
                                                                const std::vector<int>& axes) {
  array x = batching::to_front(in[0], axes[0], stream());
  return {{array(kept_shape(x.shape(), {axis_ + 1}), uint32,
                 std::make_shared<ArgReduce>(stream(), type_, axis_ + 1), {x})},
          {0}};
}

// var / std: composed (mean, deviations, sum), so they run on either device with gradients.
array var(const array& a, const std::vector<int>& axes, bool keepdims, int ddof, StreamOrDevice s) {
  auto ax = normalize_axes("var", axes, a);
  array x = issubdtype(a.dtype(), inexact) ? a : astype(a, float32, s);
  array d = subtract(x, mean(x, ax, true, s), s);
  array sq = x.dtype() == complex64 ? square(abs(d, s), s) : square(d, s);
  double n = 1;
  for (int i : ax) n *= a.shape()[i];
  const double denom = std::max(n - ddof, 0.0);
  // 1/0 = inf: an empty reduction (or N <= ddof) gives NaN or inf, as NumPy.
  return multiply(sum(sq, ax, keepdims, s), array(1.0 / denom, sq.dtype()), s);
}
array var(const array& a, bool keepdims, int ddof, StreamOrDevice s) { return var(a, all_axes(a), keepdims, ddof, s); }
array var(const array& a, StreamOrDevice s) { return var(a, false, 0, s); }
array var(const array& a, int axis, bool keepdims, int ddof, StreamOrDevice s) {
  return var(a, std::vector<int>{axis}, keepdims, ddof, s);
}
array std(const array& a, const std::vector<int>& axes, bool keepdims, int ddof, StreamOrDevice s) {
  return sqrt(var(a, axes, keepdims, ddof, s), s);
}
array std(const array& a, bool keepdims, int ddof, StreamOrDevice s) { return std(a, all_axes(a), keepdims, ddof, s); }
array std(const array& a, StreamOrDevice s) { return std(a, false, 0, s); }
array std(const array& a, int axis, bool keepdims, int ddof, StreamOrDevice s) {
  return std(a, std::vector<int>{axis}, keepdims, ddof, s);
}

array count_nonzero(const array& a, const std::vector<int>& axes, bool keepdims, StreamOrDevice s) {
  return sum(astype(not_equal(a, array(0, a.dtype()), s), int32, s), axes, keepdims, s);
}
array count_nonzero(const array& a, bool keepdims, StreamOrDevice s) { return count_nonzero(a, all_axes(a), keepdims, s); }
array count_nonzero(const array& a, int axis, bool keepdims, StreamOrDevice s) {
  return count_nonzero(a, std::vector<int>{axis}, keepdims, s);
}

std::vector<Shape> Reduce::output_shapes(const std::vector<array>& in) {
  return {kept_shape(in[0].shape(), axes_)};
}
std::vector<Shape> ArgReduce::output_shapes(const std::vector<array>& in) {
  return {kept_shape(in[0].shape(), {axis_})};
}

}  // namespace tessera
