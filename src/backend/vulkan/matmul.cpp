// Vulkan kernel of Matmul: the tiled shared-memory GEMM of shaders/matmul.glsl (variants
// matmul.comp float32, matmul_f16.comp, matmul_bf16.comp, matmul_f64.comp).
//
// The primitive receives A (batch..., M, K) and B (batch..., K, N) whose batch axes already
// have the output's batch shape (broadcast batches have stride 0). Both are read in place
// through their strides (transposed, sliced and broadcast views included): the batch
// geometry travels in the params blob, the matrix strides in push constants. The output is
// dense (batch, M, N).
#include <algorithm>
#include <array>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "backend/vulkan/gpu_array.hpp"
#include "tessera/primitives/matmul.hpp"

namespace tessera {

namespace {

struct Tile {
  uint32_t bm, bn, bk, tm, tn;
};

// 128x128 tiles (8x8 per thread) for large float32/16-bit products; 64x64 (4x4 per thread)
// for small ones (more workgroups) and for float64 (half the shared memory per element).
Tile choose_tile(Dtype t, uint64_t m, uint64_t n, uint64_t nb) {
  const auto& caps = gpu::device().caps();
  const Tile big{128, 128, 16, 8, 8}, small{64, 64, 16, 4, 4};
  const uint32_t elem = t == float64 ? 8 : 4;
  auto shared_bytes = [&](const Tile& x) { return (x.bk * (x.bm + 1) + x.bk * (x.bn + 1)) * elem; };
  const uint64_t big_tiles = ((m + 127) / 128) * ((n + 127) / 128) * nb;
  if (t != float64 && big_tiles >= 128 && shared_bytes(big) <= caps.max_shared_memory) return big;
  return small;
}

bool fits_int(int64_t v) { return v >= INT32_MIN && v <= INT32_MAX; }

// One dispatch can take the product: every operand within one binding window, and int32
// indexing of the output.
bool fits(const array& a, const array& b, const array& out) {
  return gpu::fits_one_binding(a) && gpu::fits_one_binding(b) && gpu::fits_one_binding(out) &&
         out.size() <= INT32_MAX;
}

}  // namespace

namespace {

void matmul_into(const Stream& s, const array& a, const array& b, const array& out);

// A sparse view (a column of a wide matrix, say) may span more than one binding although its
// elements would fit: a dense copy of it does.
bool compactable(const array& x) { return x.nbytes() <= gpu::device().caps().max_storage_buffer_range / 2; }
array compact(const Stream& s, const array& x) {
  if (gpu::fits_one_binding(x) || !compactable(x)) return x;
  array dense(x.shape(), x.dtype(), nullptr, {});
  gpu::alloc_output(dense);
  gpu::copy_into(x, dense, s, "matmul");
  return dense;
}

// A product whose operands or output one binding window cannot reach: split along the
// output's first axis of extent > 1 (a batch axis: both operands' slabs; M: A's rows; N, once
// M is 1: B's columns), as many at a time as fit; recursive where one is still too large. An
// operand too large along K alone cannot be split this way and is refused by resident().
void matmul_in_slabs(const Stream& s, const array& a, const array& b, const array& out) {
  const int nd = out.ndim();
  const int axis = gpu::split_axis(out);
  const int64_t extent = out.shape(axis);
  auto slabs = [&](int64_t start, int64_t count) {
    const bool in_a = axis != nd - 1, in_b = axis != nd - 2;
    return std::array<array, 3>{in_a ? gpu::slab(a, axis, start, count) : a,
                                in_b ? gpu::slab(b, axis, start, count) : b,
                                gpu::slab(out, axis, start, count)};
  };
  int64_t rows = extent;
  while (rows > 1) {
    auto v = slabs(0, rows);
    auto usable = [](const array& x) { return gpu::fits_one_binding(x) || compactable(x); };
    if (usable(v[0]) && usable(v[1]) && gpu::fits_one_binding(v[2]) && v[2].size() <= INT32_MAX) break;
    rows = (rows + 1) / 2;
  }
  for (int64_t start = 0; start < extent; start += rows) {
    auto v = slabs(start, std::min(rows, extent - start));
    matmul_into(s, v[0], v[1], v[2]);
  }
}

// out (dense, already allocated) = a @ b.
void matmul_into(const Stream& s, const array& a_in, const array& b_in, const array& out) {
  const array a = compact(s, a_in), b = compact(s, b_in);
  if (!fits(a, b, out) && gpu::split_axis(out) >= 0) return matmul_in_slabs(s, a, b, out);
  const Dtype t = out.dtype();
  auto& vs = gpu::stream(s);
  const int nd = out.ndim();
  const int64_t m = out.shape()[nd - 2], n = out.shape()[nd - 1], k = a.shape()[nd - 1];
  const int64_t nb = static_cast<int64_t>(out.size()) / (m * n);
  gpu::View av = gpu::resident(a);
  gpu::View bv = gpu::resident(b);
  gpu::View ov = gpu::resident(out);
  // The kernel indexes with int32 from each window's start.
  if (!fits_int(static_cast<int64_t>(out.size()) + ov.offset) ||
      !fits_int(static_cast<int64_t>(a.data_size()) + av.offset) ||
      !fits_int(static_cast<int64_t>(b.data_size()) + bv.offset)) {
    throw std::runtime_error("[matmul] operands of more than 2^31 elements in one GPU binding");
  }

  const int nbd = nd - 2;
  std::vector<int32_t> params(std::max(3 * nbd, 1), 0);
  for (int d = 0; d < nbd; ++d) {
    params[d] = out.shape()[d];
    params[nbd + d] = a.shape()[d] == 1 ? 0 : static_cast<int32_t>(a.strides()[d]);
    params[2 * nbd + d] = b.shape()[d] == 1 ? 0 : static_cast<int32_t>(b.strides()[d]);
  }
  struct {
    int32_t M, N, K, a_off, b_off, a_rs, a_cs, b_rs, b_cs;
    uint32_t nb, nbd;
    int32_t c_off;
  } push{static_cast<int32_t>(m), static_cast<int32_t>(n), static_cast<int32_t>(k),
         static_cast<int32_t>(av.offset), static_cast<int32_t>(bv.offset),
         static_cast<int32_t>(a.strides()[nd - 2]), static_cast<int32_t>(a.strides()[nd - 1]),
         static_cast<int32_t>(b.strides()[nd - 2]), static_cast<int32_t>(b.strides()[nd - 1]),
         static_cast<uint32_t>(nb), static_cast<uint32_t>(nbd), static_cast<int32_t>(ov.offset)};

  const Tile tile = choose_tile(t, m, n, nb);
  const uint32_t wg = (tile.bm / tile.tm) * (tile.bn / tile.tn);
  // Which tile axis consecutive threads load: the one with unit stride (coalesced reads).
  const uint32_t a_kfast = (push.a_rs == 1 && push.a_cs != 1 && m > 1) ? 0 : 1;
  const uint32_t b_nfast = (push.b_rs == 1 && push.b_cs != 1 && k > 1 && n > 1) ? 0 : 1;
  const uint32_t spec[] = {tile.bm, tile.bn, tile.bk, tile.tm, tile.tn, wg, a_kfast, b_nfast};
  const char* name = t == float32 ? "matmul" : t == float16 ? "matmul_f16"
                     : t == bfloat16 ? "matmul_bf16" : "matmul_f64";
  auto& kernel = gpu::device().kernel(name, 3, spec);
  const auto& caps = gpu::device().caps();
  const uint64_t gx = (n + tile.bn - 1) / tile.bn, gy = (m + tile.bm - 1) / tile.bm;
  if (gx > caps.max_workgroup_count[0] || gy > caps.max_workgroup_count[1]) {
    throw std::runtime_error("[matmul] product too large for one dispatch on the GPU");
  }
  const uint32_t gz = static_cast<uint32_t>(std::min<uint64_t>(nb, caps.max_workgroup_count[2]));
  const vulkan::Binding bind[] = {av.bind(false), bv.bind(false), ov.bind(true)};
  vs.dispatch(kernel, bind, &push, sizeof(push), std::as_bytes(std::span(params)),
              static_cast<uint32_t>(gx), static_cast<uint32_t>(gy), gz);
}

}  // namespace

void Matmul::eval_gpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  const Dtype t = outputs[0].dtype();
  if (!(t == float32 || t == float64 || t == float16 || t == bfloat16)) {
    throw std::invalid_argument("[matmul] unsupported dtype " + to_string(t));
  }
  gpu::require_dtype(t, "matmul");
  gpu::alloc_output(outputs[0]);
  if (outputs[0].size() == 0) return;
  matmul_into(stream(), inputs[0], inputs[1], outputs[0]);
}

}  // namespace tessera
