// Double-precision exp, log, sin, cos, tan, tanh and friends. GLSL offers these for float
// only, so float64 elementwise kernels would otherwise lose half their digits. Classic
// argument reduction + polynomials (Taylor / atanh series), accurate to a few ulp for
// |x| < 1e6 in the trigonometric functions (Cody-Waite reduction; beyond that it degrades).
#ifndef TESSERA_FLOAT64_MATH_GLSL
#define TESSERA_FLOAT64_MATH_GLSL

double ts_d_inf() { return packDouble2x32(uvec2(0u, 0x7ff00000u)); }
double ts_d_nan() { return packDouble2x32(uvec2(0u, 0x7ff80000u)); }

// 2^n for n far outside the exponent range of one ldexp step.
double ts_d_scale(double p, int n) {
  int h = n / 2;
  return ldexp(ldexp(p, h), n - h);
}

// exp(r) for |r| <= 0.35: Taylor series to degree 13 (remainder < 1e-17).
double ts_d_exp_poly(double r) {
  double p = 1.0lf / 6227020800.0lf;
  p = p * r + 1.0lf / 479001600.0lf;
  p = p * r + 1.0lf / 39916800.0lf;
  p = p * r + 1.0lf / 3628800.0lf;
  p = p * r + 1.0lf / 362880.0lf;
  p = p * r + 1.0lf / 40320.0lf;
  p = p * r + 1.0lf / 5040.0lf;
  p = p * r + 1.0lf / 720.0lf;
  p = p * r + 1.0lf / 120.0lf;
  p = p * r + 1.0lf / 24.0lf;
  p = p * r + 1.0lf / 6.0lf;
  p = p * r + 0.5lf;
  p = p * r + 1.0lf;
  return p * r + 1.0lf;
}

const double TS_LN2_HI = 6.93147180369123816490e-01lf;
const double TS_LN2_LO = 1.90821492927058770002e-10lf;

double ts_d_exp(double x) {
  if (isnan(x)) return x;
  if (x > 709.782712893384lf) return ts_d_inf();
  if (x < -745.2lf) return 0.0lf;
  double n = roundEven(x * 1.4426950408889634074lf);
  double r = (x - n * TS_LN2_HI) - n * TS_LN2_LO;
  return ts_d_scale(ts_d_exp_poly(r), int(n));
}

// exp(y) - 1 for |y| <= 1.2 without cancellation: y * sum_k y^k / (k+1)!, to degree 21.
double ts_d_expm1_small(double y) {
  double inv = 1.0lf / 51090942171709440000.0lf;  // 1/21!
  double p = inv;
  for (int k = 20; k >= 1; --k) {
    inv *= double(k + 1);  // 1/k!
    p = p * y + inv;
  }
  return p * y;
}

double ts_d_log(double x) {
  if (isnan(x) || x < 0.0lf) return ts_d_nan();
  if (x == 0.0lf) return -ts_d_inf();
  if (isinf(x)) return x;
  int e;
  double m = frexp(x, e);  // x = m * 2^e, m in [0.5, 1)
  if (m < 0.70710678118654752440lf) {
    m *= 2.0lf;
    e -= 1;
  }
  double f = m - 1.0lf;
  double s = f / (2.0lf + f);  // |s| <= 0.172; log(m) = 2 atanh(s)
  double s2 = s * s;
  double p = 1.0lf / 25.0lf;
  p = p * s2 + 1.0lf / 23.0lf;
  p = p * s2 + 1.0lf / 21.0lf;
  p = p * s2 + 1.0lf / 19.0lf;
  p = p * s2 + 1.0lf / 17.0lf;
  p = p * s2 + 1.0lf / 15.0lf;
  p = p * s2 + 1.0lf / 13.0lf;
  p = p * s2 + 1.0lf / 11.0lf;
  p = p * s2 + 1.0lf / 9.0lf;
  p = p * s2 + 1.0lf / 7.0lf;
  p = p * s2 + 1.0lf / 5.0lf;
  p = p * s2 + 1.0lf / 3.0lf;
  p = p * s2 + 1.0lf;
  double de = double(e);
  return (de * TS_LN2_HI + 2.0lf * s * p) + de * TS_LN2_LO;
}

double ts_d_log1p(double x) {
  double u = 1.0lf + x;
  if (u == 1.0lf) return x;
  if (isinf(u) || isnan(u)) return ts_d_log(u);
  return ts_d_log(u) * (x / (u - 1.0lf));
}

