// nn and optim workloads of ../shared/PERFORMANCE.md, the same as the peers run them:
//   nn/mlp_train_step_b256: a 784-512-512-10 ReLU MLP, cross-entropy, SGD (lr 0.01):
//     forward + backward + update of a batch of 256 (cpu_peers.py: PyTorch nn + SGD, NumPy
//     hand-written backprop);
//   nn/transformer_layer_s256_d512: one TransformerEncoderLayer in eval mode (post-norm, ReLU,
//     8 heads, ffn 2048, as torch.nn.TransformerEncoderLayer's defaults), batch 1, sequence 256;
//   nn/mlp_train_step_784-4096-4096-10_b1024: the GPU training step of gpu_torch_peers.py
//     (SGD lr 1e-3; the rate counts the matmul flops only, as the peer does).
// Each /0 on the CPU, /1 on the GPU; a step is evaluated (parameters and loss) before the next.
//   ./build/bench/tessera_bench --benchmark_filter='nn/'
#include <tessera/gpu.hpp>
#include <tessera/nn.hpp>
#include <tessera/optim.hpp>

#include "bench_util.hpp"

namespace {

using namespace tessera::bench;
namespace nn = tessera::nn;

// The flops of one forward + backward of an MLP over `dims` (no input gradient), as the peers.
double mlp_flops(const std::vector<int>& dims, int batch) {
  double fwd = 0, first = static_cast<double>(dims[0]) * dims[1];
  for (size_t i = 0; i + 1 < dims.size(); ++i) fwd += static_cast<double>(dims[i]) * dims[i + 1];
  return 2.0 * batch * (3 * fwd - first);
}

void mlp_train_step(benchmark::State& state, const std::vector<int>& dims, int batch, float lr) {
  if (skip_if_absent(state, state.range(0))) return;
  mx::StreamContext on(device_of(state.range(0)));
  mx::random::seed(0);
  nn::Sequential model;
  for (size_t i = 0; i + 1 < dims.size(); ++i) {
    model.append(nn::Linear(dims[i], dims[i + 1]));
    if (i + 2 < dims.size()) model.append(nn::ReLU());
  }
  mx::optim::SGD opt(lr);
  const mx::array x = mx::random::normal({batch, dims[0]});
  const mx::array y = mx::random::randint(0, dims.back(), {batch}, mx::uint32);
  auto step = nn::value_and_grad(model, [&](const mx::array& xb, const mx::array& yb) {
    return nn::losses::cross_entropy(model(xb), yb, {.reduction = nn::losses::Reduction::Mean});
  });
  auto run = [&] {
    auto [loss, grads] = step(x, y);
    opt.update(model, grads);
    std::vector<mx::array> out{loss};
    for (auto& [k, p] : mx::tree::flatten_arrays(model.parameters())) out.push_back(p);
    mx::eval(out);
  };
  run();  // warm: kernels built, buffers in the cache
  const uint64_t before = mx::gpu::dispatch_count();
  for (auto _ : state) run();
  set_rate(state, {"GFLOP/s", mlp_flops(dims, batch)});
  // GPU kernels per step (what bounds the small steps): shown in the console's counters.
  state.counters["kernels"] = static_cast<double>(mx::gpu::dispatch_count() - before) / state.iterations();
}

void BM_mlp_train_step_b256(benchmark::State& state) { mlp_train_step(state, {784, 512, 512, 10}, 256, 0.01f); }
void BM_mlp_train_step_b1024(benchmark::State& state) {
  mlp_train_step(state, {784, 4096, 4096, 10}, 1024, 1e-3f);
}

void BM_transformer_layer(benchmark::State& state) {
  if (skip_if_absent(state, state.range(0))) return;
  mx::StreamContext on(device_of(state.range(0)));
  mx::random::seed(0);
  const int L = 256, D = 512, H = 8, F = 2048;
  nn::TransformerEncoderLayer layer(D, H, F, 0.0f, [](const mx::array& a) { return nn::relu(a); }, false);
  layer.eval();
  const mx::array x = mx::random::normal({1, L, D});
  auto run = [&] { mx::eval(layer(x, std::nullopt)); };
  run();
  const uint64_t before = mx::gpu::dispatch_count();
  for (auto _ : state) run();
  state.counters["kernels"] = static_cast<double>(mx::gpu::dispatch_count() - before) / state.iterations();
  // Projections and feed-forward (2 * L * (4 D^2 + 2 D F)) plus the two attention products.
  const double flops = 2.0 * L * (4.0 * D * D + 2.0 * D * F) + 2.0 * 2.0 * L * L * D;
  set_rate(state, {"GFLOP/s", flops});
}

}  // namespace

BENCHMARK(BM_mlp_train_step_b256)->Name("nn/mlp_train_step_b256")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_transformer_layer)->Name("nn/transformer_layer_s256_d512")->Arg(0)->Arg(1)
    ->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_mlp_train_step_b1024)->Name("nn/mlp_train_step_784-4096-4096-10_b1024")->Arg(1)
    ->Unit(benchmark::kMillisecond)->UseRealTime();
