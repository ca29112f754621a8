// CPU-vs-Vulkan agreement tables: every op computed on both devices (the trailing stream
// argument Device::cpu / Device::gpu) and compared. Integers and bool must agree exactly,
// float32 to ~1e-5 relative, float16/bfloat16 to 1e-2, float64 to ~1e-12 except
// transcendentals (evaluated in float32 on the GPU: 1e-6). Runs with the validation layer on
// (TESSERA_VK_VALIDATION=1): a validation message fails the test that caused it.
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "tessera/backend/vulkan/runtime.hpp"
#include "tessera/ops/creation.hpp"
#include "tessera/ops/elementwise.hpp"
#include "tessera/ops/matmul.hpp"
#include "tessera/ops/random.hpp"
#include "tessera/ops/reduce.hpp"
#include "tessera/ops/shape.hpp"
#include "test_util.hpp"

namespace {

using namespace tessera;
using tessera::test::throws_with;
namespace tv = tessera::vulkan;

constexpr auto CPU = Device::cpu;
constexpr auto GPU = Device::gpu;

class VulkanOps : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!is_available(Device(Device::gpu))) GTEST_SKIP() << "no Vulkan device";
    validation_before_ = tv::Device::get().validation_messages();
  }
  void TearDown() override {
    if (!is_available(Device(Device::gpu))) return;
    EXPECT_EQ(tv::Device::get().validation_messages(), validation_before_)
        << "validation layer messages";
  }
  uint64_t validation_before_ = 0;
};

const tv::Capabilities& caps() { return tv::Device::get().caps(); }

// Whether the GPU can hold and compute `t` (as gpu::require_dtype).
bool gpu_supports(Dtype t) {
  const auto& c = caps();
  if (t == float64) return c.float64;
  if (t == int64 || t == uint64) return c.int64;
  if (t.size() == 1) return c.storage8;
  if (t.size() == 2) return c.storage16;
  return true;
}

bool is_int_like(Dtype t) { return !(t == float16 || t == bfloat16 || t == float32 || t == float64 || t == complex64); }

double default_rtol(Dtype t) {
  if (t == float16 || t == bfloat16) return 1e-2;
  if (t == float64) return 1e-12;
  return 1e-5;
}

// Compares a GPU result with the CPU's: shape, dtype and values.
::testing::AssertionResult agree(array gpu, array cpu, double rtol = -1, double atol = -1) {
  if (gpu.shape() != cpu.shape()) {
    std::ostringstream os;
    os << "shape " << gpu.shape() << " != cpu " << cpu.shape();
    return ::testing::AssertionFailure() << os.str();
  }
  if (!(gpu.dtype() == cpu.dtype())) {
    return ::testing::AssertionFailure() << "dtype " << to_string(gpu.dtype()) << " != cpu "
                                         << to_string(cpu.dtype());
  }
  const Dtype t = cpu.dtype();
  if (rtol < 0) rtol = default_rtol(t);
  if (atol < 0) atol = t == float16 || t == bfloat16 ? 1e-2 : rtol * 1e-1;
  if (t == complex64) {
    auto g = gpu.to_vector<complex64_t>();
    auto c = cpu.to_vector<complex64_t>();
    std::vector<double> gv, cv;
    for (size_t i = 0; i < g.size(); ++i) {
      gv.push_back(g[i].real());
      gv.push_back(g[i].imag());
      cv.push_back(c[i].real());
      cv.push_back(c[i].imag());
    }
    return test::close_values(gv, cv, rtol, atol);
  }
  if (t == uint64) {
    auto g = gpu.to_vector<uint64_t>();
    auto c = cpu.to_vector<uint64_t>();
    for (size_t i = 0; i < g.size(); ++i) {
      if (g[i] != c[i]) return ::testing::AssertionFailure() << "element " << i << ": " << g[i] << " != cpu " << c[i];
    }
    return ::testing::AssertionSuccess();
  }
  if (is_int_like(t)) {
    auto g = gpu.to_vector<int64_t>();
    auto c = cpu.to_vector<int64_t>();
    for (size_t i = 0; i < g.size(); ++i) {
      if (g[i] != c[i]) return ::testing::AssertionFailure() << "element " << i << ": " << g[i] << " != cpu " << c[i];
    }
    return ::testing::AssertionSuccess();
  }
  return test::close_values(test::values(gpu), test::values(cpu), rtol, atol);
}

// Test data of `dtype`: integers in a small range (unsigned from 0), bool as 0/1, floats in
// [lo, hi), complex with both parts random.
array make_input(const Shape& shape, Dtype t, unsigned seed, double lo = -2.0, double hi = 2.0) {
  const size_t n = static_cast<size_t>(shape_size(shape));
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> d(lo, hi);
  if (t == complex64) {
    std::vector<complex64_t> v(n);
    for (auto& x : v) x = complex64_t(static_cast<float>(d(gen)), static_cast<float>(d(gen)));
    return array(v, shape, complex64);
  }
  std::vector<double> v(n);
  for (auto& x : v) {
    if (t == bool_) x = std::floor(std::uniform_real_distribution<double>(0, 2)(gen));
    else if (t == uint8 || t == uint16 || t == uint32 || t == uint64) x = std::floor(std::uniform_real_distribution<double>(0, 9)(gen));
    else if (is_int_like(t)) x = std::floor(std::uniform_real_distribution<double>(-9, 9)(gen));
    else x = d(gen);
  }
  return array(v, shape, t);
}

