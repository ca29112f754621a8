// Sorting and selection: NumPy's stable sort / argsort (tests/fixtures/sort.txt, from
// gen_sort.py) on every device, long rows (the GPU's global bitonic passes) bit-identical to the
// CPU, the defining properties of partition / argpartition / topk, and gradients.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "tessera/tessera.hpp"
#include "test_util.hpp"

namespace {

using namespace tessera;
using namespace tessera::test;

class SortFixture : public ::testing::TestWithParam<FixtureCase> {};

TEST_P(SortFixture, MatchesNumPyOnEveryDevice) {
  const FixtureCase& c = GetParam();
  const auto colon = c.op.find(':');
  const std::string op = c.op.substr(0, colon);
  const int axis = std::stoi(c.op.substr(colon + 1));
  array x = fixture_array(c.inputs.at(0));
  array want = fixture_expected(c.output);
  for (Device d : available_devices()) {
    array got = op == "sort" ? sort(x, axis, d) : argsort(x, axis, d);
    ASSERT_EQ(got.dtype(), want.dtype()) << device_name(d);
    EXPECT_TRUE(arrays_equal(got, want)) << c.name << " on " << device_name(d);
    if (op == "sort" && want.dtype() == float32) {
      // -0.0 and +0.0 keep their places too (the values compared above cannot tell them apart).
      auto g = got.to_vector<float>(), w = want.to_vector<float>();
      for (size_t i = 0; i < g.size(); ++i) EXPECT_EQ(std::signbit(g[i]), std::signbit(w[i])) << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(NumPy, SortFixture, ::testing::ValuesIn(load_fixture("sort.txt")),
                         [](const auto& info) { return info.param.name; });

// Rows past the shared-memory block (2048), up to 2^17 (seven global strides), and a strided
// axis: GPU and CPU give the same stable permutation.
TEST(Sort, LongRowsBitIdenticalAcrossDevices) {
  if (!is_available(Device(Device::gpu))) GTEST_SKIP() << "no GPU";
  for (const Shape& shape : {Shape{3, 5000}, Shape{1 << 17}, Shape{4100, 2}}) {
    const int axis = shape.size() == 2 && shape[1] == 2 ? 0 : -1;
    array x = astype(multiply(random_array(shape, 41, float32, -1.0, 1.0), array(500.0f)), int32);  // ties
    array f = random_array(shape, 42, float32, -1.0, 1.0);
    EXPECT_TRUE(arrays_equal(argsort(x, axis, Device::gpu), argsort(x, axis, Device::cpu))) << shape_string(shape);
    EXPECT_TRUE(arrays_equal(sort(f, axis, Device::gpu), sort(f, axis, Device::cpu)));
    EXPECT_TRUE(arrays_equal(argsort(astype(f, float16), axis, Device::gpu),
                             argsort(astype(f, float16), axis, Device::cpu)));
  }
}

// topk of up to 8 (the GPU's one-pass selection, the CPU's heap) gives the same elements in
// the same (ascending) order on both devices, ties included; more than 8 goes through the sort.
TEST(Sort, TopkBitIdenticalAcrossDevices) {
  if (!is_available(Device(Device::gpu))) GTEST_SKIP() << "no GPU";
  array ties = astype(multiply(random_array({7, 3000}, 47, float32, -1.0, 1.0), array(20.0f)), int32);
  array f = random_array({5, 1000}, 48, float32, -1.0, 1.0);
  for (int k : {1, 3, 8, 9}) {
    EXPECT_TRUE(arrays_equal(topk(ties, k, 1, Device::gpu), topk(ties, k, 1, Device::cpu))) << k;
    EXPECT_TRUE(arrays_equal(topk(f, k, -1, Device::gpu), topk(f, k, -1, Device::cpu))) << k;
    EXPECT_TRUE(arrays_equal(topk(transpose(f), k, 0, Device::gpu), topk(transpose(f), k, 0, Device::cpu))) << k;
    EXPECT_TRUE(arrays_equal(topk(astype(f, float16), k, 1, Device::gpu), topk(astype(f, float16), k, 1, Device::cpu)));
  }
  // Short rows (fewer elements than the workgroup's candidates) and NaN, the largest.
  array small = array({3.f, NAN, -1.f, 7.f, 0.f});
  EXPECT_TRUE(arrays_equal(topk(small, 2, 0, Device::gpu), topk(small, 2, 0, Device::cpu)));
  EXPECT_TRUE(std::isnan(topk(small, 1, 0, Device::gpu).item<float>()));
}

// The CPU's long-lane path (one lane of 2^17, sorted by the whole pool) is a stable sort.
TEST(Sort, LongLaneIsStable) {
  array x = astype(multiply(random_array({1 << 17}, 45, float32, -1.0, 1.0), array(100.0f)), int32);
  auto v = x.to_vector<int32_t>();
  auto idx = argsort(x, 0, Device::cpu).to_vector<uint32_t>();
  std::vector<uint32_t> want(v.size());
  for (size_t i = 0; i < want.size(); ++i) want[i] = static_cast<uint32_t>(i);
  std::stable_sort(want.begin(), want.end(), [&](uint32_t a, uint32_t b) { return v[a] < v[b]; });
  EXPECT_EQ(idx, want);
  auto f = random_array({3 << 16}, 46, float32, -1.0, 1.0);
  auto sv = sort(f, 0, Device::cpu).to_vector<float>();
  auto fv = f.to_vector<float>();
  std::stable_sort(fv.begin(), fv.end());
  EXPECT_EQ(sv, fv);
}

// partition(a, kth): a[kth] in its sorted place, nothing larger before, nothing smaller after;
// argpartition's indices give partition's values; topk gives the k largest.
TEST(Sort, PartitionTopkProperties) {
  array x = random_array({6, 37}, 43, float32, -1.0, 1.0);
  auto sorted = sort(x, 1).to_vector<float>();
  for (Device d : available_devices()) {
    for (int kth : {0, 5, 36, -3}) {
      const int k = kth < 0 ? kth + 37 : kth;
      array p = partition(x, kth, 1, d);
      array ip = argpartition(x, kth, 1, d);
      EXPECT_EQ(ip.dtype(), uint32);
      EXPECT_TRUE(arrays_equal(take_along_axis(x, ip, 1), p)) << device_name(d);
      auto v = p.to_vector<float>();
      for (int r = 0; r < 6; ++r) {
        const float pivot = v[r * 37 + k];
        EXPECT_EQ(pivot, sorted[r * 37 + k]) << device_name(d) << " kth " << kth;
        for (int i = 0; i < 37; ++i) {
          if (i < k) EXPECT_LE(v[r * 37 + i], pivot);
          if (i > k) EXPECT_GE(v[r * 37 + i], pivot);
        }
      }
    }
    array t = topk(x, 4, 1, d);
    ASSERT_EQ(t.shape(), (Shape{6, 4}));
    auto ts = sort(t, 1).to_vector<float>();
    for (int r = 0; r < 6; ++r)
      for (int i = 0; i < 4; ++i) EXPECT_EQ(ts[r * 4 + i], sorted[r * 37 + 33 + i]) << device_name(d);
    EXPECT_EQ(topk(x, 0, 1, d).shape(), (Shape{6, 0}));
    EXPECT_TRUE(arrays_equal(topk(x, 37, 1, d), x));
  }
  EXPECT_EQ(topk(array({3.f, 9.f, 1.f}), 1).item<float>(), 9.f);
  EXPECT_EQ(sort(array({3, 1, 2})).to_vector<int32_t>(), (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(argsort(zeros({2, 3}), 0).shape(), (Shape{2, 3}));
}

TEST(Sort, Gradients) {
  array x = random_array({3, 6}, 44, float64, -1.0, 1.0);
  EXPECT_TRUE(check_grads([](const std::vector<array>& a) { return sort(a[0], 1); }, {x}));
  EXPECT_TRUE(check_grads([](const std::vector<array>& a) { return sort(a[0], 0); }, {x}));
  EXPECT_TRUE(check_grads([](const std::vector<array>& a) { return partition(a[0], 2, 1); }, {x}));
  EXPECT_TRUE(check_grads([](const std::vector<array>& a) { return topk(a[0], 2, 1); }, {x}));
  // Indices carry no gradient: zeros.
  auto g = grad([](const array& a) { return sum(multiply(astype(argsort(a), float32), a)); })(array({2.f, 1.f}));
  EXPECT_EQ(g.to_vector<float>(), (std::vector<float>{1.f, 0.f}));
}

}  // namespace
