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

// Bits. Shift amounts outside [0, width) shift everything out (GLSL leaves them undefined);
// the narrow integer types compute in 32 bits, as on the CPU. The range test is one unsigned
// comparison (a negative amount converts to a huge one): lavapipe (Mesa 22.3) miscompiles the
// signed `b < 0 || b >= W` on sign-extended int64 values. OUT is what an amount out of range
// gives: the sign bits for a signed right shift, else 0.
#define TS_BITS(T, U, W, OUT)                                         \
  T op_bitwise_and(T a, T b) { return a & b; }                        \
  T op_bitwise_or(T a, T b) { return a | b; }                         \
  T op_bitwise_xor(T a, T b) { return a ^ b; }                        \
  T op_bitwise_invert(T a) { return ~a; }                             \
  T op_left_shift(T a, T b) { return U(b) >= U(W) ? T(0) : (a << b); } \
  T op_right_shift(T a, T b) { return U(b) >= U(W) ? (OUT) : (a >> b); }

#define TS_SIGNED(T)                                                  \
  TS_INTEGER(T)                                                       \
  /* GLSL leaves % undefined for negative operands: the remainder  */ \
  /* comes from the truncating division. /0 and /-1 never trap. The */ \
  /* sign test is (r ^ b) < 0: lavapipe (Mesa 22.3) miscompiles     */ \
  /* (r < 0) != (b < 0) when a is a zero-extended uint.             */ \
  T op_remainder(T a, T b) {                                          \
    if (b == T(0) || b == T(-1)) return T(0);                         \
    T r = a - (a / b) * b;                                            \
    return (r != T(0) && (r ^ b) < T(0)) ? r + b : r;                 \
  }                                                                   \
  T op_floor_divide(T a, T b) {                                       \
    if (b == T(0)) return T(0);                                       \
    if (b == T(-1)) return T(0) - a;                                  \
    T q = a / b;                                                      \
    T r = a - q * b;                                                  \
    return (r != T(0) && (r ^ b) < T(0)) ? q - T(1) : q;              \
  }                                                                   \
  T op_negative(T a) { return -a; }                                   \
  T op_abs(T a) { return a < T(0) ? -a : a; }                         \
  T op_sign(T a) { return T(a > T(0)) - T(a < T(0)); }

#define TS_UNSIGNED(T)                                                \
  TS_INTEGER(T)                                                       \
  T op_remainder(T a, T b) { return b == T(0) ? T(0) : a % b; }       \
  T op_floor_divide(T a, T b) { return b == T(0) ? T(0) : a / b; }    \
  T op_negative(T a) { return T(0) - a; }                             \
  T op_abs(T a) { return a; }                                         \
  T op_sign(T a) { return T(a != T(0)); }

TS_SIGNED(int)
TS_UNSIGNED(uint)
TS_BITS(int, uint, 32, a >> 31)
TS_BITS(uint, uint, 32, 0u)
#ifdef TS_INT64
TS_SIGNED(int64_t)
TS_UNSIGNED(uint64_t)
TS_BITS(int64_t, uint64_t, 64, a >> 63)
TS_BITS(uint64_t, uint64_t, 64, uint64_t(0))
#endif

