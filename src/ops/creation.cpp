// Creation ops. Constant fills are a broadcast scalar copied into a dense array (the Copy
// primitive), and eye/tri/linspace are elementwise programs over aranges, so every creation op
// runs on both devices through a few kernels.
#include "tessera/ops/creation.hpp"

#include <cmath>
#include <optional>

#include <cmath>

#include "tessera/ops/elementwise.hpp"
#include "tessera/ops/shape.hpp"
#include "tessera/primitives/creation.hpp"
#include "tessera/primitives/elementwise.hpp"

namespace tessera {

namespace {
// What every creation op checks first, under its own name: the dtype, and the output shape's
// size in it.
void check_creation(const Shape& shape, Dtype dtype, const char* op) {
  check_valid_dtype(dtype, op);
  checked_shape_size(shape, dtype.size(), op);
}

// `full` under the name of the op the user called (full, full_like, zeros, ones), validated
// before broadcast_to so that a bad shape is not reported as broadcast_to's.
array fill(const Shape& shape, const array& vals, Dtype dtype, const char* op, StreamOrDevice s) {
  check_creation(shape, dtype, op);
  if (!broadcasts_to(vals.shape(), shape)) {
    throw std::invalid_argument(std::string("[") + op + "] cannot broadcast values of shape " +
                                shape_string(vals.shape()) + " to the shape " +
                                shape_string(shape));
  }
  array v = vals.dtype() == dtype ? vals : apply_elementwise(ElemOp::AsType, {vals}, s, dtype);
  return contiguous(broadcast_to(v, shape, s), false, s);
}
}  // namespace

array full(const Shape& shape, const array& vals, Dtype dtype, StreamOrDevice s) {
  return fill(shape, vals, dtype, "full", s);
}
array full(const Shape& shape, const array& vals, StreamOrDevice s) {
  return fill(shape, vals, vals.dtype(), "full", s);
}
array zeros(const Shape& shape, Dtype dtype, StreamOrDevice s) {
  check_valid_dtype(dtype, "zeros");  // before the scalar is made in it
  return fill(shape, array(false, dtype), dtype, "zeros", s);
}
array ones(const Shape& shape, Dtype dtype, StreamOrDevice s) {
  check_valid_dtype(dtype, "ones");
  return fill(shape, array(true, dtype), dtype, "ones", s);
}
array zeros_like(const array& a, StreamOrDevice s) { return zeros(a.shape(), a.dtype(), s); }
array ones_like(const array& a, StreamOrDevice s) { return ones(a.shape(), a.dtype(), s); }
array zeros_like(const array& a, Dtype dtype, StreamOrDevice s) { return zeros(a.shape(), dtype, s); }
array ones_like(const array& a, Dtype dtype, StreamOrDevice s) { return ones(a.shape(), dtype, s); }
array full_like(const array& a, const array& vals, StreamOrDevice s) {
  return fill(a.shape(), vals, a.dtype(), "full_like", s);
}

array arange(double start, double stop, double step, Dtype dtype, StreamOrDevice s) {
  check_valid_dtype(dtype, "arange");
  if (dtype == bool_) throw std::invalid_argument("[arange] cannot use the bool dtype");
  if (is_complex(dtype)) throw std::invalid_argument("[arange] cannot use the complex64 dtype");
  if (step == 0 || std::isnan(step) || std::isnan(start) || std::isnan(stop)) {
    throw std::invalid_argument("[arange] step must be a non-zero number and start/stop numbers");
  }
  if (std::isinf(start) || std::isinf(stop)) {
    throw std::invalid_argument("[arange] start and stop must be finite");
  }
  double len = std::ceil((stop - start) / step);
  if (len > static_cast<double>(std::numeric_limits<int32_t>::max())) {
    throw std::invalid_argument("[arange] the range has " + std::to_string(len) +
                                " elements, more than an int32 shape allows");
  }
  int32_t n = std::max<int32_t>(0, static_cast<int32_t>(len));
  return array(Shape{n}, dtype, std::make_shared<Arange>(to_stream(s), start, step), {});
}
array arange(double start, double stop, double step, StreamOrDevice s) {
  return arange(start, stop, step, float32, s);
}
array arange(double start, double stop, Dtype dtype, StreamOrDevice s) {
  return arange(start, stop, 1.0, dtype, s);
}
array arange(double start, double stop, StreamOrDevice s) { return arange(start, stop, 1.0, float32, s); }
array arange(double stop, Dtype dtype, StreamOrDevice s) { return arange(0.0, stop, 1.0, dtype, s); }
array arange(double stop, StreamOrDevice s) { return arange(0.0, stop, 1.0, float32, s); }
array arange(int start, int stop, int step, StreamOrDevice s) {
  return arange(static_cast<double>(start), static_cast<double>(stop), static_cast<double>(step),
                int32, s);
}
array arange(int start, int stop, StreamOrDevice s) { return arange(start, stop, 1, s); }
array arange(int stop, StreamOrDevice s) { return arange(0, stop, 1, s); }

array linspace(double start, double stop, int num, Dtype dtype, StreamOrDevice s) {
  return linspace(start, stop, num, true, dtype, s);
}
array linspace(double start, double stop, int num, bool endpoint, Dtype dtype, StreamOrDevice s) {
  if (num < 0) {
    throw std::invalid_argument("[linspace] num must be non-negative, got " + std::to_string(num));
  }
  check_valid_dtype(dtype, "linspace");
  // float64 ranges are computed in float64, everything else in float32 (as MLX).
  const Dtype t_dtype = dtype == float64 ? float64 : float32;
  if (num == 1) return astype(array(start, t_dtype), dtype, s).reshape({1});
  // t in [0, 1]; start * (1 - t) + stop * t hits both ends exactly. One fused node.
  ProgramBuilder b;
  int i = b.input(arange(0, num, 1.0, t_dtype, s));
  int n1 = b.input(array(endpoint ? std::max(num - 1, 1) : std::max(num, 1), t_dtype));
  int one = b.input(array(1, t_dtype));
  int lo = b.input(array(start, t_dtype));
  int hi = b.input(array(stop, t_dtype));
  int t = b.emit(ElemOp::Divide, {i, n1});
  int tbar = b.emit(ElemOp::Subtract, {one, t});
  int v = b.emit(ElemOp::Add, {b.emit(ElemOp::Multiply, {tbar, lo}), b.emit(ElemOp::Multiply, {t, hi})});
  return b.finish(b.emit(ElemOp::AsType, {v}, dtype), s);
}

namespace {
// n = 0, 1, ..., M - 1 as float32 and the window's angle step, or the trivial windows.
std::optional<array> trivial_window(int M, StreamOrDevice s) {
  if (M < 1) return zeros({0}, float32, s);
  if (M == 1) return ones({1}, float32, s);
  return std::nullopt;
}
}  // namespace

array hanning(int M, StreamOrDevice s) {
  if (auto w = trivial_window(M, s)) return *w;
  return square(sin(multiply(array(static_cast<float>(M_PI / (M - 1))), arange(0, M, 1.0, float32, s), s), s), s);
}
array hamming(int M, StreamOrDevice s) {
  if (auto w = trivial_window(M, s)) return *w;
  array c = cos(multiply(array(static_cast<float>(2.0 * M_PI / (M - 1))), arange(0, M, 1.0, float32, s), s), s);
  return subtract(array(0.54f), multiply(array(0.46f), c, s), s);
}
array bartlett(int M, StreamOrDevice s) {
  if (auto w = trivial_window(M, s)) return *w;
  array t = subtract(multiply(array(2.0f / (M - 1)), arange(0, M, 1.0, float32, s), s), array(1.0f), s);
  return subtract(array(1.0f), abs(t, s), s);
}
array blackman(int M, StreamOrDevice s) {
  if (auto w = trivial_window(M, s)) return *w;
  array c = cos(multiply(array(static_cast<float>(2.0 * M_PI / (M - 1))), arange(0, M, 1.0, float32, s), s), s);
  return add(subtract(array(0.34f), multiply(array(0.5f), c, s), s), multiply(array(0.16f), square(c, s), s), s);
}

namespace {
// (col - row) <cmp> k over an n x m grid, as `dtype`. The difference of two indices always fits
// in int32, where row + k would overflow for a k near INT_MAX (tri(3, 3, INT_MAX) is all ones,
// as NumPy's, and INT_MIN all zeros).
array diagonal_mask(int n, int m, int k, ElemOp cmp, Dtype dtype, const char* op, StreamOrDevice s) {
  if (n < 0 || m < 0) {
    throw std::invalid_argument(std::string("[") + op + "] dimensions must be non-negative, got n=" +
                                std::to_string(n) + " m=" + std::to_string(m));
  }
  check_creation({n, m}, dtype, op);
  ProgramBuilder b;
  int rows = b.input(reshape(arange(0, n, s), {n, 1}, s));
  int cols = b.input(reshape(arange(0, m, s), {1, m}, s));
  int kk = b.input(array(k));
  int r = b.emit(cmp, {b.emit(ElemOp::Subtract, {cols, rows}), kk});
  return b.finish(b.emit(ElemOp::AsType, {r}, dtype), s);
}
}  // namespace

array eye(int n, int m, int k, Dtype dtype, StreamOrDevice s) {
  return diagonal_mask(n, m, k, ElemOp::Equal, dtype, "eye", s);
}
array eye(int n, Dtype dtype, StreamOrDevice s) { return eye(n, n, 0, dtype, s); }
array identity(int n, Dtype dtype, StreamOrDevice s) {
  return diagonal_mask(n, n, 0, ElemOp::Equal, dtype, "identity", s);
}
array tri(int n, int m, int k, Dtype dtype, StreamOrDevice s) {
  return diagonal_mask(n, m, k, ElemOp::LessEqual, dtype, "tri", s);
}
array tri(int n, Dtype dtype, StreamOrDevice s) { return tri(n, n, 0, dtype, s); }

bool Arange::is_equivalent(const Primitive& o) const {
  auto* a = dynamic_cast<const Arange*>(&o);
  return a && a->start_ == start_ && a->step_ == step_;
}

}  // namespace tessera

namespace tessera {

// Gradients through a non-differentiable primitive are zero. For jvp an empty result means
// "no tangent", which the transform treats as zero without materialising anything.
std::vector<array> NonDifferentiable::jvp(const std::vector<array>&, const std::vector<array>&,
                                          const std::vector<int>&) {
  return {};
}
std::vector<array> NonDifferentiable::vjp(const std::vector<array>& primals,
                                          const std::vector<array>&,
                                          const std::vector<int>& argnums,
                                          const std::vector<array>&) {
  std::vector<array> out;
  for (int i : argnums) out.push_back(zeros_like(primals[i], stream()));
  return out;
}

}  // namespace tessera
