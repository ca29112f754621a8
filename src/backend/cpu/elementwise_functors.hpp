#pragma once
// The scalar body of every elementwise op, one functor per ElemOp, shared by the plain and the
// fused CPU kernels. 16-bit floats compute in float32 and round back after each op, as the GPU
// kernels do, so fused and unfused results agree bit for bit.
#include <cmath>
#include <complex>
#include <type_traits>

#include "tessera/core/dtype.hpp"
#include "tessera/primitives/elementwise.hpp"

namespace tessera::cpu::detail {

template <typename T>
inline constexpr bool is_half_v = std::is_same_v<T, float16_t> || std::is_same_v<T, bfloat16_t>;

// Working type of T: float for the 16-bit floats, T otherwise.
template <typename T>
using work_t = std::conditional_t<is_half_v<T>, float, T>;

template <typename T>
inline constexpr bool is_complex_v = std::is_same_v<T, complex64_t>;

// Inverse error function: Giles' single-precision approximation ("Approximating the erfinv
// function", GPU Gems 2011), which the GLSL snippet uses too, so both backends agree.
inline float erfinv_f(float x) {
  float w = -std::log((1.0f - x) * (1.0f + x));
  float p;
  if (w < 5.0f) {
    w = w - 2.5f;
    p = 2.81022636e-08f;
    p = 3.43273939e-07f + p * w;
    p = -3.5233877e-06f + p * w;
    p = -4.39150654e-06f + p * w;
    p = 0.00021858087f + p * w;
    p = -0.00125372503f + p * w;
    p = -0.00417768164f + p * w;
    p = 0.246640727f + p * w;
    p = 1.50140941f + p * w;
  } else {
    w = std::sqrt(w) - 3.0f;
    p = -0.000200214257f;
    p = 0.000100950558f + p * w;
    p = 0.00134934322f + p * w;
    p = -0.00367342844f + p * w;
    p = 0.00573950773f + p * w;
    p = -0.0076224613f + p * w;
    p = 0.00943887047f + p * w;
    p = 1.00167406f + p * w;
    p = 2.83297682f + p * w;
  }
  return p * x;
}

// Integer arithmetic wraps modulo 2^bits (as NumPy and the GPU kernels): done in an unsigned
// type at least as wide as `unsigned`, since signed overflow (and unsigned short products
// promoted to int) would be undefined behaviour in C++.
template <typename W>
using wrap_t = std::conditional_t<(sizeof(W) < sizeof(unsigned)), unsigned, std::make_unsigned_t<W>>;
template <typename W>
W wrap_add(W a, W b) { return static_cast<W>(static_cast<wrap_t<W>>(a) + static_cast<wrap_t<W>>(b)); }
template <typename W>
W wrap_sub(W a, W b) { return static_cast<W>(static_cast<wrap_t<W>>(a) - static_cast<wrap_t<W>>(b)); }
template <typename W>
W wrap_mul(W a, W b) { return static_cast<W>(static_cast<wrap_t<W>>(a) * static_cast<wrap_t<W>>(b)); }

template <typename T>
T int_power(T base, T exp) {
  if constexpr (std::is_signed_v<T>) {
    if (exp < 0) return (base == 1) ? 1 : (base == -1 ? ((exp & 1) ? -1 : 1) : 0);
  }
  T result = 1;
  while (exp) {
    if (exp & 1) result = wrap_mul(result, base);
    base = wrap_mul(base, base);
    exp >>= 1;
  }
  return result;
}

template <typename W>
W sign_of(W x) {
  if constexpr (is_complex_v<W>) {
    float m = std::abs(x);
    return m == 0 ? W(0) : x / m;
  } else if constexpr (std::is_unsigned_v<W>) {
    return x != 0;
  } else {
    return static_cast<W>((W(0) < x) - (x < W(0)));
  }
}

// Result of a unary op applied to a working value.
template <ElemOp op, typename W>
auto unary(W x) {
  using std::abs, std::exp, std::log, std::sin, std::cos, std::tan, std::tanh, std::sqrt;
  if constexpr (op == ElemOp::Negative) {
    if constexpr (std::is_integral_v<W>) return wrap_sub(W(0), x); else return static_cast<W>(-x);
  }
  else if constexpr (op == ElemOp::Abs) {
    if constexpr (is_complex_v<W>) return std::abs(x);
    else if constexpr (std::is_unsigned_v<W> || std::is_same_v<W, bool>) return x;
    else if constexpr (std::is_integral_v<W>) return x < W(0) ? wrap_sub(W(0), x) : x;
    else return static_cast<W>(x < W(0) ? -x : x);
  }
  else if constexpr (op == ElemOp::Real) return x.real();
  else if constexpr (op == ElemOp::Imag) return x.imag();
  else if constexpr (op == ElemOp::Conjugate) return std::conj(x);
  else if constexpr (op == ElemOp::Sign) {
    if constexpr (std::is_same_v<W, bool>) return x;
    else return sign_of(x);
  }
  else if constexpr (op == ElemOp::Exp) return exp(x);
  else if constexpr (op == ElemOp::Log) return log(x);
  else if constexpr (op == ElemOp::Log1p) return std::log1p(x);
  else if constexpr (op == ElemOp::Sin) return sin(x);
  else if constexpr (op == ElemOp::Cos) return cos(x);
  else if constexpr (op == ElemOp::Tan) return tan(x);
  else if constexpr (op == ElemOp::Tanh) return tanh(x);
  else if constexpr (op == ElemOp::Sqrt) return sqrt(x);
  else if constexpr (op == ElemOp::Rsqrt) return W(1) / sqrt(x);
  else if constexpr (op == ElemOp::Square) {
    if constexpr (std::is_same_v<W, bool>) return x;
    else if constexpr (std::is_integral_v<W>) return wrap_mul(x, x);
    else return static_cast<W>(x * x);
  }
  else if constexpr (op == ElemOp::Sigmoid) return W(1) / (W(1) + exp(-x));
  else if constexpr (op == ElemOp::Floor) {
    if constexpr (std::is_floating_point_v<W>) return std::floor(x); else return x;
  }
  else if constexpr (op == ElemOp::Ceil) {
    if constexpr (std::is_floating_point_v<W>) return std::ceil(x); else return x;
  }
  else if constexpr (op == ElemOp::Round) {
    // Half to even, as NumPy and MLX.
    if constexpr (std::is_floating_point_v<W>) return std::nearbyint(x); else return x;
  }
  else if constexpr (op == ElemOp::LogicalNot) return !x;
  else if constexpr (op == ElemOp::Erfinv) {
    if constexpr (std::is_same_v<W, double>) return static_cast<double>(erfinv_f(static_cast<float>(x)));
    else return erfinv_f(x);
  }
  else if constexpr (op == ElemOp::Sinh) return std::sinh(x);
  else if constexpr (op == ElemOp::Cosh) return std::cosh(x);
  else if constexpr (op == ElemOp::ArcSin) return std::asin(x);
  else if constexpr (op == ElemOp::ArcCos) return std::acos(x);
  else if constexpr (op == ElemOp::ArcTan) return std::atan(x);
  else if constexpr (op == ElemOp::ArcSinh) return std::asinh(x);
  else if constexpr (op == ElemOp::ArcCosh) return std::acosh(x);
  else if constexpr (op == ElemOp::ArcTanh) return std::atanh(x);
  else if constexpr (op == ElemOp::Expm1) return std::expm1(x);
  else if constexpr (op == ElemOp::Log2) return std::log2(x);
  else if constexpr (op == ElemOp::Log10) return std::log10(x);
  else if constexpr (op == ElemOp::Reciprocal) return W(1) / x;
  else if constexpr (op == ElemOp::Erf) return std::erf(x);
  else if constexpr (op == ElemOp::BitwiseInvert) {
    if constexpr (std::is_same_v<W, bool>) return !x; else return static_cast<W>(~x);
  }
}

template <ElemOp op, typename W>
auto binary(W a, W b) {
  if constexpr (op == ElemOp::Add) {
    if constexpr (std::is_same_v<W, bool>) return a || b;
    else if constexpr (std::is_integral_v<W>) return wrap_add(a, b);
    else return static_cast<W>(a + b);
  }
  else if constexpr (op == ElemOp::Subtract) {
    if constexpr (std::is_integral_v<W>) return wrap_sub(a, b); else return static_cast<W>(a - b);
  }
  else if constexpr (op == ElemOp::Multiply) {
    if constexpr (std::is_same_v<W, bool>) return a && b;
    else if constexpr (std::is_integral_v<W>) return wrap_mul(a, b);
    else return static_cast<W>(a * b);
  }
  else if constexpr (op == ElemOp::Divide) return a / b;
  else if constexpr (op == ElemOp::Power) {
    if constexpr (std::is_same_v<W, bool>) return a || !b;
    else if constexpr (std::is_integral_v<W>) return int_power(a, b);
    else return std::pow(a, b);
  }
  else if constexpr (op == ElemOp::Maximum) {
    // NaN propagates, as NumPy's maximum.
    if constexpr (std::is_floating_point_v<W>) { if (a != a) return a; }
    return a > b ? a : b;  // b when b is NaN
  }
  else if constexpr (op == ElemOp::Minimum) {
    if constexpr (std::is_floating_point_v<W>) { if (a != a) return a; }
    return a < b ? a : b;  // b when b is NaN
  }
  else if constexpr (op == ElemOp::Equal) return a == b;
  else if constexpr (op == ElemOp::NotEqual) return a != b;
  else if constexpr (op == ElemOp::Less) return a < b;
  else if constexpr (op == ElemOp::LessEqual) return a <= b;
  else if constexpr (op == ElemOp::Greater) return a > b;
  else if constexpr (op == ElemOp::GreaterEqual) return a >= b;
  else if constexpr (op == ElemOp::LogicalAnd) return a && b;
  else if constexpr (op == ElemOp::LogicalOr) return a || b;
  else if constexpr (op == ElemOp::ArcTan2) return std::atan2(a, b);
  else if constexpr (op == ElemOp::Remainder) {
    // The sign of the divisor (NumPy's and MLX's remainder, Python's %). Integer division by
    // 0 gives 0 (NumPy's result) and by -1 gives 0: neither may trap.
    if constexpr (std::is_integral_v<W>) {
      if (b == W(0)) return W(0);
      if constexpr (std::is_signed_v<W>) {
        if (b == W(-1)) return W(0);
        W r = static_cast<W>(a % b);
        return (r != 0 && ((r < 0) != (b < 0))) ? static_cast<W>(r + b) : r;
      } else {
        return static_cast<W>(a % b);
      }
    } else {
      W r = std::fmod(a, b);
      return (r != W(0) && ((r < W(0)) != (b < W(0)))) ? static_cast<W>(r + b) : r;
    }
  }
  else if constexpr (op == ElemOp::FloorDivide) {
    // Rounded toward -inf. Integer division by 0 gives 0; by -1 it is negation (which wraps
    // for the most negative value instead of trapping).
    if constexpr (std::is_integral_v<W>) {
      if (b == W(0)) return W(0);
      if constexpr (std::is_signed_v<W>) {
        if (b == W(-1)) return wrap_sub(W(0), a);
        W q = static_cast<W>(a / b);
        return (a % b != 0 && ((a < 0) != (b < 0))) ? static_cast<W>(q - 1) : q;
      } else {
        return static_cast<W>(a / b);
      }
    } else {
      return static_cast<W>(std::floor(a / b));
    }
  }
  else if constexpr (op == ElemOp::BitwiseAnd) {
    if constexpr (std::is_same_v<W, bool>) return a && b; else return static_cast<W>(a & b);
  }
  else if constexpr (op == ElemOp::BitwiseOr) {
    if constexpr (std::is_same_v<W, bool>) return a || b; else return static_cast<W>(a | b);
  }
  else if constexpr (op == ElemOp::BitwiseXor) {
    if constexpr (std::is_same_v<W, bool>) return a != b; else return static_cast<W>(a ^ b);
  }
  else if constexpr (op == ElemOp::LeftShift || op == ElemOp::RightShift) {
    // Shift amounts outside [0, width of the computing type) would be undefined behaviour:
    // they shift everything out (0, or the sign for a right shift of a negative value). The
    // computing type is at least 32 bits wide, as on the GPU, so narrow types wrap alike.
    using P = std::conditional_t<(sizeof(W) < 4), std::conditional_t<std::is_signed_v<W>, int32_t, uint32_t>, W>;
    constexpr int bits = 8 * static_cast<int>(sizeof(P));
    const P pa = static_cast<P>(a);
    // (A negative amount converts to a huge unsigned one.)
    const bool out_of_range = static_cast<uint64_t>(b) >= static_cast<uint64_t>(bits);
    if constexpr (op == ElemOp::LeftShift) {
      using U = std::make_unsigned_t<P>;
      return out_of_range ? W(0) : static_cast<W>(static_cast<U>(pa) << static_cast<int>(b));
    } else {
      if (out_of_range) return static_cast<W>(pa < P(0) ? P(-1) : P(0));
      return static_cast<W>(pa >> static_cast<int>(b));
    }
  }
  else if constexpr (op == ElemOp::LogAddExp) {
    // log(exp(a) + exp(b)) = max + log1p(exp(min - max)), which never overflows. The infinite
    // cases are taken first: inf - inf would be NaN.
    if (a != a || b != b) return static_cast<W>(a + b);
    const W hi = a < b ? b : a, lo = a < b ? a : b;
    if (std::isinf(lo) && lo < W(0)) return hi;
    if (std::isinf(hi) && hi > W(0)) return hi;
    return static_cast<W>(hi + std::log1p(std::exp(lo - hi)));
  }
}

}  // namespace tessera::cpu::detail
