// Tessera's benchmarks (Google Benchmark), on the CPU and, when Vulkan finds a device, the GPU.
// Besides Google Benchmark's table, every median is printed as a JSON line with the fields of
// ../shared/bench/cpu_peers.py (tag, system, workload, variant, unit, rate, median_ms), so one
// report can put Tessera beside the peers measured in the same run.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.hpp"
#if TESSERA_HAS_VULKAN
#include <tessera/backend/vulkan/runtime.hpp>
#endif

namespace {

using namespace tessera::bench;

void BM_gemm(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  if (skip_if_absent(state, state.range(1))) return;
  mx::StreamOrDevice s = device_of(state.range(1));
  mx::array a = mx::random::normal({n, n}, mx::float32, 0.0f, 1.0f, std::nullopt, s);
  mx::array b = mx::random::normal({n, n}, mx::float32, 0.0f, 1.0f, std::nullopt, s);
  mx::eval(a, b);
  for (auto _ : state) {
    mx::array c = mx::matmul(a, b, s);
    mx::eval(c);
  }
  set_rate(state, {"GFLOP/s", 2.0 * n * n * n});
}

mx::array chain_fused(const mx::array& x, mx::StreamOrDevice s) {
  return (mx::sin(x) * 2 + mx::exp(-x * x) * x).materialize(s);
}
// One node per op: every intermediate is kept in a variable, so no call folds into the next
// (a function result used only once would, see ops/elementwise.hpp).
mx::array chain_unfused(const mx::array& x, mx::StreamOrDevice s) {
  mx::array xx = mx::multiply(x, x, s);
  mx::array n = mx::negative(xx, s);
  mx::array e = mx::exp(n, s);
  mx::array sn = mx::sin(x, s);
  mx::array two = mx::multiply(sn, mx::array(2.0f), s);
  mx::array ex = mx::multiply(e, x, s);
  return mx::add(two, ex, s);
}

void BM_ew_chain(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const bool fused = state.range(2) != 0;
  if (skip_if_absent(state, state.range(1))) return;
  mx::StreamOrDevice s = device_of(state.range(1));
  mx::array x = mx::random::normal({n}, mx::float32, 0.0f, 1.0f, std::nullopt, s);
  mx::eval(x);
  for (auto _ : state) {
    mx::array y = fused ? chain_fused(x, s) : chain_unfused(x, s);
    mx::eval(y);
  }
  set_rate(state, {"GB/s", 8.0 * n});
}

void BM_sum_last(benchmark::State& state) {
  const int n = static_cast<int>(state.range(1));
  if (skip_if_absent(state, state.range(0))) return;
  mx::StreamOrDevice s = device_of(state.range(0));
  mx::array x = mx::random::normal({n, n}, mx::float32, 0.0f, 1.0f, std::nullopt, s);
  mx::eval(x);
  for (auto _ : state) {
    mx::array y = mx::sum(x, -1, false, s);
    mx::eval(y);
  }
  set_rate(state, {"GB/s", 4.0 * n * n + 4.0 * n});
}

// Cost of one small op inside a long batch: 1000 dependent adds on 1024 floats, one eval.
void BM_dispatch_overhead(benchmark::State& state) {
  if (skip_if_absent(state, state.range(0))) return;
  mx::StreamOrDevice s = device_of(state.range(0));
  mx::array x = mx::ones({1024});
  mx::eval(x);
  constexpr int kOps = 1000;
  for (auto _ : state) {
    mx::array y = x;
    for (int i = 0; i < kOps; ++i) y = mx::add(y, x, s);
    mx::eval(y);
  }
  state.counters["us_per_op"] = benchmark::Counter(
      1e6 / kOps, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

#if TESSERA_HAS_VULKAN
// The Vulkan runtime's own floor: 10,000 dispatches of a one-workgroup kernel straight on a
// vulkan::Stream, no graph. Arg 0: each dispatch reads what the previous one wrote (a barrier
// between every two); arg 1: a ring of 64 buffers, so consecutive dispatches are independent.
// `record_us` is the host's time to record one (batches are submitted as they fill).
void BM_runtime_dispatch(benchmark::State& state) {
  namespace tv = mx::vulkan;
  if (!tv::Device::available()) {
    state.SkipWithError("no Vulkan device");
    return;
  }
  tv::Device& dev = tv::Device::get();
  tv::Kernel& k = dev.kernel_from_glsl("bench_add_one", R"(#version 450
layout(local_size_x = 16) in;
layout(set = 0, binding = 0) buffer A { float a[]; };
layout(set = 0, binding = 1) readonly buffer Params { uint n; } params;
void main() {
  uint i = gl_GlobalInvocationID.x;
  if (i < params.n) a[i] += 1.0;
}
)", 1);
  const bool independent = state.range(0) == 1;
  std::vector<std::shared_ptr<tv::DeviceBuffer>> bufs;
  for (int i = 0; i < (independent ? 64 : 1); ++i) bufs.push_back(dev.alloc(64));
  tv::Stream stream(dev);
  const uint32_t n = 16;
  constexpr int kDispatches = 10000;
  double record_s = 0, total_s = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kDispatches; ++i) {
      tv::Binding b[] = {{bufs[i % bufs.size()].get()}};
      stream.dispatch(k, b, nullptr, 0, std::as_bytes(std::span(&n, 1)), 1);
    }
    record_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    stream.synchronize();
    total_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  const double count = kDispatches * static_cast<double>(state.iterations());
  state.counters["us_per_dispatch"] = total_s * 1e6 / count;
  state.counters["record_us"] = record_s * 1e6 / count;
}
#endif

#if TESSERA_HAS_VULKAN
// The allocator's cost per GPU node: one buffer allocated and released, served by the cache
// (every node of a graph allocates its outputs; the batch releases them when it retires).
void BM_vulkan_alloc_release(benchmark::State& state) {
  namespace tv = mx::vulkan;
  if (!tv::Device::available()) {
    state.SkipWithError("no Vulkan device");
    return;
  }
  tv::Device& dev = tv::Device::get();
  dev.alloc(64).reset();  // the 256-byte class is cached from here on
  for (auto _ : state) {
    auto b = dev.alloc(64);
    benchmark::DoNotOptimize(b.get());
  }
}
#endif

// Peak resident host memory while `body` runs, in MiB above the resident size before it:
// VmRSS sampled every millisecond by a second thread (Linux; 0 elsewhere).
double rss_mib() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[256];
  double kib = 0;
  while (std::fgets(line, sizeof line, f)) {
    if (std::sscanf(line, "VmRSS: %lf kB", &kib) == 1) break;
  }
  std::fclose(f);
  return kib / 1024.0;
}
template <typename F>
double peak_rss_growth_mib(F&& body) {
  const double before = rss_mib();
  std::atomic<bool> done{false};
  std::atomic<double> peak{before};
  std::thread sampler([&] {
    while (!done.load()) {
      const double now = rss_mib();
      if (now > peak.load()) peak.store(now);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  body();
  done.store(true);
  sampler.join();
  return std::max(0.0, std::max(peak.load(), rss_mib()) - before);
}

// Microseconds per node, as a counter printed as it is.
void set_per_node(benchmark::State& state, double seconds, int64_t nodes, double peak_mib) {
  state.counters["us_per_node"] = seconds * 1e6 / static_cast<double>(nodes);
  state.counters["peak_host_MiB"] = peak_mib;
}

// The per-node cost of building and evaluating a graph: a chain of `nodes` dependent adds on
// a 16-element array, built and evaluated once per iteration (one iteration: lavapipe is
// slow). Reports microseconds per node and the growth of resident host memory.
void BM_graph_chain(benchmark::State& state) {
  const int64_t nodes = state.range(1);
  if (skip_if_absent(state, state.range(0))) return;
  mx::StreamOrDevice s = device_of(state.range(0));
  mx::array one = mx::ones({16});
  mx::eval(one);
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    double build_s = 0;
    const double peak = peak_rss_growth_mib([&] {
      mx::array y = one;
      for (int64_t i = 0; i < nodes; ++i) y = mx::add(y, one, s);
      build_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      mx::eval(y);
    });
    set_per_node(state, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
                 nodes, peak);
    state.counters["build_us_per_node"] = build_s * 1e6 / static_cast<double>(nodes);
  }
}

// A wide graph: `leaves` evaluated scalars summed by a balanced tree of adds (leaves - 1
// nodes), one eval.
void BM_graph_tree_sum(benchmark::State& state) {
  const int64_t leaves = state.range(1);
  if (skip_if_absent(state, state.range(0))) return;
  mx::StreamOrDevice s = device_of(state.range(0));
  std::vector<mx::array> level;
  for (int64_t i = 0; i < leaves; ++i) level.push_back(mx::full({1}, 1.0f, s));
  mx::eval(level);
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    const double peak = peak_rss_growth_mib([&] {
      std::vector<mx::array> cur = level;
      while (cur.size() > 1) {
        std::vector<mx::array> next;
        for (size_t i = 0; i + 1 < cur.size(); i += 2) next.push_back(mx::add(cur[i], cur[i + 1], s));
        if (cur.size() % 2) next.push_back(cur.back());
        cur = std::move(next);
      }
      mx::eval(cur[0]);
    });
    set_per_node(state, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
                 leaves - 1, peak);
  }
}

// Prints each median as a JSON line too.
class JsonLinesReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    const char* tag = std::getenv("TESSERA_BENCH_TAG");
    for (const auto& r : runs) {
      const bool single = r.repetitions <= 1 && r.aggregate_name.empty();
      if ((r.aggregate_name != "median" && !single) || r.error_occurred) continue;
      auto [workload, variant] = describe(r);
      for (const auto& [unit, counter] : r.counters) {
        const bool per_op = unit == "us_per_op";
        const bool graph = unit == "us_per_node" || unit == "peak_host_MiB" || unit == "build_us_per_node" ||
                           unit == "us_per_dispatch" || unit == "record_us";
        if (unit != "GFLOP/s" && unit != "GB/s" && !per_op && !graph) continue;
        double ms = r.GetAdjustedRealTime();  // every benchmark here reports milliseconds
        std::fprintf(stderr,
                     "{\"tag\": \"%s\", \"system\": \"tessera\", \"workload\": \"%s\", "
                     "\"variant\": \"%s\", \"unit\": \"%s\", \"rate\": %.3f, \"median_ms\": %.4f}\n",
                     tag ? tag : "local", workload.c_str(), variant.c_str(), unit.c_str(),
                     per_op ? counter.value * 1e6 : counter.value, ms);
      }
    }
  }

