// Vulkan kernel of Convolution: the implicit GEMM of shaders/conv.glsl (variants conv.comp
// float32, conv_f16.comp, conv_bf16.comp, conv_f64.comp).
//
// Forward: one GEMM problem per group, rows = output positions, columns = the group's output
// channels. WeightGrad reduces over the N * out rows, which would leave a handful of
// workgroups busy (dw is small): the rows are split into ranges so that about 512 workgroups
// run, each writing a partial dw in the compute type, and a second pass sums the ranges.
// Inputs are read densely (a strided view is copied first); every operand must fit one
// binding window and int32 indexing.
#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "backend/conv_plan.hpp"
#include "backend/vulkan/gpu_array.hpp"
#include "tessera/primitives/conv.hpp"

namespace tessera {

namespace {

struct Push {
  int32_t C, cout, cig, cog;
  int32_t out_elems, in_elems;
  int32_t rows, cols;
  int32_t x_off, s_off, y_off;
  int32_t splits, rows_per_split;
  uint32_t problems;
  int32_t flip;
};

const char* kernel_name(Dtype t) {
  return t == float32 ? "conv" : t == float16 ? "conv_f16" : t == bfloat16 ? "conv_bf16" : "conv_f64";
}

array dense(const Stream& s, const array& x) {
  if (x.flags().row_contiguous) return x;
  array d(x.shape(), x.dtype(), nullptr, {});
  gpu::alloc_output(d);
  gpu::copy_into(x, d, s, "conv");
  return d;
}

void check_int32(const array& a, const gpu::View& v) {
  if (static_cast<int64_t>(a.size()) + v.offset > INT32_MAX) {
    throw std::runtime_error("[conv] an operand of shape " + shape_string(a.shape()) +
                             " has more than 2^31 elements in one GPU binding");
  }
}

}  // namespace

void Convolution::eval_gpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  array& out = outputs[0];
  const Dtype t = out.dtype();
  if (!(t == float32 || t == float64 || t == float16 || t == bfloat16)) {
    throw std::invalid_argument("[conv] unsupported dtype " + to_string(t));
  }
  gpu::require_dtype(t, "conv");
  gpu::alloc_output(out);
  if (out.size() == 0) return;
  const Stream& s = stream();
  auto& vs = gpu::stream(s);
  const auto& caps = gpu::device().caps();
  const array x = dense(s, inputs[0]), second = dense(s, inputs[1]);
  const bool fwd = mode_ == Forward;
  const conv_plan::Plan p = conv_plan::make(x.shape(), fwd ? second.shape() : out.shape(),
                                            fwd ? out.shape() : second.shape(), g_);
  if (p.rows > INT32_MAX || p.cols > INT32_MAX) {
    throw std::runtime_error("[conv] the im2col matrix of " + shape_string(x.shape()) + " has more than 2^31 rows");
  }

  // The GEMM's extents per problem, and the tile as matmul chooses it.
  const int64_t gm = fwd ? p.rows : p.cog, gn = fwd ? p.cog : p.cols;
  const uint32_t elem = t == float64 ? 8 : 4;
  struct Tile {
    uint32_t bm, bn, bk, tm, tn;
  };
  // A GEMM with few output channels (or, for the weight gradient, few rows) gets a 128 x 64
  // (64 x 128) tile rather than half-empty 128 x 128 ones.
  const Tile big{128, 128, 16, 8, 8}, small{64, 64, 16, 4, 4}, tall{128, 64, 16, 8, 4}, wide{64, 128, 16, 4, 8};
  auto tiles = [&](const Tile& x) { return ((gm + x.bm - 1) / x.bm) * ((gn + x.bn - 1) / x.bn) * p.groups; };
  auto shared_bytes = [&](const Tile& x) { return (x.bk * (x.bm + 1) + x.bk * (x.bn + 1)) * elem; };
  Tile tile = small;
  if (t != float64) {
    const Tile& pick = gn <= 64 ? tall : gm <= 64 ? wide : big;
    if (tiles(pick) >= 128 && shared_bytes(pick) <= caps.max_shared_memory) tile = pick;
  }

