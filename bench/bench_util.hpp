#pragma once
// What the benchmark files share: devices, skipping without a GPU, and rate counters.
#include <benchmark/benchmark.h>

#include <tessera/tessera.hpp>

namespace mx = tessera;

namespace tessera::bench {

struct Workload {
  const char* unit;  // "GFLOP/s" or "GB/s"
  double amount;     // flops or bytes per call
};

inline mx::Device device_of(int64_t gpu) { return gpu ? mx::Device(mx::Device::gpu) : mx::Device(mx::Device::cpu); }

inline bool skip_if_absent(benchmark::State& state, int64_t gpu) {
  if (gpu && !mx::is_available(mx::Device(mx::Device::gpu))) {
    state.SkipWithError("no GPU device");
    return true;
  }
  return false;
}

inline void set_rate(benchmark::State& state, const Workload& w) {
  state.counters[w.unit] = benchmark::Counter(w.amount * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace tessera::bench
