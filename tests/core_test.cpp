// Core: dtypes and promotion, limits, array construction and layout, element access, printing
// in MLX's style, the lazy graph (status, release after eval, a million-node chain), async
// evaluation, threads, kernel errors reaching the caller, the memory API, devices and streams.
//
// Reference values are the published ones (NumPy's finfo/iinfo, MLX's promotion table and
// repr format), not our own output.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <sstream>
#include <thread>

#include "test_util.hpp"
#include "tessera/core/memory.hpp"
#include "tessera/core/primitive.hpp"
#include "tessera/ops/creation.hpp"
#include "tessera/ops/elementwise.hpp"
#include "tessera/ops/shape.hpp"
#include "tessera/transforms/eval.hpp"

namespace {

using namespace tessera;
using tessera::test::close_values;
using tessera::test::DefaultDeviceGuard;
using tessera::test::for_each_device;
using tessera::test::throws_with;
using tessera::test::values;

std::string repr(const array& a) {
  std::ostringstream os;
  os << a;
  return os.str();
}

// ---------------------------------------------------------------------------------------------
// Dtypes

TEST(CoreDtype, SizesAndNames) {
  struct Row {
    Dtype d;
    int size;
    const char* name;
  };
  const Row rows[] = {{bool_, 1, "bool"},       {uint8, 1, "uint8"},     {uint16, 2, "uint16"},
                      {uint32, 4, "uint32"},    {uint64, 8, "uint64"},   {int8, 1, "int8"},
                      {int16, 2, "int16"},      {int32, 4, "int32"},     {int64, 8, "int64"},
                      {float16, 2, "float16"},  {float32, 4, "float32"}, {float64, 8, "float64"},
                      {bfloat16, 2, "bfloat16"}, {complex64, 8, "complex64"}};
  ASSERT_EQ(std::size(rows), static_cast<size_t>(num_dtypes));
  for (auto& r : rows) {
    EXPECT_EQ(r.d.size(), r.size) << r.name;
    EXPECT_EQ(size_of(r.d), r.size) << r.name;
    EXPECT_STREQ(dtype_name(r.d), r.name);
    EXPECT_EQ(to_string(r.d), r.name);
    std::ostringstream os;
    os << r.d;
    EXPECT_EQ(os.str(), r.name);
  }
  // The host types map as MLX C++'s do.
  EXPECT_EQ(dtype_of<float>, float32);
  EXPECT_EQ(dtype_of<double>, float64);
  EXPECT_EQ(dtype_of<int>, int32);
  EXPECT_EQ(dtype_of<int64_t>, int64);
  EXPECT_EQ(dtype_of<uint8_t>, uint8);
  EXPECT_EQ(dtype_of<bool>, bool_);
  EXPECT_EQ(dtype_of<float16_t>, float16);
  EXPECT_EQ(dtype_of<bfloat16_t>, bfloat16);
  EXPECT_EQ(dtype_of<complex64_t>, complex64);
  EXPECT_EQ(kind(float16), Dtype::Kind::f);
  EXPECT_EQ(kind(uint32), Dtype::Kind::u);
  EXPECT_EQ(kind(int8), Dtype::Kind::i);
  EXPECT_EQ(kind(bool_), Dtype::Kind::b);
  EXPECT_EQ(kind(complex64), Dtype::Kind::c);
}

TEST(CoreDtype, PromotionSpotChecksOfMlxTable) {
  struct Row {
    Dtype a, b, expect;
  };
  const Row rows[] = {
      {uint64, int8, float32},    {uint32, int32, int64},     {float16, bfloat16, float32},
      {int32, float16, float16},  {uint8, int8, int16},       {uint16, int16, int32},
      {uint64, uint8, uint64},    {int64, float32, float32},  {int32, int64, int64},
      {bfloat16, int64, bfloat16}, {float32, float64, float64}, {uint64, int64, float32},
      {float16, float16, float16}, {bool_, bool_, bool_},
  };
  for (auto& r : rows) {
    EXPECT_EQ(promote_types(r.a, r.b), r.expect) << r.a << " + " << r.b;
    EXPECT_EQ(promote_types(r.b, r.a), r.expect) << r.b << " + " << r.a;
  }
  for (auto d : all_dtypes) {
    EXPECT_EQ(promote_types(bool_, d), d) << "bool + " << d;
    EXPECT_EQ(promote_types(d, complex64), complex64) << d << " + complex64";
    EXPECT_EQ(promote_types(d, d), d);
    for (auto e : all_dtypes) EXPECT_EQ(promote_types(d, e), promote_types(e, d)) << d << "," << e;
  }
}

TEST(CoreDtype, Issubdtype) {
  EXPECT_TRUE(issubdtype(float32, floating));
  EXPECT_TRUE(issubdtype(float16, inexact));
  EXPECT_TRUE(issubdtype(bfloat16, floating));
  EXPECT_TRUE(issubdtype(complex64, complexfloating));
  EXPECT_TRUE(issubdtype(complex64, inexact));
  EXPECT_FALSE(issubdtype(complex64, floating));
  EXPECT_TRUE(issubdtype(int32, signedinteger));
  EXPECT_TRUE(issubdtype(int8, integer));
  EXPECT_FALSE(issubdtype(int8, unsignedinteger));
  EXPECT_TRUE(issubdtype(uint64, unsignedinteger));
  EXPECT_TRUE(issubdtype(uint16, number));
  EXPECT_FALSE(issubdtype(uint16, inexact));
  EXPECT_TRUE(issubdtype(float64, generic));
  EXPECT_FALSE(issubdtype(bool_, number));  // as NumPy/MLX: bool is only generic
  EXPECT_TRUE(issubdtype(bool_, generic));
  EXPECT_TRUE(issubdtype(float32, float32));
  EXPECT_FALSE(issubdtype(float32, float64));
  EXPECT_TRUE(issubdtype(floating, inexact));
  EXPECT_FALSE(issubdtype(inexact, floating));
  EXPECT_TRUE(issubdtype(signedinteger, integer));
  EXPECT_TRUE(issubdtype(integer, number));
  EXPECT_TRUE(issubdtype(number, generic));
  EXPECT_FALSE(issubdtype(generic, number));
  EXPECT_FALSE(issubdtype(floating, float32));
  EXPECT_TRUE(is_floating(bfloat16));
  EXPECT_TRUE(is_integral(uint8));
  EXPECT_FALSE(is_integral(bool_));
  EXPECT_TRUE(is_unsigned(uint32));
  EXPECT_TRUE(is_complex(complex64));
}

TEST(CoreDtype, FinfoAndIinfo) {
  // NumPy's published limits.
  struct F {
    Dtype d;
    double max, eps;
  };
  const F fs[] = {{float16, 65504.0, 0.0009765625},
                  {float32, 3.4028234663852886e38, 1.1920928955078125e-07},
                  {float64, 1.7976931348623157e308, 2.220446049250313e-16},
                  {bfloat16, 3.3895313892515355e38, 0.0078125}};
  for (auto& f : fs) {
    finfo fi(f.d);
    EXPECT_EQ(fi.max, f.max) << f.d;
    EXPECT_EQ(fi.min, -f.max) << f.d;
    EXPECT_EQ(fi.eps, f.eps) << f.d;
    EXPECT_EQ(fi.dtype, f.d);
  }
  finfo c(complex64);  // limits of its float32 parts
  EXPECT_EQ(c.max, 3.4028234663852886e38);
  struct I {
    Dtype d;
    int64_t min;
    uint64_t max;
  };
  const I is[] = {{int8, -128, 127},
                  {uint8, 0, 255},
                  {int16, -32768, 32767},
                  {uint16, 0, 65535},
                  {int32, -2147483648LL, 2147483647ULL},
                  {uint32, 0, 4294967295ULL},
                  {int64, std::numeric_limits<int64_t>::min(), 9223372036854775807ULL},
                  {uint64, 0, 18446744073709551615ULL}};
  for (auto& i : is) {
    iinfo ii(i.d);
    EXPECT_EQ(ii.min, i.min) << i.d;
    EXPECT_EQ(ii.max, i.max) << i.d;
  }
  EXPECT_TRUE(throws_with<std::invalid_argument>([] { finfo f(int32); }, {"[finfo]", "int32"}));
  EXPECT_TRUE(throws_with<std::invalid_argument>([] { iinfo i(float32); }, {"[iinfo]", "float32"}));
}

// ---------------------------------------------------------------------------------------------
// Construction and layout

TEST(CoreArray, ScalarConstruction) {
  array d(1.5);
  EXPECT_EQ(d.dtype(), float32);  // double -> float32 (MLX C++)
  EXPECT_EQ(d.ndim(), 0);
  EXPECT_EQ(d.size(), 1u);
  EXPECT_TRUE(d.shape().empty());
  EXPECT_EQ(d.item<float>(), 1.5f);
  array i(7);
  EXPECT_EQ(i.dtype(), int32);
  EXPECT_EQ(i.item<int>(), 7);
  array b(true);
  EXPECT_EQ(b.dtype(), bool_);
  EXPECT_TRUE(b.item<bool>());
  EXPECT_EQ(array(2.25, float64).dtype(), float64);
  EXPECT_EQ(array(2.25, float64).item<double>(), 2.25);
  EXPECT_EQ(array(int64_t{1} << 40).dtype(), int64);
  EXPECT_EQ(array(int64_t{1} << 40).item<int64_t>(), int64_t{1} << 40);
  EXPECT_EQ(array(3u).dtype(), uint32);
  EXPECT_EQ(array(2.5f, int32).item<int>(), 2);  // converted on construction
  EXPECT_EQ(array(float16_t(0.5f)).dtype(), float16);
  EXPECT_EQ(array(complex64_t(1, 2)).dtype(), complex64);
  EXPECT_EQ(array(complex64_t(1, 2)).item<complex64_t>(), complex64_t(1, 2));
}

TEST(CoreArray, ListVectorRawAndIteratorConstruction) {
  array a({1, 2, 3});
  EXPECT_EQ(a.dtype(), int32);
  EXPECT_EQ(a.shape(), (Shape{3}));
  EXPECT_TRUE(close_values(a, {1, 2, 3}, 0, 0));
  array f({1.0, 2.5});
  EXPECT_EQ(f.dtype(), float32);
  array m({1.f, 2.f, 3.f, 4.f, 5.f, 6.f}, Shape{2, 3});
  EXPECT_EQ(m.shape(), (Shape{2, 3}));
  EXPECT_TRUE(close_values(m, {1, 2, 3, 4, 5, 6}, 0, 0));
  array h({1.f, 2.f}, float16);
  EXPECT_EQ(h.dtype(), float16);

  std::vector<int16_t> v = {1, -2, 3, -4};
  array fromv(v, Shape{2, 2});
  EXPECT_EQ(fromv.dtype(), int16);
  EXPECT_TRUE(close_values(fromv, {1, -2, 3, -4}, 0, 0));
  array fromv32(v, Shape{4}, float32);
  EXPECT_EQ(fromv32.dtype(), float32);
  EXPECT_TRUE(close_values(fromv32, {1, -2, 3, -4}, 0, 0));

  const float raw[] = {0.5f, 1.5f, 2.5f, 3.5f};
  array r(static_cast<const void*>(raw), Shape{2, 2}, float32);
  EXPECT_TRUE(close_values(r, {0.5, 1.5, 2.5, 3.5}, 0, 0));
  const uint16_t bits[] = {0x3C00, 0xC000};  // float16 1.0 and -2.0
  array rh(static_cast<const void*>(bits), Shape{2}, float16);
  EXPECT_TRUE(close_values(rh, {1.0, -2.0}, 0, 0));

  std::vector<double> src = {9, 8, 7, 6, 5, 6};
  array it(src.begin() + 1, Shape{2, 2});  // four values from the second
  EXPECT_EQ(it.dtype(), float32);
  EXPECT_TRUE(close_values(it, {8, 7, 6, 5}, 0, 0));
  std::vector<int> ints = {4, 5, 6};
  array it2(ints.begin(), Shape{3}, float64);
  EXPECT_EQ(it2.dtype(), float64);
  EXPECT_TRUE(close_values(it2, {4, 5, 6}, 0, 0));

  // Empty arrays.
  array e(std::vector<float>{}, Shape{0, 3});
  EXPECT_EQ(e.size(), 0u);
  EXPECT_EQ(e.nbytes(), 0u);
  EXPECT_TRUE(values(e).empty());
}

TEST(CoreArray, ShapeStridesSizes) {
  array a(std::vector<float>(24, 1.0f), Shape{2, 3, 4});
  EXPECT_EQ(a.shape(), (Shape{2, 3, 4}));
  EXPECT_EQ(a.strides(), (Strides{12, 4, 1}));
  EXPECT_EQ(a.shape(0), 2);
  EXPECT_EQ(a.shape(-1), 4);
  EXPECT_EQ(a.strides(1), 4);
  EXPECT_EQ(a.size(), 24u);
  EXPECT_EQ(a.ndim(), 3);
  EXPECT_EQ(a.itemsize(), 4u);
  EXPECT_EQ(a.nbytes(), 96u);
  EXPECT_TRUE(a.flags().row_contiguous);
  array h = astype(a, float16);
  EXPECT_EQ(h.itemsize(), 2u);
  EXPECT_EQ(h.nbytes(), 48u);
  array c = astype(a, complex64);
  EXPECT_EQ(c.nbytes(), 192u);
  // A transposed view: strides permuted, not row-contiguous, column-contiguous.
  array t = transpose(a);
  t.eval();
  EXPECT_EQ(t.shape(), (Shape{4, 3, 2}));
  EXPECT_EQ(t.strides(), (Strides{1, 4, 12}));
  EXPECT_FALSE(t.flags().row_contiguous);
  EXPECT_TRUE(t.flags().col_contiguous);
  EXPECT_THROW(a.shape(3), std::out_of_range);
  EXPECT_THROW(a.strides(-4), std::out_of_range);
}

TEST(CoreArray, ItemAndToVector) {
  array x({1.25f, -2.5f, 3.75f, 4.0f}, Shape{2, 2});
  EXPECT_EQ(array(2.5f).item<float>(), 2.5f);
  EXPECT_EQ(array(2.5f).item<double>(), 2.5);
  EXPECT_EQ(array(-2.75f).item<int>(), -2);  // converted as static_cast
  array one({42}, Shape{1, 1});
  EXPECT_EQ(one.item<int>(), 42);  // size 1 is enough
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { x.item<float>(); }, {"[item]", "(2,2)"}));
  EXPECT_EQ(x.to_vector<float>(), (std::vector<float>{1.25f, -2.5f, 3.75f, 4.0f}));
  EXPECT_EQ(x.to_vector<int>(), (std::vector<int>{1, -2, 3, 4}));
  // A view's elements come back in its own row-major order.
  EXPECT_EQ(transpose(x).to_vector<float>(), (std::vector<float>{1.25f, 3.75f, -2.5f, 4.0f}));
  // data<T>() must match the dtype.
  EXPECT_EQ(x.data<float>()[3], 4.0f);
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { x.data<int>(); }, {"[data]", "float32"}));
  // Lazy arrays are evaluated by item/to_vector/data.
  array y = x * 2.0f;
  EXPECT_EQ(y.to_vector<float>()[1], -5.0f);
  array w = x + 1.0f;
  EXPECT_EQ(w.data<float>()[0], 2.25f);
}

