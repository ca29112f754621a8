// IO (tessera/io.hpp): round trips of every dtype through .npy, .npz, safetensors and GGUF on
// every device; files written by NumPy, PyTorch (safetensors by the spec) and a reference GGUF
// writer (tests/fixtures/io/, from gen_io.py); streams, dispatch by extension, memory-mapped
// loading and atomic writes. Malformed input is io_malformed_test.cpp.
#include <sys/resource.h>

#include <csignal>
#include <sstream>

#include "io_util.hpp"
#include "mlx/io.h"
#if TESSERA_HAS_VULKAN
#include "tessera/backend/vulkan/runtime.hpp"
#endif

namespace {

using namespace tessera;
using namespace tessera::test;
using namespace tessera::test::io;

// On the device under test: a copy made there (a GPU buffer on the GPU), so saving reads a
// device array back and loading is checked by a kernel that reads the loaded buffer.
array on_device(const array& a) { return contiguous(a); }

std::vector<Shape> shapes() { return {{2, 3}, {}, {0, 3}, {5}, {2, 1, 3, 2}}; }

#define SKIP_WITHOUT(flag, pkg) \
  if (!(flag)) GTEST_SKIP() << "built without " pkg

class IoNpy : public TempDir {};
class IoNpz : public TempDir {};
class IoSafetensors : public TempDir {};
class IoGguf : public TempDir {};
class IoApi : public TempDir {};

TEST_F(IoNpy, RoundTripsEveryDtypeAndLayout) {
  for_each_device([&](Device) {
    unsigned seed = 1;
    for (Dtype dt : all_dtypes) {
      for (const Shape& shape : shapes()) {
        SCOPED_TRACE(std::string(dtype_name(dt)) + " " + shape_string(shape));
        array a = on_device(sample(dt, shape, seed++));
        save(path("a.npy"), a);
        array b = load(path("a.npy"));
        EXPECT_TRUE(same_array(b, a));
        EXPECT_TRUE(same_array(on_device(b), a));
      }
      // Fortran order (a transposed view is column-major: written as is, read back as is) and
      // a strided view (copied to row-major).
      array m = on_device(sample(dt, {3, 4}, seed++));
      save(path("t.npy"), transpose(m));
      array t = load(path("t.npy"));
      EXPECT_TRUE(t.flags().col_contiguous && !t.flags().row_contiguous);
      EXPECT_TRUE(same_array(t, transpose(m)));
      EXPECT_TRUE(same_array(on_device(t), transpose(m)));
      array s = slice(m, {0, 0}, {3, 4}, {2, 3});
      save(path("s"), s);  // ".npy" appended
      EXPECT_TRUE(same_array(load(path("s.npy")), s));
    }
  });
}

TEST_F(IoNpy, ReadsNumPyFiles) {
  std::vector<Expected> recs;
  for (auto& e : expected_records()) {
    if (e.file.size() > 4 && e.file.substr(e.file.size() - 4) == ".npy") recs.push_back(e);
  }
  ASSERT_GE(recs.size(), 25u);
  for_each_device([&](Device) {
    for (const Expected& e : recs) {
      array a = load(fixture_path("io/" + e.file));
      EXPECT_TRUE(matches(a, e));
      EXPECT_TRUE(matches(on_device(a), e));
    }
  });
  EXPECT_TRUE(load(fixture_path("io/np_fortran_f4.npy")).flags().col_contiguous);
}

// Tessera writes NumPy's exact bytes (header text, growth-axis padding, 64-byte alignment).
TEST_F(IoNpy, WritesNumPysBytes) {
  for (std::string f : {"np_float32.npy", "np_bool.npy", "np_complex64.npy", "np_uint64.npy", "np_scalar_f8.npy",
                        "np_empty_f4.npy", "np_1d_u1.npy", "np_fortran_f4.npy", "np_fortran_i2.npy"}) {
    SCOPED_TRACE(f);
    const std::string src = fixture_path("io/" + f);
    save(path("out.npy"), load(src));
    EXPECT_EQ(read_file(path("out.npy")), read_file(src));
  }
}

// A stream holds arrays one after another; a stream that cannot seek is read in chunks.
TEST_F(IoNpy, Streams) {
  std::stringstream ss;
  array a = sample(float32, {2, 3}, 1), b = sample(int16, {4}, 2), c = sample(complex64, {}, 3);
  save(ss, a);
  save(ss, b);
  save(ss, c);
  EXPECT_TRUE(same_array(load(ss), a));
  EXPECT_TRUE(same_array(load(ss), b));
  EXPECT_TRUE(same_array(load(ss), c));
  EXPECT_TRUE(throws_with<std::runtime_error>([&] { load(ss); }, {"[load] <stream>", "not a .npy file"}));

  struct OneWay : std::streambuf {
    std::string data;
    size_t at = 0;
    int_type underflow() override {
      if (at >= data.size()) return traits_type::eof();
      setg(&data[at], &data[at], &data[at] + 1);  // one byte at a time, no seeking
      ++at;
      return traits_type::to_int_type(data[at - 1]);
    }
  } buf;
  std::stringstream big;
  array d = sample(float64, {300, 7}, 4);
  save(big, d);
  buf.data = big.str();
  std::istream in(&buf);
  EXPECT_TRUE(same_array(load(in), d));
  buf.data.resize(buf.data.size() - 5);
  buf.at = 0;
  std::istream cut(&buf);
  EXPECT_TRUE(throws_with<std::runtime_error>([&] { load(cut); }, {"<stream>", "truncated"}));
}

TEST_F(IoNpz, RoundTripsStoredAndDeflated) {
  SKIP_WITHOUT(TESSERA_HAS_ZIP, "libzip");
  for_each_device([&](Device) {
    std::unordered_map<std::string, array> named;
    std::vector<array> positional;
    unsigned seed = 10;
    for (Dtype dt : all_dtypes) named.emplace(std::string("x_") + dtype_name(dt), on_device(sample(dt, {3, 2}, seed++)));
    named.emplace("dir/empty", on_device(sample(float32, {0}, 1)));
    named.emplace("fortran", transpose(on_device(sample(int32, {2, 5}, 2))));
    positional = {on_device(sample(float16, {4}, 3)), on_device(sample(uint8, {}, 4))};
    for (bool compressed : {false, true}) {
      const fs::path file = path(compressed ? "c.npz" : "s.npz");
      if (compressed) {
        savez_compressed(file, named, positional);
      } else {
        savez(path("s"), named, positional);  // ".npz" appended
      }
      auto loaded = load_npz(file);
      ASSERT_EQ(loaded.size(), named.size() + positional.size());
      for (auto& [k, v] : named) EXPECT_TRUE(same_array(loaded.at(k), v)) << k;
      EXPECT_TRUE(same_array(loaded.at("arr_0"), positional[0]));
      EXPECT_TRUE(same_array(on_device(loaded.at("arr_1")), positional[1]));
      std::stringstream ss;
      if (compressed) savez_compressed(ss, named, positional);
      else savez(ss, named, positional);
      EXPECT_EQ(ss.str(), read_file(file));  // deterministic bytes
      auto from_stream = load_npz(ss);
      EXPECT_TRUE(same_array(from_stream.at("x_bfloat16"), named.at("x_bfloat16")));
    }
  });
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [&] { savez(path("bad.npz"), {{"arr_0", array(1.0f)}}, {array(2.0f)}); }, {"[savez]", "arr_0"}));
  EXPECT_FALSE(fs::exists(path("bad.npz")));
}

