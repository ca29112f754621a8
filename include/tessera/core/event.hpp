#pragma once
// Completion of a scheduled node: signalled by the CPU thread that ran it, or by the GPU
// submission that contains it. An exception thrown by a kernel travels through the event to
// whoever waits on it (eval, item, data), on any thread.
//
// A GPU node passes through three states: scheduled (not yet recorded: its outputs have no
// buffers), recorded (in its stream's command batch), and submitted (waiting means waiting
// for that submission). Another thread that needs the node may find it in any of them: it
// waits for the recording, submits the batch itself if nobody has yet, and waits for the GPU.
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <utility>

namespace tessera {

class Event {
 public:
  using DeviceWait = std::function<void()>;
  using DevicePoll = std::function<bool()>;
  // Submits the stream's recorded work; returns how to wait for it and how to poll it.
  using Submit = std::function<std::pair<DeviceWait, DevicePoll>()>;

  explicit Event(int gpu_stream = -1) : gpu_stream(gpu_stream) {}

  // The GPU stream whose command batch computes the node, or -1 for a CPU node.
  const int gpu_stream;

  void signal(std::exception_ptr error = nullptr) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (done_) return;
      done_ = true;
      error_ = error;
    }
    cv_.notify_all();
  }
  // GPU nodes: recorded into a batch that `submit` sends to the device.
  void set_recorded(Submit submit) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      submit_ = std::move(submit);
    }
    cv_.notify_all();
  }
  // GPU nodes: once their batch is submitted, waiting means waiting for that submission.
  void set_device_wait(DeviceWait wait, DevicePoll poll) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      device_wait_ = std::move(wait);
      device_poll_ = std::move(poll);
    }
    cv_.notify_all();
  }
  // Returns once the node is recorded (its outputs have their buffers) or finished, rethrowing
  // its error if it failed. Work on the same GPU stream may then be recorded behind it
  // without waiting for the device.
  void wait_recorded() {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [&] { return done_ || submit_ || device_wait_; });
    if (done_ && error_) std::rethrow_exception(error_);
  }
  void wait() {
    DeviceWait device_wait;
    Submit submit;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [&] { return done_ || submit_ || device_wait_; });
      if (!done_) {
        device_wait = device_wait_;
        if (!device_wait) submit = submit_;
      }
    }
    if (submit || device_wait) {
      try {
        if (!device_wait) {
          // Recorded but not submitted by the thread that recorded it (yet): submit it here.
          auto [w, p] = submit();
          set_device_wait(w, p);
          device_wait = std::move(w);
        }
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
    DevicePoll poll;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (done_) return true;
      poll = device_poll_;
    }
    return poll && poll();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  std::exception_ptr error_;
  Submit submit_;
  DeviceWait device_wait_;
  DevicePoll device_poll_;
};

}  // namespace tessera