std::string label(const Shape& s) {
  std::ostringstream os;
  os << s;
  return os.str();
}

// ---------------------------------------------------------------------------------------------
// Reductions

struct ReduceCase {
  Shape shape;
  std::vector<int> axes;  // empty: all axes
  bool keepdims;
  int view;  // 0: as is, 1: transposed (reversed axes), 2: strided slice (every other column)
};

array make_view(array x, int view) {
  if (view == 1) return transpose(x);
  if (view == 2) {
    Shape start(x.ndim(), 0), stop = x.shape(), step(x.ndim(), 1);
    step.back() = 2;
    return slice(x, start, stop, step);
  }
  return x;
}

const std::vector<ReduceCase>& reduce_cases() {
  static const std::vector<ReduceCase> cases = {
      {{37}, {0}, false, 0},           {{4, 33}, {1}, false, 0},     {{33, 5}, {0}, false, 0},
      {{3, 7, 5}, {1}, false, 0},      {{3, 7, 5}, {0, 2}, true, 0}, {{3, 7, 5}, {}, false, 0},
      {{2, 3, 4, 5}, {1, 3}, false, 0}, {{6, 1, 4}, {1}, true, 0},   {{8, 12}, {0}, false, 1},
      {{8, 12}, {1}, true, 1},         {{5, 10}, {1}, false, 2},     {{10, 6}, {0}, false, 2},
      {{3, 1000}, {1}, false, 0},      {{1000, 3}, {0}, false, 0},   {{2, 300, 3}, {0, 2}, false, 0},
  };
  return cases;
}

using ReduceFn = array (*)(const array&, const std::vector<int>&, bool, StreamOrDevice);

struct ReduceOp {
  const char* name;
  ReduceFn fn;
  bool complex_ok;
  double lo, hi;  // float input range (prod: near 1)
};

array call_reduce(const ReduceOp& op, const array& x, const ReduceCase& c, Device d) {
  if (c.axes.empty()) {
    std::vector<int> all(x.ndim());
    for (int i = 0; i < x.ndim(); ++i) all[i] = i;
    return op.fn(x, all, c.keepdims, d);
  }
  return op.fn(x, c.axes, c.keepdims, d);
}

const std::vector<ReduceOp>& reduce_ops() {
  static const std::vector<ReduceOp> ops = {
      {"sum", static_cast<ReduceFn>(&sum), true, -2, 2},
      {"prod", static_cast<ReduceFn>(&prod), true, 0.7, 1.3},
      {"max", static_cast<ReduceFn>(&tessera::max), false, -2, 2},
      {"min", static_cast<ReduceFn>(&tessera::min), false, -2, 2},
      {"all", static_cast<ReduceFn>(&all), true, -2, 2},
      {"any", static_cast<ReduceFn>(&any), true, -2, 2},
      {"mean", static_cast<ReduceFn>(&mean), false, -2, 2},
  };
  return ops;
}