TEST_F(IoNpz, ReadsNumPyFiles) {
  SKIP_WITHOUT(TESSERA_HAS_ZIP, "libzip");
  for (std::string f : {"np_savez.npz", "np_savez_compressed.npz"}) {
    auto recs = expected_for(f);
    auto loaded = load_npz(fixture_path("io/" + f));
    EXPECT_EQ(loaded.size(), recs.size());
    for (const Expected& e : recs) EXPECT_TRUE(matches(loaded.at(e.name), e));
  }
}

TEST_F(IoSafetensors, RoundTripsEveryDtypeWithMetadata) {
  SKIP_WITHOUT(TESSERA_HAS_JSON, "nlohmann-json");
  for_each_device([&](Device) {
    std::unordered_map<std::string, array> arrays;
    unsigned seed = 30;
    for (Dtype dt : all_dtypes) {
      for (const Shape& shape : shapes()) {
        arrays.emplace(std::string(dtype_name(dt)) + shape_string(shape), on_device(sample(dt, shape, seed++)));
      }
    }
    arrays.emplace("view", transpose(on_device(sample(float32, {3, 5}, 1))));
    const std::unordered_map<std::string, std::string> meta = {{"format", "tessera"}, {"note", "caf\u00e9"}};
    save_safetensors(path("m"), arrays, meta);  // ".safetensors" appended
    auto [loaded, m] = load_safetensors(path("m.safetensors"));
    EXPECT_EQ(m, meta);
    ASSERT_EQ(loaded.size(), arrays.size());
    for (auto& [k, v] : arrays) {
      EXPECT_TRUE(same_array(loaded.at(k), v)) << k;
      EXPECT_TRUE(same_array(on_device(loaded.at(k)), v)) << k;
    }
    std::stringstream ss;
    save_safetensors(ss, arrays, meta);
    EXPECT_EQ(ss.str(), read_file(path("m.safetensors")));
    auto [again, m2] = load_safetensors(ss);
    EXPECT_TRUE(same_array(again.at("view"), arrays.at("view")));
  });
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [&] { save_safetensors(path("x.safetensors"), {{"__metadata__", array(1.0f)}}); }, {"__metadata__"}));
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [&] { save_safetensors(path("x.safetensors"), {{std::string("\xff"), array(1.0f)}}); }, {"UTF-8"}));
  EXPECT_FALSE(fs::exists(path("x.safetensors")));
}

