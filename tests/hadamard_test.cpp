// hadamard_transform (ops/hadamard.hpp): known values, a butterfly reference loop (the fast
// Walsh-Hadamard transform, the algorithm MLX's kernels run) for every m and several k, the
// order-12/20/28 tables' orthogonality, dtypes and devices, gradients, vmap and bad input.
#include <gtest/gtest.h>

#include <cmath>

#include "tessera/tessera.hpp"
#include "test_util.hpp"

namespace {

using namespace tessera;
using namespace tessera::test;

// H_m, read back from the transform itself: transforming the rows of eye(m) gives H_m^T.
array order_m_matrix(int m) { return transpose(hadamard_transform(eye(m), 1.0f)); }

// The reference: an in-place butterfly over the 2^k part of every row (the index's low bits),
// then H_m over the high part, then the scale; in double.
std::vector<double> reference(const std::vector<double>& x, int n, int m, double scale) {
  std::vector<double> hm;
  if (m > 1) hm = values(order_m_matrix(m));
  std::vector<double> out = x;
  const int pow2 = n / m;
  for (size_t row = 0; row < x.size() / n; ++row) {
    double* d = out.data() + row * n;
    for (int block = 0; block < m; ++block) {
      double* b = d + block * pow2;
      for (int h = 1; h < pow2; h *= 2)
        for (int i = 0; i < pow2; i += 2 * h)
          for (int j = i; j < i + h; ++j) {
            const double u = b[j], v = b[j + h];
            b[j] = u + v;
            b[j + h] = u - v;
          }
    }
    if (m > 1) {
      std::vector<double> tmp(n, 0.0);
      for (int j = 0; j < m; ++j)
        for (int k = 0; k < m; ++k)
          for (int i = 0; i < pow2; ++i) tmp[j * pow2 + i] += hm[j * m + k] * d[k * pow2 + i];
      std::copy(tmp.begin(), tmp.end(), d);
    }
    for (int i = 0; i < n; ++i) d[i] *= scale;
  }
  return out;
}

TEST(Hadamard, KnownValues) {
  for_each_device([](Device) {
    EXPECT_TRUE(close_values(hadamard_transform(array({1.0f, 2.0f, 3.0f, 4.0f}), 1.0f), {10, -2, -4, 0}, 0, 0));
    // The default scale is 1/sqrt(n): orthonormal.
    EXPECT_TRUE(close_values(hadamard_transform(array({1.0f, 1.0f})), {std::sqrt(2.0), 0}, 1e-6, 1e-6));
    // Integers become float32; a length-1 axis is only scaled.
    EXPECT_EQ(hadamard_transform(array({1, 2})).dtype(), float32);
    EXPECT_TRUE(close_values(hadamard_transform(array({3.0f}), 2.0f), {6}, 0, 0));
  });
  // MLX's order-12 matrix has first row +-++++++++++ (Sloane's library).
  EXPECT_TRUE(close_values(take(order_m_matrix(12), 0, 0), {1, -1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, 0, 0));
}

TEST(Hadamard, TablesAreHadamardMatrices) {
  for (int m : {12, 20, 28}) {
    array h = order_m_matrix(m);
    EXPECT_TRUE(arrays_close(matmul(h, transpose(h)), multiply(eye(m), array(float(m))), 0, 0)) << m;
  }
}

struct HadamardCase {
  Shape shape;
  int m;
};

TEST(Hadamard, MatchesButterflyReference) {
  const std::vector<HadamardCase> cases = {
      {{8}, 1},   {{3, 16}, 1},     {{2, 2, 256}, 1}, {{4, 1024}, 1}, {{2, 32768}, 1},
      {{5, 12}, 12}, {{3, 24}, 12}, {{2, 20 * 64}, 20}, {{2, 28}, 28}, {{3, 28 * 512}, 28}};
  for (const auto& c : cases) {
    const int n = c.shape.back();
    array x = random_array(c.shape, static_cast<unsigned>(n), float32);
    const auto expected = reference(values(x), n, c.m, 1.0 / std::sqrt(double(n)));
    for_each_device([&](Device d) {
      array y = hadamard_transform(x, std::nullopt, d);
      ASSERT_EQ(y.shape(), c.shape);
      EXPECT_TRUE(close_values(y, expected, 1e-5, 1e-5)) << shape_string(c.shape);
    });
  }
}

TEST(Hadamard, Dtypes) {
  array x = random_array({3, 48}, 5, float32);
  const auto expected = reference(values(x), 48, 12, 0.5);
  for_each_device([&](Device d) {
    for (auto [dt, tol] : {std::pair{float16, 1e-2}, std::pair{bfloat16, 5e-2}, std::pair{float64, 1e-6}}) {
      array y = hadamard_transform(astype(x, dt), 0.5f, d);
      EXPECT_EQ(y.dtype(), dt);
      EXPECT_TRUE(close_values(y, expected, tol, tol)) << dtype_name(dt);
    }
  });
}

TEST(Hadamard, Gradients) {
  // Order 12 is not symmetric: its vjp needs the transpose.
  for (int n : {8, 24, 40}) {
    EXPECT_TRUE(check_grads([](const std::vector<array>& x) { return hadamard_transform(x[0], 0.7f); },
                            {random_array({2, n}, static_cast<unsigned>(n), float64)}))
        << n;
  }
}

TEST(Hadamard, Vmap) {
  auto f = [](const std::vector<array>& x) { return std::vector<array>{hadamard_transform(x[0])}; };
  array x = random_array({24, 4}, 9);
  array batched = vmap(f, {1})({x})[0];
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(arrays_close(take(batched, i, 0), f({take(x, i, 1)})[0], 1e-6, 1e-6)) << i;
}

TEST(Hadamard, RejectsBadInput) {
  using IA = std::invalid_argument;
  EXPECT_TRUE(throws_with<IA>([] { hadamard_transform(zeros({2, 60})); }, {"[hadamard_transform]", "60", "(2,60)"}));
  EXPECT_TRUE(throws_with<IA>([] { hadamard_transform(zeros({7})); }, {"[hadamard_transform]", "7", "m * 2^k"}));
  EXPECT_TRUE(throws_with<IA>([] { hadamard_transform(zeros({3, 0})); }, {"[hadamard_transform]", "empty", "(3,0)"}));
  EXPECT_TRUE(throws_with<IA>([] { hadamard_transform(zeros({4}, complex64)); }, {"[hadamard_transform]", "complex64"}));
}

}  // namespace
