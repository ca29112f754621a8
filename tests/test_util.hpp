#pragma once
// Shared helpers of the test suite: deterministic random data, closeness checks,
// finite-difference checks of vjp/jvp/grad rules, NumPy fixture files, and devices.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "tessera/core/array.hpp"
#include "tessera/core/device.hpp"
#include "tessera/ops/elementwise.hpp"
#include "tessera/ops/shape.hpp"
#include "tessera/transforms/autodiff.hpp"


namespace tessera::test {

// n values uniform in [lo, hi), reproducible from `seed`.
inline std::vector<double> uniform(size_t n, unsigned seed, double lo = -1.0, double hi = 1.0) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> d(lo, hi);
  std::vector<double> v(n);
  for (auto& x : v) x = d(gen);
  return v;
}

// An array of `shape` filled from uniform(...), stored as `dtype`.
inline array random_array(const Shape& shape, unsigned seed, Dtype dtype = float32,
                          double lo = -1.0, double hi = 1.0) {
  return array(uniform(static_cast<size_t>(shape_size(shape)), seed, lo, hi), shape, dtype);
}

inline std::vector<double> values(array a) { return a.to_vector<double>(); }

// |actual - expected| <= atol + rtol * |expected| elementwise; NaNs must match NaNs and
// infinities must match exactly.
inline ::testing::AssertionResult close_values(const std::vector<double>& actual,
                                           const std::vector<double>& expected,
                                           double rtol = 1e-5, double atol = 1e-6) {
  if (actual.size() != expected.size()) {
    return ::testing::AssertionFailure()
           << "size " << actual.size() << " != expected " << expected.size();
  }
  for (size_t i = 0; i < actual.size(); ++i) {
    const double a = actual[i], e = expected[i];
    if (std::isnan(e) || std::isnan(a)) {
      if (std::isnan(e) && std::isnan(a)) continue;
    } else if (std::isinf(e) || std::isinf(a)) {
      if (a == e) continue;
    } else if (std::abs(a - e) <= atol + rtol * std::abs(e)) {
      continue;
    }
    return ::testing::AssertionFailure() << "element " << i << ": got " << a << ", expected "
                                         << e << " (rtol " << rtol << ", atol " << atol << ")";
  }
  return ::testing::AssertionSuccess();
}
inline ::testing::AssertionResult close_values(array actual, const std::vector<double>& expected,
                                           double rtol = 1e-5, double atol = 1e-6) {
  return close_values(values(actual), expected, rtol, atol);
}

using Fn = std::function<array(const std::vector<array>&)>;

