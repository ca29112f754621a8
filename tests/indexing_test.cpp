// The indexing ops: NumPy fixtures (tests/fixtures/indexing.txt, from gen_indexing.py) on every
// device, out-of-range and negative indices, dynamic slices, CPU-vs-Vulkan agreement of the
// atomic scatters under heavy contention, and finite-difference gradients.
#include <gtest/gtest.h>

#include <optional>
#include <set>
#include <sstream>

#include "tessera/tessera.hpp"
#include "test_util.hpp"

namespace {

using namespace tessera;
using namespace tessera::test;

std::vector<int> parse_list(const std::string& s) {
  std::vector<int> out;
  if (s == "-") return out;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, ',')) out.push_back(std::stoi(part));
  return out;
}

std::vector<std::string> split_op(const std::string& op) {
  std::vector<std::string> parts;
  std::stringstream ss(op);
  std::string part;
  while (std::getline(ss, part, ':')) parts.push_back(part);
  return parts;
}

// The op of a fixture case applied to its inputs on `d`.
array run_case(const FixtureCase& c, const std::vector<array>& in, Device d) {
  const auto p = split_op(c.op);
  const std::string& op = p[0];
  if (op == "take") {
    return p[1] == "none" ? take(in[0], in[1], d) : take(in[0], in[1], std::stoi(p[1]), d);
  }
  if (op == "take_along_axis") return take_along_axis(in[0], in[1], std::stoi(p[1]), d);
  if (op == "put_along_axis") return put_along_axis(in[0], in[1], in[2], std::stoi(p[1]), d);
  if (op == "scatter_add_axis") return scatter_add_axis(in[0], in[1], in[2], std::stoi(p[1]), d);
  const std::vector<int> axes = parse_list(p[1]);
  if (op == "gather") {
    const auto sizes = parse_list(p[2]);
    return gather(in[0], std::vector<array>(in.begin() + 1, in.end()), axes, Shape(sizes.begin(), sizes.end()), d);
  }
  const std::vector<array> idx(in.begin() + 1, in.end() - 1);
  if (op == "scatter") return scatter(in[0], idx, in.back(), axes, d);
  if (op == "scatter_add") return scatter_add(in[0], idx, in.back(), axes, d);
  if (op == "scatter_prod") return scatter_prod(in[0], idx, in.back(), axes, d);
  if (op == "scatter_max") return scatter_max(in[0], idx, in.back(), axes, d);
  if (op == "scatter_min") return scatter_min(in[0], idx, in.back(), axes, d);
  throw std::invalid_argument("[test] unknown indexing fixture op " + op);
}

std::vector<FixtureCase> fixture_cases() { return load_fixture("indexing.txt"); }

class IndexingFixture : public ::testing::TestWithParam<FixtureCase> {};

TEST_P(IndexingFixture, MatchesNumPyOnEveryDevice) {
  const FixtureCase& c = GetParam();
  std::vector<array> in;
  for (auto& t : c.inputs) in.push_back(fixture_array(t));
  array want = fixture_expected(c.output);
  for (Device d : available_devices()) {
    array got = run_case(c, in, d);
    ASSERT_EQ(got.shape(), want.shape()) << device_name(d);
    ASSERT_EQ(got.dtype(), want.dtype()) << device_name(d);
    double rtol = 0, atol = 0;
    if (c.tolerance == "float") {
      // Accumulation order differs (CPU in update order, GPU atomics in any order).
      rtol = want.dtype() == float16 ? 4e-3 : want.dtype() == float32 ? 1e-5 : 1e-12;
      atol = rtol;
    }
    EXPECT_TRUE(close_values(values(got), values(want), rtol, atol)) << c.name << " on " << device_name(d);
  }
}

INSTANTIATE_TEST_SUITE_P(NumPy, IndexingFixture, ::testing::ValuesIn(fixture_cases()),
                         [](const auto& info) { return info.param.name; });

