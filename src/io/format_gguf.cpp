// GGUF (ggml-org/ggml docs/gguf.md), versions 2 and 3, little-endian: "GGUF", uint32 version,
// uint64 tensor count, uint64 metadata count; the metadata (key string, uint32 value type,
// value); the tensor infos (name, uint32 n_dims, uint64 ne[n_dims] innermost first, uint32
// ggml type, uint64 offset into the data section); padding to general.alignment (32 by
// default); the data section. Every count is checked against the bytes left before a loop
// runs on it, so a count of 2^60 fails at once instead of allocating or looping.
#include <algorithm>
#include <cstring>
#include <unordered_set>

#include "io/formats.hpp"

namespace tessera::io_detail {

namespace {

constexpr int kMaxNesting = 8;   // arrays of arrays: each level is a dimension
constexpr uint32_t kMaxDims = 8; // gguflib's (MLX's reader) GGUF_TENSOR_MAX_DIM

constexpr const char* kGgmlNames[] = {
    "F32",     "F16",      "Q4_0",     "Q4_1",     "Q4_2",     "Q4_3",     "Q5_0",
    "Q5_1",    "Q8_0",     "Q8_1",     "Q2_K",     "Q3_K",     "Q4_K",     "Q5_K",
    "Q6_K",    "Q8_K",     "IQ2_XXS",  "IQ2_XS",   "IQ3_XXS",  "IQ1_S",    "IQ4_NL",
    "IQ3_S",   "IQ2_S",    "IQ4_XS",   "I8",       "I16",      "I32",      "I64",
    "F64",     "IQ1_M",    "BF16",     "Q4_0_4_4", "Q4_0_4_8", "Q4_0_8_8", "TQ1_0",
    "TQ2_0",   "IQ4_NL_4_4", "IQ4_NL_4_8", "IQ4_NL_8_8", "MXFP4",
};

// Element dtype of a plain (unquantized) ggml tensor type.
bool plain_tensor_dtype(uint32_t type, Dtype* out) {
  switch (type) {
    case kGgmlF32: *out = float32; return true;
    case kGgmlF16: *out = float16; return true;
    case kGgmlBF16: *out = bfloat16; return true;
    case kGgmlF64: *out = float64; return true;
    case kGgmlI8: *out = int8; return true;
    case kGgmlI16: *out = int16; return true;
    case kGgmlI32: *out = int32; return true;
    case kGgmlI64: *out = int64; return true;
    default: return false;
  }
}

bool scalar_value_dtype(uint32_t type, Dtype* out) {
  switch (type) {
    case kGgufU8: *out = uint8; return true;
    case kGgufI8: *out = int8; return true;
    case kGgufU16: *out = uint16; return true;
    case kGgufI16: *out = int16; return true;
    case kGgufU32: *out = uint32; return true;
    case kGgufI32: *out = int32; return true;
    case kGgufF32: *out = float32; return true;
    case kGgufBool: *out = bool_; return true;
    case kGgufU64: *out = uint64; return true;
    case kGgufI64: *out = int64; return true;
    case kGgufF64: *out = float64; return true;
    default: return false;
  }
}

uint32_t value_type_of(Dtype d) {
  switch (d.val) {
    case Dtype::Val::uint8: return kGgufU8;
    case Dtype::Val::int8: return kGgufI8;
    case Dtype::Val::uint16: return kGgufU16;
    case Dtype::Val::int16: return kGgufI16;
    case Dtype::Val::uint32: return kGgufU32;
    case Dtype::Val::int32: return kGgufI32;
    case Dtype::Val::float32: return kGgufF32;
    case Dtype::Val::bool_: return kGgufBool;
    case Dtype::Val::uint64: return kGgufU64;
    case Dtype::Val::int64: return kGgufI64;
    case Dtype::Val::float64: return kGgufF64;
    default: throw std::invalid_argument(std::string("[save_gguf] metadata arrays of dtype ") + dtype_name(d) +
                                         " have no GGUF value type");
  }
}

class Reader {
 public:
  Reader(const Bytes& b, const char* op) : b_(b), c_(b.data, b.size, op, b.label), op_(op) {}
  Cursor& cursor() { return c_; }

