// matmul and addmm: values against a double-precision loop, 1-D promotion, batch broadcasting,
// operand layouts (transposed views passed to BLAS as they are, strided views copied), dtypes,
// errors and finite-difference gradients.
#include <gtest/gtest.h>

#include <cmath>

#include "test_util.hpp"
#include "tessera/ops/creation.hpp"
#include "tessera/ops/matmul.hpp"
#include "tessera/ops/reduce.hpp"
#include "tessera/ops/shape.hpp"
#include "tessera/transforms/autodiff.hpp"

namespace {

using namespace tessera;
using tessera::test::close_values;
using tessera::test::check_grads;
using tessera::test::random_array;
using tessera::test::throws_with;
using tessera::test::values;

// NumPy matmul in double: operands of rank >= 1, 1-D promotion, broadcast batches.
std::vector<double> ref_matmul(array a, array b) {
  Shape as = a.shape(), bs = b.shape();
  auto av = values(a), bv = values(b);
  const bool a1 = as.size() == 1, b1 = bs.size() == 1;
  if (a1) as.insert(as.begin(), 1);
  if (b1) bs.push_back(1);
  const int m = as[as.size() - 2], k = as.back(), n = bs.back();
  Shape ba(as.begin(), as.end() - 2), bb(bs.begin(), bs.end() - 2);
  Shape batch = broadcast_shapes(ba, bb);
  const int64_t nb = shape_size(batch);
  auto offset = [&](const Shape& own, int64_t i) {
    // Row-major index of batch i of `batch` in the (broadcast) batch shape `own`.
    int64_t rem = i, off = 0, stride = 1;
    for (int d = static_cast<int>(batch.size()) - 1; d >= 0; --d) {
      int64_t idx = rem % batch[d];
      rem /= batch[d];
      int od = d - (static_cast<int>(batch.size()) - static_cast<int>(own.size()));
      if (od >= 0) {
        if (own[od] != 1) off += idx * stride;
        stride *= own[od];
      }
    }
    return off;
  };
  std::vector<double> out(nb * m * n);
  for (int64_t i = 0; i < nb; ++i) {
    const double* pa = av.data() + offset(ba, i) * m * k;
    const double* pb = bv.data() + offset(bb, i) * k * n;
    for (int r = 0; r < m; ++r) {
      for (int c = 0; c < n; ++c) {
        double s = 0;
        for (int j = 0; j < k; ++j) s += pa[r * k + j] * pb[j * n + c];
        out[(i * m + r) * n + c] = s;
      }
    }
  }
  return out;
}

TEST(MatmulTest, MatricesOfManySizes) {
  const int sizes[][3] = {{1, 1, 1}, {3, 4, 5}, {1, 7, 9}, {9, 7, 1}, {17, 1, 13},
                          {64, 64, 64}, {65, 130, 33}, {200, 3, 150}};
  unsigned seed = 1;
  for (auto& s : sizes) {
    array a = random_array({s[0], s[1]}, seed++);
    array b = random_array({s[1], s[2]}, seed++);
    array c = matmul(a, b);
    EXPECT_EQ(c.shape(), (Shape{s[0], s[2]}));
    EXPECT_EQ(c.dtype(), float32);
    EXPECT_TRUE(close_values(c, ref_matmul(a, b), 1e-5, 1e-5)) << s[0] << "x" << s[1] << "x" << s[2];
    array d = matmul(a.astype(float64), b.astype(float64));
    EXPECT_TRUE(close_values(d, ref_matmul(a, b), 1e-12, 1e-12));
  }
}

TEST(MatmulTest, OneDimensionalOperands) {
  array v = random_array({4}, 1), w = random_array({4}, 2);
  array m = random_array({3, 4}, 3), n = random_array({4, 5}, 4);
  array bm = random_array({2, 3, 4}, 5);
  EXPECT_EQ(matmul(v, w).shape(), Shape{});
  EXPECT_TRUE(close_values(matmul(v, w), ref_matmul(v, w)));
  EXPECT_EQ(matmul(v, n).shape(), Shape{5});
  EXPECT_TRUE(close_values(matmul(v, n), ref_matmul(v, n)));
  EXPECT_EQ(matmul(m, w).shape(), Shape{3});
  EXPECT_TRUE(close_values(matmul(m, w), ref_matmul(m, w)));
  EXPECT_EQ(matmul(bm, w).shape(), (Shape{2, 3}));
  EXPECT_TRUE(close_values(matmul(bm, w), ref_matmul(bm, w)));
  array bn = random_array({2, 4, 5}, 6);
  EXPECT_EQ(matmul(v, bn).shape(), (Shape{2, 5}));
  EXPECT_TRUE(close_values(matmul(v, bn), ref_matmul(v, bn)));
}

TEST(MatmulTest, BatchBroadcasting) {
  array a = random_array({2, 1, 3, 4}, 7);
  array b = random_array({5, 4, 2}, 8);
  array c = matmul(a, b);
  EXPECT_EQ(c.shape(), (Shape{2, 5, 3, 2}));
  EXPECT_TRUE(close_values(c, ref_matmul(a, b), 1e-5, 1e-5));
  array d = random_array({3, 4}, 9);
  array e = random_array({6, 4, 7}, 10);
  EXPECT_TRUE(close_values(matmul(d, e), ref_matmul(d, e), 1e-5, 1e-5));
  EXPECT_TRUE(close_values(matmul(swapaxes(e, 1, 2), d.T()), ref_matmul(swapaxes(e, 1, 2), d.T()),
                       1e-5, 1e-5));
  // Many small matrices (the batch loop runs in parallel).
  array f = random_array({300, 5, 6}, 11), g = random_array({300, 6, 4}, 12);
  EXPECT_TRUE(close_values(matmul(f, g), ref_matmul(f, g), 1e-5, 1e-5));
}

TEST(MatmulTest, OperandLayouts) {
  array a = random_array({40, 30}, 13), b = random_array({50, 40}, 14);
  // Transposed views (unit stride along the rows): passed with CblasTrans.
  EXPECT_TRUE(close_values(matmul(a.T(), b.T()), ref_matmul(a.T(), b.T()), 1e-5, 1e-5));
  // Sliced views with a unit inner stride: passed with their leading dimension.
  array as = slice(a, {0, 5}, {40, 25});  // (40,20), row stride 30
  array bs = slice(b, {3, 0}, {23, 40});  // (20,40)
  EXPECT_TRUE(close_values(matmul(as, bs), ref_matmul(as, bs), 1e-5, 1e-5));
  EXPECT_TRUE(close_values(matmul(bs, as), ref_matmul(bs, as), 1e-5, 1e-5));
  // No unit stride at all: copied.
  array ast = slice(a, {0, 0}, {40, 30}, {2, 3});  // (20,10)
  array bst = slice(b, {0, 0}, {50, 40}, {5, 2});  // (10,20)
  EXPECT_TRUE(close_values(matmul(ast, bst), ref_matmul(ast, bst), 1e-5, 1e-5));
  // Broadcast rows (stride 0) and batched transposes.
  array row = broadcast_to(random_array({1, 30}, 15), {8, 30});
  EXPECT_TRUE(close_values(matmul(row, a.T()), ref_matmul(row, a.T()), 1e-5, 1e-5));
  array t3 = transpose(random_array({4, 6, 5}, 16), {0, 2, 1});  // (4,5,6)
  array u3 = transpose(random_array({6, 4, 3}, 17), {1, 0, 2});  // (4,6,3), batch stride 3
  EXPECT_TRUE(close_values(matmul(t3, u3), ref_matmul(t3, u3), 1e-5, 1e-5));
}

TEST(MatmulTest, Dtypes) {
  array a = random_array({8, 16}, 18), b = random_array({16, 4}, 19);
  auto ref = ref_matmul(a, b);
  for (Dtype t : {float16, bfloat16}) {
    array c = matmul(a.astype(t), b.astype(t));
    EXPECT_EQ(c.dtype(), t);
    EXPECT_TRUE(close_values(c, ref_matmul(a.astype(t), b.astype(t)), t == float16 ? 2e-3 : 1e-2,
                         t == float16 ? 2e-3 : 1e-2));
  }
  EXPECT_EQ(matmul(a.astype(float16), b).dtype(), float32);
  EXPECT_EQ(matmul(a.astype(bfloat16), b.astype(float16)).dtype(), float32);
  EXPECT_EQ(matmul(a, b.astype(float64)).dtype(), float64);
  EXPECT_TRUE(close_values(matmul(a.astype(float16), b), ref_matmul(a.astype(float16), b), 1e-5, 1e-5));
  EXPECT_EQ(matmul(a.astype(complex64), b).dtype(), complex64);  // values: elementwise_test
  for (Dtype t : {int32, uint8, bool_, int64}) {
    EXPECT_TRUE(throws_with<std::invalid_argument>([&] { matmul(a.astype(t), b); },
                                                   {"[matmul]", to_string(t)}))
        << to_string(t);
    EXPECT_TRUE(throws_with<std::invalid_argument>([&] { matmul(a, b.astype(t)); },
                                                   {"[matmul]", to_string(t)}));
  }
}

TEST(MatmulTest, Errors) {
  EXPECT_TRUE(throws_with<std::invalid_argument>([] { matmul(zeros({2, 3}), zeros({4, 5})); },
                                                 {"[matmul] inner dimensions differ: (2,3) @ (4,5)"}));
  EXPECT_TRUE(throws_with<std::invalid_argument>([] { matmul(zeros({3}), zeros({4})); },
                                                 {"[matmul] inner dimensions differ: (3,) @ (4,)"}));
  EXPECT_TRUE(throws_with<std::invalid_argument>([] { matmul(zeros({}), zeros({4})); },
                                                 {"[matmul]", "()"}));
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [] { matmul(zeros({2, 3, 4}), zeros({5, 4, 2})); }, {"[matmul]", "(2,3,4)", "(5,4,2)"}));
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [] { addmm(zeros({7}), zeros({2, 3}), zeros({3, 4})); }, {"[addmm]", "(7,)", "(2,4)"}));
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [] { addmm(zeros({4}), zeros({2, 3}), zeros({2, 4})); }, {"[addmm]", "(2,3) @ (2,4)"}));
}

