// CPU kernels of Sort, ArgSort, Partition and ArgPartition. Every lane along the axis becomes
// unsigned keys whose integer order is MLX's order (floats: sign-magnitude flipped, NaN
// canonicalised above +inf, -0 equal to +0; signed integers: sign bit flipped), then
//   sort / argsort: a stable LSD radix sort of (key, index) pairs, one byte per pass, passes
//                   whose byte is the same in every key skipped (small lanes: insertion sort;
//                   a few long lanes: 11-bit passes, each split over the thread pool);
//   partitions:    std::nth_element on (key, index), so ties break by position, or, when one
//                   side of kth is at most 64 long (topk), a heap that selects that side.
// Values are gathered through the resulting permutation, so sort(x) is exactly
// take_along_axis(x, argsort(x)) and NaN payloads and the sign of zero survive.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "backend/cpu/copy.hpp"
#include "backend/cpu/strided.hpp"
#include "tessera/backend/cpu/parallel.hpp"
#include "tessera/core/memory.hpp"
#include "tessera/primitives/sort.hpp"

namespace tessera {
namespace {

// The order key of one element of dtype T: 32 bits for types up to 32 bits, 64 otherwise.
template <typename T>
using key_t = std::conditional_t<(sizeof(T) <= 4), uint32_t, uint64_t>;

// (Bit operations only: these run once per element of every sort.)
inline uint32_t float_key(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  const uint32_t mag = u & 0x7fffffffu;
  u = mag > 0x7f800000u ? 0x7fc00000u : (mag == 0 ? 0u : u);  // NaN canonical, -0 as +0
  const uint32_t neg = 0u - (u >> 31);                          // all ones when negative
  return u ^ (neg | 0x80000000u);
}
inline uint64_t double_key(double f) {
  uint64_t u;
  if (std::isnan(f)) f = std::numeric_limits<double>::quiet_NaN();
  if (f == 0.0) f = 0.0;
  std::memcpy(&u, &f, 8);
  return (u & 0x8000000000000000ull) ? ~u : (u | 0x8000000000000000ull);
}

template <typename T>
key_t<T> order_key(T v) {
  if constexpr (std::is_same_v<T, double>) return double_key(v);
  else if constexpr (std::is_same_v<T, bool>) return v ? 1u : 0u;
  else if constexpr (std::is_floating_point_v<T> || std::is_same_v<T, float16_t> || std::is_same_v<T, bfloat16_t>) {
    return float_key(static_cast<float>(v));
  } else if constexpr (std::is_signed_v<T>) {
    using U = key_t<T>;
    return static_cast<U>(static_cast<std::make_signed_t<U>>(v)) ^ (U{1} << (8 * sizeof(U) - 1));
  } else {
    return static_cast<key_t<T>>(v);
  }
}

// Stable sort of idx[0..n) by keys (keys permuted along). `tk`, `ti`: scratch of n.
template <typename K>
void radix_argsort(K* keys, uint32_t* idx, K* tk, uint32_t* ti, int64_t n) {
  if (n < 64) {
    for (int64_t i = 1; i < n; ++i) {  // insertion sort: stable, fast on short lanes
      const K k = keys[i];
      const uint32_t v = idx[i];
      int64_t j = i - 1;
      for (; j >= 0 && keys[j] > k; --j) {
        keys[j + 1] = keys[j];
        idx[j + 1] = idx[j];
      }
      keys[j + 1] = k;
      idx[j + 1] = v;
    }
    return;
  }
  int64_t count[256];
  for (int pass = 0; pass < static_cast<int>(sizeof(K)); ++pass) {
    const int shift = 8 * pass;
    std::fill(count, count + 256, 0);
    for (int64_t i = 0; i < n; ++i) ++count[(keys[i] >> shift) & 0xff];
    if (count[(keys[0] >> shift) & 0xff] == n) continue;  // this byte orders nothing
    int64_t sum = 0;
    for (auto& c : count) {
      const int64_t c0 = c;
      c = sum;
      sum += c0;
    }
    for (int64_t i = 0; i < n; ++i) {
      const int64_t pos = count[(keys[i] >> shift) & 0xff]++;
      tk[pos] = keys[i];
      ti[pos] = idx[i];
    }
    std::memcpy(keys, tk, n * sizeof(K));
    std::memcpy(idx, ti, n * sizeof(uint32_t));
  }
}

// A long lane of 32-bit keys: (key << 32 | index) sorted by its upper half, 11 bits per pass,
// every step split over the pool (per-chunk histograms; chunks scatter in order, so equal
// digits keep their order: stable). Writes the sorted indices to `idx`. Called outside any
// parallel_for (nested ones run inline). The scratch stays allocated between calls (fresh
// pages for 16 MiB cost as much as the sort itself), up to lanes of 4M elements.
template <typename T>
void long_lane_argsort(const T* src, int64_t n, uint32_t* idx) {
  static std::mutex scratch_mu;
  static std::vector<uint64_t> scratch_a, scratch_b;
  std::lock_guard<std::mutex> lock(scratch_mu);
  if (static_cast<int64_t>(scratch_a.size()) < n) {
    scratch_a.resize(n);
    scratch_b.resize(n);
  }
  uint64_t* a = scratch_a.data();
  uint64_t* b = scratch_b.data();
  const int chunks = std::max(1, cpu::num_threads());
  const int64_t per = (n + chunks - 1) / chunks;
  auto each_chunk = [&](const std::function<void(int64_t, int64_t, int64_t)>& f) {
    cpu::parallel_for(chunks, 1, [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c) f(c, c * per, std::min(n, (c + 1) * per));
    });
  };
  each_chunk([&](int64_t, int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) a[i] = (uint64_t{order_key(src[i])} << 32) | static_cast<uint64_t>(i);
  });
  constexpr int kBits = 11, kBuckets = 1 << kBits;
  std::vector<int64_t> count(static_cast<size_t>(chunks) * kBuckets);
  for (int shift = 32; shift < 64; shift += kBits) {
    std::fill(count.begin(), count.end(), 0);
    each_chunk([&](int64_t c, int64_t lo, int64_t hi) {
      int64_t* h = count.data() + c * kBuckets;
      for (int64_t i = lo; i < hi; ++i) ++h[(a[i] >> shift) & (kBuckets - 1)];
    });
    int64_t sum = 0;  // bucket-major, chunk-minor
    for (int d = 0; d < kBuckets; ++d) {
      for (int c = 0; c < chunks; ++c) {
        const int64_t v = count[static_cast<size_t>(c) * kBuckets + d];
        count[static_cast<size_t>(c) * kBuckets + d] = sum;
        sum += v;
      }
    }
    each_chunk([&](int64_t c, int64_t lo, int64_t hi) {
      int64_t* h = count.data() + c * kBuckets;
      for (int64_t i = lo; i < hi; ++i) b[h[(a[i] >> shift) & (kBuckets - 1)]++] = a[i];
    });
    std::swap(a, b);
  }
  each_chunk([&](int64_t, int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) idx[i] = static_cast<uint32_t>(a[i]);
  });
  if (n > (int64_t{1} << 22)) {  // kept for lanes up to 4M (2 x 32 MiB), released past that
    std::vector<uint64_t>().swap(scratch_a);
    std::vector<uint64_t>().swap(scratch_b);
  }
}

