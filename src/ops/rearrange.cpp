// The composed shape ops (ops/rearrange.hpp): argument checking, then slices, takes with index
// vectors computed on the host, broadcasts, reshapes and matmuls. Nothing here has a kernel.
#include "tessera/ops/rearrange.hpp"

#include <algorithm>
#include <numeric>
#include <set>

#include "tessera/ops/creation.hpp"
#include "tessera/ops/elementwise.hpp"
#include "tessera/ops/indexing.hpp"
#include "tessera/ops/matmul.hpp"
#include "tessera/ops/reduce.hpp"
#include "tessera/ops/shape.hpp"

namespace tessera {

namespace {

[[noreturn]] void fail(const char* op, const std::string& msg) {
  throw std::invalid_argument(std::string("[") + op + "] " + msg);
}

array index_vector(const std::vector<int32_t>& idx) {
  return array(idx.begin(), Shape{static_cast<int32_t>(idx.size())}, int32);
}

// Elements [start, stop) of `axis`.
array axis_slice(const array& a, int axis, int start, int stop, StreamOrDevice s) {
  Shape lo(a.ndim(), 0), hi = a.shape();
  lo[axis] = start;
  hi[axis] = stop;
  return slice(a, lo, hi, s);
}

// The source index of output position p (from -low) of a padded axis of extent n.
int32_t pad_source(int64_t p, int64_t n, const std::string& mode) {
  if (mode == "edge") return static_cast<int32_t>(std::clamp<int64_t>(p, 0, n - 1));
  if (mode == "reflect") {
    if (n == 1) return 0;
    const int64_t period = 2 * n - 2, m = ((p % period) + period) % period;
    return static_cast<int32_t>(m < n ? m : period - m);
  }
  const int64_t period = 2 * n, m = ((p % period) + period) % period;  // symmetric
  return static_cast<int32_t>(m < n ? m : period - 1 - m);
}

}  // namespace

array pad(const array& a, const std::vector<int>& axes, const Shape& low_pad_size, const Shape& high_pad_size,
          const array& pad_value, const std::string& mode, StreamOrDevice s) {
  if (axes.size() != low_pad_size.size() || axes.size() != high_pad_size.size()) {
    fail("pad", "axes (" + std::to_string(axes.size()) + "), low (" + std::to_string(low_pad_size.size()) +
                    ") and high (" + std::to_string(high_pad_size.size()) + ") pad sizes must have one entry each");
  }
  if (mode != "constant" && mode != "edge" && mode != "reflect" && mode != "symmetric") {
    fail("pad", "mode must be constant, edge, reflect or symmetric, got '" + mode + "'");
  }
  std::set<int> seen;
  std::vector<int> ax;
  for (int x : axes) {
    const int n = normalize_axis(x, a.ndim(), "pad");
    if (!seen.insert(n).second) fail("pad", "repeated axis " + std::to_string(x));
    ax.push_back(n);
  }
  for (size_t i = 0; i < ax.size(); ++i) {
    if (low_pad_size[i] < 0 || high_pad_size[i] < 0) {
      fail("pad", "negative pad sizes (" + std::to_string(low_pad_size[i]) + ", " + std::to_string(high_pad_size[i]) +
                      ") on axis " + std::to_string(ax[i]));
    }
  }
  if (mode == "constant") {
    if (pad_value.size() != 1) fail("pad", "pad_value must be a scalar, got shape " + shape_string(pad_value.shape()));
    Shape out = a.shape(), start(a.ndim(), 0), stop = a.shape();
    for (size_t i = 0; i < ax.size(); ++i) {
      out[ax[i]] += low_pad_size[i] + high_pad_size[i];
      start[ax[i]] = low_pad_size[i];
      stop[ax[i]] = low_pad_size[i] + a.shape(ax[i]);
    }
    array filled = full(out, astype(reshape(pad_value, {}, s), a.dtype(), s), a.dtype(), s);
    return slice_update(filled, a, start, stop, s);
  }
  array x = a;
  for (size_t i = 0; i < ax.size(); ++i) {
    const int64_t n = a.shape(ax[i]), lo = low_pad_size[i], hi = high_pad_size[i];
    if (lo == 0 && hi == 0) continue;
    if (n == 0) fail("pad", "cannot pad the empty axis " + std::to_string(ax[i]) + " in mode " + mode);
    std::vector<int32_t> idx;
    for (int64_t p = -lo; p < n + hi; ++p) idx.push_back(pad_source(p, n, mode));
    x = take(x, index_vector(idx), ax[i], s);
  }
  return x;
}
array pad(const array& a, const std::vector<std::pair<int, int>>& pad_width, const array& pad_value,
          const std::string& mode, StreamOrDevice s) {
  std::vector<std::pair<int, int>> w = pad_width;
  if (w.size() == 1) w.assign(a.ndim(), pad_width[0]);
  if (static_cast<int>(w.size()) != a.ndim()) {
    fail("pad", std::to_string(pad_width.size()) + " pad widths for an array with " + std::to_string(a.ndim()) +
                    " dimensions");
  }
  std::vector<int> axes(a.ndim());
  std::iota(axes.begin(), axes.end(), 0);
  Shape lo, hi;
  for (auto& [l, h] : w) {
    lo.push_back(l);
    hi.push_back(h);
  }
  return pad(a, axes, lo, hi, pad_value, mode, s);
}
array pad(const array& a, const std::pair<int, int>& pad_width, const array& pad_value, const std::string& mode,
          StreamOrDevice s) {
  return pad(a, std::vector<std::pair<int, int>>(a.ndim(), pad_width), pad_value, mode, s);
}
array pad(const array& a, int pad_width, const array& pad_value, const std::string& mode, StreamOrDevice s) {
  return pad(a, std::pair<int, int>{pad_width, pad_width}, pad_value, mode, s);
}

array tile(const array& arr, std::vector<int> reps, StreamOrDevice s) {
  for (int r : reps)
    if (r < 0) fail("tile", "negative repetitions in the reps");
  const int nd = std::max(arr.ndim(), static_cast<int>(reps.size()));
  reps.insert(reps.begin(), nd - reps.size(), 1);
  Shape shape = arr.shape();
  shape.insert(shape.begin(), nd - shape.size(), 1);
  // [1, d0, 1, d1, ...] broadcast to [r0, d0, r1, d1, ...], then merged pairwise.
  Shape expanded, target, out;
  for (int i = 0; i < nd; ++i) {
    expanded.insert(expanded.end(), {1, shape[i]});
    target.insert(target.end(), {reps[i], shape[i]});
    out.push_back(reps[i] * shape[i]);
  }
  return reshape(broadcast_to(reshape(arr, expanded, s), target, s), out, s);
}

array repeat(const array& arr, int repeats, int axis, StreamOrDevice s) {
  if (repeats < 0) fail("repeat", "negative repeats " + std::to_string(repeats));
  axis = normalize_axis(axis, arr.ndim(), "repeat");
  Shape target = arr.shape(), out = arr.shape();
  target.insert(target.begin() + axis + 1, repeats);
  out[axis] *= repeats;
  return reshape(broadcast_to(expand_dims(arr, axis + 1, s), target, s), out, s);
}
array repeat(const array& arr, int repeats, StreamOrDevice s) { return repeat(flatten(arr, s), repeats, 0, s); }

array roll(const array& a, const Shape& shift, const std::vector<int>& axes, StreamOrDevice s) {
  if (shift.size() != axes.size() && shift.size() != 1) {
    fail("roll", std::to_string(shift.size()) + " shifts for " + std::to_string(axes.size()) + " axes");
  }
  array x = a;
  for (size_t i = 0; i < axes.size(); ++i) {
    const int ax = normalize_axis(axes[i], a.ndim(), "roll");
    const int n = a.shape(ax);
    if (n == 0) continue;
    const int k = ((shift[shift.size() == 1 ? 0 : i] % n) + n) % n;
    if (k == 0) continue;
    x = concatenate({axis_slice(x, ax, n - k, n, s), axis_slice(x, ax, 0, n - k, s)}, ax, s);
  }
  return x;
}
array roll(const array& a, const Shape& shift, int axis, StreamOrDevice s) {
  return roll(a, shift, std::vector<int>{axis}, s);
}
array roll(const array& a, int shift, const std::vector<int>& axes, StreamOrDevice s) {
  return roll(a, Shape{shift}, axes, s);
}
array roll(const array& a, int shift, int axis, StreamOrDevice s) { return roll(a, Shape{shift}, {axis}, s); }
array roll(const array& a, const Shape& shift, StreamOrDevice s) {
  // The flattened array shifted by each shift in turn (NumPy's axis=None).
  int64_t total = 0;
  for (int v : shift) total += v;
  const int64_t n = std::max<int64_t>(1, static_cast<int64_t>(a.size()));
  return reshape(roll(flatten(a, s), Shape{static_cast<int32_t>(((total % n) + n) % n)}, {0}, s), a.shape(), s);
}
array roll(const array& a, int shift, StreamOrDevice s) { return roll(a, Shape{shift}, s); }

array flip(const array& a, int axis, StreamOrDevice s) {
  axis = normalize_axis(axis, a.ndim(), "flip");
  Shape start(a.ndim(), 0), stop = a.shape(), step(a.ndim(), 1);
  start[axis] = -1;
  stop[axis] = -a.shape(axis) - 1;
  step[axis] = -1;
  return slice(a, start, stop, step, s);
}
array flip(const array& a, StreamOrDevice s) {
  Shape start(a.ndim(), -1), stop(a.ndim()), step(a.ndim(), -1);
  for (int d = 0; d < a.ndim(); ++d) stop[d] = -a.shape(d) - 1;
  return slice(a, start, stop, step, s);
}

std::vector<array> unstack(const array& a, int axis, StreamOrDevice s) {
  if (a.ndim() == 0) fail("unstack", "a 0-d array has no axis to unstack");
  axis = normalize_axis(axis, a.ndim(), "unstack");
  std::vector<array> out;
  for (int i = 0; i < a.shape(axis); ++i) out.push_back(squeeze(axis_slice(a, axis, i, i + 1, s), axis, s));
  return out;
}
std::vector<array> unstack(const array& a, StreamOrDevice s) { return unstack(a, 0, s); }

array diff(const array& a, int n, int axis, StreamOrDevice s) {
  if (n < 0) fail("diff", "order n must be non-negative, got " + std::to_string(n));
  if (a.ndim() == 0) fail("diff", "a 0-d array has no axis");
  axis = normalize_axis(axis, a.ndim(), "diff");
  array x = a;
  for (int i = 0; i < n && x.shape(axis) > 0; ++i) {
    const int len = x.shape(axis);
    array hi = axis_slice(x, axis, 1, len, s), lo = axis_slice(x, axis, 0, len - 1, s);
    x = x.dtype() == bool_ ? not_equal(hi, lo, s) : subtract(hi, lo, s);  // bool: NumPy's xor
  }
  return x;
}

std::vector<array> meshgrid(const std::vector<array>& arrays, bool sparse, const std::string& indexing,
                            StreamOrDevice s) {
  if (indexing != "xy" && indexing != "ij") fail("meshgrid", "indexing must be 'xy' or 'ij', got '" + indexing + "'");
  const int n = static_cast<int>(arrays.size());
  const bool xy = indexing == "xy" && n >= 2;
  Shape full_shape;
  for (int i = 0; i < n; ++i) full_shape.push_back(static_cast<int32_t>(arrays[i].size()));
  if (xy) std::swap(full_shape[0], full_shape[1]);
  std::vector<array> out;
  for (int i = 0; i < n; ++i) {
    const int pos = xy && i < 2 ? 1 - i : i;
    Shape shape(n, 1);
    shape[pos] = static_cast<int32_t>(arrays[i].size());
    array g = reshape(arrays[i], shape, s);
    out.push_back(sparse ? g : broadcast_to(g, full_shape, s));
  }
  return out;
}

array tril(array x, int k, StreamOrDevice s) {
  if (x.ndim() < 2) fail("tril", "needs at least 2 dimensions, got shape " + shape_string(x.shape()));
  array mask = tri(x.shape(-2), x.shape(-1), k, bool_, s);
  return where(mask, x, array(0, x.dtype()), s);
}
array triu(array x, int k, StreamOrDevice s) {
  if (x.ndim() < 2) fail("triu", "needs at least 2 dimensions, got shape " + shape_string(x.shape()));
  array mask = tri(x.shape(-2), x.shape(-1), k - 1, bool_, s);
  return where(mask, array(0, x.dtype()), x, s);
}

array diagonal(const array& a, int offset, int axis1, int axis2, StreamOrDevice s) {
  if (a.ndim() < 2) fail("diagonal", "needs at least 2 dimensions, got shape " + shape_string(a.shape()));
  const int a1 = normalize_axis(axis1, a.ndim(), "diagonal"), a2 = normalize_axis(axis2, a.ndim(), "diagonal");
  if (a1 == a2) fail("diagonal", "axis1 and axis2 are both " + std::to_string(a1));
  std::vector<int> perm;
  for (int d = 0; d < a.ndim(); ++d)
    if (d != a1 && d != a2) perm.push_back(d);
  perm.push_back(a1);
  perm.push_back(a2);
  const int64_t rows = a.shape(a1), cols = a.shape(a2);
  const int64_t len = std::max<int64_t>(0, offset >= 0 ? std::min(rows, cols - offset) : std::min(rows + offset, cols));
  std::vector<int32_t> idx;
  for (int64_t i = 0; i < len; ++i) {
    const int64_t r = offset >= 0 ? i : i - offset, c = offset >= 0 ? i + offset : i;
    idx.push_back(static_cast<int32_t>(r * cols + c));
  }
  array moved = transpose(a, perm, s);
  Shape flat(moved.shape().begin(), moved.shape().end() - 2);
  flat.push_back(static_cast<int32_t>(rows * cols));
  array x = reshape(moved, flat, s);
  if (len == 0) return axis_slice(x, x.ndim() - 1, 0, 0, s);
  return take(x, index_vector(idx), x.ndim() - 1, s);
}

array diag(const array& a, int k, StreamOrDevice s) {
  if (a.ndim() == 2) return diagonal(a, k, 0, 1, s);
  if (a.ndim() != 1) fail("diag", "takes a 1-D or 2-D array, got shape " + shape_string(a.shape()));
  const int n = a.shape(0), size = n + std::abs(k);
  // a on diagonal k of a size x size matrix: along the rows for k >= 0, the columns below.
  array padded = pad(a, {0}, {0}, {std::abs(k)}, array(0), "constant", s);
  array values = broadcast_to(reshape(padded, k >= 0 ? Shape{size, 1} : Shape{1, size}, s), {size, size}, s);
  return where(eye(size, size, k, bool_, s), values, array(0, a.dtype()), s);
}

array trace(const array& a, int offset, int axis1, int axis2, Dtype dtype, StreamOrDevice s) {
  array d = diagonal(a, offset, axis1, axis2, s);
  return sum(d.dtype() == dtype ? d : astype(d, dtype, s), -1, false, s);
}
array trace(const array& a, int offset, int axis1, int axis2, StreamOrDevice s) {
  return trace(a, offset, axis1, axis2, a.dtype(), s);
}
array trace(const array& a, StreamOrDevice s) { return trace(a, 0, 0, 1, s); }

array unflatten(const array& a, int axis, Shape shape, StreamOrDevice s) {
  if (shape.empty()) fail("unflatten", "the shape to unflatten into is empty");
  axis = normalize_axis(axis, a.ndim(), "unflatten");
  Shape out(a.shape().begin(), a.shape().begin() + axis);
  out.insert(out.end(), shape.begin(), shape.end());
  out.insert(out.end(), a.shape().begin() + axis + 1, a.shape().end());
  int64_t known = 1;
  int unknown = 0;
  for (int v : shape) (v == -1 ? ++unknown : known *= v);
  if (unknown > 1 || (unknown == 0 && known != a.shape(axis)) ||
      (unknown == 1 && (known == 0 || a.shape(axis) % known != 0))) {
    fail("unflatten", "cannot unflatten axis " + std::to_string(axis) + " of extent " + std::to_string(a.shape(axis)) +
                          " into " + shape_string(shape));
  }
  return reshape(a, out, s);
}

array atleast_1d(const array& a, StreamOrDevice s) { return a.ndim() >= 1 ? a : reshape(a, {1}, s); }
array atleast_2d(const array& a, StreamOrDevice s) {
  if (a.ndim() >= 2) return a;
  return reshape(a, a.ndim() == 0 ? Shape{1, 1} : Shape{1, a.shape(0)}, s);
}
array atleast_3d(const array& a, StreamOrDevice s) {
  switch (a.ndim()) {
    case 0: return reshape(a, {1, 1, 1}, s);
    case 1: return reshape(a, {1, a.shape(0), 1}, s);
    case 2: return reshape(a, {a.shape(0), a.shape(1), 1}, s);
    default: return a;
  }
}
#define TESSERA_ATLEAST_LIST(fn)                                       \
  std::vector<array> fn(const std::vector<array>& a, StreamOrDevice s) { \
    std::vector<array> out;                                            \
    for (auto& x : a) out.push_back(fn(x, s));                         \
    return out;                                                        \
  }
TESSERA_ATLEAST_LIST(atleast_1d)
TESSERA_ATLEAST_LIST(atleast_2d)
TESSERA_ATLEAST_LIST(atleast_3d)
#undef TESSERA_ATLEAST_LIST

array tensordot(const array& a, const array& b, const std::vector<int>& axes_a, const std::vector<int>& axes_b,
                StreamOrDevice s) {
  if (axes_a.size() != axes_b.size()) {
    fail("tensordot", std::to_string(axes_a.size()) + " axes of a against " + std::to_string(axes_b.size()) + " of b");
  }
  std::vector<bool> used_a(a.ndim()), used_b(b.ndim());
  std::vector<int> ca, cb;
  int64_t k = 1;
  for (size_t i = 0; i < axes_a.size(); ++i) {
    const int x = normalize_axis(axes_a[i], a.ndim(), "tensordot"), y = normalize_axis(axes_b[i], b.ndim(), "tensordot");
    if (used_a[x] || used_b[y]) fail("tensordot", "repeated axes");
    if (a.shape(x) != b.shape(y)) {
      fail("tensordot", "axis " + std::to_string(x) + " of a (" + std::to_string(a.shape(x)) + ") and axis " +
                            std::to_string(y) + " of b (" + std::to_string(b.shape(y)) + ") differ");
    }
    used_a[x] = used_b[y] = true;
    ca.push_back(x);
    cb.push_back(y);
    k *= a.shape(x);
  }
  std::vector<int> perm_a, perm_b = cb;
  Shape out;
  int64_t m = 1, n = 1;
  for (int d = 0; d < a.ndim(); ++d)
    if (!used_a[d]) perm_a.push_back(d), out.push_back(a.shape(d)), m *= a.shape(d);
  perm_a.insert(perm_a.end(), ca.begin(), ca.end());
  for (int d = 0; d < b.ndim(); ++d)
    if (!used_b[d]) perm_b.push_back(d), out.push_back(b.shape(d)), n *= b.shape(d);
  array am = reshape(transpose(a, perm_a, s), {static_cast<int32_t>(m), static_cast<int32_t>(k)}, s);
  array bm = reshape(transpose(b, perm_b, s), {static_cast<int32_t>(k), static_cast<int32_t>(n)}, s);
  return reshape(matmul(am, bm, s), out, s);
}
array tensordot(const array& a, const array& b, const int axis, StreamOrDevice s) {
  if (axis < 0 || axis > a.ndim() || axis > b.ndim()) {
    fail("tensordot", "cannot contract " + std::to_string(axis) + " axes of arrays with " + std::to_string(a.ndim()) +
                          " and " + std::to_string(b.ndim()) + " dimensions");
  }
  std::vector<int> xa, xb;
  for (int i = 0; i < axis; ++i) {
    xa.push_back(a.ndim() - axis + i);
    xb.push_back(i);
  }
  return tensordot(a, b, xa, xb, s);
}

array outer(const array& a, const array& b, StreamOrDevice s) {
  return multiply(reshape(a, {-1, 1}, s), reshape(b, {1, -1}, s), s);
}
array inner(const array& a, const array& b, StreamOrDevice s) {
  if (a.ndim() == 0 || b.ndim() == 0) return multiply(a, b, s);
  if (a.shape(-1) != b.shape(-1)) {
    fail("inner", "the last dimensions differ: " + shape_string(a.shape()) + " and " + shape_string(b.shape()));
  }
  return tensordot(a, b, {-1}, {-1}, s);
}
array vecdot(const array& a, const array& b, int axis, StreamOrDevice s) {
  // NumPy's rule: the first operand is conjugated (a no-op for real arrays), so that
  // vecdot(z, z) is the squared norm.
  array p = multiply(conjugate(a, s), b, s);
  return sum(p, normalize_axis(axis, p.ndim(), "vecdot"), false, s);
}

array kron(const array& a, const array& b, StreamOrDevice s) {
  if (a.size() == 0 || b.size() == 0) fail("kron", "the arrays must not be empty");
  const int nd = std::max(a.ndim(), b.ndim());
  // a's axis i at position 2i, b's at 2i + 1: their product merges each pair.
  Shape sa(2 * nd, 1), sb(2 * nd, 1), out(nd, 1);
  for (int i = nd - 1, j = a.ndim() - 1; j >= 0; --i, --j) {
    sa[2 * i] = a.shape(j);
    out[i] *= a.shape(j);
  }
  for (int i = nd - 1, j = b.ndim() - 1; j >= 0; --i, --j) {
    sb[2 * i + 1] = b.shape(j);
    out[i] *= b.shape(j);
  }
  return reshape(multiply(reshape(a, sa, s), reshape(b, sb, s), s), out, s);
}

}  // namespace tessera
