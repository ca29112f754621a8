// The activations (nn/activations.hpp) and losses (nn/losses.hpp) of tessera::nn against
// PyTorch and NumPy (tests/fixtures/nn_functions.txt, from gen_nn_functions.py, which also
// carries the values printed in MLX's documentation): every case on every device, in float32
// and (activations, and a few cases of each loss) float16; gradients of every smooth case
// against central differences in float64 on the CPU, and the float32 gradients on every
// device against those; one fused node per elementwise activation; dtypes and the default
// reductions; bad arguments.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "tessera/nn/activations.hpp"
#include "tessera/nn/losses.hpp"
#include "tessera/tessera.hpp"
#include "test_util.hpp"

namespace {

using namespace tessera;
using namespace tessera::test;
namespace L = tessera::nn::losses;

// An op token of the fixtures, "cross_entropy#label_smoothing=0.1#reduction=mean": the
// function's name and its keyword arguments. Reading an argument marks it used, so that a
// fixture argument the table ignores fails the case.
struct Call {
  std::string name;
  std::map<std::string, std::string> args;
  mutable std::set<std::string> used;

  bool has(const std::string& k) const { return args.count(k) > 0; }
  const std::string& get(const std::string& k) const {
    used.insert(k);
    return args.at(k);
  }
  float f(const std::string& k, float def) const { return has(k) ? std::stof(get(k)) : def; }
  int i(const std::string& k, int def) const { return has(k) ? std::stoi(get(k)) : def; }
  bool b(const std::string& k, bool def) const { return has(k) ? get(k) == "1" : def; }
  L::Reduction reduction(L::Reduction def) const {
    return has("reduction") ? L::reduction_from_name(get("reduction")) : def;
  }
};

Call parse_call(const std::string& token) {
  Call c;
  std::stringstream ss(token);
  std::getline(ss, c.name, '#');
  std::string kv;
  while (std::getline(ss, kv, '#')) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos) throw std::runtime_error("[test] bad argument " + kv);
    c.args[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return c;
}

using Impl = std::function<array(const std::vector<array>&, const Call&)>;
using In = const std::vector<array>&;

Impl unary(array (*fn)(const array&)) {
  return [fn](In x, const Call&) { return fn(x[0]); };
}

// Every function of the two headers, called with its own defaults for the arguments the token
// leaves out (so the fixtures' default cases check the defaults).
const std::map<std::string, Impl>& functions() {
  static const std::map<std::string, Impl> table = {
      {"relu", unary(nn::relu)},
      {"relu2", unary(nn::relu2)},
      {"relu6", unary(nn::relu6)},
      {"leaky_relu",
       [](In x, const Call& c) {
         return c.has("negative_slope") ? nn::leaky_relu(x[0], c.f("negative_slope", 0))
                                        : nn::leaky_relu(x[0]);
       }},
      {"prelu", [](In x, const Call&) { return nn::prelu(x[0], x[1]); }},
      {"elu",
       [](In x, const Call& c) {
         return c.has("alpha") ? nn::elu(x[0], c.f("alpha", 0)) : nn::elu(x[0]);
       }},
      {"celu",
       [](In x, const Call& c) {
         return c.has("alpha") ? nn::celu(x[0], c.f("alpha", 0)) : nn::celu(x[0]);
       }},
      {"selu", unary(nn::selu)},
      {"gelu", unary(nn::gelu)},
      {"gelu_approx", unary(nn::gelu_approx)},
      {"gelu_fast_approx", unary(nn::gelu_fast_approx)},
      {"glu",
       [](In x, const Call& c) {
         return c.has("axis") ? nn::glu(x[0], c.i("axis", 0)) : nn::glu(x[0]);
       }},
      {"hard_shrink",
       [](In x, const Call& c) {
         return c.has("lambd") ? nn::hard_shrink(x[0], c.f("lambd", 0)) : nn::hard_shrink(x[0]);
       }},
      {"softshrink",
       [](In x, const Call& c) {
         return c.has("lambd") ? nn::softshrink(x[0], c.f("lambd", 0)) : nn::softshrink(x[0]);
       }},
      {"hard_tanh",
       [](In x, const Call& c) {
         return c.args.empty() ? nn::hard_tanh(x[0])
                               : nn::hard_tanh(x[0], c.f("min_val", -1), c.f("max_val", 1));
       }},
      {"hardswish", unary(nn::hardswish)},
      {"sigmoid", unary(nn::sigmoid)},
      {"log_sigmoid", unary(nn::log_sigmoid)},
      {"silu", unary(nn::silu)},
      {"mish", unary(nn::mish)},
      {"softplus", unary(nn::softplus)},
      {"softsign", unary(nn::softsign)},
      {"tanh", unary(nn::tanh)},
      {"step",
       [](In x, const Call& c) {
         return c.has("threshold") ? nn::step(x[0], c.f("threshold", 0)) : nn::step(x[0]);
       }},
      {"softmax",
       [](In x, const Call& c) {
         return c.has("axis") ? nn::softmax(x[0], c.i("axis", 0)) : nn::softmax(x[0]);
       }},
      {"log_softmax",
       [](In x, const Call& c) {
         return c.has("axis") ? nn::log_softmax(x[0], c.i("axis", 0)) : nn::log_softmax(x[0]);
       }},
      {"softmin",
       [](In x, const Call& c) {
         return c.has("axis") ? nn::softmin(x[0], c.i("axis", 0)) : nn::softmin(x[0]);
       }},
      // Losses.
      {"cross_entropy",
       [](In x, const Call& c) {
         if (c.args.empty() && x.size() == 2) return L::cross_entropy(x[0], x[1]);
         L::CrossEntropyOptions o;
         if (x.size() == 3) o.weights = x[2];
         o.axis = c.i("axis", o.axis);
         o.label_smoothing = c.f("label_smoothing", o.label_smoothing);
         o.reduction = c.reduction(o.reduction);
         return L::cross_entropy(x[0], x[1], o);
       }},
      {"binary_cross_entropy",
       [](In x, const Call& c) {
         if (c.args.empty() && x.size() == 2) return L::binary_cross_entropy(x[0], x[1]);
         L::BinaryCrossEntropyOptions o;
         if (x.size() == 3) o.weights = x[2];
         o.with_logits = c.b("with_logits", o.with_logits);
         o.reduction = c.reduction(o.reduction);
         return L::binary_cross_entropy(x[0], x[1], o);
       }},
      {"nll_loss",
       [](In x, const Call& c) {
         return c.args.empty()
                    ? L::nll_loss(x[0], x[1])
                    : L::nll_loss(x[0], x[1], c.i("axis", -1), c.reduction(L::Reduction::None));
       }},
      {"kl_div_loss",
       [](In x, const Call& c) {
         return c.args.empty()
                    ? L::kl_div_loss(x[0], x[1])
                    : L::kl_div_loss(x[0], x[1], c.i("axis", -1), c.reduction(L::Reduction::None));
       }},
      {"l1_loss",
       [](In x, const Call& c) {
         return c.args.empty() ? L::l1_loss(x[0], x[1])
                               : L::l1_loss(x[0], x[1], c.reduction(L::Reduction::Mean));
       }},
      {"mse_loss",
       [](In x, const Call& c) {
         return c.args.empty() ? L::mse_loss(x[0], x[1])
                               : L::mse_loss(x[0], x[1], c.reduction(L::Reduction::Mean));
       }},
      {"smooth_l1_loss",
       [](In x, const Call& c) {
         return c.args.empty() ? L::smooth_l1_loss(x[0], x[1])
                               : L::smooth_l1_loss(x[0], x[1], c.f("beta", 1),
                                                   c.reduction(L::Reduction::Mean));
       }},
      {"huber_loss",
       [](In x, const Call& c) {
         return c.args.empty() ? L::huber_loss(x[0], x[1])
                               : L::huber_loss(x[0], x[1], c.f("delta", 1),
                                               c.reduction(L::Reduction::None));
       }},
      {"log_cosh_loss",
       [](In x, const Call& c) {
         return c.args.empty() ? L::log_cosh_loss(x[0], x[1])
                               : L::log_cosh_loss(x[0], x[1], c.reduction(L::Reduction::None));
       }},
      {"hinge_loss",
       [](In x, const Call& c) {
         return c.args.empty() ? L::hinge_loss(x[0], x[1])
                               : L::hinge_loss(x[0], x[1], c.reduction(L::Reduction::None));
       }},
      {"gaussian_nll_loss",
       [](In x, const Call& c) {
         return c.args.empty() ? L::gaussian_nll_loss(x[0], x[1], x[2])
                               : L::gaussian_nll_loss(x[0], x[1], x[2], c.b("full", false),
                                                      c.f("eps", 1e-6f),
                                                      c.reduction(L::Reduction::Mean));
       }},
      {"cosine_similarity_loss",
       [](In x, const Call& c) {
         return c.args.empty() ? L::cosine_similarity_loss(x[0], x[1])
                               : L::cosine_similarity_loss(x[0], x[1], c.i("axis", 1),
                                                           c.f("eps", 1e-8f),
                                                           c.reduction(L::Reduction::None));
       }},
      {"triplet_loss",
       [](In x, const Call& c) {
         if (c.args.empty()) return L::triplet_loss(x[0], x[1], x[2]);
         L::TripletLossOptions o;
         o.axis = c.i("axis", o.axis);
         o.p = c.i("p", o.p);
         o.margin = c.f("margin", o.margin);
         o.eps = c.f("eps", o.eps);
         o.reduction = c.reduction(o.reduction);
         return L::triplet_loss(x[0], x[1], x[2], o);
       }},
      {"margin_ranking_loss",
       [](In x, const Call& c) {
         return c.args.empty()
                    ? L::margin_ranking_loss(x[0], x[1], x[2])
                    : L::margin_ranking_loss(x[0], x[1], x[2], c.f("margin", 0),
                                             c.reduction(L::Reduction::None));
       }},
  };
  return table;
}

// Runs the case's function on `inputs`; fails (throws) on an unknown name or an argument the
// table did not read.
array call(const std::string& token, const std::vector<array>& inputs) {
  const Call c = parse_call(token);
  auto it = functions().find(c.name);
  if (it == functions().end()) throw std::runtime_error("[test] no function " + c.name);
  array out = it->second(inputs, c);
  for (auto& [k, v] : c.args) {
    if (!c.used.count(k)) {
      throw std::runtime_error("[test] " + token + ": argument " + k + " unused");
    }
  }
  return out;
}

const std::vector<FixtureCase>& all_cases() {
  static const std::vector<FixtureCase> cases = load_fixture("nn_functions.txt");
  return cases;
}

std::vector<FixtureCase> cases_where(const std::function<bool(const FixtureCase&)>& keep) {
  std::vector<FixtureCase> out;
  for (auto& c : all_cases()) {
    if (keep(c)) out.push_back(c);
  }
  return out;
}

bool is_loss(const std::string& name) {
  return name.ends_with("_loss") || name.ends_with("cross_entropy");
}

bool differentiable(const FixtureCase& c) { return c.dtype == "float32" && c.tolerance != "kink"; }

std::vector<array> inputs_of(const FixtureCase& c) {
  std::vector<array> in;
  for (auto& t : c.inputs) in.push_back(fixture_array(t));
  return in;
}

// float32: 1e-5 relative (the references are float64 rounded to float32 and printed to seven
// digits, the documentation's golden values to six); float16: 1e-2 relative and 1e-3 absolute
// (an eleven-bit mantissa, and cancellation in expressions such as 1 + erf(x) for x << 0);
// integer results exact.
std::pair<double, double> tolerance(const FixtureCase& c) {
  if (!issubdtype(c.output.dtype, floating)) return {0.0, 0.0};
  if (c.output.dtype == float16) return {1e-2, 1e-3};
  return {1e-5, 1e-6};
}

std::string case_name(const ::testing::TestParamInfo<FixtureCase>& info) { return info.param.name; }

// ---------------------------------------------------------------------------------------------
// Values.

class NnFunctionsFixture : public ::testing::TestWithParam<FixtureCase> {};

TEST_P(NnFunctionsFixture, MatchesReference) {
  const FixtureCase& c = GetParam();
  for_each_device([&](Device) {
    auto [rtol, atol] = tolerance(c);
    array out = call(c.op, inputs_of(c));
    array expected = fixture_expected(c.output);
    EXPECT_EQ(out.dtype(), expected.dtype()) << c.op;
    EXPECT_TRUE(arrays_close(out, expected, rtol, atol)) << c.op;
  });
}

INSTANTIATE_TEST_SUITE_P(NnFunctions, NnFunctionsFixture, ::testing::ValuesIn(all_cases()),
                         case_name);

// ---------------------------------------------------------------------------------------------
// Gradients: every smooth float32 case, its float inputs in float64 (integer targets held
// fixed), vjp and jvp against central differences, in float64 on the CPU (the float32 vjp is compared on every device).

// The case's function of its float inputs only, the integer inputs captured.
struct FloatInputs {
  std::vector<array> floats;
  Fn f;
};

FloatInputs float_inputs(const FixtureCase& c, Dtype dtype) {
  std::vector<array> all = inputs_of(c);
  std::vector<int> which;
  FloatInputs r;
  for (size_t k = 0; k < all.size(); ++k) {
    if (issubdtype(all[k].dtype(), floating)) {
      which.push_back(static_cast<int>(k));
      r.floats.push_back(astype(all[k], dtype));
    }
  }
  r.f = [all, which, op = c.op](const std::vector<array>& xs) {
    std::vector<array> args = all;
    for (size_t k = 0; k < which.size(); ++k) args[which[k]] = xs[k];
    return call(op, args);
  };
  return r;
}

class NnFunctionsGrad : public ::testing::TestWithParam<FixtureCase> {};

TEST_P(NnFunctionsGrad, MatchesFiniteDifferences) {
  const FixtureCase& c = GetParam();
  DefaultDeviceGuard cpu(Device(Device::cpu));
  auto [floats, f] = float_inputs(c, float64);
  EXPECT_TRUE(check_grad(f, floats)) << c.op;
}

// The float32 vjp on every device against the float64 one (the backward graphs run on the GPU).
TEST_P(NnFunctionsGrad, Float32VjpOnEveryDevice) {
  const FixtureCase& c = GetParam();
  std::vector<double> reference;
  auto vjp_values = [&](Dtype dtype) {
    auto [floats, f] = float_inputs(c, dtype);
    const ArrayFn fv = [&](const std::vector<array>& xs) { return std::vector<array>{f(xs)}; };
    array out = f(floats);
    array cot = random_array(out.shape(), 99, dtype);
    auto [outs, grads] = vjp(fv, floats, {cot});
    std::vector<double> v;
    for (auto& g : grads) {
      EXPECT_EQ(g.dtype(), dtype);
      for (double e : values(g)) v.push_back(e);
    }
    return v;
  };
  {
    DefaultDeviceGuard cpu(Device(Device::cpu));
    reference = vjp_values(float64);
  }
  for_each_device([&](Device) {
    EXPECT_TRUE(close_values(vjp_values(float32), reference, 1e-4, 1e-5)) << c.op;
  });
}

INSTANTIATE_TEST_SUITE_P(NnFunctions, NnFunctionsGrad,
                         ::testing::ValuesIn(cases_where(differentiable)), case_name);

// ---------------------------------------------------------------------------------------------
// Coverage of the table by the fixtures.

TEST(NnFunctionsTable, FixturesCoverEveryFunction) {
  std::set<std::string> in_fixtures, with_grads, with_f16;
  for (auto& c : all_cases()) {
    const std::string name = parse_call(c.op).name;
    EXPECT_TRUE(functions().count(name)) << "fixture names an unknown function " << c.op;
    in_fixtures.insert(name);
    if (differentiable(c)) with_grads.insert(name);
    if (c.dtype == "float16") with_f16.insert(name);
  }
  for (auto& [name, impl] : functions()) {
    EXPECT_TRUE(in_fixtures.count(name)) << name << " has no fixture case";
    if (name != "step") EXPECT_TRUE(with_grads.count(name)) << name << " has no gradient case";
    EXPECT_TRUE(with_f16.count(name)) << name << " has no float16 case";
  }
}

// ---------------------------------------------------------------------------------------------
// Dtypes and defaults.

TEST(NnFunctionsDtypes, ActivationsKeepTheFloatDtype) {
  // float16 is covered by the fixtures; bfloat16 and float64 keep theirs too, and integer
  // inputs promote as MLX's Python scalars do.
  DefaultDeviceGuard cpu(Device(Device::cpu));
  array x = array({-1.5, 0.25, 2.0}, float64);
  for (Dtype d : {bfloat16, float64}) {
    array xd = astype(x, d);
    for (auto& [name, impl] : functions()) {
      if (is_loss(name) || name == "prelu" || name == "glu") continue;  // other arguments
      array y = impl({xd}, Call{});
      EXPECT_EQ(y.dtype(), name == "step" ? int32 : d) << name << " " << dtype_name(d);
    }
    EXPECT_EQ(nn::glu(astype(array({1.0, 2.0}, float64), d)).dtype(), d);
    EXPECT_EQ(nn::prelu(xd, astype(array({0.25}), d)).dtype(), d);
  }
  array xi = array({-2, 0, 3});
  EXPECT_EQ(nn::relu(xi).dtype(), int32);  // max(x, 0) of integers stays integer, as in MLX
  EXPECT_TRUE(arrays_equal(nn::relu(xi), array({0, 0, 3})));
  EXPECT_EQ(nn::leaky_relu(xi).dtype(), float32);
  EXPECT_EQ(nn::sigmoid(xi).dtype(), float32);
}

// Nodes of the graph above `a` that are still to be computed.
int count_nodes(const array& a) {
  int n = 0;
  std::vector<array> stack{a};
  while (!stack.empty()) {
    array x = stack.back();
    stack.pop_back();
    if (!x.has_primitive()) continue;
    ++n;
    for (auto& in : x.inputs()) stack.push_back(in);
  }
  return n;
}

TEST(NnFunctionsFusion, ElementwiseActivationsAreOneNode) {
  array x = random_array({3, 4}, 5);
  x.eval();
  for (auto& [name, impl] : functions()) {
    if (is_loss(name) || name == "prelu" || name == "glu" || name == "softmax" ||
        name == "log_softmax" || name == "softmin") {
      continue;  // other arguments, or reductions
    }
    EXPECT_EQ(count_nodes(impl({x}, Call{})), 1) << name;
  }
}

TEST(NnLossesDefaults, ReductionsPerFunction) {
  // MLX's defaults: 'mean' for binary_cross_entropy, l1, mse, smooth_l1 and gaussian_nll,
  // 'none' for the others (a pitfall: not the same for all).
  array a = random_array({2, 3}, 1), b = random_array({2, 3}, 2, float32, 0.1, 1.0);
  array cls = array({0, 2}), pm = array({1.0f, -1.0f, 1.0f, -1.0f, 1.0f, 1.0f}, {2, 3});
  EXPECT_EQ(L::binary_cross_entropy(a, b).ndim(), 0);
  EXPECT_EQ(L::l1_loss(a, b).ndim(), 0);
  EXPECT_EQ(L::mse_loss(a, b).ndim(), 0);
  EXPECT_EQ(L::smooth_l1_loss(a, b).ndim(), 0);
  EXPECT_EQ(L::gaussian_nll_loss(a, b, b).ndim(), 0);
  EXPECT_EQ(L::cross_entropy(a, cls).shape(), Shape({2}));
  EXPECT_EQ(L::nll_loss(a, cls).shape(), Shape({2}));
  EXPECT_EQ(L::kl_div_loss(a, b).shape(), Shape({2}));
  EXPECT_EQ(L::huber_loss(a, b).shape(), Shape({2, 3}));
  EXPECT_EQ(L::log_cosh_loss(a, b).shape(), Shape({2, 3}));
  EXPECT_EQ(L::hinge_loss(a, pm).shape(), Shape({2, 3}));
  EXPECT_EQ(L::cosine_similarity_loss(a, b).shape(), Shape({2}));  // axis 1
  EXPECT_EQ(L::triplet_loss(a, b, pm).shape(), Shape({2}));
  EXPECT_EQ(L::margin_ranking_loss(a, b, pm).shape(), Shape({2, 3}));

  // The options aggregates take designated initializers.
  array mean_ls =
      L::cross_entropy(a, cls, {.label_smoothing = 0.1f, .reduction = L::Reduction::Mean});
  EXPECT_EQ(mean_ls.ndim(), 0);
  auto none_ls = values(L::cross_entropy(a, cls, {.label_smoothing = 0.1f}));
  EXPECT_TRUE(close_values(mean_ls, {(none_ls[0] + none_ls[1]) / 2}));
  auto none = values(L::cross_entropy(a, cls));
  EXPECT_TRUE(close_values(L::cross_entropy(a, cls, {.reduction = L::Reduction::Sum}),
                           {none[0] + none[1]}));
  EXPECT_EQ(L::triplet_loss(a, b, pm, {.p = 1, .reduction = L::Reduction::Sum}).ndim(), 0);

  EXPECT_EQ(L::reduction_from_name("none"), L::Reduction::None);
  EXPECT_EQ(L::reduction_from_name("mean"), L::Reduction::Mean);
  EXPECT_EQ(L::reduction_from_name("sum"), L::Reduction::Sum);
}

// ---------------------------------------------------------------------------------------------
// Bad arguments.

struct BadCall {
  std::string what;
  std::function<void()> fn;
  std::vector<std::string> parts;
};

TEST(NnFunctionsErrors, BadArguments) {
  const array x = zeros({2, 5});
  const std::vector<BadCall> table = {
      {"glu odd length", [&] { nn::glu(x); }, {"[glu]", "(2,5)", "odd length 5"}},
      {"glu axis", [&] { nn::glu(x, 2); }, {"[glu]", "axis 2", "dimension 2"}},
      {"softmax axis", [&] { nn::softmax(x, -3); }, {"[softmax]", "axis -3"}},
      {"log_softmax axis", [&] { nn::log_softmax(x, 2); }, {"[log_softmax]", "axis 2"}},
      {"softmin axis", [&] { nn::softmin(array(1.0f)); }, {"[softmin]", "axis -1", "dimension 0"}},
  };
  for (auto& b : table) EXPECT_TRUE(throws_with<std::invalid_argument>(b.fn, b.parts)) << b.what;
}

TEST(NnLossesErrors, BadArguments) {
  const array logits = zeros({4, 10}), labels = zeros({4}, int32), v23 = zeros({2, 3}),
              v32 = zeros({3, 2}), v2 = zeros({2});
  const std::vector<BadCall> table = {
      {"ce targets shape", [&] { L::cross_entropy(logits, zeros({8}, int32)); },
       {"[cross_entropy]", "targets of shape (8,) do not match logits of shape (4,10)", "(4,)"}},
      {"ce probability targets shape", [&] { L::cross_entropy(logits, zeros({4, 9})); },
       {"[cross_entropy]", "(4,9)", "(4,10)"}},
      {"ce float class targets", [&] { L::cross_entropy(logits, zeros({4})); },
       {"[cross_entropy]", "integers", "float32"}},
      {"ce axis", [&] { L::cross_entropy(logits, labels, {.axis = 2}); },
       {"[cross_entropy]", "axis 2"}},
      {"ce axis changes the class shape", [&] { L::cross_entropy(logits, labels, {.axis = 0}); },
       {"[cross_entropy]", "(4,)", "(4,10)", "(10,)"}},
      {"ce label_smoothing 1", [&] { L::cross_entropy(logits, labels, {.label_smoothing = 1.0f}); },
       {"[cross_entropy]", "label_smoothing", "[0, 1)"}},
      {"ce label_smoothing < 0",
       [&] { L::cross_entropy(logits, labels, {.label_smoothing = -0.1f}); },
       {"[cross_entropy]", "label_smoothing"}},
      {"ce weights", [&] { L::cross_entropy(logits, labels, {.weights = zeros({3})}); },
       {"[cross_entropy]", "weights of shape (3,)", "loss of shape (4,)"}},
      {"bce shapes", [&] { L::binary_cross_entropy(v23, v32); },
       {"[binary_cross_entropy]", "inputs of shape (2,3)", "targets of shape (3,2)"}},
      {"bce weights", [&] { L::binary_cross_entropy(v23, v23, {.weights = v2}); },
       {"[binary_cross_entropy]", "weights of shape (2,)", "(2,3)"}},
      {"nll targets rank", [&] { L::nll_loss(logits, zeros({4, 10}, int32)); },
       {"[nll_loss]", "(4,10)", "(4,)"}},
      {"nll float targets", [&] { L::nll_loss(logits, zeros({4})); }, {"[nll_loss]", "integers"}},
      {"nll axis", [&] { L::nll_loss(logits, labels, 3); }, {"[nll_loss]", "axis 3"}},
      {"kl_div shapes", [&] { L::kl_div_loss(v23, v32); }, {"[kl_div_loss]", "(2,3)", "(3,2)"}},
      {"kl_div axis", [&] { L::kl_div_loss(v23, v23, -3); }, {"[kl_div_loss]", "axis -3"}},
      {"l1 shapes", [&] { L::l1_loss(v23, v2); },
       {"[l1_loss]", "predictions of shape (2,3) do not match targets of shape (2,)"}},
      {"mse shapes", [&] { L::mse_loss(v23, v32); }, {"[mse_loss]", "(2,3)", "(3,2)"}},
      {"smooth_l1 shapes", [&] { L::smooth_l1_loss(v23, v32); }, {"[smooth_l1_loss]", "(3,2)"}},
      {"smooth_l1 beta", [&] { L::smooth_l1_loss(v23, v23, -1.0f); }, {"[smooth_l1_loss]", "beta"}},
      {"huber shapes", [&] { L::huber_loss(v23, v32); }, {"[huber_loss]", "(2,3)", "(3,2)"}},
      {"huber delta", [&] { L::huber_loss(v23, v23, 0.0f); }, {"[huber_loss]", "delta"}},
      {"log_cosh shapes", [&] { L::log_cosh_loss(v23, v32); }, {"[log_cosh_loss]", "(3,2)"}},
      {"hinge shapes", [&] { L::hinge_loss(v23, v2); }, {"[hinge_loss]", "(2,)"}},
      {"gaussian targets", [&] { L::gaussian_nll_loss(v23, v32, v23); },
       {"[gaussian_nll_loss]", "targets of shape (3,2)"}},
      {"gaussian vars", [&] { L::gaussian_nll_loss(v23, v23, v2); },
       {"[gaussian_nll_loss]", "vars of shape (2,)"}},
      {"cosine shapes", [&] { L::cosine_similarity_loss(v23, v32); },
       {"[cosine_similarity_loss]", "x1 of shape (2,3) does not match x2 of shape (3,2)"}},
      {"cosine default axis 1 of a vector", [&] { L::cosine_similarity_loss(v2, v2); },
       {"[cosine_similarity_loss]", "axis 1", "dimension 1"}},
      {"triplet shapes", [&] { L::triplet_loss(v23, v23, v32); },
       {"[triplet_loss]", "negatives of shape (3,2)", "anchors of shape (2,3)"}},
      {"triplet p", [&] { L::triplet_loss(v23, v23, v23, {.p = 0}); },
       {"[triplet_loss]", "p must"}},
      {"triplet axis", [&] { L::triplet_loss(v23, v23, v23, {.axis = 2}); },
       {"[triplet_loss]", "axis 2"}},
      {"margin_ranking inputs", [&] { L::margin_ranking_loss(v23, v32, v23); },
       {"[margin_ranking_loss]", "inputs1 of shape (2,3)", "inputs2 of shape (3,2)"}},
      {"margin_ranking targets", [&] { L::margin_ranking_loss(v23, v23, v2); },
       {"[margin_ranking_loss]", "targets of shape (2,)"}},
      {"reduction name", [&] { L::reduction_from_name("avg"); }, {"[losses]", "'avg'", "'mean'"}},
  };
  for (auto& b : table) EXPECT_TRUE(throws_with<std::invalid_argument>(b.fn, b.parts)) << b.what;
}

}  // namespace
