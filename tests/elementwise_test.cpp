// Elementwise ops and expression templates.
//
// One table holds every op of TESSERA_*_OPS (primitives/elementwise.hpp); every fixture case of
// tests/fixtures/elementwise_*.txt (NumPy, see gen_elementwise.py) runs through both call forms
// of its op (the fusing expression form and the `(x, stream)` form) on every available device:
// float32, float64, float16, int32 and bool; broadcasting; 0-d operands; transposed, step-sliced
// and reversed (negative-stride) views; NaN/inf/signed-zero inputs.
// Then: MLX's C++ scalar rule and result dtypes, and the expression templates (one graph node,
// the same values as op by op, lifetime, errors at construction, ops as values, +=).
#include <gtest/gtest.h>

#include <limits>
#include <numbers>

#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "test_util.hpp"
#include "tessera/core/primitive.hpp"
#include "tessera/ops/creation.hpp"
#include "tessera/ops/elementwise.hpp"
#include "tessera/ops/indexing.hpp"
#include "tessera/ops/matmul.hpp"
#include "tessera/ops/rearrange.hpp"
#include "tessera/ops/reduce.hpp"
#include "tessera/ops/shape.hpp"
#include "tessera/primitives/elementwise.hpp"
#include "tessera/transforms/eval.hpp"

