#include "tessera/backend/cpu/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace tessera::cpu {
namespace {

thread_local bool inside_parallel = false;

class Pool {
 public:
  static Pool& get() {
    static Pool* p = new Pool();  // leaked: worker threads must outlive static destruction
    return *p;
  }
  int size() const { return static_cast<int>(threads_.size()) + 1; }

  void run(int64_t chunks, const std::function<void(int64_t)>& chunk_body) {
    struct Job {
      std::atomic<int64_t> next{0};
      std::atomic<int64_t> done{0};
      int64_t total;
      const std::function<void(int64_t)>* body;
      std::mutex m;
      std::condition_variable cv;
      std::exception_ptr error;
    };
    auto job = std::make_shared<Job>();
    job->total = chunks;
    job->body = &chunk_body;
    auto work = [job] {
      inside_parallel = true;
      for (;;) {
        int64_t c = job->next.fetch_add(1);
        if (c >= job->total) break;
        try {
          (*job->body)(c);
        } catch (...) {
          std::lock_guard<std::mutex> l(job->m);
          if (!job->error) job->error = std::current_exception();
        }
        if (job->done.fetch_add(1) + 1 == job->total) {
          std::lock_guard<std::mutex> l(job->m);
          job->cv.notify_all();
        }
      }
      inside_parallel = false;
    };
    {
      std::lock_guard<std::mutex> l(mutex_);
      for (size_t i = 0; i < threads_.size() && static_cast<int64_t>(i) + 1 < chunks; ++i) {
        queue_.push_back(work);
      }
    }
    cv_.notify_all();
    work();
    std::unique_lock<std::mutex> l(job->m);
    job->cv.wait(l, [&] { return job->done.load() == job->total; });
    if (job->error) std::rethrow_exception(job->error);
  }

 private:
  Pool() {
    int n = static_cast<int>(std::thread::hardware_concurrency());
    if (const char* env = std::getenv("TESSERA_NUM_THREADS")) n = std::max(1, std::atoi(env));
    for (int i = 1; i < std::max(1, n); ++i) {
      threads_.emplace_back([this] {
        for (;;) {
          std::function<void()> task;
          {
            std::unique_lock<std::mutex> l(mutex_);
            cv_.wait(l, [&] { return !queue_.empty(); });
            task = std::move(queue_.front());
            queue_.pop_front();
          }
          task();
        }
      });
      threads_.back().detach();
    }
  }
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
};

}  // namespace

int num_threads() { return Pool::get().size(); }

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& body) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  int threads = num_threads();
  if (inside_parallel || threads == 1 || n <= grain) {
    body(0, n);
    return;
  }
  int64_t chunks = std::min<int64_t>((n + grain - 1) / grain, threads * 4);
  int64_t step = (n + chunks - 1) / chunks;
  chunks = (n + step - 1) / step;
  Pool::get().run(chunks, [&](int64_t c) { body(c * step, std::min(n, (c + 1) * step)); });
}

}  // namespace tessera::cpu
