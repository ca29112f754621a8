#pragma once
// Walking strided views on the CPU: broadcasting strides, gathering a range of elements of a
// view into a dense block, and copying whole views.
#include <cstdint>
#include <cstring>
#include <vector>

#include "tessera/core/array.hpp"

namespace tessera::cpu {

// Strides of `a` over the axes of `out_shape` (right-aligned), 0 where `a` is broadcast.
inline std::vector<int64_t> broadcast_strides(const array& a, const Shape& out_shape) {
  std::vector<int64_t> st(out_shape.size(), 0);
  const size_t lead = out_shape.size() - a.shape().size();
  for (size_t i = 0; i < a.shape().size(); ++i) {
    st[lead + i] = a.shape()[i] == 1 ? 0 : a.strides()[i];
  }
  return st;
}

// Copies elements [start, start+len) of the row-major order of `shape`, read from `base` with
// element strides `strides`, to `dst` densely.
inline void gather(const char* base, int itemsize, const Shape& shape,
                   const std::vector<int64_t>& strides, int64_t start, int64_t len, char* dst) {
  const int nd = static_cast<int>(shape.size());
  if (nd == 0) {
    std::memcpy(dst, base, itemsize);
    return;
  }
  // Multi-index of `start`.
  std::vector<int64_t> idx(nd);
  int64_t rem = start, offset = 0;
  for (int d = nd - 1; d >= 0; --d) {
    idx[d] = rem % shape[d];
    rem /= shape[d];
    offset += idx[d] * strides[d];
  }
  const int64_t inner = shape[nd - 1];
  const int64_t inner_stride = strides[nd - 1];
  int64_t done = 0;
  while (done < len) {
    int64_t run = std::min(inner - idx[nd - 1], len - done);
    const char* src = base + offset * itemsize;
    switch (itemsize) {  // fixed sizes let the compiler emit plain loads
      case 1: for (int64_t k = 0; k < run; ++k) dst[k] = src[k * inner_stride]; break;
      case 2: for (int64_t k = 0; k < run; ++k) std::memcpy(dst + 2 * k, src + 2 * k * inner_stride, 2); break;
      case 4: for (int64_t k = 0; k < run; ++k) std::memcpy(dst + 4 * k, src + 4 * k * inner_stride, 4); break;
      default: for (int64_t k = 0; k < run; ++k) std::memcpy(dst + 8 * k, src + 8 * k * inner_stride, 8); break;
    }
    dst += run * itemsize;
    done += run;
    offset += run * inner_stride;
    idx[nd - 1] += run;
    // Carry into the outer axes.
    for (int d = nd - 1; d > 0 && idx[d] == shape[d]; --d) {
      offset -= idx[d] * strides[d];
      idx[d] = 0;
      ++idx[d - 1];
      offset += strides[d - 1];
    }
  }
}

// A dense row-major copy of the view `src` (any strides) into `dst`, in parallel.
void copy_to_dense(const array& src, void* dst);
// A new dense row-major buffer holding `src`'s elements converted to `dtype`.
BufferPtr dense_copy(const array& src, Dtype dtype);

}  // namespace tessera::cpu
