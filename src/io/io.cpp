// The public IO API (tessera/io.hpp): arrays from the parsers' validated descriptions, and the
// writers. The parsing itself is in format_*.cpp.
#include "tessera/io.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstring>
#include <istream>
#include <stdexcept>

#include "io/formats.hpp"
#include "io/io_arrays.hpp"
#include "tessera/core/memory.hpp"
#include "tessera/primitives/shape.hpp"

namespace tessera {

// The formats store little-endian numbers (GGUF, safetensors) or say their order (.npy); the
// array-building code assumes the host is little-endian, as every target Tessera has.
static_assert(std::endian::native == std::endian::little, "Tessera's IO assumes a little-endian host");

namespace io_detail {

namespace {
// An evaluated array's buffer that points into memory someone else owns: a file mapping, or
// the bytes read from a stream or a zip member. The array keeps `owner` alive.
class HostView final : public Buffer {
 public:
  HostView(const void* p, size_t n, std::shared_ptr<const void> owner)
      : Buffer(BufferKind::cpu, n), p_(const_cast<void*>(p)), owner_(std::move(owner)) {}
  void* host_ptr() override { return p_; }

 private:
  void* p_;
  std::shared_ptr<const void> owner_;
};

Strides col_major_strides(const Shape& s) {
  Strides st(s.size(), 1);
  for (size_t i = 1; i < s.size(); ++i) st[i] = st[i - 1] * s[i - 1];
  return st;
}
}  // namespace

array from_buffer(BufferPtr buf, const Shape& shape, Dtype dtype, bool fortran) {
  array out(shape, dtype, nullptr, {});
  Strides st = fortran ? col_major_strides(shape) : row_major_strides(shape);
  array::Flags flags = flags_for(shape, st);
  out.set_data(std::move(buf), 0, std::move(st), flags);
  out.set_status(array::Status::available);
  return out;
}

array make_array(const uint8_t* base, const std::shared_ptr<const void>& owner, const TensorSpec& t) {
  const uint8_t* p = base + t.offset;
  const size_t item = t.dtype.size();
  if (t.nbytes == 0) return from_buffer(cpu::malloc(0), t.shape, t.dtype, t.fortran);
  if (!t.swap && reinterpret_cast<uintptr_t>(p) % item == 0) {
    return from_buffer(std::make_shared<HostView>(p, t.nbytes, owner), t.shape, t.dtype, t.fortran);
  }
  BufferPtr buf = cpu::malloc(t.nbytes);
  auto* dst = static_cast<uint8_t*>(buf->host_ptr());
  if (!t.swap) {
    std::memcpy(dst, p, t.nbytes);
  } else {
    // complex64 swaps each float of the pair; every other dtype swaps whole elements.
    const size_t unit = t.dtype == complex64 ? 4 : item;
    for (size_t i = 0; i < t.nbytes; i += unit) {
      for (size_t k = 0; k < unit; ++k) dst[i + k] = p[i + unit - 1 - k];
    }
  }
  return from_buffer(std::move(buf), t.shape, t.dtype, t.fortran);
}

HostBytes host_bytes(array a, bool allow_fortran) {
  a.eval();
  HostBytes out{a};
  out.nbytes = a.nbytes();
  if (a.size() == 0) return out;
  const auto& f = a.flags();
  if (!f.row_contiguous) {
    if (allow_fortran && f.col_contiguous) {
      out.fortran = true;
    } else {
      out.keep = make_row_contiguous(a);
    }
  }
  out.data = out.keep.raw_host_ptr();
  return out;
}

void check_stream(const StreamOrDevice& s) { (void)to_stream(s); }

}  // namespace io_detail

using namespace io_detail;

namespace {

TensorSpec spec_of(const NpyHeader& h, size_t offset) {
  TensorSpec t;
  t.dtype = h.dtype;
  t.shape = h.shape;
  t.offset = offset;
  t.nbytes = static_cast<size_t>(h.nbytes);
  t.fortran = h.fortran;
  t.swap = h.swap;
  return t;
}

std::atomic<size_t> g_npz_limit{size_t(64) << 30};

// --- .npy ----------------------------------------------------------------------------------

void write_npy(Sink& out, const array& a, const char* op) {
  check_valid_dtype(a.dtype(), op);
  HostBytes hb = host_bytes(a, true);
  out.write(npy_header(a.dtype(), a.shape(), hb.fortran, op));
  if (hb.nbytes) out.write(hb.data, hb.nbytes);
}

}  // namespace

void save(const std::filesystem::path& file, array a) {
  AtomicFile f(with_extension(file, ".npy"), "save");
  write_npy(f, a, "save");
  f.commit();
}

void save(std::ostream& out, array a) {
  StreamSink sink(out, "save");
  write_npy(sink, a, "save");
}

std::optional<Format> format_of(const std::filesystem::path& file) {
  std::string ext = file.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == ".npy") return Format::npy;
  if (ext == ".npz") return Format::npz;
  if (ext == ".safetensors") return Format::safetensors;
  if (ext == ".gguf") return Format::gguf;
  return std::nullopt;
}

