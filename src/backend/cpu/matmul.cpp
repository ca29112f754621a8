// CPU kernel of Matmul: OpenBLAS GEMM per batch.
//
// An operand whose matrix axes have a unit stride in either position is passed as it is
// (row-major, or transposed with CblasTrans), with its leading dimension taken from the other
// stride; batch axes may have any strides (0 for broadcast batches). Other layouts are copied
// to row-major first. float16 / bfloat16 are converted to float32, multiplied with sgemm and
// rounded back. Small matrices of a batch run in parallel on the pool; large ones rely on
// OpenBLAS's own threads.
#include <cblas.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "backend/cpu/copy.hpp"
#include "backend/cpu/strided.hpp"
#include "tessera/backend/cpu/parallel.hpp"
#include "tessera/core/memory.hpp"
#include "tessera/primitives/matmul.hpp"

namespace tessera {
namespace {

// A GEMM operand: base pointer, the element offset of every batch, transposition, leading dim.
struct Operand {
  const char* base = nullptr;
  std::vector<int64_t> batch_offsets;  // elements
  bool trans = false;
  int ld = 0;
  BufferPtr keep;  // a copy that must outlive the GEMM calls
};

std::vector<int64_t> batch_offsets(const Shape& shape, const Strides& strides, int64_t nb) {
  const int nbd = static_cast<int>(shape.size()) - 2;
  std::vector<int64_t> offs(nb);
  for (int64_t i = 0; i < nb; ++i) {
    int64_t rem = i, off = 0;
    for (int d = nbd - 1; d >= 0; --d) {
      off += (rem % shape[d]) * strides[d];
      rem /= shape[d];
    }
    offs[i] = off;
  }
  return offs;
}

// `x` (batch..., rows, cols) as a GEMM operand of element type `ct` (float or double): used
// in place when its dtype is `ct` and its matrix strides allow, otherwise copied (converted).
Operand make_operand(const array& x, Dtype ct, int64_t nb) {
  const int nd = x.ndim();
  const int64_t rows = x.shape()[nd - 2], cols = x.shape()[nd - 1];
  const int64_t rs = x.strides()[nd - 2], cs = x.strides()[nd - 1];
  Operand op;
  auto& src = const_cast<array&>(x);
  if (x.dtype() == ct) {
    const bool row_ok = (cols == 1 || cs == 1) && (rows == 1 || rs >= std::max<int64_t>(1, cols));
    const bool col_ok = (rows == 1 || rs == 1) && (cols == 1 || cs >= std::max<int64_t>(1, rows));
    if (row_ok || col_ok) {
      op.base = static_cast<const char*>(src.raw_host_ptr());
      op.batch_offsets = batch_offsets(x.shape(), x.strides(), nb);
      if (row_ok) {
        op.trans = false;
        op.ld = static_cast<int>(rows == 1 ? std::max<int64_t>(1, cols) : rs);
      } else {
        op.trans = true;
        op.ld = static_cast<int>(cols == 1 ? std::max<int64_t>(1, rows) : cs);
      }
      return op;
    }
  }
  // Dense row-major copy, converted to `ct` when needed.
  BufferPtr dense = cpu::dense_copy(x, ct);
  op.keep = dense;
  op.base = static_cast<const char*>(dense->host_ptr());
  op.batch_offsets.resize(nb);
  for (int64_t i = 0; i < nb; ++i) op.batch_offsets[i] = i * rows * cols;
  op.trans = false;
  op.ld = static_cast<int>(std::max<int64_t>(1, cols));
  return op;
}

template <typename T>
void gemm(const Operand& a, const Operand& b, T* c, int64_t nb, int m, int n, int k) {
  auto one = [&](int64_t i) {
    const T* pa = reinterpret_cast<const T*>(a.base) + a.batch_offsets[i];
    const T* pb = reinterpret_cast<const T*>(b.base) + b.batch_offsets[i];
    T* pc = c + i * static_cast<int64_t>(m) * n;
    const auto ta = a.trans ? CblasTrans : CblasNoTrans;
    const auto tb = b.trans ? CblasTrans : CblasNoTrans;
    if constexpr (std::is_same_v<T, float>) {
      cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, 1.0f, pa, a.ld, pb, b.ld, 0.0f, pc, n);
    } else {
      cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, 1.0, pa, a.ld, pb, b.ld, 0.0, pc, n);
    }
  };
  const double work = static_cast<double>(m) * n * k;
  if (nb > 1 && work <= 96.0 * 96 * 96) {
    cpu::parallel_for(nb, std::max<int64_t>(1, static_cast<int64_t>(262144 / std::max(work, 1.0))),
                      [&](int64_t lo, int64_t hi) {
                        for (int64_t i = lo; i < hi; ++i) one(i);
                      });
  } else {
    for (int64_t i = 0; i < nb; ++i) one(i);
  }
}

}  // namespace

void Matmul::eval_cpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  const array& a = inputs[0];
  const array& b = inputs[1];
  array& out = outputs[0];
  out.set_data(cpu::malloc(out.nbytes()));
  if (out.size() == 0) return;
  const int nd = out.ndim();
  const int m = out.shape()[nd - 2], n = out.shape()[nd - 1], k = a.shape()[nd - 1];
  const int64_t nb = static_cast<int64_t>(out.size()) / (static_cast<int64_t>(m) * n);
  if (k == 0) {
    std::memset(out.raw_host_ptr(), 0, out.nbytes());
    return;
  }
  const Dtype t = out.dtype();
  const Dtype ct = t == float64 ? float64 : float32;
  if (!(t == float32 || t == float64 || t == float16 || t == bfloat16)) {
    throw std::invalid_argument("[matmul] unsupported dtype " + to_string(t));
  }
  Operand oa = make_operand(a, ct, nb);
  Operand ob = make_operand(b, ct, nb);
  if (t == float64) {
    gemm<double>(oa, ob, static_cast<double*>(out.raw_host_ptr()), nb, m, n, k);
  } else if (t == float32) {
    gemm<float>(oa, ob, static_cast<float*>(out.raw_host_ptr()), nb, m, n, k);
  } else {
    BufferPtr tmp = cpu::malloc(out.size() * sizeof(float));
    gemm<float>(oa, ob, static_cast<float*>(tmp->host_ptr()), nb, m, n, k);
    convert_elements(tmp->host_ptr(), float32, out.raw_host_ptr(), t, out.size());
  }
}

}  // namespace tessera
