// matmul and addmm: argument checking, 1-D promotion, batch broadcasting, gradients.
#include "tessera/ops/matmul.hpp"

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "tessera/ops/creation.hpp"
#include "tessera/ops/elementwise.hpp"
#include "tessera/ops/shape.hpp"
#include "tessera/primitives/elementwise.hpp"
#include "tessera/primitives/matmul.hpp"
#include "transforms/batching.hpp"

namespace tessera {

namespace {

void check_dtype(const char* op, const array& x) {
  const Dtype t = x.dtype();
  if (!(t == float16 || t == bfloat16 || t == float32 || t == float64 || t == complex64)) {
    throw std::invalid_argument(std::string("[") + op + "] unsupported dtype " + to_string(t) +
                                " (shape " + shape_string(x.shape()) +
                                "): only float16, bfloat16, float32, float64 and complex64 are "
                                "supported");
  }
}

array cast(const array& a, Dtype t, StreamOrDevice s) {
  if (a.dtype() == t) return a;
  return apply_elementwise(ElemOp::AsType, {a}, s, t);
}

// Shapes of the product (after 1-D promotion and batch broadcasting) and the checks, shared
// by matmul and addmm.
struct Plan {
  Shape batch;
  int32_t m, k, n;
  Shape out_shape;  // with the 1-D axes removed
};

Plan plan(const char* op, const array& a, const array& b) {
  if (a.ndim() == 0 || b.ndim() == 0) {
    throw std::invalid_argument(std::string("[") + op +
                                "] operands must have at least one dimension, got " +
                                shape_string(a.shape()) + " @ " + shape_string(b.shape()));
  }
  check_dtype(op, a);
  check_dtype(op, b);
  Plan p;
  const Shape& as = a.shape();
  const Shape& bs = b.shape();
  p.k = as.back();
  const int32_t kb = b.ndim() == 1 ? bs[0] : bs[bs.size() - 2];
  if (p.k != kb) {
    throw std::invalid_argument(std::string("[") + op + "] inner dimensions differ: " +
                                shape_string(as) + " @ " + shape_string(bs));
  }
  p.m = a.ndim() == 1 ? 1 : as[as.size() - 2];
  p.n = b.ndim() == 1 ? 1 : bs.back();
  Shape ba(as.begin(), as.end() - std::min<size_t>(as.size(), 2));
  Shape bb(bs.begin(), bs.end() - std::min<size_t>(bs.size(), 2));
  try {
    p.batch = broadcast_shapes(ba, bb, op);
  } catch (const std::invalid_argument&) {
    throw std::invalid_argument(std::string("[") + op + "] batch dimensions of " +
                                shape_string(as) + " and " + shape_string(bs) +
                                " cannot be broadcast together");
  }
  // The operands broadcast to the batch and the product, checked under the op's name (matmul
  // builds them with broadcast_to, whose own check would name broadcast_to).
  const size_t itemsize = promote_types(a.dtype(), b.dtype()).size();
  for (auto [rows, cols] : {std::pair{p.m, p.k}, std::pair{p.k, p.n}, std::pair{p.m, p.n}}) {
    Shape full = p.batch;
    full.insert(full.end(), {rows, cols});
    checked_shape_size(full, itemsize, op);
  }
  p.out_shape = p.batch;
  if (a.ndim() > 1) p.out_shape.push_back(p.m);
  if (b.ndim() > 1) p.out_shape.push_back(p.n);
  return p;
}

}  // namespace

namespace {
// A complex product from real ones: (ar + i ai)(br + i bi) = (ar br - ai bi) + i (ar bi + ai br),
// four float32 matmuls (Gauss's three-product form saves one but loses accuracy when the parts
// differ in scale), and no product with the zero imaginary part of a real operand. Its
// gradients come from those of real, imag and the real matmuls.
array complex_matmul(const array& a, const array& b, StreamOrDevice s) {
  auto parts = [&](const array& x) -> std::pair<array, std::optional<array>> {
    if (is_complex(x.dtype())) return {real(x, s), imag(x, s)};
    return {cast(x, float32, s), std::nullopt};
  };
  auto [ar, ai] = parts(a);
  auto [br, bi] = parts(b);
  array re = matmul(ar, br, s);
  if (ai && bi) re = subtract(re, matmul(*ai, *bi, s), s);
  std::optional<array> im;
  if (bi) im = matmul(ar, *bi, s);
  if (ai) im = im ? add(*im, matmul(*ai, br, s), s) : matmul(*ai, br, s);
  ProgramBuilder pb;
  const int rre = pb.input(re), rim = pb.input(*im), unit = pb.input(array(complex64_t(0, 1)));
  const int r = pb.emit(ElemOp::AsType, {rre}, complex64);
  const int ri = pb.emit(ElemOp::AsType, {rim}, complex64);
  return pb.finish(pb.emit(ElemOp::Add, {r, pb.emit(ElemOp::Multiply, {ri, unit})}), s);
}
}  // namespace

array matmul(const array& a_in, const array& b_in, StreamOrDevice s) {
  Plan p = plan("matmul", a_in, b_in);
  const Dtype t = promote_types(a_in.dtype(), b_in.dtype());
  if (t == complex64) return complex_matmul(a_in, b_in, s);
  array a = cast(a_in, t, s);
  array b = cast(b_in, t, s);
  if (a.ndim() == 1) a = reshape(a, {1, p.k}, s);
  if (b.ndim() == 1) b = reshape(b, {p.k, 1}, s);
  Shape sa = p.batch, sb = p.batch, so = p.batch;
  sa.insert(sa.end(), {p.m, p.k});
  sb.insert(sb.end(), {p.k, p.n});
  so.insert(so.end(), {p.m, p.n});
  a = broadcast_to(a, sa, s);
  b = broadcast_to(b, sb, s);
  array out(so, t, std::make_shared<Matmul>(to_stream(s)), {a, b});
  if (so != p.out_shape) out = reshape(out, p.out_shape, s);
  return out;
}

// beta * c + alpha * (a @ b), in the product's dtype, as one fused elementwise node over the
// product (alpha == 1 and beta == 0 skip their terms).
array addmm(array c, array a, array b, const float& alpha, const float& beta, StreamOrDevice s) {
  Plan p = plan("addmm", a, b);
  const Dtype t = promote_types(a.dtype(), b.dtype());
  if (!broadcasts_to(c.shape(), p.out_shape)) {
    throw std::invalid_argument("[addmm] c of shape " + shape_string(c.shape()) +
                                " does not broadcast to the product's shape " +
                                shape_string(p.out_shape));
  }
  array ab = matmul(a, b, s);
  ProgramBuilder pb;
  int rab = pb.input(ab);
  int rc = beta != 0.f ? pb.input(cast(c, t, s)) : -1;
  int ralpha = alpha != 1.f ? pb.input(array(alpha, t)) : -1;
  int rbeta = (beta != 0.f && beta != 1.f) ? pb.input(array(beta, t)) : -1;
  int r = rab;
  if (ralpha >= 0) r = pb.emit(ElemOp::Multiply, {ralpha, r});
  if (rc >= 0) {
    int cterm = rbeta >= 0 ? pb.emit(ElemOp::Multiply, {rbeta, rc}) : rc;
    r = pb.emit(ElemOp::Add, {cterm, r});
  }
  array out = pb.finish(r, s);
  if (out.shape() != p.out_shape) out = broadcast_to(out, p.out_shape, s);
  return out;
}

bool Matmul::is_equivalent(const Primitive& other) const {
  return dynamic_cast<const Matmul*>(&other) != nullptr;
}

std::vector<array> Matmul::vjp(const std::vector<array>& primals,
                               const std::vector<array>& cotangents,
                               const std::vector<int>& argnums, const std::vector<array>&) {
  const Stream& s = stream();
  const array& ct = cotangents[0];
  std::vector<array> out;
  for (int i : argnums) {
    if (i == 0) {
      out.push_back(matmul(ct, swapaxes(primals[1], -1, -2, s), s));
    } else {
      out.push_back(matmul(swapaxes(primals[0], -1, -2, s), ct, s));
    }
  }
  return out;
}

std::vector<array> Matmul::jvp(const std::vector<array>& primals,
                               const std::vector<array>& tangents,
                               const std::vector<int>& argnums) {
  const Stream& s = stream();
  std::optional<array> out;
  for (size_t k = 0; k < argnums.size(); ++k) {
    array term = argnums[k] == 0 ? matmul(tangents[k], primals[1], s)
                                 : matmul(primals[0], tangents[k], s);
    out = out ? apply_elementwise(ElemOp::Add, {*out, term}, s) : term;
  }
  return {*out};
}


// Batching rule: the Matmul node's operands have equal batch dimensions; the batch axis goes in
// front of them (a shared operand is broadcast along it).
std::pair<std::vector<array>, std::vector<int>> Matmul::vmap(const std::vector<array>& in,
                                                             const std::vector<int>& axes) {
  const int batch = batching::batch_size(in, axes, "Matmul");
  array a = batching::with_batch_in_front(in[0], axes[0], batch, stream());
  array b = batching::with_batch_in_front(in[1], axes[1], batch, stream());
  Shape out = a.shape();
  out.back() = b.shape().back();
  return {{array(out, a.dtype(), std::make_shared<Matmul>(stream()), {a, b})}, {0}};
}

std::vector<Shape> Matmul::output_shapes(const std::vector<array>& in) {
  const Shape& a = in[0].shape();
  const Shape& b = in[1].shape();
  if (a.size() != b.size() || a[a.size() - 1] != b[b.size() - 2] ||
      !std::equal(a.begin(), a.end() - 2, b.begin())) {
    throw std::invalid_argument("[compile] shapeless: Matmul of shapes " + shape_string(a) +
                                " and " + shape_string(b));
  }
  Shape out = a;
  out.back() = b.back();
  return {out};
}

}  // namespace tessera
