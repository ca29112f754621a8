#pragma once
// What the fuzz targets share. Each target feeds the input to one parser as a whole file; a
// std::runtime_error (the parsers' way to refuse input) is the expected outcome of most
// inputs, and anything else -- another exception, a crash, an ASan or UBSan report, a leak,
// a timeout or running out of memory -- is a finding. Accepted inputs are checked further:
// every byte the description points at is read (ASan checks the bounds), and what the parser
// accepted is written back out by the matching writer and must parse to the same thing.
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "io/formats.hpp"

namespace fuzz {

inline tessera::io_detail::Bytes bytes(const uint8_t* data, size_t size) {
  tessera::io_detail::Bytes b;
  b.data = data;
  b.size = size;
  b.label = "<fuzz>";
  return b;
}

// Reads every byte of [p, p + n): out-of-bounds descriptions fail under ASan here.
inline void touch(const uint8_t* p, size_t n) {
  volatile uint8_t sink = 0;
  uint8_t acc = 0;
  for (size_t i = 0; i < n; ++i) acc ^= p[i];
  sink = acc;
  (void)sink;
}

inline void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz invariant violated: %s\n", what);
    std::abort();
  }
}

struct StringSink final : tessera::io_detail::Sink {
  std::string out;
  void write(const void* p, size_t n) override { out.append(static_cast<const char*>(p), n); }
  using Sink::write;
};

}  // namespace fuzz
