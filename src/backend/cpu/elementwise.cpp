// CPU kernel of the Elementwise node: runs the whole program in one pass over the output,
// block by block. A block of every register lives in a small per-thread scratch area (L1/L2
// sized), so a fused chain reads its inputs once and writes its output once, with no full-size
// temporaries. Each instruction runs as a tight loop over the block (Eigen's vectorised
// functions for float/double transcendentals).
#include <array>
#include <cstring>
#include <vector>

#include <Eigen/Core>

#include "backend/cpu/elementwise_functors.hpp"
#include "backend/cpu/strided.hpp"
#include "tessera/backend/cpu/parallel.hpp"
#include "tessera/core/memory.hpp"
#include "tessera/primitives/elementwise.hpp"

namespace tessera {
namespace {

using namespace cpu::detail;
constexpr int64_t kBlock = 1024;  // elements per register block
using BlockFn = void (*)(const void* const* args, void* out, int64_t n);

template <typename T>
T to_storage(work_t<T> v) {
  if constexpr (is_half_v<T>) return T(v); else return v;
}

// Eigen's vectorised path for the transcendental float/double ops; false when not covered.
template <ElemOp op, typename T>
bool eigen_unary(const T* a, T* out, int64_t n) {
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    using Arr = Eigen::Array<T, Eigen::Dynamic, 1>;
    Eigen::Map<const Arr> x(a, n);
    Eigen::Map<Arr> y(out, n);
    if constexpr (op == ElemOp::Exp) {
      // Eigen clamps the argument below (about -88.4 for float), so exp(-inf) would come out
      // as ~1e-38 instead of 0: the rare underflowing inputs are recomputed exactly.
      const T lo = std::is_same_v<T, float> ? T(-87) : T(-707);
      y = x.exp();
      for (int64_t i = 0; i < n; ++i) {
        if (a[i] < lo) out[i] = std::exp(a[i]);
      }
      return true;
    }
    else if constexpr (op == ElemOp::Log) { y = x.log(); return true; }
    else if constexpr (op == ElemOp::Log1p) { y = x.log1p(); return true; }
    else if constexpr (op == ElemOp::Sin) { y = x.sin(); return true; }
    else if constexpr (op == ElemOp::Cos) { y = x.cos(); return true; }
    else if constexpr (op == ElemOp::Tanh) { y = x.tanh(); return true; }
    // Not Sqrt: Eigen's fast-math psqrt (rsqrt + Newton step) gives NaN for +inf.
    else if constexpr (op == ElemOp::Sigmoid) { y = x.logistic(); return true; }
  }
  return false;
}

template <ElemOp op, typename T>
void unary_block(const void* const* args, void* out, int64_t n) {
  auto* a = static_cast<const T*>(args[0]);
  if constexpr ((op == ElemOp::Abs || op == ElemOp::Real || op == ElemOp::Imag) && is_complex_v<T>) {
    auto* o = static_cast<float*>(out);
    for (int64_t i = 0; i < n; ++i) o[i] = static_cast<float>(unary<op>(a[i]));
  } else {
    auto* o = static_cast<T*>(out);
    if (eigen_unary<op, T>(a, o, n)) return;
    for (int64_t i = 0; i < n; ++i) {
      o[i] = to_storage<T>(static_cast<work_t<T>>(unary<op>(static_cast<work_t<T>>(a[i]))));
    }
  }
}

template <ElemOp op, typename T>
void binary_block(const void* const* args, void* out, int64_t n) {
  auto* a = static_cast<const T*>(args[0]);
  auto* b = static_cast<const T*>(args[1]);
  using W = work_t<T>;
  using R = decltype(binary<op>(W{}, W{}));
  if constexpr (std::is_same_v<R, bool> && !std::is_same_v<W, bool>) {
    auto* o = static_cast<bool*>(out);
    for (int64_t i = 0; i < n; ++i) o[i] = binary<op>(static_cast<W>(a[i]), static_cast<W>(b[i]));
  } else {
    auto* o = static_cast<T*>(out);
    for (int64_t i = 0; i < n; ++i) {
      o[i] = to_storage<T>(static_cast<W>(binary<op>(static_cast<W>(a[i]), static_cast<W>(b[i]))));
    }
  }
}

template <typename T>
void select_block(const void* const* args, void* out, int64_t n) {
  auto* c = static_cast<const bool*>(args[0]);
  auto* a = static_cast<const T*>(args[1]);
  auto* b = static_cast<const T*>(args[2]);
  auto* o = static_cast<T*>(out);
  for (int64_t i = 0; i < n; ++i) o[i] = c[i] ? a[i] : b[i];
}

template <typename From, typename To>
void cast_block(const void* const* args, void* out, int64_t n) {
  convert_elements(args[0], dtype_of<From>, out, dtype_of<To>, n);
}

// Which (op, dtype) pairs exist: the builder already rejected the rest, so reaching `false`
// here is a bug, reported as such.
template <ElemOp op, typename T>
constexpr bool valid_pair() {
  if constexpr (op == ElemOp::AsType) {
    return false;  // resolved separately: it has two dtypes
  } else if constexpr (op == ElemOp::LogicalNot || op == ElemOp::LogicalAnd ||
                       op == ElemOp::LogicalOr) {
    return std::is_same_v<T, bool>;
  } else if constexpr (is_complex_v<T>) {
    return supports_complex(op) && op != ElemOp::AsType;
  } else if constexpr (is_complex_part(op)) {
    return false;
  } else if constexpr (is_float_op(op)) {
    return std::is_floating_point_v<work_t<T>>;
  } else if constexpr (is_bitwise(op)) {
    return std::is_integral_v<T> &&
           !(std::is_same_v<T, bool> && (op == ElemOp::LeftShift || op == ElemOp::RightShift));
  } else if constexpr (rejects_bool(op)) {
    return !std::is_same_v<T, bool>;
  } else {
    return true;
  }
}

template <ElemOp op>
BlockFn resolve_op(Dtype operand) {
  return dispatch_dtype(operand, [](auto v) -> BlockFn {
    using T = decltype(v);
    if constexpr (!valid_pair<op, T>()) {
      return nullptr;
    } else if constexpr (op == ElemOp::Select) {
      return &select_block<T>;
    } else if constexpr (op_arity(op) == 1) {
      return &unary_block<op, T>;
    } else {
      return &binary_block<op, T>;
    }
  });
}

BlockFn resolve(const ElemInstr& in, const ElementwiseProgram& p) {
  if (in.op == ElemOp::AsType) {
    return dispatch_dtype(p.register_dtype(in.args[0]), [&](auto f) {
      return dispatch_dtype(in.dtype, [&](auto t) -> BlockFn {
        return &cast_block<decltype(f), decltype(t)>;
      });
    });
  }
  Dtype operand = p.register_dtype(in.args[in.op == ElemOp::Select ? 1 : 0]);
  BlockFn fn = nullptr;
  switch (in.op) {
#define TESSERA_CASE(N, n) \
  case ElemOp::N: fn = resolve_op<ElemOp::N>(operand); break;
    TESSERA_UNARY_OPS(TESSERA_CASE) TESSERA_BINARY_OPS(TESSERA_CASE) TESSERA_TERNARY_OPS(TESSERA_CASE)
#undef TESSERA_CASE
  }
  if (!fn) {
    throw std::runtime_error(std::string("[") + op_function(in.op) + "] no CPU kernel for dtype " +
                             to_string(operand));
  }
  return fn;
}

// How a block of one input is obtained.
struct InputPlan {
  const char* base;       // element 0 of the view
  int itemsize;
  enum { dense, scalar, strided } how;
  std::vector<int64_t> strides;  // broadcast strides over the output's axes (strided only)
};

}  // namespace

