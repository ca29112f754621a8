// The scheduler: orders a graph into a tape (iteratively: graphs may have millions of nodes),
// runs CPU nodes on the caller thread (eval) or on the stream's worker thread (async_eval),
// records GPU nodes into the stream's Vulkan command batches, and wires completion events so
// that work crossing devices waits for its inputs.
#include "tessera/transforms/eval.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "backend/gpu.hpp"
#include "core/graph_lock.hpp"
#include "tessera/core/event.hpp"
#include "tessera/core/primitive.hpp"

namespace tessera {
namespace {

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

// Waits until an input scheduled elsewhere (another node, thread or device) is computed; its
// kernel's exception, if any, is rethrown here.
void wait_ready(const array& a) {
  if (a.status() == array::Status::scheduled) a.event()->wait();
}

// Runs one CPU node: waits for inputs computed elsewhere, computes, signals, and lets go of
// the graph above the outputs so intermediate buffers can be freed.
std::atomic<uint64_t> cpu_nodes{0};

void run_cpu_node(std::vector<array> outputs) {
  cpu_nodes.fetch_add(1, std::memory_order_relaxed);
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

// Records one GPU node on its stream. Inputs from the CPU or another GPU stream must be
// finished first; an input of the same stream need only be recorded (possibly by another
// thread), since the stream's batches run in recording order. Returns the ticket of the batch
// it was recorded in (a failed node may have recorded part of its work: that batch's too).
uint64_t record_gpu_node(const Stream& stream, std::vector<array>& outs) {
  auto event = outs[0].event();
  uint64_t ticket = 0;
  try {
    for (auto& in : outs[0].inputs()) {
      if (in.status() != array::Status::scheduled) continue;
      if (in.event()->gpu_stream == stream.index) {
        in.event()->wait_recorded();
      } else {
        in.event()->wait();
      }
    }
    auto inputs = outs[0].inputs();
    gpu::eval(inputs, outs);
    ticket = gpu::recorded_ticket(stream);
    event->set_recorded(&gpu::queue(stream), ticket);
  } catch (...) {
    event->signal(std::current_exception());
    try {
      ticket = gpu::recorded_ticket(stream);
    } catch (...) {
    }
  }
  for (auto& o : outs) o.detach();
  return ticket;
}

// Post-order of the unscheduled nodes reachable from `outputs`; each multi-output primitive
// appears once (by its first output). Called with the graph lock held.
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

// Waits for a scheduled array and marks it and its siblings available.
void wait_available(const array& a) {
  if (a.status() != array::Status::scheduled) return;
  a.event()->wait();
  std::lock_guard<std::mutex> lock(graph_mutex());
  for (auto& o : a.outputs()) o.set_status(array::Status::available);
}

// Deadlock freedom across threads rests on one order: a node only ever waits for nodes
// scheduled before it. Each eval schedules its whole tape at once under the graph lock, runs
// it in tape order, and (async) enqueues its CPU nodes in that same critical section, so
// every worker queue is in scheduling order too. The earliest unfinished node can then
// always run.
void evaluate(std::vector<array> outputs, bool async) {
  std::vector<array> tape;
  std::vector<Stream> streams;  // of each tape node: once a node runs, its primitive is gone
  {
    std::lock_guard<std::mutex> lock(graph_mutex());
    tape = build_tape(outputs);
    streams.reserve(tape.size());
    for (auto& node : tape) {
      const Stream& st = streams.emplace_back(node.primitive().stream());
      auto event = std::make_shared<Event>(st.device.type == Device::gpu ? st.index : -1);
      for (auto& o : node.outputs()) {
        o.set_event(event);
        o.set_status(array::Status::scheduled);
      }
    }
    if (async) {
      for (size_t i = 0; i < tape.size(); ++i) {
        if (streams[i].device.type == Device::cpu) {
          worker(streams[i].index).enqueue([outs = tape[i].outputs()] { run_cpu_node(outs); });
        }
      }
    }
  }

  // The GPU streams this call recorded on, with the last ticket recorded on each: submitted
  // together at the end (a thread that needs a node sooner submits its batch through the
  // node's event).
  std::vector<std::pair<Stream, uint64_t>> recorded;
  for (size_t i = 0; i < tape.size(); ++i) {
    // Each node is let go of when its iteration ends: the tape must not keep every
    // intermediate buffer of a long chain alive until the end.
    array node = std::move(tape[i]);
    const Stream& stream = streams[i];
    if (stream.device.type == Device::cpu) {
      if (!async) run_cpu_node(node.outputs());
      continue;  // (async: already on the worker, which may have run it)
    }
    auto outs = node.outputs();
    const uint64_t ticket = record_gpu_node(stream, outs);
    auto it = std::find_if(recorded.begin(), recorded.end(), [&](auto& r) { return r.first == stream; });
    if (it == recorded.end()) it = recorded.insert(recorded.end(), {stream, 0});
    it->second = std::max(it->second, ticket);
  }
  tape.clear();
  for (auto& [stream, ticket] : recorded) gpu::queue(stream).flush(ticket);
  if (async) return;
  try {
    for (auto& out : outputs) wait_available(out);
  } catch (...) {
    // A failed eval returns only once the GPU work it recorded has finished, as a successful
    // one does: no work of it is left running behind the caller's back (or at exit).
    for (auto& [stream, ticket] : recorded) {
      try {
        gpu::queue(stream).wait(ticket);
      } catch (...) {
      }
    }
    throw;
  }
}

}  // namespace

void eval(std::vector<array> outputs) { evaluate(std::move(outputs), false); }
void async_eval(std::vector<array> outputs) { evaluate(std::move(outputs), true); }

void array::eval() {
  // build_tape decides, under the graph lock, whether there is anything to schedule.
  if (status() == Status::unscheduled) {
    tessera::eval({*this});
    return;
  }
  wait_available(*this);
}

void array::wait() { eval(); }

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

uint64_t cpu_node_count() { return cpu_nodes.load(std::memory_order_relaxed); }

}  // namespace tessera