// idx[0..n) (the identity on entry) rearranged so that position kth holds the kth smallest
// (key, index) pair, the smaller ones before it and the larger after. When one side is short
// (topk), a heap selects it in one pass and the other side keeps its order.
template <typename K>
void partition_lane(const K* keys, uint32_t* idx, int64_t n, int64_t kth) {
  auto less = [keys](uint32_t x, uint32_t y) { return keys[x] < keys[y] || (keys[x] == keys[y] && x < y); };
  const int64_t high = n - kth, low = kth + 1;
  constexpr int64_t kHeap = 64;
  if (n > 4 * kHeap && (high <= kHeap || low <= kHeap)) {
    const bool top = high <= kHeap;
    const int64_t m = top ? high : low;
    // Keeps the m largest (top) or smallest; heap.front() is the one a newcomer must beat.
    auto worse = [&](uint32_t x, uint32_t y) { return top ? less(y, x) : less(x, y); };
    std::vector<uint32_t> heap;
    heap.reserve(m);
    for (uint32_t i = 0; i < static_cast<uint32_t>(n); ++i) {
      if (static_cast<int64_t>(heap.size()) < m) {
        heap.push_back(i);
        std::push_heap(heap.begin(), heap.end(), worse);
      } else if (top ? less(heap.front(), i) : less(i, heap.front())) {
        std::pop_heap(heap.begin(), heap.end(), worse);
        heap.back() = i;
        std::push_heap(heap.begin(), heap.end(), worse);
      }
    }
    std::sort(heap.begin(), heap.end(), less);
    std::vector<char> chosen(n, 0);
    for (uint32_t i : heap) chosen[i] = 1;
    int64_t w = 0;
    if (!top) for (uint32_t i : heap) idx[w++] = i;
    for (int64_t i = 0; i < n; ++i)
      if (!chosen[i]) idx[w++] = static_cast<uint32_t>(i);
    if (top) for (uint32_t i : heap) idx[w++] = i;
    return;
  }
  std::nth_element(idx, idx + kth, idx + n, less);
}

