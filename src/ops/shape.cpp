// Shape ops: argument checking, view geometry and gradient rules.
#include "tessera/ops/shape.hpp"

#include <algorithm>
#include <limits>
#include <numeric>

#include "tessera/ops/creation.hpp"
#include "tessera/ops/reduce.hpp"
#include "tessera/primitives/elementwise.hpp"
#include "tessera/primitives/shape.hpp"
#include "transforms/batching.hpp"

namespace tessera {

namespace {

// An extent computed in int64 (a product or a sum of extents) as the int32 a Shape holds;
// throws naming `op` when it does not fit.
int32_t to_extent(int64_t n, const char* op, const std::string& what) {
  if (n > std::numeric_limits<int32_t>::max()) {
    throw std::invalid_argument(std::string("[") + op + "] " + what + " has " + std::to_string(n) +
                                " elements along one axis, more than an int32 extent holds");
  }
  return static_cast<int32_t>(n);
}

// Resolves one -1 and checks the element count.
Shape infer_shape(const array& a, Shape shape) {
  int infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (infer >= 0) {
        throw std::invalid_argument("[reshape] only one dimension can be -1, got " +
                                    shape_string(shape));
      }
      infer = static_cast<int>(i);
    } else if (shape[i] < 0) {
      throw std::invalid_argument("[reshape] negative dimension in " + shape_string(shape));
    }
  }
  // The product of the given extents, checked (a wrapped product could match a.size()); the
  // message shows the shape as written, -1 included.
  Shape known_shape = shape;
  if (infer >= 0) known_shape[infer] = 1;
  int64_t known = 0;
  try {
    known = checked_shape_size(known_shape, a.itemsize(), "reshape");
  } catch (const std::invalid_argument&) {
    throw std::invalid_argument("[reshape] shape " + shape_string(shape) +
                                " has too many elements: its size in bytes (" + std::to_string(a.itemsize()) +
                                " per element) overflows int64");
  }
  if (infer >= 0) {
    if (known == 0 || static_cast<int64_t>(a.size()) % known != 0) {
      throw std::invalid_argument("[reshape] cannot infer the -1 in " + shape_string(shape) +
                                  " for an array of shape " + shape_string(a.shape()));
    }
    shape[infer] = to_extent(static_cast<int64_t>(a.size()) / known, "reshape",
                             "the -1 of " + shape_string(shape));
  }
  if (shape_size(shape) != static_cast<int64_t>(a.size())) {
    throw std::invalid_argument("[reshape] cannot reshape an array of shape " +
                                shape_string(a.shape()) + " (" + std::to_string(a.size()) +
                                " elements) to " + shape_string(shape));
  }
  return shape;
}

// Python slice normalisation of one axis; returns the length. In int64: start, stop and step
// may be INT32_MIN / INT32_MAX (Python's "to the end"), whose sums and negation overflow int32.
int32_t normalize_slice(int32_t n, int32_t& start, int32_t stop, int32_t step) {
  const int64_t len = n, st = step;
  int64_t b = start < 0 ? int64_t{start} + len : start;
  int64_t e = stop < 0 ? int64_t{stop} + len : stop;
  int64_t count;
  if (st > 0) {
    b = std::clamp<int64_t>(b, 0, len);
    e = std::clamp<int64_t>(e, 0, len);
    count = e > b ? (e - b + st - 1) / st : 0;
  } else {
    b = std::clamp<int64_t>(b, -1, len - 1);
    e = std::clamp<int64_t>(e, -1, len - 1);
    count = b > e ? (b - e - st - 1) / -st : 0;
  }
  // The stored start is normalised again by the gradient (slice_update with the same
  // arguments); -1 (an empty reversed slice) is stored as -1 - n, which normalises to itself.
  start = static_cast<int32_t>(b < 0 ? b - len : b);
  return static_cast<int32_t>(count);
}

std::vector<int> inverse_permutation(const std::vector<int>& axes) {
  std::vector<int> inv(axes.size());
  for (size_t i = 0; i < axes.size(); ++i) inv[axes[i]] = static_cast<int>(i);
  return inv;
}
}  // namespace

