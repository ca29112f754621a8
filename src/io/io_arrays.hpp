#pragma once
// Between the parsers' descriptions and arrays (io.cpp, io_gguf.cpp): arrays over bytes that
// someone else owns, and the host bytes of an array to write.
#include <memory>

#include "io/io_common.hpp"
#include "tessera/core/array.hpp"
#include "tessera/core/device.hpp"

namespace tessera::io_detail {

// An evaluated array over `buf` (row-major, or column-major when `fortran`).
array from_buffer(BufferPtr buf, const Shape& shape, Dtype dtype, bool fortran = false);
// The array a validated TensorSpec describes, over base[t.offset, t.offset + t.nbytes). The
// bytes are referenced in place (and `owner` kept alive) when they are in this machine's
// order and aligned to the element size; otherwise copied, and swapped, into a new buffer.
array make_array(const uint8_t* base, const std::shared_ptr<const void>& owner, const TensorSpec& t);

// The bytes of an evaluated array, row-major (or column-major when allowed and the array
// already is): a strided view is copied once, a dense array (also a GPU one: its host copy)
// is read in place. `keep` holds what `data` points into.
struct HostBytes {
  array keep;
  const void* data = nullptr;
  size_t nbytes = 0;
  bool fortran = false;
};
HostBytes host_bytes(array a, bool allow_fortran = false);

// Resolves the StreamOrDevice argument (so a bad one fails as in every op).
void check_stream(const StreamOrDevice& s);

}  // namespace tessera::io_detail
