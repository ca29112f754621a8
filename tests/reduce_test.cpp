// Reductions: values against plain double-precision loops, every layout path of the CPU kernel,
// dtype rules (MLX's), errors, NaN/inf handling, and finite-difference gradient checks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "test_util.hpp"
#include "tessera/core/primitive.hpp"
#include "tessera/ops/creation.hpp"
#include "tessera/ops/misc.hpp"
#include "tessera/ops/reduce.hpp"
#include "tessera/ops/shape.hpp"
#include "tessera/primitives/elementwise.hpp"
#include "tessera/transforms/autodiff.hpp"

namespace {

using namespace tessera;
using tessera::test::close_values;
using tessera::test::check_grads;
using tessera::test::random_array;
using tessera::test::throws_with;
using tessera::test::values;

enum class R { sum, prod, max, min, mean, all, any, lse };

// Reference reduction of row-major `x` of `shape` over `axes` (keepdims layout), in double.
std::vector<double> ref_reduce(const std::vector<double>& x, const Shape& shape,
                               std::vector<int> axes, R op) {
  const int nd = static_cast<int>(shape.size());
  for (auto& a : axes) a = a < 0 ? a + nd : a;
  Shape oshape = shape;
  for (int a : axes) oshape[a] = 1;
  const int64_t nout = shape_size(oshape);
  std::vector<std::vector<double>> groups(nout);
  auto ostr = row_major_strides(oshape);
  std::vector<int64_t> idx(nd, 0);
  for (size_t i = 0; i < x.size(); ++i) {
    int64_t rem = static_cast<int64_t>(i), o = 0;
    for (int d = nd - 1; d >= 0; --d) {
      idx[d] = rem % shape[d];
      rem /= shape[d];
    }
    for (int d = 0; d < nd; ++d) o += (oshape[d] == 1 ? 0 : idx[d]) * ostr[d];
    groups[o].push_back(x[i]);
  }
  std::vector<double> out(nout);
  for (int64_t o = 0; o < nout; ++o) {
    auto& g = groups[o];
    double r = 0;
    switch (op) {
      case R::sum: for (double v : g) r += v; break;
      case R::mean: for (double v : g) r += v; r /= g.size(); break;
      case R::prod: r = 1; for (double v : g) r *= v; break;
      case R::max:
        r = -INFINITY;
        for (double v : g) r = (std::isnan(v) || v > r) && !std::isnan(r) ? v : r;
        break;
      case R::min:
        r = INFINITY;
        for (double v : g) r = (std::isnan(v) || v < r) && !std::isnan(r) ? v : r;
        break;
      case R::all: r = 1; for (double v : g) r = r && v != 0; break;
      case R::any: r = 0; for (double v : g) r = r || v != 0; break;
      case R::lse: {
        double m = -INFINITY;
        for (double v : g) m = std::max(m, v);
        double s = 0;
        for (double v : g) s += std::exp(v - m);
        r = std::log(s) + m;
        break;
      }
    }
    out[o] = r;
  }
  return out;
}

array apply(R op, const array& a, const std::vector<int>& axes, bool keepdims) {
  switch (op) {
    case R::sum: return sum(a, axes, keepdims);
    case R::prod: return prod(a, axes, keepdims);
    case R::max: return max(a, axes, keepdims);
    case R::min: return min(a, axes, keepdims);
    case R::mean: return mean(a, axes, keepdims);
    case R::all: return all(a, axes, keepdims);
    case R::any: return any(a, axes, keepdims);
    case R::lse: return logsumexp(a, axes, keepdims);
  }
  return a;
}

Shape out_shape(const Shape& shape, std::vector<int> axes, bool keepdims) {
  const int nd = static_cast<int>(shape.size());
  for (auto& a : axes) a = a < 0 ? a + nd : a;
  Shape o;
  for (int d = 0; d < nd; ++d) {
    bool red = std::find(axes.begin(), axes.end(), d) != axes.end();
    if (!red) o.push_back(shape[d]);
    else if (keepdims) o.push_back(1);
  }
  return o;
}

// Row-major values of a view (what `a.to_vector` returns), as doubles.
std::vector<double> dense(array a) { return values(a); }

const std::vector<std::vector<int>> kAxes3 = {{}, {0}, {1}, {2}, {-1}, {0, 1}, {0, 2},
                                              {1, 2}, {-3, -1}, {0, 1, 2}, {2, 0}};

TEST(ReduceTest, AllOpsAllAxesFloat32) {
  const Shape shape{3, 4, 5};
  array x = random_array(shape, 1, float32, 0.5, 1.5);
  auto xv = dense(x);
  for (R op : {R::sum, R::prod, R::max, R::min, R::mean, R::lse}) {
    for (auto& axes : kAxes3) {
      for (bool keep : {false, true}) {
        array r = apply(op, x, axes, keep);
        EXPECT_EQ(r.shape(), out_shape(shape, axes, keep));
        EXPECT_EQ(r.dtype(), float32);
        EXPECT_TRUE(close_values(r, ref_reduce(xv, shape, axes, op), 1e-5, 1e-6))
            << "op " << static_cast<int>(op) << " axes size " << axes.size() << " keep " << keep;
      }
    }
  }
}

TEST(ReduceTest, AllAnyAndNoAxisOverloads) {
  array x = array({0.f, 1.f, 2.f, 0.f, 3.f, 4.f}, {2, 3});
  EXPECT_TRUE(close_values(all(x, 1), {0, 0}));
  EXPECT_TRUE(close_values(any(x, 0), {0, 1, 1}));
  EXPECT_TRUE(close_values(all(x, 0), {0, 1, 1}));
  EXPECT_EQ(all(x).dtype(), bool_);
  EXPECT_EQ(all(x).shape(), Shape{});
  EXPECT_EQ(any(x, true).shape(), (Shape{1, 1}));
  EXPECT_EQ(any(x).item<bool>(), true);
  EXPECT_EQ(sum(x).item<float>(), 10.f);
  EXPECT_EQ(sum(x, true).shape(), (Shape{1, 1}));
  EXPECT_EQ(sum(x, 1, true).shape(), (Shape{2, 1}));
  EXPECT_EQ(max(x).item<float>(), 4.f);
  EXPECT_EQ(min(x, -1).to_vector<float>(), (std::vector<float>{0.f, 0.f}));
  EXPECT_EQ(prod(array({2, 3, 4})).item<int>(), 24);
  // A 0-d array reduces to itself.
  EXPECT_EQ(sum(array(3.5f)).item<float>(), 3.5f);
}

// Each layout path of the CPU kernel, with sizes that also take the thread-splitting branches.
TEST(ReduceTest, LayoutPaths) {
  struct Case {
    Shape shape;
    std::vector<int> axes;
  };
  const std::vector<Case> cases = {
      {{1, 200000}, {1}},        // one long row (split among threads)
      {{300, 257}, {1}},         // rows
      {{100000, 3}, {0}},        // long columns, few outputs (split among threads)
      {{257, 1500}, {0}},        // columns in several blocks
      {{8, 300, 40}, {1}},       // middle axis: outer x column reduction
      {{4, 5, 6, 7}, {0, 2}},    // interleaved: gathered, then rows
      {{4, 5, 6, 7}, {1, 3}},    // interleaved the other way
      {{5, 1, 6}, {1}},          // only a size-1 axis: a cast
      {{2, 1, 3, 1}, {0, 2}},    // size-1 axes dropped
  };
  for (auto& c : cases) {
    array x = random_array(c.shape, 7, float32, 0.5, 1.5);
    auto xv = dense(x);
    for (R op : {R::sum, R::max, R::min, R::all}) {
      EXPECT_TRUE(close_values(apply(op, x, c.axes, true), ref_reduce(xv, c.shape, c.axes, op), 2e-5,
                           1e-5))
          << shape_string(c.shape) << " op " << static_cast<int>(op);
    }
    // Integer path (exact).
    array xi = random_array(c.shape, 8, int32, -100, 100);
    EXPECT_TRUE(close_values(sum(xi, c.axes, true), ref_reduce(dense(xi), c.shape, c.axes, R::sum),
                         0, 0));
  }
}

// Every dtype through the row, column and gathered paths (small integers: exact everywhere).
TEST(ReduceTest, LayoutPathsAllDtypes) {
  const Shape shape{40, 3, 70};
  for (Dtype t : all_dtypes) {
    SCOPED_TRACE(to_string(t));
    array x = random_array(shape, 9, float32, 0, 3).astype(int32).astype(t);
    auto xv = dense(x);
    for (auto axes : std::vector<std::vector<int>>{{2}, {0}, {1}, {0, 2}, {0, 1, 2}}) {
      auto ref = ref_reduce(xv, shape, axes, R::sum);
      for (auto& v : ref) {  // 8-bit sums wrap around; 16-bit floats round the result
        if (t == uint8) v = static_cast<uint8_t>(static_cast<int64_t>(v));
        if (t == int8) v = static_cast<int8_t>(static_cast<int64_t>(v));
      }
      const double rtol = t == float16 ? 1e-3 : (t == bfloat16 ? 8e-3 : 0);
      EXPECT_TRUE(close_values(sum(x, axes), ref, rtol, 0));
      EXPECT_TRUE(close_values(any(x, axes), ref_reduce(xv, shape, axes, R::any), 0, 0));
      EXPECT_TRUE(close_values(all(x, axes), ref_reduce(xv, shape, axes, R::all), 0, 0));
      if (t != complex64) {
        EXPECT_TRUE(close_values(max(x, axes), ref_reduce(xv, shape, axes, R::max), 0, 0));
        EXPECT_TRUE(close_values(min(x, axes), ref_reduce(xv, shape, axes, R::min), 0, 0));
      }
    }
  }
}

TEST(ReduceTest, NonContiguousInputs) {
  array base = random_array({6, 8, 10}, 3);
  array t = transpose(base, {2, 0, 1});                       // (10,6,8) view
  array sl = slice(base, {1, 0, 1}, {6, 8, 10}, {2, 3, 2});   // strided view
  array bc = broadcast_to(random_array({1, 8, 1}, 4), {6, 8, 10});
  array rev = slice(base, {5, 7, 9}, {-7, -9, -11}, {-1, -1, -1});  // negative strides
  for (array x : {t, sl, bc, rev}) {
    auto xv = dense(x);
    for (auto& axes : kAxes3) {
      for (R op : {R::sum, R::max, R::mean}) {
        EXPECT_TRUE(close_values(apply(op, x, axes, true), ref_reduce(xv, x.shape(), axes, op), 1e-5,
                             1e-5))
            << shape_string(x.shape()) << " op " << static_cast<int>(op);
      }
    }
    for (int ax = 0; ax < 3; ++ax) {
      // Views and their row-major copies agree.
      EXPECT_EQ(argmax(x, ax).to_vector<uint32_t>(), argmax(contiguous(x), ax).to_vector<uint32_t>());
      EXPECT_EQ(argmin(x, ax).to_vector<uint32_t>(), argmin(contiguous(x), ax).to_vector<uint32_t>());
    }
  }
}

TEST(ReduceTest, DtypeRules) {
  for (Dtype t : all_dtypes) {
    array x = array({1, 0, 1, 1, 0, 1}, {2, 3}).astype(t);
    SCOPED_TRACE(to_string(t));
    Dtype sum_t = t == bool_ ? int32 : t;
    EXPECT_EQ(sum(x, 1).dtype(), sum_t);
    EXPECT_TRUE(close_values(sum(x, 1), {2, 2}));
    EXPECT_EQ(prod(x, 0).dtype(), sum_t);
    EXPECT_TRUE(close_values(prod(x, 0), {1, 0, 1}));
    Dtype mean_t = issubdtype(t, inexact) ? t : float32;
    EXPECT_EQ(mean(x).dtype(), mean_t);
    EXPECT_TRUE(close_values(mean(x), {4.0 / 6.0}, 1e-2, 1e-3));
    EXPECT_EQ(all(x, 0).dtype(), bool_);
    EXPECT_TRUE(close_values(all(x, 0), {1, 0, 1}));
    EXPECT_TRUE(close_values(any(x, 1), {1, 1}));
    if (t == complex64) {
      EXPECT_THROW(max(x), std::invalid_argument);
      EXPECT_THROW(min(x, 0), std::invalid_argument);
      EXPECT_THROW(argmax(x), std::invalid_argument);
      EXPECT_THROW(argmin(x, 1), std::invalid_argument);
      EXPECT_THROW(logsumexp(x), std::invalid_argument);
    } else {
      EXPECT_EQ(max(x, 1).dtype(), t);
      EXPECT_TRUE(close_values(max(x, 0), {1, 0, 1}));
      EXPECT_TRUE(close_values(min(x, 0), {1, 0, 1}));
      EXPECT_EQ(argmax(x, 1).dtype(), uint32);
      EXPECT_EQ(argmax(x, 1).to_vector<uint32_t>(), (std::vector<uint32_t>{0, 0}));
      EXPECT_EQ(argmin(x, 1).to_vector<uint32_t>(), (std::vector<uint32_t>{1, 1}));
    }
  }
  // Complex sums keep both parts.
  array c = array({complex64_t(1, 2), complex64_t(3, -1)});
  EXPECT_EQ(sum(c).item<complex64_t>(), complex64_t(4, 1));
  EXPECT_EQ(prod(c).item<complex64_t>(), complex64_t(5, 5));
  EXPECT_EQ(mean(c).item<complex64_t>(), complex64_t(2, 0.5));
}

TEST(ReduceTest, IntegerLimitsAndExactness) {
  // int64 sums are exact beyond 2^53, and min/max of signed ints see negatives.
  const int64_t big = (int64_t{1} << 60) + 1;
  array x = array(std::vector<int64_t>{big, 1, -3}, {3});
  EXPECT_EQ(sum(x).item<int64_t>(), big - 2);
  EXPECT_EQ(min(x).item<int64_t>(), -3);
  EXPECT_EQ(max(array(std::vector<int8_t>{-5, -7, -2}, {3})).item<int8_t>(), -2);
  EXPECT_EQ(min(array(std::vector<uint16_t>{5, 65535, 7}, {3})).item<uint16_t>(), 5);
  // Integer sums wrap around as NumPy's.
  EXPECT_EQ(sum(array(std::vector<int8_t>{100, 100}, {2})).item<int8_t>(), static_cast<int8_t>(-56));
  // Mean of integers accumulates without overflow.
  array big32 = full({1000}, 2000000000, int32);
  EXPECT_NEAR(mean(big32).item<float>(), 2e9, 2e9 * 1e-6);
}

TEST(ReduceTest, LongFloat32SumsStayAccurate) {
  const int n = 1 << 22;
  array x = full({n}, 0.1f);
  const double v = static_cast<double>(0.1f);
  EXPECT_NEAR(sum(x).item<float>(), n * v, n * v * 1e-6);
  EXPECT_NEAR(mean(x).item<float>(), v, v * 1e-6);
  EXPECT_NEAR(sum(reshape(x, {2, n / 2}), 1).to_vector<float>()[1], n * v / 2, n * v * 1e-6);
}

TEST(ReduceTest, HalfPrecisionAccumulatesInFloat32) {
  for (Dtype t : {float16, bfloat16}) {
    array x = full({4096}, 0.1f, t);
    const double v = static_cast<double>(x.to_vector<float>()[0]);
    // A 16-bit accumulator stalls far below 409.6; float32 accumulation is accurate.
    array s = sum(x);
    EXPECT_EQ(s.dtype(), t);
    EXPECT_NEAR(s.item<float>(), 4096 * v, 4096 * v * (t == float16 ? 1e-3 : 8e-3));
    EXPECT_NEAR(mean(x).item<float>(), v, v * 1e-2);
    EXPECT_EQ(mean(x).dtype(), t);
    EXPECT_TRUE(close_values(softmax(full({2, 1000}, 1.f, t), 1, true), std::vector<double>(2000, 1e-3),
                         1e-2, 1e-5));
  }
}

TEST(ReduceTest, EmptyReductions) {
  array e = zeros({0, 3});
  EXPECT_TRUE(close_values(sum(e, 0), {0, 0, 0}));
  EXPECT_TRUE(close_values(prod(e, 0), {1, 1, 1}));
  EXPECT_TRUE(close_values(all(e, 0), {1, 1, 1}));
  EXPECT_TRUE(close_values(any(e, 0), {0, 0, 0}));
  EXPECT_TRUE(std::isnan(mean(e).item<float>()));
  EXPECT_EQ(sum(e, 1).shape(), Shape{0});  // nothing reduced over an empty kept axis
  EXPECT_EQ(max(e, 1).shape(), Shape{0});
  EXPECT_EQ(sum(e).item<float>(), 0.f);
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { max(e, 0); }, {"[max]", "(0,3)"}));
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { min(e); }, {"[min]", "(0,3)"}));
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { argmax(e, 0); }, {"[argmax]"}));
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { argmin(e); }, {"[argmin]"}));
  // softmax of an empty array: the empty array of the same shape (as MLX), over any axes; the
  // axes are still checked.
  for (auto axes : std::vector<std::vector<int>>{{0}, {1}, {0, 1}, {}}) {
    array sm = softmax(e, axes);
    EXPECT_EQ(sm.shape(), (Shape{0, 3}));
    EXPECT_EQ(sm.dtype(), float32);
    EXPECT_TRUE(values(sm).empty());
  }
  EXPECT_EQ(softmax(e).shape(), (Shape{0, 3}));
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { softmax(e, 2); }, {"[softmax]", "(0,3)"}));
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { softmax(e, {1, -1}); }, {"[softmax]"}));
}

