// Autodiff: check_grad (vjp, jvp and, for scalar outputs, grad/value_and_grad against central
// differences in float64; jvp against the vjp-derived directional derivative) applied to every
// differentiable elementwise op in both call forms, with broadcasting; to every shape op; to
// fused expressions. Then grad of grad, argnums, broadcasting gradients, zero gradients, and
// the transforms' own contracts (value_and_grad's scalar rule, vjp of several outputs).
// The float64 checks run on the CPU (the GPU computes float64 transcendentals in float32, see
// shaders/elementwise_ops.glsl); OnEveryDevice checks float32 gradients on every device.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>
#include <set>

#include "test_util.hpp"
#include "tessera/core/memory.hpp"
#include "tessera/core/primitive.hpp"
#include "tessera/ops/creation.hpp"
#include "tessera/ops/elementwise.hpp"
#include "tessera/ops/misc.hpp"
#include "tessera/ops/reduce.hpp"
#include "tessera/ops/shape.hpp"
#include "tessera/transforms/autodiff.hpp"
#include "tessera/transforms/eval.hpp"

namespace {

using namespace tessera;
using tessera::test::close_values;
using tessera::test::check_grad;
using tessera::test::for_each_device;
using tessera::test::random_array;
using tessera::test::values;
using Fn = tessera::test::Fn;

// The default device is the CPU for the test's lifetime.
struct CpuOnly : tessera::test::DefaultDeviceGuard {
  CpuOnly() : DefaultDeviceGuard(Device(Device::cpu)) {}
};

// ---------------------------------------------------------------------------------------------
// Every differentiable elementwise op.

struct GradOp {
  std::string name;
  int arity;
  Fn fused;  // expression form
  Fn plain;  // (x, device) form
  double lo, hi;  // input domain (differentiable, away from kinks)
  double h = 1e-6, rtol = 1e-6, atol = 1e-7;
};

std::vector<GradOp> grad_ops() {
  std::map<std::string, GradOp> t;
#define TESSERA_TEST_UNARY(N, n)                                                               \
  t[#n] = GradOp{#n, 1, [](const std::vector<array>& a) { return array(tessera::n(a[0])); },    \
                 [](const std::vector<array>& a) { return tessera::n(a[0], default_device()); }, \
                 -2.0, 2.0};
#define TESSERA_TEST_BINARY(N, n)                                                                \
  t[#n] = GradOp{#n, 2, [](const std::vector<array>& a) { return array(tessera::n(a[0], a[1])); }, \
                 [](const std::vector<array>& a) {                                               \
                   return tessera::n(a[0], a[1], default_device());                              \
                 },                                                                              \
                 -2.0, 2.0};
  TESSERA_UNARY_MATH_OPS(TESSERA_TEST_UNARY)
  TESSERA_BINARY_OPS(TESSERA_TEST_BINARY)
#undef TESSERA_TEST_UNARY
#undef TESSERA_TEST_BINARY
  // Domains.
  for (auto n : {"log", "sqrt", "rsqrt", "power"}) t[n].lo = 0.3, t[n].hi = 2.5;
  t["log1p"].lo = -0.5;
  t["tan"].lo = -1.2, t["tan"].hi = 1.2;
  for (auto n : {"arcsin", "arccos", "arctanh"}) t[n].lo = -0.8, t[n].hi = 0.8;
  t["arccosh"].lo = 1.2, t["arccosh"].hi = 3.0;
  for (auto n : {"log2", "log10", "reciprocal"}) t[n].lo = 0.3, t[n].hi = 2.5;
  // remainder: a in one period of b (away from the jumps); floor_divide is piecewise constant.
  t["remainder"].lo = 0.3, t["remainder"].hi = 0.9;
  t.erase("floor_divide");
  t["abs"].lo = 0.2;  // |x| on one side of the kink; the sign flips in the negative test below
  // erfinv is a single-precision approximation on every dtype: wider steps, float tolerances.
  t["erfinv"].lo = -0.8, t["erfinv"].hi = 0.8, t["erfinv"].h = 1e-3, t["erfinv"].rtol = 1e-3,
  t["erfinv"].atol = 1e-4;
  // Outputs that are bool (comparisons, logical ops) carry no gradient: not in this table.
  for (auto n : {"logical_not", "equal", "not_equal", "less", "less_equal", "greater",
                 "greater_equal", "logical_and", "logical_or", "bitwise_and", "bitwise_or",
                 "bitwise_xor", "bitwise_invert", "left_shift", "right_shift"}) {
    t.erase(n);
  }
  std::vector<GradOp> out;
  for (auto& [k, v] : t) out.push_back(v);
  return out;
}

TEST(AutodiffElementwise, EveryOpAgainstFiniteDifferences) {
  const CpuOnly cpu_only;
  auto ops = grad_ops();
  // Every unary/binary op of the list is here or is bool-valued.
  // (floor_divide, piecewise constant, is checked for zero gradients elsewhere.)
  // Bool-valued and integer-only ops (bitwise) carry no gradient either.
  EXPECT_EQ(ops.size(), 33u - 2u + 24u - 13u - 1u);
  for (auto& op : ops) {
    SCOPED_TRACE(op.name);
    if (op.arity == 1) {
      array x = random_array({2, 3}, 11, float64, op.lo, op.hi);
      EXPECT_TRUE(check_grad(op.fused, {x}, op.rtol, op.atol, op.h)) << "expression form";
      EXPECT_TRUE(check_grad(op.plain, {x}, op.rtol, op.atol, op.h)) << "(x, device) form";
      // 0-d input: scalar output, so grad/value_and_grad are checked too.
      array s = random_array({}, 12, float64, op.lo, op.hi);
      EXPECT_TRUE(check_grad(op.fused, {s}, op.rtol, op.atol, op.h)) << "0-d";
    } else {
      const std::vector<std::pair<Shape, Shape>> shapes = {
          {{2, 3}, {2, 3}}, {{2, 3}, {3}}, {{2, 1}, {1, 3}}, {{}, {2, 3}}, {{}, {}}};
      for (auto& [sa, sb] : shapes) {
        SCOPED_TRACE(shape_string(sa) + " with " + shape_string(sb));
        array a = random_array(sa, 21, float64, op.lo, op.hi);
        array b = random_array(sb, 22, float64, op.name == "power" ? -1.5 : op.lo,
                               op.name == "power" ? 1.5 : op.hi);
        EXPECT_TRUE(check_grad(op.fused, {a, b}, op.rtol, op.atol, op.h)) << "expression form";
        EXPECT_TRUE(check_grad(op.plain, {a, b}, op.rtol, op.atol, op.h)) << "(x, device) form";
      }
    }
  }
}

TEST(AutodiffElementwise, KinksOnTheOtherSide) {
  const CpuOnly cpu_only;
  // abs for negative inputs, maximum/minimum with either operand winning.
  array neg = random_array({2, 3}, 31, float64, -2.0, -0.2);
  EXPECT_TRUE(check_grad([](const std::vector<array>& a) { return array(abs(a[0])); }, {neg}));
  array a = array({1.0, -1.0, 2.0, 0.5}, float64);
  array b = array({0.5, 0.0, 3.0, -2.0}, float64);
  EXPECT_TRUE(check_grad([](const std::vector<array>& x) { return array(maximum(x[0], x[1])); }, {a, b}));
  EXPECT_TRUE(check_grad([](const std::vector<array>& x) { return array(minimum(x[0], x[1])); }, {a, b}));
}

TEST(AutodiffElementwise, WhereAndAstype) {
  const CpuOnly cpu_only;
  array cond = array({true, false, true, false, false, true}, Shape{2, 3});
  auto sel = [cond](const std::vector<array>& x) { return array(where(cond, x[0], x[1])); };
  array x = random_array({2, 3}, 41, float64);
  array y = random_array({2, 3}, 42, float64);
  EXPECT_TRUE(check_grad(sel, {x, y}));
  // Broadcast operands of where.
  array yb = random_array({3}, 43, float64);
  EXPECT_TRUE(check_grad(sel, {x, yb}));
  auto sel_plain = [cond](const std::vector<array>& v) { return where(cond, v[0], v[1], default_device()); };
  EXPECT_TRUE(check_grad(sel_plain, {x, yb}));
  // A data-dependent condition: where(x > y, x * y, exp(x)).
  auto piecewise = [](const std::vector<array>& v) {
    return array(where(v[0] > v[1], v[0] * v[1], exp(v[0])));
  };
  EXPECT_TRUE(check_grad(piecewise, {x, y}));
  // astype between float types passes gradients through.
  auto cast = [](const std::vector<array>& v) {
    return astype(astype(v[0], float32) * 3.0f, float64);
  };
  auto [out, g] = vjp([&](const std::vector<array>& v) { return std::vector<array>{cast(v)}; },
                      {x}, {array(std::vector<double>(6, 1.0), Shape{2, 3}, float64)});
  EXPECT_TRUE(close_values(g[0], std::vector<double>(6, 3.0), 0, 0));
}

// ---------------------------------------------------------------------------------------------
// Fused expressions

TEST(AutodiffFused, ExpressionsAgainstFiniteDifferences) {
  const CpuOnly cpu_only;
  {
    array x = random_array({2, 3}, 51, float64);
    array y = random_array({3}, 52, float64, 0.5, 2.0);
    const std::vector<std::pair<const char*, Fn>> fns = {
        {"sin(x) * 2 + exp(-x * x) * x",
         [](const std::vector<array>& v) { return array(sin(v[0]) * 2 + exp(-v[0] * v[0]) * v[0]); }},
        {"x * y + sin(x) / (1 + y * y)",
         [](const std::vector<array>& v) {
           return array(v[0] * v[1] + sin(v[0]) / (1.0 + v[1] * v[1]));
         }},
        {"tanh(x) * sqrt(y) - sigmoid(x * y) + log(y) * square(x)",
         [](const std::vector<array>& v) {
           return array(tanh(v[0]) * sqrt(v[1]) - sigmoid(v[0] * v[1]) + log(v[1]) * square(v[0]));
         }},
        {"power(y, x) + maximum(x, y) * rsqrt(y)",
         [](const std::vector<array>& v) {
           return array(power(v[1], v[0]) + maximum(v[0], v[1]) * rsqrt(v[1]));
         }},
        {"x reused through views: transpose(x) * x[..]",
         [](const std::vector<array>& v) {
           array t = transpose(v[0]);                   // (3,2)
           return array(t * exp(v[1].reshape({3, 1})) + cos(t));
         }},
    };
    for (auto& [name, f] : fns) {
      SCOPED_TRACE(name);
      EXPECT_TRUE(check_grad(f, {x, y}));
    }
  }
}

// The fused node's rule gives the same gradient as the op-by-op graph.
TEST(AutodiffFused, FusedAndUnfusedGradientsAgree) {
  const CpuOnly cpu_only;
  array x = random_array({4}, 61, float64);
  Device d = default_device();
  auto fused = [](const array& v) { return array(sin(v) * 2 + exp(-v * v) * v); };
  auto plain = [d](const array& v) {
    return add(multiply(sin(v, d), 2.0, d), multiply(exp(multiply(negative(v, d), v, d), d), v, d), d);
  };
  array ct = random_array({4}, 62, float64);
  auto [o1, g1] = vjp(fused, x, ct);
  auto [o2, g2] = vjp(plain, x, ct);
  EXPECT_TRUE(close_values(g1, values(g2), 1e-12, 1e-12));
  array tan = random_array({4}, 63, float64);
  auto [p1, t1] = jvp(fused, x, tan);
  auto [p2, t2] = jvp(plain, x, tan);
  EXPECT_TRUE(close_values(t1, values(t2), 1e-12, 1e-12));
  // And the analytic derivative: 2 cos x + exp(-x^2) (1 - 2 x^2).
  std::vector<double> expect;
  auto xv = values(x), cv = values(ct);
  for (size_t i = 0; i < xv.size(); ++i) {
    double v = xv[i];
    expect.push_back(cv[i] * (2 * std::cos(v) + std::exp(-v * v) * (1 - 2 * v * v)));
  }
  EXPECT_TRUE(close_values(g1, expect, 1e-12, 1e-12));
}

// ---------------------------------------------------------------------------------------------
// Shape ops

TEST(AutodiffShape, EveryShapeOpAgainstFiniteDifferences) {
  const CpuOnly cpu_only;
  array x = random_array({2, 3, 4}, 71, float64);
  array y = random_array({2, 2, 4}, 72, float64);
  const std::vector<std::pair<const char*, Fn>> fns = {
      {"reshape", [](const std::vector<array>& v) { return reshape(v[0], {6, -1}); }},
      {"reshape of a transposed view",
       [](const std::vector<array>& v) { return reshape(transpose(v[0]), {4, 6}); }},
      {"flatten", [](const std::vector<array>& v) { return flatten(v[0], 1, 2); }},
      {"transpose", [](const std::vector<array>& v) { return transpose(v[0], {1, 2, 0}); }},
      {"transpose default", [](const std::vector<array>& v) { return transpose(v[0]); }},
      {"swapaxes", [](const std::vector<array>& v) { return swapaxes(v[0], 0, 2); }},
      {"moveaxis", [](const std::vector<array>& v) { return moveaxis(v[0], 0, -1); }},
      {"broadcast_to",
       [](const std::vector<array>& v) { return broadcast_to(reshape(v[0], {2, 1, 3, 4}), {2, 5, 3, 4}); }},
      {"expand_dims", [](const std::vector<array>& v) { return expand_dims(v[0], {0, 2}); }},
      {"squeeze", [](const std::vector<array>& v) { return squeeze(expand_dims(v[0], 1), 1); }},
      {"slice", [](const std::vector<array>& v) { return slice(v[0], {0, 1, 0}, {2, 3, 4}, {1, 1, 2}); }},
      {"slice negative strides",
       [](const std::vector<array>& v) { return slice(v[0], {1, 2, 3}, {-3, -4, 0}, {-1, -2, -2}); }},
      {"concatenate", [](const std::vector<array>& v) { return concatenate({v[0], v[1], v[0]}, 1); }},
      {"concatenate flat", [](const std::vector<array>& v) { return concatenate({v[1], v[0]}); }},
      {"stack", [](const std::vector<array>& v) { return stack({v[0], v[0] * 2.0}, 1); }},
      {"split (one part)", [](const std::vector<array>& v) { return split(v[0], 2, 2)[1]; }},
      {"split (parts combined)",
       [](const std::vector<array>& v) {
         auto p = split(v[0], Shape{1, 3}, 2);
         return concatenate({p[2] * 3.0, p[0], p[1] * p[1]}, 2);
       }},
      {"contiguous", [](const std::vector<array>& v) { return contiguous(transpose(v[0])); }},
      {"broadcast_arrays",
       [](const std::vector<array>& v) {
         auto b = broadcast_arrays({reshape(v[0], {2, 1, 3, 4}), v[1].reshape({2, 2, 1, 4})});
         return array(b[0] * b[1]);
       }},
  };
  for (auto& [name, f] : fns) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(check_grad(f, {x, y}));
  }
}

