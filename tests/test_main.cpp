#include <gtest/gtest.h>

#include "tessera/gpu.hpp"

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
