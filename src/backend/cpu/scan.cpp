// CPU kernel of Scan. The input is read dense (copied first when it is a view), as
// [outer, n, inner] around the scanned axis; the output is dense. Rows (inner == 1) scan in
// parallel over rows, and a few long rows in parallel over chunks (each chunk's total, then a
// second pass from the totals before it); columns (inner > 1) scan a row of accumulators.
// Floats accumulate in float64 (see acc_t), integers wrap in their own width, as the GPU kernel.
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "backend/cpu/copy.hpp"
#include "backend/cpu/elementwise_functors.hpp"
#include "backend/cpu/strided.hpp"
#include "tessera/backend/cpu/parallel.hpp"
#include "tessera/core/memory.hpp"
#include "tessera/primitives/scan.hpp"

namespace tessera {
namespace {

using cpu::detail::is_complex_v;
using cpu::detail::work_t;

template <typename W>
W identity(Scan::ReduceType op) {
  if constexpr (std::is_same_v<W, bool>) {
    return op == Scan::Prod || op == Scan::Min;
  } else if constexpr (is_complex_v<W>) {
    return op == Scan::Prod ? W(1) : W(0);
  } else {
    switch (op) {
      case Scan::Sum: return W(0);
      case Scan::Prod: return W(1);
      case Scan::Max:
        return std::numeric_limits<W>::has_infinity ? -std::numeric_limits<W>::infinity() : std::numeric_limits<W>::lowest();
      case Scan::Min:
        return std::numeric_limits<W>::has_infinity ? std::numeric_limits<W>::infinity() : std::numeric_limits<W>::max();
      case Scan::LogAddExp: return -std::numeric_limits<W>::infinity();
    }
    return W(0);
  }
}

template <typename W>
W combine(Scan::ReduceType op, W a, W b) {
  if constexpr (std::is_same_v<W, bool>) {
    return (op == Scan::Sum || op == Scan::Max) ? (a || b) : (a && b);
  } else if constexpr (is_complex_v<W>) {
    return op == Scan::Prod ? a * b : a + b;
  } else {
    switch (op) {
      case Scan::Sum:
        if constexpr (std::is_integral_v<W>) return cpu::detail::wrap_add(a, b); else return a + b;
      case Scan::Prod:
        if constexpr (std::is_integral_v<W>) return cpu::detail::wrap_mul(a, b); else return a * b;
      case Scan::Max:
        if constexpr (std::is_floating_point_v<W>) {
          if (std::isnan(a) || std::isnan(b)) return std::isnan(a) ? a : b;
        }
        return b > a ? b : a;
      case Scan::Min:
        if constexpr (std::is_floating_point_v<W>) {
          if (std::isnan(a) || std::isnan(b)) return std::isnan(a) ? a : b;
        }
        return b < a ? b : a;
      case Scan::LogAddExp:
        // The elementwise logaddexp's own scalar body (the GPU scan uses its GLSL twin).
        if constexpr (std::is_floating_point_v<W>) return cpu::detail::binary<ElemOp::LogAddExp, W>(a, b);
        else return a;  // (logcumsumexp computes in a float dtype)
    }
    return a;
  }
}

// Scans `n` elements from `in` to `out` (element steps `step`, negative when reversed),
// starting from `acc`; returns the final accumulator.
template <typename T, typename W>
W scan_run(Scan::ReduceType op, bool inclusive, const T* in, T* out, int64_t n, int64_t step, W acc) {
  for (int64_t k = 0; k < n; ++k) {
    const W v = static_cast<W>(in[k * step]);
    const W next = combine(op, acc, v);
    out[k * step] = static_cast<T>(inclusive ? next : acc);
    acc = next;
  }
  return acc;
}

// The total of a run (what scan_run would return from the identity).
template <typename T, typename W>
W total_run(Scan::ReduceType op, const T* in, int64_t n, int64_t step) {
  W acc = identity<W>(op);
  for (int64_t k = 0; k < n; ++k) acc = combine(op, acc, static_cast<W>(in[k * step]));
  return acc;
}

// float32 and the 16-bit floats accumulate in float64: a long float32 scan adds increments
// far below the running value's ulp (logcumsumexp of a million elements drifts by 1e-4
// otherwise). The GPU's blocked scan stays in float32: combining block totals keeps its error
// to a few roundings per level.
template <typename T>
using acc_t = std::conditional_t<std::is_same_v<work_t<T>, float>, double, work_t<T>>;

template <typename T>
void scan_dense(Scan::ReduceType op, bool reverse, bool inclusive, const T* in, T* out, int64_t outer, int64_t n,
                int64_t inner) {
  using W = acc_t<T>;
  if (n == 0 || outer == 0 || inner == 0) return;
  const int64_t first = reverse ? n - 1 : 0;  // the scan's first position along the axis
  if (inner == 1) {
    const int threads = cpu::num_threads();
    const int64_t chunk = 1 << 16;
    if (outer >= threads || n < 2 * chunk) {
      cpu::parallel_for(outer, std::max<int64_t>(1, (1 << 15) / n), [&](int64_t b, int64_t e) {
        for (int64_t r = b; r < e; ++r) {
          scan_run<T, W>(op, inclusive, in + r * n + first, out + r * n + first, n, reverse ? -1 : 1, identity<W>(op));
        }
      });
      return;
    }
    // A few long rows: chunks in scan order, their totals, then each chunk from its carry.
    const int64_t chunks = (n + chunk - 1) / chunk;
    std::unique_ptr<W[]> totals(new W[chunks]);  // (not vector<bool>: chunks write in parallel)
    for (int64_t r = 0; r < outer; ++r) {
      const T* row_in = in + r * n;
      T* row_out = out + r * n;
      // Chunk c covers scan positions [c * chunk, ...): element first +- position.
      auto at = [&](int64_t pos) { return reverse ? n - 1 - pos : pos; };
      const int64_t step = reverse ? -1 : 1;
      cpu::parallel_for(chunks, 1, [&](int64_t b, int64_t e) {
        for (int64_t c = b; c < e; ++c) {
          const int64_t len = std::min(chunk, n - c * chunk);
          totals[c] = total_run<T, W>(op, row_in + at(c * chunk), len, step);
        }
      });
      std::unique_ptr<W[]> carry(new W[chunks]);
      W acc = identity<W>(op);
      for (int64_t c = 0; c < chunks; ++c) {
        carry[c] = acc;
        acc = combine<W>(op, acc, totals[c]);
      }
      cpu::parallel_for(chunks, 1, [&](int64_t b, int64_t e) {
        for (int64_t c = b; c < e; ++c) {
          const int64_t len = std::min(chunk, n - c * chunk);
          scan_run<T, W>(op, inclusive, row_in + at(c * chunk), row_out + at(c * chunk), len, step, carry[c]);
        }
      });
    }
    return;
  }
  // Columns: a row of `inner` accumulators walks the axis.
  cpu::parallel_for(outer, 1, [&](int64_t b, int64_t e) {
    std::unique_ptr<W[]> acc(new W[inner]);
    for (int64_t o = b; o < e; ++o) {
      std::fill(acc.get(), acc.get() + inner, identity<W>(op));
      for (int64_t k = 0; k < n; ++k) {
        const int64_t pos = reverse ? n - 1 - k : k;
        const T* src = in + (o * n + pos) * inner;
        T* dst = out + (o * n + pos) * inner;
        for (int64_t i = 0; i < inner; ++i) {
          const W next = combine<W>(op, acc[i], static_cast<W>(src[i]));
          dst[i] = static_cast<T>(inclusive ? next : acc[i]);
          acc[i] = next;
        }
      }
    }
  });
}

}  // namespace

void Scan::eval_cpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  const array& in = inputs[0];
  array& out = outputs[0];
  out.set_data(cpu::malloc(out.nbytes()));
  if (out.size() == 0) return;
  const void* src = in.flags().row_contiguous ? const_cast<array&>(in).raw_host_ptr() : nullptr;
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis_; ++d) outer *= in.shape(d);
  for (int d = axis_ + 1; d < in.ndim(); ++d) inner *= in.shape(d);
  const int64_t n = in.shape(axis_);
  dispatch_dtype(out.dtype(), [&](auto tag) {
    using T = decltype(tag);
    // A view is first copied dense (the kernel walks dense [outer, n, inner]).
    std::unique_ptr<T[]> dense;
    const T* data = static_cast<const T*>(src);
    if (!data) {
      dense.reset(new T[in.size()]);
      cpu::copy_to_dense(in, dense.get());
      data = dense.get();
    }
    scan_dense<T>(op_, reverse_, inclusive_, data, static_cast<T*>(out.raw_host_ptr()), outer, n, inner);
  });
}

}  // namespace tessera
