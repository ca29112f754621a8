// vmap: every primitive's batching rule against the definition (the function applied to each
// slice, the results stacked), for batch axes in front, inside and at the end of the inputs,
// with shared (unbatched) inputs and out_axes; nested vmap, vmap of grad, grad and jvp of
// vmap; and the errors. Runs on the default device (CPU and, under CTest's second run, Vulkan).
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "test_util.hpp"
#include "tessera/nn.hpp"
#include "tessera/tessera.hpp"

namespace {

using namespace tessera;
using tessera::test::arrays_close;
using tessera::test::random_array;
using tessera::test::throws_with;

using Fn = std::function<std::vector<array>(const std::vector<array>&)>;

array take_slice(const array& x, int axis, int i) {
  Shape start(x.ndim(), 0), stop = x.shape();
  start[axis] = i;
  stop[axis] = i + 1;
  return squeeze(slice(x, start, stop), axis);
}

// The definition of vmap: a loop over the batch.
std::vector<array> by_loop(const Fn& f, const std::vector<array>& inputs,
                           const std::vector<int>& in_axes, const std::vector<int>& out_axes) {
  int batch = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (in_axes[i] >= 0) batch = inputs[i].shape(in_axes[i]);
  }
  std::vector<std::vector<array>> per_output;
  for (int b = 0; b < batch; ++b) {
    std::vector<array> args;
    for (size_t i = 0; i < inputs.size(); ++i) {
      args.push_back(in_axes[i] < 0 ? inputs[i] : take_slice(inputs[i], in_axes[i], b));
    }
    auto outs = f(args);
    per_output.resize(outs.size());
    for (size_t k = 0; k < outs.size(); ++k) per_output[k].push_back(outs[k]);
  }
  std::vector<array> result;
  for (size_t k = 0; k < per_output.size(); ++k) {
    result.push_back(stack(per_output[k], out_axes.empty() ? 0 : out_axes[k]));
  }
  return result;
}

struct VmapCase {
  std::string name;
  Fn f;
  std::vector<Shape> shapes;  // of the batched inputs, batch included
  std::vector<int> in_axes;
  std::vector<int> out_axes = {};
  double tol = 1e-5;
};

