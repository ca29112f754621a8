// compile (transforms/compile.hpp) against eager Tessera, the bar of the transforms issue:
// compiling must not make anything slower, and fuses what eager evaluation cannot.
//   compile/gelu_tanh_16M/{device}/{mode}: the tanh-approximated GELU of 16M float32 written
//     step by step with named intermediates (as a port of PyTorch code reads), mode 0 eager
//     (one node per held intermediate), 1 compiled (one fused node), 2 nn::gelu_approx eager
//     (one expression: one node without compile);
//   compile/mlp_forward_b256/{device}/{mode}: the 784-512-512-10 ReLU MLP forward, eager or
//     compiled;
//   compile/mlp_train_step_b256/{device}/{mode}: nn/mlp_train_step_b256 (forward, backward and
//     SGD update), eager or compiled with the model and optimizer state captured.
// Each iteration evaluates its outputs.
//   ./build/bench/tessera_bench --benchmark_filter='compile/'
#include <tessera/gpu.hpp>
#include <tessera/nn.hpp>
#include <tessera/optim.hpp>

#include "bench_util.hpp"

namespace {

using namespace tessera::bench;
namespace nn = tessera::nn;
using mx::array;

array gelu_steps(const array& x) {
  array x3 = x * x * x;
  array inner = (x + 0.044715f * x3) * 0.7978845608f;
  array t = mx::tanh(inner);
  array half_x = 0.5f * x;
  return half_x * (1.0f + t);
}

void BM_gelu(benchmark::State& state) {
  if (skip_if_absent(state, state.range(0))) return;
  mx::StreamContext on(device_of(state.range(0)));
  const array x = mx::random::normal({1 << 24});
  mx::eval(x);
  std::function<array(const array&)> f = gelu_steps;
  if (state.range(1) == 1) f = mx::compile(f);
  if (state.range(1) == 2) f = [](const array& v) { return nn::gelu_approx(v); };
  mx::eval(f(x));
  const uint64_t before = mx::gpu::dispatch_count(), cpu_before = mx::cpu_node_count();
  for (auto _ : state) mx::eval(f(x));
  set_rate(state, {"GB/s", 2.0 * 4 * (1 << 24)});
  state.counters["kernels"] = static_cast<double>(mx::gpu::dispatch_count() - before +
                                                  mx::cpu_node_count() - cpu_before) / state.iterations();
}

nn::Sequential mlp() {
  mx::random::seed(0);
  return nn::Sequential(nn::Linear(784, 512), nn::ReLU(), nn::Linear(512, 512), nn::ReLU(),
                        nn::Linear(512, 10));
}

void BM_mlp_forward(benchmark::State& state) {
  if (skip_if_absent(state, state.range(0))) return;
  mx::StreamContext on(device_of(state.range(0)));
  auto model = mlp();
  const array x = mx::random::normal({256, 784});
  std::vector<array> ready = mx::tree::leaves(model.parameters());
  ready.push_back(x);
  mx::eval(ready);
  // The parameters as inputs, so the compiled forward sees their current values.
  auto forward = [&](const std::vector<array>& in) { return std::vector<array>{model(in[0])}; };
  mx::CompiledFunction f = forward;
  if (state.range(1)) f = mx::compile(f, mx::CompileState{[&] { return model.parameters(); },
                                                          [&](const mx::Tree& t) { model.update(t); }});
  mx::eval(f({x}));
  for (auto _ : state) mx::eval(f({x}));
  set_rate(state, {"GFLOP/s", 2.0 * 256 * (784.0 * 512 + 512.0 * 512 + 512.0 * 10)});
}

void BM_mlp_train_step(benchmark::State& state) {
  if (skip_if_absent(state, state.range(0))) return;
  mx::StreamContext on(device_of(state.range(0)));
  auto model = mlp();
  mx::optim::SGD opt(0.01f);
  const array x = mx::random::normal({256, 784});
  const array y = mx::random::randint(0, 10, {256}, mx::uint32);
  auto loss_and_grad = nn::value_and_grad(model, [&](const array& xb, const array& yb) {
    return nn::losses::cross_entropy(model(xb), yb, {.reduction = nn::losses::Reduction::Mean});
  });
  auto step = [&](const std::vector<array>& in) {
    auto [loss, grads] = loss_and_grad(in[0], in[1]);
    opt.update(model, grads);
    return std::vector<array>{loss};
  };
  mx::CompiledFunction f = step;
  if (state.range(1)) f = mx::compile(f, mx::optim::compile_state(model, opt));
  auto run = [&] {
    std::vector<array> out = f({x, y});
    for (auto& p : mx::tree::leaves(model.parameters())) out.push_back(p);
    mx::eval(out);
  };
  run();
  run();  // the second call traces again: the first created the optimizer's state
  const uint64_t before = mx::gpu::dispatch_count();
  for (auto _ : state) run();
  state.counters["kernels"] = static_cast<double>(mx::gpu::dispatch_count() - before) / state.iterations();
}

}  // namespace

BENCHMARK(BM_gelu)->Name("compile/gelu_tanh_16M")->ArgsProduct({{0, 1}, {0, 1, 2}})
    ->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_mlp_forward)->Name("compile/mlp_forward_b256")->ArgsProduct({{0, 1}, {0, 1}})
    ->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_mlp_train_step)->Name("compile/mlp_train_step_b256")->ArgsProduct({{0, 1}, {0, 1}})
    ->Unit(benchmark::kMillisecond)->UseRealTime();