TEST_F(IoSafetensors, ReadsPyTorchTensors) {
  SKIP_WITHOUT(TESSERA_HAS_JSON, "nlohmann-json");
  auto recs = expected_for("torch.safetensors");
  for_each_device([&](Device) {
    auto [arrays, meta] = load_safetensors(fixture_path("io/torch.safetensors"));
    EXPECT_EQ(meta.at("format"), "pt");
    EXPECT_EQ(meta.at("source"), "gen_io.py");
    EXPECT_EQ(arrays.size(), recs.size());
    for (const Expected& e : recs) {
      array a = arrays.at(e.name);
      if (e.dtype == "bfloat16") {
        // gen_io.py records bfloat16 tensors by their float32 values.
        EXPECT_EQ(a.dtype(), bfloat16);
        Expected f = e;
        f.dtype = "float32";
        EXPECT_TRUE(matches(astype(a, float32), f));
        continue;
      }
      EXPECT_TRUE(matches(a, e));
      EXPECT_TRUE(matches(on_device(a), e));
    }
  });
}

// The arrays point into the file's mapping: loading costs no host allocation, and the mapping
// outlives the file (a save over the same path renames a new file in; the old arrays keep the
// old bytes).
TEST_F(IoSafetensors, LoadsMemoryMappedAndLazily) {
  SKIP_WITHOUT(TESSERA_HAS_JSON, "nlohmann-json");
  array big = sample(float32, {1024, 1024}, 5);  // 4 MiB
  save_safetensors(path("big.safetensors"), {{"w", big}});
  const size_t before = get_active_memory(Device(Device::cpu));
  auto [arrays, meta] = load_safetensors(path("big.safetensors"));
  EXPECT_LT(get_active_memory(Device(Device::cpu)), before + (size_t(1) << 20));
  array w = arrays.at("w");
  save_safetensors(path("big.safetensors"), {{"w", zeros({2}, float32)}});
  EXPECT_TRUE(same_array(w, big));
  for_each_device([&](Device) { EXPECT_TRUE(same_array(on_device(w * 2.0f), big * 2.0f)); });
  // An op may write its result into the loaded buffer it consumed: the mapping is private, so
  // the file is untouched.
  auto [again, m] = load_safetensors(path("big.safetensors"));
  array z = again.at("w");
  again.clear();
  array y = z + 1.0f;
  z = array(0.0f);
  EXPECT_TRUE(close_values(y, {1.0, 1.0}));
  EXPECT_TRUE(close_values(load_safetensors(path("big.safetensors")).first.at("w"), {0.0, 0.0}));
}

// On the GPU a loaded array reaches device memory with one upload, straight from the mapping,
// however many kernels and views then read it.
TEST_F(IoSafetensors, ReachesTheGpuWithOneUpload) {
  SKIP_WITHOUT(TESSERA_HAS_JSON, "nlohmann-json");
#if TESSERA_HAS_VULKAN
  if (!is_available(Device(Device::gpu))) GTEST_SKIP() << "no Vulkan device";
  array a = sample(float32, {256, 64}, 7), b = sample(float32, {64}, 8);
  save_safetensors(path("two.safetensors"), {{"a", a}, {"b", b}});
  auto [arrays, meta] = load_safetensors(path("two.safetensors"));
  array la = arrays.at("a"), lb = arrays.at("b");
  auto& dev = tessera::vulkan::Device::get();
  const uint64_t before = dev.uploads();
  std::optional<array> r;
  {
    StreamContext on_gpu(Device(Device::gpu));
    r = sum(la * lb) + sum(slice(la, {3, 0}, {9, 64})) + max(la);
    eval(*r);
  }
  EXPECT_EQ(dev.uploads() - before, 2u) << "one upload per loaded array";
  const float expected = (sum(a * b) + sum(slice(a, {3, 0}, {9, 64})) + max(a)).item<float>();
  EXPECT_NEAR(r->item<float>(), expected, 1e-3 * std::abs(expected) + 1e-3);
#else
  GTEST_SKIP() << "built without Vulkan";
#endif
}

