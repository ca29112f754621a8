#pragma once
// Shape manipulation. reshape (of a contiguous array), transpose, swapaxes, moveaxis,
// broadcast_to, expand_dims, squeeze and slice return views that share the input's buffer.
#include <optional>
#include <vector>

#include "tessera/core/array.hpp"
#include "tessera/core/device.hpp"

namespace tessera {

array reshape(const array& a, Shape shape, StreamOrDevice s = {});
array flatten(const array& a, int start_axis, int end_axis = -1, StreamOrDevice s = {});
array flatten(const array& a, StreamOrDevice s = {});
array transpose(const array& a, std::vector<int> axes, StreamOrDevice s = {});
array transpose(const array& a, StreamOrDevice s = {});
array swapaxes(const array& a, int axis1, int axis2, StreamOrDevice s = {});
array moveaxis(const array& a, int source, int destination, StreamOrDevice s = {});
array broadcast_to(const array& a, const Shape& shape, StreamOrDevice s = {});
std::vector<array> broadcast_arrays(const std::vector<array>& inputs, StreamOrDevice s = {});
array expand_dims(const array& a, int axis, StreamOrDevice s = {});
array expand_dims(const array& a, const std::vector<int>& axes, StreamOrDevice s = {});
array squeeze(const array& a, StreamOrDevice s = {});
array squeeze(const array& a, int axis, StreamOrDevice s = {});
array squeeze(const array& a, const std::vector<int>& axes, StreamOrDevice s = {});
// Elements start[i] <= j < stop[i] (clamped, as Python slicing) with strides[i] along each axis.
array slice(const array& a, Shape start, Shape stop, Shape strides, StreamOrDevice s = {});
array slice(const array& a, Shape start, Shape stop, StreamOrDevice s = {});
// `src` with the region slice(src, start, stop, strides) replaced by `update` (broadcast to it).
array slice_update(const array& src, const array& update, Shape start, Shape stop, Shape strides,
                   StreamOrDevice s = {});
array slice_update(const array& src, const array& update, Shape start, Shape stop,
                   StreamOrDevice s = {});
array concatenate(std::vector<array> arrays, int axis, StreamOrDevice s = {});
array concatenate(std::vector<array> arrays, StreamOrDevice s = {});  // flattened
array stack(const std::vector<array>& arrays, int axis, StreamOrDevice s = {});
array stack(const std::vector<array>& arrays, StreamOrDevice s = {});
// Split into `num_splits` equal parts, or at the given indices.
std::vector<array> split(const array& a, int num_splits, int axis, StreamOrDevice s = {});
std::vector<array> split(const array& a, int num_splits, StreamOrDevice s = {});
std::vector<array> split(const array& a, const Shape& indices, int axis, StreamOrDevice s = {});
std::vector<array> split(const array& a, const Shape& indices, StreamOrDevice s = {});
// The array-API names: concat = concatenate, permute_dims = transpose.
inline array concat(std::vector<array> arrays, int axis, StreamOrDevice s = {}) {
  return concatenate(std::move(arrays), axis, s);
}
inline array concat(std::vector<array> arrays, StreamOrDevice s = {}) { return concatenate(std::move(arrays), s); }
inline array permute_dims(const array& a, std::vector<int> axes, StreamOrDevice s = {}) {
  return transpose(a, std::move(axes), s);
}
inline array permute_dims(const array& a, StreamOrDevice s = {}) { return transpose(a, s); }

// A view of (a row-major copy of) `a` with the given shape, element strides and element offset
// (NumPy's as_strided); every element it reaches must lie inside `a`, else
// std::invalid_argument. Overlapping views are fine (their gradients accumulate).
array as_strided(array a, Shape shape, Strides strides, size_t offset, StreamOrDevice s = {});
// The bytes of `a` read as `dtype`: the last axis scales by the ratio of the item sizes.
array view(const array& a, const Dtype& dtype, StreamOrDevice s = {});

// A row-major copy (or `a` itself when it already is one).
array contiguous(const array& a, bool allow_col_major = false, StreamOrDevice s = {});

}  // namespace tessera
