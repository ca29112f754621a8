// The cumulative ops: NumPy fixtures (tests/fixtures/scan.txt, from gen_scan.py) on every device,
// long rows (the GPU's multi-block and recursive paths) against the CPU, gradients by finite
// differences for every op, reverse and exclusive.
#include <gtest/gtest.h>

#include <limits>
#include <sstream>

#include "tessera/tessera.hpp"
#include "test_util.hpp"

namespace {

using namespace tessera;
using namespace tessera::test;

struct ScanSpec {
  std::string op;
  int axis;
  bool reverse, inclusive;
};

ScanSpec parse(const std::string& token) {
  std::vector<std::string> p;
  std::stringstream ss(token);
  std::string part;
  while (std::getline(ss, part, ':')) p.push_back(part);
  return {p.at(0), std::stoi(p.at(1)), p.at(2) == "r", p.at(3) == "i"};
}

array run_scan(const ScanSpec& s, const array& x, StreamOrDevice d = {}) {
  if (s.op == "cumsum") return cumsum(x, s.axis, s.reverse, s.inclusive, d);
  if (s.op == "cumprod") return cumprod(x, s.axis, s.reverse, s.inclusive, d);
  if (s.op == "cummax") return cummax(x, s.axis, s.reverse, s.inclusive, d);
  if (s.op == "cummin") return cummin(x, s.axis, s.reverse, s.inclusive, d);
  if (s.op == "logcumsumexp") return logcumsumexp(x, s.axis, s.reverse, s.inclusive, d);
  throw std::invalid_argument("[test] unknown scan " + s.op);
}

class ScanFixture : public ::testing::TestWithParam<FixtureCase> {};

TEST_P(ScanFixture, MatchesNumPyOnEveryDevice) {
  const FixtureCase& c = GetParam();
  const ScanSpec spec = parse(c.op);
  array x = fixture_array(c.inputs.at(0));
  array want = fixture_expected(c.output);
  for (Device d : available_devices()) {
    array got = run_scan(spec, x, d);
    ASSERT_EQ(got.shape(), want.shape());
    ASSERT_EQ(got.dtype(), want.dtype()) << device_name(d);
    double tol = 0;
    if (c.tolerance != "exact") {
      tol = want.dtype() == float16 ? 4e-3 : want.dtype() == float32 ? 2e-6 : 1e-12;
      if (c.tolerance == "transc" && want.dtype() == float32) tol = 1e-5;
      if (c.tolerance == "transc" && want.dtype() == float64) tol = 1e-6;  // GPU logaddexp: float64 log1p/exp
    }
    EXPECT_TRUE(close_values(values(got), values(want), tol, tol)) << c.name << " on " << device_name(d);
  }
}

INSTANTIATE_TEST_SUITE_P(NumPy, ScanFixture, ::testing::ValuesIn(load_fixture("scan.txt")),
                         [](const auto& info) { return info.param.name; });

// Rows longer than one GPU block (1024), and longer than 1024 blocks (the totals are scanned
// recursively), in both directions, on rows and on a strided axis.
TEST(Scan, LongRowsAgreeAcrossDevices) {
  if (!is_available(Device(Device::gpu))) GTEST_SKIP() << "no GPU";
  struct Case {
    Shape shape;
    int axis;
  };
  for (const Case& c : {Case{{3, 5000}, 1}, Case{{(1 << 20) * 2 + 37}, 0}, Case{{2100, 3}, 0}}) {
    array x = random_array(c.shape, 21, float32, -1.0, 1.0);
    array xi = astype(multiply(x, array(4.0f)), int32);
    for (bool reverse : {false, true}) {
      for (bool inclusive : {true, false}) {
        const double n = c.shape[c.axis];
        EXPECT_TRUE(arrays_close(cumsum(x, c.axis, reverse, inclusive, Device::gpu),
                                 cumsum(x, c.axis, reverse, inclusive, Device::cpu), 1e-4, 1e-5 * std::sqrt(n)))
            << shape_string(c.shape) << reverse << inclusive;
        EXPECT_TRUE(arrays_equal(cumsum(xi, c.axis, reverse, inclusive, Device::gpu),
                                 cumsum(xi, c.axis, reverse, inclusive, Device::cpu)));
        EXPECT_TRUE(arrays_equal(cummax(xi, c.axis, reverse, inclusive, Device::gpu),
                                 cummax(xi, c.axis, reverse, inclusive, Device::cpu)));
      }
    }
    EXPECT_TRUE(arrays_close(logcumsumexp(x, c.axis, false, true, Device::gpu),
                             logcumsumexp(x, c.axis, false, true, Device::cpu), 1e-4, 1e-5));
  }
}

TEST(Scan, DtypesAndDefaults) {
  array b = array({true, false, true});
  EXPECT_EQ(cumsum(b).dtype(), int32);
  EXPECT_EQ(cumsum(b).to_vector<int32_t>(), (std::vector<int32_t>{1, 1, 2}));
  EXPECT_EQ(cumsum(array({1, 2, 3}), 0, false, true, float32).dtype(), float32);
  EXPECT_EQ(logcumsumexp(array({0, 0})).dtype(), float32);
  EXPECT_EQ(cummax(b).dtype(), bool_);
  array x = arange(6.0, float32).reshape({2, 3});
  EXPECT_EQ(cumsum(x).shape(), Shape{6});  // no axis: the flattened array
  EXPECT_EQ(cumprod(x, 1, true, false).to_vector<float>(), (std::vector<float>{2, 2, 1, 20, 5, 1}));
  EXPECT_TRUE(arrays_equal(cumsum(zeros({0, 3}), 0), zeros({0, 3})));
  for (Device d : available_devices()) {
    // Exclusive scans start from the identity: the dtype's extreme for max / min.
    auto v = cummin(astype(array({3, 1}), int64), 0, false, false, d).to_vector<int64_t>();
    EXPECT_EQ(v[0], std::numeric_limits<int64_t>::max()) << device_name(d);
    EXPECT_EQ(v[1], 3);
    EXPECT_EQ(cummax(astype(array({3, 1}), int8), 0, false, false, d).to_vector<int32_t>()[0], -128);
  }
}

TEST(Scan, Gradients) {
  for (bool reverse : {false, true}) {
    for (bool inclusive : {true, false}) {
      for (const char* op : {"cumsum", "cumprod", "cummax", "cummin", "logcumsumexp"}) {
        const ScanSpec s{op, 1, reverse, inclusive};
        // (An exclusive max / min / logaddexp starts from an infinite identity, which finite
        // differences cannot take: those positions are left out.)
        const bool infinite_first = !inclusive && s.op != "cumsum" && s.op != "cumprod";
        auto f = [&](const std::vector<array>& x) {
          array y = run_scan(s, x[0]);
          if (!infinite_first) return y;
          return reverse ? slice(y, {0, 0}, {2, 4}) : slice(y, {0, 1}, {2, 5});
        };
        array x = random_array({2, 5}, 31, float64, -1.0, 1.0);
        EXPECT_TRUE(check_grads(f, {x}, 1e-6)) << op << reverse << inclusive;
      }
      // cumprod through zeros: the first zero of a row and those after it.
      auto f = [&](const std::vector<array>& x) { return cumprod(x[0], 0, reverse, inclusive); };
      array z = array({0.5, 0.0, 2.0, 0.0, -1.5}, float64);
      const ScanSpec s{"cumprod", 0, reverse, inclusive};
      // Finite differences on a zero are exact for products (linear in each element).
      EXPECT_TRUE(check_grads(f, {z}, 1e-6)) << "cumprod zeros " << reverse << inclusive;
    }
  }
  // Axis 0 of a 3-d array: the rules move nothing but the axis.
  EXPECT_TRUE(check_grads([](const std::vector<array>& x) { return cummax(x[0], 0, true); },
                          {random_array({3, 2, 2}, 32, float64)}));
}

}  // namespace
