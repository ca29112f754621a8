#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#ifdef __linux__
#include <dirent.h>
#include <execinfo.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "tessera/gpu.hpp"

namespace tessera::test {
// Writes every thread's stack to stderr: what a hang reports (the stress test's watchdog, or
// SIGQUIT, e.g. from `timeout -s QUIT`, which then ends the process).
void dump_all_stacks();
}  // namespace tessera::test

#ifdef __linux__
namespace {
// Frames are written as module(+offset): `addr2line -f -C -e <module> <offset>` names them.
void write_own_stack(int) {
  void* frames[64];
  const int n = backtrace(frames, 64);
  char head[48];
  const int len = std::snprintf(head, sizeof head, "[hang] stack of thread %ld:\n", static_cast<long>(syscall(SYS_gettid)));
  if (write(2, head, static_cast<size_t>(len)) < 0) return;
  backtrace_symbols_fd(frames, n, 2);
}
void dump_and_quit(int) {
  tessera::test::dump_all_stacks();
  _exit(3);
}
}  // namespace

void tessera::test::dump_all_stacks() {
  signal(SIGUSR2, write_own_stack);
  write_own_stack(0);
  const long self = syscall(SYS_gettid);
  if (DIR* dir = opendir("/proc/self/task")) {
    while (dirent* e = readdir(dir)) {
      const long tid = std::atol(e->d_name);
      if (tid <= 0 || tid == self) continue;
      syscall(SYS_tgkill, static_cast<long>(getpid()), tid, SIGUSR2);
      usleep(100000);  // one stack at a time
    }
    closedir(dir);
  }
}
#else
namespace tessera::test { void dump_all_stacks() {} }
#endif

namespace {
// Any message from the Khronos validation layer fails the run: checked after every test, so
// the failure names the test that caused it.
class ValidationListener : public ::testing::EmptyTestEventListener {
  void OnTestStart(const ::testing::TestInfo&) override { before_ = count(); }
  void OnTestEnd(const ::testing::TestInfo& info) override {
    uint64_t after = count();
    if (after != before_) {
      failures_ += after - before_;
      std::fprintf(stderr, "[validation] %s.%s produced %llu Vulkan validation message(s)\n",
                   info.test_suite_name(), info.name(),
                   static_cast<unsigned long long>(after - before_));
    }
  }

 public:
  static uint64_t count() { return tessera::gpu::is_available() ? tessera::gpu::validation_messages() : 0; }
  uint64_t failures_ = 0;
  uint64_t before_ = 0;
};
}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
#ifdef __linux__
  void* warm[1];
  backtrace(warm, 1);  // loads the unwinder now, not first inside a signal handler
  signal(SIGQUIT, dump_and_quit);
#endif
  auto* listener = new ValidationListener();
  ::testing::UnitTest::GetInstance()->listeners().Append(listener);
  int rc = RUN_ALL_TESTS();
  if (listener->failures_ > 0) {
    std::fprintf(stderr, "FAILED: %llu Vulkan validation message(s) during the run\n",
                 static_cast<unsigned long long>(listener->failures_));
    return 1;
  }
  return rc;
}
