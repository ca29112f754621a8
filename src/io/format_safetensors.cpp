// safetensors (huggingface/safetensors, docs/source/metadata_parsing.mdx): an 8-byte
// little-endian header length N, N bytes of UTF-8 JSON (an object: tensor name ->
// {"dtype", "shape", "data_offsets": [begin, end]}, plus an optional "__metadata__" object of
// strings), then the data buffer. The checks are those of the reference Rust reader: the
// header at most 100 MB and starting with '{', offsets inside the buffer, each tensor's byte
// count exactly its shape's, and the tensors tiling the buffer with no overlap and no hole.
// On top: duplicate keys, unknown fields and JSON nested past what the format needs are
// refused (nlohmann-json would otherwise keep the last duplicate silently).
#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <unordered_set>
#include <vector>

#include "io/formats.hpp"
#include "tessera/config.hpp"

#if TESSERA_HAS_JSON
#include <nlohmann/json.hpp>
#endif

namespace tessera::io_detail {

namespace {

struct StDtype {
  const char* name;
  Dtype dtype;
};
// C64 is not in the spec yet (huggingface/safetensors#389) but MLX reads and writes it. The
// 8-bit float types load as their raw uint8 bytes, as MLX does (Tessera has no fp8 dtype).
constexpr StDtype kStDtypes[] = {
    {"BOOL", bool_},    {"U8", uint8},    {"I8", int8},       {"U16", uint16}, {"I16", int16},
    {"U32", uint32},    {"I32", int32},   {"U64", uint64},    {"I64", int64},  {"F16", float16},
    {"BF16", bfloat16}, {"F32", float32}, {"F64", float64},   {"C64", complex64},
    {"F8_E4M3", uint8}, {"F8_E5M2", uint8}, {"F8_E8M0", uint8},
};

constexpr uint64_t kMaxHeader = 100'000'000;  // the Rust reader's limit
constexpr int kMaxDepth = 8;                  // the format needs 3 (root, tensor, shape)

}  // namespace

const char* safetensors_dtype(Dtype d, const char* op) {
  for (const StDtype& x : kStDtypes) {
    if (x.dtype == d) return x.name;  // uint8 finds U8 first
  }
  throw std::invalid_argument(std::string("[") + op + "] invalid dtype");
}

#if TESSERA_HAS_JSON

using json = nlohmann::json;

namespace {

// Rejects duplicate keys and deep nesting while nlohmann's (iterative) parser runs: the
// callback sees every object start/end and key, so a 100 MB "[[[[..." stops at level 9.
class Guard {
 public:
  Guard(const char* op, const std::string& label) : op_(op), label_(label) {}
  bool operator()(int /*depth*/, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (static_cast<int>(stack_.size()) >= kMaxDepth) {
          fail(op_, label_, "the JSON header nests deeper than " + std::to_string(kMaxDepth) + " levels");
        }
        stack_.emplace_back();
        stack_.back().is_object = event == json::parse_event_t::object_start;
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        if (!stack_.empty()) stack_.pop_back();
        break;
      case json::parse_event_t::key: {
        if (stack_.empty() || !stack_.back().is_object) break;
        const std::string& k = parsed.get_ref<const std::string&>();
        if (!stack_.back().keys.insert(k).second) {
          fail(op_, label_, "the JSON header has the key " + quote_name(k) + " twice");
        }
        break;
      }
      default:
        break;
    }
    return true;
  }

 private:
  struct Level {
    bool is_object = false;
    std::unordered_set<std::string> keys;
  };
  const char* op_;
  const std::string& label_;
  std::vector<Level> stack_;
};

}  // namespace