// sin and cos of r in [-pi/4, pi/4]: Taylor series to degree 19 / 20.
double ts_d_sin_poly(double r) {
  double r2 = r * r;
  double p = -1.0lf / 121645100408832000.0lf;
  p = p * r2 + 1.0lf / 355687428096000.0lf;
  p = p * r2 - 1.0lf / 1307674368000.0lf;
  p = p * r2 + 1.0lf / 6227020800.0lf;
  p = p * r2 - 1.0lf / 39916800.0lf;
  p = p * r2 + 1.0lf / 362880.0lf;
  p = p * r2 - 1.0lf / 5040.0lf;
  p = p * r2 + 1.0lf / 120.0lf;
  p = p * r2 - 1.0lf / 6.0lf;
  return r + r * r2 * p;
}
double ts_d_cos_poly(double r) {
  double r2 = r * r;
  double p = 1.0lf / 2432902008176640000.0lf;
  p = p * r2 - 1.0lf / 6402373705728000.0lf;
  p = p * r2 + 1.0lf / 20922789888000.0lf;
  p = p * r2 - 1.0lf / 87178291200.0lf;
  p = p * r2 + 1.0lf / 479001600.0lf;
  p = p * r2 - 1.0lf / 3628800.0lf;
  p = p * r2 + 1.0lf / 40320.0lf;
  p = p * r2 - 1.0lf / 720.0lf;
  p = p * r2 + 1.0lf / 24.0lf;
  p = p * r2 - 0.5lf;
  return 1.0lf + r2 * p;
}

// x = k * pi/2 + r with pi/2 split in three parts (Cody-Waite); returns the quadrant k mod 4.
int ts_d_reduce(double x, out double r) {
  double k = roundEven(x * 0.63661977236758134308lf);
  r = ((x - k * 1.57079632673412561417e+00lf) - k * 6.07710050630396597660e-11lf) -
      k * 2.02226624871116645580e-21lf;
  return int(mod(k, 4.0lf));
}

double ts_d_sin(double x) {
  if (isinf(x) || isnan(x)) return ts_d_nan();
  double r;
  int q = ts_d_reduce(x, r);
  double v = (q & 1) == 0 ? ts_d_sin_poly(r) : ts_d_cos_poly(r);
  return q >= 2 ? -v : v;
}
double ts_d_cos(double x) {
  if (isinf(x) || isnan(x)) return ts_d_nan();
  double r;
  int q = ts_d_reduce(x, r);
  double v = (q & 1) == 0 ? ts_d_cos_poly(r) : ts_d_sin_poly(r);
  return (q == 1 || q == 2) ? -v : v;
}
double ts_d_tan(double x) {
  if (isinf(x) || isnan(x)) return ts_d_nan();
  double r;
  int q = ts_d_reduce(x, r);
  double s = ts_d_sin_poly(r), c = ts_d_cos_poly(r);
  return (q & 1) == 0 ? s / c : -c / s;
}
double ts_d_tanh(double x) {
  if (isnan(x)) return x;
  double a = abs(x);
  double t;
  if (a > 22.0lf) {
    t = 1.0lf;
  } else if (a < 0.55lf) {
    double e = ts_d_expm1_small(2.0lf * a);  // tanh = expm1(2a) / (expm1(2a) + 2)
    t = e / (e + 2.0lf);
  } else {
    t = 1.0lf - 2.0lf / (ts_d_exp(2.0lf * a) + 1.0lf);
  }
  return x < 0.0lf ? -t : t;
}

double ts_d_expm1(double x) {
  if (abs(x) <= 1.2lf) return ts_d_expm1_small(x);
  return ts_d_exp(x) - 1.0lf;
}

const double TS_PI = 3.14159265358979323846lf;

bool ts_d_signbit(double x) { return (unpackDouble2x32(x).y & 0x80000000u) != 0u; }

// atan2 in double (needs ts_atan2 of elementwise_ops.glsl): the float angle, refined by two Newton steps on the angle difference
// (each multiplies the error by about its square), so the result has double accuracy whatever
// the driver's float atan is worth. The special cases follow IEEE 754 / C's atan2.
double ts_d_atan2(double y, double x) {
  if (isnan(x) || isnan(y)) return x + y;
  if (isinf(x) || isinf(y)) {
    double q = isinf(x) ? (isinf(y) ? 0.25lf * TS_PI : 0.0lf) : 0.5lf * TS_PI;
    if (isinf(x) && x < 0.0lf) q = isinf(y) ? 0.75lf * TS_PI : TS_PI;
    return ts_d_signbit(y) ? -q : q;
  }
  if (x == 0.0lf && y == 0.0lf) {
    double q = ts_d_signbit(x) ? TS_PI : 0.0lf;
    return ts_d_signbit(y) ? -q : q;
  }
  // Scale both by a power of two so the float guess sees neither overflow nor underflow.
  int ex, ey;
  frexp(x, ex);
  frexp(y, ey);
  int e = max(ex, ey);
  double xs = ldexp(x, -e), ys = ldexp(y, -e);
  double t = double(ts_atan2(float(ys), float(xs)));
  for (int k = 0; k < 2; ++k) {
    double c = ts_d_cos(t), s = ts_d_sin(t);
    t += (ys * c - xs * s) / (xs * c + ys * s);
  }
  return t;
}
double ts_d_atan(double x) { return ts_d_atan2(x, 1.0lf); }
double ts_d_asin(double x) {
  if (abs(x) > 1.0lf) return ts_d_nan();
  return ts_d_atan2(x, sqrt((1.0lf - x) * (1.0lf + x)));
}
double ts_d_acos(double x) {
  if (abs(x) > 1.0lf) return ts_d_nan();
  return ts_d_atan2(sqrt((1.0lf - x) * (1.0lf + x)), x);
}