namespace {

using namespace tessera;
using tessera::test::close_values;
using tessera::test::arrays_close;
using tessera::test::arrays_equal;
using tessera::test::FixtureCase;
using tessera::test::for_each_device;
using tessera::test::throws_with;
using tessera::test::values;

// ---------------------------------------------------------------------------------------------
// The op table: every elementwise op, by its function name, in both call forms.

struct OpEntry {
  int arity;
  std::function<array(const std::vector<array>&)> fused;                 // f(a, b): an Expr
  std::function<array(const std::vector<array>&, StreamOrDevice)> plain;  // f(a, b, stream)
};

const std::map<std::string, OpEntry>& op_table() {
  static const std::map<std::string, OpEntry> table = [] {
    std::map<std::string, OpEntry> t;
#define TESSERA_TEST_UNARY(N, n)                                                        \
  t[#n] = {1, [](const std::vector<array>& a) { return array(tessera::n(a[0])); },       \
           [](const std::vector<array>& a, StreamOrDevice s) { return tessera::n(a[0], s); }};
#define TESSERA_TEST_BINARY(N, n)                                                         \
  t[#n] = {2, [](const std::vector<array>& a) { return array(tessera::n(a[0], a[1])); },   \
           [](const std::vector<array>& a, StreamOrDevice s) { return tessera::n(a[0], a[1], s); }};
    TESSERA_UNARY_MATH_OPS(TESSERA_TEST_UNARY)
    TESSERA_BINARY_OPS(TESSERA_TEST_BINARY)
#undef TESSERA_TEST_UNARY
#undef TESSERA_TEST_BINARY
    t["where"] = {3,
                  [](const std::vector<array>& a) { return array(tessera::where(a[0], a[1], a[2])); },
                  [](const std::vector<array>& a, StreamOrDevice s) {
                    return tessera::where(a[0], a[1], a[2], s);
                  }};
    return t;
  }();
  return table;
}

// Every op name of the X-macro lists (the single source of truth), astype excluded.
std::vector<std::string> all_op_names() {
  std::vector<std::string> names;
#define TESSERA_TEST_NAME(N, n) names.push_back(#n);
  TESSERA_UNARY_MATH_OPS(TESSERA_TEST_NAME)
  TESSERA_BINARY_OPS(TESSERA_TEST_NAME)
  TESSERA_TERNARY_OPS(TESSERA_TEST_NAME)
#undef TESSERA_TEST_NAME
  return names;
}

const char* kFixtureFiles[] = {"elementwise_float32.txt", "elementwise_float64.txt",
                               "elementwise_float16.txt", "elementwise_int32.txt",
                               "elementwise_bool.txt", "elementwise_special.txt"};

std::vector<FixtureCase> all_cases() {
  std::vector<FixtureCase> out;
  for (auto* f : kFixtureFiles) {
    try {
      auto c = tessera::test::load_fixture(f);
      out.insert(out.end(), c.begin(), c.end());
    } catch (const std::exception& e) {
      // Reported by the test below rather than aborting the whole binary at start-up.
      FixtureCase bad;
      bad.name = std::string("load_error_") + std::to_string(out.size());
      bad.op = e.what();
      out.push_back(bad);
    }
  }
  return out;
}

// Tolerances of the standards: float32 1e-5 relative (transcendentals with 2e-6 absolute),
// float16 1e-2, integers and bool exact.
std::pair<double, double> tolerance(const FixtureCase& c, Dtype out, Device d) {
  if (c.tolerance == "exact" || !issubdtype(out, floating)) return {0.0, 0.0};
  if (out == float16 || out == bfloat16) return {1e-2, 1e-3};
  if (out == float64) {
    // erfinv is Giles' single-precision approximation on every dtype (the CPU functor and the
    // GLSL snippet share it), so float64 gets float32 accuracy there.
    if (c.op == "erfinv") return {2e-6, 2e-6};
    return {1e-12, 1e-13};
  }
  if (c.tolerance == "transc") return {1e-5, 2e-6};
  return {1e-5, 1e-6};
}

class ElementwiseFixtureTest : public ::testing::TestWithParam<FixtureCase> {};

TEST_P(ElementwiseFixtureTest, MatchesNumPy) {
  const FixtureCase& c = GetParam();
  ASSERT_FALSE(c.name.rfind("load_error_", 0) == 0) << c.op;
  auto it = op_table().find(c.op);
  ASSERT_NE(it, op_table().end()) << "fixture names an op the table lacks: " << c.op;
  ASSERT_EQ(static_cast<int>(c.inputs.size()), it->second.arity);
  const Dtype out_dtype = c.output.dtype;
  for_each_device([&](Device d) {
    auto [rtol, atol] = tolerance(c, out_dtype, d);
    std::vector<array> args;
    for (auto& t : c.inputs) args.push_back(tessera::test::fixture_array(t));
    array expected = tessera::test::fixture_expected(c.output);

    array fused = it->second.fused(args);
    EXPECT_EQ(fused.dtype(), out_dtype) << "expression form";
    EXPECT_EQ(fused.shape(), expected.shape()) << "expression form";
    EXPECT_TRUE(arrays_close(fused, expected, rtol, atol)) << "expression form";

    array plain = it->second.plain(args, d);
    EXPECT_EQ(plain.dtype(), out_dtype) << "(x, device) form";
    EXPECT_TRUE(arrays_close(plain, expected, rtol, atol)) << "(x, device) form";
  });
}

INSTANTIATE_TEST_SUITE_P(Elementwise, ElementwiseFixtureTest, ::testing::ValuesIn(all_cases()),
                         [](const ::testing::TestParamInfo<FixtureCase>& info) {
                           return info.param.name;
                         });

// The fixtures cover every op of the list in float32 (with every layout), or in int32 for the
// ops that reject floats (the bitwise ones), and name no op that does not exist: an op added
// to TESSERA_*_OPS without reference values fails here.
TEST(ElementwiseTable, FixturesCoverEveryOp) {
  std::map<std::string, std::set<std::string>> layouts_by_op;
  auto rejects_floats = [](const std::string& op) {
    const OpEntry& e = op_table().at(op);
    try {
      e.plain(std::vector<array>(e.arity, array({1.0f})), Device(Device::cpu));
      return false;
    } catch (const std::invalid_argument&) {
      return true;
    }
  };
  for (auto& c : all_cases()) {
    ASSERT_TRUE(op_table().count(c.op)) << c.name << ": " << c.op;
    const std::string wanted = rejects_floats(c.op) ? "int32" : "float32";
    if (c.dtype != wanted) continue;
    for (auto& in : c.inputs) layouts_by_op[c.op].insert(in.layout);
  }
  for (auto& name : all_op_names()) {
    ASSERT_TRUE(op_table().count(name)) << name;
    ASSERT_TRUE(layouts_by_op.count(name)) << "no float32 (or int32) fixture for " << name;
    for (const char* l : {"c", "T", "s2"}) {
      EXPECT_TRUE(layouts_by_op[name].count(l)) << name << " lacks layout " << l;
    }
  }
  EXPECT_EQ(op_table().size(), all_op_names().size());
}

// Each plain op is one graph node named after its primitive, with a one-instruction program.
TEST(ElementwiseTable, PlainOpIsOneNamedNode) {
  const std::map<std::string, std::string> primitive_of = [] {
    std::map<std::string, std::string> m;
#define TESSERA_TEST_PRIM(N, n) m[#n] = #N;
    TESSERA_UNARY_MATH_OPS(TESSERA_TEST_PRIM)
    TESSERA_BINARY_OPS(TESSERA_TEST_PRIM)
    TESSERA_TERNARY_OPS(TESSERA_TEST_PRIM)
#undef TESSERA_TEST_PRIM
    return m;
  }();
  array f = array({0.25f, 0.5f});
  array b = array({true, false});
  for (auto& [name, entry] : op_table()) {
    std::vector<array> args;
    if (entry.arity == 3) args = {b, f, f};
    else if (name.rfind("logical_", 0) == 0) args.assign(entry.arity, b);
    else if (name.rfind("bitwise_", 0) == 0 || name.find("_shift") != std::string::npos) {
      args.assign(entry.arity, array({3, 1}));
    }
    else args.assign(entry.arity, f);
    array r = entry.plain(args, Device(Device::cpu));
    ASSERT_TRUE(r.has_primitive()) << name;
    auto* ew = dynamic_cast<Elementwise*>(&r.primitive());
    ASSERT_NE(ew, nullptr) << name;
    EXPECT_EQ(ew->program().code.size(), 1u) << name;
    EXPECT_STREQ(r.primitive().name(), primitive_of.at(name).c_str());
  }
}

// ---------------------------------------------------------------------------------------------
// MLX's C++ scalar rule and result dtypes.

struct DtypeCase {
  const char* what;
  std::function<array()> make;
  Dtype expected_dtype;
  std::vector<double> expected_values;
};

TEST(ElementwiseDtype, ScalarRuleAndResultTypes) {
  const array f32({1.5f, -2.0f});
  const array f64({1.5, -2.0}, float64);
  const array i32({3, -4});
  const array i64({3, -4}, int64);
  const array u8({3, 250}, uint8);
  const array f16({1.5f, -2.0f}, float16);
  const array bf16({1.5f, -2.0f}, bfloat16);
  const array bl({true, false});
  const array c64({complex64_t(3, 4), complex64_t(0, -2)});
  const std::vector<DtypeCase> cases = {
      {"float32 * 2.0 (double)", [&] { return array(f32 * 2.0); }, float32, {3.0, -4.0}},
      {"int32 * 2.5 (double)", [&] { return array(i32 * 2.5); }, float32, {7.5, -10.0}},
      {"int32 * 2 (int)", [&] { return array(i32 * 2); }, int32, {6, -8}},
      {"float16 * 2.0f", [&] { return array(f16 * 2.0f); }, float32, {3.0, -4.0}},
      {"float16 * float16 scalar", [&] { return array(f16 * float16_t(2.0f)); }, float16, {3.0, -4.0}},
      {"bfloat16 * 2.0f", [&] { return array(bf16 * 2.0f); }, float32, {3.0, -4.0}},
      {"float64 * 2.0", [&] { return array(f64 * 2.0); }, float64, {3.0, -4.0}},
      {"2.0 - float32 (scalar on the left)", [&] { return array(2.0 - f32); }, float32, {0.5, 4.0}},
      {"int64 + 1", [&] { return array(i64 + 1); }, int64, {4, -3}},
      {"uint8 + 1 (int32 scalar)", [&] { return array(u8 + 1); }, int32, {4, 251}},
      {"bool + true", [&] { return array(bl + true); }, bool_, {1, 1}},
      {"bool * true", [&] { return array(bl * true); }, bool_, {1, 0}},
      {"int32 / int32 is true division", [&] { return array(i32 / 2); }, float32, {1.5, -2.0}},
      {"divide(int32, int32)", [&] { return array(divide(i32, i32)); }, float32, {1.0, 1.0}},
      {"exp(int32)", [&] { return array(exp(array({0, 0}))); }, float32, {1.0, 1.0}},
      {"sqrt(bool)", [&] { return array(sqrt(bl)); }, float32, {1.0, 0.0}},
      {"sin(float16)", [&] { return array(sin(array({0.0f}, float16))); }, float16, {0.0}},
      {"abs(complex64)", [&] { return array(abs(c64)); }, float32, {5.0, 2.0}},
      {"int32 < 0", [&] { return array(i32 < 0); }, bool_, {0, 1}},
      {"float32 == float32", [&] { return array(f32 == f32); }, bool_, {1, 1}},
      {"greater_equal(int32, float32)", [&] { return array(greater_equal(i32, f32)); }, bool_, {1, 0}},
      {"int32 + float16", [&] { return array(i32 + f16); }, float16, {4.5, -6.0}},
      {"uint32 + int32", [&] { return array(array({1u, 2u}) + i32); }, int64, {4, -2}},
      {"float16 + bfloat16", [&] { return array(f16 + bf16); }, float32, {3.0, -4.0}},
      {"logical_and(float32, int32)", [&] { return array(logical_and(f32, i32)); }, bool_, {1, 1}},
      {"!float32", [&] { return array(!f32); }, bool_, {0, 0}},
      {"where(bool, int32, float32)", [&] { return array(where(bl, i32, f32)); }, float32, {3.0, -2.0}},
      {"where(bool, 1, 0) (scalars)", [&] { return array(where(bl, 1, 0)); }, int32, {1, 0}},
      {"negative(uint8) wraps", [&] { return array(negative(array({uint8_t(1)}, uint8))); }, uint8, {255}},
      {"square(int32)", [&] { return array(square(i32)); }, int32, {9, 16}},
      {"power(int32, int32)", [&] { return array(power(i32, 3)); }, int32, {27, -64}},
      {"maximum(int32, 0)", [&] { return array(maximum(i32, 0)); }, int32, {3, 0}},
      {"round(float32) half to even", [&] { return array(round(array({2.5f, -0.5f}))); }, float32, {2.0, -0.0}},
      {"c64 * c64", [&] { return array(c64 * c64); }, complex64, {-7.0, -4.0}},  // real parts
      {"astype(float32 -> int32) truncates", [&] { return astype(array({1.7f, -1.7f}), int32); }, int32, {1, -1}},
      {"astype(float32 -> bool)", [&] { return astype(array({0.0f, -0.5f}), bool_); }, bool_, {0, 1}},
      {"astype(int32 -> float16)", [&] { return astype(i32, float16); }, float16, {3.0, -4.0}},
  };
  for_each_device([&](Device) {
    for (auto& c : cases) {
      SCOPED_TRACE(c.what);
      array r = c.make();
      EXPECT_EQ(r.dtype(), c.expected_dtype) << dtype_name(r.dtype());
      EXPECT_TRUE(close_values(r, c.expected_values, 0, 0));
    }
  });
}

// Complex values are compared as pairs (to_vector<double> keeps the real part only).
TEST(ElementwiseDtype, Complex64Arithmetic) {
  array a({complex64_t(1, 2), complex64_t(-3, 0.5f)});
  array b({complex64_t(0, 1), complex64_t(2, -1)});
  auto check = [](array r, std::vector<complex64_t> expect) {
    ASSERT_EQ(r.dtype(), complex64);
    auto v = r.to_vector<complex64_t>();
    ASSERT_EQ(v.size(), expect.size());
    for (size_t i = 0; i < v.size(); ++i) {
      EXPECT_NEAR(v[i].real(), expect[i].real(), 1e-5) << i;
      EXPECT_NEAR(v[i].imag(), expect[i].imag(), 1e-5) << i;
    }
  };
  // (1+2i)(i) = -2+i; (-3+0.5i)(2-i) = -5.5+4i ; (1+2i)/i = 2-i ; (-3+.5i)/(2-i) = (-6.5-2i)/5
  check(a * b, {{-2, 1}, {-5.5f, 4}});
  check(a + b, {{1, 3}, {-1, -0.5f}});
  check(a - b, {{1, 1}, {-5, 1.5f}});
  check(a / b, {{2, -1}, {-1.3f, -0.4f}});
  check(-a, {{-1, -2}, {3, -0.5f}});
  check(square(a), {{-3, 4}, {8.75f, -3}});
  EXPECT_TRUE(close_values(array(abs(a)), {std::sqrt(5.0), std::sqrt(9.25)}, 1e-6, 0));
  EXPECT_TRUE(close_values(array(a == a), {1, 1}, 0, 0));
}

// real / imag / conjugate / sign of complex64, and MLX's rules for real inputs; complex vecdot
// conjugates its first operand (NumPy); complex matmul (also with a real operand) against a
// complex<double> reference loop. On every device.
TEST(ElementwiseDtype, Complex64PartsAndProducts) {
  for_each_device([](Device) {
    array z({complex64_t(3, 4), complex64_t(-1, 0.5f), complex64_t(0, 0)});
    array re = real(z), im = imag(z), cj = conjugate(z);
    ASSERT_EQ(re.dtype(), float32);
    ASSERT_EQ(im.dtype(), float32);
    ASSERT_EQ(cj.dtype(), complex64);
    EXPECT_TRUE(close_values(re, {3, -1, 0}, 0, 0));
    EXPECT_TRUE(close_values(im, {4, 0.5, 0}, 0, 0));
    auto c = cj.to_vector<complex64_t>();
    EXPECT_EQ(c[0], complex64_t(3, -4));
    EXPECT_EQ(c[1], complex64_t(-1, -0.5f));
    auto sg = sign(z).to_vector<complex64_t>();
    EXPECT_NEAR(sg[0].real(), 0.6, 1e-6);
    EXPECT_NEAR(sg[0].imag(), 0.8, 1e-6);
    EXPECT_EQ(sg[2], complex64_t(0, 0));
    // Fused with arithmetic: one node, same values.
    EXPECT_TRUE(close_values(array(real(z) * 2 + imag(z)), {10, -1.5, 0}, 1e-6, 0));
    // Real inputs: real and conjugate are the input itself, imag is zeros of its dtype.
    array x({1.5, -2.0}, float64);
    EXPECT_EQ(real(x).id(), x.id());
    EXPECT_EQ(conjugate(x).id(), x.id());
    EXPECT_EQ(imag(x).dtype(), float64);
    EXPECT_TRUE(close_values(imag(x), {0, 0}, 0, 0));
    // vecdot(z, z) = sum |z|^2.
    auto vz = vecdot(z, z).item<complex64_t>();
    EXPECT_NEAR(vz.real(), 25 + 1.25, 1e-5);
    EXPECT_NEAR(vz.imag(), 0, 1e-6);

    const int m = 5, k = 7, n = 3;
    std::vector<complex64_t> av, bv;
    for (int i = 0; i < m * k; ++i) av.emplace_back(0.1f * (i % 9) - 0.3f, 0.05f * (i % 5) - 0.1f);
    for (int i = 0; i < k * n; ++i) bv.emplace_back(0.2f * (i % 4) - 0.25f, 0.1f * (i % 7) - 0.3f);
    array a(av.begin(), Shape{m, k}), b(bv.begin(), Shape{k, n});
    array br = real(b);  // a real right operand: no product with its zero imaginary part
    auto expect = [&](bool real_b) {
      std::vector<std::complex<double>> out(m * n);
      for (int i = 0; i < m; ++i)
        for (int j = 0; j < n; ++j)
          for (int q = 0; q < k; ++q) {
            std::complex<double> bq = bv[q * n + j];
            if (real_b) bq = bq.real();
            out[i * n + j] += std::complex<double>(av[i * k + q]) * bq;
          }
      return out;
    };
    for (bool real_b : {false, true}) {
      SCOPED_TRACE(real_b ? "complex @ float32" : "complex @ complex");
      array p = matmul(a, real_b ? br : b);
      ASSERT_EQ(p.dtype(), complex64);
      ASSERT_EQ(p.shape(), (Shape{m, n}));
      auto got = p.to_vector<complex64_t>();
      auto want = expect(real_b);
      for (int i = 0; i < m * n; ++i) {
        EXPECT_NEAR(got[i].real(), want[i].real(), 1e-5) << i;
        EXPECT_NEAR(got[i].imag(), want[i].imag(), 1e-5) << i;
      }
    }
    // Batched and vector operands go through the same plan as real matmuls.
    EXPECT_EQ(matmul(broadcast_to(a, {2, m, k}), b).shape(), (Shape{2, m, n}));
    EXPECT_EQ(matmul(a, take(b, 0, 1)).shape(), (Shape{m}));
  });
}

// Complex gradients use JAX's convention: for a real loss L of z = x + iy, grad(L)(z) is
// dL/dx - i dL/dy. Checked two ways on every device: a loss of float inputs (x, y) that goes
// through complex ops (real, imag, conjugate, abs, exp, multiply, matmul, sum) against central
// differences, which only passes if every complex rule shares the convention; and the same
// loss taken directly of z, against those real gradients. The jvp is checked too.
TEST(ElementwiseGrad, Complex64Convention) {
  for_each_device([](Device) {
    const array w({complex64_t(0.5f, -1), complex64_t(2, 0.25f), complex64_t(-1, 1), complex64_t(0.3f, 0.7f)},
                  Shape{2, 2});
    const array unit(complex64_t(0, 1));
    auto loss_z = [w](const array& z) {
      array t = exp(z) * w + conjugate(z) * z * 0.5f + square(z);
      array mm = matmul(z, w);
      return sum(real(t) + imag(t) * 0.3f + abs(z + 1.0f) + imag(mm) - real(mm) * 0.2f);
    };
    auto loss_xy = [&](const std::vector<array>& v) {
      return loss_z(astype(v[0], complex64) + astype(v[1], complex64) * unit);
    };
    array x({0.3f, -0.7f, 0.1f, 0.9f}, Shape{2, 2});
    array y({0.5f, 0.2f, -0.4f, -0.6f}, Shape{2, 2});
    auto g = grad(loss_xy, std::vector<int>{0, 1})({x, y});
    const double h = 1e-2;
    for (int which = 0; which < 2; ++which) {
      auto base = (which ? y : x).to_vector<double>();
      std::vector<double> fd(base.size());
      for (size_t k = 0; k < base.size(); ++k) {
        auto up = base, dn = base;
        up[k] += h;
        dn[k] -= h;
        std::vector<array> vu{x, y}, vd{x, y};
        vu[which] = array(up, x.shape(), float32);
        vd[which] = array(dn, x.shape(), float32);
        fd[k] = (loss_xy(vu).item<float>() - loss_xy(vd).item<float>()) / (2 * h);
      }
      EXPECT_TRUE(close_values(g[which], fd, 2e-3, 2e-3)) << (which ? "d/dy" : "d/dx");
    }
    // Directly in z: dL/dx - i dL/dy.
    array z = astype(x, complex64) + astype(y, complex64) * unit;
    auto gz = grad([&](const std::vector<array>& v) { return loss_z(v[0]); })({z})[0];
    ASSERT_EQ(gz.dtype(), complex64);
    auto gzv = gz.to_vector<complex64_t>();
    auto gx = g[0].to_vector<double>(), gy = g[1].to_vector<double>();
    for (size_t k = 0; k < gzv.size(); ++k) {
      EXPECT_NEAR(gzv[k].real(), gx[k], 1e-4) << k;
      EXPECT_NEAR(gzv[k].imag(), -gy[k], 1e-4) << k;
    }
    // Forward mode: the directional derivative along (tx, ty) is <grad, t>.
    array tx({1.0f, -0.5f, 0.25f, 2.0f}, Shape{2, 2}), ty({0.5f, 1.0f, -1.0f, 0.0f}, Shape{2, 2});
    auto [outs, tangent] = jvp([&](const std::vector<array>& v) { return std::vector<array>{loss_xy(v)}; },
                               {x, y}, {tx, ty});
    double dir = 0;
    auto txv = tx.to_vector<double>(), tyv = ty.to_vector<double>();
    for (size_t k = 0; k < txv.size(); ++k) dir += gx[k] * txv[k] + gy[k] * tyv[k];
    EXPECT_NEAR(tangent[0].item<float>(), dir, 1e-3 * std::max(1.0, std::abs(dir)));
  });
}

// Unsigned arithmetic wraps and integer division by zero does not crash the process.
TEST(ElementwiseDtype, IntegerEdgeCases) {
  array u({uint8_t(250)}, uint8);
  EXPECT_TRUE(close_values(array(u + u), {244}, 0, 0));  // uint8 + uint8 stays uint8, mod 256
  // int / 0 is true division in float32: inf, -inf, nan.
  EXPECT_TRUE(close_values(array(array({1, -1, 0}) / 0), {INFINITY, -INFINITY, NAN}, 0, 0));
}

// ---------------------------------------------------------------------------------------------
// Expression templates.

array test_input() { return array({-1.5f, -0.25f, 0.0f, 0.5f, 1.0f, 2.0f}, Shape{2, 3}); }

// sin(x) * 2 + exp(-x * x) * x, computed in double.
std::vector<double> fused_reference(const std::vector<double>& x) {
  std::vector<double> out;
  for (double v : x) out.push_back(std::sin(v) * 2 + std::exp(-v * v) * v);
  return out;
}

TEST(ExprTest, ShapeAndDtypeKnownBeforeMaterialisation) {
  array x = test_input();
  auto e = sin(x) * 2 + exp(-x * x) * x;
  static_assert(is_expr_v<decltype(e)>, "an arithmetic chain is an expression, not an array");
  EXPECT_EQ(e.shape(), (Shape{2, 3}));
  EXPECT_EQ(e.dtype(), float32);
  EXPECT_EQ(e.ndim(), 2);
  EXPECT_EQ(e.size(), 6u);

  array col({1.0f, 2.0f, 3.0f}, Shape{3, 1});
  array row({1, 2, 3, 4});
  auto b = col * row + 1;
  EXPECT_EQ(b.shape(), (Shape{3, 4}));
  EXPECT_EQ(b.dtype(), float32);
  auto ints = row * 2 + row;
  EXPECT_EQ(ints.dtype(), int32);
  EXPECT_EQ(exp(row).dtype(), float32);
  EXPECT_EQ((row < 2).dtype(), bool_);
  EXPECT_EQ((array({1.0f}, float16) * 2.0f).dtype(), float32);
  EXPECT_EQ(astype_expr(row, float16).dtype(), float16);
}

TEST(ExprTest, MaterialisesAsOneGraphNodeOverLeaves) {
  array x = test_input();
  auto e = sin(x) * 2 + exp(-x * x) * x;
  array r = e;
  ASSERT_TRUE(r.has_primitive());
  auto* ew = dynamic_cast<Elementwise*>(&r.primitive());
  ASSERT_NE(ew, nullptr) << r.primitive().name();
  // sin, *2, negative, *x, exp, *x, + : several instructions in one program.
  EXPECT_GE(ew->program().code.size(), 6u) << ew->program().signature();
  // The inputs are leaves only: x (registered once) and the scalar 2.
  ASSERT_EQ(r.inputs().size(), 2u);
  int x_count = 0;
  for (auto& in : r.inputs()) {
    EXPECT_FALSE(in.has_primitive()) << "an input of the fused node is itself a graph node";
    x_count += in.id() == x.id();
  }
  EXPECT_EQ(x_count, 1);
  EXPECT_TRUE(close_values(r, fused_reference(values(x)), 1e-6, 1e-6));
}

TEST(ExprTest, FusedMatchesOpByOp) {
  for_each_device([](Device d) {
    array x = test_input();
    array fused = sin(x) * 2 + exp(-x * x) * x;
    // The same computation as separate nodes through the (x, stream) forms.
    Stream s = default_stream(d);
    array a = tessera::sin(x, s);
    array b = tessera::multiply(a, 2.0f, s);
    array c = tessera::negative(x, s);
    array dd = tessera::multiply(c, x, s);
    array e = tessera::exp(dd, s);
    array f = tessera::multiply(e, x, s);
    array g = tessera::add(b, f, s);
    for (const array* node : {&a, &b, &c, &dd, &e, &f, &g}) {
      ASSERT_TRUE(node->has_primitive());
      auto* ew = dynamic_cast<Elementwise*>(&node->primitive());
      ASSERT_NE(ew, nullptr);
      EXPECT_EQ(ew->program().code.size(), 1u) << "the (x, stream) form must not fuse";
    }
    EXPECT_EQ(g.inputs()[0].id(), b.id());
    EXPECT_TRUE(arrays_close(fused, g, 1e-6, 1e-6));
    EXPECT_TRUE(close_values(g, fused_reference(values(x)), 1e-6, 1e-6));
  });
}

// The design promises fused and unfused results agree; with float16 (rounded after every op)
// that is bit for bit.
TEST(ExprTest, FusedFloat16RoundsLikeOpByOp) {
  array x({0.1f, 0.7f, 1.3f, -2.2f, 3.9f, 0.333f}, float16);
  array fused = x * x * 3.0f + x / 7.0f;  // float32 through the scalars
  array h = x * x * float16_t(3.0f) + x / float16_t(7.0f);
  EXPECT_EQ(h.dtype(), float16);
  Device cpu(Device::cpu);
  array step = add(multiply(multiply(x, x, cpu), float16_t(3.0f), cpu),
                   divide(x, float16_t(7.0f), cpu), cpu);
  EXPECT_TRUE(arrays_equal(h, step));
  array step32 = add(multiply(multiply(x, x, cpu), 3.0f, cpu), divide(x, 7.0f, cpu), cpu);
  EXPECT_TRUE(arrays_equal(fused, step32));
}

// Fused expressions read views and broadcast operands like the plain ops.
TEST(ExprTest, FusedOverViewsAndBroadcasting) {
  array base = arange(12.0, float32).reshape({3, 4});
  array t = transpose(base);                               // (4,3) view
  array col = slice(arange(8.0, float32), {0}, {8}, {2});  // (4,) strided view: 0 2 4 6
  array r = sqrt(t + 1.0f) * expand_dims(col, 1) - t;
  ASSERT_EQ(r.shape(), (Shape{4, 3}));
  std::vector<double> expect;
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 3; ++j) {
      double tv = j * 4 + i;
      expect.push_back(std::sqrt(tv + 1) * (2 * i) - tv);
    }
  }
  EXPECT_TRUE(close_values(r, expect, 1e-6, 1e-6));
}