// The m largest (key, index) pairs of a lane (elements `step` apart), ascending, in one pass
// over the data: topk's window, without keys or a full permutation. A min-heap holds the m
// best; dense float32 lanes skip blocks of 64 whose elements are all below the heap's smallest
// (`!(v < t)` also lets NaN through), which vectorises.
template <typename T>
void top_window(const T* src, int64_t step, int64_t n, int64_t m, uint32_t* sel) {
  struct Item {
    key_t<T> key;
    uint32_t i;
  };
  auto less = [](const Item& a, const Item& b) { return a.key < b.key || (a.key == b.key && a.i < b.i); };
  auto greater = [&](const Item& a, const Item& b) { return less(b, a); };  // front: the smallest kept
  std::vector<Item> heap;
  heap.reserve(m);
  auto offer = [&](int64_t k) {
    const Item it{order_key(src[k * step]), static_cast<uint32_t>(k)};
    if (static_cast<int64_t>(heap.size()) < m) {
      heap.push_back(it);
      std::push_heap(heap.begin(), heap.end(), greater);
    } else if (it.key >= heap.front().key) {  // (a tie wins: its index is larger)
      std::pop_heap(heap.begin(), heap.end(), greater);
      heap.back() = it;
      std::push_heap(heap.begin(), heap.end(), greater);
    }
  };
  int64_t k = 0;
  for (; k < std::min(m, n); ++k) offer(k);
  if constexpr (std::is_same_v<T, float>) {
    if (step == 1) {
      constexpr int64_t kBlock = 64;
      for (; k + kBlock <= n; k += kBlock) {
        const float t = src[heap.front().i];
        bool any = false;
        for (int64_t j = 0; j < kBlock; ++j) any |= !(src[k + j] < t);
        if (!any) continue;
        for (int64_t j = 0; j < kBlock; ++j) offer(k + j);
      }
    }
  }
  for (; k < n; ++k) offer(k);
  std::sort(heap.begin(), heap.end(), less);
  for (int64_t i = 0; i < m; ++i) sel[i] = heap[i].i;
}

enum class Kind { sort, argsort, partition, argpartition };

// in: dense [outer, n, inner]; out: dense, values (T) or uint32 indices.
// Positions [first, n) of each lane are written (a partition's window; 0 otherwise).
template <typename T>
void sort_lanes(Kind kind, int kth, int64_t first, const T* in, void* out, int64_t outer, int64_t n, int64_t inner) {
  using K = key_t<T>;
  const int64_t lanes = outer * inner;
  if constexpr (sizeof(K) == 4) {
    if ((kind == Kind::sort || kind == Kind::argsort) && inner == 1 && n >= (1 << 16) && lanes < cpu::num_threads()) {
      // Few long lanes: each sorted by the whole pool in turn.
      std::vector<uint32_t> idx(n);
      for (int64_t o = 0; o < outer; ++o) {
        const T* src = in + o * n;
        long_lane_argsort(src, n, idx.data());
        cpu::parallel_for(n, 1 << 15, [&](int64_t b, int64_t e) {
          if (kind == Kind::argsort) {
            std::memcpy(static_cast<uint32_t*>(out) + o * n + b, idx.data() + b, (e - b) * sizeof(uint32_t));
          } else {
            T* dst = static_cast<T*>(out) + o * n;
            for (int64_t k = b; k < e; ++k) dst[k] = src[idx[k]];
          }
        });
      }
      return;
    }
  }
  cpu::parallel_for(lanes, std::max<int64_t>(1, 4096 / std::max<int64_t>(n, 1)), [&](int64_t b, int64_t e) {
    // Scratch per pool thread, kept between calls for lanes up to 1M (lanes of 128 KiB would
    // otherwise mmap and fault in fresh pages for every chunk).
    thread_local std::vector<K> keys_buf, tk_buf;
    thread_local std::vector<uint32_t> idx_buf, ti_buf;
    for (auto* v : {&keys_buf, &tk_buf}) if (static_cast<int64_t>(v->size()) < n) v->resize(n);
    for (auto* v : {&idx_buf, &ti_buf}) if (static_cast<int64_t>(v->size()) < n) v->resize(n);
    K* keys = keys_buf.data();
    K* tk = tk_buf.data();
    uint32_t* idx = idx_buf.data();
    uint32_t* ti = ti_buf.data();
    for (int64_t lane = b; lane < e; ++lane) {
      const int64_t o = lane / inner, i = lane % inner;
      const T* src = in + o * n * inner + i;
      const int64_t kept = n - first, base = o * kept * inner + i;
      if ((kind == Kind::partition || kind == Kind::argpartition) && first == kth && kept <= 64 && n > 256) {
        top_window(src, inner, n, kept, idx);
        for (int64_t k = 0; k < kept; ++k) {
          if (kind == Kind::argpartition) static_cast<uint32_t*>(out)[base + k * inner] = idx[k];
          else static_cast<T*>(out)[base + k * inner] = src[static_cast<int64_t>(idx[k]) * inner];
        }
        continue;
      }
      for (int64_t k = 0; k < n; ++k) {
        keys[k] = order_key(src[k * inner]);
        idx[k] = static_cast<uint32_t>(k);
      }
      if (kind == Kind::sort || kind == Kind::argsort) {
        radix_argsort(keys, idx, tk, ti, n);
      } else {
        partition_lane(keys, idx, n, kth);
      }
      if (kind == Kind::argsort || kind == Kind::argpartition) {
        uint32_t* dst = static_cast<uint32_t*>(out) + base;
        for (int64_t k = 0; k < kept; ++k) dst[k * inner] = idx[first + k];
      } else {
        T* dst = static_cast<T*>(out) + base;
        for (int64_t k = 0; k < kept; ++k) dst[k * inner] = src[static_cast<int64_t>(idx[first + k]) * inner];
      }
    }
    if (n > (int64_t{1} << 20)) {  // long lanes: the scratch is not kept for the next call
      std::vector<K>().swap(keys_buf);
      std::vector<K>().swap(tk_buf);
      std::vector<uint32_t>().swap(idx_buf);
      std::vector<uint32_t>().swap(ti_buf);
    }
  });
}