 private:
  static std::pair<std::string, std::string> describe(const Run& r) {
    std::string f = r.run_name.function_name;
    if (f.rfind("Big/", 0) == 0) f = f.substr(4);
    // bench_ops.cpp names its benchmarks ops/<workload of cpu_peers.py>/<gpu>.
    if (f.rfind("ops/", 0) == 0) return {f.substr(4), r.run_name.args == "1" ? "vulkan" : "cpu"};
    // nn_bench.cpp: nn/<workload>/<gpu>.
    if (f.rfind("nn/", 0) == 0) return {f.substr(3), r.run_name.args == "1" ? "vulkan" : "cpu"};
    const std::string& args = r.run_name.args;
    auto arg = [&](int i) {
      size_t pos = 0;
      for (int k = 0; k < i; ++k) pos = args.find('/', pos) + 1;
      return std::stol(args.substr(pos, args.find('/', pos) - pos));
    };
    if (f == "BM_gemm") {
      return {"gemm_" + std::to_string(arg(0)), arg(1) ? "vulkan" : "cpu"};
    }
    if (f == "BM_ew_chain") {
      std::string size = std::to_string(arg(0) >> 20) + "M";
      return {"ew_chain_" + size, std::string(arg(1) ? "vulkan" : "cpu") + (arg(2) ? " fused" : " unfused")};
    }
    if (f == "BM_dispatch_overhead") return {"dispatch_overhead_1024x1000", arg(0) ? "vulkan" : "cpu"};
    if (f == "BM_graph_chain") return {"graph_chain_" + std::to_string(arg(1)), arg(0) ? "vulkan" : "cpu"};
    if (f == "BM_vulkan_alloc_release") return {"vulkan_alloc_release_256B", "cached"};
    if (f == "BM_runtime_dispatch") return {"runtime_dispatch_10000", arg(0) ? "independent" : "dependent"};
    if (f == "BM_graph_tree_sum") {
      return {"graph_tree_sum_" + std::to_string(arg(1)), arg(0) ? "vulkan" : "cpu"};
    }
    const std::string n = std::to_string(arg(1));
    return {"sum_" + n + "x" + n + "_last", arg(0) ? "vulkan" : "cpu"};
  }
};

}  // namespace

