// The distributions composed of uniform / bits (ops/random.hpp): ranges, moments against their
// closed forms (tolerances of about five standard errors), the same samples on CPU and GPU
// for the same key, and searchsorted (which categorical's inverse CDF uses).
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "tessera/tessera.hpp"
#include "test_util.hpp"

namespace {

using namespace tessera;
using namespace tessera::test;

double mean_of(const array& a) { return mean(astype(a, float64)).item<double>(); }
double var_of(const array& a) { return var(astype(a, float64)).item<double>(); }

TEST(RandomDistributions, Randint) {
  for (Device d : available_devices()) {
    array r = random::randint(-3, 5, {20000}, int32, random::key(1), d);
    EXPECT_EQ(r.dtype(), int32);
    EXPECT_EQ(min(r).item<int32_t>(), -3);
    EXPECT_EQ(max(r).item<int32_t>(), 4);
    EXPECT_NEAR(mean_of(r), 0.5, 0.06);
  }
  EXPECT_EQ(random::randint(0, 2, {3}, uint8, random::key(2)).dtype(), uint8);
  if (is_available(Device(Device::gpu))) {
    EXPECT_TRUE(arrays_equal(random::randint(0, 100, {1000}, int32, random::key(3), Device::gpu),
                             random::randint(0, 100, {1000}, int32, random::key(3), Device::cpu)));
  }
}

TEST(RandomDistributions, Bernoulli) {
  for (Device d : available_devices()) {
    EXPECT_FALSE(any(random::bernoulli(0.0f, {1000}, random::key(4), d)).item<bool>());
    EXPECT_TRUE(all(random::bernoulli(1.0f, {1000}, random::key(4), d)).item<bool>());
    array b = random::bernoulli(0.3f, {20000}, random::key(5), d);
    EXPECT_EQ(b.dtype(), bool_);
    EXPECT_NEAR(mean_of(b), 0.3, 0.02);
    // p broadcasts: one probability per column.
    array p = random::bernoulli(array({0.0f, 1.0f}), {500, 2}, random::key(6), d);
    EXPECT_EQ(sum(astype(p, int32), 0).to_vector<int32_t>(), (std::vector<int32_t>{0, 500}));
  }
  EXPECT_EQ(random::bernoulli(array({0.5f, 0.5f}), random::key(7)).shape(), Shape{2});
  // (As in MLX, bernoulli(key) would take the key for p: the key goes in an optional.)
  EXPECT_EQ(random::bernoulli(std::optional<array>(random::key(7))).shape(), Shape{});
}

TEST(RandomDistributions, TruncatedNormal) {
  for (Device d : available_devices()) {
    array t = random::truncated_normal(array(-1.0f), array(2.0f), {20000}, float32, random::key(8), d);
    EXPECT_GE(min(t).item<float>(), -1.0f);
    EXPECT_LE(max(t).item<float>(), 2.0f);
    // Mean of N(0,1) truncated to [a, b]: (phi(a) - phi(b)) / (Phi(b) - Phi(a)).
    auto phi = [](double x) { return std::exp(-x * x / 2) / std::sqrt(2 * M_PI); };
    auto Phi = [](double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); };
    EXPECT_NEAR(mean_of(t), (phi(-1) - phi(2)) / (Phi(2) - Phi(-1)), 0.03);
  }
  EXPECT_EQ(random::truncated_normal(zeros({3}), ones({2, 3}), float32, random::key(9)).shape(), (Shape{2, 3}));
}

TEST(RandomDistributions, GumbelAndLaplace) {
  for (Device d : available_devices()) {
    EXPECT_NEAR(mean_of(random::gumbel({40000}, float32, random::key(10), d)), 0.5772156649, 0.03);
    EXPECT_NEAR(var_of(random::gumbel({40000}, float32, random::key(11), d)), M_PI * M_PI / 6, 0.08);
    array l = random::laplace({40000}, float32, 1.5f, 2.0f, random::key(12), d);
    EXPECT_NEAR(mean_of(l), 1.5, 0.07);
    EXPECT_NEAR(var_of(l), 2 * 2.0 * 2.0, 0.4);
  }
}

