// custom_function, custom_vjp and checkpoint: the user's rules are used where given, the
// function's own derivatives and batching where not, and checkpoint recomputes the forward in
// the backward pass. Runs on the default device.
#include <gtest/gtest.h>

#include "test_util.hpp"
#include "tessera/tessera.hpp"

namespace {

using namespace tessera;
using tessera::test::arrays_close;
using tessera::test::random_array;
using tessera::test::throws_with;

using Fn = std::function<std::vector<array>(const std::vector<array>&)>;

TEST(CustomFunction, ForwardIsTheFunction) {
  auto f = custom_function([](const std::vector<array>& x) {
    return std::vector<array>{sin(x[0]) * x[1], x[0] + 1};
  });
  array a = random_array({3, 4}, 1), b = random_array({3, 4}, 2);
  auto out = f({a, b});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_STREQ(out[0].primitive().name(), "CustomTransforms");
  EXPECT_TRUE(arrays_close(out[0], sin(a) * b, 1e-6, 1e-6));
  EXPECT_TRUE(arrays_close(out[1], a + 1, 1e-6, 1e-6));
}

TEST(CustomFunction, UserVjpReplacesTheDerivative) {
  // A straight-through estimator: forward rounds, backward passes the cotangent unchanged.
  auto ste = custom_vjp(
      [](const std::vector<array>& x) { return std::vector<array>{round(x[0])}; },
      [](const std::vector<array>&, const std::vector<array>& cot, const std::vector<array>&) {
        return std::vector<array>{cot[0]};
      });
  array x = random_array({5}, 3, float32, -2, 2);
  auto loss = [&](const array& v) { return sum(ste({v})[0] * v); };
  // d/dv sum(round(v) * v) with d round = 1: round(v) + v.
  EXPECT_TRUE(arrays_close(grad(loss)(x), round(x) + x, 1e-6, 1e-6));
  // The vjp's cotangent shape is checked.
  auto bad = custom_vjp(
      [](const std::vector<array>& v) { return std::vector<array>{v[0] * 2}; },
      [](const std::vector<array>&, const std::vector<array>&, const std::vector<array>&) {
        return std::vector<array>{zeros({2})};
      });
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [&] { grad([&](const array& v) { return sum(bad({v})[0]); })(x); },
      {"[custom_function]", "(2,)", "(5,)"}));
}

TEST(CustomFunction, MissingRulesFallBackToTheFunction) {
  Fn body = [](const std::vector<array>& x) { return std::vector<array>{exp(x[0]) * x[1]}; };
  std::optional<CustomVjpFn> no_vjp;
  CustomJvpFn jvp_rule = [](const std::vector<array>& p, const std::vector<array>& t,
                            const std::vector<int>& argnums) {
    // Deliberately scaled by 3, so the test sees that this rule (not the fallback) ran.
    array out = zeros_like(p[0]);
    for (size_t k = 0; k < argnums.size(); ++k) {
      array d = argnums[k] == 0 ? array(exp(p[0]) * p[1]) : exp(p[0]);
      out = out + d * t[k] * 3;
    }
    return std::vector<array>{out};
  };
  auto f = custom_function(body, no_vjp, jvp_rule);
  array a = random_array({4}, 5), b = random_array({4}, 6);
  // vjp: no rule, so the function's own derivative.
  auto [outs, g] = vjp(f, {a, b}, {ones({4})});
  EXPECT_TRUE(arrays_close(g[0], exp(a) * b, 1e-5, 1e-6));
  EXPECT_TRUE(arrays_close(g[1], exp(a), 1e-5, 1e-6));
  // jvp: the rule.
  auto [o2, t2] = jvp(f, {a, b}, {ones({4}), zeros({4})});
  EXPECT_TRUE(arrays_close(t2[0], exp(a) * b * 3, 1e-5, 1e-6));
  // vmap: no rule, so vmap of the function, batch axis 0.
  array A = random_array({3, 4}, 7);
  auto batched = vmap(f, {0, -1})({A, b});
  EXPECT_TRUE(arrays_close(batched[0], exp(A) * b, 1e-5, 1e-6));
}

TEST(CustomFunction, UserVmapRule) {
  int calls = 0;
  CustomVmapFn rule = [&calls](const std::vector<array>& in, const std::vector<int>& axes) {
    ++calls;
    return std::make_pair(std::vector<array>{moveaxis(in[0], axes[0], 0) * 2}, std::vector<int>{0});
  };
  auto f = custom_function([](const std::vector<array>& x) { return std::vector<array>{x[0] * 2}; },
                           std::nullopt, std::nullopt, rule);
  array X = random_array({4, 3}, 8);
  auto out = vmap(f, {1})({X});
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(arrays_close(out[0], transpose(X) * 2, 1e-6, 1e-6));
}

TEST(Checkpoint, RecomputesTheForwardInTheBackwardPass) {
  int calls = 0;
  Fn block = [&calls](const std::vector<array>& x) {
    ++calls;
    return std::vector<array>{tanh(matmul(x[0], x[1])) * 2};
  };
  array x = random_array({4, 3}, 9), w = random_array({3, 5}, 10);
  auto loss_of = [](const Fn& f) {
    return [f](const std::vector<array>& in) { return sum(square(f(in)[0])); };
  };
  calls = 0;
  auto plain = grad(loss_of(block), {0, 1})({x, w});
  EXPECT_EQ(calls, 1);
  calls = 0;
  auto ck = grad(loss_of(checkpoint(block)), {0, 1})({x, w});
  EXPECT_EQ(calls, 2);  // the forward, and its recomputation for the backward pass
  EXPECT_TRUE(arrays_close(ck[0], plain[0], 1e-5, 1e-6));
  EXPECT_TRUE(arrays_close(ck[1], plain[1], 1e-5, 1e-6));
  // Inside a larger function, and twice in a row.
  auto two = [&](const std::vector<array>& in) {
    array h = checkpoint(block)({in[0], in[1]})[0];
    array h2 = checkpoint([](const std::vector<array>& v) { return std::vector<array>{sin(v[0])}; })({h})[0];
    return sum(h2);
  };
  auto two_plain = [&](const std::vector<array>& in) { return sum(sin(block({in[0], in[1]})[0])); };
  auto g1 = grad(two, 1)({x, w});
  auto g2 = grad(two_plain, 1)({x, w});
  EXPECT_TRUE(arrays_close(g1[0], g2[0], 1e-5, 1e-6));
}

}  // namespace