array::Flags flags_for(const Shape& shape, const Strides& strides) {
  array::Flags f;
  int64_t expect = 1;
  for (int i = static_cast<int>(shape.size()) - 1; i >= 0; --i) {
    if (shape[i] != 1 && strides[i] != expect) f.row_contiguous = false;
    expect *= shape[i];
  }
  expect = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] != 1 && strides[i] != expect) f.col_contiguous = false;
    expect *= shape[i];
  }
  // MLX's meaning of `contiguous`: no gaps. Every element of the memory the view spans belongs
  // to it, in any order (a permuted dense array, a broadcast of a dense one): the extents of the
  // axes that move through memory (stride != 0) multiply to the span.
  int64_t moving = 1, lo = 0, hi = 0;
  bool empty = false;
  for (size_t i = 0; i < shape.size(); ++i) {
    empty |= shape[i] == 0;
    if (strides[i] != 0) moving *= shape[i];
    const int64_t ext = static_cast<int64_t>(shape[i] - 1) * strides[i];
    (ext < 0 ? lo : hi) += ext;
  }
  f.contiguous = empty || moving == hi - lo + 1;
  return f;
}

// ---------------------------------------------------------------------------------------------
// Views

namespace views {
void reshape(const array& in, array& out) {
  auto st = row_major_strides(out.shape());
  out.copy_shared_buffer(in, st, flags_for(out.shape(), st), 0);
}
void transpose(const array& in, array& out, const std::vector<int>& axes) {
  Strides st(axes.size());
  for (size_t i = 0; i < axes.size(); ++i) st[i] = in.strides()[axes[i]];
  out.copy_shared_buffer(in, st, flags_for(out.shape(), st), 0);
}
void broadcast(const array& in, array& out) {
  Strides st(out.ndim(), 0);
  const int lead = out.ndim() - in.ndim();
  for (int i = 0; i < in.ndim(); ++i) {
    st[lead + i] = in.shape()[i] == 1 ? 0 : in.strides()[i];
  }
  array::Flags f = flags_for(out.shape(), st);
  out.copy_shared_buffer(in, st, f, 0);
}
void slice(const array& in, array& out, const Shape& start, const Shape& strides) {
  Strides st(in.ndim());
  int64_t offset = 0;
  for (int i = 0; i < in.ndim(); ++i) {
    st[i] = in.strides()[i] * strides[i];
    if (out.shape()[i] > 0) offset += static_cast<int64_t>(start[i]) * in.strides()[i];
  }
  out.copy_shared_buffer(in, st, flags_for(out.shape(), st), offset);
}
}  // namespace views

// ---------------------------------------------------------------------------------------------
// Ops

array reshape(const array& a, Shape shape, StreamOrDevice s) {
  shape = infer_shape(a, std::move(shape));
  if (shape == a.shape()) return a;
  return array(shape, a.dtype(), std::make_shared<Reshape>(to_stream(s), shape), {a});
}

array flatten(const array& a, int start_axis, int end_axis, StreamOrDevice s) {
  // MLX's rule: negative axes count from the end, then a start below 0 and an end past the
  // last axis are clamped (flatten(x, -10, 10) flattens everything); what is left must be an
  // ordered pair of real axes.
  const int nd = a.ndim();
  if (nd == 0) return reshape(a, {1}, s);
  const int st = std::max(0, start_axis < 0 ? start_axis + nd : start_axis);
  const int en = std::min(nd - 1, end_axis < 0 ? end_axis + nd : end_axis);
  if (st >= nd || en < 0) {
    throw std::invalid_argument("[flatten] start_axis " + std::to_string(start_axis) +
                                " and end_axis " + std::to_string(end_axis) +
                                " leave no axis of an array of shape " + shape_string(a.shape()));
  }
  if (st > en) {
    throw std::invalid_argument("[flatten] start_axis " + std::to_string(start_axis) +
                                " comes after end_axis " + std::to_string(end_axis) +
                                " for shape " + shape_string(a.shape()));
  }
  if (st == en) return a;
  Shape shape(a.shape().begin(), a.shape().begin() + st);
  int64_t mid = 1;
  for (int i = st; i <= en; ++i) mid *= a.shape()[i];  // at most a.size(): no overflow
  shape.push_back(to_extent(mid, "flatten", "an array of shape " + shape_string(a.shape())));
  shape.insert(shape.end(), a.shape().begin() + en + 1, a.shape().end());
  return reshape(a, shape, s);
}
array flatten(const array& a, StreamOrDevice s) { return flatten(a, 0, -1, s); }

