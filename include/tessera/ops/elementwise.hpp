#pragma once
// The elementwise ops: add, multiply, sin, exp, where, astype, ... Each is an ordinary function
// template returning an `array`, as MLX's are plain functions returning arrays: under
// `using namespace tessera;` (or MLX's `using namespace mlx::core;` through the alias) an
// unqualified `exp(x)` picks Tessera's for arrays and expressions and `exp(2.0)` still picks
// <cmath>'s, because Tessera's take at least one array or expression; and `auto y = exp(x);`
// holds an array that can later be assigned any other array, as in MLX.
//
// They still fuse. The operators (+, *, <, ...) build expressions (expr/expr.hpp) that become one
// graph node; a function called on an expression folds the whole expression into its node; and
// a function result used once (`exp(sin(x))`, `sqrt(x) * 2`) is folded into the node that
// consumes it. With a trailing stream or device the op runs there. The list of ops is
// TESSERA_*_OPS in primitives/elementwise.hpp; CPU kernels: backend/cpu/elementwise*.{hpp,cpp};
// GLSL: shaders/elementwise_ops.glsl.
#include <optional>
#include <vector>

#include "tessera/expr/expr.hpp"

namespace tessera {

// An array or an expression: what an elementwise function needs at least one of (scalars alone
// are the C library's).
template <typename T>
concept ArrayOrExpr = Operand<T> && !ScalarType<std::remove_cvref_t<T>>;

#define TESSERA_UNARY_FUNCTION(N, n)                                                         \
  template <ArrayOrExpr A>                                                                   \
  array n(A&& a, StreamOrDevice s = {}) {                                                    \
    return make_expr<ElemOp::N>(float32, std::forward<A>(a)).materialize(s);                 \
  }
#define TESSERA_BINARY_FUNCTION(N, n)                                                        \
  template <typename A, typename B>                                                          \
    requires ArrayOperands<A, B>                                                             \
  array n(A&& a, B&& b, StreamOrDevice s = {}) {                                             \
    return make_expr<ElemOp::N>(float32, std::forward<A>(a), std::forward<B>(b)).materialize(s); \
  }
TESSERA_UNARY_MATH_OPS(TESSERA_UNARY_FUNCTION)
TESSERA_BINARY_OPS(TESSERA_BINARY_FUNCTION)
#undef TESSERA_UNARY_FUNCTION
#undef TESSERA_BINARY_FUNCTION

// where(condition, x, y): at least one of the three is an array or expression.
template <Operand C, Operand A, Operand B>
  requires(ArrayOrExpr<C> || ArrayOrExpr<A> || ArrayOrExpr<B>)
array where(C&& c, A&& a, B&& b, StreamOrDevice s = {}) {
  return make_expr<ElemOp::Select>(float32, std::forward<C>(c), std::forward<A>(a),
                                   std::forward<B>(b)).materialize(s);
}

// The parts of a complex64 array (float32) and its complex conjugate. As in MLX and NumPy, a
// real array is its own real part and conjugate (returned as is), and its imaginary part is
// zeros. Their gradients follow JAX's convention; docs/mlx-compat.md says where MLX differs.
array real(const array& a, StreamOrDevice s = {});
array imag(const array& a, StreamOrDevice s = {});
array conjugate(const array& a, StreamOrDevice s = {});

// Composed elementwise ops (one fused node each): `a` limited to [a_min, a_max] (either may be
// absent, not both); angles converted between radians and degrees in a's float dtype.
array clip(const array& a, const std::optional<array>& a_min, const std::optional<array>& a_max,
           StreamOrDevice s = {});
array degrees(const array& a, StreamOrDevice s = {});
array radians(const array& a, StreamOrDevice s = {});
// MLX 0.32's small ops, composed: +a (a copy), truncation toward zero, exclusive or of the
// truthiness of a and b, NaN / +inf / -inf replaced (by 0 and the dtype's extremes unless
// given), rounding to `decimals` (half to even), and {floor_divide(a, b), remainder(a, b)}.
array positive(const array& a, StreamOrDevice s = {});
array trunc(const array& a, StreamOrDevice s = {});
array logical_xor(const array& a, const array& b, StreamOrDevice s = {});
array nan_to_num(const array& a, float nan = 0.0f, std::optional<float> posinf = std::nullopt,
                 std::optional<float> neginf = std::nullopt, StreamOrDevice s = {});
array round(const array& a, int decimals, StreamOrDevice s = {});
std::vector<array> divmod(const array& a, const array& b, StreamOrDevice s = {});

// astype as an expression (fusable) and as MLX's function returning an array.
template <Operand A>
  requires(!ScalarType<std::remove_cvref_t<A>>)
auto astype_expr(A&& a, Dtype dtype) {
  return make_expr<ElemOp::AsType>(dtype, std::forward<A>(a));
}
array astype(const array& a, Dtype dtype, StreamOrDevice s = {});

}  // namespace tessera