TEST(ExprTest, AutoKeepsOperandsAlive) {
  auto make = [] {
    array tmp({1.0f, 2.0f, 3.0f});
    return exp(tmp * 0.5f) + tmp;  // tmp's last named handle dies here
  };
  auto e = make();
  {
    // Temporaries inside an inner scope, expression used outside.
    auto outer = [&] {
      array a = array({1.0f, 2.0f, 3.0f}) * 2.0f;
      return a - array({0.5f, 0.5f, 0.5f});
    }();
    EXPECT_TRUE(close_values(array(outer), {1.5, 3.5, 5.5}, 1e-6, 0));
  }
  std::vector<double> expect;
  for (double v : {1.0, 2.0, 3.0}) expect.push_back(std::exp(v * 0.5) + v);
  EXPECT_TRUE(close_values(array(e), expect, 1e-6, 1e-6));
  // Materialising twice gives two equal results (the expression is a value).
  EXPECT_TRUE(close_values(array(e), expect, 1e-6, 1e-6));
}

TEST(ExprTest, BadShapesThrowAtConstruction) {
  array a({1.0f, 2.0f, 3.0f});
  array b({1.0f, 2.0f, 3.0f, 4.0f});
  EXPECT_THROW(a + b, std::invalid_argument);
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { auto e = a + b; (void)e; }, {"[add]", "(3,)", "(4,)"}));
  // Deep inside an expression: the failing op is named, nothing was evaluated.
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { auto e = sin(a) * 2 + exp(a) * b; (void)e; },
                                                 {"[multiply]"}));
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { auto e = where(a > 0, a, b); (void)e; },
                                                 {"[where]"}));
  // Dtype errors too.
  array bl({true, false});
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { auto e = -bl; (void)e; }, {"[negative]"}));
}