array transpose(const array& a, std::vector<int> axes, StreamOrDevice s) {
  if (static_cast<int>(axes.size()) != a.ndim()) {
    throw std::invalid_argument("[transpose] axes " + axes_string(axes) +
                                " do not match an array of shape " + shape_string(a.shape()));
  }
  std::vector<bool> seen(a.ndim(), false);
  for (auto& ax : axes) {
    ax = normalize_axis(ax, a.ndim(), "transpose");
    if (seen[ax]) throw std::invalid_argument("[transpose] repeated axis in " + axes_string(axes));
    seen[ax] = true;
  }
  bool identity = true;
  for (int i = 0; i < a.ndim(); ++i) identity &= axes[i] == i;
  if (identity) return a;
  Shape shape(a.ndim());
  for (int i = 0; i < a.ndim(); ++i) shape[i] = a.shape()[axes[i]];
  return array(shape, a.dtype(), std::make_shared<Transpose>(to_stream(s), axes), {a});
}
array transpose(const array& a, StreamOrDevice s) {
  std::vector<int> axes(a.ndim());
  std::iota(axes.rbegin(), axes.rend(), 0);
  return transpose(a, axes, s);
}

array swapaxes(const array& a, int axis1, int axis2, StreamOrDevice s) {
  int a1 = normalize_axis(axis1, a.ndim(), "swapaxes");
  int a2 = normalize_axis(axis2, a.ndim(), "swapaxes");
  std::vector<int> axes(a.ndim());
  std::iota(axes.begin(), axes.end(), 0);
  std::swap(axes[a1], axes[a2]);
  return transpose(a, axes, s);
}

array moveaxis(const array& a, int source, int destination, StreamOrDevice s) {
  int src = normalize_axis(source, a.ndim(), "moveaxis");
  int dst = normalize_axis(destination, a.ndim(), "moveaxis");
  std::vector<int> axes(a.ndim());
  std::iota(axes.begin(), axes.end(), 0);
  axes.erase(axes.begin() + src);
  axes.insert(axes.begin() + dst, src);
  return transpose(a, axes, s);
}

array broadcast_to(const array& a, const Shape& shape, StreamOrDevice s) {
  if (a.shape() == shape) return a;
  checked_shape_size(shape, a.itemsize(), "broadcast_to");
  if (!broadcasts_to(a.shape(), shape)) {
    throw std::invalid_argument("[broadcast_to] cannot broadcast an array of shape " +
                                shape_string(a.shape()) + " to " + shape_string(shape));
  }
  return array(shape, a.dtype(), std::make_shared<Broadcast>(to_stream(s), shape), {a});
}

std::vector<array> broadcast_arrays(const std::vector<array>& inputs, StreamOrDevice s) {
  Shape shape;
  for (auto& a : inputs) shape = broadcast_shapes(shape, a.shape(), "broadcast_arrays");
  for (auto& a : inputs) checked_shape_size(shape, a.itemsize(), "broadcast_arrays");
  std::vector<array> out;
  for (auto& a : inputs) out.push_back(broadcast_to(a, shape, s));
  return out;
}

