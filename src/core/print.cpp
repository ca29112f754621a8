// Printing in MLX's style: array([[1, 2],\n       [3, 4]], dtype=int32), eliding the middle of
// long axes as NumPy does.
#include <iomanip>
#include <ostream>
#include <sstream>

#include "tessera/core/array.hpp"

namespace tessera {

namespace {
constexpr int64_t kElideAbove = 1000;  // arrays with more elements print only their edges
constexpr int kEdgeItems = 3;

template <typename T>
void print_value(std::ostream& os, T v) {
  if constexpr (std::is_same_v<T, bool>) {
    os << (v ? "True" : "False");
  } else if constexpr (std::is_same_v<T, complex64_t>) {
    os << v.real() << (v.imag() < 0 ? "-" : "+") << std::abs(v.imag()) << "j";
  } else if constexpr (std::is_same_v<T, float16_t> || std::is_same_v<T, bfloat16_t>) {
    os << static_cast<float>(v);
  } else if constexpr (std::is_same_v<T, int8_t> || std::is_same_v<T, uint8_t>) {
    os << static_cast<int>(v);
  } else {
    os << v;
  }
}

template <typename T>
void print_level(std::ostream& os, const T* data, const Shape& shape, const Strides& strides,
                 int dim, int indent, bool elide) {
  if (dim == static_cast<int>(shape.size())) {
    print_value(os, *data);
    return;
  }
  os << "[";
  const int n = shape[dim];
  const bool cut = elide && n > 2 * kEdgeItems;
  for (int i = 0; i < n; ++i) {
    if (cut && i == kEdgeItems) {
      os << "...";
      i = n - kEdgeItems - 1;
    } else {
      print_level(os, data + i * strides[dim], shape, strides, dim + 1, indent + 1, elide);
    }
    if (i + 1 < n) {
      os << ",";
      if (dim + 1 < static_cast<int>(shape.size())) {
        os << std::string(shape.size() - dim - 1, '\n') << std::string(indent + 1, ' ');
      } else {
        os << " ";
      }
    }
  }
  os << "]";
}
}  // namespace

std::ostream& operator<<(std::ostream& os, const Dtype& d) { return os << dtype_name(d); }

// MLX's C++ form, "(2)" and "(2,3)", so that programs printing shapes print what they do under
// MLX. Error messages use shape_string's Python form, "(2,)", which cannot be misread.
std::ostream& operator<<(std::ostream& os, const Shape& s) {
  os << "(";
  for (size_t i = 0; i < s.size(); ++i) os << (i ? "," : "") << s[i];
  return os << ")";
}

std::ostream& operator<<(std::ostream& os, const array& a_in) {
  array a = make_row_contiguous(a_in);
  std::ostringstream body;
  body << std::setprecision(6);
  dispatch_dtype(a.dtype(), [&](auto v) {
    using T = decltype(v);
    const T* data = static_cast<const T*>(a.raw_host_ptr());
    if (a.size() == 0) {
      std::string open(std::max(a.ndim(), 1), '['), close(std::max(a.ndim(), 1), ']');
      body << open << close;
    } else {
      print_level(body, data, a.shape(), row_major_strides(a.shape()), 0, 6,
                  static_cast<int64_t>(a.size()) > kElideAbove);
    }
  });
  return os << "array(" << body.str() << ", dtype=" << dtype_name(a.dtype()) << ")";
}

}  // namespace tessera
