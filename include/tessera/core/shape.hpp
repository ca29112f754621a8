#pragma once
// Shapes (int32 extents, as MLX's Shape) and strides (int64, in elements).
#include <cstdint>
#include <string>
#include <vector>

namespace tessera {

using Shape = std::vector<int32_t>;
using Strides = std::vector<int64_t>;

inline int64_t shape_size(const Shape& s) {
  int64_t n = 1;
  for (auto d : s) n *= d;
  return n;
}

inline Strides row_major_strides(const Shape& s) {
  Strides st(s.size(), 1);
  for (int i = static_cast<int>(s.size()) - 2; i >= 0; --i) st[i] = st[i + 1] * s[i + 1];
  return st;
}

// "(2,3,4)", the form every error message uses.
std::string shape_string(const Shape& s);
// "[0,2]": axis lists in error messages.
std::string axes_string(const std::vector<int>& axes);

// The element count of a shape about to be made, checked: throws std::invalid_argument
// naming `op` and the shape when a dimension is negative or when the byte size
// (count * itemsize) does not fit in int64. Every op validates its output shape with this
// before building a node; a wrapped count would allocate a small buffer that views read past.
int64_t checked_shape_size(const Shape& shape, size_t itemsize, const char* op);

// NumPy broadcasting; throws std::invalid_argument naming `op` and both shapes.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op = "broadcast_shapes");
// Whether `from` broadcasts to exactly `to` (callers throw their own message).
bool broadcasts_to(const Shape& from, const Shape& to);

// Resolves a possibly negative axis against ndim; throws std::invalid_argument naming `op`.
int normalize_axis(int axis, int ndim, const char* op);

}  // namespace tessera