TEST(ReduceTest, AxisErrors) {
  array x = zeros({2, 3});
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { sum(x, 2); }, {"[sum]", "2", "(2,3)"}));
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { mean(x, -3); }, {"[mean]", "-3", "(2,3)"}));
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { prod(x, {0, -2}); },
                                                 {"[prod]", "duplicate", "-2", "(2,3)"}));
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { max(x, {1, 1}); }, {"[max]", "(2,3)"}));
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { all(x, {5}); }, {"[all]", "5"}));
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { any(x, {-4}); }, {"[any]"}));
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { logsumexp(x, 9); }, {"[logsumexp]"}));
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { argmax(x, 2); }, {"[argmax]", "(2,3)"}));
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { softmax(x, {0, 0}); }, {"[softmax]"}));
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { softmax(zeros({2}, int32), 0); },
                                                 {"[softmax]", "int32"}));
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { sum(array(1.f), 0); }, {"[sum]", "()"}));
}

TEST(ReduceTest, NaNPropagatesAndWinsArgReductions) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  array x = array({1.f, nan, 3.f, nan, 5.f, 2.f, 9.f, 0.f}, {2, 4});
  auto mx = max(x, 1).to_vector<float>();
  EXPECT_TRUE(std::isnan(mx[0]));
  EXPECT_EQ(mx[1], 9.f);
  EXPECT_TRUE(std::isnan(min(x, 1).to_vector<float>()[0]));
  EXPECT_TRUE(std::isnan(max(x).item<float>()));
  EXPECT_EQ(argmax(x, 1).to_vector<uint32_t>(), (std::vector<uint32_t>{1, 2}));
  EXPECT_EQ(argmin(x, 1).to_vector<uint32_t>(), (std::vector<uint32_t>{1, 3}));
  EXPECT_EQ(argmax(x, 0).to_vector<uint32_t>(), (std::vector<uint32_t>{1, 0, 1, 0}));
  // Column path: NaN in a later row still wins.
  array y = array({1.f, 2.f, 3.f, nan, 0.f, 1.f}, {3, 2});
  auto ymax = max(y, 0).to_vector<float>();
  EXPECT_TRUE(std::isnan(ymax[1]));
  EXPECT_EQ(ymax[0], 3.f);
  // Long rows are reduced in blocks: a NaN in a later block, and both infinities (whose sum
  // is NaN) without a NaN.
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> longrow(3 * 10000, 1.f);
  longrow[10000 + 9000] = nan;   // row 1
  longrow[20000 + 5] = inf;      // row 2
  longrow[20000 + 7000] = -inf;
  array lr(longrow, {3, 10000});
  auto lmax = max(lr, 1).to_vector<float>();
  auto lmin = min(lr, 1).to_vector<float>();
  EXPECT_EQ(lmax[0], 1.f);
  EXPECT_TRUE(std::isnan(lmax[1]) && std::isnan(lmin[1]));
  EXPECT_EQ(lmax[2], inf);
  EXPECT_EQ(lmin[2], -inf);
  EXPECT_EQ(argmax(lr, 1).to_vector<uint32_t>(), (std::vector<uint32_t>{0, 9000, 5}));
  EXPECT_EQ(argmin(lr, 1).to_vector<uint32_t>(), (std::vector<uint32_t>{0, 9000, 7000}));
  EXPECT_TRUE(std::isnan(max(lr.astype(float64)).item<double>()));
  // Half types too.
  array h = x.astype(float16);
  EXPECT_TRUE(std::isnan(max(h).item<float>()));
  EXPECT_EQ(argmax(h).item<uint32_t>(), 1u);
}

