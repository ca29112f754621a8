#pragma once
// Indexing with arrays of indices, with MLX's signatures (mlx/ops.h): take, take_along_axis,
// put_along_axis, gather, the scatter family, and slices with start indices held in an array.
// Indices are any integer dtype (bool and floating indices are rejected). A negative index
// counts from the end; an index still out of range is clamped by the reads (take, gather,
// dynamic slice) and dropped by the writes (scatter, put_along_axis) — MLX leaves both
// undefined, Tessera never touches memory outside the array.
// Primitives: primitives/indexing.hpp; kernels: backend/cpu/indexing.cpp and
// backend/vulkan/indexing.cpp.
#include <concepts>
#include <type_traits>
#include <vector>

#include "tessera/core/array.hpp"
#include "tessera/core/device.hpp"

namespace tessera {

// Slices of `a` starting at the indices: for the broadcast shape P of `indices`, out has shape
// P + slice_sizes, and out[p, s] = a[start(p) + s] where start(p) is indices[j][p] on axes[j]
// and 0 on the other axes.
array gather(const array& a, const std::vector<array>& indices, const std::vector<int>& axes,
             const Shape& slice_sizes, StreamOrDevice s = {});
array gather(const array& a, const array& indices, int axis, const Shape& slice_sizes, StreamOrDevice s = {});

// The entries at `indices` along `axis` (the axis is replaced by indices' shape), or of the
// flattened array when no axis is given. The integer forms take one entry (the axis dropped).
array take(const array& a, const array& indices, int axis, StreamOrDevice s = {});
array take(const array& a, int index, int axis, StreamOrDevice s = {});
array take(const array& a, const array& indices, StreamOrDevice s = {});
array take(const array& a, int index, StreamOrDevice s = {});

// out[..., i, ...] = a[..., indices[..., i, ...], ...] along `axis`; `indices` has a's rank and
// broadcasts with `a` on the other axes (NumPy's take_along_axis).
array take_along_axis(const array& a, const array& indices, int axis, StreamOrDevice s = {});
// A copy of `a` with `values` written (put_along_axis) or added (scatter_add_axis) at the
// positions take_along_axis(a, indices, axis) reads.
array put_along_axis(const array& a, const array& indices, const array& values, int axis,
                     StreamOrDevice s = {});
array scatter_add_axis(const array& a, const array& indices, const array& values, int axis,
                       StreamOrDevice s = {});

// A copy of `a` with each slice updates[p] (updates has shape P + a's rank, each slice at most
// a's extent) combined into a at the start given by the indices, as gather reads it. scatter
// keeps one write where indices repeat; the others accumulate every duplicate.
array scatter(const array& a, const std::vector<array>& indices, const array& updates,
              const std::vector<int>& axes, StreamOrDevice s = {});
array scatter(const array& a, const array& indices, const array& updates, int axis, StreamOrDevice s = {});
array scatter_add(const array& a, const std::vector<array>& indices, const array& updates,
                  const std::vector<int>& axes, StreamOrDevice s = {});
array scatter_add(const array& a, const array& indices, const array& updates, int axis, StreamOrDevice s = {});
array scatter_prod(const array& a, const std::vector<array>& indices, const array& updates,
                   const std::vector<int>& axes, StreamOrDevice s = {});
array scatter_prod(const array& a, const array& indices, const array& updates, int axis, StreamOrDevice s = {});
array scatter_max(const array& a, const std::vector<array>& indices, const array& updates,
                  const std::vector<int>& axes, StreamOrDevice s = {});
array scatter_max(const array& a, const array& indices, const array& updates, int axis, StreamOrDevice s = {});
array scatter_min(const array& a, const std::vector<array>& indices, const array& updates,
                  const std::vector<int>& axes, StreamOrDevice s = {});
array scatter_min(const array& a, const array& indices, const array& updates, int axis, StreamOrDevice s = {});

namespace detail {
array dynamic_slice(const array& a, const array& start, std::vector<int> axes, Shape slice_size, StreamOrDevice s);
array dynamic_slice_update(const array& src, const array& update, const array& start, std::vector<int> axes,
                           StreamOrDevice s);
}  // namespace detail

// A slice of `slice_size` on `axes` (the full extent on the others) whose start on axes[i] is
// start[i], read from the array `start` when the graph runs (no host sync); a start that
// would run past the end is moved back so the slice fits (as jax.lax.dynamic_slice).
// (Templates taking exactly an array, so that `slice(a, {0, 1}, {2, 3}, {1, 1})` with brace
// lists stays the static slice of ops/shape.hpp.)
template <typename Start>
  requires std::same_as<std::remove_cvref_t<Start>, array>
array slice(const array& a, Start&& start, std::vector<int> axes, Shape slice_size, StreamOrDevice s = {}) {
  return detail::dynamic_slice(a, start, std::move(axes), std::move(slice_size), s);
}
// `src` with the region of update's shape starting at `start` (on `axes`) replaced by `update`.
template <typename Start>
  requires std::same_as<std::remove_cvref_t<Start>, array>
array slice_update(const array& src, const array& update, Start&& start, std::vector<int> axes,
                   StreamOrDevice s = {}) {
  return detail::dynamic_slice_update(src, update, start, std::move(axes), s);
}

// `src` with its slice [start:stop:strides] combined with `update` (broadcast to the slice):
// added, multiplied, or the elementwise maximum / minimum.
array slice_update_add(const array& src, const array& update, Shape start, Shape stop, Shape strides,
                       StreamOrDevice s = {});
array slice_update_add(const array& src, const array& update, Shape start, Shape stop, StreamOrDevice s = {});
array slice_update_prod(const array& src, const array& update, Shape start, Shape stop, Shape strides,
                        StreamOrDevice s = {});
array slice_update_prod(const array& src, const array& update, Shape start, Shape stop, StreamOrDevice s = {});
array slice_update_max(const array& src, const array& update, Shape start, Shape stop, Shape strides,
                       StreamOrDevice s = {});
array slice_update_max(const array& src, const array& update, Shape start, Shape stop, StreamOrDevice s = {});
array slice_update_min(const array& src, const array& update, Shape start, Shape stop, Shape strides,
                       StreamOrDevice s = {});
array slice_update_min(const array& src, const array& update, Shape start, Shape stop, StreamOrDevice s = {});

}  // namespace tessera