TEST_F(IoGguf, RoundTripsTensorsAndMetadata) {
  for_each_device([&](Device) {
    std::unordered_map<std::string, array> arrays;
    unsigned seed = 50;
    for (Dtype dt : {float32, float16, bfloat16, float64, int8, int16, int32, int64}) {
      for (const Shape& shape : shapes()) {
        arrays.emplace(std::string(dtype_name(dt)) + shape_string(shape), on_device(sample(dt, shape, seed++)));
      }
    }
    arrays.emplace("view", transpose(on_device(sample(float32, {3, 5}, 1))));
    std::unordered_map<std::string, GGUFMetaData> meta;
    for (Dtype dt : {uint8, int8, uint16, int16, uint32, int32, uint64, int64, float32, float64, bool_}) {
      meta.emplace(std::string("s.") + dtype_name(dt), sample(dt, {}, seed++));
      meta.emplace(std::string("a.") + dtype_name(dt), sample(dt, {3}, seed++));
    }
    meta.emplace("nested", sample(int16, {2, 3, 2}, 1));
    meta.emplace("empty", zeros({0}, int32));
    meta.emplace("str", std::string("h\u00e9llo"));
    meta.emplace("strs", std::vector<std::string>{"a", "", "ccc"});
    meta.emplace("general.alignment", array(uint32_t{64}));
    save_gguf(path("m"), arrays, meta);  // ".gguf" appended
    auto [loaded, m] = load_gguf(path("m.gguf"));
    ASSERT_EQ(loaded.size(), arrays.size());
    for (auto& [k, v] : arrays) {
      EXPECT_TRUE(same_array(loaded.at(k), v)) << k;
      EXPECT_TRUE(same_array(on_device(loaded.at(k)), v)) << k;
    }
    ASSERT_EQ(m.size(), meta.size());
    for (auto& [k, v] : meta) {
      if (auto* a = std::get_if<array>(&v)) {
        EXPECT_TRUE(same_array(std::get<array>(m.at(k)), *a)) << k;
      } else if (auto* str = std::get_if<std::string>(&v)) {
        EXPECT_EQ(std::get<std::string>(m.at(k)), *str) << k;
      } else {
        EXPECT_EQ(std::get<std::vector<std::string>>(m.at(k)), std::get<std::vector<std::string>>(v)) << k;
      }
    }
    std::stringstream ss;
    save_gguf(ss, arrays, meta);
    EXPECT_EQ(ss.str(), read_file(path("m.gguf")));
    EXPECT_EQ(load_gguf(ss).first.size(), arrays.size());
  });
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [&] { save_gguf(path("x.gguf"), {{"u", zeros({2}, uint8)}}); }, {"[save_gguf]", "'u'", "uint8"}));
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [&] { save_gguf(path("x.gguf"), {}, {{"k", zeros({2}, float16)}}); }, {"'k'", "float16"}));
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [&] { save_gguf(path("x.gguf"), {}, {{"general.alignment", array(uint32_t{3})}}); }, {"power of two"}));
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [&] { save_gguf(path("x.gguf"), {}, {{"k", GGUFMetaData{}}}); }, {"'k'", "no value"}));
  EXPECT_FALSE(fs::exists(path("x.gguf")));
}

// MLX's affine layout of Q4_0 / Q4_1 / Q8_0: w = scale * q + bias, q the unsigned 4- or
// 8-bit values packed lowest bits first into uint32, one scale and bias per 32 weights.
std::vector<double> dequantize(array w, array scales, array biases) {
  const int bits = w.shape(-1) / scales.shape(-1) == 8 ? 8 : 4;  // words per block
  std::vector<uint32_t> words = w.to_vector<uint32_t>();
  std::vector<float> s = scales.to_vector<float>(), b = biases.to_vector<float>();
  std::vector<double> out;
  const uint32_t mask = (1u << bits) - 1;
  for (size_t i = 0; i < words.size() * 32 / bits; ++i) {
    const uint32_t q = words[i * bits / 32] >> (bits * i % 32) & mask;
    out.push_back(static_cast<double>(s[i / 32] * static_cast<float>(q) + b[i / 32]));
  }
  return out;
}

