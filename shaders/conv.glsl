// Convolution (backend/vulkan/conv.cpp; CPU twin backend/cpu/conv.cpp; geometry in
// primitives/conv.hpp) as an implicit GEMM on the engine of gemm_tile.glsl: the im2col
// matrix (rows: output positions n, o...; columns: a group's kernel window tap..., c) is never
// stored, tile_a / tile_b compute the input element each entry reads.
//
// MODE (specialization constant 8):
//  0  Forward: y[m, g*cog + n] = sum_k im2col_g[m, k] * w[g*cog + n, k], one problem per group.
//  1  WeightGrad: dw[g*cog + m, n] = sum_r dy[r, g*cog + m] * im2col_g[r, n]; the N * out rows
//     are split into `splits` ranges (one problem per group and range) whose partial sums go
//     to `partial` in the compute type (straight to dw when there is one range).
//  2  The sum over the ranges of `partial` into dw (a 1-D pass over pc.rows elements).
// The variants (conv.comp float32, conv_f16, conv_bf16, conv_f64) define MM_T, MM_C,
// MM_LOAD and MM_STORE as the matmul variants do.
#ifndef TESSERA_CONV_GLSL
#define TESSERA_CONV_GLSL

layout(constant_id = 8) const uint MODE = 0;

layout(std430, set = 0, binding = 0) readonly buffer X { MM_T d[]; } x;
layout(std430, set = 0, binding = 1) readonly buffer Second { MM_T d[]; } second;  // w, or dy
layout(std430, set = 0, binding = 2) writeonly buffer Y { MM_T d[]; } y;           // y, or dw
layout(std430, set = 0, binding = 3) buffer Partial { MM_C d[]; } partial;
// Per spatial axis d (padded to 3 axes of extent 1): in, out, kernel, stride, padding_lo,
// kernel_dilation, input_dilation at [7 * d ...].
layout(std430, set = 0, binding = 4) readonly buffer Params { int p[]; } params;

layout(push_constant) uniform Push {
  int C, cout, cig, cog;
  int out_elems, in_elems;  // spatial products
  int rows, cols;           // of the im2col matrix (mode 2: rows = elements of dw)
  int x_off, s_off, y_off;  // elements from the bindings' window starts
  int splits, rows_per_split;
  uint problems;
  int flip;
} pc;

int geo[21];
int grp, split;

MM_C im2col(int r, int col) {
  const int ci = col % pc.cig;
  int tap = col / pc.cig;
  const int n = r / pc.out_elems;
  int o = r - n * pc.out_elems;
  int pos = 0, inner = 1;
  for (int d = 2; d >= 0; --d) {
    const int in_d = geo[7 * d], out_d = geo[7 * d + 1], k_d = geo[7 * d + 2];
    const int od = o % out_d;
    o /= out_d;
    int td = tap % k_d;
    tap /= k_d;
    if (pc.flip != 0) td = k_d - 1 - td;
    int q = od * geo[7 * d + 3] - geo[7 * d + 4] + td * geo[7 * d + 5];
    const int idil = geo[7 * d + 6];
    if (q < 0) return MM_C(0);
    if (idil > 1) {
      if (q % idil != 0) return MM_C(0);
      q /= idil;
    }
    if (q >= in_d) return MM_C(0);
    pos += q * inner;
    inner *= in_d;
  }
  return MM_LOAD(x.d[pc.x_off + (n * pc.in_elems + pos) * pc.C + grp * pc.cig + ci]);
}

void tile_begin(uint z, out int M, out int N, out int k_lo, out int k_hi) {
  if (MODE == 0u) {
    grp = int(z);
    M = pc.rows;
    N = pc.cog;
    k_lo = 0;
    k_hi = pc.cols;
  } else {
    grp = int(z) / pc.splits;
    split = int(z) % pc.splits;
    M = pc.cog;
    N = pc.cols;
    k_lo = split * pc.rows_per_split;
    k_hi = min(pc.rows, k_lo + pc.rows_per_split);
  }
}

MM_C tile_a(int m, int k) {
  if (MODE == 0u) return im2col(m, k);
  return MM_LOAD(second.d[pc.s_off + k * pc.cout + grp * pc.cog + m]);
}

MM_C tile_b(int k, int n) {
  if (MODE == 0u) return MM_LOAD(second.d[pc.s_off + (grp * pc.cog + n) * pc.cols + k]);
  return im2col(k, n);
}

void tile_store(int m, int n, MM_C v) {
  if (MODE == 0u) {
    y.d[pc.y_off + m * pc.cout + grp * pc.cog + n] = MM_STORE(v);
  } else if (pc.splits == 1) {
    y.d[pc.y_off + (grp * pc.cog + m) * pc.cols + n] = MM_STORE(v);
  } else {
    partial.d[(split * pc.cout + grp * pc.cog + m) * pc.cols + n] = v;
  }
}

#include "gemm_tile.glsl"

void main() {
  if (MODE == 2u) {
    const uint i = gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * WG;
    if (i >= uint(pc.rows)) return;
    MM_C s = MM_C(0);
    for (int k = 0; k < pc.splits; ++k) s += partial.d[k * pc.rows + int(i)];
    y.d[pc.y_off + int(i)] = MM_STORE(s);
    return;
  }
  for (int i = 0; i < 21; ++i) geo[i] = params.p[i];
  gemm_tile(pc.problems);
}

#endif
