// compile (transforms/compile.hpp): the same values as the function, one trace per kind of input,
// the simplification and fusion passes counted in kernels, composition with the other
// transforms, captured state for a training step, shapeless traces and the errors.
#include <gtest/gtest.h>

#include <atomic>
#include <string>

#include "tessera/gpu.hpp"
#include "tessera/nn.hpp"
#include "tessera/optim.hpp"
#include "tessera/tessera.hpp"
#include "test_util.hpp"

namespace mx = tessera;
using mx::array;
using mx::test::close_values;
using mx::test::DefaultDeviceGuard;

namespace {

// Kernels run by evaluating `a` on device `d`: CPU nodes or GPU dispatches.
uint64_t kernels_to_eval(const array& a, mx::Device d) {
  const uint64_t cpu = mx::cpu_node_count(), gpu = mx::gpu::dispatch_count();
  mx::eval(a);
  return d.type == mx::Device::gpu ? mx::gpu::dispatch_count() - gpu : mx::cpu_node_count() - cpu;
}

// Ten elementwise ops with a broadcast bias and intermediates used twice (so eager evaluation
// keeps them as nodes of their own).
std::vector<array> ten_ops(const std::vector<array>& in) {
  const array& x = in[0];
  const array& b = in[1];
  array h = x * 2.0f + b;                    // broadcast (64, 32) + (32,)
  array t = mx::tanh(h);
  array u = t * h - mx::exp(-mx::abs(h));
  array v = mx::sigmoid(u) + t;
  return {mx::maximum(v, 0.1f) / (mx::square(u) + 1.0f)};
}

struct CountingFn {
  std::shared_ptr<std::atomic<int>> calls = std::make_shared<std::atomic<int>>(0);
  std::vector<array> operator()(const std::vector<array>& in) const {
    ++*calls;
    return ten_ops(in);
  }
};

}  // namespace

TEST(Compile, SameValuesAsTheFunctionOnEveryDevice) {
  for (auto d : mx::test::available_devices()) {
    DefaultDeviceGuard guard(d);
    array x = mx::test::random_array({64, 32}, 1, mx::float32, -2, 2);
    array b = mx::test::random_array({32}, 2);
    auto f = mx::compile(ten_ops);
    EXPECT_TRUE(close_values(f({x, b})[0], mx::test::values(ten_ops({x, b})[0]), 1e-5, 1e-6));
  }
}

TEST(Compile, TracesOncePerShapeAndDtype) {
  CountingFn fn;
  auto f = mx::compile(mx::CompiledFunction(fn));
  array x = mx::test::random_array({8, 4}, 3);
  array b = mx::test::random_array({4}, 4);
  for (int i = 0; i < 3; ++i) mx::eval(f({x, b}));
  EXPECT_EQ(*fn.calls, 1);
  mx::eval(f({mx::test::random_array({8, 4}, 5), b}));  // new values, same kind: no trace
  EXPECT_EQ(*fn.calls, 1);
  mx::eval(f({mx::test::random_array({2, 4}, 5), b}));  // a new shape
  EXPECT_EQ(*fn.calls, 2);
  mx::eval(f({mx::astype(x, mx::float64), mx::astype(b, mx::float64)}));  // new dtypes
  EXPECT_EQ(*fn.calls, 3);
  mx::eval(f({x, b}));
  EXPECT_EQ(*fn.calls, 3);
}

TEST(Compile, FusesTheChainIntoOneKernelWithItsBroadcast) {
  for (auto d : mx::test::available_devices()) {
    DefaultDeviceGuard guard(d);
    array x = mx::test::random_array({64, 32}, 6);
    array b = mx::test::random_array({32}, 7);
    mx::eval(x, b);
    const uint64_t eager = kernels_to_eval(ten_ops({x, b})[0], d);
    auto f = mx::compile(ten_ops);
    mx::eval(f({x, b}));  // the trace
    array y = f({x, b})[0];
    EXPECT_EQ(kernels_to_eval(y, d), 1u) << "eager: " << eager;
    EXPECT_GT(eager, 1u);
    // Without fusion the chain keeps its nodes; the values do not change.
    mx::set_compile_mode(mx::CompileMode::no_fuse);
    auto g = mx::compile(ten_ops);
    array z = g({x, b})[0];
    EXPECT_GT(kernels_to_eval(z, d), 1u);
    mx::enable_compile();
    EXPECT_TRUE(close_values(y, mx::test::values(z), 1e-6, 1e-6));
  }
}

