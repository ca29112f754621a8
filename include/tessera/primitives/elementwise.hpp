#pragma once
// Elementwise work is described by a tiny program (ElementwiseProgram): a list of
// instructions over registers, where the first registers are the node's inputs. One
// `Elementwise` graph node runs a whole program in one pass, so a fused expression such as
// `sin(x) * 2 + exp(-x * x) * x` is one node, one CPU loop and one GPU dispatch. A plain op
// (`add`) is the one-instruction program and is named after its op ("Add").
//
// The op list below is the single source of truth: the CPU functors
// (backend/cpu/elementwise_functors.hpp) and the GLSL snippets (shaders/elementwise_ops.glsl)
// are named after it.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tessera/core/primitive.hpp"

namespace tessera {

// X(PrimitiveName, op_function_name)
#define TESSERA_UNARY_OPS(X) TESSERA_UNARY_MATH_OPS(X) X(AsType, astype) TESSERA_COMPLEX_PART_OPS(X)
// The parts of a complex number: their functions (ops/elementwise.hpp) return a real input
// unchanged (or zeros, for imag) as MLX does, so the ops themselves only ever see complex64.
#define TESSERA_COMPLEX_PART_OPS(X) X(Real, real) X(Imag, imag) X(Conjugate, conjugate)
// The unary ops that have an expression-returning function template of their own name (astype,
// which takes a dtype, and the complex parts are declared apart).
#define TESSERA_UNARY_MATH_OPS(X)                                                               \
  X(Negative, negative) X(Abs, abs) X(Sign, sign) X(Exp, exp) X(Log, log) X(Log1p, log1p)        \
  X(Sin, sin) X(Cos, cos) X(Tan, tan) X(Tanh, tanh) X(Sqrt, sqrt) X(Rsqrt, rsqrt)                \
  X(Square, square) X(Sigmoid, sigmoid) X(Floor, floor) X(Ceil, ceil) X(Round, round)            \
  X(LogicalNot, logical_not) X(Erfinv, erfinv) X(Sinh, sinh) X(Cosh, cosh) X(ArcSin, arcsin)      \
  X(ArcCos, arccos) X(ArcTan, arctan) X(ArcSinh, arcsinh) X(ArcCosh, arccosh)                     \
  X(ArcTanh, arctanh) X(Expm1, expm1) X(Log2, log2) X(Log10, log10) X(Reciprocal, reciprocal)   \
  X(Erf, erf) X(BitwiseInvert, bitwise_invert)
#define TESSERA_BINARY_OPS(X)                                                                   \
  X(Add, add) X(Subtract, subtract) X(Multiply, multiply) X(Divide, divide) X(Power, power)      \
  X(Maximum, maximum) X(Minimum, minimum) X(Equal, equal) X(NotEqual, not_equal) X(Less, less)  \
  X(LessEqual, less_equal) X(Greater, greater) X(GreaterEqual, greater_equal)                    \
  X(LogicalAnd, logical_and) X(LogicalOr, logical_or) X(LogAddExp, logaddexp)                   \
  X(ArcTan2, arctan2) X(Remainder, remainder) X(FloorDivide, floor_divide)                        \
  X(BitwiseAnd, bitwise_and) X(BitwiseOr, bitwise_or) X(BitwiseXor, bitwise_xor)                 \
  X(LeftShift, left_shift) X(RightShift, right_shift)
#define TESSERA_TERNARY_OPS(X) X(Select, where)

enum class ElemOp : uint8_t {
#define TESSERA_ENUM(N, n) N,
  TESSERA_UNARY_OPS(TESSERA_ENUM) TESSERA_BINARY_OPS(TESSERA_ENUM) TESSERA_TERNARY_OPS(TESSERA_ENUM)
#undef TESSERA_ENUM
};

const char* op_name(ElemOp op);      // "Add": the primitive's name
const char* op_function(ElemOp op);  // "add": the op function's (and GLSL snippet's) name
constexpr int op_arity(ElemOp op) {
#define TESSERA_ARITY1(N, n) if (op == ElemOp::N) return 1;
#define TESSERA_ARITY2(N, n) if (op == ElemOp::N) return 2;
  TESSERA_UNARY_OPS(TESSERA_ARITY1) TESSERA_BINARY_OPS(TESSERA_ARITY2)
#undef TESSERA_ARITY1
#undef TESSERA_ARITY2
  return 3;
}

// Ops that compute in floating point: integer and bool operands become float32 (MLX's rule).
constexpr bool is_float_op(ElemOp op) {
  switch (op) {
    case ElemOp::Exp: case ElemOp::Log: case ElemOp::Log1p: case ElemOp::Sin: case ElemOp::Cos:
    case ElemOp::Tan: case ElemOp::Tanh: case ElemOp::Sqrt: case ElemOp::Rsqrt:
    case ElemOp::Sigmoid: case ElemOp::Erfinv: case ElemOp::Divide: case ElemOp::LogAddExp:
    case ElemOp::Sinh: case ElemOp::Cosh: case ElemOp::ArcSin: case ElemOp::ArcCos:
    case ElemOp::ArcTan: case ElemOp::ArcSinh: case ElemOp::ArcCosh: case ElemOp::ArcTanh:
    case ElemOp::Expm1: case ElemOp::Log2: case ElemOp::Log10: case ElemOp::Reciprocal:
    case ElemOp::ArcTan2: case ElemOp::Erf:
      return true;
    default:
      return false;
  }
}
constexpr bool is_comparison(ElemOp op) {
  switch (op) {
    case ElemOp::Equal: case ElemOp::NotEqual: case ElemOp::Less: case ElemOp::LessEqual:
    case ElemOp::Greater: case ElemOp::GreaterEqual:
      return true;
    default:
      return false;
  }
}
constexpr bool is_logical(ElemOp op) {
  return op == ElemOp::LogicalAnd || op == ElemOp::LogicalOr || op == ElemOp::LogicalNot;
}
// Ops defined on complex64 (the others reject it).
constexpr bool supports_complex(ElemOp op) {
  switch (op) {
    case ElemOp::Negative: case ElemOp::Abs: case ElemOp::Square: case ElemOp::Add:
    case ElemOp::Subtract: case ElemOp::Multiply: case ElemOp::Divide: case ElemOp::Exp:
    case ElemOp::Log: case ElemOp::Sin: case ElemOp::Cos: case ElemOp::Sqrt:
    case ElemOp::Equal: case ElemOp::NotEqual: case ElemOp::Select: case ElemOp::AsType:
    case ElemOp::LogicalNot: case ElemOp::LogicalAnd: case ElemOp::LogicalOr:
    case ElemOp::Sign: case ElemOp::Real: case ElemOp::Imag: case ElemOp::Conjugate:
      return true;
    default:
      return false;
  }
}
constexpr bool is_complex_part(ElemOp op) {
  return op == ElemOp::Real || op == ElemOp::Imag || op == ElemOp::Conjugate;
}
// Ops on the bits of integers (and bool, which the shifts read as uint8); floats are rejected.
constexpr bool is_bitwise(ElemOp op) {
  return op == ElemOp::BitwiseAnd || op == ElemOp::BitwiseOr || op == ElemOp::BitwiseXor ||
         op == ElemOp::LeftShift || op == ElemOp::RightShift || op == ElemOp::BitwiseInvert;
}
// Integer-or-float arithmetic that has no meaning for bool (NumPy and MLX reject it).
constexpr bool rejects_bool(ElemOp op) {
  return op == ElemOp::Negative || op == ElemOp::Subtract || op == ElemOp::Remainder ||
         op == ElemOp::FloorDivide;
}

struct ElemInstr {
  ElemOp op;
  Dtype dtype;        // result dtype
  int16_t args[3];    // registers read
};

struct ElementwiseProgram {
  std::vector<Dtype> input_dtypes;   // registers 0..n-1
  std::vector<ElemInstr> code;       // instruction k writes register n + k; the last is the output
  int num_registers() const { return static_cast<int>(input_dtypes.size() + code.size()); }
  Dtype register_dtype(int r) const;
  Dtype out_dtype() const { return code.back().dtype; }
  // A stable text form: equal programs have equal signatures (kernel cache key).
  std::string signature() const;
  void append_signature(std::string& out) const;  // the same, appended to `out`
};

// The dtypes an op computes in (its operands are cast to these) and produces, following MLX's
// rules; throws std::invalid_argument naming the op for unsupported dtypes.
struct ElemTyping {
  Dtype operand[3];
  Dtype result;
};
ElemTyping elementwise_typing(ElemOp op, const Dtype* operands, int n, Dtype astype_target);

// Builds a program from op applications, applying MLX's dtype rules (promotion, integer ->
// float32 for transcendental functions and true division, bool for comparisons) and rejecting
// unsupported dtypes with an error that names the op.
//
// A builder made with a stream also fuses across function calls: a leaf (collect_leaf / leaf)
// that is itself an unevaluated Elementwise node on that stream, held by no other handle, is
// replaced by its own program, so `exp(sin(x))`, where sin(x) already returned an array, is one
// node. A node someone else holds (a variable, another node's input) stays a node: folding it
// in would compute it twice.
class ProgramBuilder {
 public:
  ProgramBuilder() = default;
  explicit ProgramBuilder(Stream fuse_on) : fuse_on_(fuse_on) {}
  int input(const array& a);          // a register for `a` (one per distinct array)
  // The two-phase leaf protocol of expressions: every leaf is collected before any instruction
  // is emitted, then `leaf` gives its register (emitting a folded producer's instructions).
  void collect_leaf(const array& a);
  int leaf(const array& a);
  int emit(ElemOp op, std::vector<int> args, Dtype astype_target = float32);
  Dtype dtype(int reg) const { return program_.register_dtype(reg); }
  const Shape& shape() const { return shape_; }
  // The node computing register `reg`; a bare input register returns that array itself.
  array finish(int reg, StreamOrDevice s = {});
  int num_instructions() const { return static_cast<int>(program_.code.size()); }