// ---------------------------------------------------------------------------------------------
// Creation

// tri and eye compare col - row with k, so a k near INT_MAX / INT_MIN cannot overflow: NumPy's
// np.tri(3, 3, k) is all ones for INT32_MAX and all zeros for INT32_MIN.
TEST(CoreCreation, TriAndEyeWithExtremeK) {
  constexpr int M = std::numeric_limits<int32_t>::max();
  constexpr int m = std::numeric_limits<int32_t>::min();
  for_each_device([](Device) {
    EXPECT_TRUE(close_values(tri(3, 3, M), std::vector<double>(9, 1.0), 0, 0));
    EXPECT_TRUE(close_values(tri(3, 3, m), std::vector<double>(9, 0.0), 0, 0));
    EXPECT_TRUE(close_values(tri(2, 4, M - 1), std::vector<double>(8, 1.0), 0, 0));
    EXPECT_TRUE(close_values(tri(3, 2, -1), {0, 0, 1, 0, 1, 1}, 0, 0));
    EXPECT_TRUE(close_values(eye(3, 3, M), std::vector<double>(9, 0.0), 0, 0));
    EXPECT_TRUE(close_values(eye(3, 3, m), std::vector<double>(9, 0.0), 0, 0));
    EXPECT_TRUE(close_values(eye(2, 3, 1), {0, 1, 0, 0, 0, 1}, 0, 0));
    EXPECT_TRUE(close_values(identity(2, int32), {1, 0, 0, 1}, 0, 0));
  });
}

