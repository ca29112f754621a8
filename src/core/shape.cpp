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

int normalize_axis(int axis, int ndim, const char* op) {
  if (axis < -ndim || axis >= ndim) {
    throw std::invalid_argument(std::string("[") + op + "] axis " + std::to_string(axis) +
                                " is out of bounds for an array of dimension " +
                                std::to_string(ndim));
  }
  return axis < 0 ? axis + ndim : axis;
}

}  // namespace tessera
