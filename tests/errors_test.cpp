// Bad input: every case asserts the exception TYPE (as MLX throws it) and that the message
// names the op ("[reshape] ..."). One table; each row is its own test (Errors/ErrorsTest.<row>).
// Errors are thrown when the op is called (graph construction), never at eval.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <set>

#include "test_util.hpp"
#include "tessera/core/device.hpp"
#include "tessera/core/memory.hpp"
#include "tessera/ops/conv.hpp"
#include "tessera/ops/creation.hpp"
#include "tessera/ops/einsum.hpp"
#include "tessera/ops/elementwise.hpp"
#include "tessera/ops/hadamard.hpp"
#include "tessera/ops/indexing.hpp"
#include "tessera/ops/matmul.hpp"
#include "tessera/ops/random.hpp"
#include "tessera/ops/rearrange.hpp"
#include "tessera/ops/reduce.hpp"
#include "tessera/ops/scan.hpp"
#include "tessera/ops/sort.hpp"
#include "tessera/ops/subscript.hpp"
#include "tessera/ops/shape.hpp"
#include "tessera/primitives/shape.hpp"
#include "tessera/transforms/autodiff.hpp"
#include "tessera/transforms/eval.hpp"

namespace {

using namespace tessera;
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
// A conv2d input (N, H, W, C_in) and weight (C_out, kH, kW, C_in).
array cx() { return zeros({1, 5, 5, 4}); }
array cw() { return zeros({6, 3, 3, 4}); }

using IA = std::invalid_argument;

// 65536^4 = 2^64 elements: the element count itself overflows int64 (and wraps to exactly 0).
const Shape kHuge = {65536, 65536, 65536, 65536};
// 2^62 elements: the count fits, but not its bytes in a 4-byte dtype (bool fits: 2^62 bytes).
const Shape kHugeBytes = {1 << 30, 1 << 30, 4};
// A lazy broadcast view of that many elements: nothing is allocated.
array huge_view(const Shape& shape, Dtype dtype = float32) {
  return broadcast_to(array(1, dtype), shape);
}
// A Dtype made from an out-of-range value (as a cast or corrupted data would).
Dtype bad_dtype() { return Dtype{static_cast<Dtype::Val>(99), 4}; }

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
      ERR("remainder_bool", IA, ({"[remainder]", "bool"}), remainder(bools(), bools())),
      ERR("floor_divide_bool", IA, ({"[floor_divide]", "bool"}), floor_divide(bools(), bools())),
      ERR("floor_divide_complex", IA, ({"[floor_divide]", "complex64"}), floor_divide(cplx(), cplx())),
      ERR("arctan2_complex", IA, ({"[arctan2]", "complex64"}), arctan2(cplx(), cplx())),
      ERR("bitwise_and_float", IA, ({"[bitwise_and]", "float32", "integers"}), bitwise_and(f23(), f23())),
      ERR("left_shift_float16", IA, ({"[left_shift]", "float16"}), left_shift(astype(f23(), float16), 1)),
      ERR("bitwise_invert_float", IA, ({"[bitwise_invert]"}), bitwise_invert(f23())),
      ERR("arcsinh_complex", IA, ({"[arcsinh]", "complex64"}), arcsinh(cplx())),
      // reshape / flatten
      ERR("reshape_bad_size", IA, ({"[reshape]", "(2,3)", "(4,)"}), reshape(f23(), {4})),
      ERR("reshape_two_minus_ones", IA, ({"[reshape]", "-1"}), reshape(f23(), {-1, -1})),
      ERR("reshape_cannot_infer", IA, ({"[reshape]"}), reshape(f23(), {-1, 4})),
      ERR("reshape_negative_dim", IA, ({"[reshape]"}), reshape(f23(), {-2, -3})),
      ERR("flatten_start_past_last_axis", IA, ({"[flatten]", "(2,3)"}), flatten(f23(), 2, 3)),
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
      ERR("squeeze_repeated_axis", IA, ({"[squeeze]", "repeated", "[0,-3]"}),
          squeeze(reshape(f23(), {1, 2, 3}), {0, -3})),
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
      ERR("split_indices_axis_out_of_range", IA, ({"[split]"}), split(f23(), Shape{1}, -3)),
      ERR("stack_axis_out_of_range", IA, ({"[stack]"}), stack({f23(), f23()}, 3)),
      ERR("slice_update_shape_names_slice_update", IA,
          ({"[slice_update]", "(4,)", "(2,3)"}),
          slice_update(f23(), array({1.f, 2.f, 3.f, 4.f}), {0, 0}, {2, 3}, {1, 1})),
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
      ERR("identity_negative", IA, ({"[identity]"}), identity(-1)),
      ERR("full_values_shape_names_full", IA, ({"[full]", "(2,)", "(2,3)"}),
          full({2, 3}, array({1.f, 2.f}))),
      ERR("full_like_values_shape_names_full_like", IA, ({"[full_like]", "(2,)", "(2,3)"}),
          full_like(f23(), array({1.f, 2.f}))),
      // Sizes whose element count or bytes overflow int64: rejected where the shape is made,
      // under the op's name (a wrapped count would allocate a small buffer that slices read past).
      ERR("zeros_size_overflow", IA, ({"[zeros]", "(65536,65536,65536,65536)", "overflows"}),
          zeros(kHuge)),
      ERR("zeros_bytes_overflow", IA, ({"[zeros]", "(1073741824,1073741824,4)", "4 per element"}),
          zeros(kHugeBytes, int32)),
      ERR("ones_size_overflow", IA, ({"[ones]", "overflows"}), ones(kHuge)),
      ERR("full_size_overflow", IA, ({"[full]", "overflows"}), full(kHugeBytes, 1.0f)),
      ERR("eye_size_overflow", IA, ({"[eye]", "overflows"}),
          eye(std::numeric_limits<int>::max(), float64)),
      ERR("identity_size_overflow", IA, ({"[identity]", "overflows"}),
          identity(std::numeric_limits<int>::max(), float64)),
      ERR("tri_size_overflow", IA, ({"[tri]", "overflows"}),
          tri(std::numeric_limits<int>::max(), float64)),
      ERR("array_size_overflow", IA, ({"[array]", "(65536,65536,65536,65536)"}),
          array(std::vector<float>{}, kHuge)),
      ERR("array_raw_size_overflow", IA, ({"[array]", "overflows"}),
          array(static_cast<const void*>(nullptr), kHuge, float32)),
      ERR("array_lazy_node_size_overflow", IA, ({"[array]", "overflows"}),
          array(kHugeBytes, float32, nullptr, {})),
      ERR("broadcast_to_size_overflow", IA, ({"[broadcast_to]", "(65536,65536,65536,65536)"}),
          broadcast_to(array(1.f), kHuge)),
      ERR("broadcast_to_negative_dim", IA, ({"[broadcast_to]", "(-1,)"}),
          broadcast_to(array(1.f), {-1})),
      ERR("broadcast_arrays_size_overflow", IA, ({"[broadcast_arrays]", "overflows"}),
          broadcast_arrays({huge_view({65536, 1, 65536, 1}), huge_view({65536, 1, 65536})})),
      ERR("add_size_overflow", IA, ({"[add]", "overflows"}),
          array(huge_view({65536, 1, 65536, 1}) + huge_view({65536, 1, 65536}))),
      ERR("astype_bytes_overflow", IA, ({"[astype]", "overflows"}),
          astype(huge_view(kHugeBytes, bool_), float32)),
      ERR("reshape_wrapping_size", IA, ({"[reshape]", "(65536,65536,65536,65536)"}),
          reshape(zeros({0}), kHuge)),
      ERR("reshape_wrapping_size_with_minus_one", IA, ({"[reshape]", "(65536,65536,65536,65536,-1)", "overflows"}),
          reshape(zeros({0}), {65536, 65536, 65536, 65536, -1})),
      ERR("reshape_inferred_extent_overflow", IA, ({"[reshape]", "int32"}),
          reshape(huge_view({65536, 65536}), {-1})),
      ERR("flatten_extent_overflow", IA, ({"[flatten]", "(65536,65536)"}),
          flatten(huge_view({65536, 65536}))),
      ERR("concatenate_extent_overflow", IA, ({"[concatenate]", "int32"}),
          concatenate({huge_view({1 << 30}), huge_view({1 << 30}), huge_view({1 << 30})}, 0)),
      ERR("concatenate_flattened_extent_overflow", IA, ({"[concatenate]", "(65536,65536)"}),
          concatenate({huge_view({65536, 65536})})),
      ERR("stack_size_overflow", IA, ({"[stack]", "overflows"}),
          stack({huge_view({1 << 30, 1 << 30}), huge_view({1 << 30, 1 << 30}),
                 huge_view({1 << 30, 1 << 30}), huge_view({1 << 30, 1 << 30})})),
      ERR("matmul_batch_size_overflow", IA, ({"[matmul]", "overflows"}),
          matmul(huge_view({65536, 1, 65536, 1, 1, 1}), huge_view({65536, 1, 65536, 1, 1}))),
      ERR("random_uniform_size_overflow", IA, ({"[random.uniform]", "overflows"}),
          random::uniform(kHuge)),
      ERR("random_normal_size_overflow", IA, ({"[random.normal]", "overflows"}),
          random::normal(kHugeBytes)),
      ERR("random_bits_size_overflow", IA, ({"[random.bits]", "overflows"}), random::bits(kHuge)),
      // A Dtype made from an out-of-range value: rejected by the op it is given to.
      ERR("astype_invalid_dtype", IA, ({"[astype]", "invalid dtype", "99"}),
          astype(f23(), bad_dtype())),
      ERR("astype_method_invalid_dtype", IA, ({"[astype]", "invalid dtype"}),
          f23().astype(bad_dtype())),
      ERR("zeros_invalid_dtype", IA, ({"[zeros]", "invalid dtype"}), zeros({2}, bad_dtype())),
      ERR("ones_invalid_dtype", IA, ({"[ones]", "invalid dtype"}), ones({2}, bad_dtype())),
      ERR("full_invalid_dtype", IA, ({"[full]", "invalid dtype"}), full({2}, 1.0f, bad_dtype())),
      ERR("arange_invalid_dtype", IA, ({"[arange]", "invalid dtype"}),
          arange(0.0, 3.0, 1.0, bad_dtype())),
      ERR("linspace_invalid_dtype", IA, ({"[linspace]", "invalid dtype"}),
          linspace(0.0, 1.0, 5, bad_dtype())),
      ERR("eye_invalid_dtype", IA, ({"[eye]", "invalid dtype"}), eye(3, bad_dtype())),
      ERR("tri_invalid_dtype", IA, ({"[tri]", "invalid dtype"}), tri(3, bad_dtype())),
      ERR("array_invalid_dtype", IA, ({"[array]", "invalid dtype"}), array(1.0f, bad_dtype())),
      ERR("promote_types_invalid_dtype", IA, ({"[promote_types]", "invalid dtype"}),
          promote_types(bad_dtype(), float32)),
      ERR("random_uniform_invalid_dtype", IA, ({"[random.uniform]", "invalid"}),
          random::uniform({2}, bad_dtype())),
      ERR("random_normal_invalid_dtype", IA, ({"[random.normal]", "invalid dtype"}),
          random::normal({2}, bad_dtype(), 1.0f, 2.0f)),
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
      ERR("grad_non_scalar", IA, ({"[grad]", "(2,3)"}),
          grad([](const std::vector<array>& v) { return array(v[0] * 2.0f); })({f23()})),
      ERR("value_and_grad_argnum_out_of_range", IA, ({"[value_and_grad]", "argnum 2"}),
          value_and_grad([](const std::vector<array>& v) { return sum(v[0]); }, 2)({f23()})),
      ERR("grad_integer_input", IA, ({"[grad]", "int32", "(2,3)", "floating point"}),
          grad([](const std::vector<array>& v) { return sum(v[0]); })({i23()})),
      ERR("grad_single_array_integer_input", IA, ({"[grad]", "int32"}),
          grad([](const array& x) { return sum(x); })(i23())),
      ERR("value_and_grad_bool_input", IA, ({"[value_and_grad]", "bool"}),
          value_and_grad([](const std::vector<array>& v) { return sum(v[0]); })({bools()})),
      ERR("value_and_grad_integer_argnum", IA, ({"[value_and_grad]", "input 1", "int32"}),
          value_and_grad([](const std::vector<array>& v) { return sum(v[0] * v[1]); }, 1)(
              {f23(), i23()})),
      ERR("value_and_grad_repeated_argnum", IA, ({"[value_and_grad]", "repeated", "[0,0]"}),
          value_and_grad([](const std::vector<array>& v) { return sum(v[0]); },
                         std::vector<int>{0, 0})({f23()})),
      ERR("vjp_integer_primal", IA, ({"[vjp]", "int32"}),
          vjp([](const array& x) { return array(x * 2); }, i23(), i23())),
      ERR("jvp_integer_primal", IA, ({"[jvp]", "int32"}),
          jvp([](const array& x) { return array(x * 2); }, i23(), i23())),
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
      // random: a bad loc/scale is named by the op, not by the fused program inside it.
      ERR("random_normal_scale_shape", IA, ({"[random.normal]", "scale", "(3,)", "(2,2)"}),
          random::normal({2, 2}, float32, std::nullopt, array({1.f, 2.f, 3.f}), std::nullopt)),
      ERR("random_normal_loc_larger_than_samples", IA, ({"[random.normal]", "loc", "(3,2)"}),
          random::normal({2}, float32, zeros({3, 2}), std::nullopt, std::nullopt)),
      ERR("random_uniform_incompatible_bounds", IA, ({"[random.uniform]", "(2,)", "(3,)"}),
          random::uniform(zeros({2}), ones({3}), {2})),
      // Indexing: axes, index dtypes and shapes, update shapes.
      ERR("take_bad_axis", IA, ({"[take]", "axis 2"}), take(f23(), array({0}), 2)),
      ERR("take_float_indices", IA, ({"[take]", "integral", "float32"}), take(f23(), array({0.f}), 0)),
      ERR("take_bool_indices", IA, ({"[take]", "bool"}), take(f23(), bools(), 1)),
      ERR("take_integer_out_of_range", IA, ({"[take]", "index 3"}), take(f23(), 3, 0)),
      ERR("take_from_empty_axis", IA, ({"[take]", "empty"}), take(zeros({0, 2}), array({0}), 0)),
      ERR("take_along_axis_rank", IA, ({"[take_along_axis]", "dimension 1"}), take_along_axis(f23(), array({0}), 1)),
      ERR("take_along_axis_shapes", IA, ({"[take_along_axis]", "(2,3)", "(3,1)"}),
          take_along_axis(f23(), zeros({3, 1}, int32), 1)),
      ERR("put_along_axis_values_shape", IA, ({"[put_along_axis]"}),
          put_along_axis(f23(), zeros({2, 1}, int32), ones({3, 4}), 1)),
      ERR("gather_slice_too_large", IA, ({"[gather]", "slice sizes"}), gather(f23(), array({0}), 0, {1, 4})),
      ERR("gather_axes_count", IA, ({"[gather]", "number of index arrays"}),
          gather(f23(), {array({0})}, {0, 1}, {1, 1})),
      ERR("gather_repeated_axes", IA, ({"[gather]", "repeated"}),
          gather(f23(), {array({0}), array({0})}, {0, 0}, {1, 1})),
      ERR("gather_indices_do_not_broadcast", IA, ({"[gather]", "(2,)", "(3,)"}),
          gather(f23(), {array({0, 1}), array({0, 1, 2})}, {0, 1}, {1, 1})),
      ERR("scatter_updates_rank", IA, ({"[scatter]", "dimensions"}), scatter(f23(), array({0}), ones({1, 3}), 0)),
      ERR("scatter_add_updates_too_large", IA, ({"[scatter_add]", "too large"}),
          scatter_add(f23(), array({0}), ones({1, 3, 3}), 0)),
      ERR("scatter_max_complex", IA, ({"[scatter_max]", "complex64"}),
          scatter_max(cplx(), array({0}), reshape(cplx(), {2, 1}), 0)),
      ERR("dynamic_slice_start_shape", IA, ({"[slice]", "start"}), slice(f23(), array({0, 1}), {0}, {1})),
      ERR("dynamic_slice_too_large", IA, ({"[slice]", "does not fit"}), slice(f23(), array({0}), {1}, {4})),
      ERR("scatter_prod_vjp", IA, ({"[scatter_prod]", "vjp"}),
          vjp([](const std::vector<array>& x) { return std::vector<array>{scatter_prod(x[0], array({0, 0}), reshape(x[0], {2, 1}), 0)}; },
              {array({1.f, 2.f})}, {array({1.f, 1.f})})),
      // Scans.
      ERR("cumsum_bad_axis", IA, ({"[cumsum]", "axis 2"}), cumsum(f23(), 2)),
      ERR("cummax_complex", IA, ({"[cummax]", "complex64"}), cummax(cplx(), 0)),
      ERR("logcumsumexp_complex", IA, ({"[logcumsumexp]", "complex64"}), logcumsumexp(cplx(), 0)),
      // Sorting.
      ERR("sort_bad_axis", IA, ({"[sort]", "axis"}), sort(f23(), 2)),
      ERR("sort_complex", IA, ({"[sort]", "complex64"}), sort(cplx(), 0)),
      ERR("argsort_scalar", IA, ({"[argsort]", "0-d"}), argsort(array(1.f), 0)),
      ERR("partition_kth", IA, ({"[partition]", "kth 3"}), partition(f23(), 3, 1)),
      ERR("argpartition_kth", IA, ({"[argpartition]", "kth -4"}), argpartition(f23(), -4, 1)),
      ERR("topk_k", IA, ({"[topk]", "k=4"}), topk(f23(), 4, 1)),
      ERR("searchsorted_side", IA, ({"[searchsorted]", "'middle'"}), searchsorted(array({1.f}), array({1.f}), "middle")),
      ERR("searchsorted_2d", IA, ({"[searchsorted]", "1-D"}), searchsorted(f23(), array({1.f}))),
      // Convolutions.
      ERR("conv_int", IA, ({"[conv]", "floating"}), conv2d(astype(cx(), int32), cw())),
      ERR("conv_input_rank", IA, ({"[conv]", "(5,5,4)"}), conv2d(zeros({5, 5, 4}), cw())),
      ERR("conv_weight_rank", IA, ({"[conv]", "(6,3,4)"}), conv2d(cx(), zeros({6, 3, 4}))),
      ERR("conv_channels", IA, ({"[conv]", "channels"}), conv2d(cx(), zeros({6, 3, 3, 3}))),
      ERR("conv_groups", IA, ({"[conv]", "3 groups"}), conv2d(cx(), zeros({6, 3, 3, 2}), {1, 1}, {0, 0}, {1, 1}, 3)),
      ERR("conv_stride", IA, ({"[conv]", "strides"}), conv2d(cx(), cw(), {0, 1})),
      ERR("conv_dilation", IA, ({"[conv]", "dilations"}), conv2d(cx(), cw(), {1, 1}, {0, 0}, {1, -1})),
      ERR("conv_too_small", IA, ({"[conv]", "smaller"}), conv2d(cx(), zeros({6, 7, 3, 4}))),
      ERR("conv_axis_count", IA, ({"[conv]", "3 values"}), conv_general(cx(), cw(), {1, 1, 1})),
      ERR("conv_spatial_rank", IA, ({"[conv]", "1 to 3 spatial"}), conv_general(zeros({1, 2, 2, 2, 2, 2, 2}), zeros({1, 1, 1, 1, 1, 1, 2}))),
      ERR("conv_transpose_output_padding", IA, ({"[conv_transpose]", "output_padding"}), conv_transpose2d(cx(), cw(), {2, 2}, {0, 0}, {1, 1}, {2, 0})),
      ERR("conv_transpose1d_rank", IA, ({"[conv_transpose1d]", "(1,5,5,4)"}), conv_transpose1d(cx(), cw())),
      ERR("convolve_2d", IA, ({"[convolve]", "1-D"}), convolve(zeros({2, 2}), zeros({2}))),
      ERR("convolve_empty", IA, ({"[convolve]", "empty"}), convolve(zeros({0}), zeros({2}))),
      ERR("convolve_mode", IA, ({"[convolve]", "middle"}), convolve(zeros({3}), zeros({2}), "middle")),
      // einsum, hadamard_transform, NumPy-style indexing, complex parts
      ERR("einsum_size_mismatch", IA, ({"[einsum]", "'j'"}), einsum("ij,jk->ik", {f23(), f23()})),
      ERR("einsum_term_count", IA, ({"[einsum]", "input term"}), einsum("ij,jk->ik", {f23()})),
      ERR("hadamard_length", IA, ({"[hadamard_transform]", "(2,3)"}), hadamard_transform(f23())),
      ERR("index_too_many", IA, ({"[index]", "too many indices"}), index(f23(), {0, 0, 0})),
      ERR("index_out_of_range", std::out_of_range, ({"[index]", "axis 1"}), index(f23(), {0, 3})),
      ERR("index_update_shape", IA, ({"[index]", "(4,)"}), index_update(f23(), {0}, zeros({4}))),
      // Random distributions.
      ERR("randint_float", IA, ({"[randint]", "float32"}), random::randint(0, 3, {2}, float32)),
      ERR("bernoulli_int_p", IA, ({"[bernoulli]", "int32"}), random::bernoulli(array(1), {2})),
      ERR("bernoulli_shape", IA, ({"[bernoulli]", "(3,)"}), random::bernoulli(array({0.5f, 0.5f, 0.5f}), {2})),
      ERR("truncated_normal_int", IA, ({"[truncated_normal]", "int32"}), random::truncated_normal(array(0.f), array(1.f), {2}, int32)),
      ERR("categorical_axis", IA, ({"[categorical]", "axis 2"}), random::categorical(f23(), 2)),
      ERR("laplace_int", IA, ({"[laplace]", "int32"}), random::laplace({2}, int32)),
      // Composed shape ops.
      ERR("pad_mode", IA, ({"[pad]", "'wrap'"}), pad(f23(), 1, array(0), "wrap")),
      ERR("pad_negative", IA, ({"[pad]", "negative"}), pad(f23(), std::vector<int>{0}, Shape{-1}, Shape{0})),
      ERR("pad_value_shape", IA, ({"[pad]", "scalar"}), pad(f23(), 1, array({1.f, 2.f}))),
      ERR("pad_widths", IA, ({"[pad]", "3 pad widths"}), pad(f23(), std::vector<std::pair<int, int>>{{1, 1}, {1, 1}, {1, 1}})),
      ERR("tile_negative", IA, ({"[tile]", "negative"}), tile(f23(), {-1})),
      ERR("repeat_negative", IA, ({"[repeat]", "-2"}), repeat(f23(), -2, 0)),
      ERR("roll_shifts", IA, ({"[roll]", "2 shifts for 3 axes"}), roll(zeros({2, 2, 2}), Shape{1, 1}, {0, 1, 2})),
      ERR("diff_order", IA, ({"[diff]", "-1"}), diff(f23(), -1)),
      ERR("tril_1d", IA, ({"[tril]", "(3,)"}), tril(array({1.f, 2.f, 3.f}))),
      ERR("diagonal_same_axes", IA, ({"[diagonal]", "both"}), diagonal(f23(), 0, 1, 1)),
      ERR("diag_3d", IA, ({"[diag]", "(2,2,2)"}), diag(zeros({2, 2, 2}))),
      ERR("unflatten_shape", IA, ({"[unflatten]", "(4,-1)"}), unflatten(f23(), 1, {4, -1})),
      ERR("tensordot_sizes", IA, ({"[tensordot]", "differ"}), tensordot(f23(), f23(), {1}, {1}) + tensordot(f23(), f23(), {0}, {1})),
      ERR("inner_shapes", IA, ({"[inner]", "last dimensions"}), inner(f23(), zeros({2, 2}))),
      ERR("kron_empty", IA, ({"[kron]", "empty"}), kron(zeros({0}), f23())),
      ERR("meshgrid_indexing", IA, ({"[meshgrid]", "'yx'"}), meshgrid({f23()}, false, "yx")),
      ERR("trunc_complex", IA, ({"[trunc]", "complex64"}), trunc(cplx())),
      ERR("positive_bool", IA, ({"[positive]", "bool"}), positive(bools())),
      ERR("nan_to_num_complex", IA, ({"[nan_to_num]", "complex64"}), nan_to_num(cplx())),
      ERR("linspace_negative", IA, ({"[linspace]", "-1"}), linspace(0, 1, -1, false)),
      ERR("as_strided_out_of_bounds", IA, ({"[as_strided]", "of an array of 6"}), as_strided(f23(), {3}, {3}, 0)),
      ERR("as_strided_lengths", IA, ({"[as_strided]", "differ in length"}), as_strided(f23(), {3}, {1, 1}, 0)),
      ERR("view_scalar_size", IA, ({"[view]", "scalar"}), view(array(1.f), int8)),
      ERR("view_last_axis", IA, ({"[view]", "whole number"}), view(array({1, 2, 3}, int8), int32)),
      // Impossible allocations fail as MLX's malloc does, with std::runtime_error "[malloc] ...";
      // a host vector too large for any memory is the same error, not std::length_error.
      ERR("to_vector_impossible_host_vector", std::runtime_error,
          ({"[to_vector]", "cannot allocate"}), huge_view(kHugeBytes, bool_).to_vector<double>()),
      ERR("cpu_malloc_size_past_ptrdiff_max", std::runtime_error, ({"[malloc]", "cannot allocate"}),
          cpu::malloc(static_cast<size_t>(-1))),
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

// An allocation no memory can hold (2^62 bytes, after the shape checks pass) is the
// allocator's std::runtime_error (each device's allocator names itself), raised at eval. Not under AddressSanitizer, whose allocator
// aborts the process on such a request instead of failing it.
TEST(ErrorsTable, ImpossibleAllocationIsMallocError) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer aborts on allocations past its maximum size";
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  GTEST_SKIP() << "AddressSanitizer aborts on allocations past its maximum size";
#endif
#endif
  EXPECT_TRUE(throws_with<std::runtime_error>(
      [] { zeros({1 << 30, 1 << 30}, float32, Device(Device::cpu)).eval(); },
      {"[malloc]", "4611686018427387904"}));
  if (is_available(Device(Device::gpu))) {
    EXPECT_TRUE(throws_with<std::runtime_error>(
        [] { zeros({1 << 30, 1 << 30}, float32, Device(Device::gpu)).eval(); },
        {"[vulkan]", "4611686018427387904"}));
  }
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