std::vector<VmapCase> cases() {
  auto one = [](std::function<array(const array&)> g) -> Fn {
    return [g](const std::vector<array>& x) { return std::vector<array>{g(x[0])}; };
  };
  auto two = [](std::function<array(const array&, const array&)> g) -> Fn {
    return [g](const std::vector<array>& x) { return std::vector<array>{g(x[0], x[1])}; };
  };
  std::vector<VmapCase> c = {
      // elementwise, fused and plain, with the batch axis anywhere
      {"fused_chain", one([](const array& x) { return array(sin(x) * 2 + exp(-x * x) * x); }), {{5, 3, 4}}, {0}},
      {"fused_chain_axis1", one([](const array& x) { return array(sin(x) * 2 + exp(-x * x) * x); }), {{3, 5, 4}}, {1}},
      {"fused_chain_axis2_out1", one([](const array& x) { return array(x * x + 1); }), {{3, 4, 5}}, {2}, {1}},
      {"maximum_scalar", one([](const array& x) { return maximum(x, 0.25f); }), {{5, 6}}, {0}},
      {"binary_both_batched", two([](const array& x, const array& y) { return array(x * y - y); }), {{5, 3, 4}, {3, 5, 4}}, {0, 1}},
      {"binary_lower_rank_batched", two([](const array& x, const array& y) { return array(x + y); }), {{5, 3, 4}, {5, 4}}, {0, 0}},
      {"binary_shared_input", two([](const array& x, const array& y) { return array(x / (y * y + 1)); }), {{5, 3, 4}, {4}}, {0, -1}},
      {"where", two([](const array& x, const array& y) { return where(x > y, x, y); }), {{5, 3}, {3}}, {0, -1}},
      {"astype", one([](const array& x) { return astype(x * 10, int32); }), {{5, 4}}, {0}},
      {"clip", two([](const array& x, const array& hi) { return clip(x, array(-0.5f), hi); }), {{5, 3}, {5}}, {0, 0}},
      {"erf_arctan2", two([](const array& x, const array& y) { return array(erf(x) + arctan2(x, y)); }), {{5, 3}, {3}}, {0, -1}},
      {"bitwise", two([](const array& x, const array& y) { return bitwise_xor(astype(x * 100, int32), left_shift(astype(y * 4 + 5, int32), 2)); }), {{5, 3}, {3, 5}}, {0, 1}},
      {"isclose_isfinite", two([](const array& x, const array& y) { return array(isclose(x, y, 1e-5, 0.5) && isfinite(x)); }), {{5, 3}, {3}}, {0, -1}},
      {"allclose", two([](const array& x, const array& y) { return allclose(x, y, 1e-5, 1.0); }), {{5, 3}, {5, 3}}, {0, 0}},
      {"logaddexp", two([](const array& x, const array& y) { return logaddexp(x, y); }), {{4, 5}, {5, 4}}, {1, 0}},
      // reductions
      {"sum_all", one([](const array& x) { return sum(x); }), {{5, 3, 4}}, {0}},
      {"sum_axis_batch_inside", one([](const array& x) { return sum(x, 1); }), {{3, 5, 4}}, {1}},
      {"mean_keepdims", one([](const array& x) { return mean(x, 0, true); }), {{3, 4, 5}}, {2}},
      {"max_axes", one([](const array& x) { return max(x, {0, 1}); }), {{5, 3, 4}}, {0}},
      {"prod", one([](const array& x) { return prod(x, -1); }), {{5, 3, 4}}, {0}},
      {"argmax", one([](const array& x) { return argmax(x, 1); }), {{3, 5, 4}}, {1}},
      {"argmin_flat", one([](const array& x) { return argmin(x); }), {{5, 3, 4}}, {0}},
      {"all_any", one([](const array& x) { return array(all(x > 0) || any(x > 0.9f)); }), {{5, 6}}, {0}},
      {"var_std", one([](const array& x) { return add(var(x, 1, false, 1), tessera::std(x, -1, false, 0)); }), {{5, 3, 4}}, {2}},
      {"logsumexp", one([](const array& x) { return logsumexp(x, -1); }), {{5, 3, 4}}, {0}},
      {"softmax", one([](const array& x) { return softmax(x, -1); }), {{3, 5, 4}}, {1}},
      // shapes
      {"reshape", one([](const array& x) { return reshape(x, {12}); }), {{3, 5, 4}}, {1}},
      {"flatten", one([](const array& x) { return flatten(x); }), {{5, 3, 4}}, {0}},
      {"transpose", one([](const array& x) { return transpose(x); }), {{3, 4, 5}}, {2}},
      {"moveaxis", one([](const array& x) { return moveaxis(x, 0, 2); }), {{5, 2, 3, 4}}, {0}},
      {"broadcast_to", one([](const array& x) { return broadcast_to(x, {2, 3, 4}); }), {{5, 4}}, {0}},
      {"broadcast_batched_inside", one([](const array& x) { return broadcast_to(x, {2, 3, 4}); }), {{3, 5, 1}}, {1}},
      {"expand_squeeze", one([](const array& x) { return squeeze(expand_dims(x, {0, 2}), 0); }), {{5, 3, 4}}, {0}},
      {"slice", one([](const array& x) { return slice(x, {0, 1}, {3, 4}, {2, 2}); }), {{3, 5, 4}}, {1}},
      {"slice_negative_step", one([](const array& x) { return slice(x, {2, 3}, {-4, -5}, {-1, -2}); }), {{5, 3, 4}}, {0}},
      {"slice_update", two([](const array& x, const array& u) { return slice_update(x, u, {1, 0}, {3, 2}, {1, 1}); }), {{5, 3, 4}, {5, 2, 2}}, {0, 0}},
      {"slice_update_shared_src", two([](const array& x, const array& u) { return slice_update(x, u, {1, 0}, {3, 2}, {1, 1}); }), {{3, 4}, {2, 5, 2}}, {-1, 1}},
      {"concatenate", two([](const array& x, const array& y) { return concatenate({x, y, x}, 1); }), {{5, 3, 4}, {3, 2}}, {0, -1}},
      {"stack_split", one([](const array& x) { return split(stack({x, x * 2}), 2, 2)[1]; }), {{5, 3, 4}}, {0}},
      {"contiguous", one([](const array& x) { return contiguous(transpose(x)); }), {{3, 5, 4}}, {1}},
      // matmul
      {"matmul_shared_weight", two([](const array& x, const array& w) { return matmul(x, w); }), {{5, 3, 4}, {4, 2}}, {0, -1}},
      {"matmul_both", two([](const array& x, const array& w) { return matmul(x, w); }), {{3, 5, 4}, {4, 2, 5}}, {1, 2}},
      {"matmul_vector", two([](const array& x, const array& v) { return matmul(x, v); }), {{5, 3, 4}, {5, 4}}, {0, 0}},
      {"matmul_batched_per_example", two([](const array& x, const array& w) { return matmul(x, w); }), {{5, 2, 3, 4}, {2, 4, 3}}, {0, -1}},
      {"addmm", two([](const array& x, const array& w) { return addmm(ones({3, 2}), x, w, 0.5f, 2.0f); }), {{5, 3, 4}, {4, 2}}, {0, -1}},
      {"complex_parts_matmul", two([](const array& x, const array& y) {
         array z = astype(x, complex64) + astype(y, complex64) * array(complex64_t(0, 1));
         array p = matmul(z, conjugate(transpose(z)));
         return add(real(p), multiply(imag(p), array(2.0f)));
       }), {{5, 3, 4}, {3, 5, 4}}, {0, 1}},
      // convolutions: batched images, per-example weights, both (batch inside the inputs)
      {"einsum_bilinear", two([](const array& x, const array& w) { return einsum("ij,kjl->ikl", {x, w}); }), {{5, 3, 4}, {2, 4, 3}}, {0, -1}},
      {"hadamard_transform", two([](const array& x, const array& y) { return hadamard_transform(add(x, y)); }), {{3, 5, 24}, {5, 24}}, {1, 0}},
      {"numpy_index_read", two([](const array& x, const array& y) { return index(multiply(x, y), {indexing::Slice({}, {}, -1), array({2, 0})}); }), {{5, 3, 4}, {3, 4}}, {0, -1}},
      {"conv1d_batched_input", two([](const array& x, const array& w) { return conv1d(x, w, 2, 1); }), {{3, 2, 7, 4}, {5, 3, 4}}, {0, -1}},
      {"conv2d_batched_weight", two([](const array& x, const array& w) { return conv2d(x, w, {1, 1}, {1, 0}, {1, 1}, 2); }), {{1, 5, 4, 4}, {6, 3, 3, 2, 2}}, {-1, 1}},
      {"conv_transpose1d_both", two([](const array& x, const array& w) { return conv_transpose1d(x, w, 2, 0, 1, 1); }), {{2, 4, 3, 3}, {3, 3, 2, 3}}, {2, 0}},
      // indexing: data batched, indices batched (made from the inputs), or both
      {"take_batched_data", one([](const array& x) { return take(x, array({2, 0, -1}), 1); }), {{5, 3, 4}}, {0}},
      {"take_batched_indices", two([](const array& x, const array& y) { return take(x, astype(abs(y) * 2.9f, int32), 0); }), {{3, 4}, {5, 2, 2}}, {-1, 0}},
      {"take_both_batched_flat", two([](const array& x, const array& y) { return take(x, astype(abs(y) * 11.9f, int32)); }), {{3, 5, 4}, {5, 6}}, {1, 0}},
      {"take_along_axis", two([](const array& x, const array& y) { return take_along_axis(x, astype(abs(y) * 3.9f, uint32), 1); }), {{5, 3, 4}, {3, 2, 5}}, {0, 2}},
      {"gather_two_axes", two([](const array& x, const array& y) { return gather(x, {astype(abs(y) * 2.9f, int32), array({1, 0})}, {0, 1}, {1, 2, 2}); }), {{5, 3, 4, 2}, {5, 2}}, {0, 0}},
      {"scatter_add_dups", two([](const array& x, const array& u) { return scatter_add(x, array({1, 1, 0}), reshape(u, {3, 1, 2}), 0); }), {{5, 3, 2}, {6, 5}}, {0, 1}},
      {"scatter_batched_indices", two([](const array& x, const array& y) { return scatter(x, astype(abs(y) * 3.9f, int32), ones({2, 1, 2}), 0); }), {{4, 2}, {5, 2}}, {-1, 0}},
      {"scatter_max_shared_updates", two([](const array& x, const array& u) { return scatter_max(x, array({2, 0}), u, 1); }), {{3, 5, 4}, {2, 3, 1}}, {1, -1}},
      {"put_along_axis", two([](const array& x, const array& v) { return put_along_axis(x, array({2, 0}, {1, 2}), v, 1); }), {{5, 3, 4}, {5, 1, 1}}, {0, 0}},
      {"scatter_add_axis", two([](const array& x, const array& v) { return scatter_add_axis(x, array({1, 1, 0}), v, 0); }), {{4, 5}, {3, 4}}, {0, 1}},
      {"dynamic_slice", two([](const array& x, const array& y) { return slice(x, astype(abs(y) * 2.9f, int32), {0}, {2}); }), {{5, 4, 3}, {5, 1}}, {0, 0}},
      {"dynamic_slice_update", two([](const array& x, const array& u) { return slice_update(x, u, array({1}), {1}); }), {{5, 3, 4}, {3, 2, 5}}, {0, 2}},
      // scans
      {"cumsum_batch_inside", one([](const array& x) { return cumsum(x, 1, true, false); }), {{3, 5, 4}}, {1}},
      {"cumprod_flat", one([](const array& x) { return cumprod(x); }), {{5, 3, 2}}, {0}},
      {"cummax_cummin", one([](const array& x) { return add(cummax(x, 0), cummin(x, -1, true)); }), {{3, 4, 5}}, {2}},
      {"logcumsumexp", one([](const array& x) { return logcumsumexp(x, 0, false, false); }), {{5, 6}}, {0}},
      // sorting
      {"sort_batch_inside", one([](const array& x) { return sort(x, 1); }), {{3, 5, 4}}, {1}},
      {"argsort_flat", one([](const array& x) { return astype(argsort(x), float32); }), {{5, 3, 2}}, {0}},
      {"partition_topk", one([](const array& x) { return concatenate({flatten(sort(topk(x, 2, -1), -1)), take(partition(x, 1, 0), 1, 0)}, 0); }), {{3, 4, 5}}, {2}},
      {"searchsorted_values", one([](const array& v) { return astype(searchsorted(array({-0.5f, 0.f, 0.5f}), v, "right"), float32); }), {{5, 3}}, {0}},
      {"searchsorted_sequences", two([](const array& a, const array& v) { return astype(searchsorted(sort(a), v), float32); }), {{5, 4}, {3, 5}}, {0, 1}},
      // composed shape ops
      {"pad_reflect_tile", one([](const array& x) { return tile(pad(x, {0}, {1}, {2}, array(0), "reflect"), {1, 2}); }), {{3, 5, 4}}, {1}},
      {"roll_diff_flip", one([](const array& x) { return flip(diff(roll(x, 2, 1), 1, 0), 1); }), {{5, 3, 4}}, {0}},
      {"tril_diagonal_trace", one([](const array& x) { return add(sum(tril(x, 1)), add(sum(diagonal(x, 1)), trace(x))); }), {{3, 4, 5}}, {2}},
      {"kron_tensordot", two([](const array& x, const array& y) { return add(sum(kron(x, y)), sum(tensordot(x, y, 1))); }), {{5, 2, 3}, {3, 3, 5}}, {0, 2}},
      {"mlx_additions", one([](const array& x) { return add(nan_to_num(trunc(x * 4)), round(x, 1)); }), {{5, 3}}, {0}},
      {"as_strided_windows", one([](const array& x) { return as_strided(x, {2, 2}, {1, 1}, 1); }), {{4, 5}}, {1}},
      {"view_bits", one([](const array& x) { return astype(view(x, int16), float32); }), {{5, 3}}, {0}},
      // others
      {"stop_gradient", one([](const array& x) { return array(stop_gradient(x) * x); }), {{5, 3}}, {0}},
      {"identity", one([](const array& x) { return x; }), {{3, 5}}, {1}},
      {"unbatched_output", one([](const array& x) { return ones({2}); }), {{5, 3}}, {0}},
  };
  // Several outputs with their own out_axes.
  c.push_back({"two_outputs",
               [](const std::vector<array>& x) {
                 return std::vector<array>{sum(x[0], 0), x[0] * 2};
               },
               {{5, 3, 4}}, {0}, {0, 2}});
  // nn layers and losses (compositions of the primitives above): vmap over a batch of their
  // inputs, the layer's parameters shared. Each layer is made once, with a fixed seed.
  random::seed(11);
  auto lstm = std::make_shared<nn::LSTM>(4, 6);
  auto gru = std::make_shared<nn::GRU>(4, 5);
  auto mha = std::make_shared<nn::MultiHeadAttention>(8, 2);
  auto encoder = std::make_shared<nn::TransformerEncoderLayer>(8, 2, 16);
  auto deconv = std::make_shared<nn::ConvTranspose2d>(3, 2, 3, 2);
  auto norm = std::make_shared<nn::LayerNorm>(6);
  auto rope = std::make_shared<nn::RoPE>(4);
  const std::vector<VmapCase> layers = {
      {"nn_lstm", one([lstm](const array& x) { return (*lstm)(x).first; }), {{3, 5, 4}}, {0}, {}, 1e-4},
      {"nn_gru_axis1", one([gru](const array& x) { return (*gru)(x); }), {{5, 3, 4}}, {1}, {}, 1e-4},
      {"nn_multi_head_attention", one([mha](const array& x) { return (*mha)(x, x, x, std::nullopt); }), {{3, 2, 5, 8}}, {0}, {},
       1e-4},
      {"nn_encoder_layer_causal", one([encoder](const array& x) {
         return (*encoder)(x, nn::MultiHeadAttention::create_additive_causal_mask(x.shape(-2)));
       }),
       {{3, 5, 8}}, {0}, {}, 1e-4},
      {"nn_conv_transpose2d", one([deconv](const array& x) { return (*deconv)(x); }), {{3, 2, 4, 4, 3}}, {0}, {}, 1e-4},
      {"nn_upsample_cubic", one([](const array& x) { return nn::Upsample(2.0, nn::UpsampleMode::Cubic)(x); }),
       {{2, 4, 3, 5, 2}}, {1}, {}, 1e-4},
      {"nn_layer_norm_axis2", one([norm](const array& x) { return (*norm)(x); }), {{3, 4, 5, 6}}, {2}, {}, 1e-4},
      {"nn_rope_offset", one([rope](const array& x) { return (*rope)(x, 3); }), {{3, 2, 5, 6}}, {0}, {}, 1e-5},
      {"nn_cross_entropy", two([](const array& logits, const array& p) {
         return nn::losses::cross_entropy(logits, softmax(p, -1), {.reduction = nn::losses::Reduction::Mean});
       }),
       {{4, 3, 5}, {4, 3, 5}}, {0, 0}, {}, 1e-5},
  };
  c.insert(c.end(), layers.begin(), layers.end());
  return c;
}

