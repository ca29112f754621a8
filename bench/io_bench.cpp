// Loading a 1 GiB safetensors file (and the same bytes as .npy): the memory-mapped load alone,
// then load + first use (a sum over every element, which faults every page in from the page
// cache; a cold read from disk is not measured: that needs dropping the machine's caches).
// NumPy's peer is bench/io_peers.py (np.load of the .npy, read into memory or memory-mapped).
// The file is written once per process into $TMPDIR (or /tmp) and removed at exit:
//   ./build/bench/tessera_bench --benchmark_filter='ops/(safetensors|npy)_'
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "bench_util.hpp"

namespace {

using namespace tessera::bench;
namespace fs = std::filesystem;

constexpr int64_t kElems = int64_t(1) << 28;  // 256 Mi float32 = 1 GiB
constexpr double kBytes = 4.0 * kElems;

// The two files, written on first use.
struct Files {
  fs::path dir, safetensors, npy;
  Files() {
    const char* t = std::getenv("TMPDIR");
    std::string tmpl = std::string(t && *t ? t : "/tmp") + "/tessera_io_bench_XXXXXX";
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("cannot create a temporary directory");
    dir = tmpl;
    safetensors = dir / "w.safetensors";
    npy = dir / "w.npy";
    mx::array w = mx::random::uniform(0.0f, 1.0f, {static_cast<int>(kElems)}, mx::float32, std::nullopt,
                                      mx::Device(mx::Device::cpu));
    mx::eval(w);
    mx::save_safetensors(safetensors, {{"w", w}});
    mx::save(npy, w);
  }
  ~Files() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};
const Files& files() {
  static Files f;
  return f;
}

mx::array load_w(bool safetensors) {
  if (safetensors) return mx::load_safetensors(files().safetensors).first.at("w");
  return mx::load(files().npy);
}

void BM_load_mmap(benchmark::State& state, bool safetensors) {
  files();
  for (auto _ : state) {
    mx::array w = load_w(safetensors);
    benchmark::DoNotOptimize(w.size());
  }
  set_rate(state, {"GB/s", kBytes});
}

void BM_load_first_use(benchmark::State& state, bool safetensors) {
  if (skip_if_absent(state, state.range(0))) return;
  mx::StreamOrDevice s = device_of(state.range(0));
  files();
  // Untimed once: the device's start and the kernel's build are not the load's cost.
  mx::eval(mx::sum(load_w(safetensors), false, s));
  for (auto _ : state) {
    mx::array w = load_w(safetensors);
    mx::array total = mx::sum(w, false, s);
    mx::eval(total);
  }
  set_rate(state, {"GB/s", kBytes});
}

}  // namespace

BENCHMARK_CAPTURE(BM_load_mmap, st, true)->Name("ops/safetensors_load_1GiB")->Arg(0)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_load_first_use, st, true)->Name("ops/safetensors_load_sum_1GiB")->Arg(0)->Arg(1)
    ->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_load_mmap, npy, false)->Name("ops/npy_load_1GiB")->Arg(0)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_load_first_use, npy, false)->Name("ops/npy_load_sum_1GiB")->Arg(0)->Arg(1)
    ->Unit(benchmark::kMillisecond)->UseRealTime();
