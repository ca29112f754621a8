#pragma once
// The elementwise ops: add, multiply, sin, exp, where, astype, ... Each is a function object
// (one per name, as std::ranges' algorithms), so it can be handed to generic code
// (`auto f = tessera::exp; f(x)`). Called without a stream it returns an expression that fuses
// with its neighbours (see expr/expr.hpp); called with a trailing stream or device it returns
// the computed array. The list of ops is TESSERA_*_OPS in primitives/elementwise.hpp; CPU
// kernels: backend/cpu/elementwise*.{hpp,cpp}; GLSL: shaders/elementwise_ops.glsl.
#include "tessera/expr/expr.hpp"

namespace tessera {

// The elementwise functions are objects (like std::ranges' algorithms), so they can be passed
// to generic code: `auto f = tessera::exp; f(x);`. Without a stream they return an expression;
// with one, an array computed on that stream.
template <ElemOp Op>
struct UnaryFunction {
  template <Operand A>
  auto operator()(A&& a) const { return make_expr<Op>(float32, std::forward<A>(a)); }
  template <Operand A>
  array operator()(A&& a, StreamOrDevice s) const { return (*this)(std::forward<A>(a)).materialize(s); }
};
template <ElemOp Op>
struct BinaryFunction {
  template <Operand A, Operand B>
  auto operator()(A&& a, B&& b) const {
    return make_expr<Op>(float32, std::forward<A>(a), std::forward<B>(b));
  }
  template <Operand A, Operand B>
  array operator()(A&& a, B&& b, StreamOrDevice s) const {
    return (*this)(std::forward<A>(a), std::forward<B>(b)).materialize(s);
  }
};
struct WhereFunction {
  template <Operand C, Operand A, Operand B>
  auto operator()(C&& c, A&& a, B&& b) const {
    return make_expr<ElemOp::Select>(float32, std::forward<C>(c), std::forward<A>(a), std::forward<B>(b));
  }
  template <Operand C, Operand A, Operand B>
  array operator()(C&& c, A&& a, B&& b, StreamOrDevice s) const {
    return (*this)(std::forward<C>(c), std::forward<A>(a), std::forward<B>(b)).materialize(s);
  }
};

#define TESSERA_UNARY_OBJECT(N, n) inline constexpr UnaryFunction<ElemOp::N> n{};
#define TESSERA_BINARY_OBJECT(N, n) inline constexpr BinaryFunction<ElemOp::N> n{};
TESSERA_UNARY_MATH_OPS(TESSERA_UNARY_OBJECT)
TESSERA_BINARY_OPS(TESSERA_BINARY_OBJECT)
#undef TESSERA_UNARY_OBJECT
#undef TESSERA_BINARY_OBJECT
inline constexpr WhereFunction where{};

// astype as an expression (fusable) and as MLX's function returning an array.
template <Operand A>
  requires(!ScalarType<std::remove_cvref_t<A>>)
auto astype_expr(A&& a, Dtype dtype) {
  return make_expr<ElemOp::AsType>(dtype, std::forward<A>(a));
}
array astype(const array& a, Dtype dtype, StreamOrDevice s = {});

}  // namespace tessera
