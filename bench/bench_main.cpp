// Tessera's benchmarks (Google Benchmark), on the CPU and, when Vulkan finds a device, the GPU.
// Besides Google Benchmark's table, every median is printed as a JSON line with the fields of
// ../shared/bench/cpu_peers.py (tag, system, workload, variant, unit, rate, median_ms), so one
// report can put Tessera beside the peers measured in the same run.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include <tessera/tessera.hpp>

namespace mx = tessera;

namespace {

struct Workload {
  const char* unit;  // "GFLOP/s" or "GB/s"
  double amount;     // flops or bytes per call
};

mx::Device device_of(int64_t gpu) { return gpu ? mx::Device(mx::Device::gpu) : mx::Device(mx::Device::cpu); }

bool skip_if_absent(benchmark::State& state, int64_t gpu) {
  if (gpu && !mx::is_available(mx::Device(mx::Device::gpu))) {
    state.SkipWithError("no GPU device");
    return true;
  }
  return false;
}

void set_rate(benchmark::State& state, const Workload& w) {
  state.counters[w.unit] = benchmark::Counter(w.amount * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_gemm(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  if (skip_if_absent(state, state.range(1))) return;
  mx::StreamOrDevice s = device_of(state.range(1));
  mx::array a = mx::random::normal({n, n});
  mx::array b = mx::random::normal({n, n});
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
mx::array chain_unfused(const mx::array& x, mx::StreamOrDevice s) {
  mx::array xx = mx::multiply(x, x, s);
  mx::array e = mx::exp(mx::negative(xx, s), s);
  return mx::add(mx::multiply(mx::sin(x, s), mx::array(2.0f), s), mx::multiply(e, x, s), s);
}

void BM_ew_chain(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const bool fused = state.range(2) != 0;
  if (skip_if_absent(state, state.range(1))) return;
  mx::StreamOrDevice s = device_of(state.range(1));
  mx::array x = mx::random::normal({n});
  mx::eval(x);
  for (auto _ : state) {
    mx::array y = fused ? chain_fused(x, s) : chain_unfused(x, s);
    mx::eval(y);
  }
  set_rate(state, {"GB/s", 8.0 * n});
}

void BM_sum_last(benchmark::State& state) {
  if (skip_if_absent(state, state.range(0))) return;
  mx::StreamOrDevice s = device_of(state.range(0));
  mx::array x = mx::random::normal({4096, 4096});
  mx::eval(x);
  for (auto _ : state) {
    mx::array y = mx::sum(x, -1, false, s);
    mx::eval(y);
  }
  set_rate(state, {"GB/s", 4.0 * 4096 * 4096 + 4.0 * 4096});
}

// Prints each median as a JSON line too.
class JsonLinesReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    const char* tag = std::getenv("TESSERA_BENCH_TAG");
    for (const auto& r : runs) {
      if (r.aggregate_name != "median" || r.error_occurred) continue;
      std::string name = r.run_name.function_name + "/" + r.run_name.args;
      auto [workload, variant] = describe(r);
      for (const auto& [unit, counter] : r.counters) {
        if (unit != "GFLOP/s" && unit != "GB/s") continue;
        double ms = r.GetAdjustedRealTime();  // every benchmark here reports milliseconds
        std::fprintf(stderr,
                     "{\"tag\": \"%s\", \"system\": \"tessera\", \"workload\": \"%s\", "
                     "\"variant\": \"%s\", \"unit\": \"%s\", \"rate\": %.3f, \"median_ms\": %.4f}\n",
                     tag ? tag : "local", workload.c_str(), variant.c_str(), unit.c_str(),
                     counter.value, ms);
      }
    }
  }

 private:
  static std::pair<std::string, std::string> describe(const Run& r) {
    const std::string& f = r.run_name.function_name;
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
      std::string size = arg(0) == (1 << 20) ? "1M" : "16M";
      return {"ew_chain_" + size, std::string(arg(1) ? "vulkan" : "cpu") + (arg(2) ? " fused" : " unfused")};
    }
    return {"sum_4096x4096_last", arg(0) ? "vulkan" : "cpu"};
  }
};

}  // namespace

BENCHMARK(BM_gemm)->ArgsProduct({{256, 1024, 2048}, {0, 1}})->Unit(benchmark::kMillisecond)
    ->UseRealTime()->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_ew_chain)->ArgsProduct({{1 << 20, 1 << 24}, {0, 1}, {1, 0}})
    ->Unit(benchmark::kMillisecond)->UseRealTime()->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_sum_last)->ArgsProduct({{0, 1}})->Unit(benchmark::kMillisecond)->UseRealTime()
    ->Repetitions(5)->ReportAggregatesOnly(true);

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  JsonLinesReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