TEST(Indexing, FixtureCoversEveryOpAndDtype) {
  std::set<std::string> ops, dtypes;
  for (auto& c : fixture_cases()) {
    ops.insert(split_op(c.op)[0]);
    dtypes.insert(c.dtype);
  }
  for (const char* op : {"take", "take_along_axis", "put_along_axis", "scatter_add_axis", "gather", "scatter",
                         "scatter_add", "scatter_prod", "scatter_max", "scatter_min"}) {
    EXPECT_TRUE(ops.count(op)) << op;
  }
  EXPECT_GE(dtypes.size(), 8u);
}

// Out-of-range indices never touch memory outside the array: reads clamp, writes drop.
TEST(Indexing, OutOfRangeIndicesClampOnReadAndDropOnWrite) {
  for (Device d : available_devices()) {
    array a = array({10.f, 11.f, 12.f, 13.f});
    array idx = array({-1, -4, 7, -9, 2});
    EXPECT_EQ(take(a, idx, 0, d).to_vector<float>(), (std::vector<float>{13, 10, 13, 10, 12})) << device_name(d);
    EXPECT_EQ(take(a, astype(array({5, 1}), uint32), 0, d).to_vector<float>(), (std::vector<float>{13, 11}));
    EXPECT_EQ(take(a, astype(array({-2, 100}), int64), 0, d).to_vector<float>(), (std::vector<float>{12, 13}));
    array upd = array({1.f, 2.f, 3.f, 4.f, 5.f}, {5});
    EXPECT_EQ(scatter_add(zeros({4}), idx, reshape(upd, {5, 1}), 0, d).to_vector<float>(),
              (std::vector<float>{2, 0, 5, 1}))
        << device_name(d);
    EXPECT_EQ(put_along_axis(zeros({4}), array({9, -1}), array({7.f, 8.f}), 0, d).to_vector<float>(),
              (std::vector<float>{0, 0, 0, 8}));
    EXPECT_EQ(take_along_axis(a, array({-1, 9}), 0, d).to_vector<float>(), (std::vector<float>{13, 13}));
  }
}

TEST(Indexing, TakeWithIntegerIndexDropsTheAxis) {
  array a = arange(12.0, float32).reshape({3, 4});
  EXPECT_EQ(take(a, -1, 0).shape(), (Shape{4}));
  EXPECT_EQ(take(a, 2, 1).to_vector<float>(), (std::vector<float>{2, 6, 10}));
  EXPECT_EQ(take(a, 5).item<float>(), 5.0f);
  EXPECT_EQ(take(a, array(1), 1).shape(), (Shape{3}));
  EXPECT_EQ(take(a, array({1, 0}, {1, 2}), 1).shape(), (Shape{3, 1, 2}));
}

TEST(Indexing, DynamicSliceReadsStartFromAnArrayAndFits) {
  array a = arange(20.0, float32).reshape({4, 5});
  for (Device d : available_devices()) {
    EXPECT_EQ(slice(a, array({1, 2}), {0, 1}, {2, 2}, d).to_vector<float>(), (std::vector<float>{7, 8, 12, 13}));
    // A start past the end is moved back so that the slice fits (as jax.lax.dynamic_slice).
    EXPECT_EQ(slice(a, array({3}), {1}, {3}, d).to_vector<float>(),
              (std::vector<float>{2, 3, 4, 7, 8, 9, 12, 13, 14, 17, 18, 19}));
    EXPECT_EQ(slice(a, array({-1}), {0}, {1}, d).to_vector<float>(), (std::vector<float>{15, 16, 17, 18, 19}));
    array u = array({-1.f, -2.f}, {1, 2});
    array r = slice_update(a, u, array({2, 4}), {0, 1}, d);
    EXPECT_EQ(r.to_vector<float>()[2 * 5 + 3], -1.f) << device_name(d);
    EXPECT_EQ(r.to_vector<float>()[2 * 5 + 4], -2.f);
    EXPECT_EQ(sum(r).item<float>(), 190.f - 13 - 14 - 3);
  }
}

