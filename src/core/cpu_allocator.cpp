// The CPU caching allocator. Freed blocks are kept in size buckets and handed out again, so a
// training loop that makes the same temporaries every step stops calling the system allocator.
#include <cstddef>
#include <cstdlib>
#include <limits>
#include <map>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>

#include "core/cpu_allocator.hpp"
#include "tessera/core/memory.hpp"

namespace tessera {
namespace {

// Buckets: powers of two up to 1 MiB, then multiples of 1 MiB, so large buffers waste at most
// one MiB while small ones stay few in kind.
size_t bucket_size(size_t bytes) {
  if (bytes == 0) bytes = 1;
  constexpr size_t mib = 1 << 20;
  if (bytes >= mib) return (bytes + mib - 1) / mib * mib;
  size_t b = 64;
  while (b < bytes) b <<= 1;
  return b;
}

class CpuAllocator {
 public:
  static CpuAllocator& get() {
    // Leaked on purpose: buffers may be released after static destructors have run.
    static CpuAllocator* a = new CpuAllocator();
    return *a;
  }

  void* take(size_t bucket) {
    std::unique_lock<std::mutex> lock(mutex_);
    auto it = free_.find(bucket);
    if (it != free_.end()) {
      void* p = it->second;
      free_.erase(it);
      cache_ -= bucket;
      note_active(bucket);
      return p;
    }
    if (active_ + bucket > memory_limit_) release_cache_locked(cache_);
    if (active_ + bucket > memory_limit_) {
      throw std::runtime_error("[malloc] allocating " + std::to_string(bucket) +
                               " bytes would exceed the memory limit of " +
                               std::to_string(memory_limit_) + " bytes");
    }
    lock.unlock();
    void* p = std::aligned_alloc(64, bucket);
    if (!p) {
      lock.lock();
      release_cache_locked(cache_);
      lock.unlock();
      p = std::aligned_alloc(64, bucket);
      if (!p) throw std::runtime_error("[malloc] out of host memory allocating " +
                                       std::to_string(bucket) + " bytes");
    }
    lock.lock();
    note_active(bucket);
    return p;
  }

  void give_back(void* p, size_t bucket) {
    std::lock_guard<std::mutex> lock(mutex_);
    active_ -= bucket;
    if (cache_ + bucket > cache_limit_) {
      std::free(p);
      return;
    }
    free_.emplace(bucket, p);
    cache_ += bucket;
  }

  size_t active() { std::lock_guard<std::mutex> l(mutex_); return active_; }
  size_t peak() { std::lock_guard<std::mutex> l(mutex_); return peak_; }
  void reset_peak() { std::lock_guard<std::mutex> l(mutex_); peak_ = active_; }
  size_t cache() { std::lock_guard<std::mutex> l(mutex_); return cache_; }
  size_t set_memory_limit(size_t v) {
    std::lock_guard<std::mutex> l(mutex_);
    size_t old = memory_limit_;
    memory_limit_ = v;
    return old;
  }
  size_t set_cache_limit(size_t v) {
    std::lock_guard<std::mutex> l(mutex_);
    size_t old = cache_limit_;
    cache_limit_ = v;
    if (cache_ > cache_limit_) release_cache_locked(cache_ - cache_limit_);
    return old;
  }
  void clear() {
    std::lock_guard<std::mutex> l(mutex_);
    release_cache_locked(cache_);
  }

 private:
  void note_active(size_t bucket) {
    active_ += bucket;
    if (active_ > peak_) peak_ = active_;
  }
  // Frees cached blocks, largest first, until `bytes` are released.
  void release_cache_locked(size_t bytes) {
    size_t released = 0;
    while (released < bytes && !free_.empty()) {
      auto it = std::prev(free_.end());
      std::free(it->second);
      released += it->first;
      cache_ -= it->first;
      free_.erase(it);
    }
  }

  std::mutex mutex_;
  std::multimap<size_t, void*> free_;
  size_t active_ = 0, peak_ = 0, cache_ = 0;
  size_t memory_limit_ = static_cast<size_t>(-1);
  size_t cache_limit_ = static_cast<size_t>(-1);
};

class CpuBuffer final : public Buffer {
 public:
  CpuBuffer(size_t bytes, size_t bucket)
      : Buffer(BufferKind::cpu, bytes), bucket_(bucket), ptr_(CpuAllocator::get().take(bucket)) {}
  ~CpuBuffer() override { CpuAllocator::get().give_back(ptr_, bucket_); }
  void* host_ptr() override { return ptr_; }

 private:
  size_t bucket_;
  void* ptr_;
};

}  // namespace

namespace cpu {
BufferPtr malloc(size_t bytes) {
  // An impossible size fails as a failed allocation does: std::runtime_error("[malloc] ..."), as
  // MLX's allocators ("[malloc] Unable to allocate N bytes."), rather than std::bad_alloc or
  // std::length_error, so callers see one exception type, with the size, for "no memory".
  // Past PTRDIFF_MAX no object can exist, and bucket_size's rounding up would wrap to a small
  // block that the caller then writes past.
  if (bytes > static_cast<size_t>(std::numeric_limits<std::ptrdiff_t>::max())) {
    throw std::runtime_error("[malloc] cannot allocate " + std::to_string(bytes) + " bytes");
  }
  return std::make_shared<CpuBuffer>(bytes, bucket_size(bytes));
}
size_t active_memory() { return CpuAllocator::get().active(); }
size_t peak_memory() { return CpuAllocator::get().peak(); }
void reset_peak_memory() { CpuAllocator::get().reset_peak(); }
size_t cache_memory() { return CpuAllocator::get().cache(); }
size_t set_memory_limit(size_t v) { return CpuAllocator::get().set_memory_limit(v); }
size_t set_cache_limit(size_t v) { return CpuAllocator::get().set_cache_limit(v); }
void clear_cache() { CpuAllocator::get().clear(); }
}  // namespace cpu

}  // namespace tessera
