// The composed shape ops (ops/rearrange.hpp): NumPy fixtures (tests/fixtures/rearrange.txt, from
// gen_rearrange.py) on every device, meshgrid / unstack / unflatten / atleast_nd by hand, and
// gradients through the compositions.
#include <gtest/gtest.h>

#include <sstream>

#include "tessera/tessera.hpp"
#include "test_util.hpp"

namespace {

using namespace tessera;
using namespace tessera::test;

std::vector<std::string> parts(const std::string& op) {
  std::vector<std::string> p;
  std::stringstream ss(op);
  std::string part;
  while (std::getline(ss, part, ':')) p.push_back(part);
  return p;
}
std::vector<int> ints(const std::string& s) {
  std::vector<int> v;
  if (s == "-") return v;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, ',')) v.push_back(std::stoi(part));
  return v;
}
Shape shape_of(const std::string& s) {
  auto v = ints(s);
  return Shape(v.begin(), v.end());
}

array run_case(const FixtureCase& c, const std::vector<array>& in, Device d) {
  const auto p = parts(c.op);
  const std::string& op = p[0];
  if (op == "pad") {
    const Shape lo = shape_of(p[2]), hi = shape_of(p[3]);
    std::vector<int> axes(lo.size());
    for (size_t i = 0; i < axes.size(); ++i) axes[i] = static_cast<int>(i);
    return pad(in[0], axes, lo, hi, array(std::stoi(p[4])), p[1], d);
  }
  if (op == "tile") return tile(in[0], ints(p[1]), d);
  if (op == "repeat") return p[2] == "none" ? repeat(in[0], std::stoi(p[1]), d) : repeat(in[0], std::stoi(p[1]), std::stoi(p[2]), d);
  if (op == "roll") return p[2] == "none" ? roll(in[0], shape_of(p[1]), d) : roll(in[0], shape_of(p[1]), ints(p[2]), d);
  if (op == "flip") return p[1] == "none" ? flip(in[0], d) : flip(in[0], std::stoi(p[1]), d);
  if (op == "diff") return diff(in[0], std::stoi(p[1]), std::stoi(p[2]), d);
  if (op == "tril") return tril(in[0], std::stoi(p[1]), d);
  if (op == "triu") return triu(in[0], std::stoi(p[1]), d);
  if (op == "diagonal") return diagonal(in[0], std::stoi(p[1]), std::stoi(p[2]), std::stoi(p[3]), d);
  if (op == "diag") return diag(in[0], std::stoi(p[1]), d);
  if (op == "trace") return trace(in[0], std::stoi(p[1]), std::stoi(p[2]), std::stoi(p[3]), d);
  if (op == "kron") return kron(in[0], in[1], d);
  if (op == "tensordot") return tensordot(in[0], in[1], ints(p[1]), ints(p[2]), d);
  if (op == "outer") return outer(in[0], in[1], d);
  if (op == "inner") return inner(in[0], in[1], d);
  if (op == "vecdot") return vecdot(in[0], in[1], std::stoi(p[1]), d);
  throw std::invalid_argument("[test] unknown op " + op);
}

class RearrangeFixture : public ::testing::TestWithParam<FixtureCase> {};

TEST_P(RearrangeFixture, MatchesNumPyOnEveryDevice) {
  const FixtureCase& c = GetParam();
  std::vector<array> in;
  for (auto& t : c.inputs) in.push_back(fixture_array(t));
  array want = fixture_expected(c.output);
  for (Device d : available_devices()) {
    if (d.type == Device::gpu && want.dtype() == float64) continue;  // matmul float64: CPU only (matmul_test)
    array got = run_case(c, in, d);
    ASSERT_EQ(got.dtype(), want.dtype()) << device_name(d);
    const double tol = c.tolerance == "float" ? 1e-5 : 0;
    EXPECT_TRUE(arrays_close(got, want, tol, tol)) << c.name << " on " << device_name(d);
  }
}

INSTANTIATE_TEST_SUITE_P(NumPy, RearrangeFixture, ::testing::ValuesIn(load_fixture("rearrange.txt")),
                         [](const auto& info) { return info.param.name; });

