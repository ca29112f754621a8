// hadamard_transform (ops/hadamard.hpp). H_(2^k) factors into Sylvester matrices of at most
// 128 rows (H_(ab) = H_a ⊗ H_b when a and b are powers of two), so the transform is a few
// matmuls by small constant matrices, one per factor and one by H_m: O(n * (sum of the
// factors)) work per row instead of a dense n x n product, and a GEMM shape both backends run
// well. Gradients (including the transpose of the non-symmetric H_m) and vmap come from matmul.
#include "tessera/ops/hadamard.hpp"

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "tessera/ops/elementwise.hpp"
#include "tessera/ops/matmul.hpp"
#include "tessera/ops/shape.hpp"

namespace tessera {

namespace {

// Hadamard matrices of orders 12, 20 and 28 from N. J. A. Sloane's library of Hadamard
// matrices (neilsloane.com/hadamard), the ones MLX's hadamard_transform uses: the same signs
// give the same numbers. '+' is +1, '-' is -1; row j, column k is H[j][k].
const char* const kOrder12[] = {
    "+-++++++++++", "--+-+-+-+-+-", "+++-++----++", "+---+--+-++-", "+++++-++----", "+-+---+--+-+",
    "++--+++-++--", "+--++---+--+", "++----+++-++", "+--+-++---+-", "++++----+++-", "+-+--+-++---"};
const char* const kOrder20[] = {
    "+----+----++--++-++-", "-+----+---+++---+-++", "--+----+---+++-+-+-+", "---+----+---+++++-+-",
    "----+----++--++-++-+", "-+++++-----+--+++--+", "+-+++-+---+-+--+++--", "++-++--+---+-+--+++-",
    "+++-+---+---+-+--+++", "++++-----++--+-+--++", "--++-+-++-+-----++++", "---++-+-++-+---+-+++",
    "+---++-+-+--+--++-++", "++---++-+----+-+++-+", "-++---++-+----+++++-", "-+--+--++-+----+----",
    "+-+-----++-+----+---", "-+-+-+---+--+----+--", "--+-+++------+----+-", "+--+--++------+----+"};
const char* const kOrder28[] = {
    "+------++----++-+--+-+--++--", "-+-----+++-----+-+--+-+--++-", "--+-----+++---+-+-+----+--++",
    "---+-----+++---+-+-+-+--+--+", "----+-----+++---+-+-+++--+--", "-----+-----++++--+-+--++--+-",
    "------++----++-+--+-+--++--+", "--++++-+-------++--+++-+--+-", "---++++-+-----+-++--+-+-+--+",
    "+---+++--+----++-++--+-+-+--", "++---++---+----++-++--+-+-+-", "+++---+----+----++-++--+-+-+",
    "++++--------+-+--++-++--+-+-", "-++++--------+++--++--+--+-+", "-+-++-++--++--+--------++++-",
    "+-+-++--+--++--+--------++++", "-+-+-++--+--++--+----+---+++", "+-+-+-++--+--+---+---++---++",
    "++-+-+-++--+------+--+++---+", "-++-+-+-++--+------+-++++---", "+-++-+---++--+------+-++++--",
    "-++--++-+-++-+++----++------", "+-++--++-+-++-+++-----+-----", "++-++---+-+-++-+++-----+----",
    "-++-++-+-+-+-+--+++-----+---", "--++-++++-+-+----+++-----+--", "+--++-+-++-+-+----+++-----+-",
    "++--++-+-++-+-+----++------+"};

array signs_matrix(int m, Dtype dtype, StreamOrDevice s) {
  const char* const* rows = m == 12 ? kOrder12 : m == 20 ? kOrder20 : kOrder28;
  std::vector<float> v;
  v.reserve(static_cast<size_t>(m) * m);
  for (int j = 0; j < m; ++j)
    for (int k = 0; k < m; ++k) v.push_back(rows[j][k] == '+' ? 1.0f : -1.0f);
  return astype(array(v, {m, m}, float32), dtype, s);
}

array sylvester_matrix(int f, Dtype dtype, StreamOrDevice s) {
  std::vector<float> v;
  v.reserve(static_cast<size_t>(f) * f);
  for (int i = 0; i < f; ++i)
    for (int j = 0; j < f; ++j) v.push_back(__builtin_popcount(static_cast<unsigned>(i & j)) % 2 ? -1.0f : 1.0f);
  return astype(array(v, {f, f}, float32), dtype, s);
}

// x (..., f, after) -> H x along the f axis; H @ x unless `after` is 1, where x @ H^T is one
// GEMM instead of a batch of matrix-vector products.
array apply_along(const array& h, const array& x, int after, StreamOrDevice s) {
  if (after != 1) return matmul(h, x, s);
  Shape rows = x.shape();
  rows.pop_back();
  return reshape(matmul(reshape(x, rows, s), transpose(h, s), s), x.shape(), s);
}

}  // namespace

array hadamard_transform(const array& a, std::optional<float> scale, StreamOrDevice s) {
  const std::string fn = "[hadamard_transform] ";
  if (a.size() == 0) {
    throw std::invalid_argument(fn + "the array is empty (shape " + shape_string(a.shape()) + ")");
  }
  if (a.dtype() == complex64) throw std::invalid_argument(fn + "complex64 input is not supported");
  const int n = a.ndim() > 0 ? a.shape(-1) : 1;
  const float sc = scale ? *scale : 1.0f / std::sqrt(static_cast<float>(n));
  const Dtype dtype = is_floating(a.dtype()) ? a.dtype() : float32;
  if (n == 1) return sc == 1.0f ? a : multiply(a, array(sc, dtype), s);

  // n = m * 2^k.
  int m = 1;
  if ((n & (n - 1)) != 0) {
    for (int order : {12, 20, 28}) {
      if (n % order == 0 && ((n / order) & (n / order - 1)) == 0) {
        m = order;
        break;
      }
    }
    if (m == 1) {
      throw std::invalid_argument(fn + "the last axis has length " + std::to_string(n) + " (shape " +
                                  shape_string(a.shape()) +
                                  "); the transform takes n = m * 2^k with m in (1, 12, 20, 28)");
    }
  }
  const int pow2 = n / m;
  int k = 0;
  while ((1 << k) < pow2) ++k;
  if (k > 26) {
    throw std::invalid_argument(fn + "the last axis has length " + std::to_string(n) +
                                "; the transform takes n = m * 2^k with k <= 26");
  }

  // Sylvester factors of at most 2^7 = 128 rows, as even as possible.
  std::vector<int> factors;
  const int count = (k + 6) / 7;
  for (int i = 0; i < count; ++i) factors.push_back(1 << (k / count + (i < k % count ? 1 : 0)));

  Shape batch = a.shape();
  batch.pop_back();
  auto with_batch = [&](std::initializer_list<int> tail) {
    Shape sh = batch;
    sh.insert(sh.end(), tail.begin(), tail.end());
    return sh;
  };
  array x = astype(a, dtype, s);
  int before = m;  // the axis' elements above the factor being applied
  for (size_t p = 0; p < factors.size(); ++p) {
    const int f = factors[p], after = pow2 / (before / m) / f;
    x = apply_along(sylvester_matrix(f, dtype, s), reshape(x, with_batch({before, f, after}), s), after, s);
    before *= f;
  }
  if (m > 1) x = apply_along(signs_matrix(m, dtype, s), reshape(x, with_batch({m, pow2}), s), pow2, s);
  x = reshape(x, a.shape(), s);
  return sc == 1.0f ? x : multiply(x, array(sc, dtype), s);
}

}  // namespace tessera
