// Elementwise programs: dtype rules, the graph node, and derivative rules. The derivative of
// a fused program is found by replaying its instructions as plain ops and sweeping them
// (backwards for vjp, forwards for jvp) with each op's partial derivative.
#include "tessera/primitives/elementwise.hpp"

#include <charconv>
#include <cmath>
#include <numbers>
#include <optional>
#include <sstream>

#include "tessera/ops/creation.hpp"
#include "tessera/ops/reduce.hpp"
#include "tessera/ops/shape.hpp"
#include "tessera/primitives/shape.hpp"
#include "transforms/batching.hpp"

namespace tessera {

namespace {
struct OpInfo {
  const char* name;
  const char* function;
  int arity;
};
constexpr OpInfo kOps[] = {
#define TESSERA_U(N, n) {#N, #n, 1},
#define TESSERA_B(N, n) {#N, #n, 2},
#define TESSERA_T(N, n) {#N, #n, 3},
    TESSERA_UNARY_OPS(TESSERA_U) TESSERA_BINARY_OPS(TESSERA_B) TESSERA_TERNARY_OPS(TESSERA_T)
#undef TESSERA_U
#undef TESSERA_B
#undef TESSERA_T
};

}  // namespace

const char* op_name(ElemOp op) { return kOps[static_cast<int>(op)].name; }
const char* op_function(ElemOp op) { return kOps[static_cast<int>(op)].function; }

Dtype ElementwiseProgram::register_dtype(int r) const {
  int n = static_cast<int>(input_dtypes.size());
  return r < n ? input_dtypes[r] : code.at(r - n).dtype;
}

std::string ElementwiseProgram::signature() const {
  std::string sig;
  append_signature(sig);
  return sig;
}

void ElementwiseProgram::append_signature(std::string& sig) const {
  // Built on every GPU dispatch (the kernel cache key): plain appends, no streams.
  char digits[16];
  for (auto& d : input_dtypes) (sig += dtype_name(d)) += ',';
  sig += '|';
  for (auto& i : code) {
    ((sig += op_function(i.op)) += ':') += dtype_name(i.dtype);
    sig += '(';
    for (int k = 0; k < op_arity(i.op); ++k) {
      if (k) sig += ',';
      sig.append(digits, std::to_chars(digits, digits + sizeof digits, i.args[k]).ptr);
    }
    sig += ");";
  }
}

int ProgramBuilder::input(const array& a) {
  for (size_t i = 0; i < inputs_.size(); ++i) {
    if (inputs_[i].id() == a.id()) return static_cast<int>(i);
  }
  if (!program_.code.empty()) {
    throw std::logic_error("[elementwise] inputs must be registered before instructions");
  }
  shape_ = inputs_.empty() ? a.shape() : broadcast_shapes(shape_, a.shape(), "elementwise");
  inputs_.push_back(a);
  program_.input_dtypes.push_back(a.dtype());
  return static_cast<int>(inputs_.size()) - 1;
}

// Folding limits: a producer's program is copied into each consumer, so a chain folded call by
// call (`a = exp(std::move(a))` in a loop) must stop growing somewhere; past the limit the
// producer stays a node of its own.
constexpr int kMaxFoldedInstructions = 64;

bool ProgramBuilder::can_fold(const array& a) const {
  // Held by the caller's leaf only. This test comes first: it is an atomic read, and only when
  // it holds is reading the node safe without the graph lock (no other handle means no other
  // thread can be evaluating, and so detaching, it).
  if (!fuse_on_ || a.use_count() != 1) return false;
  if (!a.has_primitive() || a.status() != array::Status::unscheduled) return false;
  auto* e = dynamic_cast<const Elementwise*>(&a.primitive());
  if (!e || !(e->stream() == *fuse_on_)) return false;
  return folded_instructions_ + static_cast<int>(e->program().code.size()) <=
         kMaxFoldedInstructions;
}

void ProgramBuilder::collect_leaf(const array& a) {
  for (auto& f : folded_) {
    if (f.node.id() == a.id()) return;
  }
  if (!can_fold(a)) {
    input(a);
    return;
  }
  // The producer's inputs become this program's; its instructions are emitted by leaf().
  for (const array& in : a.inputs()) input(in);
  folded_instructions_ += static_cast<int>(
      static_cast<const Elementwise&>(a.primitive()).program().code.size());
  folded_.push_back({a, -1});
}

int ProgramBuilder::leaf(const array& a) {
  for (auto& f : folded_) {
    if (f.node.id() != a.id()) continue;
    if (f.reg >= 0) return f.reg;
    const ElementwiseProgram& p = static_cast<const Elementwise&>(f.node.primitive()).program();
    std::vector<int> regs;
    for (const array& in : f.node.inputs()) regs.push_back(input(in));
    // The producer's instructions are typed already: copy them with renumbered registers.
    for (const ElemInstr& in : p.code) {
      ElemInstr copy = in;
      for (int k = 0; k < op_arity(in.op); ++k) copy.args[k] = static_cast<int16_t>(regs[in.args[k]]);
      program_.code.push_back(copy);
      regs.push_back(program_.num_registers() - 1);
    }
    f.reg = regs.back();
    return f.reg;
  }
  return input(a);
}

int ProgramBuilder::push(ElemOp op, Dtype dtype, std::initializer_list<int> args) {
  ElemInstr in{op, dtype, {0, 0, 0}};
  int k = 0;
  for (int a : args) in.args[k++] = static_cast<int16_t>(a);
  program_.code.push_back(in);
  return program_.num_registers() - 1;
}

int ProgramBuilder::cast(int reg, Dtype to) {
  if (dtype(reg) == to) return reg;
  return push(ElemOp::AsType, to, {reg});
}

ElemTyping elementwise_typing(ElemOp op, const Dtype* in, int n, Dtype target) {
  const char* fn = op_function(op);
  if (n != op_arity(op)) {
    throw std::invalid_argument(std::string("[") + fn + "] expects " +
                                std::to_string(op_arity(op)) + " operands");
  }
  for (int k = 0; k < n; ++k) {
    if (is_complex(in[k]) && !supports_complex(op)) {
      throw std::invalid_argument(std::string("[") + fn + "] is not supported for complex64");
    }
  }
  ElemTyping t{{in[0], n > 1 ? in[1] : in[0], n > 2 ? in[2] : in[0]}, in[0]};
  if (is_complex_part(op)) {
    if (!is_complex(in[0])) {
      throw std::invalid_argument(std::string("[") + fn + "] expects a complex64 operand, not " +
                                  to_string(in[0]));
    }
    t.result = op == ElemOp::Conjugate ? complex64 : float32;
    return t;
  }
  if (op == ElemOp::AsType) {
    check_valid_dtype(target, fn);
    t.result = target;
    return t;
  }
  if (is_logical(op)) {
    t.operand[0] = t.operand[1] = t.result = bool_;
    return t;
  }
  if (op == ElemOp::Select) {
    Dtype v = promote_types(in[1], in[2]);
    t.operand[0] = bool_;
    t.operand[1] = t.operand[2] = t.result = v;
    return t;
  }
  Dtype c = n == 2 ? promote_types(in[0], in[1]) : in[0];
  if (is_float_op(op) && !issubdtype(c, inexact)) c = float32;
  if (is_bitwise(op)) {
    if (issubdtype(c, inexact)) {
      throw std::invalid_argument(std::string("[") + fn + "] is not supported for " +
                                  to_string(c) + " arrays (integers and bool only)");
    }
    // Shifting bools shifts their value as uint8 (MLX's rule).
    if (c == bool_ && (op == ElemOp::LeftShift || op == ElemOp::RightShift)) c = uint8;
  }
  if (c == bool_ && rejects_bool(op)) {
    throw std::invalid_argument(std::string("[") + fn + "] is not supported for bool arrays" +
                                (op == ElemOp::Negative ? "; use logical_not" : ""));
  }
  if (is_complex(c) && (op == ElemOp::Maximum || op == ElemOp::Minimum)) {
    throw std::invalid_argument(std::string("[") + fn + "] is not supported for complex64");
  }
  t.operand[0] = t.operand[1] = t.operand[2] = c;
  t.result = c;
  if (is_comparison(op)) t.result = bool_;
  if (op == ElemOp::Abs && is_complex(c)) t.result = float32;
  return t;
}

int ProgramBuilder::emit(ElemOp op, std::vector<int> args, Dtype astype_target) {
  Dtype in[3] = {float32, float32, float32};
  for (size_t k = 0; k < args.size() && k < 3; ++k) in[k] = dtype(args[k]);
  ElemTyping t = elementwise_typing(op, in, static_cast<int>(args.size()), astype_target);
  if (op == ElemOp::AsType) return cast(args[0], t.result);
  for (size_t k = 0; k < args.size(); ++k) args[k] = cast(args[k], t.operand[k]);
  switch (args.size()) {
    case 1: return push(op, t.result, {args[0]});
    case 2: return push(op, t.result, {args[0], args[1]});
    default: return push(op, t.result, {args[0], args[1], args[2]});
  }
}

array ProgramBuilder::finish(int reg, StreamOrDevice s) {
  if (reg < static_cast<int>(inputs_.size())) return inputs_[reg];
  // Drop instructions the output does not need (a builder may have emitted unused casts).
  program_.code.erase(program_.code.begin() + (reg - inputs_.size() + 1), program_.code.end());
  Stream stream = to_stream(s);
  Dtype out_dtype = program_.out_dtype();
  return array(shape_, out_dtype, std::make_shared<Elementwise>(stream, program_), inputs_);
}

array apply_elementwise(ElemOp op, std::vector<array> args, StreamOrDevice s, Dtype target) {
  ProgramBuilder b;
  std::vector<int> regs;
  for (auto& a : args) regs.push_back(b.input(a));
  return b.finish(b.emit(op, regs, target), s);
}

Elementwise::Elementwise(Stream s, ElementwiseProgram program)
    : Primitive(s), program_(std::move(program)) {
  if (program_.code.size() == 1) {
    name_ = op_name(program_.code[0].op);
  } else {
    name_ = "Fused(";
    for (size_t i = 0; i < program_.code.size(); ++i) {
      name_ += (i ? "," : "");
      name_ += op_name(program_.code[i].op);
    }
    name_ += ")";
  }
}

const char* Elementwise::name() const { return name_.c_str(); }

bool Elementwise::is_equivalent(const Primitive& other) const {
  auto* o = dynamic_cast<const Elementwise*>(&other);
  return o && o->program_.signature() == program_.signature();
}

// ---------------------------------------------------------------------------------------------
// Derivatives

namespace {

array ew(ElemOp op, std::vector<array> args, const Stream& s, Dtype target = float32) {
  return apply_elementwise(op, std::move(args), s, target);
}

bool differentiable(Dtype t) { return issubdtype(t, inexact); }

// d out / d args[which] as an array (broadcastable to the output), or nullopt when zero.
std::optional<array> partial(const ElemInstr& in, const std::vector<array>& regs, int out_reg,
                             int which, const Stream& s) {
  const array& a = regs[in.args[0]];
  const array& out = regs[out_reg];
  auto scalar = [&](double v) { return array(v, out.dtype()); };
  switch (in.op) {
    case ElemOp::Negative: return scalar(-1);
    case ElemOp::Abs: {
      // For complex a, conj(a) / |a|: the holomorphic convention of the other complex rules
      // (see Imag below).
      array sg = ew(ElemOp::Sign, {a}, s);
      return is_complex(a.dtype()) ? ew(ElemOp::Conjugate, {sg}, s) : sg;
    }
    // Complex gradients follow JAX's convention (the one multiply's `g * b` and exp's
    // `g * exp(a)` already imply): a cotangent of z stands for dL/dx - i dL/dy. So real(z)
    // passes g through and imag(z) gives -i g, and for a tangent t the same factors give
    // real(t) and imag(t) once the product is cast back to float32.
    case ElemOp::Real: return array(complex64_t(1, 0));
    case ElemOp::Imag: return array(complex64_t(0, -1));
    case ElemOp::Exp: return out;
    case ElemOp::Log: return ew(ElemOp::Divide, {scalar(1), a}, s);
    case ElemOp::Log1p: return ew(ElemOp::Divide, {scalar(1), ew(ElemOp::Add, {a, scalar(1)}, s)}, s);
    case ElemOp::Sin: return ew(ElemOp::Cos, {a}, s);
    case ElemOp::Cos: return ew(ElemOp::Negative, {ew(ElemOp::Sin, {a}, s)}, s);
    case ElemOp::Tan: {
      array c = ew(ElemOp::Cos, {a}, s);
      return ew(ElemOp::Divide, {scalar(1), ew(ElemOp::Square, {c}, s)}, s);
    }
    case ElemOp::Tanh:
      return ew(ElemOp::Subtract, {scalar(1), ew(ElemOp::Square, {out}, s)}, s);
    case ElemOp::Sqrt: return ew(ElemOp::Divide, {scalar(0.5), out}, s);
    case ElemOp::Rsqrt:
      return ew(ElemOp::Multiply, {scalar(-0.5), ew(ElemOp::Divide, {out, a}, s)}, s);
    case ElemOp::Square: return ew(ElemOp::Multiply, {scalar(2), a}, s);
    case ElemOp::Sigmoid:
      return ew(ElemOp::Multiply, {out, ew(ElemOp::Subtract, {scalar(1), out}, s)}, s);
    case ElemOp::Erfinv:
      return ew(ElemOp::Multiply,
                {scalar(std::sqrt(std::numbers::pi) / 2), ew(ElemOp::Exp, {ew(ElemOp::Square, {out}, s)}, s)},
                s);
    case ElemOp::Erf:  // 2 / sqrt(pi) * exp(-a^2)
      return ew(ElemOp::Multiply,
                {scalar(2 / std::sqrt(std::numbers::pi)),
                 ew(ElemOp::Exp, {ew(ElemOp::Negative, {ew(ElemOp::Square, {a}, s)}, s)}, s)},
                s);
    case ElemOp::Sinh: return ew(ElemOp::Cosh, {a}, s);
    case ElemOp::Cosh: return ew(ElemOp::Sinh, {a}, s);
    case ElemOp::ArcSin:
    case ElemOp::ArcCos: {
      // +-1 / sqrt(1 - a^2)
      array d = ew(ElemOp::Rsqrt, {ew(ElemOp::Subtract, {scalar(1), ew(ElemOp::Square, {a}, s)}, s)}, s);
      return in.op == ElemOp::ArcSin ? d : ew(ElemOp::Negative, {d}, s);
    }
    case ElemOp::ArcTan:
      return ew(ElemOp::Reciprocal, {ew(ElemOp::Add, {scalar(1), ew(ElemOp::Square, {a}, s)}, s)}, s);
    case ElemOp::ArcSinh:
      return ew(ElemOp::Rsqrt, {ew(ElemOp::Add, {ew(ElemOp::Square, {a}, s), scalar(1)}, s)}, s);
    case ElemOp::ArcCosh:
      return ew(ElemOp::Rsqrt, {ew(ElemOp::Subtract, {ew(ElemOp::Square, {a}, s), scalar(1)}, s)}, s);
    case ElemOp::ArcTanh:
      return ew(ElemOp::Reciprocal, {ew(ElemOp::Subtract, {scalar(1), ew(ElemOp::Square, {a}, s)}, s)}, s);
    case ElemOp::Expm1: return ew(ElemOp::Add, {out, scalar(1)}, s);
    case ElemOp::Log2:
    case ElemOp::Log10: {
      const double ln_base = in.op == ElemOp::Log2 ? std::numbers::ln2 : std::numbers::ln10;
      return ew(ElemOp::Reciprocal, {ew(ElemOp::Multiply, {a, scalar(ln_base)}, s)}, s);
    }
    case ElemOp::Reciprocal: return ew(ElemOp::Negative, {ew(ElemOp::Square, {out}, s)}, s);
    case ElemOp::ArcTan2: {
      // atan2(y, x): d/dy = x / (x^2 + y^2), d/dx = -y / (x^2 + y^2)
      const array& x = regs[in.args[1]];
      array r2 = ew(ElemOp::Add, {ew(ElemOp::Square, {a}, s), ew(ElemOp::Square, {x}, s)}, s);
      return which == 0 ? ew(ElemOp::Divide, {x, r2}, s)
                        : ew(ElemOp::Negative, {ew(ElemOp::Divide, {a, r2}, s)}, s);
    }
    case ElemOp::Remainder: {
      // a - b * floor(a / b): 1 for a, -floor(a / b) for b.
      if (which == 0) return scalar(1);
      const array& b = regs[in.args[1]];
      return ew(ElemOp::Negative, {ew(ElemOp::FloorDivide, {a, b}, s)}, s);
    }
    case ElemOp::AsType:
      if (!differentiable(a.dtype()) || !differentiable(in.dtype)) return std::nullopt;
      return scalar(1);
    case ElemOp::Add: return scalar(1);
    case ElemOp::Subtract: return scalar(which == 0 ? 1 : -1);
    case ElemOp::Multiply: return regs[in.args[1 - which]];
    case ElemOp::Divide: {
      const array& b = regs[in.args[1]];
      if (which == 0) return ew(ElemOp::Divide, {scalar(1), b}, s);
      return ew(ElemOp::Negative, {ew(ElemOp::Divide, {out, b}, s)}, s);
    }
    case ElemOp::Power: {
      const array& b = regs[in.args[1]];
      if (which == 0) {
        // b * a^(b-1), written to stay finite at a == 0 for b >= 1
        array pm1 = ew(ElemOp::Power, {a, ew(ElemOp::Subtract, {b, scalar(1)}, s)}, s);
        return ew(ElemOp::Multiply, {b, pm1}, s);
      }
      return ew(ElemOp::Multiply, {out, ew(ElemOp::Log, {a}, s)}, s);
    }
    case ElemOp::Maximum:
    case ElemOp::Minimum: {
      const array& b = regs[in.args[1]];
      ElemOp cmp = in.op == ElemOp::Maximum ? ElemOp::GreaterEqual : ElemOp::LessEqual;
      array mask = ew(cmp, {a, b}, s);
      if (which == 1) mask = ew(ElemOp::LogicalNot, {mask}, s);
      return ew(ElemOp::AsType, {mask}, s, out.dtype());
    }
    case ElemOp::LogAddExp: {
      // d/da log(e^a + e^b) = sigmoid(a - b), and sigmoid(b - a) for b.
      const array& b = regs[in.args[1]];
      return which == 0 ? ew(ElemOp::Sigmoid, {ew(ElemOp::Subtract, {a, b}, s)}, s)
                        : ew(ElemOp::Sigmoid, {ew(ElemOp::Subtract, {b, a}, s)}, s);
    }
    case ElemOp::Select: {
      if (which == 0) return std::nullopt;
      array mask = regs[in.args[0]];
      if (which == 2) mask = ew(ElemOp::LogicalNot, {mask}, s);
      return ew(ElemOp::AsType, {mask}, s, out.dtype());
    }
    default:  // sign, floor, ceil, round, comparisons, logical ops: piecewise constant
      return std::nullopt;
  }
}

// The program's instructions replayed as plain ops on `primals`.
std::vector<array> replay(const ElementwiseProgram& p, const std::vector<array>& primals,
                          const Stream& s) {
  std::vector<array> regs(primals.begin(), primals.end());
  for (auto& in : p.code) {
    std::vector<array> args;
    for (int k = 0; k < op_arity(in.op); ++k) args.push_back(regs[in.args[k]]);
    ProgramBuilder b;
    std::vector<int> r;
    for (auto& a : args) r.push_back(b.input(a));
    // Inputs already have the instruction's operand dtypes, so emit adds no casts.
    regs.push_back(b.finish(b.emit(in.op, r, in.dtype), s));
  }
  return regs;
}

void accumulate(std::optional<array>& slot, array g, const array& reg, const Stream& s) {
  g = sum_to_shape(g, reg.shape(), s);
  if (!(g.dtype() == reg.dtype())) g = ew(ElemOp::AsType, {g}, s, reg.dtype());
  slot = slot ? ew(ElemOp::Add, {*slot, g}, s) : g;
}

}  // namespace

std::vector<array> Elementwise::vjp(const std::vector<array>& primals,
                                    const std::vector<array>& cotangents,
                                    const std::vector<int>& argnums,
                                    const std::vector<array>& outputs) {
  const Stream& s = stream();
  std::vector<array> regs = program_.code.size() == 1 ? primals : replay(program_, primals, s);
  if (program_.code.size() == 1) regs.push_back(outputs[0]);
  std::vector<std::optional<array>> cot(regs.size());
  cot.back() = cotangents[0];
  const int n_in = static_cast<int>(primals.size());
  for (int k = static_cast<int>(program_.code.size()) - 1; k >= 0; --k) {
    int r = n_in + k;
    if (!cot[r] || !differentiable(regs[r].dtype())) continue;
    const auto& in = program_.code[k];
    for (int w = 0; w < op_arity(in.op); ++w) {
      const array& arg = regs[in.args[w]];
      if (!differentiable(arg.dtype())) continue;
      if (in.op == ElemOp::Conjugate) {  // linear but not a product: the cotangent's conjugate
        accumulate(cot[in.args[w]], ew(ElemOp::Conjugate, {*cot[r]}, s), arg, s);
        continue;
      }
      auto d = partial(in, regs, r, w, s);
      if (!d) continue;
      accumulate(cot[in.args[w]], ew(ElemOp::Multiply, {*cot[r], *d}, s), arg, s);
    }
  }
  std::vector<array> out;
  for (int i : argnums) {
    out.push_back(cot[i] ? *cot[i] : zeros_like(primals[i], s));
  }
  return out;
}

// Batching rule: the same program on the batched inputs. Each batched input gets its batch axis
// in front and size-1 axes after it up to the per-example output rank, so that per-example
// shapes still broadcast from the right; shared inputs broadcast along the batch by themselves.
std::pair<std::vector<array>, std::vector<int>> Elementwise::vmap(const std::vector<array>& in,
                                                                  const std::vector<int>& axes) {
  int rank = 0;
  for (size_t i = 0; i < in.size(); ++i) rank = std::max(rank, in[i].ndim() - (axes[i] >= 0 ? 1 : 0));
  const int batch = batching::batch_size(in, axes, "Elementwise");
  std::vector<array> inputs;
  Shape shape;
  for (size_t i = 0; i < in.size(); ++i) {
    inputs.push_back(batching::aligned(in[i], axes[i], rank, batch, false, stream()));
    shape = i == 0 ? inputs[0].shape() : broadcast_shapes(shape, inputs[i].shape(), "vmap");
  }
  return {{array(shape, program_.out_dtype(), std::make_shared<Elementwise>(stream(), program_),
                 std::move(inputs))},
          {0}};
}

std::vector<array> Elementwise::jvp(const std::vector<array>& primals,
                                    const std::vector<array>& tangents,
                                    const std::vector<int>& argnums) {
  const Stream& s = stream();
  std::vector<array> regs = replay(program_, primals, s);
  std::vector<std::optional<array>> tan(regs.size());
  for (size_t i = 0; i < argnums.size(); ++i) tan[argnums[i]] = tangents[i];
  const int n_in = static_cast<int>(primals.size());
  for (size_t k = 0; k < program_.code.size(); ++k) {
    int r = n_in + static_cast<int>(k);
    const auto& in = program_.code[k];
    if (!differentiable(regs[r].dtype())) continue;
    for (int w = 0; w < op_arity(in.op); ++w) {
      if (!tan[in.args[w]]) continue;
      std::optional<array> d;
      if (in.op != ElemOp::Conjugate) {
        d = partial(in, regs, r, w, s);
        if (!d) continue;
      }
      array t = d ? ew(ElemOp::Multiply, {*tan[in.args[w]], *d}, s)
                  : ew(ElemOp::Conjugate, {*tan[in.args[w]]}, s);
      if (!(t.dtype() == regs[r].dtype())) t = ew(ElemOp::AsType, {t}, s, regs[r].dtype());
      if (t.shape() != regs[r].shape()) t = broadcast_to(t, regs[r].shape(), s);
      tan[r] = tan[r] ? ew(ElemOp::Add, {*tan[r], t}, s) : t;
    }
  }
  return {tan.back() ? *tan.back() : zeros_like(regs.back(), s)};
}

}  // namespace tessera

