// Cumulative ops: argument checking, and the Scan primitive's gradient and batching rules.
// Gradients are written for the inclusive scan; an exclusive scan is the inclusive one shifted
// by one position (the identity in front), so its rules shift the cotangent / tangent.
#include "tessera/ops/scan.hpp"

#include "tessera/ops/creation.hpp"
#include "tessera/ops/elementwise.hpp"
#include "tessera/ops/indexing.hpp"
#include "tessera/ops/misc.hpp"
#include "tessera/ops/reduce.hpp"
#include "tessera/ops/shape.hpp"
#include "tessera/primitives/scan.hpp"
#include "transforms/batching.hpp"

namespace tessera {

const char* scan_op_name(Scan::ReduceType op) {
  switch (op) {
    case Scan::Sum: return "cumsum";
    case Scan::Prod: return "cumprod";
    case Scan::Max: return "cummax";
    case Scan::Min: return "cummin";
    case Scan::LogAddExp: return "logcumsumexp";
  }
  return "scan";
}

namespace {

array make_scan(const array& a, int axis, Scan::ReduceType op, bool reverse, bool inclusive,
                std::optional<Dtype> dtype, StreamOrDevice s) {
  const char* name = scan_op_name(op);
  if (axis >= a.ndim() || axis < -a.ndim()) {
    throw std::invalid_argument(std::string("[") + name + "] axis " + std::to_string(axis) +
                                " is out of bounds for an array with " + std::to_string(a.ndim()) + " dimensions");
  }
  axis = axis < 0 ? axis + a.ndim() : axis;
  array x = dtype && !(*dtype == a.dtype()) ? astype(a, *dtype, s) : a;
  Dtype out = x.dtype();
  if (x.dtype() == complex64 && op != Scan::Sum && op != Scan::Prod) {
    throw std::invalid_argument(std::string("[") + name + "] complex64 has no ordering");
  }
  if (op == Scan::Sum || op == Scan::Prod) {
    if (out == bool_) out = int32;
  } else if (op == Scan::LogAddExp && !is_floating(out)) {
    out = float32;
  }
  if (!(x.dtype() == out)) x = astype(x, out, s);
  return array(x.shape(), out, std::make_shared<Scan>(to_stream(s), op, axis, reverse, inclusive), {x});
}

// y moved one position along `axis` toward its end (toward_end) or its start, with a zero
// entering: how an exclusive scan relates to the inclusive one (and the adjoint of that).
array shift(const array& y, int axis, bool toward_end, const Stream& s) {
  const int n = y.shape(axis);
  if (n == 0) return y;
  Shape start(y.ndim(), 0), stop = y.shape(), zshape = y.shape();
  zshape[axis] = 1;
  array z = zeros(zshape, y.dtype(), s);
  if (toward_end) {
    stop[axis] = n - 1;
    return concatenate({z, slice(y, start, stop, s)}, axis, s);
  }
  start[axis] = 1;
  return concatenate({slice(y, start, stop, s), z}, axis, s);
}

// For each position of the inclusive cummax / cummin, the index of the input element holding
// the running extreme there (the latest one on ties).
array owners(const array& x, const array& extreme, int axis, bool reverse, const Stream& s) {
  const int n = x.shape(axis);
  Shape ishape(x.ndim(), 1);
  ishape[axis] = n;
  array iota = reshape(arange(0, n, 1, s), ishape, s);
  array masked = where(equal(x, extreme, s), iota, array(reverse ? n : -1), s);
  array o = reverse ? make_scan(masked, axis, Scan::Min, true, true, std::nullopt, s)
                    : make_scan(masked, axis, Scan::Max, false, true, std::nullopt, s);
  return stop_gradient(astype(o, uint32, s), s);
}

// What the cumprod rules need around zeros, from the inclusive product `out` of x: where a
// lane's product has become zero, its first zero, the products with that zero replaced by
// one, and x with zeros replaced by one (safe to divide by).
struct ProdZeros {
  array is_zero, first_zero, with_one, safe_x;
  ProdZeros(const array& x, const array& out, int axis, bool reverse, const Stream& s)
      : is_zero(equal(out, array(0, x.dtype()), s)),
        first_zero(logical_and(is_zero, not_equal(make_scan(x, axis, Scan::Prod, reverse, false, std::nullopt, s),
                                                  array(0, x.dtype()), s),
                               s)),
        with_one(make_scan(where(first_zero, array(1, x.dtype()), x, s), axis, Scan::Prod, reverse, true,
                           std::nullopt, s)),
        safe_x(where(equal(x, array(0, x.dtype()), s), array(1, x.dtype()), x, s)) {}
};

}  // namespace

#define TESSERA_SCAN_FORMS(fn, OP)                                                                 \
  array fn(const array& a, int axis, bool reverse, bool inclusive, StreamOrDevice s) {             \
    return make_scan(a, axis, Scan::OP, reverse, inclusive, std::nullopt, s);                      \
  }                                                                                                \
  array fn(const array& a, bool reverse, bool inclusive, StreamOrDevice s) {                       \
    return make_scan(flatten(a, s), 0, Scan::OP, reverse, inclusive, std::nullopt, s);             \
  }
// cumsum and cumprod also take the dtype to compute in.
#define TESSERA_SCAN_DTYPE_FORMS(fn, OP)                                                                  \
  TESSERA_SCAN_FORMS(fn, OP)                                                                              \
  array fn(const array& a, int axis, bool reverse, bool inclusive, std::optional<Dtype> dtype,            \
           StreamOrDevice s) {                                                                            \
    return make_scan(a, axis, Scan::OP, reverse, inclusive, dtype, s);                                    \
  }                                                                                                       \
  array fn(const array& a, bool reverse, bool inclusive, std::optional<Dtype> dtype, StreamOrDevice s) {  \
    return make_scan(flatten(a, s), 0, Scan::OP, reverse, inclusive, dtype, s);                           \
  }
TESSERA_SCAN_DTYPE_FORMS(cumsum, Sum)
TESSERA_SCAN_DTYPE_FORMS(cumprod, Prod)
TESSERA_SCAN_FORMS(cummax, Max)
TESSERA_SCAN_FORMS(cummin, Min)
TESSERA_SCAN_FORMS(logcumsumexp, LogAddExp)
#undef TESSERA_SCAN_DTYPE_FORMS
#undef TESSERA_SCAN_FORMS

const char* Scan::name() const {
  switch (op_) {
    case Sum: return "CumSum";
    case Prod: return "CumProd";
    case Max: return "CumMax";
    case Min: return "CumMin";
    case LogAddExp: return "CumLogaddexp";
  }
  return "Scan";
}

bool Scan::is_equivalent(const Primitive& o) const {
  auto* p = dynamic_cast<const Scan*>(&o);
  return p && p->op_ == op_ && p->axis_ == axis_ && p->reverse_ == reverse_ && p->inclusive_ == inclusive_;
}

std::vector<array> Scan::vjp(const std::vector<array>& primals, const std::vector<array>& cot,
                             const std::vector<int>&, const std::vector<array>& outputs) {
  const Stream s = stream();
  const array& x = primals[0];
  // The cotangent of the inclusive scan, and that scan's output.
  array c = inclusive_ ? cot[0] : shift(cot[0], axis_, reverse_, s);
  auto inclusive_out = [&] {
    return inclusive_ ? outputs[0] : make_scan(x, axis_, op_, reverse_, true, std::nullopt, s);
  };
  auto rsum = [&](const array& v) { return make_scan(v, axis_, Sum, !reverse_, true, std::nullopt, s); };
  switch (op_) {
    case Sum: return {rsum(c)};
    case Prod: {
      // Before a lane's first zero: sum of c * out / x; at the first zero: the products with
      // that zero replaced by one; after it: nothing.
      const array out = inclusive_out();
      const ProdZeros z(x, out, axis_, reverse_, s);
      const array regular = divide(rsum(multiply(out, c, s)), z.safe_x, s);
      return {where(z.first_zero, rsum(multiply(z.with_one, c, s)),
                    where(z.is_zero, array(0, x.dtype()), regular, s), s)};
    }
    case Max:
    case Min: {
      const array o = owners(x, inclusive_out(), axis_, reverse_, s);
      return {scatter_add_axis(zeros_like(x, s), o, c, axis_, s)};
    }
    case LogAddExp: {
      // Positive and negative parts of the cotangent in log space (stable for large x).
      const array out = inclusive_out();
      const array lowest = array(finfo(c.dtype()).min, c.dtype());
      const array log_abs = log(abs(c, s), s);
      const array log_pos = where(greater(c, array(0, c.dtype()), s), log_abs, lowest, s);
      const array log_neg = where(less(c, array(0, c.dtype()), s), log_abs, lowest, s);
      auto part = [&](const array& l) {
        return exp(add(make_scan(subtract(l, out, s), axis_, LogAddExp, !reverse_, true, std::nullopt, s), x, s), s);
      };
      return {subtract(part(log_pos), part(log_neg), s)};
    }
  }
  return {};
}

std::vector<array> Scan::jvp(const std::vector<array>& primals, const std::vector<array>& tan,
                             const std::vector<int>&) {
  const Stream s = stream();
  const array& x = primals[0];
  const array& t = tan[0];
  array j = t;
  switch (op_) {
    case Sum: return {make_scan(t, axis_, Sum, reverse_, inclusive_, std::nullopt, s)};
    case Prod: {
      const array out = make_scan(x, axis_, Prod, reverse_, true, std::nullopt, s);
      const ProdZeros z(x, out, axis_, reverse_, s);
      auto csum = [&](const array& v) { return make_scan(v, axis_, Sum, reverse_, true, std::nullopt, s); };
      // Before any zero: out * sum(t / x); from the first zero on, only its own term survives.
      j = where(z.is_zero, multiply(z.with_one, csum(where(z.first_zero, t, array(0, x.dtype()), s)), s),
                multiply(out, csum(divide(t, z.safe_x, s)), s), s);
      break;
    }
    case Max:
    case Min: {
      const array out = make_scan(x, axis_, op_, reverse_, true, std::nullopt, s);
      j = take_along_axis(t, owners(x, out, axis_, reverse_, s), axis_, s);
      break;
    }
    case LogAddExp: {
      const array out = make_scan(x, axis_, LogAddExp, reverse_, true, std::nullopt, s);
      const array m = stop_gradient(max(x, axis_, true, s), s);
      j = multiply(make_scan(multiply(exp(subtract(x, m, s), s), t, s), axis_, Sum, reverse_, true, std::nullopt, s),
                   exp(subtract(m, out, s), s), s);
      break;
    }
  }
  return {inclusive_ ? j : shift(j, axis_, !reverse_, s)};
}

std::pair<std::vector<array>, std::vector<int>> Scan::vmap(const std::vector<array>& in,
                                                           const std::vector<int>& axes) {
  array x = batching::to_front(in[0], axes[0], stream());
  return {{make_scan(x, axis_ + 1, op_, reverse_, inclusive_, std::nullopt, stream())}, {0}};
}

std::vector<Shape> Scan::output_shapes(const std::vector<array>& in) { return {in[0].shape()}; }

}  // namespace tessera