// Checks vjp and jvp of `f` at `inputs` (float64 arrays) against central finite differences:
// for a random cotangent c and tangent t, <c, J_i e_k> for every input element, and J t.
inline ::testing::AssertionResult check_grads(const Fn& f, const std::vector<array>& inputs,
                                              double tol = 1e-6, double h = 1e-6,
                                              unsigned seed = 1234) {
  const ArrayFn fv = [&](const std::vector<array>& xs) { return std::vector<array>{f(xs)}; };
  array out0 = f(inputs);
  out0.eval();
  array cot = random_array(out0.shape(), seed, out0.dtype());
  std::vector<double> c = values(cot);
  auto [outs, grads] = vjp(fv, inputs, {cot});
  if (grads.size() != inputs.size()) {
    return ::testing::AssertionFailure() << "vjp returned " << grads.size() << " cotangents";
  }
  std::vector<std::vector<double>> xs;
  for (auto& x : inputs) xs.push_back(values(x));
  auto eval_at = [&](size_t which, const std::vector<double>& v) {
    std::vector<array> args = inputs;
    args[which] = array(v, inputs[which].shape(), inputs[which].dtype());
    return values(f(args));
  };
  std::vector<std::vector<double>> tangents;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (grads[i].shape() != inputs[i].shape()) {
      return ::testing::AssertionFailure()
             << "vjp of input " << i << " has shape " << shape_string(grads[i].shape())
             << ", expected " << shape_string(inputs[i].shape());
    }
    std::vector<double> g = values(grads[i]);
    std::vector<double> fd(xs[i].size());
    for (size_t k = 0; k < xs[i].size(); ++k) {
      auto xp = xs[i], xm = xs[i];
      xp[k] += h;
      xm[k] -= h;
      auto yp = eval_at(i, xp), ym = eval_at(i, xm);
      double d = 0;
      for (size_t j = 0; j < yp.size(); ++j) d += c[j] * (yp[j] - ym[j]) / (2 * h);
      fd[k] = d;
    }
    auto r = close_values(g, fd, tol, tol);
    if (!r) return r << " (vjp of input " << i << ")";
    tangents.push_back(uniform(xs[i].size(), seed + 7 + static_cast<unsigned>(i)));
  }
  // jvp along all inputs at once.
  std::vector<array> tans;
  std::vector<std::vector<double>> xp = xs, xm = xs;
  for (size_t i = 0; i < inputs.size(); ++i) {
    tans.push_back(array(tangents[i], inputs[i].shape(), inputs[i].dtype()));
    for (size_t k = 0; k < xs[i].size(); ++k) {
      xp[i][k] += h * tangents[i][k];
      xm[i][k] -= h * tangents[i][k];
    }
  }
  auto [outs2, jt] = jvp(fv, inputs, tans);
  std::vector<array> ap, am;
  for (size_t i = 0; i < inputs.size(); ++i) {
    ap.push_back(array(xp[i], inputs[i].shape(), inputs[i].dtype()));
    am.push_back(array(xm[i], inputs[i].shape(), inputs[i].dtype()));
  }
  auto yp = values(f(ap)), ym = values(f(am));
  std::vector<double> fd(yp.size());
  for (size_t j = 0; j < yp.size(); ++j) fd[j] = (yp[j] - ym[j]) / (2 * h);
  if (jt[0].shape() != out0.shape()) {
    return ::testing::AssertionFailure() << "jvp has shape " << shape_string(jt[0].shape())
                                         << ", expected " << shape_string(out0.shape());
  }
  auto r = close_values(values(jt[0]), fd, tol, tol);
  if (!r) return r << " (jvp)";
  return ::testing::AssertionSuccess();
}

// ---------------------------------------------------------------------------------------------
// Arrays compared with arrays (shape, optionally dtype, then values as float64).

inline ::testing::AssertionResult arrays_close(array actual, array expected, double rtol = 1e-5,
                                                 double atol = 1e-6, bool check_dtype = true) {
  if (actual.shape() != expected.shape()) {
    return ::testing::AssertionFailure() << "shape " << shape_string(actual.shape())
                                         << " != expected " << shape_string(expected.shape());
  }
  if (check_dtype && !(actual.dtype() == expected.dtype())) {
    return ::testing::AssertionFailure() << "dtype " << dtype_name(actual.dtype())
                                         << " != expected " << dtype_name(expected.dtype());
  }
  return close_values(values(actual), values(expected), rtol, atol);
}

// Exact equality of shape, dtype and values (NaN equals NaN).
inline ::testing::AssertionResult arrays_equal(array actual, array expected) {
  return arrays_close(std::move(actual), std::move(expected), 0.0, 0.0, true);
}

// ---------------------------------------------------------------------------------------------
// Fixture files (tests/fixtures/*.txt, written by the gen_*.py scripts beside them).
//
//   case <name> <op> <dtype> <tolerance class>
//   in <dtype> <layout> <shape: 3,4 or - for 0-d> <stored values...>
//   out <dtype> <shape> <values...>
// Layouts: c (as stored), T (transposed view), s2 (step-2 slice of the last axis),
// r (last axis reversed: negative strides).

inline Dtype dtype_from_name(const std::string& name) {
  for (auto d : all_dtypes) {
    if (name == dtype_name(d)) return d;
  }
  throw std::invalid_argument("[test] unknown dtype name " + name);
}

struct FixtureTensor {
  Dtype dtype = float32;
  std::string layout = "c";
  Shape shape;                 // of the stored values
  std::vector<double> values;  // row-major
};

struct FixtureCase {
  std::string name, op, dtype, tolerance;
  std::vector<FixtureTensor> inputs;
  FixtureTensor output;
};

