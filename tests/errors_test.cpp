// Bad input: every case asserts the exception TYPE (as MLX throws it) and that the message
// names the op ("[reshape] ..."). One table; each row is its own test (Errors/ErrorsTest.<row>).
// Errors are thrown when the op is called (graph construction), never at eval.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <set>

#include "test_util.hpp"
#include "tessera/core/device.hpp"
#include "tessera/ops/creation.hpp"
#include "tessera/ops/elementwise.hpp"
#include "tessera/ops/matmul.hpp"
#include "tessera/ops/reduce.hpp"
#include "tessera/ops/shape.hpp"
#include "tessera/transforms/autodiff.hpp"
#include "tessera/transforms/eval.hpp"

namespace {

using namespace tessera;
TESSERA_TEST_USING_ELEMENTWISE_OPS()
using tessera::test::throws_with;

struct ErrorCase {
  std::string name;
  std::function<::testing::AssertionResult()> check;
};

void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.name; }

// A row: NAME, the exception type, the substrings the message must hold, the statement.
#define ERR(NAME, EXC, PARTS, ...)                                                   \
  ErrorCase {                                                                        \
    NAME, [] { return throws_with<EXC>([] { __VA_ARGS__; }, std::vector<std::string> PARTS); } \
  }

array f23() { return array({1.f, 2.f, 3.f, 4.f, 5.f, 6.f}, Shape{2, 3}); }
array i23() { return array({1, 2, 3, 4, 5, 6}, Shape{2, 3}); }
array bools() { return array({true, false}); }
array cplx() { return array({complex64_t(1, 1), complex64_t(0, 2)}); }

using IA = std::invalid_argument;

