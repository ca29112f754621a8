// CPU kernels of Reduce and ArgReduce.
//
// Reduce first simplifies the input's layout: axes of size 1 are dropped, the reduced axes are
// ordered by decreasing stride (the kept axes keep their order: it is the output's), and
// neighbours that are contiguous in memory are merged. The common layouts, including
// transposed and sliced views, then run straight on the input's memory:
//   [K?, R]      with R unit-stride: "row" reduction, one contiguous row per output element
//                (Eigen's vectorised redux for float/double sum/prod/max/min, otherwise a loop
//                with independent accumulators the compiler vectorises), rows in parallel;
//   [K1?, R, K2] with K2 unit-stride: "column" reduction, accumulating whole rows of K2
//                elements into an L1-sized block of accumulators (vectorisable), blocks in
//                parallel.
// Anything else (several interleaved groups, strided inner axes) is first copied, with the
// kept axes outermost and the reduced axes innermost, by the strided copy, then reduced as rows.
// When there are too few output elements to keep the threads busy, the reduced extent is split
// among them and their partial results combined.
//
// 16-bit floats accumulate in float32, integer sums and products wrap around (as NumPy's),
// integer inputs reduced into float32 (mean) accumulate in float64.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include <Eigen/Core>

#include "backend/cpu/copy.hpp"
#include "backend/cpu/elementwise_functors.hpp"
#include "backend/cpu/strided.hpp"
#include "tessera/backend/cpu/parallel.hpp"
#include "backend/reduce_layout.hpp"
#include "tessera/core/memory.hpp"
#include "tessera/primitives/reduce.hpp"