// ---------------------------------------------------------------------------------------------
// The transforms

TEST(AutodiffTransforms, GradOfGrad) {
  const CpuOnly cpu_only;
  std::function<array(const array&)> f = [](const array& x) { return array(sin(x)); };
  auto d1 = grad(f);
  auto d2 = grad(d1);
  auto d3 = grad(d2);
  for (double v : {-1.3, 0.0, 0.7, 2.0}) {
    array x(v, float64);
    EXPECT_NEAR(d1(x).item<double>(), std::cos(v), 1e-12) << v;
    EXPECT_NEAR(d2(x).item<double>(), -std::sin(v), 1e-12) << v;
    EXPECT_NEAR(d3(x).item<double>(), -std::cos(v), 1e-12) << v;
  }
  // x^3 -> 3x^2 -> 6x, through a fused expression.
  std::function<array(const array&)> cube = [](const array& x) { return array(x * x * x); };
  EXPECT_NEAR(grad(grad(cube))(array(1.5, float64)).item<double>(), 9.0, 1e-12);
  // A second derivative of a two-op exp chain: d2/dx2 exp(2x) = 4 exp(2x).
  std::function<array(const array&)> e2 = [](const array& x) { return array(exp(x * 2.0)); };
  EXPECT_NEAR(grad(grad(e2))(array(0.3, float64)).item<double>(), 4 * std::exp(0.6), 1e-9);
}

