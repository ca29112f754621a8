#pragma once
// Completion of a scheduled node: signalled by the CPU worker that ran it, or by the GPU
// submission that contains it. An exception thrown by a kernel travels through the event to
// whoever waits on it (eval, item, data).
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>

namespace tessera {

class Event {
 public:
  // The GPU stream whose command batch computes the node, or -1 for a CPU node. A GPU node's
  // work must be submitted before anyone can wait for it.
  int gpu_stream = -1;

  void signal(std::exception_ptr error = nullptr) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_ = true;
      error_ = error;
    }
    cv_.notify_all();
  }
  // GPU nodes: once their batch is submitted, waiting means waiting for that submission.
  void set_device_wait(std::function<void()> wait, std::function<bool()> poll) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      device_wait_ = std::move(wait);
      device_poll_ = std::move(poll);
    }
    cv_.notify_all();
  }
  void wait() {
    std::function<void()> device_wait;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [&] { return done_ || device_wait_; });
      if (!done_) device_wait = device_wait_;
    }
    if (device_wait) {
      try {
        device_wait();
        signal();
      } catch (...) {
        signal(std::current_exception());
      }
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (error_) std::rethrow_exception(error_);
  }
  // Finished (successfully or not), without blocking.
  bool is_signaled() {
    std::lock_guard<std::mutex> lock(mutex_);
    return done_ || (device_poll_ && device_poll_());
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  std::exception_ptr error_;
  std::function<void()> device_wait_;
  std::function<bool()> device_poll_;
};

}  // namespace tessera
