// The .npy format (NumPy's numpy/lib/format.py): magic "\x93NUMPY", a version byte pair
// (1.0, 2.0 or 3.0), a little-endian header length (2 bytes in 1.0, 4 after), and a Python
// dict literal {'descr': ..., 'fortran_order': ..., 'shape': (...), } padded with spaces and
// ended by '\n'. The reader parses that literal by hand, strictly: exactly those three keys,
// each once, plain string/bool/int-tuple values, nothing else.
#include <bit>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "io/formats.hpp"

namespace tessera::io_detail {

namespace {

constexpr uint8_t kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
constexpr bool kLittle = std::endian::native == std::endian::little;

// NumPy's type strings for Tessera's dtypes. bfloat16 has no NumPy dtype; MLX writes it as
// the 2-byte void type 'V2' and reads 'V2' back as bfloat16, and so does Tessera.
struct Descr {
  char kind;
  int size;
  Dtype dtype;
};
constexpr Descr kDescrs[] = {
    {'b', 1, bool_},   {'u', 1, uint8},   {'u', 2, uint16},  {'u', 4, uint32},
    {'u', 8, uint64},  {'i', 1, int8},    {'i', 2, int16},   {'i', 4, int32},
    {'i', 8, int64},   {'f', 2, float16}, {'f', 4, float32}, {'f', 8, float64},
    {'V', 2, bfloat16}, {'c', 8, complex64},
};

// A recursive-descent reader of the dict literal. Every loop consumes input, and the input is
// at most kMaxNpyHeader bytes, so parsing is bounded.
class HeaderParser {
 public:
  HeaderParser(std::string_view s, const char* op, const std::string& label)
      : s_(s), op_(op), label_(label) {}
  const std::vector<uint64_t>& dims() const { return dims_; }

  NpyHeader parse() {
    NpyHeader h;
    bool have_descr = false, have_order = false, have_shape = false;
    skip_spaces();
    expect('{');
    for (;;) {
      skip_spaces();
      if (peek() == '}') break;
      const std::string key = string_literal();
      skip_spaces();
      expect(':');
      skip_spaces();
      if (key == "descr") {
        if (have_descr) bad("the key 'descr' appears twice");
        have_descr = true;
        descr(string_literal(), h);
      } else if (key == "fortran_order") {
        if (have_order) bad("the key 'fortran_order' appears twice");
        have_order = true;
        h.fortran = boolean();
      } else if (key == "shape") {
        if (have_shape) bad("the key 'shape' appears twice");
        have_shape = true;
        tuple();
      } else {
        bad("unexpected key " + quote_name(key) + " (a .npy header has descr, fortran_order and shape)");
      }
      skip_spaces();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() != '}') bad("expected ',' or '}' after the value of " + quote_name(key));
    }
    ++pos_;  // '}'
    if (!have_descr || !have_order || !have_shape) {
      bad(std::string("the header lacks the key ") +
          (!have_descr ? "'descr'" : !have_order ? "'fortran_order'" : "'shape'"));
    }
    // Padding: spaces, then the final newline, and nothing else.
    while (pos_ + 1 < s_.size() && s_[pos_] == ' ') ++pos_;
    if (pos_ + 1 != s_.size() || s_[pos_] != '\n') {
      bad("the header must end with spaces and a newline after '}'");
    }
    return h;
  }