array expand_dims(const array& a, const std::vector<int>& axes, StreamOrDevice s) {
  const int out_ndim = a.ndim() + static_cast<int>(axes.size());
  std::vector<int> norm;
  for (int ax : axes) norm.push_back(normalize_axis(ax, out_ndim, "expand_dims"));
  std::sort(norm.begin(), norm.end());
  if (std::adjacent_find(norm.begin(), norm.end()) != norm.end()) {
    throw std::invalid_argument("[expand_dims] repeated axis in " + axes_string(axes));
  }
  Shape shape;
  size_t k = 0, j = 0;
  for (int i = 0; i < out_ndim; ++i) {
    if (k < norm.size() && norm[k] == i) {
      shape.push_back(1);
      ++k;
    } else {
      shape.push_back(a.shape()[j++]);
    }
  }
  return reshape(a, shape, s);
}
array expand_dims(const array& a, int axis, StreamOrDevice s) {
  return expand_dims(a, std::vector<int>{axis}, s);
}

array squeeze(const array& a, const std::vector<int>& axes, StreamOrDevice s) {
  std::vector<bool> drop(a.ndim(), false);
  for (int ax : axes) {
    int n = normalize_axis(ax, a.ndim(), "squeeze");
    if (drop[n]) throw std::invalid_argument("[squeeze] repeated axis in " + axes_string(axes));
    if (a.shape()[n] != 1) {
      throw std::invalid_argument("[squeeze] cannot squeeze axis " + std::to_string(ax) +
                                  " of size " + std::to_string(a.shape()[n]) + " in shape " +
                                  shape_string(a.shape()));
    }
    drop[n] = true;
  }
  Shape shape;
  for (int i = 0; i < a.ndim(); ++i) {
    if (!drop[i]) shape.push_back(a.shape()[i]);
  }
  return reshape(a, shape, s);
}
array squeeze(const array& a, int axis, StreamOrDevice s) {
  return squeeze(a, std::vector<int>{axis}, s);
}
array squeeze(const array& a, StreamOrDevice s) {
  std::vector<int> axes;
  for (int i = 0; i < a.ndim(); ++i) {
    if (a.shape()[i] == 1) axes.push_back(i);
  }
  return squeeze(a, axes, s);
}

array slice(const array& a, Shape start, Shape stop, Shape strides, StreamOrDevice s) {
  if (static_cast<int>(start.size()) != a.ndim() || static_cast<int>(stop.size()) != a.ndim() ||
      static_cast<int>(strides.size()) != a.ndim()) {
    throw std::invalid_argument("[slice] start " + shape_string(start) + ", stop " +
                                shape_string(stop) + " and strides " + shape_string(strides) +
                                " must each have one entry per axis of shape " +
                                shape_string(a.shape()));
  }
  Shape shape(a.ndim());
  bool whole = true;
  for (int i = 0; i < a.ndim(); ++i) {
    if (strides[i] == 0) throw std::invalid_argument("[slice] stride 0 on axis " + std::to_string(i));
    shape[i] = normalize_slice(a.shape()[i], start[i], stop[i], strides[i]);
    whole &= shape[i] == a.shape()[i] && start[i] == 0 && strides[i] == 1;
  }
  if (whole) return a;
  return array(shape, a.dtype(),
               std::make_shared<Slice>(to_stream(s), start, stop, strides), {a});
}
array slice(const array& a, Shape start, Shape stop, StreamOrDevice s) {
  return slice(a, std::move(start), std::move(stop), Shape(a.ndim(), 1), s);
}

array slice_update(const array& src, const array& update, Shape start, Shape stop,
                   StreamOrDevice s) {
  Shape strides(start.size(), 1);
  return slice_update(src, update, std::move(start), std::move(stop), std::move(strides), s);
}
array slice_update(const array& src, const array& update, Shape start, Shape stop, Shape strides,
                   StreamOrDevice s) {
  Shape region(src.ndim());
  if (static_cast<int>(start.size()) != src.ndim() || stop.size() != start.size() ||
      strides.size() != start.size()) {
    throw std::invalid_argument("[slice_update] start/stop/strides must have one entry per axis");
  }
  for (int i = 0; i < src.ndim(); ++i) {
    if (strides[i] == 0) throw std::invalid_argument("[slice_update] stride 0 on axis " + std::to_string(i));
    region[i] = normalize_slice(src.shape()[i], start[i], stop[i], strides[i]);
  }
  if (!broadcasts_to(update.shape(), region)) {
    throw std::invalid_argument("[slice_update] cannot broadcast an update of shape " +
                                shape_string(update.shape()) + " to the slice of shape " +
                                shape_string(region) + " of an array of shape " +
                                shape_string(src.shape()));
  }
  array upd = broadcast_to(update, region, s);
  if (!(upd.dtype() == src.dtype())) upd = upd.astype(src.dtype());
  return array(src.shape(), src.dtype(),
               std::make_shared<SliceUpdate>(to_stream(s), start, stop, strides), {src, upd});
}