TEST_F(VulkanOps, ReduceTable) {
  int checked = 0;
  for (const auto& op : reduce_ops()) {
    for (Dtype t : all_dtypes) {
      if (t == complex64 && !op.complex_ok) continue;
      if (!gpu_supports(t)) continue;
      for (const auto& c : reduce_cases()) {
        if (std::string(op.name) == "prod" && shape_size(c.shape) > 200 && !is_int_like(t)) continue;
        array base = make_input(c.shape, t, 17 + checked, op.lo, op.hi);
        array x = make_view(base, c.view);
        array g = call_reduce(op, x, c, GPU);
        array r = call_reduce(op, x, c, CPU);
        // Complex products: the parts of a long product cancel; compare with the magnitude.
        const bool cprod = t == complex64 && std::string(op.name) == "prod";
        EXPECT_TRUE(agree(g, r, cprod ? 1e-4 : -1, cprod ? 1e-3 : -1)) << op.name << " " << to_string(t) << " " << label(c.shape)
                                        << " view " << c.view;
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 500);
}

TEST_F(VulkanOps, ReduceSpecialValues) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  array x = array({1.0f, nan, 3.0f, -inf, 2.0f, 5.0f, inf, 0.0f, -1.0f, 7.0f, nan, 2.0f}, {3, 4});
  for (Dtype t : {float32, float16, bfloat16, float64}) {
    if (!gpu_supports(t)) continue;
    array xt = astype(x, t, CPU);
    for (int ax : {0, 1}) {
      EXPECT_TRUE(agree(tessera::max(xt, ax, false, GPU), tessera::max(xt, ax, false, CPU))) << to_string(t);
      EXPECT_TRUE(agree(tessera::min(xt, ax, false, GPU), tessera::min(xt, ax, false, CPU))) << to_string(t);
      EXPECT_TRUE(agree(sum(xt, ax, false, GPU), sum(xt, ax, false, CPU))) << to_string(t);
      EXPECT_TRUE(agree(all(xt, ax, false, GPU), all(xt, ax, false, CPU))) << to_string(t);
      EXPECT_TRUE(agree(any(xt, ax, false, GPU), any(xt, ax, false, CPU))) << to_string(t);
      EXPECT_TRUE(agree(argmax(xt, ax, false, GPU), argmax(xt, ax, false, CPU))) << to_string(t);
      EXPECT_TRUE(agree(argmin(xt, ax, false, GPU), argmin(xt, ax, false, CPU))) << to_string(t);
    }
  }
  // Integer wrap-around of sums and products.
  array big = array(std::vector<double>(300, 100.0), {300}, int8);
  EXPECT_TRUE(agree(sum(big, GPU), sum(big, CPU)));
  EXPECT_TRUE(agree(prod(big, GPU), prod(big, CPU)));
  array bigi = array(std::vector<double>(50, 1e9), {50}, int32);
  EXPECT_TRUE(agree(sum(bigi, GPU), sum(bigi, CPU)));
}

TEST_F(VulkanOps, ReduceEmpty) {
  for (Dtype t : {float32, int32, bool_, float16}) {
    if (!gpu_supports(t)) continue;
    array x = zeros({0, 5}, t, CPU);
    EXPECT_TRUE(agree(sum(x, 0, false, GPU), sum(x, 0, false, CPU))) << to_string(t);
    EXPECT_TRUE(agree(prod(x, 0, false, GPU), prod(x, 0, false, CPU))) << to_string(t);
    EXPECT_TRUE(agree(all(x, 0, false, GPU), all(x, 0, false, CPU))) << to_string(t);
    EXPECT_TRUE(agree(any(x, 0, false, GPU), any(x, 0, false, CPU))) << to_string(t);
    EXPECT_TRUE(agree(sum(x, 1, true, GPU), sum(x, 1, true, CPU))) << to_string(t);
    array y = zeros({4, 0}, t, CPU);
    EXPECT_TRUE(agree(sum(y, 1, false, GPU), sum(y, 1, false, CPU))) << to_string(t);
    EXPECT_TRUE(agree(sum(y, 0, false, GPU), sum(y, 0, false, CPU))) << to_string(t);
  }
}

// Long reductions take the split (two-pass) paths; big ones the 4-wide loads.
TEST_F(VulkanOps, ReduceLarge) {
  array x = make_input({2, 200000}, float32, 5);
  EXPECT_TRUE(agree(sum(x, 1, false, GPU), sum(x, 1, false, CPU), 1e-4, 1e-3));
  EXPECT_TRUE(agree(tessera::max(x, 1, false, GPU), tessera::max(x, 1, false, CPU)));
  EXPECT_TRUE(agree(sum(x, GPU), sum(x, CPU), 1e-4, 1e-3));
  array xt = make_input({100000, 3}, float32, 6);
  EXPECT_TRUE(agree(sum(xt, 0, false, GPU), sum(xt, 0, false, CPU), 1e-4, 1e-3));
  EXPECT_TRUE(agree(tessera::min(xt, 0, false, GPU), tessera::min(xt, 0, false, CPU)));
  array xi = make_input({3, 100000}, int32, 7);
  EXPECT_TRUE(agree(sum(xi, 1, false, GPU), sum(xi, 1, false, CPU)));
  EXPECT_TRUE(agree(mean(xi, 1, false, GPU), mean(xi, 1, false, CPU)));
  array xh = make_input({70000, 2}, float16, 8, 0, 1);
  EXPECT_TRUE(agree(sum(xh, 0, false, GPU), sum(xh, 0, false, CPU), 1e-2, 1));
  array xb = make_input({3, 100000}, bool_, 9);
  EXPECT_TRUE(agree(sum(xb, 1, false, GPU), sum(xb, 1, false, CPU)));
  EXPECT_TRUE(agree(all(xb, 1, false, GPU), all(xb, 1, false, CPU)));
  array x2 = make_input({300, 4096}, float32, 10);
  EXPECT_TRUE(agree(sum(x2, 1, false, GPU), sum(x2, 1, false, CPU), 1e-4, 1e-4));
  EXPECT_TRUE(agree(sum(x2, 0, false, GPU), sum(x2, 0, false, CPU), 1e-4, 1e-4));
}

TEST_F(VulkanOps, ArgReduceTable) {
  const std::vector<std::pair<Shape, int>> cases = {
      {{37}, 0}, {{4, 33}, 1}, {{33, 5}, 0}, {{3, 7, 5}, 1}, {{3, 7, 5}, 2}, {{2, 1000}, 1}, {{600, 3}, 0}};
  int checked = 0;
  for (Dtype t : all_dtypes) {
    if (t == complex64 || !gpu_supports(t)) continue;
    for (auto& [shape, axis] : cases) {
      for (int view = 0; view < 2; ++view) {
        array x = make_input(shape, t, 31 + checked);
        if (view == 1) x = transpose(x);
        const int ax = view == 1 ? x.ndim() - 1 - axis : axis;
        EXPECT_TRUE(agree(argmax(x, ax, false, GPU), argmax(x, ax, false, CPU))) << to_string(t) << " " << label(shape);
        EXPECT_TRUE(agree(argmin(x, ax, true, GPU), argmin(x, ax, true, CPU))) << to_string(t) << " " << label(shape);
        ++checked;
      }
    }
    array x = make_input({4, 5}, t, 3);
    EXPECT_TRUE(agree(argmax(x, GPU), argmax(x, CPU)));
  }
}

// ---------------------------------------------------------------------------------------------
// Matmul

double matmul_rtol(Dtype t) {
  if (t == float16 || t == bfloat16) return 2e-2;
  if (t == float64) return 1e-10;
  return 1e-4;
}

TEST_F(VulkanOps, MatmulTable) {
  struct Case {
    Shape a, b;
    int view;  // 0: as is; 1: A transposed view; 2: B transposed view; 3: both
  };
  const std::vector<Case> cases = {
      {{16, 16}, {16, 16}, 0},      {{64, 64}, {64, 64}, 0},        {{33, 65}, {65, 17}, 0},
      {{1, 7}, {7, 1}, 0},          {{5, 1}, {1, 6}, 0},            {{130, 70}, {70, 129}, 0},
      {{33, 65}, {65, 17}, 1},      {{33, 65}, {65, 17}, 2},        {{33, 65}, {65, 17}, 3},
      {{3, 20, 30}, {3, 30, 10}, 0}, {{2, 1, 9, 8}, {3, 8, 5}, 0},  {{4, 9, 8}, {8, 5}, 0},
      {{9, 8}, {2, 8, 5}, 3},       {{17}, {17, 4}, 0},             {{4, 17}, {17}, 0},
      {{17}, {17}, 0},              {{2, 3, 5}, {5}, 0},            {{300, 260}, {260, 280}, 0},
      {{256, 128}, {128, 256}, 1},  {{2, 128, 40}, {2, 40, 256}, 2}, {{8, 0}, {0, 5}, 0},
      {{0, 4}, {4, 3}, 0},
  };
  for (Dtype t : {float32, float16, bfloat16, float64}) {
    if (!gpu_supports(t)) continue;
    for (const auto& c : cases) {
      auto tview = [](const array& x) {
        std::vector<int> perm(x.ndim());
        for (int i = 0; i < x.ndim(); ++i) perm[i] = i;
        std::swap(perm[x.ndim() - 1], perm[x.ndim() - 2]);
        return transpose(x, perm);
      };
      auto operand = [&](const Shape& shape, bool transposed, unsigned seed) {
        if (transposed && shape.size() >= 2) {
          Shape s = shape;
          std::swap(s[s.size() - 1], s[s.size() - 2]);
          return tview(make_input(s, t, seed, -1, 1));
        }
        return make_input(shape, t, seed, -1, 1);
      };
      array a = operand(c.a, c.view & 1, 3);
      array b = operand(c.b, c.view & 2, 4);
      EXPECT_TRUE(agree(matmul(a, b, GPU), matmul(a, b, CPU), matmul_rtol(t), matmul_rtol(t)))
          << to_string(t) << " " << label(c.a) << " @ " << label(c.b) << " view " << c.view;
    }
  }
  // A sliced operand (row stride larger than its width) and a broadcast one.
  array big = make_input({40, 50}, float32, 8);
  array a = slice(big, {3, 5}, {30, 45}, {1, 1});
  array b = broadcast_to(make_input({1, 7}, float32, 9), {40, 7});
  EXPECT_TRUE(agree(matmul(a, slice(b, {0, 0}, {40, 7}), GPU), matmul(a, slice(b, {0, 0}, {40, 7}), CPU), 1e-4, 1e-4));
  // GPU-resident inputs (results of GPU ops) and a chain.
  array x = make_input({64, 64}, float32, 10);
  array y = matmul(matmul(x, x, GPU), x, GPU);
  array yc = matmul(matmul(x, x, CPU), x, CPU);
  EXPECT_TRUE(agree(y, yc, 1e-4, 1e-3));
}

// ---------------------------------------------------------------------------------------------
// Random

TEST_F(VulkanOps, RandomBitsBitIdentical) {
  const std::vector<Shape> shapes = {{1}, {2}, {3}, {4}, {5}, {7}, {16}, {33}, {3, 5}, {1000}, {1001}, {2, 3, 7}};
  for (int width : {1, 2, 4}) {
    for (const auto& s : shapes) {
      array k = random::key(42);
      EXPECT_TRUE(agree(random::bits(s, width, k, GPU), random::bits(s, width, k, CPU)))
          << "width " << width << " " << label(s);
      // Batched keys.
      array keys = random::split(random::key(7), 3, CPU);
      EXPECT_TRUE(agree(random::bits(s, width, keys, GPU), random::bits(s, width, keys, CPU)))
          << "batched width " << width << " " << label(s);
      array keys2 = reshape(random::split(random::key(9), 6, CPU), {2, 3, 2}, CPU);
      EXPECT_TRUE(agree(random::bits(s, width, keys2, GPU), random::bits(s, width, keys2, CPU)))
          << "batched 2x3 width " << width << " " << label(s);
    }
  }
  // Strided keys (a transposed view of a key batch).
  array kt = transpose(reshape(random::split(random::key(3), 4, CPU), {2, 4}, CPU));
  EXPECT_TRUE(agree(random::bits({9}, 4, kt, GPU), random::bits({9}, 4, kt, CPU)));
  // A large draw.
  array k = random::key(1234);
  EXPECT_TRUE(agree(random::bits({1 << 20}, 4, k, GPU), random::bits({1 << 20}, 4, k, CPU)));
  EXPECT_TRUE(agree(random::bits({12345}, 1, k, GPU), random::bits({12345}, 1, k, CPU)));
}

TEST_F(VulkanOps, RandomDistributions) {
  array k = random::key(5);
  for (Dtype t : {float32, float16, bfloat16, float64}) {
    if (!gpu_supports(t)) continue;
    const double tol = t == float32 ? 1e-6 : default_rtol(t);
    EXPECT_TRUE(agree(random::uniform({257}, t, k, GPU), random::uniform({257}, t, k, CPU), tol, tol)) << to_string(t);
    // erfinv goes through log(), whose last bits differ between the CPU and GPU libraries.
    const double ntol = t == float32 || t == float64 ? 1e-5 : default_rtol(t);
    EXPECT_TRUE(agree(random::normal({257}, t, 0.0f, 1.0f, k, GPU), random::normal({257}, t, 0.0f, 1.0f, k, CPU), ntol, ntol)) << to_string(t);
  }
  auto [a, b] = random::split(k, GPU);
  auto [c, d] = random::split(k, CPU);
  EXPECT_TRUE(agree(a, c));
  EXPECT_TRUE(agree(b, d));
}

// ---------------------------------------------------------------------------------------------
// Elementwise (the generated kernels of backend/vulkan/elementwise.cpp)

using UnaryFn = std::function<array(const array&, Device)>;
using BinaryFn = std::function<array(const array&, const array&, Device)>;

struct UnaryCase {
  const char* name;
  UnaryFn fn;
  double lo = -2, hi = 2;
  bool transcendental = false;
};

std::vector<UnaryCase> unary_cases() {
  std::vector<UnaryCase> v;
#define TESSERA_TEST_UNARY(N, n) \
  v.push_back({#n, [](const array& x, Device d) { return tessera::n(x, d); }});
  TESSERA_UNARY_MATH_OPS(TESSERA_TEST_UNARY)
#undef TESSERA_TEST_UNARY
  for (auto& c : v) {
    const std::string n = c.name;
    if (n == "log" || n == "sqrt" || n == "rsqrt" || n == "log1p" || n == "log2" || n == "log10" ||
        n == "reciprocal") {
      c.lo = 0.05;
      c.hi = 3;
    }
    if (n == "arcsin" || n == "arccos" || n == "arctanh") { c.lo = -0.95; c.hi = 0.95; }
    if (n == "arccosh") { c.lo = 1.05; c.hi = 4; }
    if (n == "erfinv") { c.lo = -0.95; c.hi = 0.95; }
    if (n == "tan") { c.lo = -1.2; c.hi = 1.2; }
    for (const char* t : {"exp", "log", "log1p", "sin", "cos", "tan", "tanh", "sqrt", "rsqrt", "sigmoid", "erfinv",
                          "sinh", "cosh", "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh",
                          "expm1", "log2", "log10", "erf"}) {
      if (n == t) c.transcendental = true;
    }
  }
  return v;
}

struct BinaryCase {
  const char* name;
  BinaryFn fn;
  bool transcendental = false;
};

std::vector<BinaryCase> binary_cases() {
  std::vector<BinaryCase> v;
#define TESSERA_TEST_BINARY(N, n) \
  v.push_back({#n, [](const array& a, const array& b, Device d) { return tessera::n(a, b, d); }});
  TESSERA_BINARY_OPS(TESSERA_TEST_BINARY)
#undef TESSERA_TEST_BINARY
  for (auto& c : v) {
    const std::string n = c.name;
    // remainder of floats goes through a division on the GPU (fmod on the CPU).
    c.transcendental = n == "power" || n == "divide" || n == "logaddexp" || n == "arctan2" ||
                       n == "remainder";
  }
  return v;
}

// Tolerances of an elementwise result of dtype `t`.
std::pair<double, double> ew_tol(Dtype t, bool transcendental) {
  if (t == float16 || t == bfloat16) return {1e-2, 1e-2};
  if (t == float64) return transcendental ? std::pair{1e-6, 1e-6} : std::pair{1e-12, 1e-12};
  if (t == complex64) return {1e-5, 1e-5};
  return transcendental ? std::pair{1e-5, 1e-5} : std::pair{1e-6, 1e-7};
}

// Runs `f` on the CPU; false when the CPU rejects the dtype (the op does not support it).
bool cpu_supports(const std::function<array()>& f, array& out) {
  try {
    out = f();
    out.eval();
    return true;
  } catch (const std::invalid_argument&) {
    return false;
  }
}

TEST_F(VulkanOps, ElementwiseUnaryTable) {
  int checked = 0;
  for (const auto& op : unary_cases()) {
    for (Dtype t : all_dtypes) {
      if (!gpu_supports(t)) continue;
      for (int view = 0; view < 3; ++view) {
        array base = make_input({6, 10}, t, 100 + checked, op.lo, op.hi);
        array x = make_view(base, view);
        array r = zeros({1}, float32, CPU);
        if (!cpu_supports([&] { return op.fn(x, CPU); }, r)) break;
        array g = op.fn(x, GPU);
        auto [rtol, atol] = ew_tol(r.dtype(), op.transcendental);
        EXPECT_TRUE(agree(g, r, rtol, atol)) << op.name << " " << to_string(t) << " view " << view;
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 300);
}

TEST_F(VulkanOps, ElementwiseSpecialValues) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  array x = array({0.0f, -0.0f, 1.0f, -1.0f, nan, inf, -inf, 0.5f, -2.5f, 2.5f, 1e-30f, 88.0f}, {12});
  for (Dtype t : {float32, float16, bfloat16, float64}) {
    if (!gpu_supports(t)) continue;
    array xt = astype(x, t, CPU);
    for (const auto& op : unary_cases()) {
      if (std::string(op.name) == "erfinv" || std::string(op.name) == "tan") continue;
      if (std::string(op.name) == "bitwise_invert") continue;  // integers only
      auto [rtol, atol] = ew_tol(t, op.transcendental);
      EXPECT_TRUE(agree(op.fn(xt, GPU), op.fn(xt, CPU), rtol, atol)) << op.name << " " << to_string(t);
    }
    for (const auto& op : binary_cases()) {
      const std::string n = op.name;
      if (n == "power" || n.rfind("bitwise_", 0) == 0 || n.find("_shift") != std::string::npos) continue;
      array y = astype(array({1.0f, 0.0f, -0.0f, nan, 2.0f, inf, inf, -1.0f, 2.5f, -2.5f, 0.0f, 3.0f}, {12}), t, CPU);
      auto [rtol, atol] = ew_tol(t, op.transcendental);
      EXPECT_TRUE(agree(op.fn(xt, y, GPU), op.fn(xt, y, CPU), rtol, atol)) << op.name << " " << to_string(t);
    }
    // power as C's pow: zero bases (GLSL leaves pow(0, y <= 0) undefined; NVIDIA gives NaN for
    // 0^0), signed zeros with odd exponents, b == 0 and a == 1 for any other operand.
    array pa = astype(array({0.0f, -0.0f, 0.0f, -0.0f, 0.0f, -0.0f, 1.0f, nan, -2.0f, -2.0f, inf, -inf, 2.0f, 0.5f,
                             -0.0f, 0.0f},
                            {16}),
                      t, CPU);
    array pb = astype(array({0.0f, 0.0f, -1.0f, -1.0f, 2.0f, 3.0f, nan, 0.0f, 3.0f, 0.5f, -1.0f, 3.0f, inf, -inf,
                             -3.0f, nan},
                            {16}),
                      t, CPU);
    EXPECT_TRUE(agree(power(pa, pb, GPU), power(pa, pb, CPU), 1e-6, 0)) << "power " << to_string(t);
    const auto g = astype(power(pa, pb, GPU), float64, CPU).to_vector<double>();
    const auto c = astype(power(pa, pb, CPU), float64, CPU).to_vector<double>();
    for (size_t i = 0; i < c.size(); ++i) {
      if (!std::isnan(c[i])) EXPECT_EQ(std::signbit(g[i]), std::signbit(c[i])) << "power sign " << i << " " << to_string(t);
    }
  }
}

TEST_F(VulkanOps, ElementwiseBinaryTable) {
  int checked = 0;
  for (const auto& op : binary_cases()) {
    const std::string name = op.name;
    for (Dtype t : all_dtypes) {
      if (!gpu_supports(t)) continue;
      const bool pow = name == "power";
      const double lo = pow ? 0.1 : -2, hi = 2;
      array a = make_input({4, 6}, t, 200 + checked, lo, hi);
      array b = make_input({4, 6}, t, 300 + checked, pow ? -2 : -2, hi);
      if (pow && is_int_like(t)) b = astype(make_input({4, 6}, uint8, 9), t, CPU);  // exponents >= 0
      array r = zeros({1}, float32, CPU);
      if (!cpu_supports([&] { return op.fn(a, b, CPU); }, r)) continue;
      auto [rtol, atol] = ew_tol(r.dtype(), op.transcendental);
      EXPECT_TRUE(agree(op.fn(a, b, GPU), r, rtol, atol)) << name << " " << to_string(t);
      // Broadcasting: (3, 1, 6) with (4, 6), a scalar, and strided views.
      array a3 = make_input({3, 1, 6}, t, 400 + checked, lo, hi);
      EXPECT_TRUE(agree(op.fn(a3, b, GPU), op.fn(a3, b, CPU), rtol, atol)) << name << " bcast " << to_string(t);
      array s = make_input({}, t, 500 + checked, pow ? 0.5 : 1, 2);
      if (pow && is_int_like(t)) s = astype(array(3), t, CPU);
      EXPECT_TRUE(agree(op.fn(a, s, GPU), op.fn(a, s, CPU), rtol, atol)) << name << " scalar " << to_string(t);
      EXPECT_TRUE(agree(op.fn(s, a, GPU), op.fn(s, a, CPU), rtol, atol)) << name << " scalar lhs " << to_string(t);
      array at = transpose(make_input({6, 4}, t, 600 + checked, lo, hi));
      EXPECT_TRUE(agree(op.fn(at, b, GPU), op.fn(at, b, CPU), rtol, atol)) << name << " transposed " << to_string(t);
      array bs = slice(make_input({4, 12}, t, 700 + checked, pow ? 0 : -2, hi), {0, 0}, {4, 12}, {1, 2});
      if (pow && is_int_like(t)) bs = slice(astype(make_input({4, 12}, uint8, 7), t, CPU), {0, 0}, {4, 12}, {1, 2});
      EXPECT_TRUE(agree(op.fn(a, bs, GPU), op.fn(a, bs, CPU), rtol, atol)) << name << " sliced " << to_string(t);
      checked += 6;
    }
  }
  EXPECT_GT(checked, 500);
}

TEST_F(VulkanOps, ElementwiseMixedDtypes) {
  const std::vector<std::pair<Dtype, Dtype>> pairs = {
      {int32, float32}, {uint8, int8}, {bool_, float16}, {int16, uint16}, {uint32, int32},
      {float16, bfloat16}, {float16, float32}, {int64, float32}, {bool_, int32}, {uint8, float64},
      {complex64, float32}};
  for (const auto& op : binary_cases()) {
    for (auto [ta, tb] : pairs) {
      if (!gpu_supports(ta) || !gpu_supports(tb)) continue;
      const bool pow = std::string(op.name) == "power";
      array a = make_input({5, 3}, ta, 11, pow ? 0.1 : -2, 2);
      array b = make_input({3}, tb, 12, pow ? 0 : -2, 2);
      if (pow) b = astype(make_input({3}, uint8, 13), tb, CPU);
      array r = zeros({1}, float32, CPU);
      if (!cpu_supports([&] { return op.fn(a, b, CPU); }, r)) continue;
      auto [rtol, atol] = ew_tol(r.dtype(), op.transcendental);
      EXPECT_TRUE(agree(op.fn(a, b, GPU), r, rtol, atol))
          << op.name << " " << to_string(ta) << " " << to_string(tb);
    }
  }
}

TEST_F(VulkanOps, ElementwiseWhereAndAstype) {
  for (Dtype t : all_dtypes) {
    if (!gpu_supports(t)) continue;
    array c = make_input({4, 1}, bool_, 1);
    array a = make_input({4, 5}, t, 2);
    array b = make_input({5}, t, 3);
    EXPECT_TRUE(agree(where(c, a, b, GPU), where(c, a, b, CPU))) << to_string(t);
    EXPECT_TRUE(agree(where(transpose(make_input({5, 4}, bool_, 4)), a, b, GPU),
                      where(transpose(make_input({5, 4}, bool_, 4)), a, b, CPU)))
        << to_string(t);
  }
  // astype: every pair (non-negative values, so float -> unsigned is defined on both sides).
  for (Dtype from : all_dtypes) {
    if (!gpu_supports(from)) continue;
    array x = make_input({3, 7}, from, 5, 0, 9);
    for (Dtype to : all_dtypes) {
      if (!gpu_supports(to)) continue;
      array r = zeros({1}, float32, CPU);
      if (!cpu_supports([&] { return astype(x, to, CPU); }, r)) continue;
      EXPECT_TRUE(agree(astype(x, to, GPU), r)) << to_string(from) << " -> " << to_string(to);
      EXPECT_TRUE(agree(astype(transpose(x), to, GPU), astype(transpose(x), to, CPU)))
          << to_string(from) << " -> " << to_string(to) << " transposed";
    }
  }
}

TEST_F(VulkanOps, ElementwiseFusedChain) {
  for (Dtype t : {float32, float16, float64}) {
    if (!gpu_supports(t)) continue;
    array x = make_input({1000}, t, 21);
    auto f = [&](Device d) { return (tessera::sin(x) * 2 + tessera::exp(-x * x) * x).materialize(d); };
    auto [rtol, atol] = ew_tol(t, true);
    EXPECT_TRUE(agree(f(GPU), f(CPU), rtol, atol)) << to_string(t);
  }
}

// ---------------------------------------------------------------------------------------------
// Creation

TEST_F(VulkanOps, CreationTable) {
  for (Dtype t : all_dtypes) {
    if (!gpu_supports(t)) continue;
    const std::string n = to_string(t);
    EXPECT_TRUE(agree(zeros({3, 4}, t, GPU), zeros({3, 4}, t, CPU))) << n;
    EXPECT_TRUE(agree(ones({5}, t, GPU), ones({5}, t, CPU))) << n;
    EXPECT_TRUE(agree(full({2, 3}, 3, t, GPU), full({2, 3}, 3, t, CPU))) << n;
    array vals = make_input({3}, t, 8);
    EXPECT_TRUE(agree(full({2, 3}, vals, t, GPU), full({2, 3}, vals, t, CPU))) << n;
    array like = make_input({2, 5}, t, 9);
    EXPECT_TRUE(agree(zeros_like(like, GPU), zeros_like(like, CPU))) << n;
    EXPECT_TRUE(agree(ones_like(like, GPU), ones_like(like, CPU))) << n;
    EXPECT_TRUE(agree(full_like(like, array(2), GPU), full_like(like, array(2), CPU))) << n;
    EXPECT_TRUE(agree(eye(4, 5, 1, t, GPU), eye(4, 5, 1, t, CPU))) << n;
    EXPECT_TRUE(agree(eye(3, t, GPU), eye(3, t, CPU))) << n;
    EXPECT_TRUE(agree(tri(4, 6, -1, t, GPU), tri(4, 6, -1, t, CPU))) << n;
    if (t != bool_ && t != complex64) {
      EXPECT_TRUE(agree(arange(0.0, 10.0, 1.5, t, GPU), arange(0.0, 10.0, 1.5, t, CPU))) << n;
      EXPECT_TRUE(agree(arange(0.0, 17.0, 1.0, t, GPU), arange(0.0, 17.0, 1.0, t, CPU))) << n;
    }
    if (t == float32 || t == float16 || t == bfloat16 || t == float64) {
      EXPECT_TRUE(agree(linspace(-1.0, 2.0, 7, t, GPU), linspace(-1.0, 2.0, 7, t, CPU))) << n;
      EXPECT_TRUE(agree(arange(-3.0, 4.0, 0.25, t, GPU), arange(-3.0, 4.0, 0.25, t, CPU))) << n;
    }
  }
  EXPECT_TRUE(agree(arange(10, GPU), arange(10, CPU)));
  EXPECT_TRUE(agree(arange(3, 20, 4, GPU), arange(3, 20, 4, CPU)));
}

}  // namespace

// Arrays past maxStorageBufferRange (128 MiB on lavapipe): one kernel binding cannot reach
// their end (elements past it used to read as zeros). Elementwise programs and reductions
// split such work into windows of the buffer; they must agree exactly with the CPU (integer
// arithmetic, exact float conversions), and matmul (split along M) within float32 rounding.
// Arg-reductions, random bits and arange split too and agree exactly. The size is 1.5x the
// range, or TESSERA_TEST_LARGE_BYTES (the H200 run used 5 GiB).
TEST_F(VulkanOps, ArraysPastTheBindingRangeComputeInWindows) {
  const uint64_t range = caps().max_storage_buffer_range;
  uint64_t bytes = range / 2 * 3;
  if (const char* env = std::getenv("TESSERA_TEST_LARGE_BYTES")) {
    bytes = std::strtoull(env, nullptr, 10);
  } else if (range > (uint64_t{1} << 30)) {
    GTEST_SKIP() << "binding range " << range << " too large to test by default";
  }
  const int cols = 1000;
  const int rows = static_cast<int>(bytes / 4 / cols);
  auto build = [&](Device d) {
    array col = reshape(arange(0, cols, 1, d), {1, cols}, d);
    array row = reshape(arange(0, rows, 1, d), {rows, 1}, d);
    return array(col + row * cols);  // big[i, j] = i * cols + j, int32
  };
  array g = build(GPU), c = build(CPU);
  ASSERT_GT(g.nbytes(), range);
  EXPECT_EQ(array(g * 3 - 7).to_vector<int32_t>(), array(c * 3 - 7).to_vector<int32_t>());
  EXPECT_EQ(array(astype(g, float32) * 0.5f).to_vector<float>(),
            array(astype(c, float32) * 0.5f).to_vector<float>());
  EXPECT_EQ(sum(g, false, GPU).item<int32_t>(), sum(c, false, CPU).item<int32_t>());
  EXPECT_EQ(sum(g, 0, false, GPU).to_vector<int32_t>(), sum(c, 0, false, CPU).to_vector<int32_t>());
  EXPECT_EQ(sum(g, 1, false, GPU).to_vector<int32_t>(), sum(c, 1, false, CPU).to_vector<int32_t>());
  EXPECT_EQ(max(g, false, GPU).item<int32_t>(), rows * cols - 1);
  // Matmul splits along M: each output row is a sum of up to 1000 float32 products.
  array w = full({cols, 2}, 0.5f, GPU);
  EXPECT_TRUE(tessera::test::close_values(matmul(astype(g, float32, GPU), w, GPU),
                                      tessera::test::values(matmul(astype(c, float32, CPU), w, CPU)), 1e-4, 0));
  // Arg-reductions: whole rows per window (axis 1), and rows reduced in parts whose winners are
  // reduced again (axis 0, and the flattened array: one row past the range). The values are
  // clipped at a plateau, so ties to the first index are checked too.
  const int plateau = rows * cols / 2 + 17;
  array gs = minimum(g, array(plateau), GPU), cs = minimum(c, array(plateau), CPU);
  for (auto [axis, what] : {std::pair{0, "axis 0"}, std::pair{1, "axis 1"}}) {
    EXPECT_EQ(argmax(gs, axis, false, GPU).to_vector<uint32_t>(), argmax(cs, axis, false, CPU).to_vector<uint32_t>())
        << what;
    EXPECT_EQ(argmin(gs, axis, false, GPU).to_vector<uint32_t>(), argmin(cs, axis, false, CPU).to_vector<uint32_t>())
        << what;
  }
  EXPECT_EQ(argmax(gs, false, GPU).item<uint32_t>(), static_cast<uint32_t>(plateau));
  EXPECT_EQ(argmin(g, false, GPU).item<uint32_t>(), 0u);
  // Random bits past the range: one key's block written a window at a time, a batch of keys
  // as whole blocks per window (uint8: blocks of an odd byte count that share words), and
  // arange; all bit-identical to the CPU.
  array key = random::key(42);
  EXPECT_EQ(random::bits({rows, cols}, 4, key, GPU).to_vector<uint32_t>(),
            random::bits({rows, cols}, 4, key, CPU).to_vector<uint32_t>());
  array keys = random::split(key, 8);
  const int per_key = static_cast<int>(bytes / 8) | 1;
  EXPECT_EQ(random::bits({per_key}, 1, keys, GPU).to_vector<uint8_t>(),
            random::bits({per_key}, 1, keys, CPU).to_vector<uint8_t>());
  EXPECT_EQ(arange(0, rows * cols, 1, GPU).to_vector<int32_t>(), arange(0, rows * cols, 1, CPU).to_vector<int32_t>());
}
