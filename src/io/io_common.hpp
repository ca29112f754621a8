#pragma once
// What the file formats share: the bytes of a file or stream as one read-only view (a memory
// map of a file, or what was read from a stream), a bounds-checked little-endian cursor over
// them, errors that name the operation, the file and the problem, and the atomic writer.
//
// Nothing here depends on tessera::array: the parsers (format_*.cpp) turn untrusted bytes
// into validated descriptions (TensorSpec) and the libFuzzer targets in fuzz/ link them
// without the rest of the library. io.cpp turns the descriptions into arrays.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>

#include "tessera/core/dtype.hpp"
#include "tessera/core/shape.hpp"

namespace tessera::io_detail {

// A read-only view of a whole file or stream; `owner` keeps the memory alive (the mapping, or
// the buffer a stream was read into), and arrays that reference the bytes hold it too. The
// memory behind `data` is writable (a private mapping or a heap buffer): an op that reuses an
// input buffer in place writes into its own copy-on-write pages, never into the file.
struct Bytes {
  const uint8_t* data = nullptr;
  size_t size = 0;
  std::shared_ptr<const void> owner;
  std::string label;  // the path, or "<stream>": every error message names it
};

// The whole file, memory-mapped privately (no read until a page is touched). Throws
// std::runtime_error naming `op` when it cannot be opened, is not a regular file, or is empty
// of the bytes the caller needs (the caller's checks).
Bytes map_file(const std::filesystem::path& path, const char* op);
// Everything left in `in` (to its end), read in bounded chunks: a stream's size is unknown,
// so memory grows only with the bytes that actually arrive.
Bytes read_stream(std::istream& in, const char* op, const std::string& label = "<stream>");
// Exactly `n` bytes from `in`, or a clear error (allocation grows with what arrives, so a
// header that claims terabytes costs nothing before the stream runs dry).
std::shared_ptr<uint8_t[]> read_exact(std::istream& in, size_t n, const char* op,
                                      const std::string& label, const char* what);

// "[op] label: what" as std::runtime_error: malformed or unreadable input.
[[noreturn]] void fail(const char* op, const std::string& label, const std::string& what);

// Bounds-checked reads of little-endian values; every failure names what was being read.
class Cursor {
 public:
  Cursor(const uint8_t* data, size_t size, const char* op, const std::string& label)
      : data_(data), size_(size), op_(op), label_(label) {}
  size_t pos() const { return pos_; }
  size_t remaining() const { return size_ - pos_; }
  void seek(size_t pos) { pos_ = pos; }
  const uint8_t* here() const { return data_ + pos_; }

  uint8_t u8(const char* what) { return static_cast<uint8_t>(take(1, what)[0]); }
  uint32_t u32(const char* what);
  uint64_t u64(const char* what);
  // n raw bytes (a view into the data).
  std::string_view bytes(uint64_t n, const char* what);
  // Fails unless `n` more bytes are there (for "count x size" checks before a loop).
  void need(uint64_t n, const char* what) const;
  [[noreturn]] void fail(const std::string& what) const { io_detail::fail(op_, label_, what); }

 private:
  const char* take(uint64_t n, const char* what);
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  const char* op_;
  std::string label_;
};

// One array's bytes inside a Bytes view, validated by a parser: `nbytes` bytes from `offset`
// hold `shape` elements of `dtype`, row-major unless `fortran`, byte-swapped if `swap`.
struct TensorSpec {
  std::string name;
  Dtype dtype = float32;
  Shape shape;
  size_t offset = 0;
  size_t nbytes = 0;
  bool fortran = false;
  bool swap = false;
};

// The element count and byte size of `dims` (as read from a file: unsigned 64-bit) as a
// Tessera shape, or a clear error: a dimension that does not fit int32, or a byte size that
// overflows int64. `what` names the tensor in the message.
Shape checked_file_shape(const uint64_t* dims, size_t ndim, size_t itemsize, const char* op,
                         const std::string& label, const std::string& what, uint64_t* nbytes);

// Fails unless every byte of a bool tensor is 0 or 1 (any other byte is not a C++ bool).
void check_bool_bytes(const uint8_t* p, size_t n, const char* op, const std::string& label,
                      const std::string& what);

// "'name'" with control and non-ASCII bytes escaped, cut to 64 characters: names from a file
// go into messages.
std::string quote_name(std::string_view name);

// Byte sinks for the writers: an atomic file, or a caller's stream.
class Sink {
 public:
  virtual ~Sink() = default;
  virtual void write(const void* data, size_t n) = 0;
  void write(std::string_view s) { write(s.data(), s.size()); }
  void pad_zeros(size_t n);
};

// Writes go to a temporary file in the target's directory; commit() flushes it to disk
// (fsync), renames it over the target and syncs the directory. Destroyed without commit (an
// exception while writing), it removes the temporary: a crash or failure mid-save never
// leaves a truncated file under the target's name, and the old file stays as it was.
class AtomicFile final : public Sink {
 public:
  AtomicFile(std::filesystem::path target, const char* op);
  ~AtomicFile() override;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  void write(const void* data, size_t n) override;
  using Sink::write;
  void commit();

 private:
  std::filesystem::path target_, temp_;
  const char* op_;
  int fd_ = -1;
};

class StreamSink final : public Sink {
 public:
  StreamSink(std::ostream& out, const char* op) : out_(out), op_(op) {}
  void write(const void* data, size_t n) override;
  using Sink::write;

 private:
  std::ostream& out_;
  const char* op_;
};

// `path` with `ext` appended unless it already ends with it (MLX's and NumPy's rule).
std::filesystem::path with_extension(const std::filesystem::path& path, const char* ext);

}  // namespace tessera::io_detail