array concatenate(std::vector<array> arrays, int axis, StreamOrDevice s) {
  if (arrays.empty()) throw std::invalid_argument("[concatenate] no arrays to concatenate");
  const int nd = arrays[0].ndim();
  if (nd == 0) throw std::invalid_argument("[concatenate] zero-dimensional arrays cannot be concatenated");
  int ax = normalize_axis(axis, nd, "concatenate");
  Shape shape = arrays[0].shape();
  int64_t extent = 0;  // along the axis: a sum of int32 extents, may pass INT32_MAX
  Dtype dtype = arrays[0].dtype();
  for (auto& a : arrays) {
    bool ok = a.ndim() == nd;
    for (int i = 0; ok && i < nd; ++i) ok = i == ax || a.shape()[i] == arrays[0].shape()[i];
    if (!ok) {
      throw std::invalid_argument("[concatenate] shapes " + shape_string(arrays[0].shape()) +
                                  " and " + shape_string(a.shape()) +
                                  " differ outside the concatenation axis " + std::to_string(axis));
    }
    extent += a.shape()[ax];
    dtype = promote_types(dtype, a.dtype());
  }
  shape[ax] = to_extent(extent, "concatenate", "the result");
  checked_shape_size(shape, dtype.size(), "concatenate");
  if (arrays.size() == 1) return arrays[0];
  for (auto& a : arrays) {
    if (!(a.dtype() == dtype)) a = apply_elementwise(ElemOp::AsType, {a}, s, dtype);
  }
  return array(shape, dtype, std::make_shared<Concatenate>(to_stream(s), ax), std::move(arrays));
}
array concatenate(std::vector<array> arrays, StreamOrDevice s) {
  for (auto& a : arrays) {
    to_extent(static_cast<int64_t>(a.size()), "concatenate",
              "the flattened array of shape " + shape_string(a.shape()));
    a = flatten(a, s);
  }
  return concatenate(std::move(arrays), 0, s);
}

array stack(const std::vector<array>& arrays, int axis, StreamOrDevice s) {
  if (arrays.empty()) throw std::invalid_argument("[stack] no arrays to stack");
  for (auto& a : arrays) {
    if (a.shape() != arrays[0].shape()) {
      throw std::invalid_argument("[stack] all arrays must have the same shape, got " +
                                  shape_string(arrays[0].shape()) + " and " + shape_string(a.shape()));
    }
  }
  int ax = normalize_axis(axis, arrays[0].ndim() + 1, "stack");
  // The result's shape, checked here so that concatenate's checks cannot fire under its name.
  Shape shape = arrays[0].shape();
  shape.insert(shape.begin() + ax, to_extent(static_cast<int64_t>(arrays.size()), "stack",
                                             "the result"));
  Dtype dtype = arrays[0].dtype();
  for (auto& a : arrays) dtype = promote_types(dtype, a.dtype());
  checked_shape_size(shape, dtype.size(), "stack");
  std::vector<array> expanded;
  for (auto& a : arrays) expanded.push_back(expand_dims(a, ax, s));
  if (expanded.size() == 1) return expanded[0];
  return concatenate(std::move(expanded), ax, s);
}
array stack(const std::vector<array>& arrays, StreamOrDevice s) { return stack(arrays, 0, s); }