namespace {
array load_npy_file(const std::filesystem::path& file) {
  Bytes b = map_file(file, "load");
  NpyHeader h = parse_npy(b, "load");
  return make_array(b.data, b.owner, spec_of(h, h.data_offset));
}
}  // namespace

array load(const std::filesystem::path& file, StreamOrDevice s) {
  check_stream(s);
  // MLX's load reads .npy whatever the name; a name that says another format gets a pointer
  // to the right call instead of "not a .npy file".
  if (auto f = format_of(file); f && *f != Format::npy) {
    throw std::invalid_argument("[load] " + file.string() +
                                " holds named arrays, not one: use load(file, std::nullopt), "
                                "load_npz, load_safetensors or load_gguf");
  }
  return load_npy_file(file);
}

array load(std::istream& in, StreamOrDevice s) {
  check_stream(s);
  const char* op = "load";
  const std::string label = "<stream>";
  if (!in.good()) fail(op, label, "the stream is not readable");
  // Preamble (10 or 12 bytes), then the header, then exactly the data: the stream is left
  // at the next array.
  uint8_t pre[12] = {};
  in.read(reinterpret_cast<char*>(pre), 10);
  size_t got = static_cast<size_t>(in.gcount());
  if (got == 10 && pre[6] != 1) {
    in.read(reinterpret_cast<char*>(pre + 10), 2);
    got += static_cast<size_t>(in.gcount());
  }
  const size_t total = npy_header_length(pre, got, op, label);
  std::vector<uint8_t> head(total);
  std::memcpy(head.data(), pre, got);
  in.read(reinterpret_cast<char*>(head.data() + got), static_cast<std::streamsize>(total - got));
  if (static_cast<size_t>(in.gcount()) != total - got) fail(op, label, "the .npy header is truncated");
  NpyHeader h = parse_npy_header(head.data(), total, op, label);
  std::shared_ptr<uint8_t[]> data = read_exact(in, static_cast<size_t>(h.nbytes), op, label, "the array data");
  if (h.dtype == bool_) check_bool_bytes(data.get(), h.nbytes, op, label, "the array");
  return make_array(data.get(), data, spec_of(h, 0));
}

// --- .npz ----------------------------------------------------------------------------------