class VmapTable : public ::testing::TestWithParam<VmapCase> {};

TEST_P(VmapTable, MatchesTheLoopOverSlices) {
  const VmapCase& c = GetParam();
  std::vector<array> inputs;
  for (size_t i = 0; i < c.shapes.size(); ++i) {
    inputs.push_back(random_array(c.shapes[i], 100 + static_cast<unsigned>(i), float32, -1.0, 1.0));
  }
  auto got = vmap(c.f, c.in_axes, c.out_axes)(inputs);
  auto want = by_loop(c.f, inputs, c.in_axes, c.out_axes);
  ASSERT_EQ(got.size(), want.size());
  for (size_t k = 0; k < got.size(); ++k) {
    EXPECT_EQ(got[k].shape(), want[k].shape()) << "output " << k;
    EXPECT_EQ(got[k].dtype(), want[k].dtype()) << "output " << k;
    EXPECT_TRUE(arrays_close(got[k], want[k], c.tol, c.tol)) << "output " << k;
  }
}

INSTANTIATE_TEST_SUITE_P(Vmap, VmapTable, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return info.param.name; });

TEST(Vmap, RandomKeysBatch) {
  array keys = random::split(random::key(3), 4);  // (4, 2)
  auto f = [](const array& k) { return random::uniform({3}, float32, k); };
  array got = vmap(f)(keys);
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(arrays_close(take_slice(got, 0, i), f(take_slice(keys, 0, i)), 0, 0)) << i;
  }
  auto normal = [](const array& k) { return random::normal({2, 2}, float32, k); };
  array n = vmap(normal, 1, 2)(transpose(keys));
  EXPECT_EQ(n.shape(), (Shape{2, 2, 4}));
  EXPECT_TRUE(arrays_close(take_slice(n, 2, 1), normal(take_slice(keys, 0, 1)), 1e-6, 1e-6));
}