// As NumPy's split (and array_split, identical for indices): part i is a[indices[i-1]:indices[i]]
// along the axis, each bound a Python slice bound (negative counts from the end, clamped). So
// non-increasing indices give an empty part and the next part starts again from the smaller
// index: np.split(np.arange(6), [4, 2]) is [0 1 2 3], [], [2 3 4 5].
std::vector<array> split(const array& a, const Shape& indices, int axis, StreamOrDevice s) {
  int ax = normalize_axis(axis, a.ndim(), "split");
  std::vector<array> out;
  Shape st(a.ndim(), 0), sp = a.shape();
  for (size_t i = 0; i <= indices.size(); ++i) {
    sp[ax] = i < indices.size() ? indices[i] : a.shape()[ax];
    out.push_back(slice(a, st, sp, s));
    st[ax] = sp[ax];
  }
  return out;
}
std::vector<array> split(const array& a, const Shape& indices, StreamOrDevice s) {
  return split(a, indices, 0, s);
}
std::vector<array> split(const array& a, int num_splits, int axis, StreamOrDevice s) {
  int ax = normalize_axis(axis, a.ndim(), "split");
  if (num_splits <= 0 || a.shape()[ax] % num_splits != 0) {
    throw std::invalid_argument("[split] cannot split axis " + std::to_string(axis) + " of size " +
                                std::to_string(a.shape()[ax]) + " into " +
                                std::to_string(num_splits) + " equal parts");
  }
  Shape idx;
  const int32_t step = a.shape()[ax] / num_splits;
  for (int i = 1; i < num_splits; ++i) idx.push_back(i * step);
  return split(a, idx, ax, s);
}
std::vector<array> split(const array& a, int num_splits, StreamOrDevice s) {
  return split(a, num_splits, 0, s);
}

array contiguous(const array& a, bool allow_col_major, StreamOrDevice s) {
  (void)allow_col_major;  // a copy is always row-major; views that are already so are shared
  return array(a.shape(), a.dtype(), std::make_shared<Copy>(to_stream(s)), {a});
}

array make_row_contiguous(const array& a) {
  array x = a;
  x.eval();
  if (x.flags().row_contiguous) return x;
  array c = contiguous(x, false, Device(Device::cpu));
  c.eval();
  return c;
}

array sum_to_shape(const array& g, const Shape& shape, StreamOrDevice s) {
  if (g.shape() == shape) return g;
  int lead = g.ndim() - static_cast<int>(shape.size());
  std::vector<int> axes;
  for (int i = 0; i < g.ndim(); ++i) {
    if (i < lead || (shape[i - lead] == 1 && g.shape()[i] != 1)) axes.push_back(i);
  }
  return reshape(sum(g, axes, true, s), shape, s);
}

array array::reshape(Shape shape) const { return tessera::reshape(*this, std::move(shape)); }

array::ArrayIterator array::begin() const {
  if (ndim() == 0) throw std::invalid_argument("[array::begin] cannot iterate a 0-d array");
  return ArrayIterator(*this, 0);
}
array::ArrayIterator array::end() const {
  if (ndim() == 0) throw std::invalid_argument("[array::end] cannot iterate a 0-d array");
  return ArrayIterator(*this, shape(0));
}
array array::ArrayIterator::operator*() const {
  const array& a = *a_;
  if (index_ < 0 || index_ >= a.shape(0)) {
    throw std::out_of_range("[array::ArrayIterator] index " + std::to_string(index_) +
                            " is outside the first axis of shape " + shape_string(a.shape()));
  }
  Shape start(a.ndim(), 0), stop = a.shape();
  start[0] = index_;
  stop[0] = index_ + 1;
  return squeeze(slice(a, start, stop), 0);
}
array array::T() const { return tessera::transpose(*this); }

// ---------------------------------------------------------------------------------------------
// Gradients: each view's cotangent is the inverse view (or the scatter of a slice).

bool Reshape::is_equivalent(const Primitive& o) const {
  auto* r = dynamic_cast<const Reshape*>(&o);
  return r && r->shape_ == shape_;
}
std::vector<array> Reshape::vjp(const std::vector<array>& primals, const std::vector<array>& cot,
                                const std::vector<int>&, const std::vector<array>&) {
  return {reshape(cot[0], primals[0].shape(), stream())};
}
std::vector<array> Reshape::jvp(const std::vector<array>&, const std::vector<array>& tan,
                                const std::vector<int>&) {
  return {reshape(tan[0], shape_, stream())};
}