TEST(ReduceTest, ArgReduce) {
  array x = array({3, 7, 7, 1, 0, 7, 2, 2, 9, 9, 0, 0}, {2, 2, 3});
  EXPECT_EQ(argmax(x).item<uint32_t>(), 8u);  // flattened, first of the ties
  EXPECT_EQ(argmin(x).item<uint32_t>(), 4u);
  EXPECT_EQ(argmax(x, true).shape(), (Shape{1, 1, 1}));
  EXPECT_EQ(argmax(x, 2).to_vector<uint32_t>(), (std::vector<uint32_t>{1, 2, 2, 0}));
  EXPECT_EQ(argmax(x, 2, true).shape(), (Shape{2, 2, 1}));
  EXPECT_EQ(argmax(x, 0).to_vector<uint32_t>(), (std::vector<uint32_t>{0, 0, 1, 1, 0, 0}));
  EXPECT_EQ(argmin(x, 1).to_vector<uint32_t>(), (std::vector<uint32_t>{1, 1, 0, 0, 1, 1}));
  EXPECT_EQ(argmin(x, -2).to_vector<uint32_t>(), argmin(x, 1).to_vector<uint32_t>());
  // Larger, against a loop, on a transposed view (both code paths: inner == 1 and inner > 1).
  array r = transpose(random_array({37, 300}, 5), {1, 0});
  auto rv = dense(r);
  for (int ax : {0, 1}) {
    auto got = argmax(r, ax).to_vector<uint32_t>();
    auto gmin = argmin(r, ax).to_vector<uint32_t>();
    const int n = r.shape()[ax];
    const int other = r.shape()[1 - ax];
    for (int o = 0; o < other; ++o) {
      int best = 0, worst = 0;
      for (int j = 1; j < n; ++j) {
        auto at = [&](int jj) { return ax == 0 ? rv[jj * other + o] : rv[o * n + jj]; };
        if (at(j) > at(best)) best = j;
        if (at(j) < at(worst)) worst = j;
      }
      EXPECT_EQ(got[o], static_cast<uint32_t>(best));
      EXPECT_EQ(gmin[o], static_cast<uint32_t>(worst));
    }
  }
}