TEST_F(IoGguf, ReadsTheReferenceWriter) {
  for (std::string f : {"ref.gguf", "ref_v2.gguf"}) {
    SCOPED_TRACE(f);
    auto [arrays, meta] = load_gguf(fixture_path("io/" + f));
    auto num = [&](const std::string& k) { return std::get<array>(meta.at(k)); };
    EXPECT_EQ(std::get<std::string>(meta.at("general.architecture")), "tessera-test");
    EXPECT_EQ(std::get<std::string>(meta.at("general.name")), "unicode \u00e9\u4e2d");
    EXPECT_TRUE(same_array(num("test.u8"), array(uint8_t{200})));
    EXPECT_TRUE(same_array(num("test.i8"), array(int8_t{-100})));
    EXPECT_TRUE(same_array(num("test.u16"), array(uint16_t{60000})));
    EXPECT_TRUE(same_array(num("test.i16"), array(int16_t{-30000})));
    EXPECT_TRUE(same_array(num("test.u32"), array(uint32_t{4000000000u})));
    EXPECT_TRUE(same_array(num("test.i32"), array(int32_t{-2000000000})));
    EXPECT_TRUE(same_array(num("test.f32"), array(1.25f)));
    EXPECT_TRUE(same_array(num("test.bool"), array(true)));
    EXPECT_TRUE(same_array(num("test.u64"), array(uint64_t{(1ull << 40) + 7})));
    EXPECT_TRUE(same_array(num("test.i64"), array(int64_t{-(1ll << 40) - 7})));
    EXPECT_TRUE(same_array(num("test.f64"), array(0.1, float64)));
    EXPECT_TRUE(same_array(num("test.arr_u32"), array({1u, 2u, 3u, 4000000000u})));
    EXPECT_TRUE(same_array(num("test.arr_f32"), array({0.5f, -1.5f})));
    EXPECT_TRUE(same_array(num("test.arr_bool"), array({true, false, true})));
    EXPECT_TRUE(same_array(num("test.arr_empty"), zeros({0}, int32)));
    EXPECT_TRUE(same_array(num("test.nested"), array({1, 2, 3, -4, -5, -6}, {2, 3}, int16)));
    EXPECT_EQ(std::get<std::vector<std::string>>(meta.at("test.arr_str")), (std::vector<std::string>{"a", "bc", ""}));
    for_each_device([&](Device) {
      for (const Expected& e : expected_for(f)) {
        if (e.dtype == "dequantized") {
          const std::string prefix = e.name.substr(0, e.name.size() - 7);
          const array& w = arrays.at(e.name);
          EXPECT_EQ(w.dtype(), uint32);
          EXPECT_EQ(arrays.at(prefix + ".scales").shape(), (Shape{3, 2}));
          EXPECT_EQ(arrays.at(prefix + ".biases").dtype(), float16);
          EXPECT_TRUE(close_values(dequantize(on_device(w), arrays.at(prefix + ".scales"), arrays.at(prefix + ".biases")),
                                   e.values, 0.0, 0.0))
              << e.name;
        } else if (e.dtype == "bfloat16") {
          EXPECT_TRUE(close_values(astype(arrays.at(e.name), float32), e.values, 0.0, 0.0));
        } else {
          EXPECT_TRUE(matches(on_device(arrays.at(e.name)), e));
        }
      }
    });
    EXPECT_EQ(arrays.at("blk.0.q4_0.weight").shape(), (Shape{3, 8}));
    EXPECT_EQ(arrays.at("blk.0.q8_0.weight").shape(), (Shape{3, 16}));
  }
}

