// Malformed input for every loader: a table of corrupted files (each must raise
// std::runtime_error naming the file and the problem), and every truncation of valid files of
// each format (read from streams: the message names "<stream>"). Nothing may crash, hang or
// allocate what the file cannot justify: counts of 2^60, shapes whose product overflows and a
// member that claims 4 GiB are among the cases, and a wrong path would fail as std::bad_alloc.
#include <functional>
#include <sstream>

#include "io_util.hpp"

namespace {

using namespace tessera;
using namespace tessera::test;
using namespace tessera::test::io;

// --- byte builders ------------------------------------------------------------------------

std::string le(uint64_t v, int n) {
  std::string s(n, '\0');
  for (int i = 0; i < n; ++i) s[i] = static_cast<char>(v >> (8 * i));
  return s;
}
std::string u32(uint64_t v) { return le(v, 4); }
std::string u64(uint64_t v) { return le(v, 8); }

// A .npy file: preamble for `version`, `dict` padded to 64 bytes with '\n', then `data`.
std::string npy(const std::string& dict, const std::string& data, int version = 1, bool newline = true) {
  const size_t prefix = version == 1 ? 10 : 12;
  std::string h = dict;
  while ((prefix + h.size() + (newline ? 1 : 0)) % 64) h += ' ';
  if (newline) h += '\n';
  std::string out = std::string("\x93NUMPY", 6) + static_cast<char>(version) + '\0' + le(h.size(), version == 1 ? 2 : 4);
  return out + h + data;
}
std::string dict(const std::string& descr, const std::string& shape, const std::string& order = "False") {
  return "{'descr': '" + descr + "', 'fortran_order': " + order + ", 'shape': " + shape + ", }";
}

std::string safetensors(const std::string& json, const std::string& data) { return u64(json.size()) + json + data; }
std::string st_tensor(const std::string& name, const std::string& dtype, const std::string& shape,
                      uint64_t begin, uint64_t end) {
  return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" +
         std::to_string(begin) + "," + std::to_string(end) + "]}";
}

std::string gstr(const std::string& s) { return u64(s.size()) + s; }
std::string gguf_head(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
  return "GGUF" + u32(version) + u64(n_tensors) + u64(n_kv);
}
std::string gkv(const std::string& key, uint32_t type, const std::string& value) { return gstr(key) + u32(type) + value; }
// A tensor info with GGUF's dimension order (innermost first).
std::string ginfo(const std::string& name, std::vector<uint64_t> ne, uint32_t type, uint64_t offset) {
  std::string s = gstr(name) + u32(ne.size());
  for (uint64_t d : ne) s += u64(d);
  return s + u32(type) + u64(offset);
}
// Header + kvs + infos, padded to 32, then `data`.
std::string gguf(const std::vector<std::string>& kvs, const std::vector<std::string>& infos, const std::string& data,
                 uint32_t version = 3, size_t align = 32) {
  std::string s = gguf_head(infos.size(), kvs.size(), version);
  for (auto& k : kvs) s += k;
  for (auto& t : infos) s += t;
  while (s.size() % align) s += '\0';
  return s + data;
}
std::string f32s(size_t n) { return std::string(4 * n, '\0'); }

struct Case {
  std::string name;
  std::string ext;  // picks the loader
  std::function<std::string()> bytes;
  std::vector<std::string> expect;
};

void load_any(const fs::path& p, const std::string& ext) {
  if (ext == ".npy") load(p);
  else if (ext == ".npz") load_npz(p);
  else if (ext == ".safetensors") load_safetensors(p);
  else load_gguf(p);
}

std::string fixture(const std::string& f) { return read_file(fixture_path("io/" + f)); }

std::vector<Case> cases() {
  const std::string f4x6 = f32s(6);
  std::vector<Case> c = {
      // .npy
      {"npy_empty_file", ".npy", [] { return std::string(); }, {"empty"}},
      {"npy_bad_magic", ".npy", [=] { return std::string("\x93NUMPZ\x01\x00\x10\x00", 10) + std::string(16, ' '); }, {"not a .npy file"}},
      {"npy_version_4", ".npy", [=] { return npy(dict("<f4", "(6,)"), f4x6, 4); }, {"version 4.0"}},
      {"npy_header_past_end", ".npy", [] { return std::string("\x93NUMPY\x01\x00\xff\x7f{'descr'", 17); }, {"header needs", "truncated"}},
      {"npy_header_too_long", ".npy", [] { return std::string("\x93NUMPY\x02\x00", 8) + u32(0x7fffffff) + "{"; }, {"more than the"}},
      {"npy_missing_descr", ".npy", [=] { return npy("{'fortran_order': False, 'shape': (6,), }", f4x6); }, {"lacks the key 'descr'"}},
      {"npy_unknown_key", ".npy", [=] { return npy("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'x': 1}", f4x6); }, {"unexpected key 'x'"}},
      {"npy_duplicate_key", ".npy", [=] { return npy("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (6,)}", f4x6); }, {"'descr' appears twice"}},
      {"npy_float128", ".npy", [=] { return npy(dict("<f16", "(1,)"), std::string(16, '\0')); }, {"'<f16'", "extended precision"}},
      {"npy_unicode_dtype", ".npy", [=] { return npy(dict("<U3", "(1,)"), std::string(12, '\0')); }, {"strings and objects"}},
      {"npy_complex128", ".npy", [=] { return npy(dict("<c16", "(1,)"), std::string(16, '\0')); }, {"complex128"}},
      {"npy_structured", ".npy", [=] { return npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", f32s(1)); }, {"expected a quoted string"}},
      {"npy_negative_dim", ".npy", [=] { return npy(dict("<f4", "(-1,)"), ""); }, {"negative dimension"}},
      {"npy_dim_overflows_u64", ".npy", [=] { return npy(dict("<f4", "(99999999999999999999999,)"), ""); }, {"overflows 64 bits"}},
      {"npy_dim_past_int32", ".npy", [=] { return npy(dict("<f4", "(3000000000,)"), ""); }, {"3000000000", "int32"}},
      {"npy_shape_product_overflows", ".npy", [=] { return npy(dict("<f4", "(2147483647, 2147483647, 2147483647)"), ""); }, {"overflows 64 bits"}},
      {"npy_data_truncated", ".npy", [=] { return npy(dict("<f4", "(2, 3)"), f32s(5)); }, {"24 data bytes", "truncated"}},
      {"npy_trailing_bytes", ".npy", [=] { return npy(dict("<f4", "(2, 3)"), f32s(7)); }, {"the file holds 28"}},
      {"npy_bad_fortran_order", ".npy", [=] { return npy(dict("<f4", "(6,)", "yes"), f4x6); }, {"True or False"}},
      {"npy_no_newline", ".npy", [=] { return npy(dict("<f4", "(6,)"), f4x6, 1, false); }, {"newline"}},
      {"npy_garbage_after_dict", ".npy", [=] { return npy(dict("<f4", "(6,)") + " x", f4x6); }, {"newline"}},
      {"npy_one_tuple_without_comma", ".npy", [=] { return npy("{'descr': '<f4', 'fortran_order': False, 'shape': (6)}", f4x6); }, {"needs its comma"}},
      {"npy_unterminated_string", ".npy", [=] { return npy("{'descr: '<f4', 'fortran_order': False, 'shape': (6,)}", f4x6); }, {"invalid .npy header"}},
      {"npy_65_dims", ".npy", [=] {
         std::string s = "(";
         for (int i = 0; i < 65; ++i) s += "1, ";
         return npy(dict("<f4", s + ")"), f32s(1));
       }, {"more than 64 dimensions"}},
      {"npy_bool_byte_2", ".npy", [=] { return npy(dict("|b1", "(3,)"), std::string("\x01\x02\x00", 3)); }, {"holds byte 2"}},
      {"npy_non_ascii_header", ".npy", [=] { return npy("{'descr': '<f4\xc3\xa9', 'fortran_order': False, 'shape': (6,)}", f4x6, 3); }, {"unexpected character"}},
      // .npz
      {"npz_empty_file", ".npz", [] { return std::string(); }, {"empty"}},
      {"npz_not_a_zip", ".npz", [] { return std::string(300, 'z'); }, {"not a valid zip archive"}},
      {"npz_bomb_claims_4g", ".npz", [] { return fixture("bad/bomb_claims_4g.npz"); }, {"'x.npy'", "zip bomb"}},
      {"npz_inflates_past_size", ".npz", [] { return fixture("bad/inflates_past_size.npz"); }, {"'x.npy'"}},
      {"npz_stored_sizes_disagree", ".npz", [] { return fixture("bad/stored_sizes_disagree.npz"); }, {"'x.npy'"}},
      {"npz_bzip2_member", ".npz", [] { return fixture("bad/bzip2_member.npz"); }, {"compression method 12"}},
      {"npz_short_member", ".npz", [] { return fixture("bad/short_member.npz"); }, {"'x.npy'", "not a .npy file"}},
      {"npz_member_11_bytes", ".npz", [] { return fixture("bad/member_11_bytes.npz"); }, {"'x.npy'", "invalid .npy header"}},
      {"npz_text_member", ".npz", [] { return fixture("bad/text_member.npz"); }, {"'notes.txt' is not a .npy file"}},
      {"npz_crc_mismatch", ".npz", [] { return fixture("bad/crc_mismatch.npz"); }, {"'x.npy'", "CRC"}},
      {"npz_truncated_archive", ".npz", [] { std::string s = fixture("np_savez.npz"); return s.substr(0, s.size() / 2); }, {"not a valid zip archive"}},
      {"npz_member_header_disagrees", ".npz", [] {
         std::stringstream ss;
         savez(ss, {{"x", zeros({4}, float32)}});
         std::string s = ss.str();
         s.replace(s.find("(4,)"), 4, "(5,)");  // stored: the header text is in the archive as is
         return s;
       }, {"'x.npy' holds 16 data bytes but its header describes 20"}},
      {"npz_duplicate_member", ".npz", [] {
         std::stringstream ss;
         savez(ss, {{"aaa", zeros({1}, float32)}, {"aab", zeros({1}, float32)}});
         std::string s = ss.str();
         for (size_t at; (at = s.find("aab.npy")) != std::string::npos;) s.replace(at, 7, "aaa.npy");
         return s;
       }, {"member name twice"}},
      // safetensors
      {"st_too_short", ".safetensors", [] { return std::string("\x08\x00\x00", 3); }, {"too short"}},
      {"st_zero_header", ".safetensors", [] { return u64(0); }, {"header length is 0"}},
      {"st_header_over_limit", ".safetensors", [] { return u64(200'000'000) + "{}"; }, {"exceeds the 100000000-byte limit"}},
      {"st_header_past_end", ".safetensors", [] { return u64(1000) + "{}"; }, {"runs past the end"}},
      {"st_no_brace", ".safetensors", [] { return safetensors("[1]", ""); }, {"does not start with '{'"}},
      {"st_invalid_json", ".safetensors", [] { return safetensors("{\"a\":", ""); }, {"JSON header is invalid"}},
      {"st_non_utf8", ".safetensors", [] { return safetensors("{\"__metadata__\":{\"k\":\"\xff\xfe\"}}", ""); }, {"JSON header is invalid"}},
      {"st_deep_nesting", ".safetensors", [] { return safetensors("{\"a\":" + std::string(100000, '['), ""); }, {"nests deeper than 8"}},
      {"st_duplicate_tensor", ".safetensors", [] {
         return safetensors("{" + st_tensor("w", "F32", "[1]", 0, 4) + "," + st_tensor("w", "F32", "[1]", 4, 8) + "}", f32s(2));
       }, {"key 'w' twice"}},
      {"st_entry_not_object", ".safetensors", [] { return safetensors("{\"a\":1}", ""); }, {"tensor 'a' is not an object"}},
      {"st_unknown_dtype", ".safetensors", [] { return safetensors("{" + st_tensor("w", "F4", "[1]", 0, 4) + "}", f32s(1)); }, {"dtype 'F4'"}},
      {"st_negative_dim", ".safetensors", [] { return safetensors("{" + st_tensor("w", "F32", "[-1]", 0, 4) + "}", f32s(1)); }, {"non-negative integer"}},
      {"st_fractional_dim", ".safetensors", [] { return safetensors("{" + st_tensor("w", "F32", "[2.5]", 0, 4) + "}", f32s(1)); }, {"non-negative integer"}},
      {"st_dim_past_int32", ".safetensors", [] { return safetensors("{" + st_tensor("w", "U8", "[4294967296]", 0, 4) + "}", f32s(1)); }, {"int32"}},
      {"st_product_overflows", ".safetensors", [] {
         return safetensors("{" + st_tensor("w", "F64", "[2147483647,2147483647,2147483647]", 0, 8) + "}", f32s(2));
       }, {"overflows 64 bits"}},
      {"st_offsets_backwards", ".safetensors", [] { return safetensors("{" + st_tensor("w", "F32", "[1]", 4, 0) + "}", f32s(1)); }, {"run backwards"}},
      {"st_offsets_past_end", ".safetensors", [] { return safetensors("{" + st_tensor("w", "F32", "[4]", 0, 16) + "}", f32s(1)); }, {"past the end"}},
      {"st_size_mismatch", ".safetensors", [] { return safetensors("{" + st_tensor("w", "F32", "[2]", 0, 4) + "}", f32s(1)); }, {"8 bytes, but its data_offsets span 4"}},
      {"st_overlap", ".safetensors", [] {
         return safetensors("{" + st_tensor("a", "F32", "[2]", 0, 8) + "," + st_tensor("b", "F32", "[2]", 4, 12) + "}", f32s(3));
       }, {"'a' and 'b' overlap"}},
      {"st_hole", ".safetensors", [] {
         return safetensors("{" + st_tensor("a", "F32", "[1]", 0, 4) + "," + st_tensor("b", "F32", "[1]", 8, 12) + "}", f32s(3));
       }, {"belong to no tensor"}},
      {"st_trailing_bytes", ".safetensors", [] { return safetensors("{" + st_tensor("a", "F32", "[1]", 0, 4) + "}", f32s(2)); }, {"tensors cover 4"}},
      {"st_metadata_not_string", ".safetensors", [] { return safetensors("{\"__metadata__\":{\"k\":1}}", ""); }, {"'k' is not a string"}},
      {"st_metadata_not_object", ".safetensors", [] { return safetensors("{\"__metadata__\":[]}", ""); }, {"__metadata__ is not an object"}},
      {"st_unknown_field", ".safetensors", [] {
         return safetensors("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":0}}", f32s(1));
       }, {"unknown field 'x'"}},
      {"st_missing_offsets", ".safetensors", [] { return safetensors("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", f32s(1)); }, {"no \"data_offsets\""}},
      {"st_three_offsets", ".safetensors", [] {
         return safetensors("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", f32s(1));
       }, {"two non-negative integers"}},
      {"st_bool_byte_7", ".safetensors", [] { return safetensors("{" + st_tensor("m", "BOOL", "[2]", 0, 2) + "}", "\x01\x07"); }, {"holds byte 7"}},
      // GGUF
      {"gguf_bad_magic", ".gguf", [] { return "GGUG" + u32(3) + u64(0) + u64(0); }, {"not a GGUF file"}},
      {"gguf_version_1", ".gguf", [] { return gguf_head(0, 0, 1); }, {"version 1 is not supported"}},
      {"gguf_version_99", ".gguf", [] { return gguf_head(0, 0, 99); }, {"unknown GGUF version 99"}},
      {"gguf_big_endian", ".gguf", [] { return gguf_head(0, 0, 0x03000000); }, {"big-endian"}},
      {"gguf_truncated_header", ".gguf", [] { return std::string("GGUF\x03\x00", 6); }, {"the version", "truncated"}},
      {"gguf_tensor_count_2_60", ".gguf", [] { return gguf_head(uint64_t(1) << 60, 0); }, {"tensor count 1152921504606846976"}},
      {"gguf_kv_count_2_60", ".gguf", [] { return gguf_head(0, uint64_t(1) << 60); }, {"metadata count 1152921504606846976"}},
      {"gguf_key_length_2_62", ".gguf", [] { return gguf_head(0, 1) + u64(uint64_t(1) << 62) + "abcdefgh"; }, {"a metadata key", "needs"}},
      {"gguf_array_count_2_60", ".gguf", [] { return gguf({gkv("a", 9, u32(4) + u64(uint64_t(1) << 60))}, {}, ""); }, {"'a' claims 1152921504606846976 elements"}},
      {"gguf_string_array_2_60", ".gguf", [] { return gguf({gkv("a", 9, u32(8) + u64(uint64_t(1) << 60))}, {}, ""); }, {"strings"}},
      {"gguf_nested_array_2_60", ".gguf", [] { return gguf({gkv("a", 9, u32(9) + u64(uint64_t(1) << 60))}, {}, ""); }, {"arrays, more than"}},
      {"gguf_nesting_too_deep", ".gguf", [] {
         std::string v;
         for (int i = 0; i < 20; ++i) v += u32(9) + u64(1);
         return gguf({gkv("a", 9, v + u32(4) + u64(0))}, {}, "");
       }, {"deeper than 8"}},
      {"gguf_ragged_nested", ".gguf", [] {
         return gguf({gkv("a", 9, u32(9) + u64(2) + u32(4) + u64(1) + u32(7) + u32(4) + u64(2) + u32(1) + u32(2))}, {}, "");
       }, {"ragged"}},
      {"gguf_nested_strings", ".gguf", [] { return gguf({gkv("a", 9, u32(9) + u64(1) + u32(8) + u64(1) + gstr("x"))}, {}, ""); }, {"strings"}},
      {"gguf_unknown_value_type", ".gguf", [] { return gguf({gkv("a", 99, u32(0))}, {}, ""); }, {"unknown value type 99"}},
      {"gguf_bool_value_2", ".gguf", [] { return gguf({gkv("a", 7, std::string("\x02", 1))}, {}, ""); }, {"holds byte 2"}},
      {"gguf_duplicate_key", ".gguf", [] { return gguf({gkv("a", 4, u32(1)), gkv("a", 4, u32(2))}, {}, ""); }, {"key 'a' appears twice"}},
      {"gguf_alignment_not_pow2", ".gguf", [] { return gguf({gkv("general.alignment", 4, u32(48))}, {}, ""); }, {"power of two"}},
      {"gguf_alignment_wrong_type", ".gguf", [] { return gguf({gkv("general.alignment", 10, u64(32))}, {}, ""); }, {"uint32 power of two"}},
      {"gguf_9_dims", ".gguf", [] { return gguf({}, {ginfo("t", std::vector<uint64_t>(9, 1), 0, 0)}, f32s(8)); }, {"'t' has 9 dimensions"}},
      {"gguf_dim_past_int32", ".gguf", [] { return gguf({}, {ginfo("t", {uint64_t(1) << 33}, 0, 0)}, f32s(8)); }, {"int32"}},
      {"gguf_dims_overflow", ".gguf", [] {
         return gguf({}, {ginfo("t", {2147483647, 2147483647, 2147483647}, 0, 0)}, f32s(8));
       }, {"overflows 64 bits"}},
      {"gguf_unsupported_q4_k", ".gguf", [] { return gguf({}, {ginfo("t", {256}, 12, 0)}, std::string(144, '\0')); }, {"Q4_K"}},
      {"gguf_unknown_type", ".gguf", [] { return gguf({}, {ginfo("t", {4}, 1000, 0)}, f32s(8)); }, {"type unknown (1000)"}},
      {"gguf_quant_inner_dim_30", ".gguf", [] { return gguf({}, {ginfo("t", {30, 2}, 8, 0)}, std::string(68, '\0')); }, {"not a multiple of the 32"}},
      {"gguf_offset_unaligned", ".gguf", [] { return gguf({}, {ginfo("t", {2}, 0, 4)}, f32s(8)); }, {"not a multiple of the alignment"}},
      {"gguf_offset_past_end", ".gguf", [] { return gguf({}, {ginfo("t", {8}, 0, 64)}, f32s(8)); }, {"runs past the end"}},
      {"gguf_offset_2_63", ".gguf", [] { return gguf({}, {ginfo("t", {8}, 0, uint64_t(1) << 63)}, f32s(8)); }, {"runs past the end"}},
      {"gguf_data_truncated", ".gguf", [] { return gguf({}, {ginfo("t", {8}, 0, 0)}, f32s(7)); }, {"'t' (32 bytes", "truncated"}},
      {"gguf_overlap", ".gguf", [] {
         return gguf({}, {ginfo("a", {16}, 0, 0), ginfo("b", {8}, 0, 32)}, f32s(24));
       }, {"'a' and 'b' overlap"}},
      {"gguf_duplicate_tensor", ".gguf", [] {
         return gguf({}, {ginfo("a", {8}, 0, 0), ginfo("a", {8}, 0, 32)}, f32s(16));
       }, {"tensor name 'a' appears twice"}},
      {"gguf_quant_name_clash", ".gguf", [] {
         return gguf({}, {ginfo("w.weight", {32}, 8, 0), ginfo("w.scales", {1}, 0, 64)}, std::string(68, '\0'));
       }, {"'w.scales' appears twice"}},
  };
  return c;
}

class IoMalformed : public TempDir {};

TEST_F(IoMalformed, EveryCorruptionRaisesAClearError) {
  const auto table = cases();
  ASSERT_GE(table.size(), 60u);
  for (const Case& c : table) {
    SCOPED_TRACE(c.name);
    if (c.ext == ".npz" && !TESSERA_HAS_ZIP) continue;
    if (c.ext == ".safetensors" && !TESSERA_HAS_JSON) continue;
    const fs::path p = path(c.name + c.ext);
    std::string bytes;
    try {
      bytes = c.bytes();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "building the case failed: " << e.what();
      continue;
    }
    write_file(p, bytes);
    std::vector<std::string> parts = c.expect;
    parts.push_back(p.string());
    EXPECT_TRUE(throws_with<std::runtime_error>([&] { load_any(p, c.ext); }, parts));
  }
}

TEST_F(IoMalformed, PathsThatAreNotFiles) {
  EXPECT_TRUE(throws_with<std::runtime_error>([&] { load(path("missing.npy")); }, {"missing.npy", "cannot open"}));
  EXPECT_TRUE(throws_with<std::runtime_error>([&] { load_gguf(dir_); }, {dir_.string(), "not a regular file"}));
  if (TESSERA_HAS_JSON) {
    EXPECT_TRUE(throws_with<std::runtime_error>([&] { load_safetensors(fs::path("/dev/zero")); }, {"/dev/zero", "not a regular file"}));
  }
}

// The total limit caps what an archive may decompress to, before any member is inflated.
TEST_F(IoMalformed, NpzTotalLimit) {
  if (!TESSERA_HAS_ZIP) GTEST_SKIP() << "built without libzip";
  savez_compressed(path("z.npz"), {{"a", zeros({1000}, float32)}, {"b", zeros({1000}, float32)}});
  const size_t old = set_npz_limit(5000);
  auto r = throws_with<std::runtime_error>([&] { load_npz(path("z.npz")); }, {"z.npz", "limit of 5000"});
  set_npz_limit(old);
  EXPECT_TRUE(r);
  EXPECT_EQ(load_npz(path("z.npz")).size(), 2u);
}

// Every prefix of a valid file is refused (from a stream, so the message names "<stream>"),
// except a GGUF cut inside the padding after its last tensor, which is still whole.
void every_truncation(const std::string& bytes, const std::function<void(std::istream&)>& loader, size_t whole_from,
                      size_t step = 1) {
  for (size_t k = 0; k < bytes.size(); k += step) {
    std::stringstream ss(bytes.substr(0, k));
    try {
      loader(ss);
      EXPECT_GE(k, whole_from) << "a " << k << "-byte prefix of " << bytes.size() << " bytes loaded";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("<stream>"), std::string::npos) << e.what();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "prefix " << k << " threw another exception type: " << e.what();
    }
  }
}

TEST_F(IoMalformed, EveryTruncation) {
  const std::string n = fixture("np_fortran_f4.npy");
  every_truncation(n, [](std::istream& in) { load(in); }, n.size());
  const std::string g = fixture("ref.gguf");
  every_truncation(g, [](std::istream& in) { load_gguf(in); }, g.size() - 31);
  if (TESSERA_HAS_JSON) {
    const std::string s = fixture("torch.safetensors");
    every_truncation(s, [](std::istream& in) { load_safetensors(in); }, s.size());
  }
  if (TESSERA_HAS_ZIP) {
    const std::string z = fixture("np_savez_compressed.npz");
    every_truncation(z, [](std::istream& in) { load_npz(in); }, z.size(), 3);
  }
}

// Flipping single bytes of valid files: each result loads or raises a runtime_error, never
// anything else (a cheap, deterministic cousin of the fuzzers in fuzz/).
TEST_F(IoMalformed, SingleByteFlips) {
  struct F {
    std::string file;
    std::function<void(std::istream&)> loader;
    bool on;
  };
  const std::vector<F> files = {
      {"np_fortran_f4.npy", [](std::istream& in) { load(in); }, true},
      {"ref.gguf", [](std::istream& in) { load_gguf(in); }, true},
      {"torch.safetensors", [](std::istream& in) { load_safetensors(in); }, TESSERA_HAS_JSON != 0},
      {"np_savez.npz", [](std::istream& in) { load_npz(in); }, TESSERA_HAS_ZIP != 0},
  };
  for (const F& f : files) {
    if (!f.on) continue;
    const std::string bytes = fixture(f.file);
    for (size_t k = 0; k < bytes.size(); ++k) {
      for (unsigned char x : {0x01, 0x80, 0xff}) {
        std::string b = bytes;
        b[k] = static_cast<char>(b[k] ^ x);
        std::stringstream ss(b);
        try {
          f.loader(ss);
        } catch (const std::runtime_error&) {
        } catch (const std::exception& e) {
          ADD_FAILURE() << f.file << " byte " << k << " ^ " << int(x) << ": " << e.what();
        }
      }
    }
  }
}

}  // namespace
