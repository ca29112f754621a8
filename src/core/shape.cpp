#include "tessera/core/shape.hpp"

#include <stdexcept>

namespace tessera {

std::string shape_string(const Shape& s) {
  std::string out = "(";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) out += ",";
    out += std::to_string(s[i]);
  }
  if (s.size() == 1) out += ",";
  return out + ")";
}

std::string axes_string(const std::vector<int>& axes) {
  std::string s = "[";
  for (size_t i = 0; i < axes.size(); ++i) s += (i ? "," : "") + std::to_string(axes[i]);
  return s + "]";
}

int64_t checked_shape_size(const Shape& shape, size_t itemsize, const char* op) {
  int64_t n = 1;
  bool overflow = false, empty = false;
  for (auto d : shape) {
    if (d < 0) {
      throw std::invalid_argument(std::string("[") + op + "] negative dimension in shape " +
                                  shape_string(shape));
    }
    empty |= d == 0;
    overflow |= __builtin_mul_overflow(n, static_cast<int64_t>(d), &n);
  }
  // A zero dimension makes the count 0 whatever the other extents multiply to (and a wrapped
  // product may itself be 0, so test the dimensions, not n).
  if (empty) return 0;
  int64_t bytes = 0;
  if (overflow || __builtin_mul_overflow(n, static_cast<int64_t>(itemsize), &bytes)) {
    throw std::invalid_argument(std::string("[") + op + "] shape " + shape_string(shape) +
                                " has too many elements: its size in bytes (" +
                                std::to_string(itemsize) + " per element) overflows int64");
  }
  return n;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int32_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int32_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1) {
      throw std::invalid_argument(std::string("[") + op + "] shapes " + shape_string(a) +
                                  " and " + shape_string(b) + " cannot be broadcast");
    }
    out[i] = da == 1 ? db : da;
  }
  return out;
}

bool broadcasts_to(const Shape& from, const Shape& to) {
  if (from.size() > to.size()) return false;
  const size_t lead = to.size() - from.size();
  for (size_t i = 0; i < from.size(); ++i) {
    if (from[i] != 1 && from[i] != to[lead + i]) return false;
  }
  return true;
}

int normalize_axis(int axis, int ndim, const char* op) {
  if (axis < -ndim || axis >= ndim) {
    throw std::invalid_argument(std::string("[") + op + "] axis " + std::to_string(axis) +
                                " is out of bounds for an array of dimension " +
                                std::to_string(ndim));
  }
  return axis < 0 ? axis + ndim : axis;
}

}  // namespace tessera
