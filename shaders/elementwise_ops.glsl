// The body of every elementwise op, named op_<function> after the op list in
// include/tessera/primitives/elementwise.hpp and overloaded on the compute type. The generated
// fused kernels call these; their CPU twins are backend/cpu/elementwise_functors.hpp.
// float64 transcendentals come from float64_math.glsl (GLSL has none in double precision).
#ifndef TESSERA_ELEMENTWISE_OPS_GLSL
#define TESSERA_ELEMENTWISE_OPS_GLSL
#include "dtype.glsl"

// ---- operations every numeric type has
#define TS_ARITH(T)                                                   \
  T op_add(T a, T b) { return a + b; }                                \
  T op_subtract(T a, T b) { return a - b; }                           \
  T op_multiply(T a, T b) { return a * b; }                           \
  T op_square(T a) { return a * a; }                                  \
  bool op_equal(T a, T b) { return a == b; }                          \
  bool op_not_equal(T a, T b) { return a != b; }                      \
  bool op_less(T a, T b) { return a < b; }                            \
  bool op_less_equal(T a, T b) { return a <= b; }                     \
  bool op_greater(T a, T b) { return a > b; }                         \
  bool op_greater_equal(T a, T b) { return a >= b; }                  \
  T op_where(bool c, T a, T b) { return c ? a : b; }

// ---- integers: exact arithmetic, identity rounding, power by squaring
#define TS_INTEGER(T)                                                 \
  TS_ARITH(T)                                                         \
  T op_maximum(T a, T b) { return a < b ? b : a; }                    \
  T op_minimum(T a, T b) { return b < a ? b : a; }                    \
  T op_floor(T a) { return a; }                                       \
  T op_ceil(T a) { return a; }                                        \
  T op_round(T a) { return a; }                                       \
  T op_power(T a, T b) {                                              \
    if (b < T(0)) return (a == T(1)) ? T(1) : ((a == T(0) - T(1)) ? (((b & T(1)) != T(0)) ? a : T(1)) : T(0)); \
    T r = T(1);                                                       \
    while (b != T(0)) {                                               \
      if ((b & T(1)) != T(0)) r *= a;                                 \
      a *= a;                                                         \
      b >>= 1;                                                        \
    }                                                                 \
    return r;                                                         \
  }

#define TS_SIGNED(T)                                                  \
  TS_INTEGER(T)                                                       \
  T op_negative(T a) { return -a; }                                   \
  T op_abs(T a) { return a < T(0) ? -a : a; }                         \
  T op_sign(T a) { return T(a > T(0)) - T(a < T(0)); }

#define TS_UNSIGNED(T)                                                \
  TS_INTEGER(T)                                                       \
  T op_negative(T a) { return T(0) - a; }                             \
  T op_abs(T a) { return a; }                                         \
  T op_sign(T a) { return T(a != T(0)); }

TS_SIGNED(int)
TS_UNSIGNED(uint)
#ifdef TS_INT64
TS_SIGNED(int64_t)
TS_UNSIGNED(uint64_t)
#endif

// ---- floating point
float op_power(float a, float b) {
  if (a >= 0.0) return pow(a, b);
  if (b == floor(b)) {
    float r = pow(-a, b);
    return mod(b, 2.0) == 0.0 ? r : -r;
  }
  return ts_nan();
}
float op_log1p(float x) {
  if (x < -1.0) return ts_nan();  // log of a negative (some drivers give -inf for log(-inf))
  float u = 1.0 + x;
  if (isinf(u) && u > 0.0) return u;  // log1p(+inf) = +inf; the correction would be inf / inf
  return u == 1.0 ? x : log(u) * (x / (u - 1.0));
}
// Giles' single-precision erfinv, the same polynomial as the CPU kernel.
float op_erfinv(float x) {
  float w = -log((1.0 - x) * (1.0 + x));
  float p;
  if (w < 5.0) {
    w = w - 2.5;
    p = 2.81022636e-08;
    p = 3.43273939e-07 + p * w;
    p = -3.5233877e-06 + p * w;
    p = -4.39150654e-06 + p * w;
    p = 0.00021858087 + p * w;
    p = -0.00125372503 + p * w;
    p = -0.00417768164 + p * w;
    p = 0.246640727 + p * w;
    p = 1.50140941 + p * w;
  } else {
    w = sqrt(w) - 3.0;
    p = -0.000200214257;
    p = 0.000100950558 + p * w;
    p = 0.00134934322 + p * w;
    p = -0.00367342844 + p * w;
    p = 0.00573950773 + p * w;
    p = -0.0076224613 + p * w;
    p = 0.00943887047 + p * w;
    p = 1.00167406 + p * w;
    p = 2.83297682 + p * w;
  }
  return p * x;
}

#define TS_FLOAT_COMMON(T)                                            \
  TS_ARITH(T)                                                         \
  T op_divide(T a, T b) { precise T r = a / b; return r; }           \
  T op_negative(T a) { return -a; }                                   \
  T op_abs(T a) { return abs(a); }                                    \
  T op_sign(T a) { return sign(a); }                                  \
  T op_floor(T a) { return floor(a); }                                \
  T op_ceil(T a) { return ceil(a); }                                  \
  T op_sqrt(T a) { return sqrt(a); }                                  \
  T op_rsqrt(T a) { return inversesqrt(a); }                          \
  T op_maximum(T a, T b) { return (isnan(a) || isnan(b)) ? a + b : max(a, b); } \
  T op_minimum(T a, T b) { return (isnan(a) || isnan(b)) ? a + b : min(a, b); }