bool Transpose::is_equivalent(const Primitive& o) const {
  auto* t = dynamic_cast<const Transpose*>(&o);
  return t && t->axes_ == axes_;
}
std::vector<array> Transpose::vjp(const std::vector<array>&, const std::vector<array>& cot,
                                  const std::vector<int>&, const std::vector<array>&) {
  return {transpose(cot[0], inverse_permutation(axes_), stream())};
}
std::vector<array> Transpose::jvp(const std::vector<array>&, const std::vector<array>& tan,
                                  const std::vector<int>&) {
  return {transpose(tan[0], axes_, stream())};
}

bool Broadcast::is_equivalent(const Primitive& o) const {
  auto* b = dynamic_cast<const Broadcast*>(&o);
  return b && b->shape_ == shape_;
}
std::vector<array> Broadcast::vjp(const std::vector<array>& primals, const std::vector<array>& cot,
                                  const std::vector<int>&, const std::vector<array>&) {
  return {sum_to_shape(cot[0], primals[0].shape(), stream())};
}
std::vector<array> Broadcast::jvp(const std::vector<array>&, const std::vector<array>& tan,
                                  const std::vector<int>&) {
  return {broadcast_to(tan[0], shape_, stream())};
}

bool Slice::is_equivalent(const Primitive& o) const {
  auto* sl = dynamic_cast<const Slice*>(&o);
  return sl && sl->start_ == start_ && sl->stop_ == stop_ && sl->strides_ == strides_;
}
std::vector<array> Slice::vjp(const std::vector<array>& primals, const std::vector<array>& cot,
                              const std::vector<int>&, const std::vector<array>&) {
  array z = zeros(primals[0].shape(), cot[0].dtype(), stream());
  return {slice_update(z, cot[0], start_, stop_, strides_, stream())};
}
std::vector<array> Slice::jvp(const std::vector<array>&, const std::vector<array>& tan,
                              const std::vector<int>&) {
  return {slice(tan[0], start_, stop_, strides_, stream())};
}

std::vector<array> SliceUpdate::vjp(const std::vector<array>& primals,
                                    const std::vector<array>& cot, const std::vector<int>& argnums,
                                    const std::vector<array>&) {
  std::vector<array> out;
  for (int i : argnums) {
    if (i == 0) {
      array z = zeros(primals[1].shape(), cot[0].dtype(), stream());
      out.push_back(slice_update(cot[0], z, start_, stop_, strides_, stream()));
    } else {
      out.push_back(slice(cot[0], start_, stop_, strides_, stream()));
    }
  }
  return out;
}
std::vector<array> SliceUpdate::jvp(const std::vector<array>& primals,
                                    const std::vector<array>& tan, const std::vector<int>& argnums) {
  array t_src = zeros_like(primals[0], stream());
  array t_upd = zeros_like(primals[1], stream());
  for (size_t k = 0; k < argnums.size(); ++k) (argnums[k] == 0 ? t_src : t_upd) = tan[k];
  return {slice_update(t_src, t_upd, start_, stop_, strides_, stream())};
}

std::vector<array> Concatenate::vjp(const std::vector<array>& primals,
                                    const std::vector<array>& cot, const std::vector<int>& argnums,
                                    const std::vector<array>&) {
  Shape offsets{0};
  for (auto& p : primals) offsets.push_back(offsets.back() + p.shape()[axis_]);
  std::vector<array> out;
  for (int i : argnums) {
    Shape st(cot[0].ndim(), 0), sp = cot[0].shape();
    st[axis_] = offsets[i];
    sp[axis_] = offsets[i + 1];
    out.push_back(slice(cot[0], st, sp, stream()));
  }
  return out;
}
std::vector<array> Concatenate::jvp(const std::vector<array>& primals,
                                    const std::vector<array>& tan, const std::vector<int>& argnums) {
  std::vector<array> parts;
  for (size_t i = 0; i < primals.size(); ++i) {
    auto it = std::find(argnums.begin(), argnums.end(), static_cast<int>(i));
    parts.push_back(it == argnums.end() ? zeros_like(primals[i], stream())
                                        : tan[it - argnums.begin()]);
  }
  return {concatenate(parts, axis_, stream())};
}

