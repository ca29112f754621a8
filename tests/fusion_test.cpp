// Expression-template fusion: one graph node, one CPU pass, one GPU dispatch, one kernel
// compilation per expression signature, and the same numbers as the unfused ops.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "tessera/gpu.hpp"
#include "tessera/tessera.hpp"
#include "test_util.hpp"

namespace mx = tessera;

namespace {

// Nodes of the graph above `a` that still have to be computed.
int count_nodes(const mx::array& a) {
  int n = 0;
  std::vector<mx::array> stack{a};
  while (!stack.empty()) {
    mx::array x = stack.back();
    stack.pop_back();
    if (!x.has_primitive()) continue;
    ++n;
    for (auto& in : x.inputs()) stack.push_back(in);
  }
  return n;
}

auto chain(const mx::array& x) { return mx::sin(x) * 2 + mx::exp(-x * x) * x; }

// Every intermediate is kept in a variable, so no call folds into the next (a result used
// once would: see FunctionCallsFold).
mx::array chain_unfused(const mx::array& x, mx::StreamOrDevice s) {
  mx::array xx = mx::multiply(x, x, s);
  mx::array n = mx::negative(xx, s);
  mx::array e = mx::exp(n, s);
  mx::array sn = mx::sin(x, s);
  mx::array two = mx::multiply(sn, mx::array(2.0f), s);
  mx::array ex = mx::multiply(e, x, s);
  return mx::add(two, ex, s);
}

std::vector<mx::Device> devices() {
  std::vector<mx::Device> d{mx::Device(mx::Device::cpu)};
  if (mx::is_available(mx::Device(mx::Device::gpu))) d.push_back(mx::Device(mx::Device::gpu));
  return d;
}

TEST(Fusion, ChainIsOneNode) {
  mx::array x = mx::test::random_array({1000}, 3);
  auto e = chain(x);
  EXPECT_EQ(e.shape(), mx::Shape{1000});
  EXPECT_EQ(e.dtype(), mx::float32);
  mx::array y = e;
  EXPECT_EQ(count_nodes(y), 1);
  // The int scalar 2 becomes an int32 array (MLX's C++ rule), cast to float32 inside the program.
  EXPECT_STREQ(y.primitive().name(), "Fused(Sin,AsType,Multiply,Negative,Multiply,Exp,Multiply,Add)");
  // The unfused form has one node per op.
  EXPECT_EQ(count_nodes(chain_unfused(x, {})), 7);
}

TEST(Fusion, FunctionCallsFold) {
  mx::array x = mx::test::random_array({64}, 4);
  // A function result used once is folded into the op that consumes it.
  mx::array y = mx::exp(mx::sin(x));
  EXPECT_EQ(count_nodes(y), 1);
  EXPECT_STREQ(y.primitive().name(), "Fused(Sin,Exp)");
  EXPECT_EQ(y.inputs().size(), 1u);
  EXPECT_EQ(count_nodes(mx::sqrt(x) * 2 + mx::abs(x)), 1);
  // A result someone else holds stays a node (folding it would compute it twice).
  mx::array s = mx::sin(x);
  mx::array z = mx::exp(s);
  EXPECT_EQ(count_nodes(z), 2);
  EXPECT_STREQ(z.primitive().name(), "Exp");
  // Nor is a node on another stream folded: the op runs where it was asked to.
  mx::Stream other = mx::new_stream(mx::Device::cpu);
  mx::array w = mx::exp(mx::sin(x, other), mx::default_stream(mx::Device::cpu));
  EXPECT_EQ(count_nodes(w), 2);
  // A chain folded call by call stops growing at a bounded program size.
  mx::array a = x;
  for (int i = 0; i < 200; ++i) a = mx::tanh(std::move(a));
  const std::string name = a.primitive().name();
  EXPECT_LE(std::count(name.begin(), name.end(), ','), 63);
  EXPECT_GT(count_nodes(a), 1);
  // Folded or not, the values are the same.
  mx::array ref = x;
  for (int i = 0; i < 200; ++i) {
    mx::array next = mx::tanh(ref, mx::default_device());
    ref = next;
  }
  EXPECT_TRUE(mx::test::arrays_close(a, ref, 1e-6, 1e-7));
  EXPECT_TRUE(mx::test::arrays_close(y, mx::exp(s), 1e-6, 1e-7));
}

TEST(Fusion, SameValuesAsUnfusedOnEveryDevice) {
  for (auto d : devices()) {
    mx::array x = mx::test::random_array({4096}, 5, mx::float32, -3, 3);
    mx::array fused = chain(x).materialize(d);
    mx::array unfused = chain_unfused(x, d);
    EXPECT_TRUE(mx::test::close_values(fused.to_vector<double>(), unfused.to_vector<double>(), 1e-6, 1e-6))
        << "device " << (d.type == mx::Device::gpu ? "gpu" : "cpu");
  }
}

TEST(Fusion, OneDispatchAndOneCompilePerExpression) {
  if (!mx::is_available(mx::Device(mx::Device::gpu))) GTEST_SKIP() << "no GPU";
  mx::Device gpu(mx::Device::gpu);
  mx::array x = mx::test::random_array({1 << 16}, 7);
  mx::eval(x);
  mx::array y = chain(x).materialize(gpu);
  uint64_t before = mx::gpu::dispatch_count();
  mx::eval(y);
  EXPECT_EQ(mx::gpu::dispatch_count() - before, 1u);

  // A new expression of the same type (and dtypes, access pattern) reuses the compiled kernel.
  uint64_t compiles = mx::gpu::kernel_compiles();
  mx::array x2 = mx::test::random_array({1 << 16}, 8);
  mx::eval(x2);
  mx::array y2 = chain(x2).materialize(gpu);
  mx::eval(y2);
  EXPECT_EQ(mx::gpu::kernel_compiles(), compiles);

  // Unfused: one dispatch per op.
  before = mx::gpu::dispatch_count();
  mx::eval(chain_unfused(x, gpu));
  EXPECT_EQ(mx::gpu::dispatch_count() - before, 7u);
}

TEST(Fusion, FusedNodesDifferentiate) {
  // d/dx [sin(x) * 2 + exp(-x^2) * x] = 2 cos(x) + exp(-x^2) (1 - 2 x^2)
  mx::array x = mx::test::random_array({64}, 11, mx::float64, -2, 2);
  auto f = [](const mx::array& v) { return mx::sum(chain(v)); };
  mx::array g = mx::grad(f)(x);
  auto xs = x.to_vector<double>();
  std::vector<double> expect;
  for (double v : xs) expect.push_back(2 * std::cos(v) + std::exp(-v * v) * (1 - 2 * v * v));
  // On the GPU, float64 transcendentals run in float32 (GLSL has none in double precision).
  const double tol = mx::default_device() == mx::Device(mx::Device::gpu) ? 1e-6 : 1e-12;
  EXPECT_TRUE(mx::test::close_values(g.to_vector<double>(), expect, tol, tol));
  // jvp along ones equals the same derivative.
  auto [out, tan] = mx::jvp([](const mx::array& v) { return mx::array(chain(v)); }, x, mx::ones_like(x));
  EXPECT_TRUE(mx::test::close_values(tan.to_vector<double>(), expect, tol, tol));
}

}  // namespace
