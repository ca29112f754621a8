// CPU kernels of Gather, Scatter, GatherAxis and ScatterAxis: one walk over the plan of
// backend/index_plan.hpp. Gathers copy element bytes in parallel; scatters copy the input and
// then combine the updates in order on one thread (so duplicate indices accumulate, and a plain
// scatter keeps the last write).
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "backend/cpu/copy.hpp"
#include "backend/cpu/strided.hpp"
#include "backend/cpu/elementwise_functors.hpp"
#include "backend/index_plan.hpp"
#include "tessera/backend/cpu/parallel.hpp"
#include "tessera/core/memory.hpp"
#include "tessera/primitives/indexing.hpp"

namespace tessera {
namespace {

using index_plan::Plan;

// An index as int64, with a negative one counted from the end once; a uint64 past int64's
// range becomes int64 max (out of range).
template <typename I>
inline int64_t load_index(const I* base, int64_t off, int64_t length) {
  const I v = base[off];
  if constexpr (std::is_signed_v<I>) {
    return v < 0 ? int64_t{v} + length : int64_t{v};
  } else {
    return v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ? std::numeric_limits<int64_t>::max()
                                                                         : static_cast<int64_t>(v);
  }
}

// Calls body(data_offset_without_indices, value_offset, index_offsets) for the points
// [begin, end) of the plan's shape in row-major order.
template <typename Body>
void walk(const Plan& p, int64_t begin, int64_t end, Body&& body) {
  const int nd = static_cast<int>(p.shape.size());
  const size_t k = p.indices.size();
  std::vector<int64_t> pos(nd), ioff(k, 0);
  int64_t doff = 0, voff = 0, rem = begin;
  for (int d = nd - 1; d >= 0; --d) {
    pos[d] = rem % p.shape[d];
    rem /= p.shape[d];
    doff += pos[d] * p.data_strides[d];
    voff += pos[d] * p.value_strides[d];
    for (size_t j = 0; j < k; ++j) ioff[j] += pos[d] * p.indices[j].strides[d];
  }
  if (nd == 0) {
    if (begin < end) body(doff, voff, ioff.data());
    return;
  }
  const int last = nd - 1;
  int64_t i = begin;
  while (i < end) {
    const int64_t run = std::min(p.shape[last] - pos[last], end - i);
    for (int64_t r = 0; r < run; ++r) {
      body(doff, voff, ioff.data());
      doff += p.data_strides[last];
      voff += p.value_strides[last];
      for (size_t j = 0; j < k; ++j) ioff[j] += p.indices[j].strides[last];
    }
    i += run;
    pos[last] += run;
    // Carry into the outer axes (undoing the inner axis's steps first).
    for (int d = last; d > 0 && pos[d] == p.shape[d]; --d) {
      doff -= pos[d] * p.data_strides[d];
      voff -= pos[d] * p.value_strides[d];
      for (size_t j = 0; j < k; ++j) ioff[j] -= pos[d] * p.indices[j].strides[d];
      pos[d] = 0;
      ++pos[d - 1];
      doff += p.data_strides[d - 1];
      voff += p.value_strides[d - 1];
      for (size_t j = 0; j < k; ++j) ioff[j] += p.indices[j].strides[d - 1];
    }
  }
}

template <typename I>
std::vector<const I*> index_bases(const std::vector<array>& idx) {
  std::vector<const I*> b;
  for (auto& a : idx) b.push_back(static_cast<const I*>(const_cast<array&>(a).raw_host_ptr()));
  return b;
}

template <typename F>
decltype(auto) dispatch_index(Dtype t, F&& f) {
  switch (t.val) {
    case Dtype::Val::int32: return f(int32_t{});
    case Dtype::Val::uint32: return f(uint32_t{});
    case Dtype::Val::int64: return f(int64_t{});
    case Dtype::Val::uint64: return f(uint64_t{});
    default: throw std::logic_error("[gather/scatter] index dtype " + to_string(t) + " reached the kernel");
  }
}

// out[value offset] = src[data offset]: element bytes of size E.
template <int E, typename I>
void gather_kernel(const Plan& p, const char* src, char* out, const std::vector<array>& idx_arrays) {
  const auto idx = index_bases<I>(idx_arrays);
  const size_t k = idx.size();
  auto element = [&](int64_t doff, int64_t voff, const int64_t* ioff) {
    for (size_t j = 0; j < k; ++j) {
      const auto& ix = p.indices[j];
      const int64_t v = load_index(idx[j], ioff[j], ix.length);
      doff += (v < 0 ? 0 : v > ix.bound ? ix.bound : v) * ix.data_stride;
    }
    std::memcpy(out + voff * E, src + doff * E, E);
  };
  if (p.shape.size() == 1 && k == 1 && p.data_strides[0] == 0) {
    // One index per output element (take of a flat array, or of rows of one element): a
    // plain loop that prefetches the source element a few dozen indices ahead, since random
    // reads of a large source are latency bound.
    const auto& ix = p.indices[0];
    const I* id = idx[0];
    const int64_t is = ix.strides[0], vs = p.value_strides[0];
    constexpr int64_t kAhead = 32;
    cpu::parallel_for(p.size(), 1 << 15, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        if (i + kAhead < e) {
          const int64_t f = load_index(id, (i + kAhead) * is, ix.length);
          __builtin_prefetch(src + (f < 0 ? 0 : f > ix.bound ? ix.bound : f) * ix.data_stride * E);
        }
        const int64_t v = load_index(id, i * is, ix.length);
        std::memcpy(out + i * vs * E, src + (v < 0 ? 0 : v > ix.bound ? ix.bound : v) * ix.data_stride * E, E);
      }
    });
    return;
  }
  cpu::parallel_for(p.size(), 1 << 15, [&](int64_t b, int64_t e) { walk(p, b, e, element); });
}

