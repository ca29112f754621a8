// Threads sharing graphs: several threads build and evaluate graphs over shared lazy and
// evaluated arrays, with eval and async_eval mixed, kernels failing in the middle and the
// memory limit hit, on each device. Every result is checked against values computed on the
// host; a failure must be the library's exception, never a wrong number or a hang. Bounded:
// small arrays, a fixed number of rounds, seeded choices. CI also runs this file under
// ThreadSanitizer (see .ci/run), which must report nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "test_util.hpp"
#include "tessera/core/memory.hpp"
#include "tessera/ops/creation.hpp"
#include "tessera/ops/reduce.hpp"
#include "tessera/transforms/eval.hpp"

namespace tessera::test {
// Writes every thread's stack to stderr (test_main.cpp; Linux only): what a hang reports.
// SIGQUIT (`timeout -s QUIT`) does the same, then ends the process.
void dump_all_stacks();
}  // namespace tessera::test

namespace {

using namespace tessera;
using tessera::test::for_each_device;

constexpr int kN = 256;  // elements of the shared arrays

// Rounds of the lazy-sharing case: 100 (the reliability bar), fewer where each round is slow
// (TESSERA_STRESS_ROUNDS, set by CI's ThreadSanitizer run).
int sharing_rounds() {
  const char* env = std::getenv("TESSERA_STRESS_ROUNDS");
  return env ? std::max(1, std::atoi(env)) : 100;
}

// Where each thread of the sharing case is (printed if the watchdog fires).
std::atomic<const char*> g_phase[16];
std::atomic<int> g_round{-1}, g_device{-1};  // the sharing case's round and device type
void phase(int t, const char* where) { g_phase[t].store(where); }

// Seconds a run_threads call may take before the test reports a hang and aborts
// (TESSERA_STRESS_DEADLINE; a healthy round takes milliseconds, even under TSan seconds).
int deadline_seconds() {
  const char* env = std::getenv("TESSERA_STRESS_DEADLINE");
  return env ? std::max(1, std::atoi(env)) : 120;
}

// Runs `body(thread_index)` on `threads` threads at once; counts the exceptions they let out.
// A hang is reported, with each unfinished thread's last phase, instead of blocking CI.
template <typename F>
int run_threads(int threads, F body) {
  std::atomic<int> escaped{0};
  std::mutex m;
  std::condition_variable cv;
  int finished = 0;
  std::vector<char> done(threads, 0);
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    phase(t, "started");
    ts.emplace_back([t, &body, &escaped, &m, &cv, &finished, &done] {
      try {
        body(t);
      } catch (const std::exception& e) {
        ADD_FAILURE() << "thread " << t << ": " << e.what();
        ++escaped;
      }
      std::lock_guard<std::mutex> lock(m);
      ++finished;
      done[t] = 1;
      cv.notify_all();
    });
  }
  {
    std::unique_lock<std::mutex> lock(m);
    if (!cv.wait_for(lock, std::chrono::seconds(deadline_seconds()), [&] { return finished == threads; })) {
      std::string where;
      for (int t = 0; t < threads; ++t)
        if (!done[t]) where += " thread " + std::to_string(t) + ": " + g_phase[t].load() + ";";
      std::fprintf(stderr, "[stress] hang (device type %d, round %d): %d of %d threads unfinished after %d s:%s\n",
                   g_device.load(), g_round.load(), threads - finished, threads, deadline_seconds(), where.c_str());
      std::fflush(stderr);
      tessera::test::dump_all_stacks();
      std::abort();
    }
  }
  for (auto& th : ts) th.join();
  return escaped.load();
}

// x[i] = i * 0.5 + 1 (lazy on purpose: the threads race to schedule it).
array shared_lazy_x() { return array(arange(0.0, static_cast<double>(kN), 1.0, float32) * 0.5f + 1.0f); }
double x_at(int i) { return i * 0.5 + 1.0; }

// One thread's work in the sharing case: a graph of its own over the shared `x`, `z` (lazy)
// and `w` (evaluated), evaluated one of four ways. Returns the number of wrong results.
int shared_work(int t, int round, const array& x, const array& z, const array& w) {
  std::mt19937 gen(1000u * round + t);
  const float k = static_cast<float>(t + 1);
  array y = x * k + w;                    // y[i] = x[i] * k + 2
  array s = sum(y * z);                   // z[i] = x[i] + 1
  array m = max(y, 0);
  int wrong = 0;
  const unsigned how = gen() % 4;
  phase(t, how == 0 ? "eval(s, m)" : how == 1 ? "async_eval(s, m)" : how == 2 ? "async_eval(s); eval(m)" : "built");
  switch (how) {
    case 0: eval(s, m); break;
    case 1: async_eval(s, m); break;
    case 2: async_eval(s); eval(m); break;
    default: break;  // item() below evaluates
  }
  double want_s = 0, want_m = -1e30;
  for (int i = 0; i < kN; ++i) {
    const double yi = x_at(i) * k + 2.0;
    want_s += yi * (x_at(i) + 1.0);
    want_m = std::max(want_m, yi);
  }
  phase(t, "s.item()");
  const double got_s = s.item<float>();
  phase(t, "m.item()");
  const double got_m = m.item<float>();
  phase(t, "checking");
  if (std::abs(got_s - want_s) > 1e-4 * std::abs(want_s)) {
    ADD_FAILURE() << "thread " << t << " round " << round << ": sum " << got_s << " != " << want_s;
    ++wrong;
  }
  if (got_m != static_cast<float>(want_m)) {
    ADD_FAILURE() << "thread " << t << " round " << round << ": max " << got_m << " != " << want_m;
    ++wrong;
  }
  // The shared lazy arrays read back whole, by any thread, are right too.
  if (t % 3 == 0) {
    phase(t, "z.to_vector()");
    auto zv = array(z).to_vector<float>();
    for (int i = 0; i < kN; i += 37) {
      if (zv[i] != static_cast<float>(x_at(i) + 1.0)) {
        ADD_FAILURE() << "thread " << t << ": z[" << i << "] = " << zv[i];
        ++wrong;
        break;
      }
    }
  }
  phase(t, "done");
  return wrong;
}