  std::string string(const char* what) {
    const uint64_t n = c_.u64(what);
    return std::string(c_.bytes(n, what));
  }

  // A value of `type`; `key` names it in messages.
  GgufValue value(uint32_t type, const std::string& key, int depth) {
    GgufValue v;
    Dtype d = uint8;
    if (scalar_value_dtype(type, &d)) {
      v.dtype = d;
      const std::string_view raw = c_.bytes(d.size(), "a metadata value");
      v.bytes.assign(raw.begin(), raw.end());
      if (d == bool_) check_bool_bytes(v.bytes.data(), 1, op_, b_.label, "metadata " + quote_name(key));
      return v;
    }
    if (type == kGgufString) {
      v.kind = GgufValue::Kind::string;
      v.str = string("a metadata string");
      return v;
    }
    if (type != kGgufArray) {
      c_.fail("metadata " + quote_name(key) + " has unknown value type " + std::to_string(type));
    }
    const uint32_t elem = c_.u32("a metadata array's element type");
    const uint64_t count = c_.u64("a metadata array's length");
    if (scalar_value_dtype(elem, &d)) {
      if (count > c_.remaining() / d.size()) {
        c_.fail("metadata array " + quote_name(key) + " claims " + std::to_string(count) + " elements, more than the " +
                std::to_string(c_.remaining()) + " bytes left can hold");
      }
      if (count > static_cast<uint64_t>(INT32_MAX)) c_.fail("metadata array " + quote_name(key) + " is too long");
      v.dtype = d;
      v.shape = {static_cast<int32_t>(count)};
      const std::string_view raw = c_.bytes(count * d.size(), "a metadata array");
      v.bytes.assign(raw.begin(), raw.end());
      if (d == bool_) check_bool_bytes(v.bytes.data(), v.bytes.size(), op_, b_.label, "metadata " + quote_name(key));
      return v;
    }
    if (elem == kGgufString) {
      if (count > c_.remaining() / 8) {
        c_.fail("metadata array " + quote_name(key) + " claims " + std::to_string(count) + " strings, more than the " +
                std::to_string(c_.remaining()) + " bytes left can hold");
      }
      v.kind = GgufValue::Kind::strings;
      v.strs.reserve(static_cast<size_t>(count));
      for (uint64_t i = 0; i < count; ++i) v.strs.push_back(string("a metadata string"));
      return v;
    }
    if (elem != kGgufArray) {
      c_.fail("metadata array " + quote_name(key) + " has unknown element type " + std::to_string(elem));
    }
    // Arrays of arrays: equal-length numeric sub-arrays of one type become one more dimension
    // (GGUFMetaData holds arrays, strings or one list of strings, nothing ragged).
    if (depth >= kMaxNesting) {
      c_.fail("metadata " + quote_name(key) + " nests arrays deeper than " + std::to_string(kMaxNesting) + " levels");
    }
    if (count > c_.remaining() / 12) {
      c_.fail("metadata array " + quote_name(key) + " claims " + std::to_string(count) + " arrays, more than the " +
              std::to_string(c_.remaining()) + " bytes left can hold");
    }
    if (count > static_cast<uint64_t>(INT32_MAX)) c_.fail("metadata array " + quote_name(key) + " is too long");
    v.dtype = float32;  // an empty array of arrays has no element type; float32 as MLX's default
    v.shape = {static_cast<int32_t>(count)};
    for (uint64_t i = 0; i < count; ++i) {
      GgufValue sub = value(kGgufArray, key, depth + 1);
      if (sub.kind != GgufValue::Kind::numbers) {
        c_.fail("metadata " + quote_name(key) + " nests arrays of strings, which GGUFMetaData cannot hold");
      }
      if (i == 0) {
        v.dtype = sub.dtype;
        v.shape.insert(v.shape.end(), sub.shape.begin(), sub.shape.end());
      } else if (!(sub.dtype == v.dtype) || !std::equal(sub.shape.begin(), sub.shape.end(), v.shape.begin() + 1, v.shape.end())) {
        c_.fail("metadata " + quote_name(key) + " nests arrays of different types or lengths (ragged)");
      }
      v.bytes.insert(v.bytes.end(), sub.bytes.begin(), sub.bytes.end());
    }
    return v;
  }