TEST(RandomDistributions, CategoricalFollowsSoftmax) {
  array logits = log(array({0.1f, 0.6f, 0.3f}));
  const std::vector<double> p = {0.1, 0.6, 0.3};
  for (Device d : available_devices()) {
    // 1-D logits with a shape: the inverse CDF; 2-D: Gumbel-max.
    array a = random::categorical(logits, 0, Shape{20000}, random::key(13), d);
    array b = random::categorical(broadcast_to(logits, {20000, 3}), -1, random::key(14), d);
    array c = random::categorical(logits, 0, 20000, random::key(15), d);
    for (const array& x : {a, b, c}) {
      EXPECT_EQ(x.dtype(), uint32);
      for (int k = 0; k < 3; ++k) {
        EXPECT_NEAR(mean_of(astype(equal(x, array(static_cast<uint32_t>(k))), float32)), p[k], 0.02) << k;
      }
    }
    // An impossible category is never drawn.
    array z = random::categorical(array({0.0f, -INFINITY, 0.0f}), 0, Shape{2000}, random::key(16), d);
    EXPECT_FALSE(any(equal(z, array(1u))).item<bool>());
  }
}

TEST(RandomDistributions, PermutationIsAPermutation) {
  for (Device d : available_devices()) {
    auto v = random::permutation(1000, random::key(17), d).to_vector<uint32_t>();
    std::set<uint32_t> seen(v.begin(), v.end());
    EXPECT_EQ(seen.size(), 1000u);
    EXPECT_EQ(*seen.rbegin(), 999u);
    array x = arange(12.0, float32).reshape({4, 3});
    array px = random::permutation(x, 0, random::key(18), d);
    EXPECT_EQ(sum(px, 0).to_vector<float>(), sum(x, 0).to_vector<float>());
  }
  if (is_available(Device(Device::gpu))) {
    EXPECT_TRUE(arrays_equal(random::permutation(5000, random::key(19), Device::gpu),
                             random::permutation(5000, random::key(19), Device::cpu)));
  }
}

TEST(SearchSorted, LeftRightNaNAndDevices) {
  array a = array({1.f, 2.f, 2.f, 3.f, NAN});
  array v = array({0.f, 2.f, 2.5f, 3.f, 9.f, NAN, -INFINITY});
  for (Device d : available_devices()) {
    EXPECT_EQ(searchsorted(a, v, "left", d).to_vector<uint32_t>(), (std::vector<uint32_t>{0, 1, 3, 3, 4, 4, 0}))
        << device_name(d);
    EXPECT_EQ(searchsorted(a, v, "right", d).to_vector<uint32_t>(), (std::vector<uint32_t>{0, 3, 3, 4, 4, 5, 0}));
    EXPECT_EQ(searchsorted(array({1, 3, 5}), array({4}), "left", d).item<uint32_t>(), 2u);  // ints
  }
  if (is_available(Device(Device::gpu))) {
    array s = sort(random_array({5000}, 20, float32));
    array q = random_array({3, 700}, 21, float32);
    for (const char* side : {"left", "right"}) {
      EXPECT_TRUE(arrays_equal(searchsorted(s, q, side, Device::gpu), searchsorted(s, q, side, Device::cpu)));
    }
  }
}

}  // namespace

namespace {
using namespace tessera;
using namespace tessera::test;

// var / std against NumPy (values from numpy.var / numpy.std), their dtypes, and gradients.
TEST(VarStd, MatchNumPy) {
  array x = array({1.0, 2.0, 3.0, 4.0, 5.0, 7.0}, {2, 3}, float64);
  for (Device d : available_devices()) {
    if (d.type == Device::gpu) continue;  // (float64 here: the GPU case is the float32 one below)
    EXPECT_NEAR(var(x, d).item<double>(), 3.8888888888888893, 1e-12);
    EXPECT_TRUE(close_values(values(var(x, 1, false, 1, d)), {1.0, 2.333333333333333}, 1e-12, 1e-12));
    EXPECT_TRUE(close_values(values(tessera::std(x, 0, false, 0, d)), {1.5, 1.5, 2.0}, 1e-12, 1e-12));
  }
  for (Device d : available_devices()) {
    EXPECT_NEAR(var(astype(x, float32), {0, 1}, true, 0, d).item<float>(), 3.8888888f, 1e-5) << device_name(d);
    EXPECT_NEAR(var(array({1, 2, 4}), d).item<float>(), 1.5555555f, 1e-6);
    EXPECT_EQ(var(array({1, 2, 4})).dtype(), float32);
    EXPECT_NEAR(var(array({complex64_t(1, 1), complex64_t(2, -1), complex64_t(0, 0)}), d).item<float>(), 1.3333333f,
                1e-6);
  }
  EXPECT_TRUE(std::isinf(var(array({1.f, 2.f}), false, 2).item<float>()));
  EXPECT_TRUE(check_grads([](const std::vector<array>& a) { return var(a[0], 1, false, 1); },
                          {random_array({3, 4}, 22, float64)}));
  EXPECT_TRUE(check_grads([](const std::vector<array>& a) { return tessera::std(a[0], 0); }, {random_array({3, 4}, 23, float64)}));
}

}  // namespace