std::vector<ErrorCase> error_cases() {
  return {
      // Elementwise: shapes and dtypes, in both call forms.
      ERR("add_mismatched_shapes", IA, ({"[add]", "(3,)", "(4,)"}),
          auto e = array({1.f, 2.f, 3.f}) + array({1.f, 2.f, 3.f, 4.f}); (void)e),
      ERR("add_mismatched_shapes_plain_form", IA, ({"[add]"}),
          add(f23(), array({1.f, 2.f}), Device(Device::cpu))),
      ERR("multiply_inside_expression", IA, ({"[multiply]"}),
          auto e = sin(f23()) * array({1.f, 2.f}) + 1.0f; (void)e),
      ERR("where_mismatched_shapes", IA, ({"[where]"}),
          auto e = where(bools(), f23(), f23()); (void)e),
      ERR("subtract_bool", IA, ({"[subtract]", "bool"}), auto e = bools() - bools(); (void)e),
      ERR("negative_bool", IA, ({"[negative]"}), negative(bools(), Device(Device::cpu))),
      ERR("maximum_complex", IA, ({"[maximum]", "complex64"}), auto e = maximum(cplx(), cplx()); (void)e),
      ERR("minimum_complex", IA, ({"[minimum]"}), auto e = minimum(cplx(), 1.0f); (void)e),
      ERR("tanh_complex", IA, ({"[tanh]"}), auto e = tanh(cplx()); (void)e),
      ERR("less_complex", IA, ({"[less]"}), auto e = cplx() < cplx(); (void)e),
      ERR("erfinv_complex", IA, ({"[erfinv]"}), auto e = erfinv(cplx()); (void)e),
      // reshape / flatten
      ERR("reshape_bad_size", IA, ({"[reshape]", "(2,3)", "(4,)"}), reshape(f23(), {4})),
      ERR("reshape_two_minus_ones", IA, ({"[reshape]", "-1"}), reshape(f23(), {-1, -1})),
      ERR("reshape_cannot_infer", IA, ({"[reshape]"}), reshape(f23(), {-1, 4})),
      ERR("reshape_negative_dim", IA, ({"[reshape]"}), reshape(f23(), {-2, -3})),
      ERR("flatten_axis_out_of_range", IA, ({"[flatten]"}), flatten(f23(), 0, 2)),
      ERR("flatten_start_after_end", IA, ({"[flatten]"}), flatten(f23(), 1, 0)),
      // transpose family
      ERR("transpose_wrong_axis_count", IA, ({"[transpose]"}), transpose(f23(), {0})),
      ERR("transpose_repeated_axes", IA, ({"[transpose]", "repeated"}), transpose(f23(), {1, 1})),
      ERR("transpose_axis_out_of_range", IA, ({"[transpose]"}), transpose(f23(), {0, 2})),
      ERR("swapaxes_axis_out_of_range", IA, ({"[swapaxes]"}), swapaxes(f23(), 0, 2)),
      ERR("moveaxis_axis_out_of_range", IA, ({"[moveaxis]"}), moveaxis(f23(), -3, 0)),
      // broadcast / expand / squeeze
      ERR("broadcast_to_incompatible", IA, ({"[broadcast_to]"}), broadcast_to(f23(), {2, 4})),
      ERR("broadcast_to_fewer_dims", IA, ({"[broadcast_to]"}), broadcast_to(f23(), {3})),
      ERR("expand_dims_out_of_range", IA, ({"[expand_dims]"}), expand_dims(f23(), 3)),
      ERR("expand_dims_repeated_axes", IA, ({"[expand_dims]"}), expand_dims(f23(), {0, 0})),
      ERR("squeeze_non_unit_axis", IA, ({"[squeeze]", "size 3"}), squeeze(f23(), 1)),
      ERR("squeeze_axis_out_of_range", IA, ({"[squeeze]"}), squeeze(f23(), 5)),
      // slice / concatenate / stack / split
      ERR("slice_stride_zero", IA, ({"[slice]", "stride 0"}), slice(f23(), {0, 0}, {2, 3}, {1, 0})),
      ERR("slice_wrong_rank", IA, ({"[slice]"}), slice(f23(), {0}, {2})),
      ERR("concatenate_mismatched_shapes", IA, ({"[concatenate]", "(2,3)", "(3,3)"}),
          concatenate({f23(), array(std::vector<float>(9, 0.f), Shape{3, 3})}, 1)),
      ERR("concatenate_empty_list", IA, ({"[concatenate]"}), concatenate({}, 0)),
      ERR("concatenate_zero_dim", IA, ({"[concatenate]"}), concatenate({array(1.f), array(2.f)}, 0)),
      ERR("concatenate_axis_out_of_range", IA, ({"[concatenate]"}), concatenate({f23(), f23()}, 2)),
      ERR("stack_different_shapes", IA, ({"[stack]"}), stack({f23(), array({1.f, 2.f})})),
      ERR("split_unequal", IA, ({"[split]", "3"}), split(f23(), 2, 1)),
      ERR("split_zero_parts", IA, ({"[split]"}), split(f23(), 0)),
      ERR("split_axis_out_of_range", IA, ({"[split]"}), split(f23(), 2, 3)),
      // element access
      ERR("item_non_scalar", IA, ({"[item]", "(2,3)"}), f23().item<float>()),
      ERR("data_wrong_dtype", IA, ({"[data]", "int32"}), i23().data<float>()),
      ERR("data_float64_of_float32", IA, ({"[data]", "float32"}), f23().data<double>()),
      // creation
      ERR("arange_step_zero", IA, ({"[arange]"}), arange(0.0, 10.0, 0.0)),
      ERR("arange_bool_dtype", IA, ({"[arange]", "bool"}), arange(0.0, 10.0, 1.0, bool_)),
      ERR("arange_nan", IA, ({"[arange]"}), arange(0.0, std::nan(""), 1.0)),
      ERR("zeros_negative_shape", IA, ({"[zeros]", "(2,-1)"}), zeros({2, -1})),
      ERR("ones_negative_shape", IA, ({"[ones]"}), ones({-3})),
      ERR("full_negative_shape", IA, ({"[full]"}), full({-1, 2}, 1.0f)),
      ERR("eye_negative", IA, ({"[eye]"}), eye(-1)),
      ERR("tri_negative", IA, ({"[tri]"}), tri(-2)),
      ERR("linspace_negative_num", IA, ({"[linspace]"}), linspace(0.0, 1.0, -1)),
      ERR("array_value_count", IA, ({"[array]", "(2,2)"}), array({1.f, 2.f, 3.f}, Shape{2, 2})),
      ERR("array_negative_shape", IA, ({"[array]"}), array(std::vector<float>{}, Shape{-1})),
      // reductions
      ERR("sum_axis_out_of_range", IA, ({"[sum]", "axis 2"}), sum(f23(), 2)),
      ERR("sum_duplicate_axis", IA, ({"[sum]"}), sum(f23(), {1, -1})),
      ERR("argmax_axis_out_of_range", IA, ({"[argmax]"}), argmax(f23(), -3)),
      // matmul
      ERR("matmul_inner_mismatch", IA, ({"[matmul]", "(2,3)", "(2,3)"}), matmul(f23(), f23())),
      ERR("matmul_int_dtype", IA, ({"[matmul]", "int32"}), matmul(i23(), reshape(i23(), {3, 2}))),
      ERR("matmul_zero_dim", IA, ({"[matmul]"}), matmul(array(1.f), f23())),
      // transforms
      ERR("value_and_grad_non_scalar", IA, ({"[value_and_grad]", "(2,3)"}),
          value_and_grad([](const std::vector<array>& v) { return array(v[0] * 2.0f); })({f23()})),
      ERR("grad_non_scalar", IA, ({"[value_and_grad]"}),
          grad([](const std::vector<array>& v) { return array(v[0] * 2.0f); })({f23()})),
      ERR("value_and_grad_argnum_out_of_range", IA, ({"[value_and_grad]", "argnum 2"}),
          value_and_grad([](const std::vector<array>& v) { return sum(v[0]); }, 2)({f23()})),
      ERR("vjp_cotangent_shape", IA, ({"[vjp]", "(3,)", "(2,3)"}),
          vjp([](const array& x) { return array(x * 2.0f); }, f23(), array({1.f, 1.f, 1.f}))),
      ERR("vjp_cotangent_count", IA, ({"[vjp]", "cotangents"}),
          vjp([](const std::vector<array>& x) { return std::vector<array>{x[0]}; }, {f23()}, {})),
      ERR("jvp_tangent_count", IA, ({"[jvp]", "tangents"}),
          jvp([](const std::vector<array>& x) { return std::vector<array>{array(x[0] * 2.0f)}; },
              {f23(), f23()}, {f23()})),
      ERR("jvp_tangent_shape", IA, ({"[jvp]", "(3,)"}),
          jvp([](const array& x) { return array(sin(x)); }, f23(), array({1.f, 1.f, 1.f}))),
      // dtypes and devices
      ERR("finfo_of_integer", IA, ({"[finfo]"}), finfo f(int32); (void)f),
      ERR("iinfo_of_float", IA, ({"[iinfo]"}), iinfo i(float16); (void)i),
      ERR("device_index_out_of_range", IA, ({"[set_default_device]"}), set_default_device(Device(Device::cpu, 1))),
      ERR("op_on_missing_device_index", IA, ({"[stream]"}), add(f23(), f23(), Device(Device::cpu, 2))),
      // MLX's array::shape(dim) indexes with .at(): out of range is std::out_of_range.
      ERR("shape_dim_out_of_range", std::out_of_range, ({"[array::shape]"}), f23().shape(2)),
  };
}

class ErrorsTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ErrorsTest, ThrowsTypedErrorNamingTheOp) { EXPECT_TRUE(GetParam().check()); }

INSTANTIATE_TEST_SUITE_P(Errors, ErrorsTest, ::testing::ValuesIn(error_cases()),
                         [](const ::testing::TestParamInfo<ErrorCase>& info) { return info.param.name; });

TEST(ErrorsTable, HasEnoughDistinctCases) {
  auto cases = error_cases();
  EXPECT_GE(cases.size(), 30u);
  std::set<std::string> names;
  for (auto& c : cases) EXPECT_TRUE(names.insert(c.name).second) << "duplicate " << c.name;
}

// The helper itself: a wrong type, a missing substring and no throw all fail.
TEST(ErrorsTable, HelperRejectsWrongTypeMessageOrNoThrow) {
  EXPECT_FALSE(throws_with<std::out_of_range>([] { reshape(f23(), {4}); }, {"[reshape]"}));
  EXPECT_FALSE(throws_with<IA>([] { reshape(f23(), {4}); }, {"[transpose]"}));
  EXPECT_FALSE(throws_with<IA>([] { reshape(f23(), {3, 2}); }, {"[reshape]"}));
  EXPECT_THROW(reshape(f23(), {4}), std::invalid_argument);
  EXPECT_NO_THROW(reshape(f23(), {3, 2}));
}

// Errors are raised at graph construction: a lazy input is never evaluated on the way.
TEST(ErrorsTable, RaisedBeforeEvaluation) {
  array lazy = f23() * 2.0f;
  EXPECT_THROW(reshape(lazy, {5}), std::invalid_argument);
  EXPECT_THROW(transpose(lazy, {0, 0}), std::invalid_argument);
  EXPECT_THROW(lazy + array({1.f, 2.f}), std::invalid_argument);
  EXPECT_EQ(lazy.status(), array::Status::unscheduled);
}

// Without a GPU, asking for it fails cleanly (only checkable where none is available).
TEST(ErrorsTable, GpuWhenUnavailable) {
  if (is_available(Device(Device::gpu))) GTEST_SKIP() << "a GPU is available";
  EXPECT_TRUE(throws_with<IA>([] { set_default_device(Device(Device::gpu)); }, {"[set_default_device]"}));
  EXPECT_TRUE(throws_with<IA>([] { new_stream(Device(Device::gpu)); }, {"[new_stream]"}));
  EXPECT_TRUE(throws_with<IA>([] { add(f23(), f23(), Device(Device::gpu)); }, {"[stream]"}));
  EXPECT_EQ(default_device(), Device(Device::cpu));  // unchanged by the failed calls
}

}  // namespace