TEST(Indexing, SliceUpdateCombiningOps) {
  array a = array({1.f, 2.f, 3.f, 4.f, 5.f});
  EXPECT_EQ(slice_update_add(a, array(10.f), {1}, {5}, {2}).to_vector<float>(), (std::vector<float>{1, 12, 3, 14, 5}));
  EXPECT_EQ(slice_update_prod(a, array({2.f, 3.f}), {0}, {2}).to_vector<float>(), (std::vector<float>{2, 6, 3, 4, 5}));
  EXPECT_EQ(slice_update_max(a, array(3.5f), {2}, {5}).to_vector<float>(), (std::vector<float>{1, 2, 3.5, 4, 5}));
  EXPECT_EQ(slice_update_min(a, array(3.5f), {2}, {5}).to_vector<float>(), (std::vector<float>{1, 2, 3, 3.5, 3.5}));
}

TEST(Indexing, ComplexScatterAndTake) {
  array a = array({complex64_t(1, 2), complex64_t(3, -1), complex64_t(0, 0)});
  array u = array({complex64_t(1, 1), complex64_t(2, 0), complex64_t(0, 1)}, {3, 1});
  for (Device d : available_devices()) {
    auto t = take(a, array({2, 0}), 0, d).to_vector<complex64_t>();
    EXPECT_EQ(t[0], complex64_t(0, 0));
    EXPECT_EQ(t[1], complex64_t(1, 2));
    auto s = scatter_add(a, array({1, 1, 0}), u, 0, d).to_vector<complex64_t>();
    EXPECT_EQ(s[0], complex64_t(1, 3)) << device_name(d);
    EXPECT_EQ(s[1], complex64_t(6, 0));
    auto p = scatter_prod(a, array({0, 0}), array({complex64_t(0, 1), complex64_t(0, 1)}, {2, 1}), 0, d)
                 .to_vector<complex64_t>();
    EXPECT_EQ(p[0], complex64_t(-1, -2)) << device_name(d);
  }
}

// Many updates into few bins: the GPU's compare-and-swap loops contend hard; the sums must
// match the CPU's (exactly for integers) for every width of element.
TEST(Indexing, ContendedScatterAgreesAcrossDevices) {
  if (!is_available(Device(Device::gpu))) GTEST_SKIP() << "no GPU";
  const int n = 20000;
  array idx = astype(floor(random::uniform(0.0f, 7.0f, {n}, float32, random::key(3))), int32);
  array small = floor(random::uniform(-3.0f, 4.0f, {n, 1}, float32, random::key(4)));
  for (Dtype t : {float32, int32, int8, uint8, int16, float16, bfloat16, int64, float64, uint32}) {
    array upd = astype(t == uint8 || t == uint32 ? abs(small) : small, t);
    for (auto op : {0, 1, 2}) {
      auto run = [&](Device d) {
        array z = zeros({7}, t);
        return op == 0 ? scatter_add(z, idx, upd, 0, d) : op == 1 ? scatter_max(z, idx, upd, 0, d)
                                                                  : scatter_min(z, idx, upd, 0, d);
      };
      array c = run(Device::cpu);
      std::optional<array> g;
      try {
        g = run(Device::gpu);
        g->eval();
      } catch (const std::runtime_error& e) {
        // A device without float64 or 64-bit atomics says so; nothing else may fail.
        ASSERT_NE(std::string(e.what()).find("needs the Vulkan feature"), std::string::npos) << e.what();
        continue;
      }
      const double tol = (t == float16 || t == bfloat16) ? 2e-2 : 0;
      EXPECT_TRUE(close_values(values(*g), values(c), tol, tol)) << to_string(t) << " op " << op;
    }
  }
}

