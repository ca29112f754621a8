// Indexing ops: argument checking (MLX's messages), the index dtype the kernels read, and the
// gradient and batching rules of Gather, Scatter, GatherAxis and ScatterAxis.
#include "tessera/ops/indexing.hpp"

#include <numeric>
#include <set>
#include <sstream>

#include "tessera/ops/compare.hpp"
#include "tessera/ops/creation.hpp"
#include "tessera/ops/elementwise.hpp"
#include "tessera/ops/shape.hpp"
#include "tessera/primitives/indexing.hpp"
#include "transforms/batching.hpp"

namespace tessera {

const char* scatter_reduce_name(ScatterReduce r) {
  switch (r) {
    case ScatterReduce::None: return "scatter";
    case ScatterReduce::Sum: return "scatter_add";
    case ScatterReduce::Prod: return "scatter_prod";
    case ScatterReduce::Max: return "scatter_max";
    case ScatterReduce::Min: return "scatter_min";
  }
  return "scatter";
}

namespace {

[[noreturn]] void fail(const std::string& op, const std::string& msg) {
  throw std::invalid_argument("[" + op + "] " + msg);
}

// The dtype the kernels read indices in: 8- and 16-bit integers widen to int32.
Dtype kernel_index_dtype(Dtype t) {
  if (t == int32 || t == uint32 || t == int64 || t == uint64) return t;
  return int32;
}

void check_index_dtype(const array& idx, const std::string& op) {
  if (idx.dtype() == bool_) fail(op, "boolean indices are not supported (got an index array of dtype bool)");
  if (!is_integral(idx.dtype())) {
    fail(op, "indices must be integral, got an index array of dtype " + to_string(idx.dtype()));
  }
}

// The index arrays checked, broadcast together and cast to one kernel index dtype.
std::vector<array> prepare_indices(const std::vector<array>& indices, const std::string& op, StreamOrDevice s) {
  if (indices.empty()) return {};
  Shape shape = indices[0].shape();
  for (auto& idx : indices) {
    check_index_dtype(idx, op);
    shape = broadcast_shapes(shape, idx.shape(), op.c_str());
  }
  const Dtype dtype = kernel_index_dtype(result_type(indices));
  std::vector<array> out;
  for (auto& idx : indices) {
    array b = broadcast_to(idx, shape, s);
    out.push_back(b.dtype() == dtype ? b : astype(b, dtype, s));
  }
  return out;
}

void check_axes(const std::vector<int>& axes, size_t num_indices, int ndim, const std::string& op) {
  if (num_indices > static_cast<size_t>(ndim)) {
    fail(op, "too many index arrays: got " + std::to_string(num_indices) + " for an array with " +
                 std::to_string(ndim) + " dimensions");
  }
  std::set<int> dims(axes.begin(), axes.end());
  if (dims.size() != axes.size()) fail(op, "repeated axes are not allowed");
  if (!dims.empty() && (*dims.begin() < 0 || *dims.rbegin() >= ndim)) {
    fail(op, "axes don't match the array's " + std::to_string(ndim) + " dimensions");
  }
  if (num_indices != axes.size()) {
    fail(op, "the number of index arrays (" + std::to_string(num_indices) + ") does not match the number of axes (" +
                 std::to_string(axes.size()) + ")");
  }
}

// Shapes of a and b broadcast together on every axis but `axis` (which each keeps).
std::pair<Shape, Shape> broadcast_except(const Shape& a, const Shape& b, int axis, const std::string& op) {
  Shape sa = a, sb = b;
  for (size_t d = 0; d < a.size(); ++d) {
    if (static_cast<int>(d) == axis) continue;
    if (a[d] != b[d] && a[d] != 1 && b[d] != 1) {
      fail(op, "shapes " + shape_string(a) + " and " + shape_string(b) + " do not broadcast off axis " +
                   std::to_string(axis));
    }
    sa[d] = sb[d] = std::max(a[d], b[d]);
    if (a[d] == 0 || b[d] == 0) sa[d] = sb[d] = 0;
  }
  return {sa, sb};
}

array make_scatter(const array& a, const std::vector<array>& indices, const array& updates,
                   const std::vector<int>& axes, ScatterReduce mode, StreamOrDevice s) {
  const std::string op = scatter_reduce_name(mode);
  check_axes(axes, indices.size(), a.ndim(), op);
  if ((mode == ScatterReduce::Max || mode == ScatterReduce::Min) && a.dtype() == complex64) {
    fail(op, "complex64 has no ordering");
  }
  std::vector<array> inputs = prepare_indices(indices, op, s);
  const Shape idx_shape = inputs.empty() ? Shape{} : inputs[0].shape();
  const int pn = static_cast<int>(idx_shape.size());
  if (updates.ndim() != a.ndim() + pn) {
    fail(op, "updates with " + std::to_string(updates.ndim()) + " dimensions do not match the sum of the array (" +
                 std::to_string(a.ndim()) + ") and indices (" + std::to_string(pn) + ") dimensions");
  }
  for (int i = 0; i < pn; ++i) {
    if (updates.shape(i) != idx_shape[i]) {
      fail(op, "update shape " + shape_string(updates.shape()) + " is not valid for the broadcast index shape " +
                   shape_string(idx_shape));
    }
  }
  for (int i = 0; i < a.ndim(); ++i) {
    if (updates.shape(pn + i) > a.shape(i)) {
      fail(op, "updates with shape " + shape_string(updates.shape()) + " are too large for an array with shape " +
                   shape_string(a.shape()));
    }
  }
  inputs.insert(inputs.begin(), a);
  inputs.push_back(updates.dtype() == a.dtype() ? updates : astype(updates, a.dtype(), s));
  return array(a.shape(), a.dtype(), std::make_shared<Scatter>(to_stream(s), mode, axes), std::move(inputs));
}

array make_scatter_axis(const array& a, const array& indices, const array& values, int axis,
                        ScatterReduce mode, StreamOrDevice s) {
  const std::string op = mode == ScatterReduce::None ? "put_along_axis" : "scatter_add_axis";
  axis = normalize_axis(axis, a.ndim(), op.c_str());
  check_index_dtype(indices, op);
  if (indices.ndim() != a.ndim()) {
    fail(op, "indices of dimension " + std::to_string(indices.ndim()) + " do not match an array of dimension " +
                 std::to_string(a.ndim()));
  }
  if (a.size() == 0) return a;
  array upd = values.dtype() == a.dtype() ? values : astype(values, a.dtype(), s);
  if (upd.ndim() > indices.ndim()) {
    std::vector<int> lead(upd.ndim() - indices.ndim());
    std::iota(lead.begin(), lead.end(), 0);
    for (int d : lead) {
      if (upd.shape(d) != 1) {
        fail(op, "values of shape " + shape_string(values.shape()) + " have more dimensions than the indices " +
                     shape_string(indices.shape()));
      }
    }
    upd = squeeze(upd, lead, s);
  }
  const Shape iv = broadcast_shapes(indices.shape(), upd.shape(), op.c_str());
  auto [sa, si] = broadcast_except(a.shape(), iv, axis, op);
  if (si[axis] > 0 && sa[axis] == 0) fail(op, "cannot put values into an empty axis");
  const Dtype idt = kernel_index_dtype(indices.dtype());
  array idx = broadcast_to(indices, si, s);
  if (!(idx.dtype() == idt)) idx = astype(idx, idt, s);
  return array(sa, a.dtype(), std::make_shared<ScatterAxis>(to_stream(s), mode, axis),
               {broadcast_to(a, sa, s), idx, broadcast_to(upd, si, s)});
}

std::vector<array> middle(const std::vector<array>& v) { return {v.begin() + 1, v.end() - 1}; }

// The update slice shape of a scatter's updates (after the index dims).
Shape update_slice(const array& updates, size_t index_rank) {
  return Shape(updates.shape().begin() + static_cast<std::ptrdiff_t>(index_rank), updates.shape().end());
}

array batch_arange(int batch, int index_rank, Dtype dtype, const Stream& s) {
  Shape shape(1 + index_rank, 1);
  shape[0] = batch;
  return reshape(astype(arange(0, batch, 1, s), dtype, s), shape, s);
}

}  // namespace

array gather(const array& a, const std::vector<array>& indices, const std::vector<int>& axes,
             const Shape& slice_sizes, StreamOrDevice s) {
  check_axes(axes, indices.size(), a.ndim(), "gather");
  if (static_cast<int>(slice_sizes.size()) != a.ndim()) {
    fail("gather", "got slice_sizes with " + std::to_string(slice_sizes.size()) + " entries for an array with " +
                       std::to_string(a.ndim()) + " dimensions");
  }
  std::vector<array> inputs = prepare_indices(indices, "gather", s);
  int64_t slice_total = 1;
  for (auto v : slice_sizes) slice_total *= v;
  for (int i = 0; i < a.ndim(); ++i) {
    if (slice_sizes[i] < 0 || slice_sizes[i] > a.shape(i)) {
      fail("gather", "slice sizes must be in [0, a.shape(i)]: got " + shape_string(slice_sizes) +
                         " for an array with shape " + shape_string(a.shape()));
    }
  }
  Shape out_shape = inputs.empty() ? Shape{} : inputs[0].shape();
  if (a.size() == 0) {
    const int64_t idx_size = inputs.empty() ? 1 : static_cast<int64_t>(inputs[0].size());
    if (idx_size != 0 && slice_total != 0) {
      fail("gather", "an empty input needs empty indices or a slice of zero elements");
    }
  }
  out_shape.insert(out_shape.end(), slice_sizes.begin(), slice_sizes.end());
  inputs.insert(inputs.begin(), a);
  return array(std::move(out_shape), a.dtype(), std::make_shared<Gather>(to_stream(s), axes, slice_sizes),
               std::move(inputs));
}
array gather(const array& a, const array& indices, int axis, const Shape& slice_sizes, StreamOrDevice s) {
  return gather(a, std::vector<array>{indices}, std::vector<int>{axis}, slice_sizes, s);
}

array take(const array& a, const array& indices, int axis, StreamOrDevice s) {
  if (axis + a.ndim() < 0 || axis >= a.ndim()) {
    fail("take", "invalid axis " + std::to_string(axis) + " for an array with " + std::to_string(a.ndim()) +
                     " dimensions");
  }
  axis = axis < 0 ? axis + a.ndim() : axis;
  if (a.shape(axis) == 0 && indices.size() != 0) fail("take", "cannot do a non-empty take from an empty axis");
  check_index_dtype(indices, "take");
  Shape slice_sizes = a.shape();
  slice_sizes[axis] = 1;
  array out = gather(a, indices, axis, slice_sizes, s);
  const int in = indices.ndim();
  if (axis != 0) {
    // [idx..., a's axes] -> [a's axes before `axis`, idx..., the rest]
    std::vector<int> perm(out.ndim());
    std::iota(perm.begin(), perm.begin() + axis, in);
    std::iota(perm.begin() + axis, perm.begin() + axis + in, 0);
    std::iota(perm.begin() + axis + in, perm.end(), in + axis);
    out = transpose(out, perm, s);
  }
  return squeeze(out, in + axis, s);
}
array take(const array& a, int index, int axis, StreamOrDevice s) {
  if (axis + a.ndim() < 0 || axis >= a.ndim()) {
    fail("take", "invalid axis " + std::to_string(axis) + " for an array with " + std::to_string(a.ndim()) +
                     " dimensions");
  }
  axis = axis < 0 ? axis + a.ndim() : axis;
  const int n = a.shape(axis);
  if (n == 0) fail("take", "cannot take from an empty axis");
  const int i = index < 0 ? index + n : index;
  if (i < 0 || i >= n) {
    fail("take", "index " + std::to_string(index) + " is out of range for axis " + std::to_string(axis) +
                     " of extent " + std::to_string(n));
  }
  Shape start(a.ndim(), 0), stop = a.shape();
  start[axis] = i;
  stop[axis] = i + 1;
  return squeeze(slice(a, start, stop, s), axis, s);
}
array take(const array& a, const array& indices, StreamOrDevice s) { return take(flatten(a, s), indices, 0, s); }
array take(const array& a, int index, StreamOrDevice s) { return take(flatten(a, s), index, 0, s); }

array take_along_axis(const array& a, const array& indices, int axis, StreamOrDevice s) {
  axis = normalize_axis(axis, a.ndim(), "take_along_axis");
  check_index_dtype(indices, "take_along_axis");
  if (indices.ndim() != a.ndim()) {
    fail("take_along_axis", "indices of dimension " + std::to_string(indices.ndim()) +
                                " do not match an array of dimension " + std::to_string(a.ndim()));
  }
  auto [sa, si] = broadcast_except(a.shape(), indices.shape(), axis, "take_along_axis");
  if (sa[axis] == 0 && checked_shape_size(si, 1, "take_along_axis") != 0) fail("take_along_axis", "cannot take from an empty axis");
  const Dtype idt = kernel_index_dtype(indices.dtype());
  array idx = broadcast_to(indices, si, s);
  if (!(idx.dtype() == idt)) idx = astype(idx, idt, s);
  return array(si, a.dtype(), std::make_shared<GatherAxis>(to_stream(s), axis), {broadcast_to(a, sa, s), idx});
}

array put_along_axis(const array& a, const array& indices, const array& values, int axis, StreamOrDevice s) {
  return make_scatter_axis(a, indices, values, axis, ScatterReduce::None, s);
}
array scatter_add_axis(const array& a, const array& indices, const array& values, int axis, StreamOrDevice s) {
  return make_scatter_axis(a, indices, values, axis, ScatterReduce::Sum, s);
}

#define TESSERA_SCATTER_FORMS(fn, MODE)                                                                     \
  array fn(const array& a, const std::vector<array>& indices, const array& updates,                      \
           const std::vector<int>& axes, StreamOrDevice s) {                                              \
    return make_scatter(a, indices, updates, axes, ScatterReduce::MODE, s);                               \
  }                                                                                                       \
  array fn(const array& a, const array& indices, const array& updates, int axis, StreamOrDevice s) {      \
    return make_scatter(a, {indices}, updates, {axis}, ScatterReduce::MODE, s);                           \
  }
TESSERA_SCATTER_FORMS(scatter, None)
TESSERA_SCATTER_FORMS(scatter_add, Sum)
TESSERA_SCATTER_FORMS(scatter_prod, Prod)
TESSERA_SCATTER_FORMS(scatter_max, Max)
TESSERA_SCATTER_FORMS(scatter_min, Min)
#undef TESSERA_SCATTER_FORMS

namespace {
// The start array of a dynamic slice as one 0-d index per axis, counted from the end when
// negative and moved back so that a slice of `sizes` fits (axes normalised in place).
std::vector<array> start_indices(const array& start, std::vector<int>& axes, const Shape& sizes, const Shape& shape,
                                 const char* op, StreamOrDevice s) {
  check_index_dtype(start, op);
  if (start.ndim() > 1 || static_cast<size_t>(start.size()) != axes.size()) {
    fail(op, "start must be a 1-d array with one entry per axis: got shape " + shape_string(start.shape()) +
                 " for " + std::to_string(axes.size()) + " axes");
  }
  if (sizes.size() != axes.size()) {
    fail(op, "slice_size has " + std::to_string(sizes.size()) + " entries for " + std::to_string(axes.size()) +
                 " axes");
  }
  for (auto& ax : axes) ax = normalize_axis(ax, static_cast<int>(shape.size()), op);
  array flat = astype(reshape(start, {-1}, s), int64, s);
  std::vector<array> idx;
  for (size_t i = 0; i < axes.size(); ++i) {
    const int n = shape[axes[i]];
    if (sizes[i] < 0 || sizes[i] > n) {
      fail(op, "a slice of " + std::to_string(sizes[i]) + " does not fit axis " + std::to_string(axes[i]) +
                   " of extent " + std::to_string(n));
    }
    array v = reshape(slice(flat, {int(i)}, {int(i) + 1}, s), {}, s);
    v = where(v < 0, v + n, v, s);
    idx.push_back(clip(v, array(int64_t{0}), array(int64_t{n - sizes[i]}), s));
  }
  return idx;
}
}  // namespace

array detail::dynamic_slice(const array& a, const array& start, std::vector<int> axes, Shape slice_size,
                            StreamOrDevice s) {
  auto idx = start_indices(start, axes, slice_size, a.shape(), "slice", s);
  Shape sizes = a.shape();
  for (size_t i = 0; i < axes.size(); ++i) sizes[axes[i]] = slice_size[i];
  return gather(a, idx, axes, sizes, s);
}

array detail::dynamic_slice_update(const array& src, const array& update, const array& start,
                                   std::vector<int> axes, StreamOrDevice s) {
  if (update.ndim() > src.ndim()) {
    fail("slice_update", "an update of shape " + shape_string(update.shape()) + " has more dimensions than the array " +
                             shape_string(src.shape()));
  }
  // The update at full rank: leading axes of extent 1.
  Shape full(src.ndim() - update.ndim(), 1);
  full.insert(full.end(), update.shape().begin(), update.shape().end());
  Shape sizes;
  for (int ax : axes) sizes.push_back(full[normalize_axis(ax, src.ndim(), "slice_update")]);
  auto idx = start_indices(start, axes, sizes, src.shape(), "slice_update", s);
  return make_scatter(src, idx, reshape(update, full, s), axes, ScatterReduce::None, s);
}

#define TESSERA_SLICE_UPDATE_OP(fn, combine)                                                                   \
  array fn(const array& src, const array& update, Shape start, Shape stop, Shape strides, StreamOrDevice s) { \
    array region = slice(src, start, stop, strides, s);                                                      \
    return slice_update(src, combine(region, astype(update, src.dtype(), s), s), start, stop, strides, s);   \
  }                                                                                                          \
  array fn(const array& src, const array& update, Shape start, Shape stop, StreamOrDevice s) {               \
    Shape strides(start.size(), 1);                                                                          \
    return fn(src, update, std::move(start), std::move(stop), std::move(strides), s);                        \
  }
TESSERA_SLICE_UPDATE_OP(slice_update_add, add)
TESSERA_SLICE_UPDATE_OP(slice_update_prod, multiply)
TESSERA_SLICE_UPDATE_OP(slice_update_max, maximum)
TESSERA_SLICE_UPDATE_OP(slice_update_min, minimum)
#undef TESSERA_SLICE_UPDATE_OP

// ---------------------------------------------------------------------------------------------
// Equivalence and printing.

bool Gather::is_equivalent(const Primitive& o) const {
  auto* g = dynamic_cast<const Gather*>(&o);
  return g && g->axes_ == axes_ && g->slice_sizes_ == slice_sizes_;
}
bool Scatter::is_equivalent(const Primitive& o) const {
  auto* g = dynamic_cast<const Scatter*>(&o);
  return g && g->reduce_ == reduce_ && g->axes_ == axes_;
}
bool GatherAxis::is_equivalent(const Primitive& o) const {
  auto* g = dynamic_cast<const GatherAxis*>(&o);
  return g && g->axis_ == axis_;
}
bool ScatterAxis::is_equivalent(const Primitive& o) const {
  auto* g = dynamic_cast<const ScatterAxis*>(&o);
  return g && g->reduce_ == reduce_ && g->axis_ == axis_;
}
void Scatter::print(std::ostream& os) const {
  static const char* const kinds[] = {"", " add", " prod", " max", " min"};
  os << "Scatter" << kinds[static_cast<int>(reduce_)];
}
void ScatterAxis::print(std::ostream& os) const {
  os << "ScatterAxis" << (reduce_ == ScatterReduce::Sum ? " add" : "");
}

// ---------------------------------------------------------------------------------------------
// Gradients. Indices get none: asking for one is an error, as in MLX.

namespace {
[[noreturn]] void no_index_grad(const char* op) {
  throw std::invalid_argument(std::string("[") + op +
                              "] cannot compute a gradient with respect to the indices; use stop_gradient on them");
}
}  // namespace

std::vector<array> Gather::vjp(const std::vector<array>& primals, const std::vector<array>& cot,
                               const std::vector<int>& argnums, const std::vector<array>&) {
  std::vector<array> out;
  const std::vector<array> idx(primals.begin() + 1, primals.end());
  for (int i : argnums) {
    if (i != 0) no_index_grad("gather");
    out.push_back(make_scatter(zeros(primals[0].shape(), cot[0].dtype(), stream()), idx, cot[0], axes_,
                               ScatterReduce::Sum, stream()));
  }
  return out;
}
std::vector<array> Gather::jvp(const std::vector<array>& primals, const std::vector<array>& tan,
                               const std::vector<int>& argnums) {
  for (int i : argnums)
    if (i != 0) no_index_grad("gather");
  return {gather(tan[0], std::vector<array>(primals.begin() + 1, primals.end()), axes_, slice_sizes_, stream())};
}

std::vector<array> Scatter::vjp(const std::vector<array>& primals, const std::vector<array>& cot,
                                const std::vector<int>& argnums, const std::vector<array>& outputs) {
  const char* op = scatter_reduce_name(reduce_);
  if (reduce_ == ScatterReduce::Prod) {
    throw std::invalid_argument("[scatter_prod] has no vjp (as in MLX)");
  }
  const array& updates = primals.back();
  const std::vector<array> idx = middle(primals);
  const Shape slice = update_slice(updates, idx.empty() ? 0 : idx[0].ndim());
  const array& c = cot[0];
  const bool extremum = reduce_ == ScatterReduce::Max || reduce_ == ScatterReduce::Min;
  std::vector<array> out;
  for (int i : argnums) {
    if (i == 0) {
      if (reduce_ == ScatterReduce::None) {
        out.push_back(make_scatter(c, idx, zeros_like(updates, stream()), axes_, ScatterReduce::None, stream()));
      } else if (reduce_ == ScatterReduce::Sum) {
        out.push_back(c);
      } else {
        out.push_back(where(equal(outputs[0], primals[0], stream()), c, array(0, c.dtype()), stream()));
      }
    } else if (i == static_cast<int>(primals.size()) - 1) {
      array g = gather(c, idx, axes_, slice, stream());
      if (extremum) {
        g = multiply(g, equal(gather(outputs[0], idx, axes_, slice, stream()), updates, stream()), stream());
      }
      out.push_back(g);
    } else {
      no_index_grad(op);
    }
  }
  return out;
}
std::vector<array> Scatter::jvp(const std::vector<array>& primals, const std::vector<array>& tan,
                                const std::vector<int>& argnums) {
  const char* op = scatter_reduce_name(reduce_);
  if (reduce_ == ScatterReduce::Prod) throw std::invalid_argument("[scatter_prod] has no jvp");
  const int last = static_cast<int>(primals.size()) - 1;
  array ta = zeros_like(primals[0], stream()), tu = zeros_like(primals.back(), stream());
  for (size_t k = 0; k < argnums.size(); ++k) {
    if (argnums[k] == 0) ta = tan[k];
    else if (argnums[k] == last) tu = tan[k];
    else no_index_grad(op);
  }
  const std::vector<array> idx = middle(primals);
  if (reduce_ == ScatterReduce::None || reduce_ == ScatterReduce::Sum) {
    return {make_scatter(ta, idx, tu, axes_, reduce_, stream())};
  }
  // Max / Min: the tangent of whichever operand supplied each output element (both on ties).
  array out = make_scatter(primals[0], idx, primals.back(), axes_, reduce_, stream());
  const Shape slice = update_slice(primals.back(), idx.empty() ? 0 : idx[0].ndim());
  array from_a = where(equal(out, primals[0], stream()), ta, array(0, ta.dtype()), stream());
  array won = equal(gather(out, idx, axes_, slice, stream()), primals.back(), stream());
  array from_u = make_scatter(zeros_like(ta, stream()), idx, multiply(tu, won, stream()), axes_, ScatterReduce::Sum,
                              stream());
  return {add(from_a, from_u, stream())};
}

std::vector<array> GatherAxis::vjp(const std::vector<array>& primals, const std::vector<array>& cot,
                                   const std::vector<int>& argnums, const std::vector<array>&) {
  std::vector<array> out;
  for (int i : argnums) {
    if (i != 0) no_index_grad("take_along_axis");
    out.push_back(make_scatter_axis(zeros(primals[0].shape(), cot[0].dtype(), stream()), primals[1], cot[0],
                                    axis_, ScatterReduce::Sum, stream()));
  }
  return out;
}
std::vector<array> GatherAxis::jvp(const std::vector<array>& primals, const std::vector<array>& tan,
                                   const std::vector<int>& argnums) {
  for (int i : argnums)
    if (i != 0) no_index_grad("take_along_axis");
  return {take_along_axis(tan[0], primals[1], axis_, stream())};
}

std::vector<array> ScatterAxis::vjp(const std::vector<array>& primals, const std::vector<array>& cot,
                                    const std::vector<int>& argnums, const std::vector<array>&) {
  const char* op = reduce_ == ScatterReduce::None ? "put_along_axis" : "scatter_add_axis";
  std::vector<array> out;
  for (int i : argnums) {
    if (i == 0) {
      out.push_back(reduce_ == ScatterReduce::None
                        ? make_scatter_axis(cot[0], primals[1], zeros_like(primals[2], stream()), axis_,
                                            ScatterReduce::None, stream())
                        : cot[0]);
    } else if (i == 2) {
      out.push_back(take_along_axis(cot[0], primals[1], axis_, stream()));
    } else {
      no_index_grad(op);
    }
  }
  return out;
}
std::vector<array> ScatterAxis::jvp(const std::vector<array>& primals, const std::vector<array>& tan,
                                    const std::vector<int>& argnums) {
  array ta = zeros_like(primals[0], stream()), tu = zeros_like(primals[2], stream());
  for (size_t k = 0; k < argnums.size(); ++k) {
    if (argnums[k] == 0) ta = tan[k];
    else if (argnums[k] == 2) tu = tan[k];
    else no_index_grad(reduce_ == ScatterReduce::None ? "put_along_axis" : "scatter_add_axis");
  }
  return {make_scatter_axis(ta, primals[1], tu, axis_, reduce_, stream())};
}

// ---------------------------------------------------------------------------------------------
// Batching rules: the batch becomes the front axis of every operand; the gathers and scatters
// index it with an arange (one more index array, on axis 0) unless only the data is batched.

std::pair<std::vector<array>, std::vector<int>> Gather::vmap(const std::vector<array>& in,
                                                             const std::vector<int>& axes) {
  const int batch = batching::batch_size(in, axes, "Gather");
  const std::vector<array> idx_in(in.begin() + 1, in.end());
  bool indices_batched = false;
  for (size_t i = 1; i < in.size(); ++i) indices_batched |= axes[i] >= 0;
  std::vector<int> gaxes;
  for (int ax : axes_) gaxes.push_back(ax + 1);
  if (!indices_batched) {
    // Only the data: its batch axis is one more sliced axis, taken whole.
    array a = batching::to_front(in[0], axes[0], stream());
    Shape sizes = slice_sizes_;
    sizes.insert(sizes.begin(), batch);
    const int rank = idx_in.empty() ? 0 : idx_in[0].ndim();
    return {{gather(a, idx_in, gaxes, sizes, stream())}, {rank}};
  }
  array a = batching::with_batch_in_front(in[0], axes[0], batch, stream());
  std::vector<array> idx;
  int rank = 0;
  for (size_t i = 1; i < in.size(); ++i) {
    idx.push_back(batching::with_batch_in_front(in[i], axes[i], batch, stream()));
    rank = std::max(rank, idx.back().ndim() - 1);
  }
  idx.insert(idx.begin(), batch_arange(batch, rank, idx[0].dtype(), stream()));
  gaxes.insert(gaxes.begin(), 0);
  Shape sizes = slice_sizes_;
  sizes.insert(sizes.begin(), 1);
  array out = gather(a, idx, gaxes, sizes, stream());  // [B, idx..., 1, slice...]
  return {{squeeze(out, 1 + rank, stream())}, {0}};
}

std::pair<std::vector<array>, std::vector<int>> Scatter::vmap(const std::vector<array>& in,
                                                              const std::vector<int>& axes) {
  const int batch = batching::batch_size(in, axes, "Scatter");
  array a = batching::with_batch_in_front(in[0], axes[0], batch, stream());
  std::vector<array> idx;
  int rank = 0;
  for (size_t i = 1; i + 1 < in.size(); ++i) {
    idx.push_back(batching::with_batch_in_front(in[i], axes[i], batch, stream()));
    rank = std::max(rank, idx.back().ndim() - 1);
  }
  const Dtype idt = idx.empty() ? int32 : idx[0].dtype();
  // Each example's updates [idx..., a's axes] -> [B, idx..., 1, a's axes].
  array upd = batching::with_batch_in_front(in.back(), axes.back(), batch, stream());
  upd = expand_dims(upd, 1 + rank, stream());
  idx.insert(idx.begin(), batch_arange(batch, rank, idt, stream()));
  std::vector<int> saxes{0};
  for (int ax : axes_) saxes.push_back(ax + 1);
  return {{make_scatter(a, idx, upd, saxes, reduce_, stream())}, {0}};
}

std::pair<std::vector<array>, std::vector<int>> GatherAxis::vmap(const std::vector<array>& in,
                                                                 const std::vector<int>& axes) {
  const int batch = batching::batch_size(in, axes, "GatherAxis");
  array a = batching::with_batch_in_front(in[0], axes[0], batch, stream());
  array idx = batching::with_batch_in_front(in[1], axes[1], batch, stream());
  return {{take_along_axis(a, idx, axis_ + 1, stream())}, {0}};
}

std::pair<std::vector<array>, std::vector<int>> ScatterAxis::vmap(const std::vector<array>& in,
                                                                  const std::vector<int>& axes) {
  const int batch = batching::batch_size(in, axes, "ScatterAxis");
  array a = batching::with_batch_in_front(in[0], axes[0], batch, stream());
  array idx = batching::with_batch_in_front(in[1], axes[1], batch, stream());
  array upd = batching::with_batch_in_front(in[2], axes[2], batch, stream());
  return {{make_scatter_axis(a, idx, upd, axis_ + 1, reduce_, stream())}, {0}};
}

}  // namespace tessera
