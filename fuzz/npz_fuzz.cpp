// .npz: libzip over the input, the zip-bomb checks and each member's .npy header; members
// are decompressed (up to a 64 MiB total, below libFuzzer's memory limit) and read.
#include <cstdio>

#include "fuzz_common.hpp"

using namespace tessera::io_detail;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    for (const NpzMember& m : read_npz(fuzz::bytes(data, size), size_t(64) << 20, "fuzz")) {
      fuzz::touch(m.data.get(), m.header.nbytes);
    }
  } catch (const std::runtime_error&) {
  }
  return 0;
}
