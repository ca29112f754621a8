// CPU kernel of Convolution (primitives/conv.hpp): im2col blocks multiplied with BLAS.
//
// Rows of the im2col matrix are output positions (n, o...), columns the (tap..., c) of one
// group's kernel window, so a block of rows times the group's weight (C_out/G x taps*C_in/G,
// row-major: the weight's own layout) is a block of the output, written in place with the
// output's channel stride. The matrix is built one block of rows at a time (about 2 MB, so it
// stays in cache between being written and multiplied), in parallel on the pool; the product
// uses OpenBLAS's threads. Which input element a (position, tap) reads is tabulated per axis
// first, so building a row is a few table lookups and one copy of C_in/G channels per tap.
// A 1x1 kernel at unit stride without padding reads the input itself as the matrix.
//
// WeightGrad multiplies the transposed output gradient by the same blocks, accumulating over
// them. float16 / bfloat16 compute in float32 and round once at the end. float32 work goes to
// oneDNN first when it was found (conv_onednn.hpp), which takes what it has kernels for.
#include <cblas.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "backend/conv_plan.hpp"
#include "backend/cpu/conv_onednn.hpp"
#include "backend/cpu/strided.hpp"
#include "tessera/backend/cpu/parallel.hpp"
#include "tessera/core/memory.hpp"
#include "tessera/primitives/conv.hpp"

namespace tessera {
namespace {

// The shared geometry, and per axis which input element each (output, tap) pair reads.
struct Plan : conv_plan::Plan {
  // table[d][o * k[d] + t]: the input index along axis d that output o, tap t reads, or -1.
  std::vector<int> table[3];
  bool direct = false;  // the input itself is the im2col matrix
};

Plan make_plan(const Shape& x, const Shape& w, const Shape& y, const ConvGeometry& g) {
  Plan p;
  static_cast<conv_plan::Plan&>(p) = conv_plan::make(x, w, y, g);
  bool identity = true;
  for (int d = 0; d < 3; ++d) {
    identity &= p.stride[d] == 1 && p.lo[d] == 0 && p.idil[d] == 1 && p.k[d] == 1 && p.in[d] == p.out[d];
    p.table[d].resize(static_cast<size_t>(p.out[d]) * p.k[d]);
    for (int o = 0; o < p.out[d]; ++o) {
      for (int t = 0; t < p.k[d]; ++t) {
        const int tap = g.flip ? p.k[d] - 1 - t : t;
        const int64_t pos = static_cast<int64_t>(o) * p.stride[d] - p.lo[d] + static_cast<int64_t>(tap) * p.kdil[d];
        int idx = -1;
        if (pos >= 0 && pos % p.idil[d] == 0 && pos / p.idil[d] < p.in[d]) idx = static_cast<int>(pos / p.idil[d]);
        p.table[d][static_cast<size_t>(o) * p.k[d] + t] = idx;
      }
    }
  }
  p.direct = identity;
  return p;
}

// Rows [r0, r1) of group `grp`'s im2col matrix of the dense input `x`, into `col`.
template <typename T>
void im2col(const Plan& p, const T* x, int grp, int64_t r0, int64_t r1, T* col) {
  const size_t run = static_cast<size_t>(p.cig) * sizeof(T);
  cpu::parallel_for(r1 - r0, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, p.cols)), [&](int64_t lo, int64_t hi) {
    for (int64_t r = r0 + lo; r < r0 + hi; ++r) {
      int64_t rem = r % p.out_elems;
      const int64_t n = r / p.out_elems;
      const int o2 = static_cast<int>(rem % p.out[2]);
      rem /= p.out[2];
      const int o1 = static_cast<int>(rem % p.out[1]);
      const int o0 = static_cast<int>(rem / p.out[1]);
      const int* t0 = &p.table[0][static_cast<size_t>(o0) * p.k[0]];
      const int* t1 = &p.table[1][static_cast<size_t>(o1) * p.k[1]];
      const int* t2 = &p.table[2][static_cast<size_t>(o2) * p.k[2]];
      const T* image = x + n * p.in_elems * p.C + static_cast<int64_t>(grp) * p.cig;
      T* dst = col + (r - r0) * p.cols;
      for (int a = 0; a < p.k[0]; ++a) {
        for (int b = 0; b < p.k[1]; ++b) {
          for (int c = 0; c < p.k[2]; ++c, dst += p.cig) {
            const int i0 = t0[a], i1 = t1[b], i2 = t2[c];
            if ((i0 | i1 | i2) < 0) {
              std::memset(dst, 0, run);
            } else {
              const int64_t pos = (static_cast<int64_t>(i0) * p.in[1] + i1) * p.in[2] + i2;
              std::memcpy(dst, image + pos * p.C, run);
            }
          }
        }
      }
    }
  });
}

template <typename T>
void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda,
          const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  if constexpr (std::is_same_v<T, float>) {
    cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc);
  } else {
    cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, 1.0, a, lda, b, ldb, beta, c, ldc);
  }
}

