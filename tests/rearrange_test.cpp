// The composed shape ops (ops/rearrange.hpp): NumPy fixtures (tests/fixtures/rearrange.txt, from
// gen_rearrange.py) on every device, meshgrid / unstack / unflatten / atleast_nd by hand, and
// gradients through the compositions.
#include <gtest/gtest.h>

#include <limits>
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

namespace {
using namespace tessera;
using namespace tessera::test;

// MLX 0.32's additions, against NumPy's values (numpy.hanning(6), ...), on every device.
TEST(MlxAdditions, WindowsRoundingAndFriends) {
  for (Device d : available_devices()) {
    EXPECT_TRUE(close_values(values(hanning(6, d)), {0.0, 0.345491498708725, 0.9045084714889526, 0.9045084714889526,
                                                     0.345491498708725, 0.0}, 1e-6, 1e-6)) << device_name(d);
    EXPECT_TRUE(close_values(values(hamming(6, d)), {0.08, 0.39785218238830566, 0.9121478199958801, 0.9121478199958801,
                                                     0.39785218238830566, 0.08}, 1e-6, 1e-6));
    EXPECT_TRUE(close_values(values(bartlett(6, d)), {0.0, 0.4, 0.8, 0.8, 0.4, 0.0}, 1e-6, 1e-6));
    EXPECT_TRUE(close_values(values(blackman(6, d)), {0.0, 0.20077013969421387, 0.8492298722267151, 0.8492298722267151,
                                                      0.20077013969421387, 0.0}, 1e-6, 1e-6));
    EXPECT_EQ(hanning(0, d).shape(), Shape{0});
    EXPECT_EQ(blackman(1, d).to_vector<float>(), (std::vector<float>{1.f}));
    EXPECT_EQ(linspace(0, 1, 4, false, float32, d).to_vector<float>(), (std::vector<float>{0, 0.25, 0.5, 0.75}));
    EXPECT_TRUE(close_values(values(round(array({1.2345, -2.675, 0.125}, float64), 2, d)), {1.23, -2.68, 0.12}, 1e-12,
                             1e-12));
    EXPECT_EQ(trunc(array({-1.7f, 1.7f}), d).to_vector<float>(), (std::vector<float>{-1.f, 1.f}));
    EXPECT_EQ(positive(array({-1, 2}), d).to_vector<int32_t>(), (std::vector<int32_t>{-1, 2}));
    EXPECT_EQ(logical_xor(array({1, 0, 2}), array({true, false, false}), d).to_vector<int32_t>(),
              (std::vector<int32_t>{0, 0, 1}));
    auto n = nan_to_num(array({NAN, INFINITY, -INFINITY, 1.f}), 0.0f, std::nullopt, std::nullopt, d).to_vector<float>();
    EXPECT_EQ(n, (std::vector<float>{0.f, std::numeric_limits<float>::max(), -std::numeric_limits<float>::max(), 1.f}));
    EXPECT_EQ(nan_to_num(array({NAN}), 5.0f, 1.0f, -1.0f, d).item<float>(), 5.f);
    auto dm = divmod(array({7, -7}), array({2, 2}), d);
    EXPECT_EQ(dm[0].to_vector<int32_t>(), (std::vector<int32_t>{3, -4}));
    EXPECT_EQ(dm[1].to_vector<int32_t>(), (std::vector<int32_t>{1, 1}));
    EXPECT_EQ(count_nonzero(array({0, 3, 0, 1}, {2, 2}), 1, false, d).to_vector<int32_t>(), (std::vector<int32_t>{1, 1}));
    EXPECT_EQ(count_nonzero(array({0.f, 2.f}), false, d).item<int32_t>(), 1);
  }
  EXPECT_EQ(zeros_like(array({1.f}), int32).dtype(), int32);
  EXPECT_EQ(ones_like(array({1}), float16).dtype(), float16);
  EXPECT_EQ(concat({array({1}), array({2})}, 0).size(), 2u);
  EXPECT_EQ(permute_dims(zeros({2, 3}), {1, 0}).shape(), (Shape{3, 2}));
  EXPECT_TRUE(isdtype(int8, "signed integer"));
  EXPECT_TRUE(isdtype(float16, "real floating"));
  EXPECT_FALSE(isdtype(bool_, "numeric"));
  EXPECT_THROW(isdtype(int8, "whole"), std::invalid_argument);
  EXPECT_TRUE(can_cast(int8, int32));
  EXPECT_FALSE(can_cast(float32, int32));
  EXPECT_TRUE(check_grads([](const std::vector<array>& a) { return nan_to_num(trunc(a[0]) + round(a[0], 1) * a[0]); },
                          {random_array({5}, 55, float64)}));
}

}  // namespace

namespace {
using namespace tessera;
using namespace tessera::test;

TEST(StridedViews, AsStridedWindowsAndBounds) {
  array x = arange(10.0, float32);
  for (Device d : available_devices()) {
    EXPECT_EQ(as_strided(x, {4, 3}, {2, 1}, 1, d).to_vector<float>(),
              (std::vector<float>{1, 2, 3, 3, 4, 5, 5, 6, 7, 7, 8, 9}))
        << device_name(d);
    EXPECT_EQ(as_strided(x, {3}, {-2}, 9, d).to_vector<float>(), (std::vector<float>{9, 7, 5}));
    // Of a view: as_strided reads the row-major copy.
    EXPECT_EQ(as_strided(transpose(reshape(x, {2, 5})), {2}, {1}, 0, d).to_vector<float>(),
              (std::vector<float>{0, 5}));
  }
  // Overlapping windows: their gradients add up.
  EXPECT_TRUE(check_grads([](const std::vector<array>& a) { return as_strided(a[0], {3, 4}, {2, 1}, 0); },
                          {random_array({8}, 56, float64)}));
}

TEST(StridedViews, ViewReinterpretsBytes) {
  for (Device d : available_devices()) {
    EXPECT_EQ(view(array({1.0f, -2.0f}), int32, d).to_vector<int32_t>(), (std::vector<int32_t>{1065353216, -1073741824}))
        << device_name(d);
    array i8 = view(array({0x01020304, -1}), int8, d);
    EXPECT_EQ(i8.shape(), Shape{8});
    EXPECT_EQ(i8.to_vector<int32_t>(), (std::vector<int32_t>{4, 3, 2, 1, -1, -1, -1, -1}));
    EXPECT_EQ(view(i8, int32, d).to_vector<int32_t>(), (std::vector<int32_t>{0x01020304, -1}));
    // An odd start (a slice of int8) viewed as a wider dtype: copied, then read.
    array bytes = astype(arange(0, 9, 1), uint8);
    EXPECT_EQ(view(slice(bytes, {1}, {9}), uint32, d).to_vector<uint32_t>(),
              (std::vector<uint32_t>{0x04030201u, 0x08070605u}));
    EXPECT_EQ(view(array(1.0f), int32, d).item<int32_t>(), 1065353216);
  }
}

}  // namespace
