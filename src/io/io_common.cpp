#include "io/io_common.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <istream>
#include <limits>
#include <ostream>
#include <stdexcept>
#include <vector>

namespace tessera::io_detail {

void fail(const char* op, const std::string& label, const std::string& what) {
  throw std::runtime_error(std::string("[") + op + "] " + label + ": " + what);
}

namespace {
std::string errno_text() { return std::strerror(errno); }

// Closes a descriptor on every path out of map_file.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

struct Mapping {
  Mapping(void* b, size_t n) : base(b), size(n) {}
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() { ::munmap(base, size); }
  void* base;
  size_t size;
};

// Streams are read in chunks of this size at most, so a claimed size costs memory only as
// the bytes arrive.
constexpr size_t kChunk = size_t(16) << 20;
}  // namespace

Bytes map_file(const std::filesystem::path& path, const char* op) {
  Bytes out;
  out.label = path.string();
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (f.fd < 0) fail(op, out.label, "cannot open: " + errno_text());
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) fail(op, out.label, "cannot stat: " + errno_text());
  // A directory, FIFO or device has no fixed size to map (and /dev/zero never ends).
  if (!S_ISREG(st.st_mode)) fail(op, out.label, "is not a regular file");
  out.size = static_cast<size_t>(st.st_size);
  if (out.size == 0) return out;  // mmap of 0 bytes is an error; the parsers report "empty"
  // Private and writable: copy-on-write pages, so an op that reuses a loaded buffer in place
  // never writes to the file. Nothing is read until a page is touched.
  void* base = ::mmap(nullptr, out.size, PROT_READ | PROT_WRITE, MAP_PRIVATE, f.fd, 0);
  if (base == MAP_FAILED) fail(op, out.label, "cannot memory-map: " + errno_text());
  auto mapping = std::make_shared<Mapping>(base, out.size);
  out.data = static_cast<const uint8_t*>(base);
  out.owner = std::move(mapping);
  return out;
}

Bytes read_stream(std::istream& in, const char* op, const std::string& label) {
  Bytes out;
  out.label = label;
  if (!in.good()) fail(op, label, "the stream is not readable");
  auto buf = std::make_shared<std::vector<uint8_t>>();
  for (;;) {
    const size_t old = buf->size();
    const size_t step = std::min(kChunk, std::max<size_t>(old, 4096));
    buf->resize(old + step);
    in.read(reinterpret_cast<char*>(buf->data() + old), static_cast<std::streamsize>(step));
    const size_t got = static_cast<size_t>(in.gcount());
    buf->resize(old + got);
    if (got < step) break;
  }
  if (in.bad()) fail(op, label, "reading the stream failed");
  buf->shrink_to_fit();
  out.data = buf->data();
  out.size = buf->size();
  out.owner = std::move(buf);
  return out;
}

std::shared_ptr<uint8_t[]> read_exact(std::istream& in, size_t n, const char* op,
                                      const std::string& label, const char* what) {
  // Grow in chunks until n bytes have arrived; the final buffer is allocated at full size
  // only when the stream can still supply them (known from seekable streams; otherwise the
  // chunks themselves prove it).
  std::vector<std::vector<uint8_t>> parts;
  size_t have = 0;
  const auto here = in.tellg();
  if (here != std::streampos(-1)) {
    in.seekg(0, std::ios::end);
    const auto end = in.tellg();
    in.seekg(here);
    if (end != std::streampos(-1) && end >= here &&
        static_cast<uint64_t>(end - here) < static_cast<uint64_t>(n)) {
      fail(op, label, std::string(what) + " needs " + std::to_string(n) +
                          " bytes but the stream holds only " +
                          std::to_string(static_cast<uint64_t>(end - here)));
    }
  }
  if (here != std::streampos(-1) && in.good()) {
    std::shared_ptr<uint8_t[]> out(new uint8_t[n ? n : 1]);
    in.read(reinterpret_cast<char*>(out.get()), static_cast<std::streamsize>(n));
    if (static_cast<size_t>(in.gcount()) != n) {
      fail(op, label, std::string(what) + " is truncated: " + std::to_string(in.gcount()) +
                          " of " + std::to_string(n) + " bytes");
    }
    return out;
  }
  in.clear(in.rdstate() & ~std::ios::failbit);
  while (have < n) {
    const size_t step = std::min(kChunk, n - have);
    parts.emplace_back(step);
    in.read(reinterpret_cast<char*>(parts.back().data()), static_cast<std::streamsize>(step));
    const size_t got = static_cast<size_t>(in.gcount());
    have += got;
    if (got < step) {
      fail(op, label, std::string(what) + " is truncated: " + std::to_string(have) + " of " +
                          std::to_string(n) + " bytes");
    }
  }
  std::shared_ptr<uint8_t[]> out(new uint8_t[n ? n : 1]);
  size_t at = 0;
  for (auto& p : parts) {
    std::memcpy(out.get() + at, p.data(), p.size());
    at += p.size();
  }
  return out;
}

// --- Cursor -------------------------------------------------------------------------------

const char* Cursor::take(uint64_t n, const char* what) {
  need(n, what);
  const char* p = reinterpret_cast<const char*>(data_ + pos_);
  pos_ += static_cast<size_t>(n);
  return p;
}