namespace tessera {
namespace {

using cpu::detail::is_complex_v;
using cpu::detail::is_half_v;
using cpu::detail::work_t;

template <typename T>
inline constexpr bool is_fp_v = std::is_floating_point_v<work_t<T>>;

// The accumulator of a reduction from In to Out.
template <typename In, typename Out>
struct AccOf {
  using type = std::conditional_t<
      is_half_v<Out>, float,
      std::conditional_t<
          std::is_same_v<Out, float> && (std::is_integral_v<In>), double,
          std::conditional_t<std::is_integral_v<Out> && !std::is_same_v<Out, bool> &&
                                 std::is_signed_v<Out>,
                             std::make_unsigned_t<std::conditional_t<
                                 std::is_integral_v<Out> && !std::is_same_v<Out, bool>, Out, int>>,
                             Out>>>;
};
template <typename In, typename Out>
using sum_acc_t = typename AccOf<In, Out>::type;

// Value of an input element as seen by the accumulator.
template <typename A, typename V>
inline A as_acc(V v) {
  if constexpr (is_half_v<V>) return static_cast<A>(static_cast<float>(v));
  else return static_cast<A>(v);
}

// The reduction operators: init() and apply(acc, value). apply is also the combiner of partial
// accumulators (value of type A).
struct SumOp {
  template <typename A> static A init() { return A(0); }
  template <typename A, typename V> static A apply(A a, V v) {
    return static_cast<A>(a + as_acc<A>(v));
  }
};
struct ProdOp {
  template <typename A> static A init() { return A(1); }
  template <typename A, typename V> static A apply(A a, V v) {
    if constexpr (std::is_integral_v<A> && sizeof(A) < 4) {
      return static_cast<A>(static_cast<uint32_t>(a) * static_cast<uint32_t>(as_acc<A>(v)));
    } else {
      return static_cast<A>(a * as_acc<A>(v));
    }
  }
};
// max / min: NaN is sticky (once the accumulator is NaN it stays NaN), as NumPy.
struct MaxOp {
  template <typename A> static A init() {
    if constexpr (std::is_same_v<A, bool>) return false;
    else if constexpr (std::is_floating_point_v<A>) return -std::numeric_limits<A>::infinity();
    else return std::numeric_limits<A>::lowest();
  }
  template <typename A, typename V> static A apply(A a, V v) {
    A x = as_acc<A>(v);
    if constexpr (std::is_same_v<A, bool>) return a | x;
    else if constexpr (std::is_floating_point_v<A>) return (x > a || x != x) ? x : a;
    else return x > a ? x : a;
  }
};
struct MinOp {
  template <typename A> static A init() {
    if constexpr (std::is_same_v<A, bool>) return true;
    else if constexpr (std::is_floating_point_v<A>) return std::numeric_limits<A>::infinity();
    else return std::numeric_limits<A>::max();
  }
  template <typename A, typename V> static A apply(A a, V v) {
    A x = as_acc<A>(v);
    if constexpr (std::is_same_v<A, bool>) return a & x;
    else if constexpr (std::is_floating_point_v<A>) return (x < a || x != x) ? x : a;
    else return x < a ? x : a;
  }
};
template <typename V>
inline bool nonzero(V v) {
  if constexpr (is_half_v<V>) return static_cast<float>(v) != 0.0f;
  else if constexpr (is_complex_v<V>) return v != V(0);
  else return v != V(0);
}
struct AndOp {
  template <typename A> static A init() { return true; }
  template <typename A, typename V> static A apply(A a, V v) { return a & nonzero(v); }
};
struct OrOp {
  template <typename A> static A init() { return false; }
  template <typename A, typename V> static A apply(A a, V v) { return a | nonzero(v); }
};

// The accumulator of Op reducing In into Out: sums and products as above, max/min in the
// working type of the input (float for 16-bit floats), all/any in bool.
template <typename Op, typename In, typename Out>
using acc_t = std::conditional_t<
    std::is_same_v<Op, SumOp> || std::is_same_v<Op, ProdOp>, sum_acc_t<In, Out>,
    std::conditional_t<std::is_same_v<Op, AndOp> || std::is_same_v<Op, OrOp>, bool, work_t<In>>>;

template <typename Out, typename A>
inline Out to_out(A a) {
  if constexpr (is_half_v<Out>) return Out(static_cast<float>(a));
  else return static_cast<Out>(a);
}

// ---------------------------------------------------------------------------------------------
// Row reduction: one contiguous run of n elements.

template <typename Op, typename A, typename In>
A reduce_run(const In* x, int64_t n) {
  if constexpr ((std::is_same_v<In, float> || std::is_same_v<In, double>) &&
                std::is_same_v<A, In>) {
    // Eigen's packet redux (NaN-propagating max/min).
    if (n > 0) {
      Eigen::Map<const Eigen::Array<In, Eigen::Dynamic, 1>> m(x, n);
      if constexpr (std::is_same_v<Op, SumOp>) {
        if constexpr (std::is_same_v<In, float>) {
          // Blocks of 256 summed by Eigen (each vector lane adds a few dozen values), the
          // block sums in double: long rows lose no more precision than short ones (constant
          // data, the worst case, stays within ~1e-7 relative).
          constexpr int64_t kChunk = 256;
          if (n <= kChunk) return m.sum();
          double acc = 0;
          for (int64_t i = 0; i < n; i += kChunk) {
            acc += Eigen::Map<const Eigen::ArrayXf>(x + i, std::min(kChunk, n - i)).sum();
          }
          return static_cast<float>(acc);
        } else {
          return m.sum();
        }
      }
      else if constexpr (std::is_same_v<Op, ProdOp>) return m.prod();
      else if constexpr (std::is_same_v<Op, MaxOp> || std::is_same_v<Op, MinOp>) {
        // Eigen's NaN-propagating max/min is slow; the fast one (one vector instruction per
        // packet) is exact when the block holds no NaN, which its sum (NaN iff the block has a
        // NaN, or both infinities) tells while the block is still in L1.
        constexpr int64_t kChunk = 4096;
        A acc = Op::template init<A>();
        for (int64_t i = 0; i < n; i += kChunk) {
          const int64_t len = std::min(kChunk, n - i);
          Eigen::Map<const Eigen::Array<In, Eigen::Dynamic, 1>> c(x + i, len);
          const In fast = std::is_same_v<Op, MaxOp> ? c.maxCoeff() : c.minCoeff();
          const In total = c.sum();
          if (total != total) {
            acc = Op::apply(acc, std::is_same_v<Op, MaxOp>
                                     ? c.template maxCoeff<Eigen::PropagateNaN>()
                                     : c.template minCoeff<Eigen::PropagateNaN>());
          } else {
            acc = Op::apply(acc, fast);
          }
        }
        return acc;
      }
    }
  } else if constexpr (is_half_v<In> && std::is_same_v<A, float>) {
    // 16-bit floats: converted to float32 a block at a time (Eigen's vectorised cast), each
    // block reduced by the float32 path.
    constexpr int64_t kChunk = 512;
    float buf[kChunk];
    A acc = Op::template init<A>();
    for (int64_t i = 0; i < n; i += kChunk) {
      const int64_t len = std::min(kChunk, n - i);
      Eigen::Map<Eigen::ArrayXf>(buf, len) =
          Eigen::Map<const Eigen::Array<In, Eigen::Dynamic, 1>>(x + i, len).template cast<float>();
      acc = Op::apply(acc, reduce_run<Op, float>(buf, len));
    }
    return acc;
  }
  // One accumulator: the compiler vectorises integer reductions of this form (floating-point
  // ones it may not reorder; those took the paths above).
  A acc = Op::template init<A>();
  for (int64_t i = 0; i < n; ++i) acc = Op::apply(acc, x[i]);
  return acc;
}

// `rows` runs of n contiguous elements, run r at x + r * row_stride.
template <typename Op, typename In, typename Out>
void reduce_rows(const In* x, int64_t rows, int64_t n, int64_t row_stride, Out* out) {
  using A = acc_t<Op, In, Out>;
  const int threads = cpu::num_threads();
  constexpr int64_t kSplitMin = 1 << 15;  // elements per thread worth splitting a row for
  if (rows < threads && n >= 2 * kSplitMin) {
    // Few long rows: split each row among the threads, then combine the partials.
    const int64_t parts = std::min<int64_t>(threads, n / kSplitMin);
    std::unique_ptr<A[]> partial(new A[rows * parts]);  // (not vector: A may be bool)
    cpu::parallel_for(rows * parts, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t t = lo; t < hi; ++t) {
        const int64_t r = t / parts, p = t % parts;
        const int64_t step = (n + parts - 1) / parts;
        const int64_t b = std::min(n, p * step), e = std::min(n, b + step);
        partial[t] = reduce_run<Op, A>(x + r * row_stride + b, e - b);
      }
    });
    for (int64_t r = 0; r < rows; ++r) {
      A a = partial[r * parts];
      for (int64_t p = 1; p < parts; ++p) a = Op::apply(a, partial[r * parts + p]);
      out[r] = to_out<Out>(a);
    }
    return;
  }
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(n, 1));
  cpu::parallel_for(rows, grain, [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) out[r] = to_out<Out>(reduce_run<Op, A>(x + r * row_stride, n));
  });
}

