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

// NumPy broadcasting; throws std::invalid_argument naming `op` and both shapes.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op = "broadcast_shapes");

// Resolves a possibly negative axis against ndim; throws std::invalid_argument naming `op`.
int normalize_axis(int axis, int ndim, const char* op);

}  // namespace tessera