// A generic helper as MLX users write them: ops travel as lambdas (they are function templates).
template <typename F>
array apply_on(F fn, const array& x, StreamOrDevice s) {
  return fn(x, s);
}

// Unqualified calls under a using-directive, beside <cmath>: arrays and expressions pick
// Tessera's functions, scalars the C library's (MLX's functions are plain functions too).
TEST(ExprTest, UnqualifiedCallsBesideTheCLibrary) {
  using namespace tessera;
  array x({0.0f, 1.0f, -2.0f});
  EXPECT_TRUE(close_values(array(exp(x)), {1.0, std::exp(1.0), std::exp(-2.0)}, 1e-6, 0));
  EXPECT_TRUE(close_values(array(abs(x * 2)), {0, 2, 4}, 0, 0));
  static_assert(std::is_same_v<decltype(abs(-3)), int>);
  static_assert(std::is_same_v<decltype(exp(1.0)), double>);
  EXPECT_EQ(abs(-3), 3);
  EXPECT_TRUE(close_values(apply_on([](const array& a, StreamOrDevice s) { return abs(a, s); }, x, Device(Device::cpu)),
                       {0, 1, 2}, 0, 0));
  EXPECT_TRUE(close_values(array(maximum(x, 0.5f)), {0.5, 1, 0.5}, 0, 0));
  EXPECT_TRUE(close_values(array(where(x > 0, x, 10.0f)), {10, 1, 10}, 0, 0));
  EXPECT_TRUE(close_values(where(x > 0, 1.0f, x, Device(Device::cpu)), {0, 1, -2}, 0, 0));
}

