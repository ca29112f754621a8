// .npy: the header parser and the data bounds; an accepted header, written back by
// npy_header, parses to the same dtype, shape and order.
#include <cstdio>

#include "fuzz_common.hpp"

using namespace tessera::io_detail;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    NpyHeader h = parse_npy(fuzz::bytes(data, size), "fuzz");
    fuzz::touch(data + h.data_offset, h.nbytes);
    const std::string again = npy_header(h.dtype, h.shape, h.fortran, "fuzz");
    NpyHeader g = parse_npy_header(reinterpret_cast<const uint8_t*>(again.data()), again.size(), "fuzz", "<again>");
    fuzz::check(g.dtype == h.dtype && g.shape == h.shape && g.fortran == h.fortran && g.nbytes == h.nbytes,
                "npy header round trip");
  } catch (const std::runtime_error&) {
  }
  return 0;
}