 private:
  [[noreturn]] void bad(const std::string& what) const {
    fail(op_, label_, "invalid .npy header: " + what + " (at header byte " + std::to_string(pos_) + ")");
  }
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void skip_spaces() {
    while (pos_ < s_.size() && s_[pos_] == ' ') ++pos_;
  }
  void expect(char c) {
    if (peek() != c) bad(std::string("expected '") + c + "'");
    ++pos_;
  }
  // 'text' or "text", printable ASCII without escapes.
  std::string string_literal() {
    const char q = peek();
    if (q != '\'' && q != '"') bad("expected a quoted string");
    ++pos_;
    std::string out;
    for (;;) {
      if (pos_ >= s_.size()) bad("unterminated string");
      const char c = s_[pos_++];
      if (c == q) break;
      if (c == '\\' || static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) {
        bad("unexpected character in a string");
      }
      if (out.size() >= 32) bad("string too long");
      out += c;
    }
    return out;
  }
  bool boolean() {
    if (s_.substr(pos_, 4) == "True") {
      pos_ += 4;
      return true;
    }
    if (s_.substr(pos_, 5) == "False") {
      pos_ += 5;
      return false;
    }
    bad("fortran_order must be True or False");
  }
  // (), (n,), (n, m), (n, m, ) with non-negative integers (Python 2's 3L suffix allowed).
  void tuple() {
    expect('(');
    std::vector<uint64_t> dims;
    bool comma_after_last = false;
    for (;;) {
      skip_spaces();
      if (peek() == ')') break;
      if (peek() == '-') bad("negative dimension in the shape");
      if (peek() < '0' || peek() > '9') bad("expected a dimension or ')' in the shape");
      uint64_t v = 0;
      while (peek() >= '0' && peek() <= '9') {
        if (v > (std::numeric_limits<uint64_t>::max() - 9) / 10) bad("a dimension overflows 64 bits");
        v = v * 10 + static_cast<uint64_t>(peek() - '0');
        ++pos_;
      }
      if (peek() == 'L') ++pos_;
      if (dims.size() >= 64) bad("more than 64 dimensions");
      dims.push_back(v);
      skip_spaces();
      comma_after_last = false;
      if (peek() == ',') {
        ++pos_;
        comma_after_last = true;
        continue;
      }
      if (peek() != ')') bad("expected ',' or ')' in the shape");
    }
    // Python needs the comma of a 1-tuple: "(3)" is the integer 3, not a shape.
    if (dims.size() == 1 && !comma_after_last) bad("a one-element shape needs its comma, as in (3,)");
    ++pos_;
    dims_ = std::move(dims);
  }
  void descr(const std::string& d, NpyHeader& h) {
    if (d.size() < 2) bad("unknown descr " + quote_name(d));
    size_t i = 0;
    char order = '=';
    if (d[0] == '<' || d[0] == '>' || d[0] == '|' || d[0] == '=') order = d[i++];
    const char kind = d[i++];
    int size = 0;
    for (; i < d.size(); ++i) {
      if (d[i] < '0' || d[i] > '9' || size > 1000) bad("unknown descr " + quote_name(d));
      size = size * 10 + (d[i] - '0');
    }
    for (const Descr& x : kDescrs) {
      if (x.kind == kind && x.size == size) {
        h.dtype = x.dtype;
        const bool big = order == '>' || (order != '<' && !kLittle);
        h.swap = size > 1 && big == kLittle && kind != 'b';
        return;
      }
    }
    std::string why = "descr " + quote_name(d) + " is not a dtype Tessera has";
    if (kind == 'c' && size == 16) why += " (complex128: convert to complex64 first)";
    if (kind == 'f' && size > 8) why += " (extended precision)";
    if (kind == 'U' || kind == 'S' || kind == 'O') why += " (strings and objects are not arrays of numbers)";
    fail(op_, label_, why);
  }

  std::vector<uint64_t> dims_;
  std::string_view s_;
  size_t pos_ = 0;
  const char* op_;
  const std::string& label_;
};

}  // namespace

size_t npy_header_length(const uint8_t* p, size_t n, const char* op, const std::string& label) {
  if (n < 10 || std::memcmp(p, kMagic, 6) != 0) {
    if (n >= 6 && std::memcmp(p, kMagic, 6) == 0) fail(op, label, "truncated .npy preamble");
    fail(op, label, "not a .npy file (no \\x93NUMPY magic)");
  }
  const int major = p[6], minor = p[7];
  if ((major != 1 && major != 2 && major != 3) || minor != 0) {
    fail(op, label, "unsupported .npy format version " + std::to_string(major) + "." +
                        std::to_string(minor) + " (1.0, 2.0 and 3.0 are)");
  }
  size_t len, prefix;
  if (major == 1) {
    len = size_t(p[8]) | size_t(p[9]) << 8;
    prefix = 10;
  } else {
    if (n < 12) fail(op, label, "truncated .npy preamble");
    len = size_t(p[8]) | size_t(p[9]) << 8 | size_t(p[10]) << 16 | size_t(p[11]) << 24;
    prefix = 12;
  }
  if (len > kMaxNpyHeader) {
    fail(op, label, "the .npy header claims " + std::to_string(len) + " bytes, more than the " +
                        std::to_string(kMaxNpyHeader) + " accepted");
  }
  return prefix + len;
}