SafetensorsInfo parse_safetensors(const Bytes& b, const char* op) {
  if (b.size < 8) {
    fail(op, b.label, "the file is " + std::to_string(b.size) +
                          " bytes, too short for the 8-byte header length");
  }
  Cursor c(b.data, b.size, op, b.label);
  const uint64_t n = c.u64("the header length");
  if (n == 0) fail(op, b.label, "the header length is 0");
  if (n > kMaxHeader) {
    fail(op, b.label, "the header length " + std::to_string(n) + " exceeds the " +
                          std::to_string(kMaxHeader) + "-byte limit");
  }
  if (n > c.remaining()) {
    fail(op, b.label, "the header length " + std::to_string(n) + " runs past the end of the file (" +
                          std::to_string(b.size) + " bytes; truncated?)");
  }
  const char* text = reinterpret_cast<const char*>(b.data + 8);
  if (text[0] != '{') fail(op, b.label, "the JSON header does not start with '{'");

  json root;
  try {
    Guard guard(op, b.label);
    // The guard is copied into the parser; it only needs to live for this call.
    root = json::parse(text, text + n, std::ref(guard), /*allow_exceptions=*/true,
                       /*ignore_comments=*/false);
  } catch (const json::exception& e) {
    fail(op, b.label, std::string("the JSON header is invalid: ") + e.what());
  }
  if (!root.is_object()) fail(op, b.label, "the JSON header is not an object");

  const uint64_t data_start = 8 + n;
  const uint64_t data_size = b.size - data_start;
  SafetensorsInfo info;
  struct Span {
    uint64_t begin, end;
    size_t index;
  };
  std::vector<Span> spans;
  for (auto it = root.begin(); it != root.end(); ++it) {
    const std::string& key = it.key();
    const json& v = it.value();
    if (key == "__metadata__") {
      if (!v.is_object()) fail(op, b.label, "__metadata__ is not an object");
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string()) {
          fail(op, b.label, "__metadata__ value of " + quote_name(m.key()) + " is not a string");
        }
        info.metadata.emplace_back(m.key(), m.value().get<std::string>());
      }
      continue;
    }
    const std::string what = "tensor " + quote_name(key);
    if (!v.is_object()) fail(op, b.label, what + " is not an object");
    for (auto f = v.begin(); f != v.end(); ++f) {
      if (f.key() != "dtype" && f.key() != "shape" && f.key() != "data_offsets") {
        fail(op, b.label, what + " has the unknown field " + quote_name(f.key()));
      }
    }
    auto field = [&](const char* name) -> const json& {
      auto f = v.find(name);
      if (f == v.end()) fail(op, b.label, what + " has no \"" + name + "\"");
      return *f;
    };
    const json& jd = field("dtype");
    const json& js = field("shape");
    const json& jo = field("data_offsets");
    if (!jd.is_string()) fail(op, b.label, what + ": dtype is not a string");
    const std::string& dname = jd.get_ref<const std::string&>();
    const StDtype* dt = nullptr;
    for (const StDtype& x : kStDtypes) {
      if (dname == x.name) dt = &x;
    }
    if (!dt) fail(op, b.label, what + " has dtype " + quote_name(dname) + ", which Tessera does not load");
    if (!js.is_array()) fail(op, b.label, what + ": shape is not a list");
    if (js.size() > 64) fail(op, b.label, what + " has " + std::to_string(js.size()) + " dimensions");
    std::vector<uint64_t> dims;
    for (const json& d : js) {
      if (!d.is_number_unsigned()) fail(op, b.label, what + ": shape " + js.dump() + " has an entry that is not a non-negative integer");
      dims.push_back(d.get<uint64_t>());
    }
    TensorSpec t;
    t.name = key;
    t.dtype = dt->dtype;
    uint64_t nbytes = 0;
    t.shape = checked_file_shape(dims.data(), dims.size(), t.dtype.size(), op, b.label, what, &nbytes);
    if (!jo.is_array() || jo.size() != 2 || !jo[0].is_number_unsigned() || !jo[1].is_number_unsigned()) {
      fail(op, b.label, what + ": data_offsets must be two non-negative integers");
    }
    const uint64_t begin = jo[0].get<uint64_t>(), end = jo[1].get<uint64_t>();
    if (begin > end) {
      fail(op, b.label, what + " has data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) + ") that run backwards");
    }
    if (end > data_size) {
      fail(op, b.label, what + " has data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                            ") past the end of the " + std::to_string(data_size) + "-byte data buffer (truncated?)");
    }
    if (end - begin != nbytes) {
      fail(op, b.label, what + " is " + dname + " " + shape_string(t.shape) + ", " + std::to_string(nbytes) +
                            " bytes, but its data_offsets span " + std::to_string(end - begin));
    }
    t.offset = static_cast<size_t>(data_start + begin);
    t.nbytes = static_cast<size_t>(nbytes);
    if (t.dtype == bool_) check_bool_bytes(b.data + t.offset, t.nbytes, op, b.label, what);
    spans.push_back({begin, end, info.tensors.size()});
    info.tensors.push_back(std::move(t));
  }
  // The tensors must tile the buffer: sorted by offset, each starts where the last ended.
  std::sort(spans.begin(), spans.end(), [](const Span& x, const Span& y) {
    return x.begin != y.begin ? x.begin < y.begin : x.end < y.end;
  });
  uint64_t at = 0;
  for (size_t i = 0; i < spans.size(); ++i) {
    const Span& s = spans[i];
    if (s.begin < at) {
      fail(op, b.label, "tensors " + quote_name(info.tensors[spans[i - 1].index].name) + " and " +
                            quote_name(info.tensors[s.index].name) + " overlap (bytes [" +
                            std::to_string(s.begin) + ", " + std::to_string(at) + ") of the data buffer)");
    }
    if (s.begin > at) {
      fail(op, b.label, "bytes [" + std::to_string(at) + ", " + std::to_string(s.begin) +
                            ") of the data buffer belong to no tensor");
    }
    at = s.end;
  }
  if (at != data_size) {
    fail(op, b.label, "the data buffer is " + std::to_string(data_size) + " bytes but the tensors cover " +
                          std::to_string(at));
  }
  return info;
}