// The lazy-sharing case of the reliability issue, 100 times per device: 8 threads evaluate
// graphs built on the same unevaluated arrays. It used to give wrong sums and stale buffers
// on the GPU and to deadlock on the CPU.
TEST(Stress, EightThreadsShareLazyArrays) {
  for_each_device([](Device d) {
    std::atomic<int> wrong{0};
    g_device = static_cast<int>(d.type);
    for (int round = 0, rounds = sharing_rounds(); round < rounds; ++round) {
      g_round = round;
      array x = shared_lazy_x();
      array z = x + 1.0f;
      array w = full({kN}, 2.0f);
      w.eval();
      int escaped = run_threads(8, [&](int t) { wrong += shared_work(t, round, x, z, w); });
      ASSERT_EQ(escaped, 0) << "round " << round;
      ASSERT_EQ(wrong.load(), 0) << "round " << round;
    }
  });
}

// Threads that share nothing but the streams, with async_eval chains of many nodes, so that
// CPU workers, GPU batches and auto-submits interleave between threads.
TEST(Stress, ThreadsInterleaveLongChains) {
  for_each_device([](Device) {
    std::atomic<int> wrong{0};
    int escaped = run_threads(6, [&](int t) {
      for (int round = 0; round < 10; ++round) {
        array y = arange(0.0, 64.0, 1.0, float32);
        for (int k = 0; k < 80; ++k) {
          y = y + 1.0f;
          if (k % 20 == 7) async_eval(y);
        }
        auto v = y.to_vector<float>();
        for (int i = 0; i < 64; ++i) {
          if (v[i] != static_cast<float>(i + 80)) {
            ++wrong;
            break;
          }
        }
      }
    });
    EXPECT_EQ(escaped, 0);
    EXPECT_EQ(wrong.load(), 0);
  });
}

// Kernels failing in the middle of shared graphs: the memory limit is set so that one large
// node cannot be allocated. The threads that need it get the allocator's std::runtime_error
// (from eval, item or a later read); the others, sharing the same small arrays, get correct
// values. Afterwards the limit is restored and everything works again.
TEST(Stress, ErrorsInTheMiddleAndTheMemoryLimit) {
  for_each_device([](Device d) {
    array x = shared_lazy_x();
    array w = full({kN}, 2.0f);
    w.eval();
    synchronize();
    clear_cache();  // a cached block would be handed out without asking the limit
    const size_t limit = get_active_memory() + (32u << 20);
    const size_t previous = set_memory_limit(limit);
    std::atomic<int> wrong{0}, errors{0};
    int escaped = run_threads(6, [&](int t) {
      for (int round = 0; round < 6; ++round) {
        const bool big = (t + round) % 3 == 0;
        // 64 MiB of float32: over the limit, so its node fails, and so does all that uses it.
        array huge = zeros({big ? (1 << 24) : 16}, float32) + 1.0f;
        array s = sum(x * w) + sum(huge) * 0.0f;
        try {
          if (round % 2) async_eval(s);
          const double got = s.item<float>();
          double want = 0;
          for (int i = 0; i < kN; ++i) want += x_at(i) * 2.0;
          if (big || std::abs(got - want) > 1e-4 * want) ++wrong;
        } catch (const std::runtime_error& e) {
          const std::string msg = e.what();
          if (!big || (msg.find("[malloc]") == std::string::npos &&
                       msg.find("memory limit") == std::string::npos)) {
            ADD_FAILURE() << "unexpected error: " << msg;
            ++wrong;
          }
          ++errors;
        }
      }
    });
    EXPECT_EQ(set_memory_limit(previous), limit);
    EXPECT_EQ(escaped, 0);
    EXPECT_EQ(wrong.load(), 0) << tessera::test::device_name(d);
    EXPECT_EQ(errors.load(), 12) << "every big graph fails, no small one does";
    // The shared arrays and the library work after the failures.
    array s = sum(x * w);
    EXPECT_NEAR(s.item<float>(), (kN * (kN - 1) / 2 * 0.5 + kN) * 2.0, 1e-2);
  });
}

}  // namespace