TEST(AutodiffTransforms, ValueAndGradOfScalarFunctions) {
  const CpuOnly cpu_only;
  // f(x, y) = sum(x * y + sin(x)); gradients y + cos(x) and x.
  auto f = [](const std::vector<array>& v) { return sum(v[0] * v[1] + sin(v[0])); };
  array x = random_array({2, 3}, 81, float64);
  array y = random_array({2, 3}, 82, float64);
  auto [val, g] = value_and_grad(f, std::vector<int>{0, 1})({x, y});
  auto xv = values(x), yv = values(y);
  double expect_val = 0;
  std::vector<double> gx, gy;
  for (size_t i = 0; i < xv.size(); ++i) {
    expect_val += xv[i] * yv[i] + std::sin(xv[i]);
    gx.push_back(yv[i] + std::cos(xv[i]));
    gy.push_back(xv[i]);
  }
  EXPECT_NEAR(val.item<double>(), expect_val, 1e-12);
  ASSERT_EQ(g.size(), 2u);
  EXPECT_TRUE(close_values(g[0], gx, 1e-12, 1e-12));
  EXPECT_TRUE(close_values(g[1], gy, 1e-12, 1e-12));
  // argnums selects; grad returns just the gradients.
  auto only_y = grad(f, 1)({x, y});
  ASSERT_EQ(only_y.size(), 1u);
  EXPECT_TRUE(close_values(only_y[0], gy, 1e-12, 1e-12));
  // Single-array form.
  auto vg = value_and_grad(std::function<array(const array&)>(
      [](const array& a) { return sum(square(a)); }));
  auto [v1, g1] = vg(x);
  std::vector<double> twice;
  for (double v : xv) twice.push_back(2 * v);
  EXPECT_TRUE(close_values(g1, twice, 1e-12, 1e-12));
  // check_grad on the scalar function exercises grad and value_and_grad against differences.
  EXPECT_TRUE(check_grad(f, {x, y}));
  // float32 inputs give float32 gradients.
  auto g32 = grad(f, 0)({astype(x, float32), astype(y, float32)});
  EXPECT_EQ(g32[0].dtype(), float32);
  EXPECT_TRUE(close_values(g32[0], gx, 1e-5, 1e-6));
}