TEST(ExprTest, CompoundAssignmentRebinds) {
  array a({1.0f, 2.0f});
  array alias = a;
  const auto old_id = a.id();
  a += 1;
  EXPECT_NE(a.id(), old_id);
  EXPECT_EQ(alias.id(), old_id);
  EXPECT_TRUE(close_values(a, {2, 3}, 0, 0));
  EXPECT_TRUE(close_values(alias, {1, 2}, 0, 0));  // the old node is untouched
  a *= a;
  a -= 0.5f;
  a /= 2;
  EXPECT_TRUE(close_values(a, {1.75, 4.25}, 0, 0));
  EXPECT_EQ(a.dtype(), float32);
  array i({1, 2});
  i += 1;
  EXPECT_EQ(i.dtype(), int32);
  i /= 2;  // true division rebinds to a float32 node (arrays are immutable)
  EXPECT_EQ(i.dtype(), float32);
  EXPECT_TRUE(close_values(i, {1.0, 1.5}, 0, 0));
}

TEST(ExprTest, ItemEvalAndPrinting) {
  array x({3.0f});
  EXPECT_FLOAT_EQ((x * 2.0f + 1.0f).item<float>(), 7.0f);
  std::ostringstream os;
  os << (array({1, 2}) + 1);
  EXPECT_EQ(os.str(), "array([2, 3], dtype=int32)");
}

