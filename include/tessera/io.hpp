#pragma once
// Loading and saving arrays: NumPy's .npy and .npz, safetensors and GGUF, with MLX's mlx/io.h
// signatures (docs/io.md has the formats, the limits and what differs from MLX).
//
// Loaded arrays are evaluated and reference the file's bytes: a file is memory-mapped, and an
// array's buffer points into the mapping (kept alive by the arrays), so loading a multi-GB
// safetensors or GGUF file reads nothing until an array is used. An array used on the GPU is
// uploaded once, from the mapping, the first time a kernel reads it. Bytes are copied only
// where they must change: another byte order, a misaligned offset, a compressed .npz member,
// GGUF's quantized blocks (unpacked into MLX's layout).
//
// Malformed files throw std::runtime_error "[op] <file or <stream>>: <problem>"; arguments the
// formats cannot hold (a dtype, a name) throw std::invalid_argument. Writers to a path are
// atomic: they write a temporary file beside the target, fsync it and rename it over the
// target, so a failed or interrupted save leaves the old file (or none) in place.
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "tessera/core/array.hpp"
#include "tessera/core/device.hpp"

namespace tessera {

using GGUFMetaData = std::variant<std::monostate, array, std::string, std::vector<std::string>>;
using GGUFLoad = std::pair<std::unordered_map<std::string, array>,
                           std::unordered_map<std::string, GGUFMetaData>>;
using SafetensorsLoad = std::pair<std::unordered_map<std::string, array>,
                                  std::unordered_map<std::string, std::string>>;

// --- .npy (MLX's save / load) ---------------------------------------------------------------
// Every dtype; bfloat16 is written as NumPy's 2-byte void type '<V2' and read back, as MLX
// does. C and Fortran order, either byte order and format versions 1.0, 2.0 and 3.0 on read.
// save() appends ".npy" to a path without it (as MLX and np.save).
void save(const std::filesystem::path& file, array a);
void save(std::ostream& out, array a);
array load(const std::filesystem::path& file, StreamOrDevice s = {});
// Reads one array and leaves the stream just past it (arrays saved one after another into a
// stream load back one by one, as with np.load on an open file).
array load(std::istream& in, StreamOrDevice s = {});

// --- any format -----------------------------------------------------------------------------
enum class Format { npy, npz, safetensors, gguf };
// The format a path's extension names (.npy, .npz, .safetensors, .gguf), if any.
std::optional<Format> format_of(const std::filesystem::path& file);
using LoadResult = std::variant<array, std::unordered_map<std::string, array>>;
// A .npy file gives an array, the others a name -> array map; `format` nullopt: by extension.
LoadResult load(const std::filesystem::path& file, std::optional<Format> format, StreamOrDevice s = {});
struct LoadWithMetadata {
  std::unordered_map<std::string, array> arrays;
  // safetensors' __metadata__ strings, or GGUF's metadata; empty for .npz.
  std::unordered_map<std::string, GGUFMetaData> metadata;
};
// mx.load(file, return_metadata=True): .safetensors, .gguf (and .npz, without metadata).
LoadWithMetadata load_with_metadata(const std::filesystem::path& file, StreamOrDevice s = {});

// --- .npz -----------------------------------------------------------------------------------
// np.savez / np.savez_compressed: `named` arrays as "<name>.npy" members and `positional` ones
// as "arr_0.npy", "arr_1.npy", ... (NumPy's names; a named array called arr_<i> that clashes
// is refused, as NumPy does). ".npz" is appended to a path without it.
void savez(const std::filesystem::path& file, const std::unordered_map<std::string, array>& named,
           const std::vector<array>& positional = {});
void savez(std::ostream& out, const std::unordered_map<std::string, array>& named,
           const std::vector<array>& positional = {});
void savez_compressed(const std::filesystem::path& file,
                      const std::unordered_map<std::string, array>& named,
                      const std::vector<array>& positional = {});
void savez_compressed(std::ostream& out, const std::unordered_map<std::string, array>& named,
                      const std::vector<array>& positional = {});
// Member names without ".npy". Stored and deflated members; see set_npz_limit.
std::unordered_map<std::string, array> load_npz(const std::filesystem::path& file, StreamOrDevice s = {});
std::unordered_map<std::string, array> load_npz(std::istream& in, StreamOrDevice s = {});
// The most bytes the members of one .npz may decompress to in total (default 64 GiB); returns
// the previous limit. Each member must also be no larger than its compressed size allows.
size_t set_npz_limit(size_t bytes);

// --- safetensors ----------------------------------------------------------------------------
// Every safetensors dtype Tessera has (BOOL, U8..U64, I8..I64, F16, BF16, F32, F64, and C64 as
// MLX writes it); F8_E4M3, F8_E5M2 and F8_E8M0 load as their raw uint8 bytes (as MLX).
// save_safetensors appends ".safetensors" to a path without it.
SafetensorsLoad load_safetensors(const std::filesystem::path& file, StreamOrDevice s = {});
SafetensorsLoad load_safetensors(std::istream& in, StreamOrDevice s = {});
void save_safetensors(const std::filesystem::path& file, std::unordered_map<std::string, array> arrays,
                      std::unordered_map<std::string, std::string> metadata = {});
void save_safetensors(std::ostream& out, std::unordered_map<std::string, array> arrays,
                      std::unordered_map<std::string, std::string> metadata = {});

// --- GGUF -----------------------------------------------------------------------------------
// Versions 2 and 3. Tensors F32, F16, BF16, F64, I8, I16, I32, I64; Q4_0, Q4_1 and Q8_0 load
// as MLX loads them: "<name>" packed uint32 weights, "<prefix>.scales" and "<prefix>.biases"
// float16 (prefix: the name without ".weight"), group size 32; other quantized types are
// refused, naming the type. Metadata: numbers and bools as 0-d arrays (scalars) or 1-d arrays,
// equal-length nested arrays as n-d arrays, strings and lists of strings. save_gguf writes v3
// with general.alignment (a 0-d uint32 in `metadata`, default 32); appends ".gguf".
GGUFLoad load_gguf(const std::filesystem::path& file, StreamOrDevice s = {});
GGUFLoad load_gguf(std::istream& in, StreamOrDevice s = {});
void save_gguf(const std::filesystem::path& file, std::unordered_map<std::string, array> arrays,
               std::unordered_map<std::string, GGUFMetaData> metadata = {});
void save_gguf(std::ostream& out, std::unordered_map<std::string, array> arrays,
               std::unordered_map<std::string, GGUFMetaData> metadata = {});

}  // namespace tessera
