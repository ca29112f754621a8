#pragma once
// Expression templates. Operators and the elementwise functions return `Expr<Op, Args...>`
// objects that hold their operands by value (array handles or nested expressions), so
// `auto e = a * x + b;` is safe to keep. An expression knows its shape and dtype from the moment
// it is built (bad shapes and dtypes throw there), and converts implicitly to `array`. The
// conversion turns the whole tree into ONE Elementwise graph node: one CPU loop and one GPU
// dispatch, whatever the number of operations.
#include <algorithm>
#include <concepts>
#include <stdexcept>
#include <string>
#include <ostream>
#include <tuple>
#include <type_traits>

#include "tessera/primitives/elementwise.hpp"

namespace tessera {

template <ElemOp Op, typename... Args>
class Expr;

template <typename T>
struct is_expr : std::false_type {};
template <ElemOp Op, typename... Args>
struct is_expr<Expr<Op, Args...>> : std::true_type {};
template <typename T>
inline constexpr bool is_expr_v = is_expr<std::remove_cvref_t<T>>::value;

// Anything an elementwise function accepts: arrays, expressions and host scalars.
template <typename T>
concept Operand = std::derived_from<std::remove_cvref_t<T>, array> || is_expr_v<T> ||
                  ScalarType<std::remove_cvref_t<T>>;
// An operator overload must see at least one array or expression (scalars alone are C++'s).
template <typename A, typename B>
concept ArrayOperands = Operand<A> && Operand<B> &&
                        (!ScalarType<std::remove_cvref_t<A>> || !ScalarType<std::remove_cvref_t<B>>);

namespace expr_detail {
// Scalars become 0-d arrays of their own dtype (MLX's C++ rule; see docs).
template <typename T>
auto as_leaf(T&& v) {
  using U = std::remove_cvref_t<T>;
  if constexpr (ScalarType<U>) return array(v);
  else if constexpr (std::derived_from<U, array>) return array(std::forward<T>(v));  // IndexProxy
  else return U(std::forward<T>(v));
}
template <typename T>
using leaf_t = decltype(as_leaf(std::declval<T>()));

template <typename T>
constexpr int depth() {
  if constexpr (is_expr_v<T>) return T::depth;
  else return 0;
}
inline const Shape& shape_of(const array& a) { return a.shape(); }
inline Dtype dtype_of_operand(const array& a) { return a.dtype(); }
}  // namespace expr_detail

template <ElemOp Op, typename... Args>
class Expr {
 public:
  static constexpr int depth = 1 + std::max({expr_detail::depth<Args>()...});
  static_assert(depth <= 48,
                "Tessera: expression nested too deeply; assign part of it to an `array` first");

  explicit Expr(Dtype astype_target, Args... args)
      : args_(std::move(args)...), target_(astype_target) {
    Dtype in[3] = {float32, float32, float32};
    int k = 0;
    std::apply([&](const auto&... a) { ((shape_ = k == 0 ? a.shape() : broadcast_shapes(shape_, a.shape(), op_function(Op)), in[k++] = a.dtype()), ...); }, args_);
    dtype_ = elementwise_typing(Op, in, static_cast<int>(sizeof...(Args)), target_).result;
    // Broadcasting (or astype to a wider dtype) can make a shape too large for int64 bytes.
    checked_shape_size(shape_, dtype_.size(), op_function(Op));
  }

  // The parts of array's interface that need no evaluation, so that MLX code which keeps a
  // result in `auto` (`auto z = add(x, y); z.shape(0)`) reads it as it would an array.
  const Shape& shape() const { return shape_; }
  int32_t shape(int dim) const {
    const int n = ndim();
    if (dim < -n || dim >= n) {
      throw std::out_of_range("[array::shape] dimension " + std::to_string(dim) +
                              " is out of range for an array of dimension " + std::to_string(n));
    }
    return shape_[dim < 0 ? dim + n : dim];
  }
  Dtype dtype() const { return dtype_; }
  int ndim() const { return static_cast<int>(shape_.size()); }
  size_t size() const { return static_cast<size_t>(shape_size(shape_)); }
  size_t itemsize() const { return dtype_.size(); }
  size_t nbytes() const { return size() * itemsize(); }