TEST(ReduceTest, LogSumExpStableAndInfinite) {
  const float inf = std::numeric_limits<float>::infinity();
  array x = array({1000.f, 1000.f, -inf, -inf, inf, 1.f, -1000.f, -1000.f}, {4, 2});
  auto v = logsumexp(x, 1).to_vector<float>();
  EXPECT_NEAR(v[0], 1000.0 + std::log(2.0), 1e-3);
  EXPECT_EQ(v[1], -inf);
  EXPECT_EQ(v[2], inf);
  EXPECT_NEAR(v[3], -1000.0 + std::log(2.0), 1e-3);
  EXPECT_EQ(logsumexp(x, 1, true).shape(), (Shape{4, 1}));
  EXPECT_NEAR(logsumexp(array({0.f, 0.f, 0.f, 0.f})).item<float>(), std::log(4.0), 1e-6);
  // Integers give float32.
  EXPECT_EQ(logsumexp(array({1, 2, 3})).dtype(), float32);
}

TEST(ReduceTest, Softmax) {
  array x = random_array({64, 1000}, 11, float32, -30, 30);
  array s = softmax(x, -1);
  EXPECT_EQ(s.dtype(), float32);
  auto rows = sum(s, 1).to_vector<float>();
  for (float r : rows) EXPECT_NEAR(r, 1.0f, 1e-6f);
  // Against a double-precision loop.
  auto xv = dense(x);
  std::vector<double> ref(xv.size());
  for (int i = 0; i < 64; ++i) {
    double m = -INFINITY, t = 0;
    for (int j = 0; j < 1000; ++j) m = std::max(m, xv[i * 1000 + j]);
    for (int j = 0; j < 1000; ++j) t += std::exp(xv[i * 1000 + j] - m);
    for (int j = 0; j < 1000; ++j) ref[i * 1000 + j] = std::exp(xv[i * 1000 + j] - m) / t;
  }
  EXPECT_TRUE(close_values(s, ref, 1e-5, 1e-9));
  // Several axes, all axes, axis 0.
  array y = random_array({3, 4, 5}, 12);
  EXPECT_TRUE(close_values(sum(softmax(y, {0, 2}), {0, 2}), std::vector<double>(4, 1.0), 1e-6, 1e-6));
  EXPECT_NEAR(sum(softmax(y)).item<float>(), 1.0f, 1e-6f);
  EXPECT_TRUE(close_values(sum(softmax(y, 0), 0), std::vector<double>(20, 1.0), 1e-6, 1e-6));
  // Large inputs do not overflow; -inf entries get 0.
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_TRUE(close_values(softmax(array({1e4f, 1e4f, -inf}), 0), {0.5, 0.5, 0.0}));
  // float16: plain and precise agree within half precision and keep the dtype.
  array h = random_array({8, 100}, 13, float16, -5, 5);
  array sp = softmax(h, 1, true), sn = softmax(h, 1);
  EXPECT_EQ(sp.dtype(), float16);
  EXPECT_EQ(sn.dtype(), float16);
  EXPECT_TRUE(close_values(values(sn), values(sp), 2e-2, 1e-4));
  auto hrows = sum(sp.astype(float32), 1).to_vector<float>();
  for (float r : hrows) EXPECT_NEAR(r, 1.0f, 2e-3f);
}

