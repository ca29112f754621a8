#pragma once
// The parsers and header writers of the four formats. A parser takes untrusted bytes and
// returns validated descriptions (every offset and size inside the bytes, every shape's byte
// size computed without overflow), or throws std::runtime_error "[op] <file>: <problem>".
// They allocate nothing the bytes cannot justify. fuzz/ runs them under ASan + UBSan.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "io/io_common.hpp"

namespace tessera::io_detail {

// --- .npy ----------------------------------------------------------------------------------

// The header of a .npy file: its dtype, shape and order, where the data starts and how many
// bytes it has.
struct NpyHeader {
  Dtype dtype = float32;
  Shape shape;
  bool fortran = false;
  bool swap = false;      // stored in the other byte order than this machine's
  int version = 1;        // 1, 2 or 3
  size_t data_offset = 0; // magic + version + length field + header
  uint64_t nbytes = 0;
};

// The longest header accepted (NumPy's own reader refuses 10000 bytes by default; a header
// that describes any array Tessera can hold is far shorter).
inline constexpr size_t kMaxNpyHeader = size_t(1) << 16;

// How many bytes the preamble (magic, version, header length) says the whole header takes,
// from the first `n` bytes (at least 12, or the whole input when shorter).
size_t npy_header_length(const uint8_t* p, size_t n, const char* op, const std::string& label);
// Parses the header at p[0, n) (n >= the length above).
NpyHeader parse_npy_header(const uint8_t* p, size_t n, const char* op, const std::string& label);
// A whole .npy file: the header, and data that fills the rest exactly.
NpyHeader parse_npy(const Bytes& b, const char* op);
// NumPy's own header for `dtype`/`shape` (little-endian descr, padded to 64 bytes).
std::string npy_header(Dtype dtype, const Shape& shape, bool fortran, const char* op);

// --- .npz ----------------------------------------------------------------------------------

// One member of an .npz archive, read (and decompressed) into its own buffer.
struct NpzMember {
  std::string name;  // without ".npy"
  NpyHeader header;  // data_offset counts from `data`
  std::shared_ptr<uint8_t[]> data;
};
// Refuses a member whose declared size deflate cannot produce from its compressed size, a
// stored member whose two sizes differ, a member whose size is not what its .npy header
// describes, and archives whose members sum past `limit` bytes, before allocating anything.
std::vector<NpzMember> read_npz(const Bytes& b, size_t limit, const char* op);
struct NpzEntry {
  std::string name;  // without ".npy"
  std::string header;
  const void* data;
  size_t nbytes;
};
void write_npz(Sink& out, const std::vector<NpzEntry>& entries, bool compress, const char* op);

// --- safetensors ---------------------------------------------------------------------------

struct SafetensorsInfo {
  std::vector<TensorSpec> tensors;  // offsets from the start of the file
  std::vector<std::pair<std::string, std::string>> metadata;
};
SafetensorsInfo parse_safetensors(const Bytes& b, const char* op);
// The safetensors dtype name of `d` ("F32"), or a std::invalid_argument naming `op`.
const char* safetensors_dtype(Dtype d, const char* op);
struct SafetensorsEntry {
  std::string name;
  Dtype dtype;
  Shape shape;
  size_t nbytes;
};
// The JSON header (length prefix included, padded with spaces to a multiple of 8 bytes) for
// the entries in the order given; their data follows back to back.
std::string safetensors_header(const std::vector<SafetensorsEntry>& entries,
                               const std::vector<std::pair<std::string, std::string>>& metadata);

// --- GGUF ----------------------------------------------------------------------------------

// GGUF's value and tensor type codes (ggml's ggml_type for tensors).
enum GgufValueType : uint32_t {
  kGgufU8 = 0, kGgufI8 = 1, kGgufU16 = 2, kGgufI16 = 3, kGgufU32 = 4, kGgufI32 = 5,
  kGgufF32 = 6, kGgufBool = 7, kGgufString = 8, kGgufArray = 9, kGgufU64 = 10, kGgufI64 = 11,
  kGgufF64 = 12,
};
enum GgmlType : uint32_t {
  kGgmlF32 = 0, kGgmlF16 = 1, kGgmlQ4_0 = 2, kGgmlQ4_1 = 3, kGgmlQ8_0 = 8, kGgmlI8 = 24,
  kGgmlI16 = 25, kGgmlI32 = 26, kGgmlI64 = 27, kGgmlF64 = 28, kGgmlBF16 = 30,
};
const char* ggml_type_name(uint32_t type);  // "Q4_K"; "unknown" past the table

// A metadata value: a string, a list of strings, or numbers/bools of one dtype (0-d for a
// scalar, 1-d for an array, n-d for nested arrays of equal lengths).
struct GgufValue {
  enum class Kind { numbers, string, strings } kind = Kind::numbers;
  Dtype dtype = uint8;
  Shape shape;
  std::vector<uint8_t> bytes;  // little-endian, row-major
  std::string str;
  std::vector<std::string> strs;
};
struct GgufTensor {
  std::string name;
  uint32_t type = kGgmlF32;
  Shape shape;       // row-major (GGUF's dimensions reversed)
  size_t offset = 0; // from the start of the file
  size_t nbytes = 0;
};
struct GgufInfo {
  uint32_t version = 3;
  uint64_t alignment = 32;
  std::vector<std::pair<std::string, GgufValue>> metadata;
  std::vector<GgufTensor> tensors;
};
GgufInfo parse_gguf(const Bytes& b, const char* op);

// Q4_0 / Q4_1 / Q8_0 blocks of 32 weights as MLX's affine layout: weights packed into uint32
// (8 four-bit or 4 eight-bit values, lowest bits first), and a float16 scale and bias per
// block (w = scale * q + bias). `blocks` blocks from `src`.
void gguf_unpack_quantized(uint32_t type, const uint8_t* src, size_t blocks, uint32_t* weights,
                           uint16_t* scales, uint16_t* biases);
// Bytes per block of 32 weights, and 32-bit words of packed weights per block.
size_t gguf_block_bytes(uint32_t type);
size_t gguf_block_words(uint32_t type);

// Writes a GGUF v3 file: metadata (in the order given), then tensor infos and the data, each
// tensor padded to `alignment`.
struct GgufEntry {
  std::string name;
  uint32_t type;
  Shape shape;
  const void* data;
  size_t nbytes;
};
void write_gguf(Sink& out, const std::vector<std::pair<std::string, GgufValue>>& metadata,
                const std::vector<GgufEntry>& tensors, uint64_t alignment);

}  // namespace tessera::io_detail