TEST(MatmulTest, EmptyDimensions) {
  array c = matmul(zeros({3, 0}), zeros({0, 4}));
  EXPECT_EQ(c.shape(), (Shape{3, 4}));
  EXPECT_TRUE(close_values(c, std::vector<double>(12, 0.0), 0, 0));
  EXPECT_EQ(matmul(zeros({0, 5}), zeros({5, 4})).shape(), (Shape{0, 4}));
  EXPECT_EQ(matmul(zeros({0, 2, 5}), zeros({5, 4})).shape(), (Shape{0, 2, 4}));
  EXPECT_EQ(matmul(zeros({0, 2, 5}), zeros({5, 4})).to_vector<float>().size(), 0u);
}

TEST(MatmulTest, Addmm) {
  array a = random_array({3, 4}, 20), b = random_array({4, 5}, 21);
  array c = random_array({5}, 22), c2 = random_array({3, 5}, 23);
  auto ab = ref_matmul(a, b);
  auto cv = values(c), c2v = values(c2);
  std::vector<double> r1(15), r2(15), r3(15);
  for (int i = 0; i < 15; ++i) {
    r1[i] = ab[i] + cv[i % 5];
    r2[i] = 2.0 * ab[i] - 0.5 * c2v[i];
    r3[i] = 3.0 * ab[i];
  }
  EXPECT_TRUE(close_values(addmm(c, a, b), r1, 1e-5, 1e-5));
  EXPECT_TRUE(close_values(addmm(c2, a, b, 2.f, -0.5f), r2, 1e-5, 1e-5));
  array r = addmm(c2, a, b, 3.f, 0.f);
  EXPECT_TRUE(close_values(r, r3, 1e-5, 1e-5));
  EXPECT_EQ(r.shape(), (Shape{3, 5}));
  // The product's dtype, whatever c's.
  EXPECT_EQ(addmm(c.astype(float32), a.astype(float16), b.astype(float16)).dtype(), float16);
  EXPECT_EQ(addmm(c, a, b).shape(), (Shape{3, 5}));
  // A scalar c broadcasts.
  EXPECT_EQ(addmm(array(1.f), a, b).shape(), (Shape{3, 5}));
}

