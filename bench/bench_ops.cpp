// Benchmarks of the op set (issue: indexing, sorting, scans, convolution), one per workload of
// ../shared/bench/cpu_peers.py under the same name: ops/<workload>/<0 cpu | 1 gpu>, with the
// byte or flop counts that script uses, so the JSON lines sit beside the peers' rows.
#include "bench_util.hpp"

namespace {

using namespace tessera::bench;

// take_16M: 16M float32 gathered at 16M random int32 indices (cpu_peers.py's x16[idx16]).
void BM_take_16M(benchmark::State& state) {
  if (skip_if_absent(state, state.range(0))) return;
  mx::StreamOrDevice s = device_of(state.range(0));
  const int n = 1 << 24;
  mx::array x = mx::random::normal({n}, mx::float32, 0.0f, 1.0f, std::nullopt, s);
  mx::array idx = mx::astype(mx::floor(mx::random::uniform(0.0f, float(n), {n}, mx::float32, std::nullopt, s)),
                             mx::int32, s);
  mx::eval(x, idx);
  for (auto _ : state) {
    mx::array y = mx::take(x, idx, 0, s);
    mx::eval(y);
  }
  set_rate(state, {"GB/s", 12.0 * n});
}

// cumsum_16M: an inclusive cumsum of 16M float32 (one row).
void BM_cumsum_16M(benchmark::State& state) {
  if (skip_if_absent(state, state.range(0))) return;
  mx::StreamOrDevice s = device_of(state.range(0));
  const int n = 1 << 24;
  mx::array x = mx::random::normal({n}, mx::float32, 0.0f, 1.0f, std::nullopt, s);
  mx::eval(x);
  for (auto _ : state) {
    mx::array y = mx::cumsum(x, 0, false, true, s);
    mx::eval(y);
  }
  set_rate(state, {"GB/s", 8.0 * n});
}

// sort_1M: 1M float32 values sorted (one row).
void BM_sort_1M(benchmark::State& state) {
  if (skip_if_absent(state, state.range(0))) return;
  mx::StreamOrDevice s = device_of(state.range(0));
  mx::array x = mx::random::normal({1 << 20}, mx::float32, 0.0f, 1.0f, std::nullopt, s);
  mx::eval(x);
  for (auto _ : state) {
    mx::array y = mx::sort(x, 0, s);
    mx::eval(y);
  }
  set_rate(state, {"GB/s", 8.0 * (1 << 20)});
}

// argsort_4096x1024: indices sorting each of 4096 rows of 1024 float32.
void BM_argsort_4096x1024(benchmark::State& state) {
  if (skip_if_absent(state, state.range(0))) return;
  mx::StreamOrDevice s = device_of(state.range(0));
  mx::array x = mx::random::normal({4096, 1024}, mx::float32, 0.0f, 1.0f, std::nullopt, s);
  mx::eval(x);
  for (auto _ : state) {
    mx::array y = mx::argsort(x, -1, s);
    mx::eval(y);
  }
  set_rate(state, {"GB/s", 8.0 * 4096 * 1024});
}

// topk8_1024x32000: the 8 largest of each of 1024 rows of 32000 logits.
void BM_topk8_1024x32000(benchmark::State& state) {
  if (skip_if_absent(state, state.range(0))) return;
  mx::StreamOrDevice s = device_of(state.range(0));
  mx::array x = mx::random::normal({1024, 32000}, mx::float32, 0.0f, 1.0f, std::nullopt, s);
  mx::eval(x);
  for (auto _ : state) {
    mx::array y = mx::topk(x, 8, -1, s);
    mx::eval(y);
  }
  set_rate(state, {"GB/s", 4.0 * 1024 * 32000});
}

// conv2d_b32_28x28_32to64_3x3: NHWC (32, 28, 28, 32) with a (64, 3, 3, 32) weight, padding 1;
// flops 2 * N * C_out * H * W * C_in * 9, as cpu_peers.py counts them.
constexpr double kConvFlops = 2.0 * 32 * 64 * 28 * 28 * 32 * 9;

void BM_conv2d(benchmark::State& state) {
  if (skip_if_absent(state, state.range(0))) return;
  mx::StreamOrDevice s = device_of(state.range(0));
  mx::array x = mx::random::normal({32, 28, 28, 32}, mx::float32, 0.0f, 1.0f, std::nullopt, s);
  mx::array w = mx::random::normal({64, 3, 3, 32}, mx::float32, 0.0f, 0.06f, std::nullopt, s);
  mx::eval(x, w);
  for (auto _ : state) {
    mx::array y = mx::conv2d(x, w, {1, 1}, {1, 1}, {1, 1}, 1, s);
    mx::eval(y);
  }
  set_rate(state, {"GFLOP/s", kConvFlops});
}

// conv2d_..._bwd: the input and weight gradients for a given output gradient.
void BM_conv2d_bwd(benchmark::State& state) {
  if (skip_if_absent(state, state.range(0))) return;
  mx::StreamOrDevice s = device_of(state.range(0));
  mx::array x = mx::random::normal({32, 28, 28, 32}, mx::float32, 0.0f, 1.0f, std::nullopt, s);
  mx::array w = mx::random::normal({64, 3, 3, 32}, mx::float32, 0.0f, 0.06f, std::nullopt, s);
  mx::array dy = mx::random::normal({32, 28, 28, 64}, mx::float32, 0.0f, 1.0f, std::nullopt, s);
  mx::eval(x, w, dy);
  auto f = [&](const std::vector<mx::array>& a) {
    return std::vector<mx::array>{mx::conv2d(a[0], a[1], {1, 1}, {1, 1}, {1, 1}, 1, s)};
  };
  for (auto _ : state) {
    auto [y, g] = mx::vjp(f, {x, w}, {dy});
    mx::eval(g[0], g[1]);
  }
  set_rate(state, {"GFLOP/s", 2 * kConvFlops});
}

}  // namespace

BENCHMARK(BM_sort_1M)->Name("ops/sort_1M")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime()
    ->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_argsort_4096x1024)->Name("ops/argsort_4096x1024")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)
    ->UseRealTime()->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_topk8_1024x32000)->Name("ops/topk8_1024x32000")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)
    ->UseRealTime()->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_cumsum_16M)->Name("ops/cumsum_16M")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime()
    ->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_take_16M)->Name("ops/take_16M")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime()
    ->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_conv2d)->Name("ops/conv2d_b32_28x28_32to64_3x3")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)
    ->UseRealTime()->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_conv2d_bwd)->Name("ops/conv2d_b32_28x28_32to64_3x3_bwd")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)
    ->UseRealTime()->Repetitions(5)->ReportAggregatesOnly(true);