// sinh and cosh from expm1 near 0 (no cancellation) and from exp(|x| - ln 2) beyond (no
// overflow before the result itself overflows).
double ts_d_sinh(double x) {
  if (isnan(x)) return x;
  double a = abs(x), r;
  if (a < 1.0lf) {
    double u = ts_d_expm1_small(a);
    r = 0.5lf * (u + u / (u + 1.0lf));
  } else {
    double e = ts_d_exp(a - TS_LN2_HI - TS_LN2_LO);
    r = e - 0.25lf / e;
  }
  return x < 0.0lf ? -r : r;
}
double ts_d_cosh(double x) {
  if (isnan(x)) return x;
  double a = abs(x);
  if (a < 1.0lf) {
    double u = ts_d_expm1_small(a);
    return 1.0lf + 0.5lf * u * u / (u + 1.0lf);
  }
  double e = ts_d_exp(a - TS_LN2_HI - TS_LN2_LO);
  return e + 0.25lf / e;
}
double ts_d_asinh(double x) {
  if (isnan(x) || isinf(x)) return x;
  double a = abs(x), r;
  if (a > 1e18lf) {
    r = ts_d_log(a) + TS_LN2_HI + TS_LN2_LO;
  } else {
    r = ts_d_log1p(a + a * a / (1.0lf + sqrt(1.0lf + a * a)));
  }
  return x < 0.0lf ? -r : r;
}
double ts_d_acosh(double x) {
  if (isnan(x) || x < 1.0lf) return ts_d_nan();
  if (isinf(x)) return x;
  if (x > 1e18lf) return ts_d_log(x) + TS_LN2_HI + TS_LN2_LO;
  double t = x - 1.0lf;
  return ts_d_log1p(t + sqrt(t * (x + 1.0lf)));
}
// erf as op_erf (elementwise_ops.glsl) does it in float, with the switch to the continued
// fraction at 3 and more terms.
double ts_d_erf(double x) {
  if (isnan(x)) return x;
  double a = abs(x), r;
  if (a < 3.0lf) {
    double x2 = a * a, term = a, sum = a;
    for (int n = 1; n < 96; ++n) {
      term *= 2.0lf * x2 / double(2 * n + 1);
      sum += term;
      if (term < sum * 1e-18lf) break;
    }
    r = 1.1283791670955125739lf * ts_d_exp(-x2) * sum;
  } else if (a < 27.0lf) {
    double t = a;
    for (int k = 80; k >= 1; --k) t = a + 0.5lf * double(k) / t;
    r = 1.0lf - ts_d_exp(-a * a) * 0.56418958354775628695lf / t;
  } else {
    r = 1.0lf;
  }
  return x < 0.0lf ? -r : r;
}
double ts_d_atanh(double x) {
  if (isnan(x) || abs(x) > 1.0lf) return ts_d_nan();
  // (Not x * ts_d_inf(): NVIDIA's compiler turns that product into a denormal.)
  if (abs(x) == 1.0lf) return x > 0.0lf ? ts_d_inf() : -ts_d_inf();
  return 0.5lf * ts_d_log1p(2.0lf * x / (1.0lf - x));
}

#endif

// Round half to even, from floor: lavapipe's double roundEven rounds -3.5 to -3 (seen with
// Mesa 22.3.6), so the double path does not rely on the driver's.
double ts_d_round_even(double a) {
  if (abs(a) >= 4503599627370496.0lf) return a;  // 2^52: already an integer (or inf / NaN)
  double f = floor(a);
  double d = a - f;  // exact below 2^52
  if (d > 0.5lf || (d == 0.5lf && mod(f, 2.0lf) != 0.0lf)) f += 1.0lf;
  return f;
}