// A one-op expression is the plain primitive, not a "Fused" node.
TEST(ExprTest, OneOpExpressionIsPlainPrimitive) {
  array x({1.0f, 2.0f});
  array r = x + x;
  EXPECT_STREQ(r.primitive().name(), "Add");
  array s = x + 1.0f;
  EXPECT_STREQ(s.primitive().name(), "Add");
  array f = sin(x) + 1.0f;
  EXPECT_STRNE(f.primitive().name(), "Add");
}

// Integer remainder / floor_divide never trap: division by 0 gives 0 (NumPy's result) and the
// most negative value divided by -1 wraps; the signs follow the divisor (Python's %, MLX).
TEST(ElementwiseIntegerDivision, EdgeCasesOnEveryDevice) {
  for_each_device([](Device) {
    const int32_t lo = std::numeric_limits<int32_t>::min();
    array a({7, -7, 7, -7, 5, lo, lo, 0});
    array b({3, 3, -3, -3, 0, -1, 1, 4});
    EXPECT_EQ(remainder(a, b, default_device()).to_vector<int32_t>(),
              (std::vector<int32_t>{1, 2, -2, -1, 0, 0, 0, 0}));
    EXPECT_EQ(floor_divide(a, b, default_device()).to_vector<int32_t>(),
              (std::vector<int32_t>{2, -3, -3, 2, 0, lo, lo, 0}));
    array u = astype(array({7, 9, 5}), uint32), v = astype(array({2, 0, 7}), uint32);
    EXPECT_EQ(remainder(u, v, default_device()).to_vector<uint32_t>(), (std::vector<uint32_t>{1, 0, 5}));
    EXPECT_EQ(floor_divide(u, v, default_device()).to_vector<uint32_t>(), (std::vector<uint32_t>{3, 0, 0}));
  });
}

