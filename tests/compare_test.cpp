// Value tests and whole-array comparisons (ops/compare.hpp): isnan, isinf, isposinf,
// isneginf, isfinite, isclose, allclose, array_equal. Expected values are NumPy's
// (np.isnan, np.isclose, np.array_equal on the same inputs), written out; the suite runs on the
// CPU and on the default device (Vulkan under CTest's second run).
#include <gtest/gtest.h>

#include <complex>
#include <limits>

#include "test_util.hpp"
#include "tessera/ops/compare.hpp"
#include "tessera/ops/creation.hpp"
#include "tessera/ops/elementwise.hpp"
#include "tessera/ops/shape.hpp"

namespace {

using namespace tessera;
using tessera::test::arrays_equal;
using tessera::test::throws_with;

constexpr float kNan = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

array bools(std::initializer_list<int> v) {
  std::vector<bool> b;
  for (int x : v) b.push_back(x != 0);
  std::vector<uint8_t> bytes(b.begin(), b.end());
  return array(static_cast<const void*>(bytes.data()), Shape{static_cast<int32_t>(v.size())},
               bool_);
}

struct PredicateCase {
  const char* name;
  array (*op)(const array&, StreamOrDevice);
  std::initializer_list<int> on_floats;  // for {nan, 1, inf, -inf, 0, -0}
};

TEST(CompareTest, PredicatesOnEveryKindOfValue) {
  const PredicateCase cases[] = {
      {"isnan", isnan, {1, 0, 0, 0, 0, 0}},      {"isinf", isinf, {0, 0, 1, 1, 0, 0}},
      {"isposinf", isposinf, {0, 0, 1, 0, 0, 0}}, {"isneginf", isneginf, {0, 0, 0, 1, 0, 0}},
      {"isfinite", isfinite, {0, 1, 0, 0, 1, 1}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    for (Dtype t : {float32, float16, bfloat16, float64}) {
      SCOPED_TRACE(dtype_name(t));
      array x = astype(array({kNan, 1.0f, kInf, -kInf, 0.0f, -0.0f}), t);
      array got = c.op(x, {});
      EXPECT_EQ(got.dtype(), bool_);
      EXPECT_TRUE(arrays_equal(got, bools(c.on_floats)));
    }
    // Integers and bools are never NaN or infinite.
    const bool finite = std::string(c.name) == "isfinite";
    for (Dtype t : {int32, uint8, int64, bool_}) {
      array got = c.op(astype(array({0, 1, -1}), t), {});
      EXPECT_TRUE(arrays_equal(got, finite ? bools({1, 1, 1}) : bools({0, 0, 0})));
    }
  }
  // A complex number is NaN or infinite when either part is.
  array z({complex64_t(kNan, 0), complex64_t(0, kInf), complex64_t(1, 2)});
  EXPECT_TRUE(arrays_equal(isnan(z), bools({1, 0, 0})));
  EXPECT_TRUE(arrays_equal(isinf(z), bools({0, 1, 0})));
  EXPECT_TRUE(arrays_equal(isfinite(z), bools({0, 0, 1})));
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { isposinf(z); }, {"[isposinf]", "complex64"}));
  // 0-d and 2-D shapes are kept.
  EXPECT_EQ(isnan(array(1.0f)).shape(), Shape{});
  EXPECT_EQ(isinf(zeros({2, 3})).shape(), (Shape{2, 3}));
}

TEST(CompareTest, IscloseMatchesNumPy) {
  array a({1.0f, 1.0f + 1e-6f, 1e10f, kInf, kInf, -kInf, kNan, kNan, 0.0f, 1e-8f, -2.0f});
  array b({1.0f, 1.0f, 1.000005e10f, kInf, -kInf, -kInf, kNan, 1.0f, 1e-9f, 0.0f, -2.00003f});
  // np.isclose(a, b), with equal_nan=True, and with rtol=1e-3, atol=0.
  EXPECT_TRUE(arrays_equal(isclose(a, b), bools({1, 1, 1, 1, 0, 1, 0, 0, 1, 1, 0})));
  EXPECT_TRUE(arrays_equal(isclose(a, b, 1e-5, 1e-8, true), bools({1, 1, 1, 1, 0, 1, 1, 0, 1, 1, 0})));
  EXPECT_TRUE(arrays_equal(isclose(a, b, 1e-3, 0.0), bools({1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 1})));
  // Integers (promoted with the float tolerance), broadcasting, and bools (close = equal).
  EXPECT_TRUE(arrays_equal(isclose(array({1, 2, 3}), array({1, 2, 4}), 1e-5, 0.5), bools({1, 1, 0})));
  EXPECT_EQ(isclose(zeros({3, 1}), zeros({4})).shape(), (Shape{3, 4}));
  EXPECT_TRUE(arrays_equal(isclose(bools({1, 0}), bools({1, 1})), bools({1, 0})));
  // float64 keeps its precision: 1 + 1e-12 is close, 1 + 1e-4 is not.
  array d = array({1.0, 1.0}, float64) + array({1e-12, 1e-4}, float64);
  EXPECT_TRUE(arrays_equal(isclose(d, ones({2}, float64)), bools({1, 0})));
}

TEST(CompareTest, AllcloseAndArrayEqual) {
  array a({1.0f, 2.0f, kNan});
  EXPECT_FALSE(allclose(a, a).item<bool>());
  EXPECT_TRUE(allclose(a, a, 1e-5, 1e-8, true).item<bool>());
  EXPECT_TRUE(allclose(array({1.0f, 2.0f}), array({1.000001f, 2.0f})).item<bool>());
  EXPECT_FALSE(allclose(array({1.0f, 2.0f}), array({1.1f, 2.0f})).item<bool>());
  EXPECT_EQ(allclose(a, a).shape(), Shape{});
  EXPECT_EQ(allclose(a, a).dtype(), bool_);

  // array_equal: no broadcasting (other shapes are simply unequal), dtypes promoted.
  EXPECT_TRUE(array_equal(array({1, 2, 3}), array({1.0f, 2.0f, 3.0f})).item<bool>());
  EXPECT_FALSE(array_equal(array({1, 2, 3}), array({1, 2, 4})).item<bool>());
  EXPECT_FALSE(array_equal(zeros({3}), zeros({1, 3})).item<bool>());
  EXPECT_FALSE(array_equal(zeros({2}), zeros({2, 1})).item<bool>());
  EXPECT_FALSE(array_equal(a, a).item<bool>());
  EXPECT_TRUE(array_equal(a, a, true).item<bool>());
  EXPECT_TRUE(array_equal(array({1, 2}), array({1, 2}), true).item<bool>());  // ints: no NaN
  EXPECT_TRUE(array_equal(zeros({0}), zeros({0})).item<bool>());              // empty: vacuous
  // Views compare by value.
  array m = reshape(arange(0.0, 6.0), {2, 3});
  EXPECT_TRUE(array_equal(transpose(transpose(m)), m).item<bool>());
  EXPECT_FALSE(array_equal(transpose(m), reshape(m, {3, 2})).item<bool>());
}

}  // namespace
