#pragma once
#include <cstdint>
#include <vector>

#include "tessera/core/array.hpp"

namespace tessera::cpu {

// Copies the elements of `shape` from a strided source to a strided destination (element
// strides, same dtype).
void strided_copy(const char* src, const std::vector<int64_t>& src_strides, char* dst,
                  const std::vector<int64_t>& dst_strides, const Shape& shape, int itemsize);

}  // namespace tessera::cpu