TEST(ElementwiseComposed, ClipDegreesRadians) {
  for_each_device([](Device) {
    array x({-2.0f, 0.5f, 3.0f});
    EXPECT_TRUE(arrays_equal(clip(x, array(-1.0f), array(1.0f)), array({-1.0f, 0.5f, 1.0f})));
    EXPECT_TRUE(arrays_equal(clip(x, std::nullopt, array(1.0f)), array({-2.0f, 0.5f, 1.0f})));
    EXPECT_TRUE(arrays_equal(clip(x, array({0.0f, 1.0f, 0.0f}), std::nullopt), array({0.0f, 1.0f, 3.0f})));
    EXPECT_EQ(clip(array({1, 5}), array(2), array(4)).dtype(), int32);
    EXPECT_TRUE(throws_with<std::invalid_argument>([&] { clip(x, std::nullopt, std::nullopt); }, {"[clip]"}));
    // The gradient passes inside the range only.
    array g = grad([](const array& v) { return sum(clip(v, array(-1.0f), array(1.0f))); })(x);
    EXPECT_TRUE(arrays_equal(g, array({0.0f, 1.0f, 0.0f})));
    const double pi = std::numbers::pi;
    EXPECT_NEAR(degrees(array(static_cast<float>(pi))).item<float>(), 180.0f, 1e-4);
    EXPECT_NEAR(radians(array(180.0f)).item<float>(), static_cast<float>(pi), 1e-6);
    EXPECT_EQ(degrees(array(1.0f, float16)).dtype(), float16);
    EXPECT_EQ(radians(array(90)).dtype(), float32);
  });
}