// Rows per im2col block: about 2 MB of matrix.
int64_t block_rows(const Plan& p, size_t item) {
  return std::clamp<int64_t>(static_cast<int64_t>((2u << 20) / item) / std::max<int64_t>(1, p.cols), 16, p.rows);
}

// Calls gemm_block(grp, r0, r1, a, lda) for blocks of rows of each group's im2col matrix: `a`
// the block (r1 - r0 rows, leading dimension lda). The direct case is one block, the input.
template <typename T, typename F>
void for_each_block(const Plan& p, const T* x, F&& gemm_block) {
  if (p.direct) {
    for (int grp = 0; grp < p.groups; ++grp) gemm_block(grp, int64_t{0}, p.rows, x + grp * p.cig, int64_t{p.C});
    return;
  }
  const int64_t br = block_rows(p, sizeof(T));
  std::vector<T> col(static_cast<size_t>(br * p.cols));
  for (int grp = 0; grp < p.groups; ++grp) {
    for (int64_t r0 = 0; r0 < p.rows; r0 += br) {
      const int64_t r1 = std::min(p.rows, r0 + br);
      im2col(p, x, grp, r0, r1, col.data());
      gemm_block(grp, r0, r1, static_cast<const T*>(col.data()), p.cols);
    }
  }
}

// y (rows x cout) = im2col(x) @ w^T per group.
template <typename T>
void forward(const Plan& p, const T* x, const T* w, T* y) {
  for_each_block(p, x, [&](int grp, int64_t r0, int64_t r1, const T* a, int64_t lda) {
    gemm<T>(CblasNoTrans, CblasTrans, r1 - r0, p.cog, p.cols, a, lda, w + grp * p.cog * p.cols, p.cols, T(0),
            y + r0 * p.cout + grp * p.cog, p.cout);
  });
}

// dw (cout x cols) = dy^T @ im2col(x) per group, accumulated over the blocks.
template <typename T>
void weight_grad(const Plan& p, const T* x, const T* dy, T* dw) {
  for_each_block(p, x, [&](int grp, int64_t r0, int64_t r1, const T* a, int64_t lda) {
    gemm<T>(CblasTrans, CblasNoTrans, p.cog, p.cols, r1 - r0, dy + r0 * p.cout + grp * p.cog, p.cout, a, lda,
            r0 == 0 ? T(0) : T(1), dw + grp * p.cog * p.cols, p.cols);
  });
}

// `a` densely in the compute type `ct`: its own elements when they already are, else a copy
// (returned, to be kept while `ptr` is used).
BufferPtr dense_as(const array& a, Dtype ct, const void*& ptr) {
  auto& src = const_cast<array&>(a);
  if (a.flags().row_contiguous && a.dtype() == ct) {
    ptr = src.raw_host_ptr();
    return nullptr;
  }
  BufferPtr dense = cpu::dense_copy(a, ct);
  ptr = dense->host_ptr();
  return dense;
}

template <typename T>
void run(const Plan& p, Convolution::Mode mode, const void* a, const void* b, void* out) {
  if (mode == Convolution::Forward) {
    forward<T>(p, static_cast<const T*>(a), static_cast<const T*>(b), static_cast<T*>(out));
  } else {
    weight_grad<T>(p, static_cast<const T*>(a), static_cast<const T*>(b), static_cast<T*>(out));
  }
}

}  // namespace

void Convolution::eval_cpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  array& out = outputs[0];
  out.set_data(cpu::malloc(out.nbytes()));
  if (out.size() == 0) return;
  const Dtype t = out.dtype();
  if (!(t == float32 || t == float64 || t == float16 || t == bfloat16)) {
    throw std::invalid_argument("[conv] unsupported dtype " + to_string(t));
  }
  const array& x = inputs[0];
  // Forward: (x, w) -> y; WeightGrad: (x, dy) -> dw.
  const Shape& w_shape = mode_ == Forward ? inputs[1].shape() : out.shape();
  const Shape& y_shape = mode_ == Forward ? out.shape() : inputs[1].shape();
  const Plan p = make_plan(x.shape(), w_shape, y_shape, g_);
  if (p.rows == 0 || x.size() == 0) {  // no output positions or no input: zeros
    std::memset(out.raw_host_ptr(), 0, out.nbytes());
    return;
  }
  const Dtype ct = t == float64 ? float64 : float32;
  const void *a = nullptr, *b = nullptr;
  BufferPtr keep_a = dense_as(x, ct, a), keep_b = dense_as(inputs[1], ct, b);
  BufferPtr tmp = t == ct ? nullptr : cpu::malloc(out.size() * sizeof(float));
  void* dst = tmp ? tmp->host_ptr() : out.raw_host_ptr();
  if (t == float64) {
    run<double>(p, mode_, a, b, dst);
  } else if (!cpu::onednn_conv(p, x.ndim() - 2, g_, mode_, static_cast<const float*>(a),
                               static_cast<const float*>(b), static_cast<float*>(dst))) {
    run<float>(p, mode_, a, b, dst);
  }
  if (tmp) convert_elements(tmp->host_ptr(), float32, out.raw_host_ptr(), t, out.size());
}

}  // namespace tessera