namespace {

std::unordered_map<std::string, array> npz_arrays(const Bytes& b, const char* op) {
  std::unordered_map<std::string, array> out;
  for (NpzMember& m : read_npz(b, g_npz_limit.load(), op)) {
    out.emplace(m.name, make_array(m.data.get(), m.data, spec_of(m.header, 0)));
  }
  return out;
}

void write_npz_arrays(Sink& out, const std::unordered_map<std::string, array>& named,
                      const std::vector<array>& positional, bool compress, const char* op) {
  std::vector<std::pair<std::string, array>> all;
  for (size_t i = 0; i < positional.size(); ++i) {
    const std::string name = "arr_" + std::to_string(i);
    if (named.count(name)) {
      throw std::invalid_argument(std::string("[") + op + "] cannot use un-named arrays and the name " + name +
                                  " (NumPy's rule: positional arrays are named arr_0, arr_1, ...)");
    }
    all.emplace_back(name, positional[i]);
  }
  for (const auto& [k, v] : named) {
    if (k.find('\0') != std::string::npos) {
      throw std::invalid_argument(std::string("[") + op + "] an array name holds a NUL byte");
    }
    all.emplace_back(k, v);
  }
  std::sort(all.begin(), all.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<HostBytes> keep;
  std::vector<NpzEntry> entries;
  keep.reserve(all.size());
  for (auto& [name, a] : all) {
    check_valid_dtype(a.dtype(), op);
    keep.push_back(host_bytes(a, true));
    const HostBytes& hb = keep.back();
    entries.push_back({name, npy_header(a.dtype(), a.shape(), hb.fortran, op), hb.data, hb.nbytes});
  }
  write_npz(out, entries, compress, op);
}

}  // namespace

void savez(const std::filesystem::path& file, const std::unordered_map<std::string, array>& named,
           const std::vector<array>& positional) {
  AtomicFile f(with_extension(file, ".npz"), "savez");
  write_npz_arrays(f, named, positional, false, "savez");
  f.commit();
}
void savez(std::ostream& out, const std::unordered_map<std::string, array>& named,
           const std::vector<array>& positional) {
  StreamSink sink(out, "savez");
  write_npz_arrays(sink, named, positional, false, "savez");
}
void savez_compressed(const std::filesystem::path& file, const std::unordered_map<std::string, array>& named,
                      const std::vector<array>& positional) {
  AtomicFile f(with_extension(file, ".npz"), "savez_compressed");
  write_npz_arrays(f, named, positional, true, "savez_compressed");
  f.commit();
}
void savez_compressed(std::ostream& out, const std::unordered_map<std::string, array>& named,
                      const std::vector<array>& positional) {
  StreamSink sink(out, "savez_compressed");
  write_npz_arrays(sink, named, positional, true, "savez_compressed");
}

std::unordered_map<std::string, array> load_npz(const std::filesystem::path& file, StreamOrDevice s) {
  check_stream(s);
  return npz_arrays(map_file(file, "load_npz"), "load_npz");
}
std::unordered_map<std::string, array> load_npz(std::istream& in, StreamOrDevice s) {
  check_stream(s);
  return npz_arrays(read_stream(in, "load_npz"), "load_npz");
}

size_t set_npz_limit(size_t bytes) { return g_npz_limit.exchange(bytes); }

// --- safetensors ---------------------------------------------------------------------------

namespace {

SafetensorsLoad safetensors_arrays(const Bytes& b) {
  SafetensorsInfo info = parse_safetensors(b, "load_safetensors");
  SafetensorsLoad out;
  for (const TensorSpec& t : info.tensors) out.first.emplace(t.name, make_array(b.data, b.owner, t));
  for (auto& [k, v] : info.metadata) out.second.emplace(k, v);
  return out;
}

void write_safetensors(Sink& out, std::unordered_map<std::string, array>& arrays,
                       const std::unordered_map<std::string, std::string>& metadata) {
  const char* op = "save_safetensors";
  // Largest elements first, then by name (the Rust writer's order): with the header padded to
  // 8 bytes, every tensor then starts at a multiple of its element size.
  std::vector<std::pair<std::string, array>> all(arrays.begin(), arrays.end());
  std::sort(all.begin(), all.end(), [](const auto& x, const auto& y) {
    if (x.second.itemsize() != y.second.itemsize()) return x.second.itemsize() > y.second.itemsize();
    return x.first < y.first;
  });
  std::vector<SafetensorsEntry> entries;
  std::vector<HostBytes> keep;
  for (auto& [name, a] : all) {
    if (name == "__metadata__") {
      throw std::invalid_argument("[save_safetensors] an array cannot be named __metadata__");
    }
    check_valid_dtype(a.dtype(), op);
    keep.push_back(host_bytes(a));
    entries.push_back({name, a.dtype(), a.shape(), keep.back().nbytes});
  }
  std::vector<std::pair<std::string, std::string>> meta(metadata.begin(), metadata.end());
  std::sort(meta.begin(), meta.end());
  std::string header;
  try {
    header = safetensors_header(entries, meta);
  } catch (const std::runtime_error&) {
    throw;
  } catch (const std::exception& e) {
    // nlohmann's type_error for a name or value that is not UTF-8.
    throw std::invalid_argument(std::string("[save_safetensors] a name or metadata value is not valid UTF-8 (") +
                                e.what() + ")");
  }
  out.write(header);
  for (const HostBytes& hb : keep) {
    if (hb.nbytes) out.write(hb.data, hb.nbytes);
  }
}

}  // namespace

SafetensorsLoad load_safetensors(const std::filesystem::path& file, StreamOrDevice s) {
  check_stream(s);
  return safetensors_arrays(map_file(file, "load_safetensors"));
}
SafetensorsLoad load_safetensors(std::istream& in, StreamOrDevice s) {
  check_stream(s);
  return safetensors_arrays(read_stream(in, "load_safetensors"));
}

void save_safetensors(const std::filesystem::path& file, std::unordered_map<std::string, array> arrays,
                      std::unordered_map<std::string, std::string> metadata) {
  AtomicFile f(with_extension(file, ".safetensors"), "save_safetensors");
  write_safetensors(f, arrays, metadata);
  f.commit();
}
void save_safetensors(std::ostream& out, std::unordered_map<std::string, array> arrays,
                      std::unordered_map<std::string, std::string> metadata) {
  StreamSink sink(out, "save_safetensors");
  write_safetensors(sink, arrays, metadata);
}


// --- any format ----------------------------------------------------------------------------

LoadResult load(const std::filesystem::path& file, std::optional<Format> format, StreamOrDevice s) {
  check_stream(s);
  const std::optional<Format> f = format ? format : format_of(file);
  if (!f) {
    throw std::invalid_argument("[load] cannot tell the format of " + file.string() +
                                " from its extension (.npy, .npz, .safetensors, .gguf): pass a Format");
  }
  switch (*f) {
    case Format::npy: return load_npy_file(file);
    case Format::npz: return load_npz(file, s);
    case Format::safetensors: return load_safetensors(file, s).first;
    case Format::gguf: return load_gguf(file, s).first;
  }
  throw std::invalid_argument("[load] invalid Format");
}

LoadWithMetadata load_with_metadata(const std::filesystem::path& file, StreamOrDevice s) {
  check_stream(s);
  LoadWithMetadata out;
  switch (format_of(file).value_or(Format::npy)) {
    case Format::npz:
      out.arrays = load_npz(file, s);
      break;
    case Format::safetensors: {
      auto [arrays, meta] = load_safetensors(file, s);
      out.arrays = std::move(arrays);
      for (auto& [k, v] : meta) out.metadata.emplace(k, std::move(v));
      break;
    }
    case Format::gguf:
      std::tie(out.arrays, out.metadata) = load_gguf(file, s);
      break;
    case Format::npy:
      throw std::invalid_argument("[load_with_metadata] " + file.string() +
                                  ": metadata needs a .safetensors, .gguf or .npz file (a .npy holds one "
                                  "array and no metadata: use load)");
  }
  return out;
}

}  // namespace tessera