TEST(Compile, MergesCommonSubexpressionsAndFoldsConstants) {
  DefaultDeviceGuard guard(mx::Device(mx::Device::cpu));
  // exp(x) twice (two nodes), the same reshape of each (equal once the exps are one), and a
  // constant computed from captured arrays.
  array c = mx::ones({16}) * 3.0f;
  auto fn = [c](const std::vector<array>& in) {
    array a = mx::exp(in[0]);
    array b = mx::exp(in[0]);
    array k = mx::sqrt(c) + 1.0f;  // no input: computed once, at trace time
    array m = mx::matmul(mx::reshape(a, {4, 4}), mx::reshape(b, {4, 4}));
    return std::vector<array>{mx::reshape(m, {16}) * k};
  };
  array x = mx::test::random_array({16}, 8);
  const uint64_t eager = kernels_to_eval(fn({x})[0], mx::Device(mx::Device::cpu));
  auto f = mx::compile(mx::CompiledFunction(fn));
  mx::eval(f({x}));
  // One exp, one reshape of it, the matmul, its reshape and the product with k.
  array y = f({x})[0];
  EXPECT_EQ(kernels_to_eval(y, mx::Device(mx::Device::cpu)), 5u) << "eager: " << eager;
  EXPECT_TRUE(close_values(y, mx::test::values(fn({x})[0]), 1e-5));
  // Without simplification: both exps and both reshapes, but still no sqrt(c) + 1.
  mx::set_compile_mode(mx::CompileMode::no_simplify);
  auto g = mx::compile(mx::CompiledFunction(fn));
  array z = g({x})[0];
  EXPECT_EQ(kernels_to_eval(z, mx::Device(mx::Device::cpu)), 7u);
  EXPECT_GE(eager, 8u);  // the same and sqrt(c) + 1 (and c itself, lazy until here)
  mx::enable_compile();
  EXPECT_TRUE(close_values(z, mx::test::values(y), 1e-6));
}

TEST(Compile, OutputsThatAreInputsOrConstants) {
  auto f = mx::compile([](const std::vector<array>& in) {
    return std::vector<array>{in[0], mx::full({2}, 5.0f), in[1] + in[0], in[0]};
  });
  array a = array({1.0f, 2.0f}), b = array({10.0f, 20.0f});
  auto out = f({a, b});
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].id(), a.id());
  EXPECT_TRUE(close_values(out[1], {5, 5}));
  EXPECT_TRUE(close_values(out[2], {11, 22}));
  EXPECT_EQ(out[3].id(), a.id());
}

TEST(Compile, ComposesWithGradAndVmap) {
  for (auto d : mx::test::available_devices()) {
    DefaultDeviceGuard guard(d);
    auto loss_v = [](const std::vector<array>& in) {
      return std::vector<array>{mx::sum(ten_ops(in)[0])};
    };
    std::function<array(const std::vector<array>&)> loss = [loss_v](const std::vector<array>& in) {
      return loss_v(in)[0];
    };
    array x = mx::test::random_array({64, 32}, 9);
    array b = mx::test::random_array({32}, 10);
    auto ref = mx::grad(loss, {0, 1})({x, b});
    // grad of compile
    auto compiled = mx::compile(mx::CompiledFunction(loss_v));
    auto g1 = mx::grad([compiled](const std::vector<array>& in) { return compiled(in)[0]; }, {0, 1})({x, b});
    // compile of grad
    auto g2 = mx::compile(mx::CompiledFunction(
        [loss](const std::vector<array>& in) { return mx::grad(loss, {0, 1})(in); }))({x, b});
    for (int i = 0; i < 2; ++i) {
      EXPECT_TRUE(close_values(g1[i], mx::test::values(ref[i]), 1e-4, 1e-5));
      EXPECT_TRUE(close_values(g2[i], mx::test::values(ref[i]), 1e-4, 1e-5));
    }
    // vmap of compile and compile of vmap, over the rows of x (b shared).
    auto row = [](const std::vector<array>& in) { return ten_ops(in); };
    auto v_ref = mx::vmap(row, {0, -1})({x, b})[0];
    auto v1 = mx::vmap(mx::compile(mx::CompiledFunction(row)), {0, -1})({x, b})[0];
    auto v2 = mx::compile(mx::vmap(row, {0, -1}))({x, b})[0];
    EXPECT_TRUE(close_values(v1, mx::test::values(v_ref), 1e-5, 1e-6));
    EXPECT_TRUE(close_values(v2, mx::test::values(v_ref), 1e-5, 1e-6));
    // The fused node itself differentiates (second order through the compiled graph).
    auto f = mx::compile([](const array& v) { return mx::sum(mx::sin(v) * v); });
    auto gg = mx::grad([&](const array& v) { return mx::sum(mx::grad(f)(v)); });
    array v = mx::test::random_array({5}, 11);
    std::vector<double> expect;
    for (double e : mx::test::values(v)) expect.push_back(2 * std::cos(e) - e * std::sin(e));
    EXPECT_TRUE(close_values(gg(v), expect, 1e-5, 1e-5));
  }
}

TEST(Compile, DisabledCallsTheFunction) {
  CountingFn fn;
  auto f = mx::compile(mx::CompiledFunction(fn));
  array x = mx::test::random_array({4, 4}, 12), b = mx::test::random_array({4}, 13);
  mx::disable_compile();
  mx::eval(f({x, b}));
  mx::eval(f({x, b}));
  EXPECT_EQ(mx::compile_mode(), mx::CompileMode::disabled);
  mx::enable_compile();
  EXPECT_EQ(*fn.calls, 2);
  mx::eval(f({x, b}));
  mx::eval(f({x, b}));
  EXPECT_EQ(*fn.calls, 3);
}