template <typename I>
void run_gather(const Plan& p, const array& src, array& out, const std::vector<array>& idx) {
  out.set_data(cpu::malloc(out.nbytes()));
  if (out.size() == 0) return;
  const char* s = static_cast<const char*>(const_cast<array&>(src).raw_host_ptr());
  char* o = static_cast<char*>(out.raw_host_ptr());
  switch (out.itemsize()) {
    case 1: gather_kernel<1, I>(p, s, o, idx); break;
    case 2: gather_kernel<2, I>(p, s, o, idx); break;
    case 4: gather_kernel<4, I>(p, s, o, idx); break;
    default: gather_kernel<8, I>(p, s, o, idx); break;
  }
}

// The combination of an update u into the stored v, in T's working precision.
template <typename T>
T combine(ScatterReduce r, T v, T u) {
  using W = cpu::detail::work_t<T>;
  if constexpr (std::is_same_v<T, bool>) {
    switch (r) {
      case ScatterReduce::None: return u;
      case ScatterReduce::Sum: case ScatterReduce::Max: return v || u;
      default: return v && u;
    }
  } else if constexpr (cpu::detail::is_complex_v<T>) {
    switch (r) {
      case ScatterReduce::None: return u;
      case ScatterReduce::Sum: return v + u;
      default: return v * u;  // Prod (Max/Min reject complex when the op is built)
    }
  } else {
    const W a = static_cast<W>(v), b = static_cast<W>(u);
    switch (r) {
      case ScatterReduce::None: return u;
      case ScatterReduce::Sum:
        if constexpr (std::is_integral_v<W>) return cpu::detail::wrap_add(a, b); else return static_cast<T>(a + b);
      case ScatterReduce::Prod:
        if constexpr (std::is_integral_v<W>) return cpu::detail::wrap_mul(a, b); else return static_cast<T>(a * b);
      case ScatterReduce::Max:
        if constexpr (std::is_floating_point_v<W>) {
          if (std::isnan(a) || std::isnan(b)) return static_cast<T>(std::isnan(a) ? a : b);
        }
        return static_cast<T>(b > a ? b : a);
      case ScatterReduce::Min:
        if constexpr (std::is_floating_point_v<W>) {
          if (std::isnan(a) || std::isnan(b)) return static_cast<T>(std::isnan(a) ? a : b);
        }
        return static_cast<T>(b < a ? b : a);
    }
    return u;
  }
}

template <typename T, typename I>
void scatter_kernel(const Plan& p, ScatterReduce r, T* out, const T* upd, const std::vector<array>& idx_arrays) {
  const auto idx = index_bases<I>(idx_arrays);
  const size_t k = idx.size();
  walk(p, 0, p.size(), [&](int64_t doff, int64_t voff, const int64_t* ioff) {
    for (size_t j = 0; j < k; ++j) {
      const auto& ix = p.indices[j];
      const int64_t v = load_index(idx[j], ioff[j], ix.length);
      if (v < 0 || v > ix.bound) return;  // out of range: dropped
      doff += v * ix.data_stride;
    }
    out[doff] = combine(r, out[doff], upd[voff]);
  });
}

// out = a (dense copy), then the updates combined in.
void run_scatter(const Plan& p, ScatterReduce r, const array& a, const std::vector<array>& idx,
                 const array& upd, array& out) {
  out.set_data(cpu::malloc(out.nbytes()));
  cpu::copy_to_dense(a, out.raw_host_ptr());
  if (p.size() == 0 || out.size() == 0) return;
  dispatch_index(idx.empty() ? int32 : idx[0].dtype(), [&](auto itag) {
    using I = decltype(itag);
    dispatch_dtype(out.dtype(), [&](auto tag) {
      using T = decltype(tag);
      scatter_kernel<T, I>(p, r, static_cast<T*>(out.raw_host_ptr()),
                           static_cast<const T*>(const_cast<array&>(upd).raw_host_ptr()), idx);
    });
  });
}

}  // namespace

void Gather::eval_cpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  const std::vector<array> idx(inputs.begin() + 1, inputs.end());
  const Plan p = index_plan::gather(inputs, outputs[0], axes_, slice_sizes_);
  dispatch_index(idx.empty() ? int32 : idx[0].dtype(),
                 [&](auto itag) { run_gather<decltype(itag)>(p, inputs[0], outputs[0], idx); });
}

void GatherAxis::eval_cpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  const Plan p = index_plan::gather_axis(inputs, outputs[0], axis_);
  dispatch_index(inputs[1].dtype(),
                 [&](auto itag) { run_gather<decltype(itag)>(p, inputs[0], outputs[0], {inputs[1]}); });
}

void Scatter::eval_cpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  array& out = outputs[0];
  const std::vector<array> idx(inputs.begin() + 1, inputs.end() - 1);
  const Plan p = index_plan::scatter(inputs, out.shape(), axes_);
  run_scatter(p, reduce_, inputs[0], idx, inputs.back(), out);
}

void ScatterAxis::eval_cpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  array& out = outputs[0];
  const Plan p = index_plan::scatter_axis(inputs, out.shape(), axis_);
  run_scatter(p, reduce_, inputs[0], {inputs[1]}, inputs[2], out);
}

}  // namespace tessera