// ---------------------------------------------------------------------------------------------
// Gradients (float64, central differences)

TEST(ReduceTest, GradientsFiniteDifferences) {
  const Shape shape{3, 4, 5};
  array x = random_array(shape, 21, float64, 0.5, 1.5);  // positive: prod's rule divides by x
  const std::vector<std::vector<int>> axes_list = {{}, {0}, {2}, {0, 2}, {1, 2}, {0, 1, 2}};
  for (auto& axes : axes_list) {
    for (bool keep : {false, true}) {
      SCOPED_TRACE("axes " + std::to_string(axes.size()) + " keep " + std::to_string(keep));
      for (R op : {R::sum, R::mean, R::prod, R::max, R::min, R::lse}) {
        auto f = [&](const std::vector<array>& in) { return apply(op, in[0], axes, keep); };
        EXPECT_TRUE(check_grads(f, {x}, 1e-6)) << "op " << static_cast<int>(op);
      }
    }
  }
  for (int ax : {0, 1, -1}) {
    auto f = [&](const std::vector<array>& in) { return softmax(in[0], ax); };
    EXPECT_TRUE(check_grads(f, {x}, 1e-6)) << "softmax axis " << ax;
  }
  auto g = [&](const std::vector<array>& in) { return softmax(in[0], {0, 2}); };
  EXPECT_TRUE(check_grads(g, {x}, 1e-6));
  // Through a composition: sum(x * softmax(x)) over a transposed view.
  auto h = [&](const std::vector<array>& in) {
    array t = transpose(in[0], {2, 1, 0});
    array p = apply_elementwise(ElemOp::Multiply, {t, softmax(t, 1)});
    return logsumexp(p, {0, 1});
  };
  EXPECT_TRUE(check_grads(h, {x}, 1e-6));
}

