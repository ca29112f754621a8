// nn::init (nn/init.hpp), ConvTranspose1d/2d/3d (layers/conv_transpose.hpp), Upsample and the
// upsample_* functions (layers/upsample.hpp), Adafactor, Muon and MultiOptimizer
// (optim/advanced.hpp). PyTorch / NumPy fixtures (tests/fixtures/nn_extra.txt from
// gen_nn_extra.py) on every device; MLX's documented examples; statistics of the initializers;
// gradients through nn::value_and_grad and check_grad against finite differences; bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <sstream>

#include "tessera/nn.hpp"
#include "tessera/optim.hpp"
#include "tessera/tessera.hpp"
#include "test_util.hpp"

namespace {

using namespace tessera;
using namespace tessera::test;
using IA = std::invalid_argument;

std::vector<int> colon_ints(const std::string& s) {
  std::vector<int> out;
  for (auto& p : split_fields(s, ':')) out.push_back(std::stoi(p));
  return out;
}
std::vector<double> colon_doubles(const std::string& s) {
  std::vector<double> out;
  for (auto& p : split_fields(s, ':')) out.push_back(std::stod(p));
  return out;
}
std::vector<std::string> flat_keys(const Tree& t) {
  std::vector<std::string> out;
  for (auto& [k, v] : tree::flatten_arrays(t)) out.push_back(k);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Fixtures

template <typename Layer>
array run_conv_t(Layer layer, const std::vector<array>& in) {
  Tree p = Tree::dict({{"weight", in[1]}});
  if (in.size() > 2) p["bias"] = in[2];
  layer.update(p);
  return layer(in[0]);
}

array run_conv_transpose(const std::string& what, const std::string& args, const std::vector<array>& in) {
  auto a = split_fields(args, ',');
  const int cin = std::stoi(a[0]), cout = std::stoi(a[1]);
  auto k = colon_ints(a[2]), s = colon_ints(a[3]), p = colon_ints(a[4]), d = colon_ints(a[5]), op = colon_ints(a[6]);
  const bool bias = a[7] == "1";
  if (what == "ConvTranspose1d") return run_conv_t(nn::ConvTranspose1d(cin, cout, k[0], s[0], p[0], d[0], op[0], bias), in);
  if (what == "ConvTranspose2d") {
    using P = std::pair<int, int>;
    return run_conv_t(nn::ConvTranspose2d(cin, cout, P{k[0], k[1]}, P{s[0], s[1]}, P{p[0], p[1]}, P{d[0], d[1]},
                                          P{op[0], op[1]}, bias),
                      in);
  }
  using T = std::array<int, 3>;
  return run_conv_t(nn::ConvTranspose3d(cin, cout, T{k[0], k[1], k[2]}, T{s[0], s[1], s[2]}, T{p[0], p[1], p[2]},
                                        T{d[0], d[1], d[2]}, T{op[0], op[1], op[2]}, bias),
                    in);
}

nn::UpsampleMode upsample_mode(const std::string& m) {
  if (m == "nearest") return nn::UpsampleMode::Nearest;
  if (m == "linear") return nn::UpsampleMode::Linear;
  return nn::UpsampleMode::Cubic;
}

array run_upsample(const std::string& args, const array& x) {
  auto a = split_fields(args, ',');
  const auto mode = upsample_mode(a[0]);
  const auto scales = colon_doubles(a[1]);
  const bool ac = a[2] == "1", aa = a[3] == "1";
  if (scales.size() == 1 && x.ndim() != 3) return nn::Upsample(scales[0], mode, ac, aa)(x);  // one scale for all axes
  return nn::Upsample(scales, mode, ac, aa)(x);
}

std::map<std::string, std::string> key_values(const std::string& args) {
  std::map<std::string, std::string> kv;
  if (args == "default") return kv;
  for (auto& part : split_fields(args, ',')) {
    const auto eq = part.find('=');
    kv[part.substr(0, eq)] = part.substr(eq + 1);
  }
  return kv;
}

std::unique_ptr<optim::Optimizer> make_optimizer(const std::string& what, const std::string& args) {
  auto kv = key_values(args);
  auto num = [&](const char* k, float dflt) { return kv.count(k) ? std::stof(kv[k]) : dflt; };
  if (what == "Adafactor") {
    optim::AdafactorOptions o;
    if (kv.count("lr")) o.learning_rate = num("lr", 0);
    if (kv.count("b1")) o.beta_1 = num("b1", 0);
    o.weight_decay = num("wd", 0);
    o.relative_step = num("rel", 1) != 0;
    o.scale_parameter = num("scale", 1) != 0;
    o.warmup_init = num("warmup", 0) != 0;
    o.clip_threshold = num("clip", 1);
    o.decay_rate = num("decay", -0.8f);
    return std::make_unique<optim::Adafactor>(o);
  }
  if (what == "Muon") {
    return std::make_unique<optim::Muon>(num("lr", 0.02f), num("momentum", 0.95f), num("wd", 0.01f),
                                         num("nesterov", 1) != 0, static_cast<int>(num("ns", 5)));
  }
  throw std::invalid_argument("[test] unknown optimizer " + what);
}

class NnExtraFixture : public ::testing::TestWithParam<FixtureCase> {};

TEST_P(NnExtraFixture, MatchesReference) {
  const FixtureCase& c = GetParam();
  const auto hash = c.op.find('#');
  const std::string what = c.op.substr(0, hash), args = c.op.substr(hash + 1);
  for_each_device([&](Device) {
    std::vector<array> in;
    for (auto& t : c.inputs) in.push_back(fixture_array(t));
    array out = array(0.0f);
    // float32 against float64 references. The largest differences seen are 1.7e-7 (Upsample:
    // float32 weights against PyTorch's double ones) and under 1e-7 for the rest, on the CPU and
    // on lavapipe; the margin leaves room for GPUs that fuse or reorder float32 arithmetic.
    double tol = 1e-6;
    if (what.rfind("ConvTranspose", 0) == 0) {
      out = run_conv_transpose(what, args, in);
    } else if (what == "Upsample") {
      out = run_upsample(args, in[0]);
    } else {
      auto opt = make_optimizer(what, args);
      tol = 5e-6;  // rsqrt, and Muon's matmuls, may round differently on a GPU
      Tree params = Tree::dict({{"p", in[0]}});
      for (int step = 1; step <= 3; ++step) params = opt->apply_gradients(Tree::dict({{"p", in[step]}}), params);
      out = params.at("p").as_array();
      EXPECT_EQ(opt->step().item<uint64_t>(), 3u);
    }
    ASSERT_EQ(out.shape(), c.output.shape);
    EXPECT_TRUE(close_values(out, c.output.values, tol, tol));
  });
}

INSTANTIATE_TEST_SUITE_P(NnExtra, NnExtraFixture, ::testing::ValuesIn(load_fixture("nn_extra.txt")),
                         [](const auto& info) { return info.param.name; });

// ---------------------------------------------------------------------------------------------
// nn::init

struct Stats {
  double mean = 0, std = 0, min = 0, max = 0;
};
Stats stats(array a) {
  auto v = values(std::move(a));
  Stats s;
  s.min = *std::min_element(v.begin(), v.end());
  s.max = *std::max_element(v.begin(), v.end());
  for (double x : v) s.mean += x;
  s.mean /= v.size();
  for (double x : v) s.std += (x - s.mean) * (x - s.mean);
  s.std = std::sqrt(s.std / v.size());
  return s;
}

TEST(NnExtraInit, FanComputationAsMlx) {
  using nn::init::calculate_fan_in_fan_out;
  EXPECT_EQ(calculate_fan_in_fan_out({4, 5}), std::make_pair(int64_t{5}, int64_t{4}));
  // Conv2d weight (out, kH, kW, in): the receptive field multiplies both fans.
  EXPECT_EQ(calculate_fan_in_fan_out({16, 3, 3, 8}), std::make_pair(int64_t{72}, int64_t{144}));
  EXPECT_EQ(calculate_fan_in_fan_out({6, 5, 4}), std::make_pair(int64_t{20}, int64_t{30}));  // Conv1d
  EXPECT_EQ(calculate_fan_in_fan_out({2, 3, 4, 5, 6}), std::make_pair(int64_t{360}, int64_t{120}));  // Conv3d
  EXPECT_TRUE(throws_with<IA>([] { calculate_fan_in_fan_out({7}); }, {"at least 2 dimensional", "(7,)"}));
}

// Sample statistics of 2^16 draws or more: 6 standard errors and bounds that must hold exactly.
TEST(NnExtraInit, DistributionsOnEveryDevice) {
  for_each_device([](Device) {
    random::seed(7);
    const Shape big{256, 256};
    const array like = zeros(big);
    EXPECT_TRUE(arrays_equal(nn::init::constant(0.5f)(like), full(big, 0.5f)));
    EXPECT_EQ(nn::init::constant(2.0f, float16)(big).dtype(), float16);

    Stats n = stats(nn::init::normal(0.5f, 2.0f)(like));
    EXPECT_NEAR(n.mean, 0.5, 6 * 2.0 / 256);
    EXPECT_NEAR(n.std, 2.0, 0.03 * 2.0);
    EXPECT_EQ(nn::init::normal(0.0f, 1.0f, float16)(big).dtype(), float16);

    Stats u = stats(nn::init::uniform(-2.0f, 3.0f)(like));
    EXPECT_GE(u.min, -2.0);
    EXPECT_LT(u.max, 3.0);
    EXPECT_NEAR(u.mean, 0.5, 6 * (5.0 / std::sqrt(12.0)) / 256);
    EXPECT_NEAR(u.std, 5.0 / std::sqrt(12.0), 0.02);
    Stats u01 = stats(nn::init::uniform()(big));
    EXPECT_GE(u01.min, 0.0);
    EXPECT_LT(u01.max, 1.0);

    // Glorot on (300, 220): fan_in + fan_out = 520.
    const Shape g{300, 220};
    const double glorot_std = std::sqrt(2.0 / 520);
    Stats gn = stats(nn::init::glorot_normal()(g));
    EXPECT_NEAR(gn.mean, 0.0, 6 * glorot_std / 257);
    EXPECT_NEAR(gn.std, glorot_std, 0.03 * glorot_std);
    EXPECT_NEAR(stats(nn::init::glorot_normal()(g, 4.0f)).std, 4 * glorot_std, 0.12 * glorot_std);
    const double limit = std::sqrt(6.0 / 520);
    Stats gu = stats(nn::init::glorot_uniform()(g, nn::init::InitArgs{.gain = 2.0f}));
    EXPECT_GE(gu.min, -2 * limit);
    EXPECT_LE(gu.max, 2 * limit);
    EXPECT_NEAR(gu.std, 2 * limit / std::sqrt(3.0), 0.03 * limit);

    // He on a Conv2d weight (32, 3, 3, 16): fan_in 144, fan_out 288.
    const Shape conv{32, 3, 3, 16};
    Stats hn = stats(nn::init::he_normal()(conv));  // 4608 draws
    EXPECT_NEAR(hn.std, 1 / std::sqrt(144.0), 0.05 / std::sqrt(144.0));
    Stats hno = stats(nn::init::he_normal()(g, nn::init::FanMode::FanOut, 3.0f));
    EXPECT_NEAR(hno.std, 3 / std::sqrt(300.0), 0.03 * 3 / std::sqrt(300.0));
    Stats hu = stats(nn::init::he_uniform()(g));
    EXPECT_LE(hu.max, std::sqrt(3.0 / 220));
    EXPECT_GE(hu.min, -std::sqrt(3.0 / 220));
    EXPECT_NEAR(hu.std, 1 / std::sqrt(220.0), 0.03 / std::sqrt(220.0));  // U(-l, l) has std l / sqrt(3)
    Stats huo = stats(nn::init::he_uniform()(conv, nn::init::FanMode::FanOut, 0.5f));
    EXPECT_LE(huo.max, 0.5 * std::sqrt(3.0 / 288));
  });
}

TEST(NnExtraInit, IdentitySparseOrthogonal) {
  for_each_device([](Device) {
    random::seed(11);
    EXPECT_TRUE(arrays_equal(nn::init::identity()(zeros({3, 3})), eye(3)));
    EXPECT_EQ(nn::init::identity(float64)(Shape{2, 2}).dtype(), float64);

    // sparse: every row has ceil(sparsity * cols) zeros (MLX zeros along rows); the rest are
    // N(mean, std^2) and never exactly zero.
    array s = nn::init::sparse(0.3, 1.0f, 0.5f)(Shape{64, 40});
    const auto v = values(s);
    double sum_nz = 0;
    int64_t nz = 0;
    for (int r = 0; r < 64; ++r) {
      int zeros_in_row = 0;
      for (int c = 0; c < 40; ++c) {
        const double x = v[r * 40 + c];
        if (x == 0) ++zeros_in_row;
        else sum_nz += x, ++nz;
      }
      EXPECT_EQ(zeros_in_row, 12) << "row " << r;  // ceil(0.3 * 40)
    }
    EXPECT_NEAR(sum_nz / nz, 1.0, 6 * 0.5 / std::sqrt(double(nz)));
    EXPECT_GT(min(abs(nn::init::sparse(0.0f)(Shape{5, 6}))).item<float>(), 0.0f);
    EXPECT_TRUE(arrays_equal(nn::init::sparse(1.0f)(Shape{3, 4}), zeros({3, 4})));

    // orthogonal: W^T W = I for tall shapes, W W^T = I for wide ones, times gain^2.
    for (auto [rows, cols] : {std::pair{64, 32}, std::pair{20, 50}, std::pair{17, 17}, std::pair{96, 256}}) {
      array w = nn::init::orthogonal()(Shape{rows, cols});
      ASSERT_EQ(w.shape(), (Shape{rows, cols}));
      array gram = rows >= cols ? matmul(transpose(w), w) : matmul(w, transpose(w));
      EXPECT_TRUE(arrays_close(gram, eye(std::min(rows, cols)), 1e-5, 1e-5)) << rows << "x" << cols;
    }
    array w2 = nn::init::orthogonal(2.0f, float64)(Shape{8, 5});
    EXPECT_EQ(w2.dtype(), float64);
    EXPECT_TRUE(arrays_close(matmul(transpose(w2), w2), eye(5, float64) * 4.0, 1e-6, 1e-6, false));
  });
}

TEST(NnExtraInit, CallableFormsSeedsAndErrors) {
  // An Initializer is a std::function<array(const array&)> too, e.g. for Module::apply.
  std::function<array(const array&)> fn = nn::init::constant(0.25f);
  nn::Linear l(3, 2);
  l.apply(fn);
  EXPECT_TRUE(arrays_equal(l.weight, full({2, 3}, 0.25f)));
  EXPECT_TRUE(arrays_equal(*l.bias, full({2}, 0.25f)));
  // The same seed draws the same numbers (from tessera::random's global key sequence).
  random::seed(3);
  array a = nn::init::he_uniform()(Shape{4, 4});
  random::seed(3);
  EXPECT_TRUE(arrays_equal(nn::init::he_uniform()(Shape{4, 4}), a));

  EXPECT_TRUE(throws_with<IA>([] { nn::init::glorot_normal()(Shape{5}); }, {"[init::glorot_normal]", "(5,)"}));
  EXPECT_TRUE(throws_with<IA>([] { nn::init::he_uniform()(Shape{3, 0}); }, {"[init::he_uniform]", "zero", "(3,0)"}));
  EXPECT_TRUE(throws_with<IA>([] { nn::init::identity()(Shape{2, 3}); }, {"[init::identity]", "square", "(2,3)"}));
  EXPECT_TRUE(throws_with<IA>([] { nn::init::sparse(0.5f)(Shape{2, 3, 4}); }, {"[init::sparse]", "2 dimensions"}));
  EXPECT_TRUE(throws_with<IA>([] { nn::init::sparse(1.5f); }, {"[init::sparse]", "[0, 1]"}));
  EXPECT_TRUE(throws_with<IA>([] { nn::init::orthogonal()(Shape{2, 3, 4}); }, {"[init::orthogonal]", "2D", "3D"}));
  EXPECT_TRUE(throws_with<IA>([] { nn::init::normal()(Shape{2, 2}, 3.0f); }, {"[init::normal]", "gain"}));
  EXPECT_TRUE(throws_with<IA>([] { nn::init::glorot_uniform()(Shape{2, 2}, nn::init::FanMode::FanOut); },
                              {"[init::glorot_uniform]", "mode"}));
}

// ---------------------------------------------------------------------------------------------
// ConvTranspose

TEST(NnExtraConvTranspose, LayoutInitNamesAndPrinting) {
  nn::ConvTranspose2d c(4, 6, {3, 2}, {2, 1}, {1, 0}, {1, 1}, {1, 0});
  EXPECT_EQ(c.weight.shape(), (Shape{6, 3, 2, 4}));  // MLX's (out, kH, kW, in)
  EXPECT_EQ(flat_keys(c.parameters()), (std::vector<std::string>{"weight", "bias"}));
  EXPECT_TRUE(arrays_equal(*c.bias, zeros({6})));
  const double bound = std::sqrt(1.0 / (4 * 3 * 2));
  Stats s = stats(c.weight);
  EXPECT_LE(s.max, bound);
  EXPECT_GE(s.min, -bound);
  std::ostringstream os;
  os << c;
  EXPECT_EQ(os.str(), "ConvTranspose2d(4, 6, kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 1), "
                      "output_padding=(1, 0), bias=True)");
  os.str("");
  os << nn::ConvTranspose2d(2, 3, 3);
  EXPECT_EQ(os.str(), "ConvTranspose2d(2, 3, kernel_size=(3, 3), stride=(1, 1), padding=(0, 0), dilation=1, "
                      "output_padding=(0, 0), bias=True)");
  os.str("");
  os << nn::ConvTranspose1d(2, 3, 5, 2, 1, 1, 1, false);
  EXPECT_EQ(os.str(), "ConvTranspose1d(2, 3, kernel_size=5, stride=2, padding=1, dilation=1, output_padding=1, "
                      "bias=False)");
  EXPECT_EQ(flat_keys(nn::ConvTranspose1d(2, 3, 5, 1, 0, 1, 0, false).parameters()), (std::vector<std::string>{"weight"}));
  EXPECT_EQ(nn::ConvTranspose3d(2, 3, 2).weight.shape(), (Shape{3, 2, 2, 2, 2}));

  for_each_device([&](Device) {
    array x = random_array({2, 4, 5, 4}, 5);
    EXPECT_TRUE(arrays_close(c(x), conv_transpose2d(x, c.weight, {2, 1}, {1, 0}, {1, 1}, {1, 0}) + *c.bias, 1e-6, 1e-6));
    // Output size (in - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1.
    EXPECT_EQ(c(x).shape(), (Shape{2, 8, 6, 6}));
    nn::Sequential seq(nn::ConvTranspose1d(3, 2, 3, 2));
    EXPECT_EQ(seq(random_array({1, 4, 3}, 6)).shape(), (Shape{1, 9, 2}));
  });
}

TEST(NnExtraConvTranspose, GradientsMatchFiniteDifferences) {
  for_each_device([](Device) {
    nn::ConvTranspose2d layer(2, 3, {2, 3}, {2, 1}, {0, 1}, {1, 1}, {1, 0});
    layer.set_dtype(float64);
    const array x = random_array({1, 3, 2, 2}, 21, float64);
    const array c = random_array({1, 7, 2, 3}, 22, float64);
    auto loss = [&](const array& xs) { return sum(layer(xs) * c); };
    auto [value, grads] = nn::value_and_grad(layer, loss)(x);
    EXPECT_NEAR(value.item<double>(), loss(x).item<double>(), 1e-12);
    ASSERT_EQ(flat_keys(grads), (std::vector<std::string>{"weight", "bias"}));
    for (auto& [path, g] : tree::flatten_arrays(grads)) {
      const array p = layer.parameters().find_path(path)->as_array();
      auto at = [&](int64_t k, double delta) {
        std::vector<double> v = values(p);
        v[k] += delta;
        nn::ConvTranspose2d probe = layer;
        probe.update(tree::unflatten(std::vector<std::pair<std::string, array>>{{path, array(v, p.shape(), float64)}}));
        return sum(probe(x) * c).item<double>();
      };
      const auto gv = values(g);
      for (int64_t k = 0; k < static_cast<int64_t>(p.size()); ++k) {
        EXPECT_NEAR(gv[k], (at(k, 1e-6) - at(k, -1e-6)) / 2e-6, 1e-6) << path << "[" << k << "]";
      }
    }
    // The input's vjp and jvp too.
    EXPECT_TRUE(check_grad([&](const std::vector<array>& a) { return layer(a[0]); }, {x}, 1e-6, 1e-7));
  });
}

TEST(NnExtraConvTranspose, RejectsBadInput) {
  nn::ConvTranspose2d c(3, 4, 3);
  EXPECT_TRUE(throws_with<IA>([&] { c(zeros({1, 5, 5})); }, {"[ConvTranspose2d]", "(N, H, W, C)", "(1,5,5)"}));
  EXPECT_TRUE(throws_with<IA>([&] { c(zeros({1, 5, 5, 2})); }, {"[ConvTranspose2d]", "2 channels", "expects 3"}));
  EXPECT_TRUE(throws_with<IA>([] { nn::ConvTranspose2d(3, 4, 3, 1, 0, 1, 1); }, {"[ConvTranspose2d]", "output_padding"}));
  EXPECT_TRUE(throws_with<IA>([] { nn::ConvTranspose1d(3, 4, 0); }, {"[ConvTranspose1d]", "kernel_size"}));
  EXPECT_TRUE(throws_with<IA>([] { nn::ConvTranspose3d(0, 4, 2); }, {"[ConvTranspose3d]", "in_channels"}));
  EXPECT_TRUE(throws_with<IA>([] { nn::ConvTranspose2d(3, 4, 3, 0); }, {"[ConvTranspose2d]", "stride"}));
  EXPECT_TRUE(throws_with<IA>([] { nn::ConvTranspose2d(3, 4, 3, 1, -1); }, {"[ConvTranspose2d]", "padding"}));
}

// ---------------------------------------------------------------------------------------------
// Upsample

TEST(NnExtraUpsample, MlxDocumentedExamples) {
  for_each_device([](Device) {
    const array x = reshape(arange(1, 5), {1, 2, 2, 1});
    array n = nn::Upsample(2.0)(x);
    EXPECT_EQ(n.dtype(), int32);  // nearest keeps the dtype
    EXPECT_TRUE(arrays_equal(reshape(n, {4, 4}),
                             array({1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}, Shape{4, 4})));
    array b = nn::Upsample(2.0, nn::UpsampleMode::Linear)(x);
    EXPECT_EQ(b.dtype(), float32);
    EXPECT_TRUE(close_values(b, {1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4},
                             1e-6, 1e-6));
    array ac = nn::Upsample(2.0, nn::UpsampleMode::Linear, true)(x);
    const double t = 1.0 / 3;
    EXPECT_TRUE(close_values(ac, {1, 1 + t, 1 + 2 * t, 2, 1 + 2 * t, 2, 2 + t, 2 + 2 * t, 2 + t, 2 + 2 * t, 3, 3 + t,
                                  3, 3 + t, 3 + 2 * t, 4},
                             1e-6, 1e-6));
    // The free functions are the module's bodies; float16 inputs meet float32 weights (MLX).
    EXPECT_TRUE(arrays_equal(nn::upsample_linear(astype(x, float32), {2.0, 2.0}), b));
    EXPECT_EQ(nn::upsample_cubic(astype(x, float16), {2.0, 2.0}).dtype(), float32);
    EXPECT_EQ(nn::upsample_nearest(astype(x, float16), {1.5, 2.0}).shape(), (Shape{1, 3, 4, 1}));
    // int(scale * N) with Python's double scale: 0.7 * 10 is 7 (0.7f * 10 would truncate to 6).
    EXPECT_EQ(nn::Upsample(0.7, nn::UpsampleMode::Linear)(zeros({1, 10, 1})).shape(), (Shape{1, 7, 1}));
  });
  std::ostringstream os;
  os << nn::Upsample(2.0);
  EXPECT_EQ(os.str(), "Upsample(scale_factor=2.0, mode='nearest', align_corners=False)");
  os.str("");
  os << nn::Upsample({2.0, 1.5}, nn::UpsampleMode::Cubic, false, true);
  EXPECT_EQ(os.str(), "Upsample(scale_factor=(2.0, 1.5), mode='cubic', align_corners=False, antialias=True)");
}

// A module whose parameter is the upsampled input, so nn::value_and_grad reaches it.
struct UpsampleProbe : nn::Module {
  array x;
  nn::Upsample up;
  UpsampleProbe(array x0, nn::Upsample u) : x(std::move(x0)), up(std::move(u)) { register_parameter("x", x); }
  std::string name() const override { return "UpsampleProbe"; }
};

TEST(NnExtraUpsample, GradientsMatchFiniteDifferences) {
  struct Case {
    nn::UpsampleMode mode;
    std::vector<double> scale;
    bool align, antialias;
  };
  const std::vector<Case> cases{{nn::UpsampleMode::Linear, {1.5, 2.0}, false, false},
                                {nn::UpsampleMode::Linear, {2.0, 1.7}, true, false},
                                {nn::UpsampleMode::Cubic, {2.0, 1.5}, false, false},
                                {nn::UpsampleMode::Cubic, {1.6, 2.0}, true, false},
                                {nn::UpsampleMode::Cubic, {0.5, 0.75}, false, true},
                                {nn::UpsampleMode::Nearest, {1.5, 0.75}, false, false}};
  for_each_device([&](Device) {
    for (auto& cs : cases) {
      nn::Upsample up(cs.scale, cs.mode, cs.align, cs.antialias);
      const array x = random_array({2, 4, 4, 2}, 31, float64);
      SCOPED_TRACE(::testing::Message() << up);
      EXPECT_TRUE(check_grad([&](const std::vector<array>& a) { return up(a[0]); }, {x}, 1e-6, 1e-7));
      UpsampleProbe probe(x, up);
      const array c = random_array(up(x).shape(), 32, float64);
      auto [value, grads] = nn::value_and_grad(probe, [&] { return sum(probe.up(probe.x) * c); })();
      // The loss is linear in x: its gradient is the transposed interpolation of c, which
      // central differences reproduce to rounding.
      const array g = grads.at("x").as_array();
      const auto gv = values(g);
      std::vector<double> xv = values(x);
      for (int64_t k = 0; k < static_cast<int64_t>(xv.size()); k += 7) {
        auto at = [&](double d) {
          auto v = xv;
          v[k] += d;
          return sum(up(array(v, x.shape(), float64)) * c).item<double>();
        };
        EXPECT_NEAR(gv[k], (at(1e-6) - at(-1e-6)) / 2e-6, 1e-6) << "x[" << k << "]";
      }
    }
  });
}

TEST(NnExtraUpsample, RejectsBadInput) {
  EXPECT_TRUE(throws_with<IA>([] { nn::Upsample(2.0)(zeros({4, 3})); }, {"[Upsample]", "at least 3D", "(4,3)"}));
  EXPECT_TRUE(throws_with<IA>([] { nn::Upsample({2.0, 2.0})(zeros({1, 4, 3})); }, {"[Upsample]", "One scale per"}));
  EXPECT_TRUE(throws_with<IA>([] { nn::Upsample(2.0, nn::UpsampleMode::Nearest, false, true); },
                              {"[Upsample]", "Antialiasing", "nearest"}));
  EXPECT_TRUE(throws_with<IA>([] { nn::Upsample(0.5, nn::UpsampleMode::Linear, true, true); },
                              {"[Upsample]", "align_corners"}));
  EXPECT_TRUE(throws_with<IA>([] { nn::Upsample(-1.0); }, {"[Upsample]", "positive"}));
  EXPECT_TRUE(throws_with<IA>([] { nn::Upsample(0.1)(zeros({1, 4, 1})); }, {"[Upsample]", "empty", "size 4"}));
  EXPECT_TRUE(throws_with<IA>([] { nn::upsample_linear(zeros({1, 4, 4, 1}), {2.0}); },
                              {"[upsample_linear]", "One scale per"}));
  EXPECT_TRUE(throws_with<IA>([] { nn::upsample_cubic(zeros({1, 4, 4, 1}), {2.0, 2.0}, true, true); },
                              {"[upsample_cubic]", "antialias"}));
}

// ---------------------------------------------------------------------------------------------
// Adafactor, Muon, MultiOptimizer

TEST(NnExtraOptim, StateNamesAndArguments) {
  optim::Adafactor a({.beta_1 = 0.9f});
  Tree params = Tree::dict({{"w", ones({3, 4})}, {"b", ones({4})}, {"k", ones({2, 3, 5})}});
  a.init(params);
  EXPECT_EQ(a.state().at("w").at("exp_avg_sq_row").as_array().shape(), (Shape{3}));
  EXPECT_EQ(a.state().at("w").at("exp_avg_sq_col").as_array().shape(), (Shape{4}));
  EXPECT_EQ(a.state().at("k").at("exp_avg_sq_row").as_array().shape(), (Shape{2, 3}));
  EXPECT_EQ(a.state().at("k").at("exp_avg_sq_col").as_array().shape(), (Shape{2, 5}));
  EXPECT_EQ(a.state().at("b").at("exp_avg_sq").as_array().shape(), (Shape{4}));
  EXPECT_TRUE(a.state().at("b").contains("exp_avg"));
  EXPECT_FALSE(optim::Adafactor().options().beta_1.has_value());
  EXPECT_EQ(optim::Adafactor().options().decay_rate, -0.8f);
  optim::Adafactor positional(0.01f, {1e-30f, 1e-3f}, 1.0f, -0.8f, std::nullopt, 0.0f, true, false);
  EXPECT_NEAR(positional.learning_rate().item<float>(), 0.01f, 1e-9);
  optim::Muon m(0.02f);
  m.init(params);
  EXPECT_EQ(flat_keys(m.state()), (std::vector<std::string>{"step", "learning_rate", "w.v", "b.v", "k.v"}));
  EXPECT_TRUE(throws_with<IA>([] { optim::Adafactor({.relative_step = false}); }, {"[Adafactor]", "learning_rate"}));
  EXPECT_TRUE(throws_with<IA>([] { optim::Muon(0.1f, 1.5f); }, {"[Muon]", "momentum"}));
}

TEST(NnExtraOptim, MultiOptimizerRoutesByPath) {
  Tree params = Tree::dict({{"layers", Tree::list({Tree::dict({{"weight", random_array({3, 2}, 1)}, {"bias", random_array({3}, 2)}}),
                                                   Tree::dict({{"weight", random_array({2, 3}, 3)}})})},
                            {"scale", random_array({2}, 4)}});
  Tree grads = tree::map([](const array& p) { return array(p * 0.5f + 0.1f); }, params);
  auto is_weight = [](const std::string& path, const array&) {
    return path.size() >= 6 && path.compare(path.size() - 6, 6, "weight") == 0;
  };
  auto make = [&] {
    std::vector<std::unique_ptr<optim::Optimizer>> opts;
    opts.push_back(std::make_unique<optim::SGD>(0.1f));
    opts.push_back(std::make_unique<optim::Adam>(0.01f));
    return optim::MultiOptimizer(std::move(opts), {is_weight});
  };
  optim::MultiOptimizer multi = make();
  Tree out = multi.apply_gradients(grads, params);
  out = multi.apply_gradients(grads, out);
  // The same two steps with each optimizer on its own part.
  optim::SGD sgd(0.1f);
  optim::Adam adam(0.01f);
  auto keep = [](const Tree& t, bool weights) {
    std::vector<std::pair<std::string, array>> part;
    for (auto& [k, v] : tree::flatten_arrays(t))
      if ((k.size() >= 6 && k.compare(k.size() - 6, 6, "weight") == 0) == weights) part.emplace_back(k, v);
    return tree::unflatten(part);
  };
  Tree s = keep(params, true), a = keep(params, false);
  for (int i = 0; i < 2; ++i) {
    s = sgd.apply_gradients(keep(grads, true), s);
    a = adam.apply_gradients(keep(grads, false), a);
  }
  for (auto& [k, v] : tree::flatten_arrays(out)) {
    const Tree* want = s.find_path(k) ? s.find_path(k) : a.find_path(k);
    ASSERT_NE(want, nullptr) << k;
    EXPECT_TRUE(arrays_close(v, want->as_array(), 1e-6, 1e-7)) << k;
  }
  EXPECT_EQ(flat_keys(out).size(), 4u);
  // State: one per optimizer, each with its own step; learning_rate is the first's.
  Tree st = multi.state();
  ASSERT_EQ(st.at("states").size(), 2u);
  EXPECT_EQ(st.at("states")[0].at("step").as_array().item<uint64_t>(), 2u);
  EXPECT_EQ(flat_keys(st.at("states")[1]), (std::vector<std::string>{"step", "learning_rate", "layers.0.bias.m",
                                                                       "layers.0.bias.v", "scale.m", "scale.v"}));
  EXPECT_NEAR(multi.learning_rate().item<float>(), 0.1f, 1e-9);
  EXPECT_EQ(multi.step().item<uint64_t>(), 2u);
  optim::MultiOptimizer restored = make();
  restored.set_state(st);
  EXPECT_EQ(restored.optimizer(1).step().item<uint64_t>(), 2u);
  multi.set_learning_rate(0.5f);
  EXPECT_NEAR(multi.optimizer(1).learning_rate().item<float>(), 0.5f, 1e-9);

  // Two entries of one list of arrays split between optimizers merge back into one list.
  std::vector<std::unique_ptr<optim::Optimizer>> two;
  two.push_back(std::make_unique<optim::SGD>(1.0f));
  two.push_back(std::make_unique<optim::SGD>(2.0f));
  optim::MultiOptimizer split(std::move(two), {[](const std::string& p, const array&) { return p == "w.0"; }});
  Tree lp = Tree::dict({{"w", Tree::list({Tree(ones({2})), Tree(ones({2}))})}});
  Tree lo = split.apply_gradients(lp, lp);
  EXPECT_TRUE(arrays_equal(lo.find_path("w.0")->as_array(), zeros({2})));
  EXPECT_TRUE(arrays_equal(lo.find_path("w.1")->as_array(), full({2}, -1.0f)));

  std::vector<std::unique_ptr<optim::Optimizer>> one;
  one.push_back(std::make_unique<optim::SGD>(0.1f));
  EXPECT_TRUE(throws_with<IA>([&] { optim::MultiOptimizer(std::move(one), {is_weight}); },
                              {"[MultiOptimizer]", "Given 1 filters but 0 needed"}));
  EXPECT_TRUE(throws_with<IA>([&] { multi.set_state(Tree::dict()); }, {"[MultiOptimizer::set_state]"}));
  // Through the base class (as a training loop holds it) it routes the same way, and the base
  // state() shows every optimizer's state.
  optim::MultiOptimizer direct = make(), via = make();
  optim::Optimizer& base = via;
  Tree d = direct.apply_gradients(grads, params), b = base.apply_gradients(grads, params);
  for (auto& [k, v] : tree::flatten_arrays(d)) EXPECT_TRUE(arrays_equal(v, b.find_path(k)->as_array())) << k;
  EXPECT_EQ(flat_keys(base.state()), flat_keys(direct.state()));
  EXPECT_EQ(base.step().item<uint64_t>(), 1u);
}

TEST(NnExtraOptim, TrainAModelOnEveryDevice) {
  for_each_device([](Device) {
    auto train = [](auto& opt, int steps) {
      random::seed(5);
      nn::Sequential model(nn::Linear(4, 16), nn::ReLU(), nn::Linear(16, 1));
      array x = random::uniform({64, 4});
      array y = sum(x * array({1.0f, -2.0f, 0.5f, 3.0f}), -1, true);
      auto step = nn::value_and_grad(model, [&](const array& a, const array& b) { return mean(square(model(a) - b)); });
      float first = 0, last = 0;
      for (int i = 0; i < steps; ++i) {
        auto [loss, grads] = step(x, y);
        opt.update(model, grads);
        eval({loss});
        if (i == 0) first = loss.template item<float>();
        last = loss.template item<float>();
      }
      return std::make_pair(first, last);
    };
    optim::Adafactor ada({.learning_rate = 0.05f, .relative_step = false});
    auto [a0, a1] = train(ada, 100);
    EXPECT_LT(a1, 0.1f * a0);
    // Muon for the matrices, AdamW for the biases (MLX's advice).
    std::vector<std::unique_ptr<optim::Optimizer>> opts;
    opts.push_back(std::make_unique<optim::Muon>(0.02f));
    opts.push_back(std::make_unique<optim::AdamW>(0.01f));
    optim::MultiOptimizer multi(std::move(opts), {[](const std::string&, const array& g) { return g.ndim() >= 2; }});
    auto [m0, m1] = train(multi, 100);
    EXPECT_LT(m1, 0.1f * m0);
  });
}

}  // namespace