// A dense pointer to `a`'s elements: its own when row-contiguous, else a copy held in `hold`.
template <typename T>
const T* dense_data(const array& a, std::unique_ptr<T[]>& hold) {
  if (a.flags().row_contiguous) return static_cast<const T*>(const_cast<array&>(a).raw_host_ptr());
  hold.reset(new T[a.size()]);
  cpu::copy_to_dense(a, hold.get());
  return hold.get();
}

void run(Kind kind, int kth, int first, int axis, const array& in, array& out) {
  out.set_data(cpu::malloc(out.nbytes()));
  if (out.size() == 0 || in.size() == 0) return;
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= in.shape(d);
  for (int d = axis + 1; d < in.ndim(); ++d) inner *= in.shape(d);
  const int64_t n = in.shape(axis);
  dispatch_dtype(in.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, complex64_t>) {
      throw std::logic_error("[sort] complex64 reached the kernel");
    } else {
      std::unique_ptr<T[]> dense;
      const T* data = dense_data(in, dense);
      sort_lanes<T>(kind, kth, first, data, out.raw_host_ptr(), outer, n, inner);
    }
  });
}

}  // namespace

void SearchSorted::eval_cpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  array& out = outputs[0];
  out.set_data(cpu::malloc(out.nbytes()));
  if (out.size() == 0) return;
  dispatch_dtype(inputs[0].dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, complex64_t>) {
      throw std::logic_error("[searchsorted] complex64 reached the kernel");
    } else {
      std::unique_ptr<T[]> hold_a, hold_v;
      const T* a = dense_data(inputs[0], hold_a);
      const T* v = dense_data(inputs[1], hold_v);
      const int64_t n = inputs[0].size();
      std::vector<key_t<T>> keys(n);
      for (int64_t i = 0; i < n; ++i) keys[i] = order_key(a[i]);
      uint32_t* o = static_cast<uint32_t*>(out.raw_host_ptr());
      const bool right = right_;
      cpu::parallel_for(static_cast<int64_t>(out.size()), 1 << 12, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
          const key_t<T> k = order_key(v[i]);
          auto it = right ? std::upper_bound(keys.begin(), keys.end(), k) : std::lower_bound(keys.begin(), keys.end(), k);
          o[i] = static_cast<uint32_t>(it - keys.begin());
        }
      });
    }
  });
}

void Sort::eval_cpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  run(Kind::sort, 0, 0, axis_, inputs[0], outputs[0]);
}
void ArgSort::eval_cpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  run(Kind::argsort, 0, 0, axis_, inputs[0], outputs[0]);
}
void Partition::eval_cpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  run(Kind::partition, kth_, first_, axis_, inputs[0], outputs[0]);
}
void ArgPartition::eval_cpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  run(Kind::argpartition, kth_, first_, axis_, inputs[0], outputs[0]);
}

}  // namespace tessera