TEST_F(IoApi, LoadsByExtensionAndWithMetadata) {
  save(path("a.npy"), array({1.0f, 2.0f}));
  EXPECT_TRUE(same_array(std::get<array>(load(path("a.npy"), std::nullopt)), array({1.0f, 2.0f})));
  save_gguf(path("g.gguf"), {{"w", array({3.0f})}}, {{"k", std::string("v")}});
  auto g = std::get<std::unordered_map<std::string, array>>(load(path("g.gguf"), std::nullopt));
  EXPECT_TRUE(same_array(g.at("w"), array({3.0f})));
  auto gm = load_with_metadata(path("g.gguf"));
  EXPECT_EQ(std::get<std::string>(gm.metadata.at("k")), "v");
  // An explicit format overrides the extension.
  fs::copy_file(path("g.gguf"), path("g.bin"));
  EXPECT_EQ(std::get<1>(load(path("g.bin"), Format::gguf)).size(), 1u);
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { load(path("g.bin"), std::nullopt); }, {"g.bin", "extension"}));
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { load(path("g.gguf")); }, {"g.gguf", "load_gguf"}));
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { load_with_metadata(path("a.npy")); }, {"a.npy", "metadata"}));
  if (TESSERA_HAS_JSON) {
    save_safetensors(path("s.safetensors"), {{"w", array({4.0f})}}, {{"a", "b"}});
    auto sm = load_with_metadata(path("s.safetensors"));
    EXPECT_EQ(std::get<std::string>(sm.metadata.at("a")), "b");
    EXPECT_EQ(std::get<1>(load(path("s.safetensors"), std::nullopt)).size(), 1u);
  }
  if (TESSERA_HAS_ZIP) {
    savez(path("z.npz"), {{"w", array({5.0f})}});
    EXPECT_TRUE(load_with_metadata(path("z.npz")).metadata.empty());
    EXPECT_EQ(std::get<1>(load(path("z.npz"), std::nullopt)).size(), 1u);
  }
  EXPECT_EQ(format_of("model.SAFETENSORS"), Format::safetensors);
}

TEST_F(IoApi, MissingLibrariesSayWhatToInstall) {
  if (TESSERA_HAS_ZIP && TESSERA_HAS_JSON) GTEST_SKIP() << "built with libzip and nlohmann-json";
  if (!TESSERA_HAS_ZIP) {
    EXPECT_TRUE(throws_with<std::runtime_error>([&] { savez(path("z.npz"), {{"w", array(1.0f)}}); }, {"libzip-dev"}));
  }
  if (!TESSERA_HAS_JSON) {
    EXPECT_TRUE(throws_with<std::runtime_error>([&] { save_safetensors(path("s"), {{"w", array(1.0f)}}); },
                                                {"nlohmann-json3-dev"}));
  }
}

// MLX code through the shim: mlx/io.h, MLX's names and types.
TEST_F(IoApi, MlxShim) {
  namespace mc = mlx::core;
  mc::array a = mc::array({1.0f, 2.0f, 3.0f});
  mc::save(path("a").string(), a);  // MLX takes std::string and appends ".npy"
  EXPECT_TRUE(same_array(mc::load(path("a.npy").string()), a));
  std::unordered_map<std::string, mc::GGUFMetaData> meta = {{"name", std::string("m")}};
  mc::save_gguf(path("g").string(), {{"w", a}}, meta);
  mc::GGUFLoad g = mc::load_gguf(path("g.gguf").string());
  EXPECT_TRUE(same_array(g.first.at("w"), a));
  if (TESSERA_HAS_JSON) {
    mc::save_safetensors(path("s").string(), {{"w", a}}, {{"k", "v"}});
    mc::SafetensorsLoad st = mc::load_safetensors(path("s.safetensors").string(), mc::Device::cpu);
    EXPECT_EQ(st.second.at("k"), "v");
  }
}

// A write that fails half-way (here: the file-size limit, as a full disk would) leaves the old
// file as it was and no temporary behind.
TEST_F(IoApi, WritesAreAtomic) {
  save(path("a.npy"), array({1.0f, 2.0f}));
  const std::string old = read_file(path("a.npy"));
  struct rlimit saved {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  auto prev = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = saved;
  small.rlim_cur = 1 << 20;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  array big = zeros({1 << 20}, float32);  // 4 MiB
  big.eval();
  auto r1 = throws_with<std::runtime_error>([&] { save(path("a.npy"), big); }, {"[save]", "a.npy", "writing failed"});
  auto r2 = throws_with<std::runtime_error>([&] { save_gguf(path("a.npy.gguf"), {{"w", big}}); }, {"writing failed"});
  ::setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, prev);
  EXPECT_TRUE(r1);
  EXPECT_TRUE(r2);
  EXPECT_EQ(read_file(path("a.npy")), old);
  size_t files = 0;
  for (auto& e : fs::directory_iterator(dir_)) {
    ++files;
    EXPECT_EQ(e.path().filename(), "a.npy");
  }
  EXPECT_EQ(files, 1u);
  EXPECT_TRUE(throws_with<std::runtime_error>([&] { save(path("no/such/dir/a.npy"), big); },
                                              {"[save]", "no/such/dir/a.npy", "temporary"}));
}

}  // namespace
