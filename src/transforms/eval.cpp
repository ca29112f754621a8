// The scheduler: orders a graph into a tape (iteratively: graphs may have millions of nodes),
// runs CPU nodes on the caller thread (eval) or on the stream's worker thread (async_eval),
// records GPU nodes into the stream's Vulkan command batches, and wires completion events so
// that work crossing devices waits for its inputs.
#include "tessera/transforms/eval.hpp"

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "backend/gpu.hpp"
#include "tessera/core/event.hpp"
#include "tessera/core/primitive.hpp"

namespace tessera {
namespace {

// Guards status transitions, so two threads never schedule the same node.
std::mutex& graph_mutex() {
  static std::mutex m;
  return m;
}

// One thread per CPU stream, running async work in submission order.
class CpuWorker {
 public:
  CpuWorker() : thread_([this] { run(); }) {}
  ~CpuWorker() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void enqueue(std::function<void()> task) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      tasks_.push_back(std::move(task));
    }
    cv_.notify_all();
  }
  void drain() {
    std::unique_lock<std::mutex> lock(mutex_);
    idle_cv_.wait(lock, [&] { return tasks_.empty() && !busy_; });
  }

 private:
  void run() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        cv_.wait(lock, [&] { return stop_ || !tasks_.empty(); });
        if (tasks_.empty()) return;
        task = std::move(tasks_.front());
        tasks_.pop_front();
        busy_ = true;
      }
      task();
      {
        std::lock_guard<std::mutex> lock(mutex_);
        busy_ = false;
      }
      idle_cv_.notify_all();
    }
  }
  std::mutex mutex_;
  std::condition_variable cv_, idle_cv_;
  std::deque<std::function<void()>> tasks_;
  bool stop_ = false, busy_ = false;
  std::thread thread_;
};

CpuWorker& worker(int stream_index) {
  static std::mutex m;
  static std::map<int, std::unique_ptr<CpuWorker>> workers;
  std::lock_guard<std::mutex> lock(m);
  auto& w = workers[stream_index];
  if (!w) w = std::make_unique<CpuWorker>();
  return *w;
}

void wait_ready(const array& a) {
  if (a.status() == array::Status::scheduled) a.event()->wait();
}

// Runs one CPU node: waits for inputs computed elsewhere, computes, signals, and lets go of
// the graph above the outputs so intermediate buffers can be freed.
void run_cpu_node(std::vector<array> outputs) {
  auto& prim = outputs[0].primitive();
  std::exception_ptr error;
  try {
    for (auto& in : outputs[0].inputs()) wait_ready(in);
    auto inputs = outputs[0].inputs();
    prim.eval_cpu(inputs, outputs);
  } catch (...) {
    error = std::current_exception();
  }
  auto event = outputs[0].event();
  for (auto& o : outputs) o.detach();
  event->signal(error);
}

// Post-order of the unscheduled nodes reachable from `outputs`; each multi-output primitive
// appears once (by its first output). Called with graph_mutex held.
std::vector<array> build_tape(const std::vector<array>& outputs) {
  std::vector<array> tape;
  std::unordered_set<std::uintptr_t> seen;
  struct Frame {
    array node;
    size_t next_input;
  };
  std::vector<Frame> stack;
  for (auto& out : outputs) {
    if (out.status() != array::Status::unscheduled || !out.has_primitive()) continue;
    if (!seen.insert(out.id()).second) continue;
    stack.push_back({out, 0});
    while (!stack.empty()) {
      auto& f = stack.back();
      auto& ins = f.node.inputs();
      if (f.next_input < ins.size()) {
        const array& in = ins[f.next_input++];
        if (in.status() == array::Status::unscheduled && in.has_primitive() &&
            seen.insert(in.id()).second) {
          stack.push_back({in, 0});
        }
        continue;
      }
      array node = std::move(f.node);
      stack.pop_back();
      for (auto& s : node.siblings()) seen.insert(s.id());
      tape.push_back(std::move(node));
    }
  }
  return tape;
}

void evaluate(std::vector<array> outputs, bool async) {
  std::vector<array> tape;
  {
    std::lock_guard<std::mutex> lock(graph_mutex());
    tape = build_tape(outputs);
    for (auto& node : tape) {
      auto event = std::make_shared<Event>();
      const Stream& st = node.primitive().stream();
      if (st.device.type == Device::gpu) event->gpu_stream = st.index;
      for (auto& o : node.outputs()) {
        o.set_event(event);
        o.set_status(array::Status::scheduled);
      }
    }
  }

  // GPU nodes recorded but not yet submitted, per stream; flushed before anything waits.
  std::unordered_map<int, std::vector<std::shared_ptr<Event>>> unsubmitted;
  std::unordered_map<int, Stream> gpu_streams;
  auto flush = [&](int stream_index) {
    auto it = unsubmitted.find(stream_index);
    if (it == unsubmitted.end() || it->second.empty()) return;
    auto [wait, poll] = gpu::submit(gpu_streams.at(stream_index));
    for (auto& e : it->second) e->set_device_wait(wait, poll);
    it->second.clear();
  };
  // Submits the GPU work that `in` waits on (if it is an unsubmitted GPU node).
  auto flush_producer = [&](const array& in) {
    if (in.status() == array::Status::scheduled && in.event()->gpu_stream >= 0) {
      flush(in.event()->gpu_stream);
    }
  };

  for (auto& node : tape) {
    Stream stream = node.primitive().stream();
    auto outs = node.outputs();
    if (stream.device.type == Device::cpu) {
      for (auto& in : node.inputs()) flush_producer(in);
      if (async) {
        worker(stream.index).enqueue([outs] { run_cpu_node(outs); });
      } else {
        run_cpu_node(outs);
      }
      continue;
    }
    auto event = outs[0].event();
    try {
      // Inputs from the CPU or another GPU stream must be finished before this work runs; the
      // stream's own earlier work is ordered by its command batches.
      for (auto& in : node.inputs()) {
        if (in.status() != array::Status::scheduled) continue;
        if (in.event()->gpu_stream == stream.index) {
          // Same stream: ordered by the batch. Only a producer that already failed is waited
          // on, to pass its error on.
          if (in.event()->is_signaled()) in.event()->wait();
          continue;
        }
        flush_producer(in);
        wait_ready(in);
      }
      auto inputs = node.inputs();
      gpu::eval(inputs, outs);
      gpu_streams.emplace(stream.index, stream);
      unsubmitted[stream.index].push_back(event);
    } catch (...) {
      event->signal(std::current_exception());
    }
    for (auto& o : outs) o.detach();
  }
  for (auto& [index, events] : unsubmitted) flush(index);

  if (!async) {
    for (auto& out : outputs) out.eval();
  }
}

}  // namespace

void eval(std::vector<array> outputs) { evaluate(std::move(outputs), false); }
void async_eval(std::vector<array> outputs) { evaluate(std::move(outputs), true); }

void array::eval() {
  if (status() == Status::unscheduled && has_primitive()) {
    tessera::eval({*this});
    return;
  }
  if (status() == Status::scheduled) {
    event()->wait();
    std::lock_guard<std::mutex> lock(graph_mutex());
    for (auto& o : outputs()) {
      o.set_status(Status::available);
    }
  }
}

bool array::is_available() const {
  if (status() == Status::available) return true;
  return status() == Status::scheduled && event()->is_signaled();
}

void synchronize(Stream s) {
  if (s.device.type == Device::gpu) {
    gpu::synchronize(s);
  } else {
    worker(s.index).drain();
  }
}
void synchronize() { synchronize(default_stream(default_device())); }

}  // namespace tessera
