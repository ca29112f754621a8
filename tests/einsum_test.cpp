// einsum and einsum_path (ops/einsum.hpp): NumPy fixtures (tests/fixtures/einsum.txt, from
// gen_einsum.py) for the results on every device and for the contraction order and its cost;
// gradients, vmap, and bad subscripts.
#include <gtest/gtest.h>

#include <sstream>

#include "tessera/tessera.hpp"
#include "test_util.hpp"

namespace {

using namespace tessera;
using namespace tessera::test;

// "1,2;0,1" -> {{1, 2}, {0, 1}}.
std::vector<std::vector<int>> parse_path(const std::string& text) {
  std::vector<std::vector<int>> path;
  for (auto& step : split_fields(text, ';')) {
    path.emplace_back();
    for (auto& pos : split_fields(step, ',')) path.back().push_back(std::stoi(pos));
  }
  return path;
}

// The number after `key` in einsum_path's report.
double report_number(const std::string& report, const std::string& key) {
  const auto at = report.find(key);
  if (at == std::string::npos) return -1;
  return std::stod(report.substr(at + key.size()));
}

class EinsumFixture : public ::testing::TestWithParam<FixtureCase> {};

TEST_P(EinsumFixture, MatchesNumPy) {
  const FixtureCase& c = GetParam();
  const auto fields = split_fields(c.op, '|');
  ASSERT_EQ(fields.size(), 4u);
  const std::string& subscripts = fields[0];
  std::vector<array> in;
  for (auto& t : c.inputs) in.push_back(fixture_array(t));

  auto [path, report] = einsum_path(subscripts, in);
  EXPECT_EQ(path, parse_path(fields[1])) << report;
  // NumPy's report adds one to the sum of its steps' costs.
  EXPECT_NEAR(report_number(report, "optimized cost:"), std::stod(fields[3]) - 1, 1e-3 * std::stod(fields[3]))
      << report;

  for_each_device([&](Device d) {
    array out = einsum(subscripts, in, d);
    ASSERT_EQ(out.shape(), c.output.shape);
    ASSERT_EQ(out.dtype(), c.output.dtype);
    // Contractions sum in another order than NumPy's.
    const double tol = c.dtype == "int32" ? 0 : c.dtype == "float64" ? 1e-12 : 2e-6;
    EXPECT_TRUE(close_values(out, c.output.values, tol, tol));
  });
}

INSTANTIATE_TEST_SUITE_P(Fixtures, EinsumFixture, ::testing::ValuesIn(load_fixture("einsum.txt")),
                         [](const auto& info) { return info.param.name; });

TEST(Einsum, SpacesAndAgreementWithMatmul) {
  array a = random_array({3, 4}, 1), b = random_array({4, 5}, 2);
  EXPECT_TRUE(arrays_close(einsum(" ij , jk -> ik ", {a, b}), matmul(a, b), 1e-6, 1e-6));
  EXPECT_TRUE(arrays_close(einsum("ij,jk->ki", {a, b}), transpose(matmul(a, b)), 1e-6, 1e-6));
}

// As MLX, ellipsis dimensions left out of an explicit output are summed.
TEST(Einsum, EllipsisMissingFromOutputIsSummed) {
  array a = random_array({2, 3, 4}, 3);
  EXPECT_TRUE(arrays_close(einsum("...j->j", {a}), sum(a, std::vector<int>{0, 1}), 1e-6, 1e-6));
}

TEST(Einsum, Gradients) {
  EXPECT_TRUE(check_grads([](const std::vector<array>& x) { return einsum("ij,jk,kl->il", x); },
                          {random_array({2, 5}, 4, float64), random_array({5, 3}, 5, float64),
                           random_array({3, 2}, 6, float64)}));
  EXPECT_TRUE(check_grads([](const std::vector<array>& x) { return einsum("bii,bj->bij", x); },
                          {random_array({2, 3, 3}, 7, float64), random_array({2, 4}, 8, float64)}));
  EXPECT_TRUE(check_grads([](const std::vector<array>& x) { return einsum("...i,...i->...", x); },
                          {random_array({2, 1, 3}, 9, float64), random_array({4, 3}, 10, float64)}));
}

TEST(Einsum, Vmap) {
  auto f = [](const std::vector<array>& x) { return std::vector<array>{einsum("ij,jk->ik", x)}; };
  array a = random_array({5, 3, 4}, 11), b = random_array({4, 2, 5}, 12);
  array batched = vmap(f, {0, 2})({a, b})[0];
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(arrays_close(take(batched, i, 0), f({take(a, i, 0), take(b, i, 2)})[0], 1e-6, 1e-6)) << i;
  }
}

TEST(Einsum, RejectsBadSubscripts) {
  array a = zeros({3, 4}), b = zeros({5, 6});
  using IA = std::invalid_argument;
  EXPECT_TRUE(throws_with<IA>([&] { einsum("ij,jk->ik", {a}); }, {"[einsum]", "2 input terms", "1 operand"}));
  EXPECT_TRUE(throws_with<IA>([&] { einsum("ij,jk->ik", {a, b}); }, {"[einsum]", "'j'", "4", "5"}));
  EXPECT_TRUE(throws_with<IA>([&] { einsum("ijk->i", {a}); }, {"[einsum]", "'ijk'", "3 subscripts", "(3,4)"}));
  EXPECT_TRUE(throws_with<IA>([&] { einsum("i1->i", {a}); }, {"[einsum]", "invalid character '1'"}));
  EXPECT_TRUE(throws_with<IA>([&] { einsum("ij->k", {a}); }, {"[einsum]", "'k'", "no input term"}));
  EXPECT_TRUE(throws_with<IA>([&] { einsum("ij->ii", {a}); }, {"[einsum]", "'i'", "repeated in the output"}));
  EXPECT_TRUE(throws_with<IA>([&] { einsum("ii->i", {a}); }, {"[einsum]", "'i'", "sizes 3", "4"}));
  EXPECT_TRUE(throws_with<IA>([&] { einsum("..i->i", {a}); }, {"[einsum]", "ellipsis"}));
  EXPECT_TRUE(throws_with<IA>([&] { einsum("i->i->i", {a}); }, {"[einsum]", "more than one '->'"}));
  EXPECT_TRUE(throws_with<IA>([&] { einsum("", {}); }, {"[einsum]", "at least one operand"}));
  EXPECT_TRUE(throws_with<IA>([&] { einsum_path("ij,jk", {a, b}); }, {"[einsum_path]", "'j'"}));
}

}  // namespace