// gtest prints parameterised cases by name.
inline void PrintTo(const FixtureCase& c, std::ostream* os) { *os << c.name; }

// "a|b|c" -> {"a", "b", "c"}: the fields of a fixture's op token.
inline std::vector<std::string> split_fields(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::string part;
  std::stringstream ss(s);
  while (std::getline(ss, part, sep)) parts.push_back(part);
  return parts;
}

inline Shape parse_fixture_shape(const std::string& s) {
  Shape shape;
  if (s == "-") return shape;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, ',')) shape.push_back(static_cast<int32_t>(std::stoi(part)));
  return shape;
}

// $TESSERA_FIXTURES_DIR/<file> when the variable is set (CTest sets it), otherwise
// tests/fixtures/<file> found from the working directory or one of its parents (a run from the
// source tree or from a build folder inside it). Never a path baked in at build time: the
// binary keeps working when the tree moves.
inline std::string fixture_path(const std::string& file) {
  if (const char* dir = std::getenv("TESSERA_FIXTURES_DIR"); dir && *dir) {
    return std::string(dir) + "/" + file;
  }
  std::string up;
  for (int depth = 0; depth < 6; ++depth, up += "../") {
    std::string candidate = up + "tests/fixtures/" + file;
    if (std::ifstream(candidate)) return candidate;
  }
  return "tests/fixtures/" + file;  // the error names the path it tried
}

// Reads every case of a fixture file; throws std::runtime_error when the file is missing or
// malformed (a test that silently loads nothing could not fail).
inline std::vector<FixtureCase> load_fixture(const std::string& file) {
  std::ifstream in(fixture_path(file));
  if (!in) throw std::runtime_error("[test] cannot open fixture " + fixture_path(file));
  std::vector<FixtureCase> cases;
  std::string line;
  int lineno = 0;
  auto read_values = [](std::istringstream& ls, FixtureTensor& t) {
    std::string tok;
    while (ls >> tok) t.values.push_back(std::strtod(tok.c_str(), nullptr));
    if (static_cast<int64_t>(t.values.size()) != shape_size(t.shape)) {
      throw std::runtime_error("[test] fixture value count does not match its shape");
    }
  };
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    std::string kind;
    ls >> kind;
    try {
      if (kind == "case") {
        FixtureCase c;
        ls >> c.name >> c.op >> c.dtype >> c.tolerance;
        cases.push_back(std::move(c));
      } else if (kind == "in" || kind == "out") {
        if (cases.empty()) throw std::runtime_error("[test] record before any case");
        FixtureTensor t;
        std::string dt, shape;
        ls >> dt;
        if (kind == "in") ls >> t.layout;
        ls >> shape;
        t.dtype = dtype_from_name(dt);
        t.shape = parse_fixture_shape(shape);
        read_values(ls, t);
        if (kind == "in") cases.back().inputs.push_back(std::move(t));
        else cases.back().output = std::move(t);
      } else {
        throw std::runtime_error("[test] unknown record '" + kind + "'");
      }
    } catch (const std::exception& e) {
      throw std::runtime_error(std::string(e.what()) + " at " + file + ":" +
                               std::to_string(lineno));
    }
  }
  if (cases.empty()) throw std::runtime_error("[test] fixture " + file + " holds no cases");
  return cases;
}

// The stored array of a fixture tensor with its layout applied (a view for T, s2 and r).
inline array fixture_array(const FixtureTensor& t) {
  array stored(t.values, t.shape, t.dtype);
  if (t.layout == "c") return stored;
  if (t.layout == "T") return transpose(stored);
  const int nd = stored.ndim();
  Shape start(nd, 0), stop = t.shape, step(nd, 1);
  if (t.layout == "s2") {
    step[nd - 1] = 2;
    return slice(stored, start, stop, step);
  }
  if (t.layout == "r") {
    start[nd - 1] = -1;
    stop[nd - 1] = -t.shape[nd - 1] - 1;
    step[nd - 1] = -1;
    return slice(stored, start, stop, step);
  }
  throw std::invalid_argument("[test] unknown fixture layout " + t.layout);
}

