// NumPy-style indexing (ops/subscript.hpp), composed of slice / slice_update for the basic
// part and gather / scatter for the integer arrays.
//
// Every index is first resolved against a's shape into a Plan: the strided window the slices
// and integers select (one `slice`), the advanced indices (integer arrays, and the integers
// beside them, as 0-d arrays) with their axes, and how the result's axes are ordered and
// where new axes go. A read is then slice -> gather -> transpose -> reshape; a write runs the
// same steps backwards on the values and ends in scatter -> slice_update.
#include "tessera/ops/subscript.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "tessera/ops/creation.hpp"
#include "tessera/ops/elementwise.hpp"
#include "tessera/ops/indexing.hpp"
#include "tessera/ops/shape.hpp"

namespace tessera {

namespace {

using indexing::Ellipsis;
using indexing::NewAxis;
using indexing::Slice;

[[noreturn]] void fail(const std::string& msg) { throw std::invalid_argument("[index] " + msg); }

struct Plan {
  // The window: one strided slice of a (full on the axes no slice or integer names).
  Shape start, stop, strides;
  Shape window;           // its shape (integers keep a size-1 axis)
  bool windowed = false;  // some axis is not its full extent
  // Advanced indices on axes of the window (integers become 0-d arrays when arrays exist).
  std::vector<array> adv;
  std::vector<int> adv_axes;
  Shape adv_shape;  // their broadcast shape
  // Axes of the window dropped by an integer (when no array index exists).
  std::vector<int> int_axes;
  // After gathering (broadcast dims first, then the window's other axes in order), the
  // broadcast block moves to position `adv_pos` of those other axes.
  int adv_pos = 0;
  Shape out_shape;  // the final shape, new axes included
};

// Python's slice.indices(n) and the resulting count.
void resolve_slice(const Slice& sl, int64_t n, int64_t& start, int64_t& stop, int64_t& step) {
  step = sl.step.value_or(1);
  if (step == 0) fail("slice step cannot be zero");
  auto clamp_bound = [&](std::optional<int64_t> v, int64_t dflt) {
    if (!v) return dflt;
    int64_t x = *v < 0 ? *v + n : *v;
    if (step > 0) return std::clamp<int64_t>(x, 0, n);
    return std::clamp<int64_t>(x, -1, n - 1);
  };
  start = clamp_bound(sl.start, step > 0 ? 0 : n - 1);
  stop = clamp_bound(sl.stop, step > 0 ? n : -1);
}

int64_t slice_count(int64_t start, int64_t stop, int64_t step) {
  if (step > 0) return start < stop ? (stop - start + step - 1) / step : 0;
  return start > stop ? (start - stop - step - 1) / (-step) : 0;
}

Plan make_plan(const array& a, const std::vector<Index>& indices) {
  // Count the entries that consume an axis, and find the ellipsis.
  int consumed = 0, ellipses = 0;
  bool any_array = false;
  for (auto& ix : indices) {
    const auto& v = ix.value();
    if (std::holds_alternative<Ellipsis>(v)) {
      ++ellipses;
    } else if (!std::holds_alternative<NewAxis>(v)) {
      ++consumed;
    }
    if (auto* arr = std::get_if<array>(&v)) {
      if (arr->dtype() == bool_) {
        fail("boolean mask indices are not supported (their result's shape depends on the "
             "data); use where() or an integer index array");
      }
      if (!issubdtype(arr->dtype(), integer)) {
        fail("index arrays must have an integer dtype, got " + to_string(arr->dtype()) +
             " (shape " + shape_string(arr->shape()) + ")");
      }
      any_array = true;
    }
  }
  if (ellipses > 1) fail("an index can only have a single ellipsis");
  if (consumed > a.ndim()) {
    fail("too many indices for an array of shape " + shape_string(a.shape()) + ": " +
         std::to_string(consumed) + " given");
  }
  Plan p;
  const int nd = a.ndim();
  p.start.assign(nd, 0);
  p.stop = a.shape();
  p.strides.assign(nd, 1);
  p.window = a.shape();
  // One descriptor per result axis, in order, before the advanced block is placed: an axis of
  // the window (>= 0), a new axis (-1), or the advanced block (-2, first occurrence only).
  std::vector<int> layout;
  std::vector<int> adv_entry_positions;  // entry index of every advanced entry
  int axis = 0, entry = 0;
  for (auto& ix : indices) {
    const auto& v = ix.value();
    if (std::holds_alternative<Ellipsis>(v)) {
      for (int k = 0; k < nd - consumed; ++k) layout.push_back(axis++);
    } else if (std::holds_alternative<NewAxis>(v)) {
      layout.push_back(-1);
    } else if (auto* sl = std::get_if<Slice>(&v)) {
      int64_t st, sp, step;
      resolve_slice(*sl, a.shape(axis), st, sp, step);
      const int64_t count = slice_count(st, sp, step), n = a.shape(axis);
      // slice() counts a negative bound from the end, so "before index 0" (-1) is given as
      // -1 - n, which it reads back as -1.
      auto stored = [n](int64_t x) { return static_cast<int32_t>(x < 0 ? x - n : x); };
      p.start[axis] = stored(st);
      p.stop[axis] = stored(sp);
      p.strides[axis] = static_cast<int32_t>(step);
      p.window[axis] = static_cast<int32_t>(count);
      if (count != a.shape(axis) || step != 1) p.windowed = true;
      layout.push_back(axis++);
    } else if (auto* i = std::get_if<int64_t>(&v)) {
      const int64_t n = a.shape(axis);
      if (*i < -n || *i >= n) {
        throw std::out_of_range("[index] index " + std::to_string(*i) +
                                " is out of bounds for axis " + std::to_string(axis) +
                                " with size " + std::to_string(n));
      }
      const int64_t k = *i < 0 ? *i + n : *i;
      if (any_array) {
        p.adv.push_back(array(static_cast<int32_t>(k)));
        p.adv_axes.push_back(axis);
        adv_entry_positions.push_back(entry);
        if (std::find(layout.begin(), layout.end(), -2) == layout.end()) layout.push_back(-2);
      } else {
        p.start[axis] = static_cast<int32_t>(k);
        p.stop[axis] = static_cast<int32_t>(k + 1);
        p.window[axis] = 1;
        if (n != 1) p.windowed = true;
        p.int_axes.push_back(axis);
      }
      ++axis;
    } else {
      p.adv.push_back(std::get<array>(v));
      p.adv_axes.push_back(axis++);
      adv_entry_positions.push_back(entry);
      if (std::find(layout.begin(), layout.end(), -2) == layout.end()) layout.push_back(-2);
    }
    ++entry;
  }
  while (axis < nd) layout.push_back(axis++);  // the axes no index names

  const Shape& window = p.window;
  if (!p.adv.empty()) {
    std::vector<Shape> shapes;
    for (auto& x : p.adv) shapes.push_back(x.shape());
    try {
      p.adv_shape = shapes[0];
      for (size_t k = 1; k < shapes.size(); ++k) p.adv_shape = broadcast_shapes(p.adv_shape, shapes[k], "index");
    } catch (const std::invalid_argument&) {
      std::string list;
      for (auto& sh : shapes) list += (list.empty() ? "" : ", ") + shape_string(sh);
      fail("index arrays of shapes " + list + " cannot be broadcast together");
    }
    // NumPy: adjacent advanced indices keep their place; separated ones go first.
    bool adjacent = true;
    for (size_t k = 1; k < adv_entry_positions.size(); ++k) {
      if (adv_entry_positions[k] != adv_entry_positions[k - 1] + 1) adjacent = false;
    }
    if (!adjacent) {
      layout.erase(std::find(layout.begin(), layout.end(), -2));
      layout.insert(layout.begin(), -2);
    }
  }
  int others_before = 0;
  bool seen_block = false;
  for (int d : layout) {
    if (d == -2) {
      seen_block = true;
      p.out_shape.insert(p.out_shape.end(), p.adv_shape.begin(), p.adv_shape.end());
    } else if (d == -1) {
      p.out_shape.push_back(1);
    } else {
      if (!seen_block) ++others_before;
      p.out_shape.push_back(window[d]);
    }
  }
  p.adv_pos = others_before;
  return p;
}

// Permutation that moves the broadcast block (nb dims in front) to position adv_pos of the
// others, and its inverse.
std::vector<int> block_permutation(int nb, int nr, int pos) {
  std::vector<int> perm;
  for (int k = 0; k < pos; ++k) perm.push_back(nb + k);
  for (int k = 0; k < nb; ++k) perm.push_back(k);
  for (int k = pos; k < nr; ++k) perm.push_back(nb + k);
  return perm;
}

bool identity(const std::vector<int>& perm) {
  for (size_t k = 0; k < perm.size(); ++k) {
    if (perm[k] != static_cast<int>(k)) return false;
  }
  return true;
}

}  // namespace

array index(const array& a, const std::vector<Index>& indices, StreamOrDevice s) {
  Plan p = make_plan(a, indices);
  array w = p.windowed ? slice(a, p.start, p.stop, p.strides, s) : a;
  if (!p.adv.empty()) {
    Shape sizes = w.shape();
    for (int ax : p.adv_axes) sizes[ax] = 1;
    array g = gather(w, p.adv, p.adv_axes, sizes, s);
    // g: adv_shape + window with 1 at the advanced axes; drop those.
    std::vector<int> drop;
    for (int ax : p.adv_axes) drop.push_back(static_cast<int>(p.adv_shape.size()) + ax);
    g = squeeze(g, drop, s);
    const int nb = static_cast<int>(p.adv_shape.size());
    auto perm = block_permutation(nb, g.ndim() - nb, p.adv_pos);
    w = identity(perm) ? g : transpose(g, perm, s);
  }
  return w.shape() == p.out_shape ? w : reshape(w, p.out_shape, s);
}

array index_update(const array& a, const std::vector<Index>& indices, const array& values_in,
                   IndexUpdate mode, StreamOrDevice s) {
  Plan p = make_plan(a, indices);
  array v = values_in;
  if (mode == IndexUpdate::divide) {
    if (!issubdtype(a.dtype(), inexact)) {
      fail("at().divide needs a floating or complex array, got " + to_string(a.dtype()));
    }
    v = reciprocal(astype(v, a.dtype(), s), s);
  }
  if (mode == IndexUpdate::subtract) v = negative(v, s);
  if (!(v.dtype() == a.dtype())) v = astype(v, a.dtype(), s);
  if (!broadcasts_to(v.shape(), p.out_shape)) {
    fail("values of shape " + shape_string(v.shape()) + " cannot be broadcast to the indexed shape " +
         shape_string(p.out_shape));
  }
  v = broadcast_to(v, p.out_shape, s);
  const Shape& window = p.window;
  if (!p.adv.empty()) {
    // Back to gather's layout: the broadcast block in front, then the other axes.
    const int nb = static_cast<int>(p.adv_shape.size());
    Shape dense;  // the result without its new axes
    {
      Shape others;
      for (int k = 0; k < a.ndim(); ++k) {
        if (std::find(p.adv_axes.begin(), p.adv_axes.end(), k) == p.adv_axes.end()) others.push_back(window[k]);
      }
      dense.assign(others.begin(), others.begin() + p.adv_pos);
      dense.insert(dense.end(), p.adv_shape.begin(), p.adv_shape.end());
      dense.insert(dense.end(), others.begin() + p.adv_pos, others.end());
    }
    v = reshape(v, dense, s);
    auto perm = block_permutation(nb, v.ndim() - nb, p.adv_pos);
    std::vector<int> inverse(perm.size());
    for (size_t k = 0; k < perm.size(); ++k) inverse[perm[k]] = static_cast<int>(k);
    if (!identity(inverse)) v = transpose(v, inverse, s);
    Shape upd = p.adv_shape;
    for (int k = 0; k < a.ndim(); ++k) {
      const bool is_adv = std::find(p.adv_axes.begin(), p.adv_axes.end(), k) != p.adv_axes.end();
      upd.push_back(is_adv ? 1 : window[k]);
    }
    v = reshape(v, upd, s);
    array w = p.windowed ? slice(a, p.start, p.stop, p.strides, s) : a;
    auto scattered = [&] {
      switch (mode) {
        case IndexUpdate::set: return scatter(w, p.adv, v, p.adv_axes, s);
        case IndexUpdate::add:
        case IndexUpdate::subtract: return scatter_add(w, p.adv, v, p.adv_axes, s);
        case IndexUpdate::multiply:
        case IndexUpdate::divide: return scatter_prod(w, p.adv, v, p.adv_axes, s);
        case IndexUpdate::maximum: return scatter_max(w, p.adv, v, p.adv_axes, s);
        case IndexUpdate::minimum: break;
      }
      return scatter_min(w, p.adv, v, p.adv_axes, s);
    };
    array region = scattered();
    if (!p.windowed) return region;
    return slice_update(a, region, p.start, p.stop, p.strides, s);
  }
  // Basic indices only: no repeats, so each mode is a slice update.
  array region = reshape(v, window, s);  // differs from v only by size-1 axes
  switch (mode) {
    case IndexUpdate::set:
      return p.windowed ? slice_update(a, region, p.start, p.stop, p.strides, s) : region;
    case IndexUpdate::add:
    case IndexUpdate::subtract: return slice_update_add(a, region, p.start, p.stop, p.strides, s);
    case IndexUpdate::multiply:
    case IndexUpdate::divide: return slice_update_prod(a, region, p.start, p.stop, p.strides, s);
    case IndexUpdate::maximum: return slice_update_max(a, region, p.start, p.stop, p.strides, s);
    case IndexUpdate::minimum: break;
  }
  return slice_update_min(a, region, p.start, p.stop, p.strides, s);
}

}  // namespace tessera