TEST(Indexing, LargeTakeAgreesAcrossDevices) {
  if (!is_available(Device(Device::gpu))) GTEST_SKIP() << "no GPU";
  array a = random_array({1000, 3}, 5);
  array idx = astype(floor(random::uniform(-1000.0f, 1000.0f, {300000}, float32, random::key(9))), int32);
  EXPECT_TRUE(arrays_equal(take(a, idx, 0, Device::gpu), take(a, idx, 0, Device::cpu)));
  EXPECT_TRUE(arrays_equal(take(a, idx, Device::gpu), take(a, idx, Device::cpu)));
}

TEST(Indexing, Gradients) {
  array i1 = array({2, 0, -1, 0});
  EXPECT_TRUE(check_grads([&](const std::vector<array>& x) { return take(x[0], i1, 1); },
                          {random_array({3, 4}, 1, float64)}));
  EXPECT_TRUE(check_grads([&](const std::vector<array>& x) { return take(x[0], array({5, 5, 0})); },
                          {random_array({2, 3}, 2, float64)}));
  array ia = array({0, 2, 2, 1, 0, 0}, {2, 3});
  EXPECT_TRUE(check_grads([&](const std::vector<array>& x) { return take_along_axis(x[0], ia, 1); },
                          {random_array({2, 4}, 3, float64)}));
  EXPECT_TRUE(check_grads(
      [&](const std::vector<array>& x) { return gather(x[0], {array({1, 0}), array({0, 1})}, {0, 2}, {1, 2, 2}); },
      {random_array({2, 3, 3}, 4, float64)}));
  array rows = array({1, 1, 3});
  for (int mode = 0; mode < 4; ++mode) {
    auto f = [&, mode](const std::vector<array>& x) {
      array u = reshape(x[1], {3, 1, 2});
      switch (mode) {
        case 0: return scatter(x[0], array({3, 0, 1}), u, 0);
        case 1: return scatter_add(x[0], rows, u, 0);
        case 2: return scatter_max(x[0], rows, u, 0);
        default: return scatter_min(x[0], rows, u, 0);
      }
    };
    EXPECT_TRUE(check_grads(f, {random_array({4, 2}, 5, float64), random_array({3, 2}, 6, float64)})) << mode;
  }
  array pi = array({1, 0}, {2, 1});
  EXPECT_TRUE(check_grads([&](const std::vector<array>& x) { return put_along_axis(x[0], pi, x[1], 0); },
                          {random_array({3, 2}, 7, float64), random_array({2, 1}, 8, float64)}));
  EXPECT_TRUE(check_grads([&](const std::vector<array>& x) { return scatter_add_axis(x[0], array({1, 1}, {2, 1}), x[1], 0); },
                          {random_array({3, 2}, 9, float64), random_array({2, 2}, 10, float64)}));
  EXPECT_TRUE(check_grads([&](const std::vector<array>& x) { return slice(x[0], array({1}), {1}, {2}); },
                          {random_array({2, 4}, 11, float64)}));
  EXPECT_TRUE(check_grads([&](const std::vector<array>& x) { return slice_update(x[0], x[1], array({1}), {1}); },
                          {random_array({2, 4}, 12, float64), random_array({2, 2}, 13, float64)}));
  EXPECT_TRUE(check_grads([&](const std::vector<array>& x) { return slice_update_add(x[0], x[1], {0}, {2}); },
                          {random_array({3}, 14, float64), random_array({2}, 15, float64)}));
}

TEST(Indexing, GradientWithRespectToIndicesIsAnError) {
  EXPECT_THROW(vjp([](const std::vector<array>& x) { return std::vector<array>{take(x[0], x[1], 0)}; },
                   {array({1.f, 2.f}), array({1, 0})}, {array({1.f, 1.f})}),
               std::invalid_argument);
  EXPECT_THROW(vjp([](const std::vector<array>& x) { return std::vector<array>{scatter_prod(x[0], array({0}), reshape(x[0], {1, 1}), 0)}; },
                   {array({2.f})}, {array({1.f})}),
               std::invalid_argument);
}

}  // namespace