// ---------------------------------------------------------------------------------------------
// Printing (MLX's repr)

TEST(CorePrint, MlxStyle) {
  for_each_device([](Device) {
    EXPECT_EQ(repr(array({1, 2, 3})), "array([1, 2, 3], dtype=int32)");
    EXPECT_EQ(repr(array({1, 2, 3, 4}, Shape{2, 2})),
              "array([[1, 2],\n       [3, 4]], dtype=int32)");
    EXPECT_EQ(repr(array({true, false, true})), "array([True, False, True], dtype=bool)");
    EXPECT_EQ(repr(array(7)), "array(7, dtype=int32)");
    EXPECT_EQ(repr(array(true)), "array(True, dtype=bool)");
    EXPECT_EQ(repr(array({1.5f, -2.0f, 0.25f})), "array([1.5, -2, 0.25], dtype=float32)");
    EXPECT_EQ(repr(array({1.5f, 2.0f}, float16)), "array([1.5, 2], dtype=float16)");
    EXPECT_EQ(repr(array({-3, 250}, uint8)), "array([253, 250], dtype=uint8)");
    EXPECT_EQ(repr(array({int8_t(-3)}, int8)), "array([-3], dtype=int8)");
    EXPECT_EQ(repr(array({complex64_t(1, 2), complex64_t(3, -4)})),
              "array([1+2j, 3-4j], dtype=complex64)");
    // 3-D: a blank line between blocks, as NumPy and MLX.
    EXPECT_EQ(repr(array({0, 1, 2, 3, 4, 5, 6, 7}, Shape{2, 2, 2})),
              "array([[[0, 1],\n        [2, 3]],\n\n       [[4, 5],\n        [6, 7]]], dtype=int32)");
    // Views print in their logical order, lazy arrays are evaluated first.
    EXPECT_EQ(repr(transpose(array({1, 2, 3, 4}, Shape{2, 2}))),
              "array([[1, 3],\n       [2, 4]], dtype=int32)");
    EXPECT_EQ(repr(array(array({1, 2}) * 3)), "array([3, 6], dtype=int32)");
    EXPECT_EQ(repr(array(std::vector<float>{}, Shape{0})), "array([], dtype=float32)");
  });
}