// Shifts past the width shift everything out (C++ and GLSL leave them undefined); narrow types
// compute in 32 bits and wrap; bool operands of a shift are uint8; the result dtype promotes.
TEST(ElementwiseBitwise, EdgeCasesOnEveryDevice) {
  for_each_device([](Device) {
    array a({1, -8, 5, -1, 3});
    array n({3, 1, 40, 33, -1});
    EXPECT_EQ(left_shift(a, n, default_device()).to_vector<int32_t>(),
              (std::vector<int32_t>{8, -16, 0, 0, 0}));
    EXPECT_EQ(right_shift(a, n, default_device()).to_vector<int32_t>(),
              (std::vector<int32_t>{0, -4, 0, -1, 0}));
    array i8 = astype(array({1, -128, 127}), int8);
    EXPECT_EQ(left_shift(i8, astype(array({7, 0, 1}), int8), default_device()).to_vector<int32_t>(),
              (std::vector<int32_t>{-128, -128, -2}));
    EXPECT_EQ(bitwise_invert(i8, default_device()).to_vector<int32_t>(), (std::vector<int32_t>{-2, 127, -128}));
    array u = astype(array({0xF0, 0x0F}), uint32);
    EXPECT_EQ(bitwise_xor(u, astype(array({0xFF, 0xFF}), uint32), default_device()).to_vector<uint32_t>(),
              (std::vector<uint32_t>{0x0F, 0xF0}));
    array t({true, false});
    EXPECT_EQ(left_shift(t, t, default_device()).dtype(), uint8);
    EXPECT_EQ(left_shift(t, t, default_device()).to_vector<int32_t>(), (std::vector<int32_t>{2, 0}));
    EXPECT_EQ(bitwise_and(t, array({true, true}), default_device()).dtype(), bool_);
    EXPECT_EQ(bitwise_or(array({1}), astype(array({2}), int64), default_device()).dtype(), int64);
  });
}

}  // namespace
