// NumPy-style indexing (ops/subscript.hpp): NumPy fixtures (tests/fixtures/subscript.txt, from
// gen_subscript.py) for reads, writes and the accumulating `at` updates on every device; the
// write-back of `a[...] = v`; gradients, vmap and bad input.
#include <gtest/gtest.h>

#include <sstream>

#include "tessera/tessera.hpp"
#include "test_util.hpp"

namespace {

using namespace tessera;
using namespace tessera::indexing;
using namespace tessera::test;

// "1;::-1;...;N;@1" -> {1, Slice({}, {}, -1), ellipsis, newaxis, inputs[1]}.
std::vector<Index> parse_index(const std::string& spec, const std::vector<array>& inputs) {
  std::vector<Index> out;
  std::stringstream ss(spec);
  std::string e;
  auto bound = [](const std::string& t) -> std::optional<int64_t> {
    if (t.empty()) return std::nullopt;
    return std::stoll(t);
  };
  while (std::getline(ss, e, ';')) {
    if (e == "...") {
      out.push_back(ellipsis);
    } else if (e == "N") {
      out.push_back(newaxis);
    } else if (e[0] == '@') {
      out.push_back(inputs.at(std::stoi(e.substr(1))));
    } else if (e.find(':') != std::string::npos) {
      std::vector<std::string> parts;
      std::stringstream ps(e);
      std::string part;
      while (std::getline(ps, part, ':')) parts.push_back(part);
      if (e.back() == ':') parts.push_back("");
      parts.resize(3);
      out.push_back(Slice(bound(parts[0]), bound(parts[1]), bound(parts[2])));
    } else {
      out.push_back(std::stoll(e));
    }
  }
  return out;
}

array run_case(const FixtureCase& c, const std::vector<array>& in, Device d) {
  const auto hash = c.op.find('#');
  const std::string mode = c.op.substr(0, hash);
  const auto idx = parse_index(c.op.substr(hash + 1), in);
  if (mode == "get") return index(in[0], idx, d);
  const std::map<std::string, IndexUpdate> modes = {
      {"set", IndexUpdate::set},           {"add", IndexUpdate::add},
      {"subtract", IndexUpdate::subtract}, {"multiply", IndexUpdate::multiply},
      {"divide", IndexUpdate::divide},     {"maximum", IndexUpdate::maximum},
      {"minimum", IndexUpdate::minimum}};
  return index_update(in[0], idx, in.back(), modes.at(mode), d);
}

class SubscriptFixture : public ::testing::TestWithParam<FixtureCase> {};

TEST_P(SubscriptFixture, MatchesNumPy) {
  const FixtureCase& c = GetParam();
  for_each_device([&](Device d) {
    std::vector<array> in;
    for (auto& t : c.inputs) in.push_back(fixture_array(t));
    array out = run_case(c, in, d);
    ASSERT_EQ(out.shape(), c.output.shape);
    ASSERT_EQ(out.dtype(), c.output.dtype);
    // divide multiplies by the reciprocal: an ulp from NumPy's quotient.
    const double tol = c.op.rfind("divide", 0) == 0 ? 1e-6 : 0;
    EXPECT_TRUE(close_values(out, c.output.values, tol, 0));
  });
}

INSTANTIATE_TEST_SUITE_P(Fixtures, SubscriptFixture, ::testing::ValuesIn(load_fixture("subscript.txt")),
                         [](const auto& info) { return info.param.name; });

// The C++ forms: operator[] with one index or a brace list, write-back through a temporary,
// compound assignment, scalars and expressions as values, const arrays, named copies.
TEST(Subscript, OperatorForms) {
  for_each_device([](Device) {
    array a = reshape(arange(12.0f), {3, 4});
    EXPECT_TRUE(arrays_equal(a[1], array({4.0f, 5.0f, 6.0f, 7.0f})));
    EXPECT_TRUE(arrays_equal(a[{-1, Slice({}, {}, -2)}], array({11.0f, 9.0f})));
    EXPECT_EQ((a[{newaxis, ellipsis, newaxis}].shape()), (Shape{1, 3, 4, 1}));
    EXPECT_TRUE(arrays_equal(a[{Slice(), array({3, 0})}], array({3.0f, 0.0f, 7.0f, 4.0f, 11.0f, 8.0f}, {3, 2})));
    // Reading through an expression and into one.
    array b = a[{0}] * 2 + 1;
    EXPECT_TRUE(arrays_equal(b, array({1.0f, 3.0f, 5.0f, 7.0f})));
    EXPECT_TRUE(arrays_equal(exp(a[{0, 0}]), array(1.0f)));

    // Writes go back into `a`.
    a[{0, Slice(1, 3)}] = array({-1.0f, -2.0f});
    a[{2}] = 0.5f;                       // a scalar, broadcast
    a[{1, array({0, 3})}] = a[{0, 0}] * 10;  // an expression of a itself
    a[{Slice(), 3}] += 100;              // compound: a[idx] = a[idx] + v
    EXPECT_TRUE(arrays_equal(a, array({0.0f, -1.0f, -2.0f, 103.0f,
                                       0.0f, 5.0f, 6.0f, 100.0f,
                                       0.5f, 0.5f, 0.5f, 100.5f}, {3, 4})));
    // A named copy is an array: rebinding it leaves `a` alone.
    auto row = a[{1}];
    row = zeros({4});
    EXPECT_TRUE(arrays_equal(a[{1, 1}], array(5.0f)));
    // A const array reads only (its subscript is a plain array).
    const array c = a;
    array r = c[{Slice(), 0}];
    EXPECT_TRUE(arrays_equal(r, array({0.0f, 0.0f, 0.5f})));
    // The values are cast to a's dtype.
    array ints = zeros({3}, int32);
    ints[{array({0, 2})}] = array({1.7f, -2.2f});
    EXPECT_TRUE(arrays_equal(ints, array({1, 0, -2})));
  });
}

// a.at(idx).op(v): new arrays, duplicates accumulate; plain assignment keeps one write.
TEST(Subscript, AtUpdatesAccumulateDuplicates) {
  for_each_device([](Device) {
    array a = zeros({4});
    array idx({0, 0, 3, 0});
    EXPECT_TRUE(arrays_equal(a.at(idx).add(1.0f), array({3.0f, 0.0f, 0.0f, 1.0f})));
    EXPECT_TRUE(arrays_equal(a.at(idx).subtract(array({1.0f, 2.0f, 3.0f, 4.0f})),
                             array({-7.0f, 0.0f, 0.0f, -3.0f})));
    array o = ones({4});
    EXPECT_TRUE(arrays_equal(o.at(idx).multiply(2.0f), array({8.0f, 1.0f, 1.0f, 2.0f})));
    EXPECT_TRUE(close_values(o.at(idx).divide(2.0f), {0.125, 1, 1, 0.5}, 1e-7, 0));
    EXPECT_TRUE(arrays_equal(a.at(idx).maximum(array({1.0f, 5.0f, -1.0f, 2.0f})), array({5.0f, 0.0f, 0.0f, 0.0f})));
    EXPECT_TRUE(arrays_equal(a.at({Slice(1, {})}).minimum(-1.0f), array({0.0f, -1.0f, -1.0f, -1.0f})));
    EXPECT_TRUE(arrays_equal(a, zeros({4})));  // `at` never changes `a`
    array w = zeros({4});
    w[{idx}] = 7.0f;
    EXPECT_TRUE(arrays_equal(w, array({7.0f, 0.0f, 0.0f, 7.0f})));
  });
}

TEST(Subscript, Gradients) {
  const array i1({2, 0, 2, -1});
  const array i2({1, 0});
  EXPECT_TRUE(check_grads([&](const std::vector<array>& x) { return index(x[0], {Slice({}, {}, -1), i1}); },
                          {random_array({3, 5}, 1, float64)}));
  EXPECT_TRUE(check_grads([&](const std::vector<array>& x) { return index(x[0], {i2, Slice(), i2, newaxis}); },
                          {random_array({2, 3, 4}, 2, float64)}));
  // Basic-index updates go through slice_update, which differentiates for every mode.
  for (IndexUpdate m : {IndexUpdate::set, IndexUpdate::add, IndexUpdate::multiply}) {
    EXPECT_TRUE(check_grads(
        [&](const std::vector<array>& x) { return index_update(x[0], {1, Slice(1, {})}, x[1], m); },
        {random_array({3, 4}, 3, float64), random_array({3}, 4, float64)}));
  }
  // Array-index updates scatter: `add` accumulates duplicates; `set` with duplicates keeps an
  // unspecified one (as in NumPy), so its gradient is checked on distinct indices.
  const array distinct({2, 0, 4, 1});
  for (auto [m, idx] : {std::pair{IndexUpdate::set, distinct}, std::pair{IndexUpdate::add, i1}}) {
    EXPECT_TRUE(check_grads(
        [&](const std::vector<array>& x) { return index_update(x[0], {Slice(), idx}, x[1], m); },
        {random_array({3, 5}, 5, float64), random_array({3, 4}, 6, float64)}));
  }
}

TEST(Subscript, Vmap) {
  const array i1({3, 0, 0});
  auto read = [&](const std::vector<array>& x) { return std::vector<array>{index(x[0], {Slice({}, {}, -1), i1})}; };
  auto write = [&](const std::vector<array>& x) {
    return std::vector<array>{index_update(x[0], {Slice(), i1}, x[1], IndexUpdate::add)};
  };
  array x = random_array({5, 2, 4}, 7), v = random_array({5, 3}, 8);
  auto vr = vmap(read, {0})({x})[0];
  auto vw = vmap(write, {2, 0})({transpose(x, {1, 2, 0}), v})[0];
  for (int b = 0; b < 5; ++b) {
    EXPECT_TRUE(arrays_close(take(vr, b, 0), read({take(x, b, 0)})[0], 0, 0)) << b;
    // vw: x's batch axis was 2 in, and vmap puts it in front of the result.
    EXPECT_TRUE(arrays_close(take(vw, b, 0), write({take(x, b, 0), take(v, b, 0)})[0], 1e-6, 1e-6)) << b;
  }
}

TEST(Subscript, RejectsBadIndices) {
  array a = zeros({3, 4});
  using IA = std::invalid_argument;
  EXPECT_TRUE(throws_with<IA>([&] { index(a, {0, 0, 0}); }, {"[index]", "too many indices", "(3,4)"}));
  EXPECT_TRUE(throws_with<IA>([&] { index(a, {ellipsis, 0, ellipsis}); }, {"[index]", "single ellipsis"}));
  EXPECT_TRUE(throws_with<std::out_of_range>([&] { index(a, {3}); }, {"[index]", "index 3", "axis 0", "size 3"}));
  EXPECT_TRUE(throws_with<std::out_of_range>([&] { index(a, {0, -5}); }, {"[index]", "index -5", "axis 1"}));
  EXPECT_TRUE(throws_with<IA>([&] { index(a, {array({true, false, true})}); }, {"[index]", "boolean mask"}));
  EXPECT_TRUE(throws_with<IA>([&] { index(a, {array({0.5f})}); }, {"[index]", "integer dtype", "float32"}));
  EXPECT_TRUE(throws_with<IA>([&] { index(a, {array({0, 1}), array({0, 1, 2})}); },
                              {"[index]", "(2,)", "(3,)", "broadcast"}));
  EXPECT_TRUE(throws_with<IA>([&] { index(a, {Slice(0, 3, 0)}); }, {"[index]", "step cannot be zero"}));
  EXPECT_TRUE(throws_with<IA>([&] { index_update(a, {0}, zeros({3})); }, {"[index]", "(3,)", "(4,)"}));
  EXPECT_TRUE(throws_with<IA>([&] { zeros({3}, int32).at(0).divide(2); }, {"[index]", "divide", "int32"}));
}

}  // namespace