// ---------------------------------------------------------------------------------------------
// Column reduction: out[k1 * K2 + k] = op over r < R of x[k1 * outer_stride + r * rs + k].

template <typename Op, typename A, typename In>
void accumulate_cols(const In* x, int64_t r0, int64_t r1, int64_t rs, int64_t kw, A* acc) {
  int64_t r = r0;
  // Four rows per sweep: a quarter of the accumulator loads and stores.
  for (; r + 4 <= r1; r += 4) {
    const In* a = x + r * rs;
    const In* b = a + rs;
    const In* c = b + rs;
    const In* d = c + rs;
    for (int64_t k = 0; k < kw; ++k) {
      acc[k] = Op::apply(Op::apply(Op::apply(Op::apply(acc[k], a[k]), b[k]), c[k]), d[k]);
    }
  }
  for (; r < r1; ++r) {
    const In* row = x + r * rs;
    for (int64_t k = 0; k < kw; ++k) acc[k] = Op::apply(acc[k], row[k]);
  }
}

template <typename Op, typename In, typename Out>
void reduce_cols(const In* x, int64_t K1, int64_t outer_stride, int64_t R, int64_t rs, int64_t K2,
                 Out* out) {
  using A = acc_t<Op, In, Out>;
  // Accumulators of one task: up to 16 KiB, so they stay in L1 while whole rows stream by.
  constexpr int64_t kBlock = std::max<int64_t>(64, 16384 / sizeof(A));
  const int64_t blocks = (K2 + kBlock - 1) / kBlock;
  const int64_t tasks = K1 * blocks;
  const int threads = cpu::num_threads();
  // Too few tasks for the threads: split the rows too, into partial accumulators.
  const int64_t parts = (tasks >= threads || R < 64) ? 1 : std::min<int64_t>(threads, R / 32);
  const int64_t outs = K1 * K2;
  std::unique_ptr<A[]> partial(parts > 1 ? new A[parts * outs] : nullptr);  // (A may be bool)
  const int64_t step = (R + parts - 1) / parts;
  const int64_t work = (R / parts) * std::min(K2, kBlock);
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(work, 1));
  cpu::parallel_for(tasks * parts, grain, [&](int64_t lo, int64_t hi) {
    A acc[kBlock];
    for (int64_t t = lo; t < hi; ++t) {
      const int64_t p = t % parts, task = t / parts;
      const int64_t k1 = task / blocks, k0 = (task % blocks) * kBlock;
      const int64_t kw = std::min(kBlock, K2 - k0);
      const int64_t r0 = std::min(R, p * step), r1 = std::min(R, r0 + step);
      for (int64_t k = 0; k < kw; ++k) acc[k] = Op::template init<A>();
      accumulate_cols<Op, A>(x + k1 * outer_stride + k0, r0, r1, rs, kw, acc);
      if (parts == 1) {
        Out* o = out + k1 * K2 + k0;
        for (int64_t k = 0; k < kw; ++k) o[k] = to_out<Out>(acc[k]);
      } else {
        std::copy(acc, acc + kw, partial.get() + p * outs + k1 * K2 + k0);
      }
    }
  });
  if (parts > 1) {
    for (int64_t i = 0; i < outs; ++i) {
      A a = partial[i];
      for (int64_t p = 1; p < parts; ++p) a = Op::apply(a, partial[p * outs + i]);
      out[i] = to_out<Out>(a);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Layout analysis

using reduce_layout::Dim;

template <typename Op, typename In, typename Out>
void run_reduce(const array& in, array& out, const std::vector<int>& axes) {
  using A = acc_t<Op, In, Out>;
  out.set_data(cpu::malloc(out.nbytes()));
  Out* o = static_cast<Out*>(out.raw_host_ptr());
  const int64_t n_out = static_cast<int64_t>(out.size());
  if (n_out == 0) return;
  if (in.size() == 0) {  // reduced over an empty axis: the identity
    const Out v = to_out<Out>(Op::template init<A>());
    std::fill(o, o + n_out, v);
    return;
  }
  auto& src = const_cast<array&>(in);
  const In* x = static_cast<const In*>(src.raw_host_ptr());

  auto layout = reduce_layout::analyse(in, axes);
  std::vector<Dim>& kept = layout.kept;
  std::vector<Dim>& red = layout.reduced;

  if (red.empty()) {  // only size-1 axes reduced: an elementwise cast
    if (kept.empty()) {
      o[0] = to_out<Out>(Op::apply(Op::template init<A>(), x[0]));
      return;
    }
    if (kept.size() == 1) {
      reduce_rows<Op>(x, kept[0].size, 1, kept[0].stride, o);
      return;
    }
  } else if (red.size() == 1) {
    const Dim& r = red[0];
    if (r.stride == 1 && kept.size() <= 1) {  // rows
      reduce_rows<Op>(x, kept.empty() ? 1 : kept[0].size, r.size,
                      kept.empty() ? 0 : kept[0].stride, o);
      return;
    }
    if (!kept.empty() && kept.back().stride == 1 && kept.size() <= 2) {  // columns
      const Dim k2 = kept.back();
      const Dim k1 = kept.size() == 2 ? kept[0] : Dim{1, 0};
      reduce_cols<Op>(x, k1.size, k1.stride, r.size, r.stride, k2.size, o);
      return;
    }
  }
  // General case: gather into [kept..., reduced...] row-major order, then reduce rows.
  const auto order = reduce_layout::gather_order(layout);
  const Shape& shape = order.shape;
  const Strides& strides = order.strides;
  const int64_t rows = static_cast<int64_t>(order.rows), n = static_cast<int64_t>(order.n);
  auto tmp = cpu::malloc(static_cast<size_t>(rows * n) * sizeof(In));
  cpu::strided_copy(reinterpret_cast<const char*>(x), strides, static_cast<char*>(tmp->host_ptr()),
                    row_major_strides(shape), shape, static_cast<int>(sizeof(In)));
  reduce_rows<Op>(static_cast<const In*>(tmp->host_ptr()), rows, n, n, o);
}

template <typename Op>
void dispatch_reduce(const array& in, array& out, const std::vector<int>& axes, const char* name) {
  dispatch_dtype(in.dtype(), [&](auto tag) {
    using In = decltype(tag);
    if constexpr (std::is_same_v<Op, AndOp> || std::is_same_v<Op, OrOp>) {
      run_reduce<Op, In, bool>(in, out, axes);
    } else if constexpr (is_complex_v<In> &&
                         (std::is_same_v<Op, MaxOp> || std::is_same_v<Op, MinOp>)) {
      throw std::invalid_argument(std::string("[") + name + "] is not supported for complex64");
    } else if constexpr (std::is_same_v<Op, MaxOp> || std::is_same_v<Op, MinOp>) {
      run_reduce<Op, In, In>(in, out, axes);
    } else {
      if (out.dtype() == in.dtype()) {
        run_reduce<Op, In, In>(in, out, axes);
      } else if (out.dtype() == float32) {
        if constexpr (is_complex_v<In>) {
          throw std::logic_error(std::string("[") + name + "] complex64 -> float32 reduction");
        } else {
          run_reduce<Op, In, float>(in, out, axes);
        }
      } else if (out.dtype() == int32) {
        if constexpr (is_complex_v<In>) {
          throw std::logic_error(std::string("[") + name + "] complex64 -> int32 reduction");
        } else {
          run_reduce<Op, In, int32_t>(in, out, axes);
        }
      } else {
        throw std::logic_error(std::string("[") + name + "] unexpected output dtype " +
                               to_string(out.dtype()));
      }
    }
  });
}

// ---------------------------------------------------------------------------------------------
// ArgReduce

template <bool IsMax, typename T>
inline bool better(T v, T best) {
  if constexpr (is_fp_v<T>) {
    using W = work_t<T>;
    const W a = static_cast<W>(v), b = static_cast<W>(best);
    if (b != b) return false;  // the first NaN wins
    if (a != a) return true;
    return IsMax ? a > b : a < b;
  } else {
    return IsMax ? v > best : v < best;
  }
}

template <bool IsMax, typename T>
void run_argreduce(const array& in, array& out, int axis) {
  out.set_data(cpu::malloc(out.nbytes()));
  auto* o = static_cast<uint32_t*>(out.raw_host_ptr());
  if (out.size() == 0) return;
  auto& src = const_cast<array&>(in);
  const T* x = static_cast<const T*>(src.raw_host_ptr());
  BufferPtr tmp;
  if (!in.flags().row_contiguous) {
    tmp = cpu::malloc(in.nbytes());
    cpu::copy_to_dense(in, tmp->host_ptr());
    x = static_cast<const T*>(tmp->host_ptr());
  }
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis; ++i) outer *= in.shape()[i];
  for (int i = axis + 1; i < in.ndim(); ++i) inner *= in.shape()[i];
  const int64_t n = in.shape()[axis];
  if (inner == 1) {
    // Two passes over each (cache-resident) row: the vectorised extreme, then the first element
    // equal to it (or the first NaN).
    using W = work_t<T>;
    using Op = std::conditional_t<IsMax, MaxOp, MinOp>;
    cpu::parallel_for(outer, std::max<int64_t>(1, 16384 / n), [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        const T* row = x + r * n;
        const W best = reduce_run<Op, W>(row, n);
        int64_t j = 0;
        if constexpr (is_fp_v<T>) {
          if (best != best) {
            while (j < n && !(static_cast<W>(row[j]) != static_cast<W>(row[j]))) ++j;
          } else {
            while (j < n && !(static_cast<W>(row[j]) == best)) ++j;
          }
        } else {
          while (j < n && !(static_cast<W>(row[j]) == best)) ++j;
        }
        o[r] = static_cast<uint32_t>(j < n ? j : 0);
      }
    });
    return;
  }
  constexpr int64_t kBlock = 512;
  const int64_t blocks = (inner + kBlock - 1) / kBlock;
  cpu::parallel_for(outer * blocks, std::max<int64_t>(1, 16384 / (n * std::min(inner, kBlock))),
                    [&](int64_t lo, int64_t hi) {
    T best[kBlock];
    for (int64_t t = lo; t < hi; ++t) {
      const int64_t r = t / blocks, k0 = (t % blocks) * kBlock;
      const int64_t kw = std::min(kBlock, inner - k0);
      const T* base = x + r * n * inner + k0;
      uint32_t* oi = o + r * inner + k0;
      for (int64_t k = 0; k < kw; ++k) {
        best[k] = base[k];
        oi[k] = 0;
      }
      for (int64_t j = 1; j < n; ++j) {
        const T* row = base + j * inner;
        for (int64_t k = 0; k < kw; ++k) {
          if (better<IsMax>(row[k], best[k])) {
            best[k] = row[k];
            oi[k] = static_cast<uint32_t>(j);
          }
        }
      }
    }
  });
}

}  // namespace