TEST(AutodiffTransforms, NonScalarOutputIsRejected) {
  const CpuOnly cpu_only;
  auto f = [](const std::vector<array>& v) { return array(v[0] * 2.0); };
  array x = random_array({3}, 91, float64);
  EXPECT_THROW(value_and_grad(f)({x}), std::invalid_argument);
  EXPECT_THROW(grad(f)({x}), std::invalid_argument);
}

TEST(AutodiffTransforms, BroadcastingGradientsSumBackToInputShape) {
  const CpuOnly cpu_only;
  // f(x, b, s) = sum((x + b) * s) with x (2,3), b (3,), s (): db = sum over rows of s, ds = sum(x+b).
  auto f = [](const std::vector<array>& v) { return sum((v[0] + v[1]) * v[2]); };
  array x = array({1.0, 2.0, 3.0, 4.0, 5.0, 6.0}, Shape{2, 3}, float64);
  array b = array({0.5, -1.0, 2.0}, float64);
  array s = array(3.0, float64);
  auto g = grad(f, std::vector<int>{0, 1, 2})({x, b, s});
  ASSERT_EQ(g.size(), 3u);
  EXPECT_EQ(g[0].shape(), (Shape{2, 3}));
  EXPECT_EQ(g[1].shape(), (Shape{3}));
  EXPECT_EQ(g[2].shape(), (Shape{}));
  EXPECT_TRUE(close_values(g[0], std::vector<double>(6, 3.0), 0, 0));
  EXPECT_TRUE(close_values(g[1], {6.0, 6.0, 6.0}, 0, 0));
  EXPECT_TRUE(close_values(g[2], {1 + 2 + 3 + 4 + 5 + 6 + 2 * (0.5 - 1.0 + 2.0)}, 1e-12, 0));
  // Keep-dims broadcasting: (2,1) against (1,3).
  auto h = [](const std::vector<array>& v) { return sum(v[0] * v[1]); };
  array c = array({1.0, 2.0}, Shape{2, 1}, float64);
  array r = array({1.0, 10.0, 100.0}, Shape{1, 3}, float64);
  auto gh = grad(h, std::vector<int>{0, 1})({c, r});
  EXPECT_EQ(gh[0].shape(), (Shape{2, 1}));
  EXPECT_EQ(gh[1].shape(), (Shape{1, 3}));
  EXPECT_TRUE(close_values(gh[0], {111, 111}, 0, 0));
  EXPECT_TRUE(close_values(gh[1], {3, 3, 3}, 0, 0));
}