 private:
  int cast(int reg, Dtype to);
  int push(ElemOp op, Dtype dtype, std::initializer_list<int> args);
  bool can_fold(const array& a) const;
  struct Folded {
    array node;
    int reg = -1;  // its result register once emitted
  };
  ElementwiseProgram program_;
  std::vector<array> inputs_;
  Shape shape_;
  std::optional<Stream> fuse_on_;
  std::vector<Folded> folded_;
  int folded_instructions_ = 0;
};

// The graph node of an elementwise program: inputs may have any shapes broadcastable to the
// output and any strides.
class Elementwise : public Primitive {
 public:
  Elementwise(Stream s, ElementwiseProgram program);
  TESSERA_DEFINE_EVAL()
  TESSERA_DEFINE_GRADS()
  TESSERA_DEFINE_VMAP()
  TESSERA_DEFINE_OUTPUT_SHAPES()
  const char* name() const override;
  bool is_equivalent(const Primitive& other) const override;
  const ElementwiseProgram& program() const { return program_; }

 private:
  ElementwiseProgram program_;
  std::string name_;
};

// Applies one elementwise op to arrays: the plain (unfused) op functions use it.
array apply_elementwise(ElemOp op, std::vector<array> args, StreamOrDevice s = {},
                        Dtype astype_target = float32);

}  // namespace tessera