TEST(CorePrint, LargeArraysAreElided) {
  std::string s = repr(arange(0, 2000));
  EXPECT_NE(s.find("..."), std::string::npos) << s;
  EXPECT_EQ(s.rfind("array([0, 1, 2, ...", 0), 0u) << s;
  EXPECT_NE(s.find("1997, 1998, 1999], dtype=int32)"), std::string::npos) << s;
  EXPECT_LT(s.size(), 200u);
  std::string m = repr(reshape(arange(0, 40000), {200, 200}));
  EXPECT_NE(m.find("..."), std::string::npos);
  EXPECT_LT(m.size(), 2000u);
  // At and below the threshold nothing is elided.
  EXPECT_EQ(repr(arange(0, 1000)).find("..."), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// The lazy graph

TEST(CoreLazy, NothingComputesBeforeEval) {
  array x({1.0f, 2.0f, 3.0f});
  EXPECT_EQ(x.status(), array::Status::available);  // a leaf holds data from the start
  EXPECT_FALSE(x.has_primitive());
  array a = x + 1.0f;
  array b = a * a;
  EXPECT_EQ(a.status(), array::Status::unscheduled);
  EXPECT_EQ(b.status(), array::Status::unscheduled);
  EXPECT_TRUE(b.has_primitive());
  EXPECT_EQ(b.buffer(), nullptr);
  EXPECT_FALSE(b.is_available());
  ASSERT_EQ(b.inputs().size(), 1u);  // a, registered once
  EXPECT_EQ(b.inputs()[0].id(), a.id());

  // A lazy array of 64 MiB takes no memory until it is evaluated.
  DefaultDeviceGuard cpu(Device(Device::cpu));
  size_t before = get_active_memory(Device::cpu);
  array big = zeros({1 << 24}, float32);
  array big2 = big + 1.0f;
  EXPECT_LT(get_active_memory(Device::cpu), before + (1 << 20));
  EXPECT_EQ(big2.status(), array::Status::unscheduled);

  b.eval();
  EXPECT_TRUE(b.is_available());
  EXPECT_TRUE(close_values(b, {4, 9, 16}, 0, 0));
  // The graph above an evaluated array is released; intermediates were evaluated too.
  EXPECT_TRUE(b.inputs().empty());
  EXPECT_FALSE(b.has_primitive());
  EXPECT_TRUE(a.inputs().empty());
  EXPECT_TRUE(close_values(a, {2, 3, 4}, 0, 0));
  EXPECT_EQ(big2.status(), array::Status::unscheduled);  // untouched by b's evaluation
}

// After eval(b), an intermediate `a` computed on the way is available without waiting on it.
TEST(CoreLazy, IntermediateIsAvailableAfterEval) {
  for_each_device([](Device) {
    array x({1.0f, 2.0f, 3.0f});
    array a = x + 1.0f;
    array b = a * a;
    b.eval();
    EXPECT_TRUE(b.is_available());
    EXPECT_TRUE(a.is_available());
  });
}

TEST(CoreLazy, EvalOfSeveralOutputsSharesWork) {
  array x({1.0f, 2.0f});
  array a = exp(x);
  array b = a + 1.0f;
  array c = a * 2.0f;
  eval(b, c);
  EXPECT_TRUE(b.is_available());
  EXPECT_TRUE(c.is_available());
  EXPECT_TRUE(close_values(b, {std::exp(1.0) + 1, std::exp(2.0) + 1}, 1e-6, 0));
  EXPECT_TRUE(close_values(c, {2 * std::exp(1.0), 2 * std::exp(2.0)}, 1e-6, 0));
}

// On the CPU: a million tiny GPU dispatches take over a minute on lavapipe.
TEST(CoreLazy, MillionNodeChainWithoutStackOverflow) {
  DefaultDeviceGuard cpu(Device(Device::cpu));
  // Evaluated: the scheduler's walk is iterative.
  array x(0);
  for (int i = 0; i < 1000000; ++i) x = x + 1;
  EXPECT_EQ(x.item<int>(), 1000000);
  EXPECT_TRUE(x.inputs().empty());
  // Dropped unevaluated: releasing the chain is iterative too.
  {
    const array one(1.0f);
    array y(0.0f);
    for (int i = 0; i < 1000000; ++i) y = y + one;
    EXPECT_EQ(y.status(), array::Status::unscheduled);
  }
}

TEST(CoreLazy, AsyncEvalThenItemWaits) {
  for_each_device([](Device) {
    array x = arange(0.0, 1 << 20, 1.0, float32);
    array y = sin(x) * sin(x) + cos(x) * cos(x);  // == 1
    array z = y * 3.0f + 1.0f;
    async_eval({z});
    EXPECT_NE(z.status(), array::Status::unscheduled);  // scheduled (or done) at once
    auto v = values(z);
    ASSERT_EQ(v.size(), size_t{1} << 20);
    EXPECT_TRUE(close_values(std::vector<double>(v.begin(), v.begin() + 5), std::vector<double>(5, 4.0), 1e-5, 0));
    EXPECT_TRUE(z.is_available());
    array s = slice(array(arange(0, 10) * 2), {3}, {4});
    async_eval({s});
    EXPECT_EQ(s.item<int>(), 6);
    synchronize();
  });
}

TEST(CoreLazy, FourThreadsBuildAndEvaluateTheirOwnGraphs) {
  constexpr int kThreads = 4, kRounds = 200;
  std::vector<std::vector<double>> results(kThreads);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &results, &failures] {
      try {
        for (int r = 0; r < kRounds; ++r) {
          array x = arange(0.0, 64.0, 1.0, float32);
          array y = x * static_cast<float>(t + 1) + static_cast<float>(r);
          for (int k = 0; k < 10; ++k) y = y + 1.0f;
          if (r % 2) async_eval({y});
          auto v = y.to_vector<float>();
          // y[i] = i * (t + 1) + r + 10
          for (int i = 0; i < 64; ++i) {
            if (v[i] != static_cast<float>(i * (t + 1) + r + 10)) ++failures;
          }
          if (r + 1 == kRounds) results[t].assign(v.begin(), v.end());
        }
      } catch (...) {
        failures += 1000;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(results[t].size(), 64u);
    EXPECT_EQ(results[t][5], 5.0 * (t + 1) + kRounds - 1 + 10);
  }
}

// Graphs shared between threads: both evaluate the same node; each sees the right values.
TEST(CoreLazy, TwoThreadsEvaluateOneSharedGraph) {
  array x = arange(0.0, 4096.0, 1.0, float32);
  array y = sqrt(x * x + 1.0f);
  std::vector<float> a, b;
  std::thread t1([&] { a = y.to_vector<float>(); });
  std::thread t2([&] { b = y.to_vector<float>(); });
  t1.join();
  t2.join();
  ASSERT_EQ(a.size(), 4096u);
  EXPECT_EQ(a, b);
  EXPECT_FLOAT_EQ(a[3], std::sqrt(10.0f));
}

// An exception thrown while a kernel runs (here: the allocator's memory limit) reaches the
// caller of eval/item as std::runtime_error, and the library keeps working afterwards.
TEST(CoreLazy, KernelErrorReachesEvalCaller) {
  DefaultDeviceGuard cpu(Device(Device::cpu));
  array big = zeros({1 << 22}, float32);  // 16 MiB, lazy: building it allocates almost nothing
  array dependent = big + 1.0f;
  array tail = slice(dependent, {0}, {1});
  clear_cache();  // a cached 16 MiB block would be handed out without asking the limit
  const size_t limit = get_active_memory() + (1 << 20);
  const size_t previous = set_memory_limit(limit);
  bool thrown = false;
  try {
    tail.eval();
  } catch (const std::runtime_error& e) {
    thrown = true;
    EXPECT_NE(std::string(e.what()).find("[malloc]"), std::string::npos) << e.what();
  } catch (...) {
    ADD_FAILURE() << "another exception type";
  }
  EXPECT_EQ(set_memory_limit(previous), limit) << "set_memory_limit returns the previous limit";
  EXPECT_TRUE(thrown);
  // Waiting on the failed arrays again reports the error again (no crash, no hang).
  EXPECT_THROW(tail.item<float>(), std::runtime_error);
  // Fresh work runs normally once the limit is restored.
  array ok = zeros({1 << 22}, float32) + 2.0f;
  EXPECT_EQ(slice(ok, {5}, {6}).item<float>(), 2.0f);
}

// ---------------------------------------------------------------------------------------------
// Memory

TEST(CoreMemory, ActivePeakAndCache) {
  const Device cpu(Device::cpu);
  synchronize(default_stream(cpu));
  clear_cache(cpu);
  EXPECT_EQ(get_cache_memory(cpu), 0u);
  const size_t base = get_active_memory(cpu);
  reset_peak_memory(cpu);
  EXPECT_EQ(get_peak_memory(cpu), base);
  constexpr size_t kBytes = size_t{1} << 24;  // 16 MiB
  {
    array big = zeros({1 << 22}, float32, cpu);
    big.eval();
    EXPECT_GE(get_active_memory(cpu), base + kBytes);
    EXPECT_GE(get_peak_memory(cpu), base + kBytes);
  }
  // Released: active falls back, the block waits in the cache.
  EXPECT_LT(get_active_memory(cpu), base + kBytes);
  EXPECT_GE(get_peak_memory(cpu), base + kBytes);
  EXPECT_GE(get_cache_memory(cpu), kBytes);
  // The cached block is reused: a second array of the same size does not raise the peak.
  reset_peak_memory(cpu);
  const size_t cache_before = get_cache_memory(cpu);
  {
    array again = zeros({1 << 22}, float32, cpu);
    again.eval();
    EXPECT_LT(get_cache_memory(cpu), cache_before - kBytes / 2);
  }
  clear_cache(cpu);
  EXPECT_EQ(get_cache_memory(cpu), 0u);
  reset_peak_memory(cpu);
  EXPECT_EQ(get_peak_memory(cpu), get_active_memory(cpu));

  // A cache limit of zero frees released blocks at once.
  const size_t old_limit = set_cache_limit(0, cpu);
  {
    array big = zeros({1 << 22}, float32, cpu);
    big.eval();
  }
  EXPECT_EQ(get_cache_memory(cpu), 0u);
  EXPECT_EQ(set_cache_limit(old_limit, cpu), 0u);
  // Lowering the limit trims an existing cache.
  {
    array big = zeros({1 << 22}, float32, cpu);
    big.eval();
  }
  EXPECT_GE(get_cache_memory(cpu), kBytes);
  set_cache_limit(1 << 20, cpu);
  EXPECT_LE(get_cache_memory(cpu), size_t{1} << 20);
  set_cache_limit(old_limit, cpu);
  // The default-device forms act on the default device.
  DefaultDeviceGuard guard(cpu);
  EXPECT_EQ(get_active_memory(), get_active_memory(cpu));
  EXPECT_EQ(get_cache_memory(), get_cache_memory(cpu));
}

// ---------------------------------------------------------------------------------------------
// Devices and streams

TEST(CoreDevice, DefaultDeviceAndEnvironment) {
  const char* env = std::getenv("TESSERA_DEVICE");
  EXPECT_TRUE(is_available(Device(Device::cpu)));
  if (env && std::string(env) == "cpu") {
    EXPECT_EQ(default_device(), Device(Device::cpu));
    EXPECT_FALSE(is_available(Device(Device::gpu)));  // TESSERA_DEVICE=cpu hides the GPU
  } else if (is_available(Device(Device::gpu))) {
    EXPECT_EQ(default_device(), Device(Device::gpu));  // the GPU is preferred when present
  } else {
    EXPECT_EQ(default_device(), Device(Device::cpu));
  }
  {
    DefaultDeviceGuard guard(Device(Device::cpu));
    EXPECT_EQ(default_device(), Device(Device::cpu));
    array r = array({1.0f}) + 1.0f;
    EXPECT_EQ(r.primitive().device(), Device(Device::cpu));
  }
  if (!is_available(Device(Device::gpu))) {
    EXPECT_TRUE(throws_with<std::invalid_argument>([] { set_default_device(Device(Device::gpu)); },
                                                   {"[set_default_device]"}));
  }
  EXPECT_THROW(set_default_device(Device(Device::cpu, 3)), std::invalid_argument);
}

TEST(CoreDevice, StreamsOrderWork) {
  for_each_device([](Device d) {
    Stream s1 = new_stream(d);
    Stream s2 = new_stream(d);
    EXPECT_FALSE(s1 == s2);
    EXPECT_FALSE(s1 == default_stream(d));
    EXPECT_EQ(s1.device, d);
    array x({1.0f, 2.0f, 3.0f});
    array a = add(x, 1.0f, s1);
    array b = multiply(a, a, s2);  // crosses streams
    EXPECT_EQ(a.primitive().stream().index, s1.index);
    EXPECT_EQ(b.primitive().stream().index, s2.index);
    EXPECT_TRUE(close_values(b, {4, 9, 16}, 0, 0));
    synchronize(s1);
    synchronize(s2);
    // An op given a device runs on that device's default stream.
    array c = negative(x, d);
    EXPECT_EQ(c.primitive().stream().index, default_stream(d).index);
    EXPECT_EQ(to_stream(d).index, default_stream(d).index);
    EXPECT_EQ(to_stream(s1).index, s1.index);
  });
}

}  // namespace