inline array fixture_expected(const FixtureTensor& t) { return array(t.values, t.shape, t.dtype); }

// ---------------------------------------------------------------------------------------------
// Gradient checks against central differences in float64.

// Checks, at `inputs` (cast to float64), for a random cotangent c and tangents t:
//  - vjp: every input's cotangent against the central difference of <c, f(x)>;
//  - jvp: J t against (f(x + h t) - f(x - h t)) / 2h, and <c, J t> against sum_i <vjp_i, t_i>
//    (forward and reverse mode agree);
//  - for scalar outputs, grad and value_and_grad against the same differences.
// Non-float inputs are not allowed (differentiate the float inputs only).
inline ::testing::AssertionResult check_grad(const Fn& f, const std::vector<array>& inputs_in,
                                             double rtol = 1e-5, double atol = 1e-6,
                                             double h = 1e-6, unsigned seed = 4321) {
  std::vector<array> inputs;
  for (auto& x : inputs_in) {
    if (!issubdtype(x.dtype(), floating)) {
      return ::testing::AssertionFailure() << "check_grad: inputs must be floating point";
    }
    array y = astype(x, float64);
    y.eval();
    inputs.push_back(y);
  }
  const ArrayFn fv = [&](const std::vector<array>& xs) { return std::vector<array>{f(xs)}; };
  array out0 = f(inputs);
  out0.eval();
  std::vector<double> y0 = values(out0);
  array cot = random_array(out0.shape(), seed, out0.dtype());
  const std::vector<double> c = values(cot);

  auto [outs, grads] = vjp(fv, inputs, {cot});
  if (outs.size() != 1 || grads.size() != inputs.size()) {
    return ::testing::AssertionFailure() << "vjp returned " << outs.size() << " outputs and "
                                         << grads.size() << " cotangents";
  }
  {
    auto r = close_values(values(outs[0]), y0, 1e-12, 1e-12);
    if (!r) return r << " (vjp's primal output differs from f(x))";
  }
  std::vector<std::vector<double>> xs, g;
  for (auto& x : inputs) xs.push_back(values(x));
  auto f_at = [&](size_t which, const std::vector<double>& v) {
    std::vector<array> args = inputs;
    args[which] = array(v, inputs[which].shape(), float64);
    return values(f(args));
  };
  std::vector<std::vector<double>> fd_grads;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (grads[i].shape() != inputs[i].shape() || !(grads[i].dtype() == float64)) {
      return ::testing::AssertionFailure()
             << "vjp of input " << i << " has shape " << shape_string(grads[i].shape())
             << " and dtype " << dtype_name(grads[i].dtype()) << ", expected "
             << shape_string(inputs[i].shape()) << " float64";
    }
    g.push_back(values(grads[i]));
    std::vector<double> fd(xs[i].size()), fd_plain(xs[i].size());
    for (size_t k = 0; k < xs[i].size(); ++k) {
      auto xp = xs[i], xm = xs[i];
      xp[k] += h;
      xm[k] -= h;
      auto yp = f_at(i, xp), ym = f_at(i, xm);
      double d = 0, plain = 0;
      for (size_t j = 0; j < yp.size(); ++j) {
        d += c[j] * (yp[j] - ym[j]) / (2 * h);
        plain += (yp[j] - ym[j]) / (2 * h);
      }
      fd[k] = d;
      fd_plain[k] = plain;  // the gradient itself when the output is a scalar
    }
    auto r = close_values(g[i], fd, rtol, atol);
    if (!r) return r << " (vjp of input " << i << " vs central differences)";
    fd_grads.push_back(std::move(fd_plain));
  }

  // Forward mode along random tangents of every input at once.
  std::vector<array> tans, ap, am;
  double vjp_dot_t = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    auto t = uniform(xs[i].size(), seed + 17 + static_cast<unsigned>(i));
    auto xp = xs[i], xm = xs[i];
    for (size_t k = 0; k < t.size(); ++k) {
      xp[k] += h * t[k];
      xm[k] -= h * t[k];
      vjp_dot_t += g[i][k] * t[k];
    }
    tans.push_back(array(t, inputs[i].shape(), float64));
    ap.push_back(array(xp, inputs[i].shape(), float64));
    am.push_back(array(xm, inputs[i].shape(), float64));
  }
  auto [jouts, jt] = jvp(fv, inputs, tans);
  if (jt.size() != 1 || jt[0].shape() != out0.shape()) {
    return ::testing::AssertionFailure() << "jvp returned a tangent of the wrong shape";
  }
  auto yp = values(f(ap)), ym = values(f(am));
  std::vector<double> fd(yp.size());
  for (size_t j = 0; j < yp.size(); ++j) fd[j] = (yp[j] - ym[j]) / (2 * h);
  std::vector<double> jtv = values(jt[0]);
  {
    auto r = close_values(jtv, fd, rtol, atol);
    if (!r) return r << " (jvp vs central differences)";
  }
  double c_dot_jt = 0;
  for (size_t j = 0; j < jtv.size(); ++j) c_dot_jt += c[j] * jtv[j];
  {
    auto r = close_values(std::vector<double>{c_dot_jt}, std::vector<double>{vjp_dot_t}, 1e-9, 1e-9);
    if (!r) return r << " (<c, jvp(t)> differs from <vjp(c), t>)";
  }

  // Scalar outputs: grad and value_and_grad over all inputs.
  if (out0.ndim() == 0) {
    std::vector<int> argnums;
    for (size_t i = 0; i < inputs.size(); ++i) argnums.push_back(static_cast<int>(i));
    auto gr = grad(f, argnums)(inputs);
    auto [v, gv] = value_and_grad(f, argnums)(inputs);
    {
      auto r = close_values(values(v), y0, 1e-12, 1e-12);
      if (!r) return r << " (value_and_grad's value)";
    }
    for (size_t i = 0; i < inputs.size(); ++i) {
      const std::vector<double>& expect = fd_grads[i];
      auto r = close_values(values(gr[i]), expect, rtol, atol);
      if (!r) return r << " (grad of input " << i << ")";
      r = close_values(values(gv[i]), expect, rtol, atol);
      if (!r) return r << " (value_and_grad's gradient of input " << i << ")";
    }
  }
  return ::testing::AssertionSuccess();
}