  // One graph node for the whole tree, on the given (or default) stream.
  // Leaves that are themselves unshared elementwise nodes on that stream are folded in (see
  // ProgramBuilder), so chains of function calls fuse as chains of operators do.
  array materialize(StreamOrDevice s = {}) const {
    const Stream stream = to_stream(s);
    ProgramBuilder b(stream);
    collect(b);
    return b.finish(emit(b), stream);
  }
  operator array() const { return materialize(); }
  void eval() const { materialize().eval(); }
  template <typename T> T item() const { return materialize().template item<T>(); }
  template <typename T> std::vector<T> to_vector() const {
    return materialize().template to_vector<T>();
  }
  array astype(Dtype dtype) const { return materialize().astype(dtype); }
  array reshape(Shape shape) const { return materialize().reshape(std::move(shape)); }
  array T() const { return materialize().T(); }

  // Builder protocol: first register every leaf array, then emit the instructions.
  void collect(ProgramBuilder& b) const {
    std::apply([&](const auto&... a) { (collect_one(b, a), ...); }, args_);
  }
  int emit(ProgramBuilder& b) const {
    int regs[sizeof...(Args)];
    int k = 0;
    std::apply([&](const auto&... a) { ((regs[k++] = emit_one(b, a)), ...); }, args_);
    return b.emit(Op, std::vector<int>(regs, regs + sizeof...(Args)), target_);
  }

 private:
  static void collect_one(ProgramBuilder& b, const array& a) { b.collect_leaf(a); }
  template <typename E>
  static void collect_one(ProgramBuilder& b, const E& e) { e.collect(b); }
  static int emit_one(ProgramBuilder& b, const array& a) { return b.leaf(a); }
  template <typename E>
  static int emit_one(ProgramBuilder& b, const E& e) { return e.emit(b); }

  std::tuple<Args...> args_;
  Dtype target_;
  Shape shape_;
  Dtype dtype_ = float32;
};

template <ElemOp Op, typename... Ts>
auto make_expr(Dtype target, Ts&&... operands) {
  return Expr<Op, expr_detail::leaf_t<Ts>...>(target, expr_detail::as_leaf(std::forward<Ts>(operands))...);
}

// Operators (found by argument-dependent lookup on array and Expr).
#define TESSERA_BINARY_OPERATOR(SYM, OP)                                   \
  template <typename A, typename B>                                        \
    requires ArrayOperands<A, B>                                           \
  auto operator SYM(A&& a, B&& b) {                                        \
    return make_expr<ElemOp::OP>(float32, std::forward<A>(a), std::forward<B>(b)); \
  }
TESSERA_BINARY_OPERATOR(+, Add)
TESSERA_BINARY_OPERATOR(-, Subtract)
TESSERA_BINARY_OPERATOR(*, Multiply)
TESSERA_BINARY_OPERATOR(/, Divide)
TESSERA_BINARY_OPERATOR(==, Equal)
TESSERA_BINARY_OPERATOR(!=, NotEqual)
TESSERA_BINARY_OPERATOR(<, Less)
TESSERA_BINARY_OPERATOR(<=, LessEqual)
TESSERA_BINARY_OPERATOR(>, Greater)
TESSERA_BINARY_OPERATOR(>=, GreaterEqual)
TESSERA_BINARY_OPERATOR(&&, LogicalAnd)
TESSERA_BINARY_OPERATOR(||, LogicalOr)
#undef TESSERA_BINARY_OPERATOR

template <typename A>
  requires(std::derived_from<std::remove_cvref_t<A>, array> || is_expr_v<A>)
auto operator-(A&& a) {
  return make_expr<ElemOp::Negative>(float32, std::forward<A>(a));
}
template <typename A>
  requires(std::derived_from<std::remove_cvref_t<A>, array> || is_expr_v<A>)
auto operator!(A&& a) {
  return make_expr<ElemOp::LogicalNot>(float32, std::forward<A>(a));
}

// Compound assignment rebinds the handle to a new node (arrays are immutable).
template <Operand B> array& operator+=(array& a, B&& b) { return a = a + std::forward<B>(b); }
template <Operand B> array& operator-=(array& a, B&& b) { return a = a - std::forward<B>(b); }
template <Operand B> array& operator*=(array& a, B&& b) { return a = a * std::forward<B>(b); }
template <Operand B> array& operator/=(array& a, B&& b) { return a = a / std::forward<B>(b); }

// Printing an expression prints the array it evaluates to.
template <ElemOp Op, typename... Args>
std::ostream& operator<<(std::ostream& os, const Expr<Op, Args...>& e) {
  return os << e.materialize();
}

}  // namespace tessera