TEST(AutodiffTransforms, JvpMatchesVjpDirectionalDerivative) {
  const CpuOnly cpu_only;
  auto f = [](const array& x) { return array(sin(x) * x + exp(x * 0.5)); };
  array x = random_array({5}, 101, float64);
  array t = random_array({5}, 102, float64);
  auto [out, jt] = jvp(f, x, t);
  // Row i of the Jacobian from vjp with the i-th unit cotangent; J t from those rows.
  auto tv = values(t);
  std::vector<double> from_vjp;
  for (int i = 0; i < 5; ++i) {
    std::vector<double> e(5, 0.0);
    e[i] = 1.0;
    auto [o, row] = vjp(f, x, array(e, Shape{5}, float64));
    auto rv = values(row);
    double d = 0;
    for (int k = 0; k < 5; ++k) d += rv[k] * tv[k];
    from_vjp.push_back(d);
  }
  EXPECT_TRUE(close_values(jt, from_vjp, 1e-12, 1e-12));
  EXPECT_TRUE(close_values(out, values(array(f(x))), 0, 0));
}

TEST(AutodiffTransforms, SeveralOutputsAndUnusedInputs) {
  const CpuOnly cpu_only;
  ArrayFn f = [](const std::vector<array>& v) {
    return std::vector<array>{array(v[0] * v[1]), array(sin(v[0]))};
  };
  array a = array({0.5, 1.5}, float64);
  array b = array({2.0, -1.0}, float64);
  array c = array({7.0, 8.0}, float64);  // unused
  auto [outs, cots] = vjp(
      [&](const std::vector<array>& v) { return f({v[0], v[1]}); }, {a, b},
      {array({1.0, 1.0}, float64), array({10.0, 100.0}, float64)});
  ASSERT_EQ(outs.size(), 2u);
  // d/da = b * 1 + cos(a) * ct2 ; d/db = a
  EXPECT_TRUE(close_values(cots[0], {2.0 + 10 * std::cos(0.5), -1.0 + 100 * std::cos(1.5)}, 1e-12, 1e-12));
  EXPECT_TRUE(close_values(cots[1], {0.5, 1.5}, 0, 0));
  auto [o3, g3] = vjp([](const std::vector<array>& v) { return std::vector<array>{array(v[0] * 2.0)}; },
                      {a, c}, {array({1.0, 1.0}, float64)});
  ASSERT_EQ(g3.size(), 2u);
  EXPECT_TRUE(close_values(g3[1], {0, 0}, 0, 0));
  EXPECT_EQ(g3[1].shape(), c.shape());
  // stop_gradient cuts the path.
  auto sg = grad([](const std::vector<array>& v) { return sum(v[0] * stop_gradient(v[0])); })({a});
  EXPECT_TRUE(close_values(sg[0], {0.5, 1.5}, 0, 0));
  // Tangents through two outputs.
  auto [jo, jt] = jvp(f, {a, b}, {array({1.0, 0.0}, float64), array({0.0, 1.0}, float64)});
  ASSERT_EQ(jt.size(), 2u);
  EXPECT_TRUE(close_values(jt[0], {2.0, 1.5}, 0, 0));  // b*ta + a*tb
  EXPECT_TRUE(close_values(jt[1], {std::cos(0.5), 0.0}, 1e-12, 1e-12));
}