// ---------------------------------------------------------------------------------------------
// Devices.

// Sets the default device for its lifetime.
class DefaultDeviceGuard {
 public:
  explicit DefaultDeviceGuard(Device d) : previous_(default_device()) { set_default_device(d); }
  ~DefaultDeviceGuard() { set_default_device(previous_); }
  DefaultDeviceGuard(const DefaultDeviceGuard&) = delete;
  DefaultDeviceGuard& operator=(const DefaultDeviceGuard&) = delete;

 private:
  Device previous_;
};

// The CPU, and the GPU when one is usable in this process.
inline std::vector<Device> available_devices() {
  std::vector<Device> out{Device(Device::cpu)};
  if (is_available(Device(Device::gpu))) out.push_back(Device(Device::gpu));
  return out;
}

inline const char* device_name(const Device& d) { return d.type == Device::cpu ? "cpu" : "gpu"; }

// Runs `body(device)` once per available device, with that device as the default.
template <typename F>
void for_each_device(F&& body) {
  for (auto d : available_devices()) {
    SCOPED_TRACE(std::string("device ") + device_name(d));
    DefaultDeviceGuard guard(d);
    body(d);
  }
}

// Runs `fn` and checks that it throws E whose message contains every one of `parts`.
template <typename E, typename F>
::testing::AssertionResult throws_with(F&& fn, const std::vector<std::string>& parts) {
  try {
    fn();
  } catch (const E& e) {
    std::string msg = e.what();
    for (auto& p : parts) {
      if (msg.find(p) == std::string::npos) {
        return ::testing::AssertionFailure() << "message \"" << msg << "\" lacks \"" << p << "\"";
      }
    }
    return ::testing::AssertionSuccess();
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "threw another exception type: " << e.what();
  }
  return ::testing::AssertionFailure() << "did not throw";
}

}  // namespace tessera::test