std::vector<array> Copy::vjp(const std::vector<array>&, const std::vector<array>& cot,
                             const std::vector<int>&, const std::vector<array>&) {
  return {cot[0]};
}
std::vector<array> Copy::jvp(const std::vector<array>&, const std::vector<array>& tan,
                             const std::vector<int>&) {
  return {tan[0]};
}

// ---------------------------------------------------------------------------------------------
// Batching rules: the batch axis goes to the front (a view), and the per-example arguments of
// the primitive gain a leading entry for it; the same op then runs on the batched array.

namespace {
Shape with_batch(const Shape& per_example, int32_t batch_entry) {
  Shape out = per_example;
  out.insert(out.begin(), batch_entry);
  return out;
}
}  // namespace

std::pair<std::vector<array>, std::vector<int>> Reshape::vmap(const std::vector<array>& in,
                                                              const std::vector<int>& axes) {
  array x = batching::to_front(in[0], axes[0], stream());
  return {{reshape(x, with_batch(shape_, x.shape(0)), stream())}, {0}};
}

std::pair<std::vector<array>, std::vector<int>> Transpose::vmap(const std::vector<array>& in,
                                                                const std::vector<int>& axes) {
  std::vector<int> perm{0};
  for (int a : axes_) perm.push_back(a + 1);
  return {{transpose(batching::to_front(in[0], axes[0], stream()), perm, stream())}, {0}};
}

std::pair<std::vector<array>, std::vector<int>> Broadcast::vmap(const std::vector<array>& in,
                                                                const std::vector<int>& axes) {
  const int batch = in[0].shape(axes[0]);
  array x = batching::aligned(in[0], axes[0], static_cast<int>(shape_.size()), batch, false,
                              stream());
  return {{broadcast_to(x, with_batch(shape_, batch), stream())}, {0}};
}

std::pair<std::vector<array>, std::vector<int>> Slice::vmap(const std::vector<array>& in,
                                                            const std::vector<int>& axes) {
  array x = batching::to_front(in[0], axes[0], stream());
  return {{slice(x, with_batch(start_, 0), with_batch(stop_, x.shape(0)), with_batch(strides_, 1),
                 stream())},
          {0}};
}

std::pair<std::vector<array>, std::vector<int>> SliceUpdate::vmap(const std::vector<array>& in,
                                                                  const std::vector<int>& axes) {
  const int batch = batching::batch_size(in, axes, "SliceUpdate");
  // Both operands batched at the front; a shared one is broadcast along the batch.
  array src = batching::with_batch_in_front(in[0], axes[0], batch, stream());
  array upd = batching::with_batch_in_front(in[1], axes[1], batch, stream());
  return {{slice_update(src, upd, with_batch(start_, 0), with_batch(stop_, batch),
                        with_batch(strides_, 1), stream())},
          {0}};
}

std::pair<std::vector<array>, std::vector<int>> Concatenate::vmap(const std::vector<array>& in,
                                                                  const std::vector<int>& axes) {
  const int batch = batching::batch_size(in, axes, "Concatenate");
  std::vector<array> parts;
  for (size_t i = 0; i < in.size(); ++i) {
    parts.push_back(batching::with_batch_in_front(in[i], axes[i], batch, stream()));
  }
  return {{concatenate(parts, axis_ + 1, stream())}, {0}};
}

std::pair<std::vector<array>, std::vector<int>> Copy::vmap(const std::vector<array>& in,
                                                           const std::vector<int>& axes) {
  return {{contiguous(in[0], false, stream())}, {axes[0]}};
}

std::vector<Shape> Copy::output_shapes(const std::vector<array>& in) { return {in[0].shape()}; }
std::vector<Shape> Transpose::output_shapes(const std::vector<array>& in) {
  Shape out;
  for (int a : axes_) out.push_back(in[0].shape(a));
  return {out};
}

}  // namespace tessera