// The transforms do not evaluate or change their inputs, and the arrays they return are lazy
// graphs that evaluate to the right values on every device.
TEST(AutodiffTransforms, OnEveryDevice) {
  for_each_device([](Device) {
    array x = array({0.1f, 0.2f, 0.3f});
    auto g = grad([](const std::vector<array>& v) { return sum(exp(v[0])); })({x});
    EXPECT_EQ(g[0].dtype(), float32);
    EXPECT_TRUE(close_values(g[0], {std::exp(0.1), std::exp(0.2), std::exp(0.3)}, 1e-6, 0));
    EXPECT_TRUE(close_values(x, {0.1f, 0.2f, 0.3f}, 0, 0));
    // A fused expression's float32 gradient on this device against float64 on the CPU.
    auto f = [](const std::vector<array>& v) {
      return sum(sin(v[0]) * 2 + exp(-v[0] * v[0]) * v[0] + v[0] * v[1]);
    };
    array a = random_array({2, 3}, 121);
    array b = random_array({3}, 122);
    auto g32 = grad(f, std::vector<int>{0, 1})({a, b});
    std::vector<array> g64;
    {
      CpuOnly cpu;
      g64 = grad(f, std::vector<int>{0, 1})({astype(a, float64), astype(b, float64)});
      eval(g64);
    }
    EXPECT_TRUE(close_values(g32[0], values(g64[0]), 1e-5, 1e-5));
    EXPECT_TRUE(close_values(g32[1], values(g64[1]), 1e-5, 1e-5));
  });
}