TEST(ReduceTest, MaxGradientSplitsTies) {
  array x = array({1.0, 3.0, 3.0, 2.0, 5.0, 5.0, 5.0, 0.0}, {2, 4}, float64);
  auto f = [](const array& a) { return sum(max(a, 1)); };
  auto [out, g] = vjp(f, x, array(1.0, float64));
  EXPECT_TRUE(close_values(g, {0, 0.5, 0.5, 0, 1.0 / 3, 1.0 / 3, 1.0 / 3, 0}, 1e-12, 1e-12));
  auto fm = [](const array& a) { return min(a, 0); };
  auto [out2, g2] = vjp(fm, x, array({1.0, 1.0, 1.0, 1.0}, float64));
  EXPECT_TRUE(close_values(g2, {1, 1, 1, 0, 0, 0, 0, 1}, 1e-12, 1e-12));
}

TEST(ReduceTest, ZeroGradients) {
  array x = random_array({3, 4}, 31, float64);
  auto expect_zero = [&](std::function<array(const array&)> f) {
    array probe = f(x);
    array ct = ones(probe.shape(), probe.dtype());
    auto [o, g] = vjp(f, x, ct);
    EXPECT_EQ(g.shape(), x.shape());
    EXPECT_TRUE(close_values(g, std::vector<double>(12, 0.0), 0, 0));
  };
  expect_zero([](const array& a) { return all(a, 1); });
  expect_zero([](const array& a) { return any(a); });
  expect_zero([](const array& a) { return argmax(a, 0); });
  expect_zero([](const array& a) { return argmin(a); });
  expect_zero([](const array& a) { return stop_gradient(a); });
  // jvp: stop_gradient gives zero tangents, values pass through.
  auto [o, t] = jvp([](const array& a) { return stop_gradient(a); }, x, ones({3, 4}, float64));
  EXPECT_TRUE(close_values(t, std::vector<double>(12, 0.0), 0, 0));
  EXPECT_TRUE(close_values(o, values(x), 0, 0));
  auto [o2, t2] = jvp([](const array& a) { return argmax(a, 1); }, x, ones({3, 4}, float64));
  EXPECT_EQ(t2.shape(), Shape{3});
  // The primitive's rule directly, through the node.
  array a = argmax(x, 1, true);
  auto direct = a.primitive().vjp(a.inputs(), {ones(a.shape(), float64)}, {0}, {a});
  EXPECT_TRUE(close_values(direct[0], std::vector<double>(12, 0.0), 0, 0));
}

TEST(ReduceTest, StopGradientSharesBuffer) {
  array x = random_array({4, 5}, 41);
  x.eval();
  array y = stop_gradient(x);
  y.eval();
  EXPECT_EQ(y.data<float>(), x.data<float>());
  EXPECT_STREQ(stop_gradient(x).primitive().name(), "StopGradient");
}

}  // namespace