TEST(Rearrange, MeshgridUnstackUnflattenAtleast) {
  array x = array({1.f, 2.f, 3.f}), y = array({4.f, 5.f});
  auto xy = meshgrid({x, y});
  EXPECT_EQ(xy[0].shape(), (Shape{2, 3}));
  EXPECT_EQ(xy[0].to_vector<float>(), (std::vector<float>{1, 2, 3, 1, 2, 3}));
  EXPECT_EQ(xy[1].to_vector<float>(), (std::vector<float>{4, 4, 4, 5, 5, 5}));
  auto ij = meshgrid({x, y}, false, "ij");
  EXPECT_EQ(ij[0].shape(), (Shape{3, 2}));
  EXPECT_EQ(ij[1].to_vector<float>(), (std::vector<float>{4, 5, 4, 5, 4, 5}));
  auto sp = meshgrid({x, y}, true);
  EXPECT_EQ(sp[0].shape(), (Shape{1, 3}));
  EXPECT_EQ(sp[1].shape(), (Shape{2, 1}));
  array a = arange(24.0, float32).reshape({2, 3, 4});
  auto u = unstack(a, 1);
  ASSERT_EQ(u.size(), 3u);
  EXPECT_EQ(u[2].shape(), (Shape{2, 4}));
  EXPECT_EQ(u[2].to_vector<float>()[0], 8.f);
  EXPECT_EQ(unflatten(a, 2, {2, -1}).shape(), (Shape{2, 3, 2, 2}));
  EXPECT_EQ(atleast_1d(array(1.f)).shape(), Shape{1});
  EXPECT_EQ(atleast_2d(x).shape(), (Shape{1, 3}));
  EXPECT_EQ(atleast_3d(x).shape(), (Shape{1, 3, 1}));
  EXPECT_EQ(atleast_3d(zeros({2, 5})).shape(), (Shape{2, 5, 1}));
  EXPECT_EQ(atleast_2d(std::vector<array>{x, a}).at(1).shape(), a.shape());
  EXPECT_EQ(tensordot(ones({2, 3}), ones({3, 4}), 1).shape(), (Shape{2, 4}));
  EXPECT_EQ(trace(eye(4)).item<float>(), 4.f);
  EXPECT_EQ(diag(zeros({0, 0})).shape(), Shape{0});
}

TEST(Rearrange, Gradients) {
  array x = random_array({3, 4}, 51, float64);
  auto g1 = [](std::function<array(const array&)> f) {
    return [f](const std::vector<array>& a) { return f(a[0]); };
  };
  EXPECT_TRUE(check_grads(g1([](const array& a) { return pad(a, {0, 1}, {1, 0}, {2, 3}, array(0), "reflect"); }), {x}));
  EXPECT_TRUE(check_grads(g1([](const array& a) { return pad(a, 2, array(0), "symmetric"); }), {x}));
  EXPECT_TRUE(check_grads(g1([](const array& a) { return pad(a, 1, array(3.0)); }), {x}));
  EXPECT_TRUE(check_grads(g1([](const array& a) { return tile(a, {2, 1, 2}); }), {x}));
  EXPECT_TRUE(check_grads(g1([](const array& a) { return repeat(a, 2, 0); }), {x}));
  EXPECT_TRUE(check_grads(g1([](const array& a) { return roll(a, Shape{1, 3}, {0, 1}); }), {x}));
  EXPECT_TRUE(check_grads(g1([](const array& a) { return flip(a); }), {x}));
  EXPECT_TRUE(check_grads(g1([](const array& a) { return diff(a, 2, 1); }), {x}));
  EXPECT_TRUE(check_grads(g1([](const array& a) { return triu(tril(a, 1), -1); }), {x}));
  EXPECT_TRUE(check_grads(g1([](const array& a) { return diagonal(a, 1); }), {x}));
  EXPECT_TRUE(check_grads(g1([](const array& a) { return diag(take(a, 0, 0), 1); }), {x}));
  EXPECT_TRUE(check_grads(g1([](const array& a) { return trace(a, -1, 0, 1); }), {x}));
  EXPECT_TRUE(check_grads(
      [](const std::vector<array>& a) { return kron(a[0], a[1]); }, {x, random_array({2, 2}, 52, float64)}));
  EXPECT_TRUE(check_grads([](const std::vector<array>& a) { return tensordot(a[0], a[1], {1}, {0}); },
                          {x, random_array({4, 2}, 53, float64)}));
  EXPECT_TRUE(check_grads([](const std::vector<array>& a) { return vecdot(a[0], a[1]); },
                          {x, random_array({4}, 54, float64)}));
}

}  // namespace
