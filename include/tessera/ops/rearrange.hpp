#pragma once
// Ops composed of the shape, indexing and elementwise primitives, with MLX's signatures
// (mlx/ops.h): padding, tiling and repeating, rolling and flipping, diagonals and triangles,
// grids, differences, and the tensor products. Having no primitives of their own, they run on
// either device and take their gradients and batching rules from the primitives they are made
// of. Definitions: src/ops/rearrange.cpp.
#include <string>
#include <utility>
#include <vector>

#include "tessera/core/array.hpp"
#include "tessera/core/device.hpp"

namespace tessera {

// Pads `axes` by low / high elements: mode "constant" (pad_value), "edge" (the edge element),
// "reflect" (mirrored without the edge, as NumPy) or "symmetric" (mirrored with the edge).
array pad(const array& a, const std::vector<int>& axes, const Shape& low_pad_size, const Shape& high_pad_size,
          const array& pad_value = array(0), const std::string& mode = "constant", StreamOrDevice s = {});
array pad(const array& a, const std::vector<std::pair<int, int>>& pad_width, const array& pad_value = array(0),
          const std::string& mode = "constant", StreamOrDevice s = {});
array pad(const array& a, const std::pair<int, int>& pad_width, const array& pad_value = array(0),
          const std::string& mode = "constant", StreamOrDevice s = {});
array pad(const array& a, int pad_width, const array& pad_value = array(0), const std::string& mode = "constant",
          StreamOrDevice s = {});

// `arr` repeated reps[i] times along each axis (NumPy's tile), and each element repeated
// `repeats` times along `axis` (or in the flattened array).
array tile(const array& arr, std::vector<int> reps, StreamOrDevice s = {});
array repeat(const array& arr, int repeats, int axis, StreamOrDevice s = {});
array repeat(const array& arr, int repeats, StreamOrDevice s = {});

// Elements shifted by `shift` along the axes (wrapping around); without axes, in the flattened
// array, then reshaped back.
array roll(const array& a, int shift, StreamOrDevice s = {});
array roll(const array& a, const Shape& shift, StreamOrDevice s = {});
array roll(const array& a, int shift, int axis, StreamOrDevice s = {});
array roll(const array& a, int shift, const std::vector<int>& axes, StreamOrDevice s = {});
array roll(const array& a, const Shape& shift, int axis, StreamOrDevice s = {});
array roll(const array& a, const Shape& shift, const std::vector<int>& axes, StreamOrDevice s = {});

// The order of the elements reversed along `axis` (a view), or along every axis.
array flip(const array& a, int axis, StreamOrDevice s = {});
array flip(const array& a, StreamOrDevice s = {});

// The arrays along `axis` (0 by default), the axis removed.
std::vector<array> unstack(const array& a, int axis, StreamOrDevice s = {});
std::vector<array> unstack(const array& a, StreamOrDevice s = {});

// The n-th discrete difference along `axis`.
array diff(const array& a, int n = 1, int axis = -1, StreamOrDevice s = {});

// Coordinate arrays from coordinate vectors; indexing "xy" (Cartesian) or "ij" (matrix);
// `sparse` leaves them broadcastable instead of broadcast.
std::vector<array> meshgrid(const std::vector<array>& arrays, bool sparse = false,
                            const std::string& indexing = "xy", StreamOrDevice s = {});

// The lower / upper triangle of the last two axes (from diagonal k), zeros elsewhere.
array tril(array x, int k = 0, StreamOrDevice s = {});
array triu(array x, int k = 0, StreamOrDevice s = {});

// The diagonal at `offset` of the plane (axis1, axis2), moved last; diag of a 1-D array is the
// 2-D array with it on diagonal k, of a 2-D array its diagonal k; trace sums diagonal(...).
array diagonal(const array& a, int offset = 0, int axis1 = 0, int axis2 = 1, StreamOrDevice s = {});
array diag(const array& a, int k = 0, StreamOrDevice s = {});
array trace(const array& a, int offset, int axis1, int axis2, Dtype dtype, StreamOrDevice s = {});
array trace(const array& a, int offset, int axis1, int axis2, StreamOrDevice s = {});
array trace(const array& a, StreamOrDevice s = {});

// `axis` split into `shape` (one entry may be -1).
array unflatten(const array& a, int axis, Shape shape, StreamOrDevice s = {});

// Views with at least 1, 2 or 3 dimensions (NumPy's placement of the new axes).
array atleast_1d(const array& a, StreamOrDevice s = {});
std::vector<array> atleast_1d(const std::vector<array>& a, StreamOrDevice s = {});
array atleast_2d(const array& a, StreamOrDevice s = {});
std::vector<array> atleast_2d(const std::vector<array>& a, StreamOrDevice s = {});
array atleast_3d(const array& a, StreamOrDevice s = {});
std::vector<array> atleast_3d(const std::vector<array>& a, StreamOrDevice s = {});

// Products: tensordot over the last / first `axis` axes or given axes (a matmul of the
// reshaped operands), outer of the flattened arrays, inner over the last axes, vecdot along
// an axis, kron (the Kronecker product).
array tensordot(const array& a, const array& b, const int axis = 2, StreamOrDevice s = {});
array tensordot(const array& a, const array& b, const std::vector<int>& axes_a, const std::vector<int>& axes_b,
                StreamOrDevice s = {});
array outer(const array& a, const array& b, StreamOrDevice s = {});
array inner(const array& a, const array& b, StreamOrDevice s = {});
array vecdot(const array& a, const array& b, int axis = -1, StreamOrDevice s = {});
array kron(const array& a, const array& b, StreamOrDevice s = {});

}  // namespace tessera