TS_FLOAT_COMMON(float)
float op_round(float a) { return roundEven(a); }
float op_exp(float a) { return exp(a); }
float op_log(float a) { return log(a); }
float op_sin(float a) { return sin(a); }
float op_cos(float a) { return cos(a); }
float op_tan(float a) { return tan(a); }
float op_tanh(float a) { return tanh(a); }
float op_sigmoid(float a) { return 1.0 / (1.0 + exp(-a)); }
// max + log1p(exp(min - max)): no overflow; the infinite cases first (inf - inf is NaN).
float op_logaddexp(float a, float b) {
  if (isnan(a) || isnan(b)) return a + b;
  float hi = max(a, b), lo = min(a, b);
  if (isinf(lo) && lo < 0.0) return hi;
  if (isinf(hi) && hi > 0.0) return hi;
  return hi + op_log1p(exp(lo - hi));
}

#ifdef TS_FLOAT64
#include "float64_math.glsl"
TS_FLOAT_COMMON(double)
double op_round(double a) { return ts_d_round_even(a); }
double op_exp(double a) { return ts_d_exp(a); }
double op_log(double a) { return ts_d_log(a); }
double op_log1p(double a) { return ts_d_log1p(a); }
double op_sin(double a) { return ts_d_sin(a); }
double op_cos(double a) { return ts_d_cos(a); }
double op_tan(double a) { return ts_d_tan(a); }
double op_tanh(double a) { return ts_d_tanh(a); }
double op_sigmoid(double a) { return 1.0lf / (1.0lf + ts_d_exp(-a)); }
double op_logaddexp(double a, double b) {
  if (isnan(a) || isnan(b)) return a + b;
  double hi = max(a, b), lo = min(a, b);
  if (isinf(lo) && lo < 0.0lf) return hi;
  if (isinf(hi) && hi > 0.0lf) return hi;
  return hi + ts_d_log1p(ts_d_exp(lo - hi));
}
// erfinv keeps the single-precision polynomial on both backends (the CPU kernel does too).
double op_erfinv(double a) { return double(op_erfinv(float(a))); }
double op_power(double a, double b) {
  if (a >= 0.0lf) return (b == 0.0lf) ? 1.0lf : ts_d_exp(b * ts_d_log(a));
  if (b == floor(b)) {
    double r = (b == 0.0lf) ? 1.0lf : ts_d_exp(b * ts_d_log(-a));
    return mod(b, 2.0lf) == 0.0lf ? r : -r;
  }
  return ts_d_nan();
}
#endif

// ---- bool: + is or, * is and (as NumPy)
bool op_add(bool a, bool b) { return a || b; }
bool op_multiply(bool a, bool b) { return a && b; }
bool op_square(bool a) { return a; }
bool op_abs(bool a) { return a; }
bool op_sign(bool a) { return a; }
bool op_floor(bool a) { return a; }
bool op_ceil(bool a) { return a; }
bool op_round(bool a) { return a; }
bool op_power(bool a, bool b) { return a || !b; }
bool op_maximum(bool a, bool b) { return a || b; }
bool op_minimum(bool a, bool b) { return a && b; }
bool op_equal(bool a, bool b) { return a == b; }
bool op_not_equal(bool a, bool b) { return a != b; }
bool op_less(bool a, bool b) { return !a && b; }
bool op_less_equal(bool a, bool b) { return !a || b; }
bool op_greater(bool a, bool b) { return a && !b; }
bool op_greater_equal(bool a, bool b) { return a || !b; }
bool op_where(bool c, bool a, bool b) { return c ? a : b; }
bool op_logical_not(bool a) { return !a; }
bool op_logical_and(bool a, bool b) { return a && b; }
bool op_logical_or(bool a, bool b) { return a || b; }

// ---- complex64 as vec2(real, imag)
vec2 op_add(vec2 a, vec2 b) { return a + b; }
vec2 op_subtract(vec2 a, vec2 b) { return a - b; }
vec2 op_multiply(vec2 a, vec2 b) { return vec2(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x); }
vec2 op_divide(vec2 a, vec2 b) {
  float d = dot(b, b);
  return vec2(a.x * b.x + a.y * b.y, a.y * b.x - a.x * b.y) / d;
}
vec2 op_negative(vec2 a) { return -a; }
vec2 op_square(vec2 a) { return op_multiply(a, a); }
float op_abs(vec2 a) { return length(a); }
vec2 op_exp(vec2 a) { return exp(a.x) * vec2(cos(a.y), sin(a.y)); }
vec2 op_log(vec2 a) { return vec2(log(length(a)), atan(a.y, a.x)); }
vec2 op_sin(vec2 a) { return vec2(sin(a.x) * cosh(a.y), cos(a.x) * sinh(a.y)); }
vec2 op_cos(vec2 a) { return vec2(cos(a.x) * cosh(a.y), -sin(a.x) * sinh(a.y)); }
vec2 op_sqrt(vec2 a) {
  float r = length(a);
  float re = sqrt(0.5 * (r + a.x));
  float im = sqrt(0.5 * (r - a.x));
  return vec2(re, a.y < 0.0 ? -im : im);
}
bool op_equal(vec2 a, vec2 b) { return a == b; }
bool op_not_equal(vec2 a, vec2 b) { return a != b; }
vec2 op_where(bool c, vec2 a, vec2 b) { return c ? a : b; }

#endif