void Cursor::need(uint64_t n, const char* what) const {
  if (n > remaining()) {
    fail(std::string(what) + " at byte " + std::to_string(pos_) + " needs " + std::to_string(n) +
         " bytes but the file ends " + std::to_string(remaining()) + " bytes later (truncated?)");
  }
}

uint32_t Cursor::u32(const char* what) {
  const auto* p = reinterpret_cast<const uint8_t*>(take(4, what));
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

uint64_t Cursor::u64(const char* what) {
  const auto* p = reinterpret_cast<const uint8_t*>(take(8, what));
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

std::string_view Cursor::bytes(uint64_t n, const char* what) {
  const char* p = take(n, what);
  return {p, static_cast<size_t>(n)};
}

// --- shapes and names ----------------------------------------------------------------------

Shape checked_file_shape(const uint64_t* dims, size_t ndim, size_t itemsize, const char* op,
                         const std::string& label, const std::string& what, uint64_t* nbytes) {
  Shape shape;
  shape.reserve(ndim);
  uint64_t bytes = itemsize;
  bool empty = false;
  for (size_t i = 0; i < ndim; ++i) {
    if (dims[i] > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) {
      fail(op, label, what + " has dimension " + std::to_string(dims[i]) +
                          ", past Tessera's int32 extents");
    }
    shape.push_back(static_cast<int32_t>(dims[i]));
    empty |= dims[i] == 0;
  }
  // A zero extent makes the array empty whatever the others are, but the others must still
  // fit: the element count of every prefix is checked, as a shape with a zero after a
  // product past int64 would be refused by NumPy too.
  for (size_t i = 0; i < ndim; ++i) {
    if (dims[i] == 0) continue;
    if (__builtin_mul_overflow(bytes, dims[i], &bytes) ||
        bytes > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      fail(op, label, what + " has shape " + shape_string(shape) +
                          ", whose byte size overflows 64 bits");
    }
  }
  *nbytes = empty ? 0 : bytes;
  return shape;
}

void check_bool_bytes(const uint8_t* p, size_t n, const char* op, const std::string& label,
                      const std::string& what) {
  for (size_t i = 0; i < n; ++i) {
    if (p[i] > 1) {
      fail(op, label, what + " is bool but element " + std::to_string(i) + " holds byte " +
                          std::to_string(p[i]) + " (bool bytes must be 0 or 1)");
    }
  }
}

std::string quote_name(std::string_view name) {
  std::string out = "'";
  size_t n = 0;
  for (unsigned char c : name) {
    if (++n > 64) {
      out += "...";
      break;
    }
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
      out += static_cast<char>(c);
    } else {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out + "'";
}

// --- writers -------------------------------------------------------------------------------

void Sink::pad_zeros(size_t n) {
  static const char zeros[64] = {};
  while (n) {
    const size_t k = std::min(n, sizeof zeros);
    write(zeros, k);
    n -= k;
  }
}

AtomicFile::AtomicFile(std::filesystem::path target, const char* op)
    : target_(std::move(target)), op_(op) {
  // O_EXCL on a fresh name in the target's directory: the rename below stays within one
  // filesystem (atomic), and the permissions follow the umask like any new file.
  static std::atomic<unsigned> counter{0};
  const std::string base = target_.filename().string();
  for (int attempt = 0; attempt < 100; ++attempt) {
    temp_ = target_;
    temp_.replace_filename("." + base + ".tmp" + std::to_string(::getpid()) + "." +
                           std::to_string(counter++));
    fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ >= 0 || errno != EEXIST) break;
  }
  if (fd_ < 0) fail(op_, target_.string(), "cannot create a temporary file beside it: " + errno_text());
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(temp_.c_str());
  }
}

void AtomicFile::write(const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n) {
    const ssize_t m = ::write(fd_, p, std::min<size_t>(n, size_t(1) << 30));
    if (m < 0 && errno == EINTR) continue;
    if (m <= 0) fail(op_, target_.string(), "writing failed: " + errno_text());
    p += m;
    n -= static_cast<size_t>(m);
  }
}

void AtomicFile::commit() {
  if (::fsync(fd_) != 0) fail(op_, target_.string(), "fsync failed: " + errno_text());
  if (::close(fd_) != 0) {
    fd_ = -1;
    ::unlink(temp_.c_str());
    fail(op_, target_.string(), "closing failed: " + errno_text());
  }
  fd_ = -1;
  if (::rename(temp_.c_str(), target_.c_str()) != 0) {
    const std::string why = errno_text();
    ::unlink(temp_.c_str());
    fail(op_, target_.string(), "cannot rename the temporary file over it: " + why);
  }
  // The rename itself is durable once the directory is synced (best effort: some
  // filesystems refuse fsync on a directory).
  std::filesystem::path dir = target_.parent_path();
  if (dir.empty()) dir = ".";
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

void StreamSink::write(const void* data, size_t n) {
  out_.write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
  if (!out_) throw std::runtime_error(std::string("[") + op_ + "] <stream>: writing failed");
}

std::filesystem::path with_extension(const std::filesystem::path& path, const char* ext) {
  const std::string s = path.string();
  const size_t n = std::strlen(ext);
  if (s.size() >= n && s.compare(s.size() - n, n, ext) == 0) return path;
  return std::filesystem::path(s + ext);
}

}  // namespace tessera::io_detail
