// The convolutions: PyTorch fixtures (tests/fixtures/conv.txt, from gen_conv.py) of the
// output and both gradients on every device in float32 and float64, 16-bit floats against
// them, larger convolutions (the GPU's split weight gradient) against the CPU, finite
// differences of first and second derivatives, and batching (bad input: errors_test.cpp).
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "tessera/tessera.hpp"
#include "test_util.hpp"

namespace {

using namespace tessera;
using namespace tessera::test;

// The op token: <op>;<key>=<comma-separated ints>;...
struct ConvSpec {
  std::string op, mode;
  std::map<std::string, std::vector<int>> v;
  std::vector<int> get(const std::string& k) const { return v.at(k); }
  int one(const std::string& k) const { return v.at(k).at(0); }
};

ConvSpec parse(const std::string& token) {
  ConvSpec spec;
  std::stringstream ss(token);
  std::string part;
  std::getline(ss, spec.op, ';');
  while (std::getline(ss, part, ';')) {
    const auto eq = part.find('=');
    const std::string key = part.substr(0, eq), val = part.substr(eq + 1);
    if (key == "mode") {
      spec.mode = val;
      continue;
    }
    std::stringstream vs(val);
    std::string n;
    while (std::getline(vs, n, ',')) spec.v[key].push_back(std::stoi(n));
  }
  return spec;
}

template <typename T>
T as_pair(const std::vector<int>& v);
template <>
std::pair<int, int> as_pair(const std::vector<int>& v) { return {v.at(0), v.at(1)}; }
template <>
std::tuple<int, int, int> as_pair(const std::vector<int>& v) { return {v.at(0), v.at(1), v.at(2)}; }

array run(const ConvSpec& s, const array& x, const array& w, StreamOrDevice d = {}) {
  if (s.op == "conv_general") {
    return conv_general(x, w, s.get("s"), s.get("lo"), s.get("hi"), s.get("kd"), s.get("id"), s.one("g"),
                        s.one("f") != 0, d);
  }
  if (s.op == "conv_transpose") {
    const int g = s.one("g");
    if (x.ndim() == 3) {
      return conv_transpose1d(x, w, s.one("s"), s.one("p"), s.one("d"), s.one("op"), g, d);
    }
    if (x.ndim() == 4) {
      using P = std::pair<int, int>;
      return conv_transpose2d(x, w, as_pair<P>(s.get("s")), as_pair<P>(s.get("p")), as_pair<P>(s.get("d")),
                              as_pair<P>(s.get("op")), g, d);
    }
    using T = std::tuple<int, int, int>;
    return conv_transpose3d(x, w, as_pair<T>(s.get("s")), as_pair<T>(s.get("p")), as_pair<T>(s.get("d")),
                            as_pair<T>(s.get("op")), g, d);
  }
  if (s.op == "convolve") return convolve(x, w, s.mode, d);
  throw std::invalid_argument("[test] unknown conv op " + s.op);
}

class ConvFixture : public ::testing::TestWithParam<FixtureCase> {};

TEST_P(ConvFixture, OutputAndGradientsMatchPyTorch) {
  const FixtureCase& c = GetParam();
  const ConvSpec spec = parse(c.op);
  const array x0 = fixture_array(c.inputs.at(0)), w0 = fixture_array(c.inputs.at(1));
  const array dy0 = fixture_array(c.inputs.at(2));
  const array want_dx = fixture_expected(c.inputs.at(3)), want_dw = fixture_expected(c.inputs.at(4));
  const array want_y = fixture_expected(c.output);
  for (Device d : available_devices()) {
    for (Dtype t : {float32, float64}) {
      const double tol = t == float32 ? 2e-5 : 1e-12;
      const array x = astype(x0, t), w = astype(w0, t), dy = astype(dy0, t);
      const ArrayFn f = [&](const std::vector<array>& a) { return std::vector<array>{run(spec, a[0], a[1], d)}; };
      auto [ys, grads] = vjp(f, {x, w}, {dy});
      ASSERT_EQ(ys[0].dtype(), t);
      const std::string where = c.name + " " + dtype_name(t) + " on " + device_name(d);
      EXPECT_TRUE(arrays_close(ys[0], want_y, tol, tol, false)) << where << " (y)";
      EXPECT_TRUE(arrays_close(grads[0], want_dx, tol, tol, false)) << where << " (dx)";
      EXPECT_TRUE(arrays_close(grads[1], want_dw, tol, tol, false)) << where << " (dw)";
    }
    // 16-bit floats: rounded inputs, float32 accumulation, one rounding of the output.
    for (Dtype t : {float16, bfloat16}) {
      const double tol = t == float16 ? 1e-2 : 6e-2;
      array y = run(spec, astype(x0, t), astype(w0, t), d);
      ASSERT_EQ(y.dtype(), t);
      EXPECT_TRUE(arrays_close(y, want_y, tol, tol, false)) << c.name << " " << dtype_name(t) << " on " << device_name(d);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(PyTorch, ConvFixture, ::testing::ValuesIn(load_fixture("conv.txt")),
                         [](const auto& info) { return info.param.name; });

// Sizes past the small fixtures: the larger GPU tiles and more than one K-slice, the
// weight gradient split into partial sums, blocks of im2col rows on the CPU.
TEST(Conv, LargerConvolutionsAgreeAcrossDevices) {
  if (!is_available(Device(Device::gpu))) GTEST_SKIP() << "no GPU";
  struct Case {
    Shape x, w;
    std::pair<int, int> stride, pad;
    int groups;
  };
  for (const Case& c : {Case{{4, 28, 28, 32}, {64, 3, 3, 32}, {1, 1}, {1, 1}, 1},
                        Case{{3, 17, 15, 12}, {18, 5, 3, 4}, {2, 1}, {2, 0}, 3},
                        Case{{2, 9, 9, 16}, {24, 1, 1, 16}, {1, 1}, {0, 0}, 1},
                        // 128 x 64 tiles (few output channels), and 64 x 128 ones for the weight
                        // gradient of many groups
                        Case{{21, 28, 28, 8}, {16, 3, 3, 8}, {1, 1}, {1, 1}, 1},
                        Case{{1, 12, 12, 256}, {256, 3, 3, 2}, {1, 1}, {1, 1}, 128}}) {
    array x = random_array(c.x, 3), w = random_array(c.w, 4);
    auto f = [&](Device d) {
      return [=](const std::vector<array>& a) {
        return std::vector<array>{conv2d(a[0], a[1], c.stride, c.pad, {1, 1}, c.groups, d)};
      };
    };
    array y_cpu = conv2d(x, w, c.stride, c.pad, {1, 1}, c.groups, Device::cpu);
    array dy = random_array(y_cpu.shape(), 5);
    auto [y1, g1] = vjp(f(Device::cpu), {x, w}, {dy});
    auto [y2, g2] = vjp(f(Device::gpu), {x, w}, {dy});
    const double k = static_cast<double>(c.w[1] * c.w[2] * c.w[3]);
    EXPECT_TRUE(arrays_close(y2[0], y1[0], 1e-4, 1e-5 * k)) << shape_string(c.x);
    EXPECT_TRUE(arrays_close(g2[0], g1[0], 1e-4, 1e-5 * k)) << shape_string(c.x) << " dx";
    EXPECT_TRUE(arrays_close(g2[1], g1[1], 1e-4, 1e-4 * std::sqrt(static_cast<double>(y_cpu.size())))) << shape_string(c.x) << " dw";
  }
}

// First and second derivatives by central differences (float64), through every mode: the
// input gradient's Forward node and the WeightGrad node are differentiated again.
TEST(Conv, GradientsMatchFiniteDifferences) {
  struct Case {
    std::string name;
    Fn f;
    std::vector<Shape> shapes;
  };
  const std::vector<Case> cases = {
      {"conv1d_groups_stride", [](const std::vector<array>& a) { return conv1d(a[0], a[1], 2, 1, 1, 2); },
       {{2, 7, 4}, {4, 3, 2}}},
      {"conv_general_all", [](const std::vector<array>& a) {
         return conv_general(a[0], a[1], {2, 1}, {1, 0}, {0, 2}, {1, 2}, {2, 1}, 1, true);
       },
       {{1, 4, 4, 2}, {2, 2, 2, 2}}},
      {"conv_transpose2d", [](const std::vector<array>& a) {
         return conv_transpose2d(a[0], a[1], {2, 1}, {1, 0}, {1, 1}, {1, 0});
       },
       {{1, 3, 3, 2}, {2, 3, 2, 2}}},
      {"conv3d", [](const std::vector<array>& a) { return conv3d(a[0], a[1], {1, 2, 1}, {0, 1, 1}); },
       {{1, 3, 4, 3, 2}, {2, 2, 2, 2, 2}}},
      {"convolve_same", [](const std::vector<array>& a) { return convolve(a[0], a[1], "same"); }, {{6}, {4}}},
  };
  for (const Case& c : cases) {
    std::vector<array> in;
    for (size_t i = 0; i < c.shapes.size(); ++i) in.push_back(random_array(c.shapes[i], 11 + i, float64));
    EXPECT_TRUE(check_grad(c.f, in, 1e-6, 1e-7)) << c.name;
    // Second order: the gradient of <g, d(sum(y^2))/dx> and of the weight gradient.
    Fn second = [&](const std::vector<array>& a) {
      auto loss = [&](const std::vector<array>& b) { return sum(square(c.f(b))); };
      auto g = grad(loss, std::vector<int>{0, 1})(a);
      return add(sum(multiply(g[0], g[0])), sum(multiply(g[1], cos(g[1]))));
    };
    EXPECT_TRUE(check_grad(second, in, 1e-5, 1e-6)) << c.name << " (second order)";
  }
}

// Batching: per-example inputs, per-example weights and both, against a loop; and vmap of
// the weight gradient.
TEST(Conv, VmapMatchesLoop) {
  auto conv = [](const array& x, const array& w) { return conv2d(x, w, {2, 1}, {1, 0}, {1, 1}, 2); };
  array xs = random_array({3, 2, 5, 4, 4}, 21), ws = random_array({3, 4, 3, 2, 2}, 22);
  array x = random_array({2, 5, 4, 4}, 23), w = random_array({4, 3, 2, 2}, 24);
  auto loop = [&](const array& xb, const array& wb, bool bx, bool bw) {
    std::vector<array> outs;
    for (int b = 0; b < 3; ++b) {
      array xi = bx ? squeeze(slice(xb, {b, 0, 0, 0, 0}, {b + 1, 2, 5, 4, 4}), 0) : xb;
      array wi = bw ? squeeze(slice(wb, {b, 0, 0, 0, 0}, {b + 1, 4, 3, 2, 2}), 0) : wb;
      outs.push_back(conv(xi, wi));
    }
    return stack(outs, 0);
  };
  const auto f = [&](const std::vector<array>& a) { return std::vector<array>{conv(a[0], a[1])}; };
  EXPECT_TRUE(arrays_close(vmap(f, {0, -1})({xs, w})[0], loop(xs, w, true, false), 1e-5, 1e-5));
  EXPECT_TRUE(arrays_close(vmap(f, {-1, 0})({x, ws})[0], loop(x, ws, false, true), 1e-5, 1e-5));
  EXPECT_TRUE(arrays_close(vmap(f, {0, 0})({xs, ws})[0], loop(xs, ws, true, true), 1e-5, 1e-5));
  // Per-example weight gradients (the WeightGrad node batched).
  const auto wgrad = [&](const std::vector<array>& a) {
    auto loss = [&](const std::vector<array>& b) { return sum(square(conv(b[0], b[1]))); };
    return std::vector<array>{grad(loss, 1)(a)[0]};
  };
  std::vector<array> per;
  for (int b = 0; b < 3; ++b) per.push_back(wgrad({squeeze(slice(xs, {b, 0, 0, 0, 0}, {b + 1, 2, 5, 4, 4}), 0), w})[0]);
  EXPECT_TRUE(arrays_close(vmap(wgrad, {0, -1})({xs, w})[0], stack(per, 0), 1e-4, 1e-4));
}

}  // namespace