TEST(Vmap, Nested) {
  array x = random_array({4, 3, 5}, 7);
  auto f = [](const array& v) { return array(sum(v * v) + v); };
  // Map over axis 0, then over the (per-example) axis 1 of what remains.
  array got = vmap(vmap(f, 1, 0), 0, 0)(x);
  EXPECT_EQ(got.shape(), (Shape{4, 5, 3}));
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 5; ++j) {
      array v = take_slice(take_slice(x, 0, i), 1, j);
      EXPECT_TRUE(arrays_close(take_slice(take_slice(got, 0, i), 0, j), f(v), 1e-5, 1e-5));
    }
  }
}

TEST(Vmap, ComposesWithGradients) {
  array w = random_array({6, 3}, 11);
  auto loss = [](const array& v) { return sum(exp(v) * v); };  // d/dv = exp(v) (1 + v)
  // vmap of grad: per-row gradients.
  array per_row = vmap(grad(loss))(w);
  EXPECT_TRUE(arrays_close(per_row, exp(w) * (w + 1), 1e-5, 1e-5));
  // grad of vmap: the gradient of the summed batched function.
  auto total = [&](const array& v) { return sum(vmap([&](const array& r) { return loss(r); })(v)); };
  EXPECT_TRUE(arrays_close(grad(total)(w), exp(w) * (w + 1), 1e-5, 1e-5));
  // jvp of vmap and vmap of jvp agree.
  array t = random_array({6, 3}, 12);
  auto [o1, jv] = jvp([&](const array& v) { return vmap([](const array& r) { return sin(r) * r; })(v); }, w, t);
  auto row_jvp = [](const std::vector<array>& in) {
    return std::vector<array>{jvp([](const array& r) { return sin(r) * r; }, in[0], in[1]).second};
  };
  array vj = vmap(row_jvp)({w, t})[0];
  EXPECT_TRUE(arrays_close(jv, vj, 1e-5, 1e-5));
  EXPECT_TRUE(arrays_close(jv, (cos(w) * w + sin(w)) * t, 1e-5, 1e-5));
  // A weight shared by every example (in_axes -1) gets the summed gradient through vmap.
  array x = random_array({5, 3}, 13);
  auto batched_loss = [&](const std::vector<array>& in) {
    auto per = vmap([](const std::vector<array>& a) { return std::vector<array>{sum(a[0] * a[1])}; },
                    {0, -1})({in[0], in[1]});
    return sum(per[0]);
  };
  auto g = grad(batched_loss, 1)({x, array({1.0f, 2.0f, 3.0f})});
  EXPECT_TRUE(arrays_close(g[0], sum(x, 0), 1e-5, 1e-5));
}

TEST(Vmap, RejectsBadAxes) {
  array x = zeros({4, 3});
  auto f = [](const std::vector<array>& a) { return std::vector<array>{a[0] + a[1]}; };
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { vmap(f, {0, 0})({x, zeros({5, 3})}); },
                                                 {"[vmap]", "(5,3)", "5", "4"}));
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { vmap(f, {2, 0})({x, x}); },
                                                 {"[vmap]", "in_axes 2", "(4,3)"}));
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { vmap(f, {-1, -1})({x, x}); },
                                                 {"[vmap]", "batched"}));
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { vmap(f, {0})({x, x}); },
                                                 {"[vmap]", "1 in_axes", "2 arrays"}));
  EXPECT_TRUE(throws_with<std::invalid_argument>([&] { vmap(f, {0, 0}, {3})({x, x}); },
                                                 {"[vmap]", "out_axes 3"}));
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [&] { vmap([](const array& k) { return random::bits({2}, 4, k); }, 1)(zeros({3, 2}, uint32)); },
      {"[random.bits]", "(3,)"}));  // the per-example key is not a key
}

}  // namespace