  int64_t splits = 1, rows_per_split = std::max<int64_t>(p.rows, 1);
  if (!fwd && p.rows > 512) {
    const int64_t want = (512 + tiles(tile) - 1) / tiles(tile);
    splits = std::clamp<int64_t>(want, 1, (p.rows + 255) / 256);
    rows_per_split = (p.rows + splits - 1) / splits;
    rows_per_split = (rows_per_split + tile.bk - 1) / tile.bk * tile.bk;
    splits = (p.rows + rows_per_split - 1) / rows_per_split;
  }
  const int64_t problems = fwd ? p.groups : p.groups * splits;
  if (problems > INT32_MAX || splits * out.size() > INT32_MAX) {
    throw std::runtime_error("[conv] too many partial weight gradients for one GPU binding");
  }

  gpu::View xv = gpu::resident(x), sv = gpu::resident(second), yv = gpu::resident(out);
  check_int32(x, xv);
  check_int32(second, sv);
  check_int32(out, yv);
  const Dtype acc = t == float64 ? float64 : float32;
  array partial = out;
  if (splits > 1) {
    partial = array({static_cast<int>(splits * out.size())}, acc, nullptr, {});
    gpu::alloc_output(partial);
  }
  gpu::View pv = gpu::resident(partial);

  std::vector<int32_t> params(21);
  for (int d = 0; d < 3; ++d) {
    const int32_t v[7] = {p.in[d], p.out[d], p.k[d], p.stride[d], p.lo[d], p.kdil[d], p.idil[d]};
    std::copy(v, v + 7, params.begin() + 7 * d);
  }
  Push push{p.C,
            p.cout,
            p.cig,
            p.cog,
            static_cast<int32_t>(p.out_elems),
            static_cast<int32_t>(p.in_elems),
            static_cast<int32_t>(p.rows),
            static_cast<int32_t>(p.cols),
            static_cast<int32_t>(xv.offset),
            static_cast<int32_t>(sv.offset),
            static_cast<int32_t>(yv.offset),
            static_cast<int32_t>(splits),
            static_cast<int32_t>(rows_per_split),
            static_cast<uint32_t>(problems),
            g_.flip ? 1 : 0};

  const uint32_t wg = (tile.bm / tile.tm) * (tile.bn / tile.tn);
  // Forward: A (im2col) is contiguous along k, B (the weight) along k too; WeightGrad: A (dy)
  // along m (the output channel), B (im2col) along n.
  const uint32_t a_kfast = fwd ? 1 : 0, b_nfast = fwd ? 0 : 1;
  const uint32_t spec[] = {tile.bm, tile.bn, tile.bk, tile.tm, tile.tn, wg, a_kfast, b_nfast, fwd ? 0u : 1u};
  auto& kernel = gpu::device().kernel(kernel_name(t), 4, spec);
  const uint64_t gx = (gn + tile.bn - 1) / tile.bn, gy = (gm + tile.bm - 1) / tile.bm;
  if (gx > caps.max_workgroup_count[0] || gy > caps.max_workgroup_count[1]) {
    throw std::runtime_error("[conv] the convolution of " + shape_string(x.shape()) +
                             " is too large for one dispatch on the GPU");
  }
  const uint32_t gz = static_cast<uint32_t>(std::min<uint64_t>(problems, caps.max_workgroup_count[2]));
  const auto params_bytes = std::as_bytes(std::span(params));
  {
    const vulkan::Binding bind[] = {xv.bind(false), sv.bind(false), yv.bind(true), pv.bind(true)};
    vs.dispatch(kernel, bind, &push, sizeof(push), params_bytes, static_cast<uint32_t>(gx),
                static_cast<uint32_t>(gy), gz);
  }
  if (splits == 1) return;
  // The sum of the partial gradients.
  push.rows = static_cast<int32_t>(out.size());
  const uint32_t sum_spec[] = {small.bm, small.bn, small.bk, small.tm, small.tn, gpu::kGroupSize, 1, 1, 2};
  auto& sum = gpu::device().kernel(kernel_name(t), 4, sum_spec);
  uint32_t sx, sy;
  gpu::grid_for(out.size(), gpu::kGroupSize, sx, sy);
  const vulkan::Binding bind[] = {xv.bind(false), sv.bind(false), yv.bind(true), pv.bind(false)};
  vs.dispatch(sum, bind, &push, sizeof(push), params_bytes, sx, sy, 1);
}

}  // namespace tessera
