#pragma once
// What the IO tests share (io_test.cpp, io_malformed_test.cpp): a temporary directory per test,
// file bytes, the arrays of every dtype, and tests/fixtures/io/expected.txt (gen_io.py).
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tessera/tessera.hpp"
#include "test_util.hpp"

namespace tessera::test::io {

namespace fs = std::filesystem;

// A fresh directory for each test, removed afterwards.
class TempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/tessera_io_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path path(const std::string& name) const { return dir_ / name; }
  fs::path dir_;
};

inline std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
inline void write_file(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// The row-major bytes of an array (the exact check of a round trip).
inline std::string bytes_of(array a) {
  a.eval();
  array c = make_row_contiguous(a);
  std::string s(c.nbytes(), '\0');
  if (c.nbytes()) std::memcpy(s.data(), c.raw_host_ptr(), c.nbytes());
  return s;
}

inline ::testing::AssertionResult same_array(const array& actual, const array& expected) {
  if (actual.shape() != expected.shape()) {
    return ::testing::AssertionFailure() << "shape " << shape_string(actual.shape()) << " != "
                                         << shape_string(expected.shape());
  }
  if (!(actual.dtype() == expected.dtype())) {
    return ::testing::AssertionFailure() << "dtype " << dtype_name(actual.dtype()) << " != "
                                         << dtype_name(expected.dtype());
  }
  if (bytes_of(actual) != bytes_of(expected)) return ::testing::AssertionFailure() << "bytes differ";
  return ::testing::AssertionSuccess();
}

// Values of every kind a dtype has (negative, fractional, both bool values), reproducible.
inline array sample(Dtype dtype, const Shape& shape, unsigned seed) {
  const size_t n = static_cast<size_t>(shape_size(shape));
  std::vector<double> v = uniform(n, seed, -100.0, 100.0);
  if (dtype == complex64) {
    std::vector<complex64_t> c(n);
    std::vector<double> im = uniform(n, seed + 1, -3.0, 3.0);
    for (size_t i = 0; i < n; ++i) c[i] = complex64_t(static_cast<float>(v[i]), static_cast<float>(im[i]));
    return array(c, shape, complex64);
  }
  for (double& x : v) {
    if (dtype == bool_) x = x > 0;
    else if (is_unsigned(dtype)) x = std::abs(x);
    else if (!is_floating(dtype)) x = std::round(x);
  }
  return array(v, shape, dtype);
}

// One record of expected.txt.
struct Expected {
  std::string file, name, dtype;
  Shape shape;
  std::vector<double> values;  // complex: real, imag pairs
};

inline std::vector<Expected> expected_records() {
  std::ifstream in(fixture_path("io/expected.txt"));
  if (!in) throw std::runtime_error("[test] cannot open " + fixture_path("io/expected.txt"));
  std::vector<Expected> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    Expected e;
    std::string shape;
    ls >> e.file >> e.name >> e.dtype >> shape;
    e.shape = parse_fixture_shape(shape);
    std::string tok;
    while (ls >> tok) e.values.push_back(std::strtod(tok.c_str(), nullptr));
    out.push_back(std::move(e));
  }
  return out;
}

inline std::vector<Expected> expected_for(const std::string& file) {
  std::vector<Expected> out;
  for (auto& e : expected_records()) {
    if (e.file == file) out.push_back(e);
  }
  if (out.empty()) throw std::runtime_error("[test] no expected records for " + file);
  return out;
}

// The loaded array `a` holds what the record says (values compared as float64, exactly; the
// fixtures' values are exact in their dtypes).
inline ::testing::AssertionResult matches(array a, const Expected& e) {
  if (std::string(dtype_name(a.dtype())) != e.dtype) {
    return ::testing::AssertionFailure() << e.file << ":" << e.name << " dtype " << dtype_name(a.dtype())
                                         << " != " << e.dtype;
  }
  if (a.shape() != e.shape) {
    return ::testing::AssertionFailure() << e.file << ":" << e.name << " shape " << shape_string(a.shape())
                                         << " != " << shape_string(e.shape);
  }
  std::vector<double> got;
  if (a.dtype() == complex64) {
    for (auto c : a.to_vector<complex64_t>()) {
      got.push_back(c.real());
      got.push_back(c.imag());
    }
  } else {
    got = a.to_vector<double>();
  }
  auto r = close_values(got, e.values, 0.0, 0.0);
  if (!r) return r << " (" << e.file << ":" << e.name << ")";
  return r;
}

}  // namespace tessera::test::io
