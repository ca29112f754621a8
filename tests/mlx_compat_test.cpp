// MLX source compatibility (issue 14): this file is written the way MLX C++ code is, against
// the shim header and MLX's namespace, with unqualified calls under a using-directive and the
// argument forms MLX programs use (ints, floats, doubles, brace lists, lambdas). An ambiguity,
// a missing overload or a constructor MLX has and Tessera lacks fails the build of the tests;
// the assertions check that the programs compute what MLX's documents say they do.
//
// Keep it growing: every op that lands gets its MLX-style calls here.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <sstream>

#include "mlx/einsum.h"
#include "mlx/mlx.h"

namespace {

using namespace mlx::core;
namespace mx = mlx::core;

// The scalar functions of <cmath> stay usable beside Tessera's under the using-directive.
TEST(MlxCompat, CLibraryScalarsStayTheCLibrarys) {
  EXPECT_DOUBLE_EQ(exp(0.0), 1.0);
  EXPECT_EQ(abs(-3), 3);
  EXPECT_DOUBLE_EQ(sqrt(4.0), 2.0);
  EXPECT_FLOAT_EQ(std::log1p(0.0f), 0.0f);
  EXPECT_TRUE(std::isnan(std::nan("")));
}

TEST(MlxCompat, TutorialArrayBasics) {
  mx::array x(1.0);  // double -> float32, as in MLX
  EXPECT_EQ(x.item<float>(), 1.0f);
  EXPECT_EQ(x.size(), 1u);
  EXPECT_EQ(x.ndim(), 0);
  EXPECT_TRUE(x.shape().empty());
  EXPECT_EQ(x.dtype(), mx::float32);
  x = mx::array(1, mx::int32);
  EXPECT_EQ(x.dtype(), mx::int32);
  EXPECT_EQ(x.item<int>(), 1);
  x = mx::array({1.0f, 2.0f, 3.0f, 4.0f}, {2, 2});
  auto y = mx::ones({2, 2});
  auto z = mx::add(x, y);
  z = x + y;
  EXPECT_EQ(z.dtype(), mx::float32);
  EXPECT_EQ(z.shape(0), 2);
  EXPECT_EQ(z.shape(-1), 2);
  mx::eval(z);
  mx::eval(z);  // a no-op
  std::ostringstream os;
  os << z;
  EXPECT_EQ(os.str(), "array([[2, 3],\n       [4, 5]], dtype=float32)");
}

TEST(MlxCompat, TutorialAutomaticDifferentiation) {
  auto fn = [](mx::array x) { return mx::square(x); };
  auto grad_fn = mx::grad(fn);
  auto x = mx::array(1.5);
  EXPECT_FLOAT_EQ(grad_fn(x).item<float>(), 3.0f);
  EXPECT_FLOAT_EQ(mx::grad(mx::grad(fn))(x).item<float>(), 2.0f);
}

TEST(MlxCompat, Constructors) {
  const float inf = std::numeric_limits<float>::infinity();
  array empty({});  // MLX's special case: an empty float32 vector
  EXPECT_EQ(empty.dtype(), float32);
  EXPECT_EQ(empty.shape(), Shape{0});
  array empty_int({}, int32);
  EXPECT_EQ(empty_int.dtype(), int32);
  EXPECT_EQ(empty_int.size(), 0u);
  array with_inf({1.0f, inf});
  EXPECT_EQ(with_inf.dtype(), float32);
  EXPECT_TRUE(std::isinf(with_inf.to_vector<float>()[1]));
  EXPECT_EQ(array({1, 2, 3}).dtype(), int32);
  EXPECT_EQ(array({1.5, 2.5}).dtype(), float32);  // doubles are float32 unless asked
  EXPECT_EQ(array({1.5, 2.5}, float64).dtype(), float64);
  EXPECT_EQ(array({true, false}).dtype(), bool_);
  EXPECT_EQ(array({1, 2, 3, 4}, {2, 2}).shape(), (Shape{2, 2}));
  EXPECT_EQ(array({1, 2}, float16).dtype(), float16);
  EXPECT_EQ(array(std::complex<float>(1, 2)).dtype(), complex64);
  EXPECT_EQ(array(2u).dtype(), uint32);
  EXPECT_EQ(array(true).dtype(), bool_);

  // From memory the caller owns: the deleter runs once the contents are taken.
  float* owned = new float[4]{1, 2, 3, 4};
  int deleted = 0;
  array from_ptr(owned, {2, 2}, float32, [&](void* p) {
    delete[] static_cast<float*>(p);
    ++deleted;
  });
  EXPECT_EQ(deleted, 1);
  EXPECT_EQ(from_ptr.to_vector<float>(), (std::vector<float>{1, 2, 3, 4}));
  // From an iterator and a shape.
  std::vector<int> v = {5, 6, 7, 8, 9, 10};
  EXPECT_EQ(array(v.begin(), {2, 3}).shape(), (Shape{2, 3}));
}

TEST(MlxCompat, UnqualifiedOpCallsWithMlxArgumentForms) {
  array x = reshape(arange(6.0f), {2, 3});
  // Elementwise: arrays with int, float and double scalars on either side.
  array a = abs(x - 2) + exp(-x) * 2.0 + sin(x) / 3.0f + log1p(x) + log(x + 1);
  a = maximum(a, 0.0f) + minimum(1, x) + where(x > 1, x, 0.0f) + square(x) + sqrt(x);
  a = a + sigmoid(x) + tanh(x) + negative(x) + floor(x * 1.5) + logaddexp(x, 0.5f);
  a = a + erf(x) + expm1(x) + log2(x + 1) + log10(x + 1) + sinh(x) + cosh(x) + arctan(x);
  a = a + arcsinh(x) + arctan2(x, 2.0f) + remainder(x, 4) + floor_divide(x, 2) + reciprocal(x + 1);
  a = a + clip(x, array(1.0f), array(4.0f)) + degrees(x) + radians(x) + arcsin(x / 10) +
      arccos(x / 10) + arctanh(x / 10) + arccosh(x + 1);
  eval(a);
  EXPECT_EQ(a.shape(), (Shape{2, 3}));
  array bits = bitwise_and(astype(x, int32), 3) + bitwise_or(astype(x, int32), 1) +
               bitwise_xor(2, astype(x, int32)) + left_shift(astype(x, int32), 1) +
               right_shift(astype(x, int32), 1) + bitwise_invert(astype(x, int32));
  EXPECT_EQ(bits.dtype(), int32);
  EXPECT_TRUE(all(isfinite(a)).item<bool>());
  // Comparisons and logic.
  EXPECT_TRUE(any(equal(x, 3)).item<bool>());
  EXPECT_EQ((x >= 2).dtype(), bool_);
  EXPECT_TRUE(all(logical_or(x < 3, x >= 3)).item<bool>());
  // Reductions: all axes, one axis, a brace list of axes, keepdims.
  EXPECT_FLOAT_EQ(sum(x).item<float>(), 15.0f);
  EXPECT_EQ(sum(x, 0).shape(), Shape{3});
  EXPECT_EQ(sum(x, {0, 1}).shape(), Shape{});
  EXPECT_EQ(mean(x, 1, true).shape(), (Shape{2, 1}));
  EXPECT_EQ(max(x, {1}).shape(), Shape{2});
  EXPECT_EQ(argmax(x, 1).dtype(), uint32);
  EXPECT_EQ(logsumexp(x, -1).shape(), Shape{2});
  EXPECT_EQ(softmax(x, -1).shape(), (Shape{2, 3}));
  // Shapes: brace lists where MLX takes a Shape or axes.
  EXPECT_EQ(reshape(x, {3, 2}).shape(), (Shape{3, 2}));
  EXPECT_EQ(reshape(x, {-1}).shape(), Shape{6});
  EXPECT_EQ(transpose(x, {1, 0}).shape(), (Shape{3, 2}));
  EXPECT_EQ(expand_dims(x, 0).shape(), (Shape{1, 2, 3}));
  EXPECT_EQ(expand_dims(x, {0, 2}).shape(), (Shape{1, 2, 1, 3}));
  EXPECT_EQ(squeeze(expand_dims(x, 0)).shape(), (Shape{2, 3}));
  EXPECT_EQ(broadcast_to(array(1.0f), {2, 2}).shape(), (Shape{2, 2}));
  EXPECT_EQ(flatten(x).shape(), Shape{6});
  EXPECT_EQ(flatten(x, -10, 10).shape(), Shape{6});  // MLX clamps the axes
  EXPECT_EQ(slice(x, {0, 1}, {2, 3}).shape(), (Shape{2, 2}));
  EXPECT_EQ(concatenate({x, x}, 0).shape(), (Shape{4, 3}));
  EXPECT_EQ(stack({x, x}).shape(), (Shape{2, 2, 3}));
  EXPECT_EQ(split(x, 3, 1).size(), 3u);
  EXPECT_THROW(squeeze(zeros({1, 2}), {0, 0}), std::invalid_argument);
  // Indexing, as MLX's own tests call it.
  EXPECT_EQ(take(x, array({1, 0}), 0).shape(), (Shape{2, 3}));
  EXPECT_EQ(take(x, 2, 1).shape(), Shape{2});
  EXPECT_EQ(take(x, array({5})).item<float>(), x.reshape({-1}).to_vector<float>()[5]);
  EXPECT_EQ(take_along_axis(x, array({0, 2}, {2, 1}), 1).shape(), (Shape{2, 1}));
  EXPECT_EQ(put_along_axis(x, array({0}, {1, 1}), array(9.0f), 1).shape(), (Shape{2, 3}));
  EXPECT_EQ(gather(x, array({1}), 0, {1, 3}).shape(), (Shape{1, 1, 3}));
  EXPECT_EQ(scatter_add(x, {array({0, 0})}, ones({2, 1, 3}), {0}).shape(), (Shape{2, 3}));
  EXPECT_EQ(scatter(x, array({1}), zeros({1, 1, 3}), 0).shape(), (Shape{2, 3}));
  EXPECT_EQ(slice(x, array({1}), {1}, {2}).shape(), (Shape{2, 2}));
  EXPECT_EQ(slice_update(x, zeros({1, 2}), array({0, 1}), {0, 1}).shape(), (Shape{2, 3}));
  EXPECT_EQ(slice(x, {0, 1}, {2, 3}, {1, 1}).shape(), (Shape{2, 2}));  // brace lists: the static slice
  // Scans and sorting.
  EXPECT_EQ(cumsum(x, 1).shape(), (Shape{2, 3}));
  EXPECT_EQ(cumsum(x, 0, true, false).shape(), (Shape{2, 3}));
  EXPECT_EQ(cumprod(x).shape(), Shape{6});
  EXPECT_EQ(cummax(x, -1).shape(), (Shape{2, 3}));
  EXPECT_EQ(logcumsumexp(x, 1, false, true).shape(), (Shape{2, 3}));
  EXPECT_EQ(sort(x, -1).shape(), (Shape{2, 3}));
  EXPECT_EQ(argsort(x).dtype(), uint32);
  EXPECT_EQ(partition(x, 1, 1).shape(), (Shape{2, 3}));
  EXPECT_EQ(argpartition(x, -1).shape(), Shape{6});
  EXPECT_EQ(topk(x, 2, 1).shape(), (Shape{2, 2}));
  EXPECT_EQ(searchsorted(array({1.0f, 2.0f}), x, "right").dtype(), uint32);
  // Reductions, composed shape ops, MLX 0.32's small ops and the views.
  EXPECT_EQ(var(x, 1, false, 1).shape(), Shape{2});
  EXPECT_EQ(mlx::core::std(x).shape(), Shape{});  // qualified, as in MLX
  EXPECT_EQ(count_nonzero(x, 0).shape(), Shape{3});
  EXPECT_EQ(pad(x, {{1, 1}, {0, 2}}).shape(), (Shape{4, 5}));
  EXPECT_EQ(pad(x, 1, array(0), "edge").shape(), (Shape{4, 5}));
  EXPECT_EQ(tile(x, {2, 1}).shape(), (Shape{4, 3}));
  EXPECT_EQ(repeat(x, 2, 1).shape(), (Shape{2, 6}));
  EXPECT_EQ(roll(x, 1, 1).shape(), (Shape{2, 3}));
  EXPECT_EQ(flip(x, 0).shape(), (Shape{2, 3}));
  EXPECT_EQ(unstack(x).size(), 2u);
  EXPECT_EQ(diff(x).shape(), (Shape{2, 2}));
  EXPECT_EQ(meshgrid({array({1, 2}), array({3, 4, 5})}).at(0).shape(), (Shape{3, 2}));
  EXPECT_EQ(tril(x).shape(), (Shape{2, 3}));
  EXPECT_EQ(triu(x, 1).shape(), (Shape{2, 3}));
  EXPECT_EQ(diagonal(x).shape(), Shape{2});
  EXPECT_EQ(diag(array({1, 2})).shape(), (Shape{2, 2}));
  EXPECT_EQ(trace(x).shape(), Shape{});
  EXPECT_EQ(unflatten(x, 1, {3, 1}).shape(), (Shape{2, 3, 1}));
  EXPECT_EQ(atleast_3d(x).shape(), (Shape{2, 3, 1}));
  EXPECT_EQ(tensordot(x, transpose(x), 1).shape(), (Shape{2, 2}));
  EXPECT_EQ(outer(array({1.0f, 2.0f}), array({3.0f})).shape(), (Shape{2, 1}));
  EXPECT_EQ(inner(x, x).shape(), (Shape{2, 2}));
  EXPECT_EQ(vecdot(x, x).shape(), Shape{2});
  EXPECT_EQ(kron(x, x).shape(), (Shape{4, 9}));
  // Complex parts, as mlx/ops.h declares them.
  array zc = astype(x, complex64);
  EXPECT_EQ(real(zc).dtype(), float32);
  EXPECT_EQ(imag(zc).dtype(), float32);
  EXPECT_EQ(conjugate(zc).dtype(), complex64);
  EXPECT_EQ(matmul(zc, transpose(zc)).dtype(), complex64);
  // einsum (mlx/einsum.h).
  EXPECT_EQ(einsum("ij,kj->ik", {x, x}).shape(), (Shape{2, 2}));
  auto [einsum_steps, einsum_report] = einsum_path("ij,jk,kl->il", {x, transpose(x), x});
  EXPECT_EQ(einsum_steps.size(), 2u);
  EXPECT_FALSE(einsum_report.empty());
  EXPECT_EQ(hadamard_transform(zeros({3, 8})).shape(), (Shape{3, 8}));
  EXPECT_EQ(hadamard_transform(zeros({24}), 0.5f).dtype(), float32);
  // Convolutions, with MLX's argument forms (pairs, tuples, vectors).
  array img = zeros({1, 6, 6, 2}), kw = zeros({3, 3, 3, 2});
  EXPECT_EQ(conv2d(img, kw, {1, 1}, {1, 1}).shape(), (Shape{1, 6, 6, 3}));
  EXPECT_EQ(conv1d(zeros({1, 8, 2}), zeros({4, 3, 2}), 2, 1).shape(), (Shape{1, 4, 4}));
  EXPECT_EQ(conv3d(zeros({1, 4, 4, 4, 2}), zeros({2, 2, 2, 2, 2}), {2, 2, 2}).shape(), (Shape{1, 2, 2, 2, 2}));
  EXPECT_EQ(conv_general(img, kw, {2}, {1}, {0}, {1}, {1}, 1, true).shape(), (Shape{1, 3, 3, 3}));
  EXPECT_EQ(conv_general(img, kw, {1, 1}, {0, 0}, {1, 1}, {1, 1}, 1).shape(), (Shape{1, 4, 4, 3}));  // symmetric padding
  EXPECT_EQ(conv_transpose1d(zeros({1, 4, 2}), zeros({3, 3, 2}), 2, 0, 1, 1).shape(), (Shape{1, 10, 3}));
  EXPECT_EQ(conv_transpose2d(img, kw, {2, 2}, {1, 1}).shape(), (Shape{1, 11, 11, 3}));
  EXPECT_EQ(conv_transpose3d(zeros({1, 2, 2, 2, 2}), zeros({2, 2, 2, 2, 2})).shape(), (Shape{1, 3, 3, 3, 2}));
  EXPECT_EQ(convolve(array({1.0f, 2.0f, 3.0f}), array({0.0f, 1.0f}), "same").shape(), Shape{3});
  EXPECT_EQ(trunc(x).shape(), (Shape{2, 3}));
  EXPECT_EQ(nan_to_num(x).shape(), (Shape{2, 3}));
  EXPECT_EQ(round(x, 1).shape(), (Shape{2, 3}));
  EXPECT_EQ(divmod(x, x).size(), 2u);
  EXPECT_EQ(logical_xor(x, x).dtype(), bool_);
  EXPECT_EQ(positive(x).shape(), (Shape{2, 3}));
  EXPECT_EQ(hanning(4).shape(), Shape{4});
  EXPECT_EQ(linspace(0, 1, 4, false).shape(), Shape{4});
  EXPECT_EQ(zeros_like(x, int32).dtype(), int32);
  EXPECT_EQ(as_strided(x, {2, 2}, {1, 1}, 0).shape(), (Shape{2, 2}));
  EXPECT_EQ(view(x, int32).dtype(), int32);
  // Random distributions, with MLX's argument forms.
  auto rk = random::key(0);
  EXPECT_EQ(random::randint(0, 10, {3}, int32, rk).dtype(), int32);
  EXPECT_EQ(random::bernoulli(0.5f, {3}, rk).dtype(), bool_);
  EXPECT_EQ(random::truncated_normal(array(-1.0f), array(1.0f), {3}, float32, rk).shape(), Shape{3});
  EXPECT_EQ(random::gumbel({3}, float32, rk).shape(), Shape{3});
  EXPECT_EQ(random::categorical(x, -1, rk).shape(), Shape{2});
  EXPECT_EQ(random::categorical(x, 1, 5, rk).shape(), (Shape{2, 5}));
  EXPECT_EQ(random::laplace({3}, float32, 0.0f, 1.0f, rk).shape(), Shape{3});
  EXPECT_EQ(random::permutation(5, rk).shape(), Shape{5});
  EXPECT_EQ(random::permutation(x, 1, rk).shape(), (Shape{2, 3}));
  // Creation and matmul.
  EXPECT_EQ(zeros({2, 2}, int32).dtype(), int32);
  EXPECT_EQ(full({2}, 3.0f).to_vector<float>(), (std::vector<float>{3.0f, 3.0f}));
  EXPECT_EQ(full({2}, 3).dtype(), int32);
  EXPECT_EQ(zeros_like(x).shape(), x.shape());
  EXPECT_EQ(eye(3).shape(), (Shape{3, 3}));
  EXPECT_EQ(arange(0, 10, 2).dtype(), int32);
  EXPECT_EQ(matmul(x, transpose(x)).shape(), (Shape{2, 2}));
  EXPECT_EQ(addmm(zeros({2, 2}), x, transpose(x), 1.0f, 0.5f).shape(), (Shape{2, 2}));
  // Types.
  EXPECT_EQ(astype(x, int32).dtype(), int32);
  EXPECT_EQ(x.astype(float16).dtype(), float16);
  EXPECT_EQ(promote_types(int32, float16), float16);
  EXPECT_EQ(result_type(x, array(1)), float32);
  EXPECT_EQ(result_type({array(1), array(true), array(2u)}), int64);
  EXPECT_EQ(broadcast_shapes({2, 1}, {3}), (Shape{2, 3}));
  // Random: the same forms as MLX.
  random::seed(3);
  array k = random::key(0);
  EXPECT_EQ(random::normal({3, 2}).shape(), (Shape{3, 2}));
  EXPECT_EQ(random::normal({3}, float16).dtype(), float16);
  EXPECT_EQ(random::uniform({4}, float32, k).shape(), Shape{4});
  EXPECT_EQ(random::uniform(-1, 1, {4}).shape(), Shape{4});
  EXPECT_EQ(random::bits({2}, 4, k).dtype(), uint32);
  auto [k1, k2] = random::split(k);
  EXPECT_NE(k1.id(), k2.id());
}

TEST(MlxCompat, TransformsTakeMlxsFunctionForms) {
  array x(2.0f), y(3.0f);
  // vjp / jvp with vector lambdas and brace-initialised primals.
  auto f = [](const std::vector<array>& in) { return std::vector<array>{in[0] * in[1]}; };
  auto [outs, vjps] = vjp(f, {x, y}, {array(1.0f)});
  EXPECT_FLOAT_EQ(outs[0].item<float>(), 6.0f);
  EXPECT_FLOAT_EQ(vjps[0].item<float>(), 3.0f);
  EXPECT_FLOAT_EQ(vjps[1].item<float>(), 2.0f);
  auto [jouts, jvps] = jvp(f, {x, y}, {array(1.0f), array(0.0f)});
  EXPECT_FLOAT_EQ(jvps[0].item<float>(), 3.0f);
  // Single-array forms, with a lambda taking its argument by value.
  auto [o1, v1] = vjp([](array a) { return sin(a); }, x, array(1.0f));
  EXPECT_NEAR(v1.item<float>(), std::cos(2.0f), 1e-6);
  auto [o2, t2] = jvp([](const array& a) { return a * a; }, x, array(1.0f));
  EXPECT_FLOAT_EQ(t2.item<float>(), 4.0f);
  // grad / value_and_grad: argnums as an int and as a brace list; a function returning the
  // loss first and auxiliary outputs after it.
  auto loss = [](const std::vector<array>& in) { return sum(in[0] * in[1]); };
  EXPECT_FLOAT_EQ(grad(loss, 1)({x, y})[0].item<float>(), 2.0f);
  auto both = grad(loss, {0, 1})({x, y});
  EXPECT_EQ(both.size(), 2u);
  auto [value, grads] = value_and_grad(loss)({x, y});
  EXPECT_FLOAT_EQ(value.item<float>(), 6.0f);
  EXPECT_FLOAT_EQ(grads[0].item<float>(), 3.0f);
  auto with_aux = [](const std::vector<array>& in) {
    return std::vector<array>{sum(square(in[0])), in[0] * 10};
  };
  auto [vals, g] = value_and_grad(with_aux, 0)({x});
  EXPECT_EQ(vals.size(), 2u);
  EXPECT_FLOAT_EQ(vals[1].item<float>(), 20.0f);
  EXPECT_FLOAT_EQ(g[0].item<float>(), 4.0f);
  auto [v0, g0] = value_and_grad([](array a) { return square(a); })(x);
  EXPECT_FLOAT_EQ(g0.item<float>(), 4.0f);
  // stop_gradient inside a lambda (not captured: a plain function).
  auto stopped = grad([](array a) { return a * stop_gradient(a); });
  EXPECT_FLOAT_EQ(stopped(x).item<float>(), 2.0f);
  // eval / async_eval of several arrays.
  array p = x + 1, q = y * 2;
  async_eval(p, q);
  eval(p, q);
  p.wait();
  EXPECT_TRUE(p.is_available());
}

// MLX's examples/cpp/linear_regression.cpp, smaller, in the same style.
TEST(MlxCompat, LinearRegressionInMlxStyle) {
  int num_features = 16;
  int num_examples = 200;
  int num_iters = 300;
  float learning_rate = 0.1;
  random::seed(7);
  auto w_star = random::normal({num_features});
  auto X = random::normal({num_examples, num_features});
  auto eps = 1e-2 * random::normal({num_examples});
  auto y = matmul(X, w_star) + eps;
  array w = 1e-2 * random::normal({num_features});
  auto loss_fn = [&](array w) {
    auto yhat = matmul(X, w);
    return (0.5f / num_examples) * sum(square(yhat - y));
  };
  auto grad_fn = grad(loss_fn);
  for (int it = 0; it < num_iters; ++it) {
    auto grad = grad_fn(w);
    w = w - learning_rate * grad;
    eval(w);
  }
  auto loss = loss_fn(w);
  auto error_norm = std::sqrt(sum(square(w - w_star)).item<float>());
  EXPECT_LT(loss.item<float>(), 1e-3f);
  EXPECT_LT(error_norm, 0.01f);
}

// MLX's examples/cpp/logistic_regression.cpp, smaller, in the same style.
TEST(MlxCompat, LogisticRegressionInMlxStyle) {
  int num_features = 8;
  int num_examples = 400;
  int num_iters = 300;
  float learning_rate = 1.0;
  mx::random::seed(11);
  auto w_star = mx::random::normal({num_features});
  auto X = mx::random::normal({num_examples, num_features});
  auto y = mx::matmul(X, w_star) > 0;
  mx::array w = 1e-2 * mx::random::normal({num_features});
  auto loss_fn = [&](mx::array w) {
    auto logits = mx::matmul(X, w);
    auto scale = (1.0f / num_examples);
    return scale * mx::sum(mx::logaddexp(mx::array(0.0f), logits) - y * logits);
  };
  auto grad_fn = mx::grad(loss_fn);
  for (int it = 0; it < num_iters; ++it) {
    auto grads = grad_fn(w);
    w = w - learning_rate * grads;
    mx::eval(w);
  }
  auto acc = mx::sum((mx::matmul(X, w) > 0) == y) / num_examples;
  EXPECT_GT(acc.item<float>(), 0.95f);
  EXPECT_LT(loss_fn(w).item<float>(), 0.2f);
}

TEST(MlxCompat, NamesMlxCodeUses) {
  array x({1.0f, 2.0f, 3.0f, 4.0f}, {2, 2});
  EXPECT_TRUE(array_equal(x, x).item<bool>());
  EXPECT_TRUE(allclose(x, x + 1e-7).item<bool>());
  EXPECT_EQ(isclose(x, x).shape(), (Shape{2, 2}));
  // Layout: MLX's flags and data_size.
  EXPECT_TRUE(x.flags().row_contiguous);
  EXPECT_TRUE(x.flags().contiguous);
  array t = transpose(x);
  eval(t);
  EXPECT_FALSE(t.flags().row_contiguous);
  EXPECT_TRUE(t.flags().col_contiguous);
  EXPECT_EQ(t.data_size(), 4u);
  EXPECT_EQ(t.strides(), (Strides{1, 2}));
  // MLX's contiguity: no gaps, in any order. A permuted 3-D array and a broadcast are
  // contiguous without being row- or column-major; a step-2 slice is not.
  array p = transpose(reshape(arange(24.0f), {2, 3, 4}), {0, 2, 1});
  eval(p);
  EXPECT_TRUE(p.flags().contiguous);
  EXPECT_FALSE(p.flags().row_contiguous);
  EXPECT_FALSE(p.flags().col_contiguous);
  array b = broadcast_to(array({1.0f, 2.0f, 3.0f}), {4, 3});
  eval(b);
  EXPECT_TRUE(b.flags().contiguous);
  EXPECT_FALSE(b.flags().row_contiguous);
  EXPECT_EQ(b.data_size(), 3u);
  array st = slice(arange(10.0f), {0}, {10}, {2});
  eval(st);
  EXPECT_FALSE(st.flags().contiguous);
  EXPECT_EQ(st.data_size(), 9u);
  // Iterating the first axis.
  int rows = 0;
  for (array row : x) {
    EXPECT_EQ(row.shape(), Shape{2});
    EXPECT_FLOAT_EQ(row.to_vector<float>()[0], rows == 0 ? 1.0f : 3.0f);
    ++rows;
  }
  EXPECT_EQ(rows, 2);
  // Other back ends, memory and the allocator.
  EXPECT_FALSE(metal::is_available());
  EXPECT_FALSE(cuda::is_available());
  (void)gpu::is_available();
  EXPECT_GE(get_peak_memory(), get_active_memory());
  allocator::Buffer buf = allocator::malloc(64);
  EXPECT_NE(buf->host_ptr(), nullptr);
  allocator::free(buf);
  // Devices and streams.
  Device d = default_device();
  Stream s = new_stream(Device::cpu);
  array on_s = add(x, x, s);
  EXPECT_FLOAT_EQ(sum(on_s).item<float>(), 20.0f);
  synchronize(s);
  {
    StreamContext scope(s);
    EXPECT_EQ(default_stream(Device::cpu), s);
    EXPECT_EQ(default_device(), Device(Device::cpu));
  }
  EXPECT_EQ(default_device(), d);
  EXPECT_FALSE(default_stream(Device::cpu) == s);
  set_default_device(d);
}

TEST(MlxCompat, GraphUtilsPrintTheTape) {
  array a({1.0f, 2.0f});
  array b({3.0f, 4.0f});
  array c = add(a, b, Device::cpu);
  array out = multiply(c, a, Device::cpu);
  std::ostringstream os;
  print_graph(os, out);
  EXPECT_EQ(os.str(),
            "Inputs: A [(2), float32], B [(2), float32]\n"
            "Outputs: C [(2), float32]\n"
            "Add A [(2), float32], B [(2), float32] -> D [(2), float32]\n"
            "Multiply D [(2), float32], A [(2), float32] -> C [(2), float32]\n");
  NodeNamer namer;
  namer.set_name(a, "a");
  std::ostringstream dot;
  export_to_dot(dot, namer, out);
  const std::string g = dot.str();
  EXPECT_EQ(g.rfind("digraph {", 0), 0u);
  EXPECT_NE(g.find("{ rank=source; \"a\"; }"), std::string::npos);
  EXPECT_NE(g.find("[label =\"Multiply\", shape=rectangle]"), std::string::npos);
  EXPECT_NE(g.find("rank=sink;"), std::string::npos);
  EXPECT_EQ(g.back(), '}');
}

}  // namespace