 private:
  const Bytes& b_;
  Cursor c_;
  const char* op_;
};

}  // namespace

const char* ggml_type_name(uint32_t type) {
  return type < std::size(kGgmlNames) ? kGgmlNames[type] : "unknown";
}

size_t gguf_block_bytes(uint32_t type) {
  switch (type) {
    case kGgmlQ4_0: return 2 + 16;
    case kGgmlQ4_1: return 2 + 2 + 16;
    case kGgmlQ8_0: return 2 + 32;
    default: return 0;
  }
}
size_t gguf_block_words(uint32_t type) { return type == kGgmlQ8_0 ? 8 : 4; }

GgufInfo parse_gguf(const Bytes& b, const char* op) {
  Reader r(b, op);
  Cursor& c = r.cursor();
  if (b.size < 4 || std::memcmp(b.data, "GGUF", 4) != 0) {
    fail(op, b.label, "not a GGUF file (no \"GGUF\" magic)");
  }
  c.seek(4);
  GgufInfo info;
  info.version = c.u32("the version");
  if (info.version != 2 && info.version != 3) {
    const uint32_t swapped = __builtin_bswap32(info.version);
    if (swapped == 2 || swapped == 3) fail(op, b.label, "big-endian GGUF files are not supported");
    if (info.version == 1) fail(op, b.label, "GGUF version 1 is not supported (versions 2 and 3 are)");
    fail(op, b.label, "unknown GGUF version " + std::to_string(info.version));
  }
  const uint64_t n_tensors = c.u64("the tensor count");
  const uint64_t n_kv = c.u64("the metadata count");
  // Smallest possible entries: a metadata pair is a key length (8), a type (4) and a 1-byte
  // value; a tensor info is a name length (8), n_dims (4), a type (4) and an offset (8).
  if (n_kv > c.remaining() / 13) {
    fail(op, b.label, "the metadata count " + std::to_string(n_kv) + " is more than the file's " +
                          std::to_string(b.size) + " bytes can hold");
  }
  if (n_tensors > c.remaining() / 24) {
    fail(op, b.label, "the tensor count " + std::to_string(n_tensors) + " is more than the file's " +
                          std::to_string(b.size) + " bytes can hold");
  }
  std::unordered_set<std::string> keys;
  for (uint64_t i = 0; i < n_kv; ++i) {
    std::string key = r.string("a metadata key");
    if (!keys.insert(key).second) fail(op, b.label, "the metadata key " + quote_name(key) + " appears twice");
    const uint32_t type = c.u32("a metadata value type");
    GgufValue v = r.value(type, key, 0);
    if (key == "general.alignment") {
      const bool u32 = type == kGgufU32;
      uint32_t a = 0;
      if (u32) std::memcpy(&a, v.bytes.data(), 4);
      if (!u32 || a == 0 || (a & (a - 1)) != 0) {
        fail(op, b.label, "general.alignment must be a uint32 power of two");
      }
      info.alignment = a;
    }
    info.metadata.emplace_back(std::move(key), std::move(v));
  }

  std::unordered_set<std::string> names;
  for (uint64_t i = 0; i < n_tensors; ++i) {
    GgufTensor t;
    t.name = r.string("a tensor name");
    const std::string what = "tensor " + quote_name(t.name);
    if (!names.insert(t.name).second) fail(op, b.label, "the tensor name " + quote_name(t.name) + " appears twice");
    const uint32_t ndim = c.u32("a tensor's dimension count");
    if (ndim > kMaxDims) {
      fail(op, b.label, what + " has " + std::to_string(ndim) + " dimensions (at most " + std::to_string(kMaxDims) + ")");
    }
    uint64_t ne[kMaxDims];
    for (uint32_t d = 0; d < ndim; ++d) ne[d] = c.u64("a tensor dimension");
    t.type = c.u32("a tensor type");
    const uint64_t offset = c.u64("a tensor offset");
    // GGUF lists ne innermost first: the row-major shape is the reverse (as MLX reads it).
    uint64_t dims[kMaxDims];
    for (uint32_t d = 0; d < ndim; ++d) dims[d] = ne[ndim - 1 - d];
    Dtype dt = float32;
    uint64_t nbytes = 0;
    if (plain_tensor_dtype(t.type, &dt)) {
      t.shape = checked_file_shape(dims, ndim, dt.size(), op, b.label, what, &nbytes);
    } else if (gguf_block_bytes(t.type)) {
      uint64_t count = 0;
      t.shape = checked_file_shape(dims, ndim, 1, op, b.label, what, &count);
      const uint64_t inner = ndim ? ne[0] : 1;
      if (inner % 32 != 0) {
        fail(op, b.label, what + " is " + ggml_type_name(t.type) + " but its innermost dimension " +
                              std::to_string(inner) + " is not a multiple of the 32-weight block");
      }
      nbytes = count / 32 * gguf_block_bytes(t.type);
    } else {
      fail(op, b.label, what + " has type " + ggml_type_name(t.type) + " (" + std::to_string(t.type) +
                            "), which Tessera does not load (it loads F32, F16, BF16, F64, I8, I16, I32, "
                            "I64, and Q4_0, Q4_1, Q8_0 as MLX's affine quantization)");
    }
    if (offset % info.alignment != 0) {
      fail(op, b.label, what + " has offset " + std::to_string(offset) + ", not a multiple of the alignment " +
                            std::to_string(info.alignment));
    }
    t.offset = static_cast<size_t>(offset);  // relative until the data section is known
    t.nbytes = static_cast<size_t>(nbytes);
    info.tensors.push_back(std::move(t));
  }
  // The data section starts at the next multiple of the alignment.
  const uint64_t data_start = (c.pos() + info.alignment - 1) / info.alignment * info.alignment;
  struct Span {
    uint64_t begin, end;
    size_t index;
  };
  std::vector<Span> spans;
  for (size_t i = 0; i < info.tensors.size(); ++i) {
    GgufTensor& t = info.tensors[i];
    const uint64_t rel = t.offset;
    const uint64_t avail = b.size > data_start ? b.size - data_start : 0;
    if (rel > avail || t.nbytes > avail - rel) {
      fail(op, b.label, "tensor " + quote_name(t.name) + " (" + std::to_string(t.nbytes) + " bytes at data offset " +
                            std::to_string(rel) + ") runs past the end of the file (truncated?)");
    }
    t.offset = static_cast<size_t>(data_start + rel);
    if (t.nbytes) spans.push_back({rel, rel + t.nbytes, i});  // an empty tensor overlaps nothing
  }
  std::sort(spans.begin(), spans.end(), [](const Span& x, const Span& y) { return x.begin < y.begin; });
  for (size_t i = 1; i < spans.size(); ++i) {
    if (spans[i].begin < spans[i - 1].end) {
      fail(op, b.label, "tensors " + quote_name(info.tensors[spans[i - 1].index].name) + " and " +
                            quote_name(info.tensors[spans[i].index].name) + " overlap");
    }
  }
  return info;
}

void gguf_unpack_quantized(uint32_t type, const uint8_t* src, size_t blocks, uint32_t* weights,
                           uint16_t* scales, uint16_t* biases) {
  const size_t bb = gguf_block_bytes(type);
  auto half_bits = [](const uint8_t* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); };
  auto times = [](uint16_t h, float k) {
    return Eigen::numext::bit_cast<uint16_t>(float16_t(k * static_cast<float>(Eigen::numext::bit_cast<float16_t>(h))));
  };
  for (size_t i = 0; i < blocks; ++i, src += bb) {
    const uint16_t d = half_bits(src);
    scales[i] = d;
    if (type == kGgmlQ8_0) {
      // q (int8) = u - 128 with u = q ^ 0x80: w = d * u + (-128 d).
      biases[i] = times(d, -128.0f);
      for (int w = 0; w < 8; ++w) {
        uint32_t word = 0;
        for (int k = 3; k >= 0; --k) word = word << 8 | static_cast<uint8_t>(src[2 + 4 * w + k] ^ 0x80);
        weights[8 * i + w] = word;
      }
      continue;
    }
    const uint8_t* qs = src + (type == kGgmlQ4_1 ? 4 : 2);
    biases[i] = type == kGgmlQ4_1 ? half_bits(src + 2) : times(d, -8.0f);
    // ggml keeps weight j in the low nibble of qs[j] and weight j + 16 in its high nibble;
    // MLX packs weight k at bits 4 (k % 8) of word k / 8.
    uint8_t nib[32];
    for (int j = 0; j < 16; ++j) {
      nib[j] = qs[j] & 0x0f;
      nib[j + 16] = qs[j] >> 4;
    }
    for (int w = 0; w < 4; ++w) {
      uint32_t word = 0;
      for (int k = 7; k >= 0; --k) word = word << 4 | nib[8 * w + k];
      weights[4 * i + w] = word;
    }
  }
}

