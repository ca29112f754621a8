// Copies between strided views on the CPU.
#include <cstring>

#include "backend/cpu/copy.hpp"
#include "backend/cpu/strided.hpp"
#include "tessera/backend/cpu/parallel.hpp"
#include "tessera/core/memory.hpp"

namespace tessera::cpu {

void strided_copy(const char* src, const std::vector<int64_t>& src_strides, char* dst,
                  const std::vector<int64_t>& dst_strides, const Shape& shape, int itemsize) {
  const int nd = static_cast<int>(shape.size());
  const int64_t total = shape_size(shape);
  if (total == 0) return;
  if (nd == 0) {
    std::memcpy(dst, src, itemsize);
    return;
  }
  const int64_t inner = shape[nd - 1];
  const int64_t rows = total / inner;
  const int64_t ss = src_strides[nd - 1], ds = dst_strides[nd - 1];
  parallel_for(rows, std::max<int64_t>(1, 16384 / std::max<int64_t>(inner, 1)), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      int64_t rem = r, so = 0, dof = 0;
      for (int d = nd - 2; d >= 0; --d) {
        int64_t i = rem % shape[d];
        rem /= shape[d];
        so += i * src_strides[d];
        dof += i * dst_strides[d];
      }
      const char* s = src + so * itemsize;
      char* t = dst + dof * itemsize;
      if (ss == 1 && ds == 1) {
        std::memcpy(t, s, inner * itemsize);
      } else {
        for (int64_t k = 0; k < inner; ++k) {
          std::memcpy(t + k * ds * itemsize, s + k * ss * itemsize, itemsize);
        }
      }
    }
  });
}

void copy_to_dense(const array& src, void* dst) {
  auto& a = const_cast<array&>(src);
  const char* base = static_cast<const char*>(a.raw_host_ptr());
  if (src.flags().row_contiguous) {
    std::memcpy(dst, base, src.nbytes());
    return;
  }
  strided_copy(base, src.strides(), static_cast<char*>(dst), row_major_strides(src.shape()),
               src.shape(), static_cast<int>(src.itemsize()));
}

BufferPtr dense_copy(const array& src, Dtype dtype) {
  BufferPtr dense = cpu::malloc(src.size() * src.itemsize());
  copy_to_dense(src, dense->host_ptr());
  if (src.dtype() == dtype) return dense;
  BufferPtr converted = cpu::malloc(src.size() * dtype.size());
  convert_elements(dense->host_ptr(), src.dtype(), converted->host_ptr(), dtype, src.size());
  return converted;
}

}  // namespace tessera::cpu