// ---------------------------------------------------------------------------------------------
// check_grad itself must fail on wrong rules: a sin primitive whose jvp or vjp is scaled.

class ScaledRuleSin : public Primitive {
 public:
  ScaledRuleSin(Stream s, double jvp_scale, double vjp_scale)
      : Primitive(s), jvp_scale_(jvp_scale), vjp_scale_(vjp_scale) {}
  void eval_cpu(const std::vector<array>& inputs, std::vector<array>& outputs) override {
    auto& in = const_cast<array&>(inputs[0]);
    if (!(in.dtype() == float64) || !in.flags().row_contiguous) {
      throw std::runtime_error("[ScaledRuleSin] test primitive takes dense float64");
    }
    const double* x = static_cast<const double*>(in.raw_host_ptr());
    outputs[0].set_data(allocate(outputs[0].nbytes(), Device(Device::cpu)));
    double* y = static_cast<double*>(outputs[0].raw_host_ptr());
    for (size_t i = 0; i < in.size(); ++i) y[i] = std::sin(x[i]);
  }
  std::vector<array> jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                         const std::vector<int>&) override {
    return {array(tangents[0] * cos(primals[0]) * jvp_scale_)};
  }
  std::vector<array> vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                         const std::vector<int>&, const std::vector<array>&) override {
    return {array(cotangents[0] * cos(primals[0]) * vjp_scale_)};
  }
  const char* name() const override { return "ScaledRuleSin"; }

 private:
  double jvp_scale_, vjp_scale_;
};

Fn scaled_sin(double jvp_scale, double vjp_scale) {
  return [=](const std::vector<array>& v) {
    array x = contiguous(v[0]);
    return array(x.shape(), float64,
                 std::make_shared<ScaledRuleSin>(default_stream(Device(Device::cpu)), jvp_scale,
                                                 vjp_scale),
                 {x});
  };
}

TEST(AutodiffCheckGrad, DetectsWrongRules) {
  tessera::test::DefaultDeviceGuard cpu(Device(Device::cpu));
  array x = random_array({3}, 111, float64);
  EXPECT_TRUE(check_grad(scaled_sin(1.0, 1.0), {x}));
  EXPECT_FALSE(check_grad(scaled_sin(1.0, 1.001), {x})) << "a wrong vjp must be caught";
  EXPECT_FALSE(check_grad(scaled_sin(1.001, 1.0), {x})) << "a wrong jvp must be caught";
  array s = random_array({}, 112, float64);
  EXPECT_FALSE(check_grad(scaled_sin(1.0, 1.001), {s})) << "scalar: grad/value_and_grad path";
}

}  // namespace