NpyHeader parse_npy_header(const uint8_t* p, size_t n, const char* op, const std::string& label) {
  const size_t total = npy_header_length(p, n, op, label);
  if (total > n) {
    fail(op, label, "the .npy header needs " + std::to_string(total) + " bytes but only " +
                        std::to_string(n) + " are there (truncated?)");
  }
  const size_t prefix = p[6] == 1 ? 10 : 12;
  HeaderParser parser(std::string_view(reinterpret_cast<const char*>(p) + prefix, total - prefix), op, label);
  NpyHeader h = parser.parse();
  h.version = p[6];
  h.data_offset = total;
  h.shape = checked_file_shape(parser.dims().data(), parser.dims().size(), h.dtype.size(), op, label,
                               "the array", &h.nbytes);
  return h;
}

NpyHeader parse_npy(const Bytes& b, const char* op) {
  if (b.size == 0) fail(op, b.label, "the file is empty");
  NpyHeader h = parse_npy_header(b.data, b.size, op, b.label);
  const uint64_t have = b.size - h.data_offset;
  if (have != h.nbytes) {
    fail(op, b.label, "the header describes " + std::to_string(h.nbytes) + " data bytes (" +
                          std::string(dtype_name(h.dtype)) + " " + shape_string(h.shape) + ") but the file holds " +
                          std::to_string(have) + (have < h.nbytes ? " (truncated?)" : ""));
  }
  if (h.dtype == bool_) check_bool_bytes(b.data + h.data_offset, h.nbytes, op, b.label, "the array");
  return h;
}

std::string npy_header(Dtype dtype, const Shape& shape, bool fortran, const char* op) {
  const Descr* descr = nullptr;
  for (const Descr& x : kDescrs) {
    if (x.dtype == dtype) descr = &x;
  }
  if (!descr) throw std::invalid_argument(std::string("[") + op + "] invalid dtype");
  std::string d;
  d += descr->size == 1 ? '|' : (kLittle ? '<' : '>');
  d += descr->kind;
  d += std::to_string(descr->size);
  std::string shape_repr = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    shape_repr += (i ? ", " : "") + std::to_string(shape[i]);
  }
  if (shape.size() == 1) shape_repr += ",";
  shape_repr += ")";
  // NumPy's exact bytes: sorted keys, repr of each value, spare room for the growth axis
  // (so a file can be appended to in place), then spaces to a multiple of 64 and '\n'.
  std::string dict = "{'descr': '" + d + "', 'fortran_order': " + (fortran ? "True" : "False") +
                     ", 'shape': " + shape_repr + ", }";
  if (!shape.empty()) {
    const std::string grow = std::to_string(shape[fortran ? shape.size() - 1 : 0]);
    dict.append(21 - std::min<size_t>(21, grow.size()), ' ');
  }
  auto wrap = [&](size_t len_bytes) {
    const size_t hlen = dict.size() + 1, prefix = 8 + len_bytes;
    const size_t pad = 64 - (prefix + hlen) % 64;
    return std::pair<size_t, size_t>(hlen + pad, pad);
  };
  auto [len, pad] = wrap(2);
  int major = 1;
  if (len >= 65536) {
    std::tie(len, pad) = wrap(4);
    major = 2;
  }
  std::string out(reinterpret_cast<const char*>(kMagic), 6);
  out += static_cast<char>(major);
  out += '\0';
  for (size_t i = 0; i < (major == 1 ? 2u : 4u); ++i) out += static_cast<char>((len >> (8 * i)) & 0xff);
  out += dict;
  out.append(pad, ' ');
  out += '\n';
  return out;
}

}  // namespace tessera::io_detail