#include "tessera/ops/elementwise.hpp"

namespace tessera {
array astype(const array& a, Dtype dtype, StreamOrDevice s) {
  check_valid_dtype(dtype, "astype");
  if (a.dtype() == dtype) return a;
  checked_shape_size(a.shape(), dtype.size(), "astype");  // a wider dtype may overflow the bytes
  return apply_elementwise(ElemOp::AsType, {a}, s, dtype);
}
array array::astype(Dtype dtype) const { return tessera::astype(*this, dtype); }

array real(const array& a, StreamOrDevice s) {
  return is_complex(a.dtype()) ? apply_elementwise(ElemOp::Real, {a}, s) : a;
}
array imag(const array& a, StreamOrDevice s) {
  return is_complex(a.dtype()) ? apply_elementwise(ElemOp::Imag, {a}, s) : zeros_like(a, s);
}
array conjugate(const array& a, StreamOrDevice s) {
  return is_complex(a.dtype()) ? apply_elementwise(ElemOp::Conjugate, {a}, s) : a;
}

array clip(const array& a, const std::optional<array>& a_min, const std::optional<array>& a_max,
           StreamOrDevice s) {
  if (!a_min && !a_max) {
    throw std::invalid_argument("[clip] at least one of a_min and a_max must be given");
  }
  ProgramBuilder b;
  int r = b.input(a);
  const int lo = a_min ? b.input(*a_min) : -1;
  const int hi = a_max ? b.input(*a_max) : -1;
  if (lo >= 0) r = b.emit(ElemOp::Maximum, {r, lo});
  if (hi >= 0) r = b.emit(ElemOp::Minimum, {r, hi});
  return b.finish(r, s);
}

namespace {
array scale_angle(const array& a, double factor, StreamOrDevice s) {
  const Dtype t = issubdtype(a.dtype(), inexact) ? a.dtype() : float32;
  return apply_elementwise(ElemOp::Multiply, {a, array(factor, t)}, s);
}
}  // namespace

array degrees(const array& a, StreamOrDevice s) { return scale_angle(a, 180.0 / std::numbers::pi, s); }
array radians(const array& a, StreamOrDevice s) { return scale_angle(a, std::numbers::pi / 180.0, s); }

// Shapeless compile: the inputs' broadcast shape.
std::vector<Shape> Elementwise::output_shapes(const std::vector<array>& in) {
  Shape out = in.empty() ? Shape{} : in[0].shape();
  for (size_t i = 1; i < in.size(); ++i) out = broadcast_shapes(out, in[i].shape(), name());
  return {out};
}

}  // namespace tessera