// ---- floating point
// C's pow: GLSL leaves pow(0, y <= 0) undefined (NVIDIA returns NaN for pow(0, 0)), so zero
// bases and the exponents C defines for every base (b == 0, a == 1) are settled here.
float op_power(float a, float b) {
  if (b == 0.0 || a == 1.0) return 1.0;
  const bool odd_integer = b == floor(b) && mod(b, 2.0) == 1.0;
  if (a == 0.0) {
    if (isnan(b)) return ts_nan();
    const bool negative_zero = (floatBitsToUint(a) >> 31) != 0u && odd_integer;
    const float r = b > 0.0 ? 0.0 : uintBitsToFloat(0x7f800000u);
    return negative_zero ? -r : r;
  }
  if (a > 0.0) return pow(a, b);
  if (b == floor(b)) {
    float r = pow(-a, b);
    return odd_integer ? -r : r;
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
// expm1 without cancellation near 0 (Kahan): (u - 1) * x / log(u) with u = exp(x).
float op_expm1(float x) {
  float u = exp(x);
  if (abs(x) > 0.5) return u - 1.0;  // no cancellation there (and um1 * x could overflow)
  if (u == 1.0) return x;
  float um1 = u - 1.0;
  if (um1 == -1.0) return -1.0;
  if (isinf(u)) return u;
  return um1 * x / log(u);
}
float op_sinh(float x) {
  float a = abs(x), r;
  if (a < 1.0) {
    float u = op_expm1(a);
    r = 0.5 * (u + u / (u + 1.0));
  } else {
    float e = exp(a - 0.69314718);  // exp(a) / 2 without overflowing first
    r = e - 0.25 / e;
  }
  return x < 0.0 ? -r : r;
}
float op_cosh(float x) {
  float a = abs(x);
  if (a < 1.0) {
    float u = op_expm1(a);
    return 1.0 + 0.5 * u * u / (u + 1.0);
  }
  float e = exp(a - 0.69314718);
  return e + 0.25 / e;
}
// Inverse trigonometry of our own: Vulkan lets a driver's asin/acos/atan be 4096 ulp off, and
// lavapipe's are (2e-4). atan of t in [0, 1]: t > tan(pi/8) is moved below it by
// atan(t) = pi/4 + atan((t - 1) / (t + 1)), then the odd series to t^17 (error < 2e-8).
float ts_atan_unit(float t) {
  float base = 0.0;
  if (t > 0.41421356) {
    base = 0.78539816;
    t = (t - 1.0) / (t + 1.0);
  }
  float t2 = t * t;
  float p = 1.0 / 17.0;
  p = p * -t2 + 1.0 / 15.0;
  p = p * -t2 + 1.0 / 13.0;
  p = p * -t2 + 1.0 / 11.0;
  p = p * -t2 + 1.0 / 9.0;
  p = p * -t2 + 1.0 / 7.0;
  p = p * -t2 + 1.0 / 5.0;
  p = p * -t2 + 1.0 / 3.0;
  p = p * -t2 + 1.0;
  return base + t * p;
}
bool ts_signbit(float x) { return (floatBitsToUint(x) & 0x80000000u) != 0u; }
// atan2 with C's special cases (signed zeros, infinities).
float ts_atan2(float y, float x) {
  if (isnan(x) || isnan(y)) return x + y;
  float ax = abs(x), ay = abs(y), r;
  if (isinf(ax) && isinf(ay)) {
    r = 0.78539816;
  } else if (ax == 0.0 && ay == 0.0) {
    r = 0.0;
  } else if (ay <= ax) {
    r = ts_atan_unit(ay / ax);
  } else {
    r = 1.5707963 - ts_atan_unit(ax / ay);
  }
  if (ts_signbit(x)) r = 3.14159265 - r;
  return ts_signbit(y) ? -r : r;
}
float op_arcsin(float x) {
  if (abs(x) > 1.0) return ts_nan();
  return ts_atan2(x, sqrt((1.0 - x) * (1.0 + x)));
}
float op_arccos(float x) {
  if (abs(x) > 1.0) return ts_nan();
  return ts_atan2(sqrt((1.0 - x) * (1.0 + x)), x);
}
float op_arctan(float x) { return ts_atan2(x, 1.0); }
float op_arcsinh(float x) {
  if (isnan(x) || isinf(x)) return x;
  float a = abs(x);
  float r = a > 1e18 ? log(a) + 0.69314718 : op_log1p(a + a * a / (1.0 + sqrt(1.0 + a * a)));
  return x < 0.0 ? -r : r;
}
float op_arccosh(float x) {
  if (isnan(x) || x < 1.0) return ts_nan();
  if (isinf(x)) return x;
  if (x > 1e18) return log(x) + 0.69314718;
  float t = x - 1.0;
  return op_log1p(t + sqrt(t * (x + 1.0)));
}
float op_arctanh(float x) {
  if (isnan(x) || abs(x) > 1.0) return ts_nan();
  if (abs(x) == 1.0) return x * uintBitsToFloat(0x7f800000u);
  return 0.5 * op_log1p(2.0 * x / (1.0 - x));
}
// erf: below 2.5 the series 2/sqrt(pi) exp(-x^2) sum_n 2^n x^(2n+1) / (2n+1)!!, whose terms are
// all positive (no cancellation); beyond, 1 - erfc with erfc from its continued fraction
// exp(-x^2) / sqrt(pi) / (x + (1/2) / (x + 1 / (x + (3/2) / (x + ...)))), evaluated backwards.
float op_erf(float x) {
  if (isnan(x)) return x;
  float a = abs(x), r;
  if (a < 2.5) {
    float x2 = a * a, term = a, sum = a;
    for (int n = 1; n < 48; ++n) {
      term *= 2.0 * x2 / float(2 * n + 1);
      sum += term;
      if (term < sum * 1e-9) break;
    }
    r = 1.12837917 * exp(-x2) * sum;
  } else if (a < 10.0) {
    float t = a;
    for (int k = 40; k >= 1; --k) t = a + 0.5 * float(k) / t;
    r = 1.0 - exp(-a * a) * 0.564189584 / t;
  } else {
    r = 1.0;
  }
  return x < 0.0 ? -r : r;
}
float op_log2(float x) { return log2(x); }
float op_log10(float x) { return log2(x) * 0.30102999566; }
float op_reciprocal(float x) { precise float r = 1.0 / x; return r; }
float op_arctan2(float y, float x) { return ts_atan2(y, x); }
// The sign of the divisor, as NumPy's remainder: fmod's result moved into b's half-line.
float op_remainder(float a, float b) {
  precise float r = a - b * trunc(a / b);
  if (isinf(b) && !isinf(a)) r = a;
  return (r != 0.0 && ((r < 0.0) != (b < 0.0))) ? r + b : r;
}
float op_floor_divide(float a, float b) { precise float q = a / b; return floor(q); }
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
double op_erf(double x) { return ts_d_erf(x); }
double op_sinh(double a) { return ts_d_sinh(a); }
double op_cosh(double a) { return ts_d_cosh(a); }
double op_arcsin(double a) { return ts_d_asin(a); }
double op_arccos(double a) { return ts_d_acos(a); }
double op_arctan(double a) { return ts_d_atan(a); }
double op_arcsinh(double a) { return ts_d_asinh(a); }
double op_arccosh(double a) { return ts_d_acosh(a); }
double op_arctanh(double a) { return ts_d_atanh(a); }
double op_expm1(double a) { return ts_d_expm1(a); }
double op_log2(double a) { return ts_d_log(a) * 1.44269504088896340736lf; }
double op_log10(double a) { return ts_d_log(a) * 0.434294481903251827651lf; }
double op_reciprocal(double a) { return 1.0lf / a; }
double op_arctan2(double y, double x) { return ts_d_atan2(y, x); }
double op_remainder(double a, double b) {
  double r = a - b * trunc(a / b);
  if (isinf(b) && !isinf(a)) r = a;
  if (b == 0.0lf) r = ts_d_nan();
  return (r != 0.0lf && ((r < 0.0lf) != (b < 0.0lf))) ? r + b : r;
}
double op_floor_divide(double a, double b) { return floor(a / b); }
double op_logaddexp(double a, double b) {
  if (isnan(a) || isnan(b)) return a + b;
  double hi = max(a, b), lo = min(a, b);
  if (isinf(lo) && lo < 0.0lf) return hi;
  if (isinf(hi) && hi > 0.0lf) return hi;
  return hi + ts_d_log1p(ts_d_exp(lo - hi));
}
// erfinv keeps the single-precision polynomial on both backends (the CPU kernel does too).
double op_erfinv(double a) { return double(op_erfinv(float(a))); }
double op_power(double a, double b) {  // C's pow, as the float version above
  if (b == 0.0lf || a == 1.0lf) return 1.0lf;
  const bool odd_integer = b == floor(b) && mod(b, 2.0lf) == 1.0lf;
  if (a == 0.0lf) {
    if (isnan(b)) return ts_d_nan();
    const bool negative_zero = (unpackDouble2x32(a).y >> 31) != 0u && odd_integer;
    const double r = b > 0.0lf ? 0.0lf : ts_d_inf();
    return negative_zero ? -r : r;
  }
  if (a > 0.0lf) return ts_d_exp(b * ts_d_log(a));
  if (b == floor(b)) {
    double r = ts_d_exp(b * ts_d_log(-a));
    return odd_integer ? -r : r;
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
bool op_bitwise_and(bool a, bool b) { return a && b; }
bool op_bitwise_or(bool a, bool b) { return a || b; }
bool op_bitwise_xor(bool a, bool b) { return a != b; }
bool op_bitwise_invert(bool a) { return !a; }

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
vec2 op_sign(vec2 a) { float m = length(a); return m == 0.0 ? vec2(0.0) : a / m; }
float op_real(vec2 a) { return a.x; }
float op_imag(vec2 a) { return a.y; }
vec2 op_conjugate(vec2 a) { return vec2(a.x, -a.y); }
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