// --- writer --------------------------------------------------------------------------------

namespace {

void put_u32(Sink& out, uint32_t v) {
  uint8_t b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<uint8_t>(v >> (8 * i));
  out.write(b, 4);
}
void put_u64(Sink& out, uint64_t v) {
  uint8_t b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(v >> (8 * i));
  out.write(b, 8);
}
void put_string(Sink& out, std::string_view s) {
  put_u64(out, s.size());
  out.write(s);
}

// The elements of dimensions [dim, ndim) of `v`, from byte `at`, as nested GGUF arrays.
void put_numbers(Sink& out, const GgufValue& v, size_t dim, size_t& at) {
  const uint32_t scalar = value_type_of(v.dtype);
  const uint64_t n = static_cast<uint64_t>(v.shape[dim]);
  if (dim + 1 == v.shape.size()) {
    put_u32(out, scalar);
    put_u64(out, n);
    out.write(v.bytes.data() + at, n * v.dtype.size());
    at += n * v.dtype.size();
    return;
  }
  put_u32(out, kGgufArray);
  put_u64(out, n);
  for (uint64_t i = 0; i < n; ++i) put_numbers(out, v, dim + 1, at);
}

}  // namespace

void write_gguf(Sink& out, const std::vector<std::pair<std::string, GgufValue>>& metadata,
                const std::vector<GgufEntry>& tensors, uint64_t alignment) {
  // Everything before the data is counted as it is written, to pad the data section.
  struct Counting final : Sink {
    Sink& inner;
    uint64_t n = 0;
    explicit Counting(Sink& s) : inner(s) {}
    void write(const void* p, size_t k) override {
      inner.write(p, k);
      n += k;
    }
    using Sink::write;
  } o(out);
  o.write("GGUF", 4);
  put_u32(o, 3);
  put_u64(o, tensors.size());
  put_u64(o, metadata.size());
  for (const auto& [key, v] : metadata) {
    put_string(o, key);
    switch (v.kind) {
      case GgufValue::Kind::string:
        put_u32(o, kGgufString);
        put_string(o, v.str);
        break;
      case GgufValue::Kind::strings:
        put_u32(o, kGgufArray);
        put_u32(o, kGgufString);
        put_u64(o, v.strs.size());
        for (const std::string& s : v.strs) put_string(o, s);
        break;
      case GgufValue::Kind::numbers:
        if (v.shape.empty()) {
          put_u32(o, value_type_of(v.dtype));
          o.write(v.bytes.data(), v.bytes.size());
        } else {
          put_u32(o, kGgufArray);
          size_t at = 0;
          // put_numbers writes the element type and count of each level itself.
          put_numbers(o, v, 0, at);
        }
        break;
    }
  }
  uint64_t offset = 0;
  auto padded = [&](uint64_t n) { return (n + alignment - 1) / alignment * alignment; };
  for (const GgufEntry& t : tensors) {
    put_string(o, t.name);
    put_u32(o, static_cast<uint32_t>(t.shape.size()));
    for (size_t d = t.shape.size(); d-- > 0;) put_u64(o, static_cast<uint64_t>(t.shape[d]));
    put_u32(o, t.type);
    put_u64(o, offset);
    offset += padded(t.nbytes);
  }
  o.pad_zeros(padded(o.n) - o.n);
  for (const GgufEntry& t : tensors) {
    if (t.nbytes) o.write(t.data, t.nbytes);
    o.pad_zeros(padded(t.nbytes) - t.nbytes);
  }
}

}  // namespace tessera::io_detail
