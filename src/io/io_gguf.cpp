// load_gguf / save_gguf: GGUF metadata <-> GGUFMetaData, tensors <-> arrays, and the quantized
// types mapped onto MLX's affine layout (the parsing is in format_gguf.cpp).
#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "io/formats.hpp"
#include "io/io_arrays.hpp"
#include "tessera/core/memory.hpp"
#include "tessera/io.hpp"

namespace tessera {

using namespace io_detail;

namespace {

constexpr const char* kLoad = "load_gguf";
constexpr const char* kSave = "save_gguf";

GGUFMetaData to_metadata(GgufValue& v) {
  switch (v.kind) {
    case GgufValue::Kind::string: return std::move(v.str);
    case GgufValue::Kind::strings: return std::move(v.strs);
    case GgufValue::Kind::numbers: break;
  }
  // Metadata is small: a copy into an ordinary array (no reference to the file).
  return array(static_cast<const void*>(v.bytes.data()), v.shape, v.dtype);
}

void insert_unique(std::unordered_map<std::string, array>& out, const std::string& name, array a,
                   const std::string& label) {
  if (!out.emplace(name, std::move(a)).second) {
    fail(kLoad, label, "the array name " + quote_name(name) +
                           " appears twice (a quantized tensor's .scales or .biases clashes with another tensor)");
  }
}

// Q4_0 / Q4_1 / Q8_0 as MLX loads them: "<name>" uint32 packed weights (the last dimension
// divided by 8 four-bit or 4 eight-bit values per word), "<prefix>.scales" and
// "<prefix>.biases" float16 with one value per 32 weights.
void load_quantized(std::unordered_map<std::string, array>& out, const Bytes& b, const GgufTensor& t) {
  const size_t blocks = t.nbytes / gguf_block_bytes(t.type);
  const size_t words = gguf_block_words(t.type);
  Shape wshape = t.shape, sshape = t.shape;
  if (wshape.empty()) fail(kLoad, b.label, "a quantized tensor needs a dimension");  // parser checked
  wshape.back() = static_cast<int32_t>(wshape.back() / (32 / words));
  sshape.back() = static_cast<int32_t>(sshape.back() / 32);
  BufferPtr w = cpu::malloc(blocks * words * 4), sc = cpu::malloc(blocks * 2), bi = cpu::malloc(blocks * 2);
  if (blocks) {
    gguf_unpack_quantized(t.type, b.data + t.offset, blocks, static_cast<uint32_t*>(w->host_ptr()),
                          static_cast<uint16_t*>(sc->host_ptr()), static_cast<uint16_t*>(bi->host_ptr()));
  }
  // MLX strips ".weight" from the name for the scales and biases (model.layers.0.attn.weight
  // -> model.layers.0.attn.scales); a name without that suffix keeps its whole name.
  constexpr std::string_view suffix = ".weight";
  std::string prefix = t.name;
  if (prefix.size() >= suffix.size() && prefix.compare(prefix.size() - suffix.size(), suffix.size(), suffix) == 0) {
    prefix.resize(prefix.size() - suffix.size());
  }
  insert_unique(out, t.name, from_buffer(w, wshape, uint32), b.label);
  insert_unique(out, prefix + ".scales", from_buffer(sc, sshape, float16), b.label);
  insert_unique(out, prefix + ".biases", from_buffer(bi, sshape, float16), b.label);
}

GGUFLoad gguf_arrays(const Bytes& b) {
  GgufInfo info = parse_gguf(b, kLoad);
  GGUFLoad out;
  for (auto& [key, v] : info.metadata) out.second.emplace(key, to_metadata(v));
  for (const GgufTensor& t : info.tensors) {
    if (gguf_block_bytes(t.type)) {
      load_quantized(out.first, b, t);
      continue;
    }
    TensorSpec spec;
    spec.name = t.name;
    spec.shape = t.shape;
    spec.offset = t.offset;
    spec.nbytes = t.nbytes;
    switch (t.type) {
      case kGgmlF32: spec.dtype = float32; break;
      case kGgmlF16: spec.dtype = float16; break;
      case kGgmlBF16: spec.dtype = bfloat16; break;
      case kGgmlF64: spec.dtype = float64; break;
      case kGgmlI8: spec.dtype = int8; break;
      case kGgmlI16: spec.dtype = int16; break;
      case kGgmlI32: spec.dtype = int32; break;
      case kGgmlI64: spec.dtype = int64; break;
      default: fail(kLoad, b.label, "unexpected tensor type");  // the parser refused the others
    }
    insert_unique(out.first, t.name, make_array(b.data, b.owner, spec), b.label);
  }
  return out;
}

uint32_t ggml_type_of(Dtype d, const std::string& name) {
  switch (d.val) {
    case Dtype::Val::float32: return kGgmlF32;
    case Dtype::Val::float16: return kGgmlF16;
    case Dtype::Val::bfloat16: return kGgmlBF16;
    case Dtype::Val::float64: return kGgmlF64;
    case Dtype::Val::int8: return kGgmlI8;
    case Dtype::Val::int16: return kGgmlI16;
    case Dtype::Val::int32: return kGgmlI32;
    case Dtype::Val::int64: return kGgmlI64;
    default:
      throw std::invalid_argument(std::string("[save_gguf] array ") + quote_name(name) + " has dtype " + dtype_name(d) +
                                  ", which GGUF has no tensor type for (F32, F16, BF16, F64, I8, I16, I32, I64)");
  }
}

GgufValue from_metadata(const std::string& key, const GGUFMetaData& m) {
  GgufValue v;
  if (std::holds_alternative<std::monostate>(m)) {
    throw std::invalid_argument("[save_gguf] metadata " + quote_name(key) + " holds no value");
  }
  if (auto* s = std::get_if<std::string>(&m)) {
    v.kind = GgufValue::Kind::string;
    v.str = *s;
    return v;
  }
  if (auto* ss = std::get_if<std::vector<std::string>>(&m)) {
    v.kind = GgufValue::Kind::strings;
    v.strs = *ss;
    return v;
  }
  const array& a = std::get<array>(m);
  const Dtype d = a.dtype();
  if (d == float16 || d == bfloat16 || d == complex64 || !is_valid(d)) {
    throw std::invalid_argument("[save_gguf] metadata " + quote_name(key) + " has dtype " + dtype_name(d) +
                                ", which GGUF has no value type for");
  }
  // Nested arrays carry their inner lengths only through their elements: an empty outer
  // level would lose the inner shape.
  for (int i = 0; i + 1 < a.ndim(); ++i) {
    if (a.shape(i) == 0) {
      throw std::invalid_argument("[save_gguf] metadata " + quote_name(key) + " of shape " + shape_string(a.shape()) +
                                  " has an empty outer dimension, which nested GGUF arrays cannot keep");
    }
  }
  HostBytes hb = host_bytes(a);
  v.dtype = d;
  v.shape = a.shape();
  v.bytes.resize(hb.nbytes);
  if (hb.nbytes) std::memcpy(v.bytes.data(), hb.data, hb.nbytes);
  return v;
}

void write_gguf_arrays(Sink& out, std::unordered_map<std::string, array>& arrays,
                       const std::unordered_map<std::string, GGUFMetaData>& metadata) {
  uint64_t alignment = 32;
  std::vector<std::pair<std::string, GgufValue>> meta;
  for (const auto& [key, m] : metadata) {
    meta.emplace_back(key, from_metadata(key, m));
    if (key == "general.alignment") {
      const GgufValue& v = meta.back().second;
      uint32_t a = 0;
      if (v.kind == GgufValue::Kind::numbers && v.dtype == uint32 && v.shape.empty()) std::memcpy(&a, v.bytes.data(), 4);
      if (a == 0 || (a & (a - 1)) != 0) {
        throw std::invalid_argument("[save_gguf] general.alignment must be a 0-d uint32 power of two");
      }
      alignment = a;
    }
  }
  std::sort(meta.begin(), meta.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<std::pair<std::string, array>> all(arrays.begin(), arrays.end());
  std::sort(all.begin(), all.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<HostBytes> keep;
  std::vector<GgufEntry> entries;
  keep.reserve(all.size());
  for (auto& [name, a] : all) {
    const uint32_t type = ggml_type_of(a.dtype(), name);
    keep.push_back(host_bytes(a));
    entries.push_back({name, type, a.shape(), keep.back().data, keep.back().nbytes});
  }
  write_gguf(out, meta, entries, alignment);
}

}  // namespace

GGUFLoad load_gguf(const std::filesystem::path& file, StreamOrDevice s) {
  check_stream(s);
  return gguf_arrays(map_file(file, kLoad));
}
GGUFLoad load_gguf(std::istream& in, StreamOrDevice s) {
  check_stream(s);
  return gguf_arrays(read_stream(in, kLoad));
}

void save_gguf(const std::filesystem::path& file, std::unordered_map<std::string, array> arrays,
               std::unordered_map<std::string, GGUFMetaData> metadata) {
  AtomicFile f(with_extension(file, ".gguf"), kSave);
  write_gguf_arrays(f, arrays, metadata);
  f.commit();
}
void save_gguf(std::ostream& out, std::unordered_map<std::string, array> arrays,
               std::unordered_map<std::string, GGUFMetaData> metadata) {
  StreamSink sink(out, kSave);
  write_gguf_arrays(sink, arrays, metadata);
}

}  // namespace tessera