TEST(MatmulTest, GradientsFiniteDifferences) {
  auto mm = [](const std::vector<array>& in) { return matmul(in[0], in[1]); };
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{3, 4}, {4, 5}}, {{4}, {4, 2}}, {{3, 4}, {4}}, {{4}, {4}},
      {{2, 1, 3, 4}, {5, 4, 2}}, {{3, 4}, {2, 4, 3}}};
  unsigned seed = 30;
  for (auto& [sa, sb] : cases) {
    array a = random_array(sa, seed++, float64), b = random_array(sb, seed++, float64);
    EXPECT_TRUE(check_grads(mm, {a, b}, 1e-6)) << shape_string(sa) << " @ " << shape_string(sb);
  }
  // Transposed operands inside the function.
  auto mt = [](const std::vector<array>& in) { return matmul(in[0].T(), in[1]); };
  EXPECT_TRUE(check_grads(mt, {random_array({4, 3}, 40, float64), random_array({4, 2}, 41, float64)},
                          1e-6));
  auto am = [](const std::vector<array>& in) { return addmm(in[0], in[1], in[2], 1.5f, -2.f); };
  EXPECT_TRUE(check_grads(am, {random_array({5}, 42, float64), random_array({3, 4}, 43, float64),
                               random_array({4, 5}, 44, float64)},
                          1e-6));
  // A chain: sum(softmax(x @ w)) style composite through reductions.
  auto chain = [](const std::vector<array>& in) {
    return logsumexp(matmul(in[0], in[1]), 1);
  };
  EXPECT_TRUE(check_grads(chain, {random_array({3, 4}, 45, float64),
                                  random_array({4, 6}, 46, float64)},
                          1e-6));
}

}  // namespace