const char* Reduce::name() const {
  switch (type_) {
    case And: return "And";
    case Or: return "Or";
    case Sum: return "Sum";
    case Prod: return "Prod";
    case Min: return "Min";
    case Max: return "Max";
  }
  return "Reduce";
}

void Reduce::eval_cpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  const array& in = inputs[0];
  array& out = outputs[0];
  switch (type_) {
    case And: dispatch_reduce<AndOp>(in, out, axes_, "all"); break;
    case Or: dispatch_reduce<OrOp>(in, out, axes_, "any"); break;
    case Sum: dispatch_reduce<SumOp>(in, out, axes_, "sum"); break;
    case Prod: dispatch_reduce<ProdOp>(in, out, axes_, "prod"); break;
    case Min: dispatch_reduce<MinOp>(in, out, axes_, "min"); break;
    case Max: dispatch_reduce<MaxOp>(in, out, axes_, "max"); break;
  }
}

void ArgReduce::eval_cpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  dispatch_dtype(inputs[0].dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (is_complex_v<T>) {
      throw std::invalid_argument(std::string("[") + (type_ == ArgMax ? "argmax" : "argmin") +
                                  "] is not supported for complex64");
    } else if (type_ == ArgMax) {
      run_argreduce<true, T>(inputs[0], outputs[0], axis_);
    } else {
      run_argreduce<false, T>(inputs[0], outputs[0], axis_);
    }
  });
}

}  // namespace tessera