std::string safetensors_header(const std::vector<SafetensorsEntry>& entries,
                               const std::vector<std::pair<std::string, std::string>>& metadata) {
  json root = json::object();
  if (!metadata.empty()) {
    json m = json::object();
    for (auto& [k, v] : metadata) m[k] = v;
    root["__metadata__"] = std::move(m);
  }
  uint64_t offset = 0;
  for (const SafetensorsEntry& e : entries) {
    json t = json::object();
    t["dtype"] = safetensors_dtype(e.dtype, "save_safetensors");
    json shape = json::array();
    for (int32_t d : e.shape) shape.push_back(d);
    t["shape"] = std::move(shape);
    t["data_offsets"] = json::array({offset, offset + e.nbytes});
    offset += e.nbytes;
    root[e.name] = std::move(t);
  }
  // Invalid UTF-8 in a name or value is an error, not silently replaced.
  std::string text = root.dump(-1, ' ', false, json::error_handler_t::strict);
  // Spaces to a multiple of 8 after the length prefix, as the Rust writer pads: the data
  // buffer then starts aligned, and so does every tensor of the ordering io.cpp uses.
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  const uint64_t n = text.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + text;
}

#else  // !TESSERA_HAS_JSON

SafetensorsInfo parse_safetensors(const Bytes&, const char* op) {
  throw std::runtime_error(std::string("[") + op +
                           "] this build of Tessera has no safetensors support: install "
                           "nlohmann-json3-dev and reconfigure");
}
std::string safetensors_header(const std::vector<SafetensorsEntry>&,
                               const std::vector<std::pair<std::string, std::string>>&) {
  throw std::runtime_error(
      "[save_safetensors] this build of Tessera has no safetensors support: install "
      "nlohmann-json3-dev and reconfigure");
}

#endif

}  // namespace tessera::io_detail