BENCHMARK(BM_gemm)->ArgsProduct({{256, 1024, 2048}, {0, 1}})->Unit(benchmark::kMillisecond)
    ->UseRealTime()->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_ew_chain)->ArgsProduct({{1 << 20, 1 << 24}, {0, 1}, {1, 0}})
    ->Unit(benchmark::kMillisecond)->UseRealTime()->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_sum_last)->ArgsProduct({{0, 1}, {4096}})->Unit(benchmark::kMillisecond)->UseRealTime()
    ->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_dispatch_overhead)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime()
    ->Repetitions(5)->ReportAggregatesOnly(true);
// Graph overhead: a 1M-node chain and a 100k-leaf sum, once each (they are long on lavapipe).
BENCHMARK(BM_graph_chain)->ArgsProduct({{0, 1}, {100000, 1000000}})->Unit(benchmark::kMillisecond)
    ->UseRealTime()->Iterations(1)->Repetitions(1);
#if TESSERA_HAS_VULKAN
BENCHMARK(BM_runtime_dispatch)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime()
    ->Repetitions(3)->ReportAggregatesOnly(true);
BENCHMARK(BM_vulkan_alloc_release)->Repetitions(3)->ReportAggregatesOnly(true);
#endif
BENCHMARK(BM_graph_tree_sum)->ArgsProduct({{0, 1}, {100000}})->Unit(benchmark::kMillisecond)
    ->UseRealTime()->Iterations(1)->Repetitions(1);
// The sizes of PERFORMANCE.md's GPU table (run them on a real GPU: --benchmark_filter=Big).
BENCHMARK(BM_gemm)->Name("Big/BM_gemm")->Args({4096, 1})->Unit(benchmark::kMillisecond)
    ->UseRealTime()->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_ew_chain)->Name("Big/BM_ew_chain")->Args({1 << 28, 1, 1})->Args({1 << 28, 1, 0})
    ->Unit(benchmark::kMillisecond)->UseRealTime()->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_sum_last)->Name("Big/BM_sum_last")->Args({1, 8192})->Unit(benchmark::kMillisecond)
    ->UseRealTime()->Repetitions(5)->ReportAggregatesOnly(true);

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  JsonLinesReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