void Elementwise::eval_cpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  array& out = outputs[0];
  out.set_data(cpu::malloc(out.nbytes()));
  const int64_t n = static_cast<int64_t>(out.size());
  if (n == 0) return;
  const auto& p = program_;
  const int n_in = static_cast<int>(inputs.size());

  std::vector<BlockFn> fns;
  for (auto& in : p.code) fns.push_back(resolve(in, p));

  std::vector<InputPlan> plans(n_in);
  std::vector<std::array<char, 8>> scalars(n_in);
  for (int i = 0; i < n_in; ++i) {
    array x = inputs[i];
    auto& pl = plans[i];
    pl.base = static_cast<const char*>(x.raw_host_ptr());
    pl.itemsize = static_cast<int>(x.itemsize());
    if (x.size() == 1) {
      pl.how = InputPlan::scalar;
    } else if (x.flags().row_contiguous && x.shape() == out.shape()) {
      pl.how = InputPlan::dense;
    } else {
      pl.how = InputPlan::strided;
      pl.strides = cpu::broadcast_strides(x, out.shape());
    }
  }

  char* out_base = static_cast<char*>(out.raw_host_ptr());
  const int out_size = static_cast<int>(out.itemsize());
  const int regs = p.num_registers();

  // Small arrays use short blocks, so a tiny node touches (and fills) little scratch.
  const int64_t block = std::min(kBlock, n);
  cpu::parallel_for(n, 8 * kBlock, [&](int64_t lo, int64_t hi) {
    // Scratch: one block per register (8 bytes covers every dtype), reused across calls.
    thread_local std::vector<char> scratch;
    const size_t need = static_cast<size_t>(regs) * kBlock * 8;
    if (scratch.size() < need) scratch.resize(need);
    std::vector<const void*> reg_ptr(regs);
    // Broadcast scalars are expanded once per thread.
    for (int i = 0; i < n_in; ++i) {
      if (plans[i].how != InputPlan::scalar) continue;
      char* dst = scratch.data() + static_cast<size_t>(i) * kBlock * 8;
      for (int64_t k = 0; k < block; ++k) {
        std::memcpy(dst + k * plans[i].itemsize, plans[i].base, plans[i].itemsize);
      }
      reg_ptr[i] = dst;
    }
    for (int64_t start = lo; start < hi; start += block) {
      const int64_t len = std::min(block, hi - start);
      for (int i = 0; i < n_in; ++i) {
        auto& pl = plans[i];
        if (pl.how == InputPlan::dense) {
          reg_ptr[i] = pl.base + start * pl.itemsize;
        } else if (pl.how == InputPlan::strided) {
          char* dst = scratch.data() + static_cast<size_t>(i) * kBlock * 8;
          cpu::gather(pl.base, pl.itemsize, out.shape(), pl.strides, start, len, dst);
          reg_ptr[i] = dst;
        }
      }
      const void* args[3];
      for (size_t k = 0; k < p.code.size(); ++k) {
        const auto& in = p.code[k];
        for (int a = 0; a < op_arity(in.op); ++a) args[a] = reg_ptr[in.args[a]];
        const int r = n_in + static_cast<int>(k);
        void* dst = (k + 1 == p.code.size())
                        ? static_cast<void*>(out_base + start * out_size)
                        : static_cast<void*>(scratch.data() + static_cast<size_t>(r) * kBlock * 8);
        fns[k](args, dst, len);
        reg_ptr[r] = dst;
      }
    }
  });
}

}  // namespace tessera
