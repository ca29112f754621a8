#pragma once
// Completion of a scheduled node: signalled by the CPU thread that ran it, or by the GPU
// submission that contains it. An exception thrown by a kernel travels through the event to
// whoever waits on it (eval, item, data), on any thread.
//
// A GPU node passes through two states before it is done: scheduled (not yet recorded: its
// outputs have no buffers) and recorded (in a command batch of its stream, known by ticket).
// Another thread that needs the node may find it in either: it waits for the recording, then
// for the batch, submitting it itself if the recording thread has not yet.
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <utility>

namespace tessera {

// Where a recorded GPU node's work goes: its stream's queue of command batches, numbered by
// tickets in recording order. The GPU backend implements it; a batch's ticket is known while it
// is being recorded, so an event needs no callback of its own.
class DeviceQueue {
 public:
  // Submits the batches up to `ticket` that are still being recorded.
  virtual void flush(uint64_t ticket) = 0;
  // Blocks until the batch `ticket` (and every earlier one) has finished; flushes it first.
  virtual void wait(uint64_t ticket) = 0;
  // Whether that batch has finished, without blocking.
  virtual bool done(uint64_t ticket) = 0;

 protected:
  ~DeviceQueue() = default;
};

class Event {
 public:
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
  // GPU nodes: recorded into the batch `ticket` of `queue`.
  void set_recorded(DeviceQueue* queue, uint64_t ticket) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queue_ = queue;
      ticket_ = ticket;
    }
    cv_.notify_all();
  }
  // Returns once the node is recorded (its outputs have their buffers) or finished, rethrowing
  // its error if it failed. Work on the same GPU stream may then be recorded behind it
  // without waiting for the device.
  void wait_recorded() {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [&] { return done_ || queue_; });
    if (done_ && error_) std::rethrow_exception(error_);
  }
  // Returns once the node has finished, rethrowing its error. A recorded GPU node's batch is
  // submitted here if the thread that recorded it has not submitted it yet.
  void wait() {
    DeviceQueue* queue = nullptr;
    uint64_t ticket = 0;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [&] { return done_ || queue_; });
      if (!done_) {
        queue = queue_;
        ticket = ticket_;
      }
    }
    if (queue) {
      try {
        queue->wait(ticket);
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
    DeviceQueue* queue;
    uint64_t ticket;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (done_) return true;
      queue = queue_;
      ticket = ticket_;
    }
    return queue && queue->done(ticket);
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  std::exception_ptr error_;
  DeviceQueue* queue_ = nullptr;
  uint64_t ticket_ = 0;
};

}  // namespace tessera