TEST(Compile, ReadingAValueWhileTracedIsAnError) {
  auto f = mx::compile([](const array& x) { return x * (mx::sum(x).item<float>() > 0 ? 1.0f : -1.0f); });
  try {
    f(array({1.0f, 2.0f}));
    FAIL() << "no error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("[compile]"), std::string::npos) << e.what();
  }
  EXPECT_THROW(mx::compile(mx::CompiledFunction()), std::invalid_argument);
  EXPECT_THROW(mx::compile(mx::CompiledFunction(ten_ops), mx::CompileState{}), std::invalid_argument);
}

TEST(Compile, ShapelessTracesOncePerRank) {
  CountingFn fn;
  auto f = mx::compile(mx::CompiledFunction([fn](const std::vector<array>& in) {
                         auto y = fn(in)[0];
                         return std::vector<array>{y, mx::sum(y, -1), mx::sum(y, 0, true)};
                       }),
                       true);
  for (int rows : {3, 7, 1}) {
    array x = mx::test::random_array({rows, 5}, 14 + rows), b = mx::test::random_array({5}, 15);
    auto out = f({x, b});
    auto ref = ten_ops({x, b})[0];
    EXPECT_EQ(out[0].shape(), (mx::Shape{rows, 5}));
    EXPECT_EQ(out[1].shape(), (mx::Shape{rows}));
    EXPECT_EQ(out[2].shape(), (mx::Shape{1, 5}));
    EXPECT_TRUE(close_values(out[0], mx::test::values(ref), 1e-5, 1e-6));
    EXPECT_TRUE(close_values(out[1], mx::test::values(mx::sum(ref, -1)), 1e-5, 1e-5));
  }
  EXPECT_EQ(*fn.calls, 1);
  // A reshape to fixed dimensions cannot follow new shapes: refused when traced.
  auto g = mx::compile([](const array& x) { return mx::reshape(x, {6}); }, true);
  EXPECT_THROW(g(mx::zeros({2, 3})), std::invalid_argument);
}

TEST(Compile, DeepGraphs) {
  // A chain of 200,000 ops: traced, recorded, fused and replayed without recursion.
  auto f = mx::compile([](const array& x) {
    array y = x;
    for (int i = 0; i < 200000; ++i) y = y + 1.0f;
    return y;
  });
  EXPECT_TRUE(close_values(f(array({0.0f, 1.0f})), {200000, 200001}));
  EXPECT_TRUE(close_values(f(array({2.0f, 3.0f})), {200002, 200003}));
}

// A training step: the model's parameters and the optimizer's state are captured, so the
// compiled step reads and writes them like the eager one.
TEST(Compile, TrainingStepWithCapturedState) {
  for (auto d : mx::test::available_devices()) {
    DefaultDeviceGuard guard(d);
    auto make_model = [] {
      mx::random::seed(3);
      return mx::nn::Sequential(mx::nn::Linear(6, 16), mx::nn::ReLU(), mx::nn::Linear(16, 3));
    };
    array x = mx::test::random_array({32, 6}, 20);
    array y = mx::test::random_array({32, 3}, 21);
    auto run = [&](bool compiled, auto make_optimizer) {
      auto model = make_model();
      auto opt = make_optimizer();
      auto loss_and_grad = mx::nn::value_and_grad(model, [&](const array& a, const array& b) {
        return mx::nn::losses::mse_loss(model(a), b);
      });
      auto step = [&](const std::vector<array>& in) {
        auto [loss, grads] = loss_and_grad(in[0], in[1]);
        opt.update(model, grads);
        return std::vector<array>{loss};
      };
      mx::CompiledFunction f = compiled ? mx::compile(mx::CompiledFunction(step), mx::optim::compile_state(model, opt))
                                        : mx::CompiledFunction(step);
      std::vector<double> losses;
      for (int i = 0; i < 4; ++i) {
        array l = f({x, y})[0];
        std::vector<array> all = mx::tree::leaves(model.parameters());
        for (auto& a : mx::tree::leaves(opt.state())) all.push_back(a);
        all.push_back(l);
        mx::eval(all);
        losses.push_back(l.item<double>());
      }
      losses.push_back(opt.step().template item<double>());
      return losses;
    };
    auto sgd = [] { return mx::optim::SGD(0.1f, 0.9f); };
    auto adam = [] { return mx::optim::Adam(0.01f, {0.9f, 0.999f}, 1e-8f, true); };
    auto eager_sgd = run(false, sgd), compiled_sgd = run(true, sgd);
    auto eager_adam = run(false, adam), compiled_adam = run(true, adam);
    EXPECT_TRUE(close_values(compiled_sgd, eager_sgd, 1e-5, 1e-6));
    EXPECT_TRUE(close_values(compiled_adam, eager_adam, 1e-5, 1e-6));
    EXPECT_EQ(eager_adam.back(), 4);
    EXPECT_LT(eager_adam[3], eager_adam[0]);
  }
}
