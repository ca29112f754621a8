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

#include "gemm_tile.glsl"

int geo[21];
int grp, split;

// The parts of an im2col entry: a row r = (n, o...) gives the image's first element and, per
// axis, o * stride - padding_lo; a column = (tap..., c) gives c and, per axis, the tap's
// offset tap * kernel_dilation (flipped when flip).
struct Row { int key, base, p0, p1, p2; };
struct Col { int key, c, t0, t1, t2; };

Row make_row(int r) {
  Row row;
  row.key = r;
  const int n = r / pc.out_elems;
  int o = r - n * pc.out_elems;
  row.base = n * pc.in_elems;
  int p[3];
  for (int d = 2; d >= 0; --d) {
    const int out_d = geo[7 * d + 1];
    p[d] = (o % out_d) * geo[7 * d + 3] - geo[7 * d + 4];
    o /= out_d;
  }
  row.p0 = p[0];
  row.p1 = p[1];
  row.p2 = p[2];
  return row;
}

Col make_col(int col) {
  Col c;
  c.key = col;
  c.c = col % pc.cig;
  int tap = col / pc.cig;
  int t[3];
  for (int d = 2; d >= 0; --d) {
    const int k_d = geo[7 * d + 2];
    int td = tap % k_d;
    tap /= k_d;
    if (pc.flip != 0) td = k_d - 1 - td;
    t[d] = td * geo[7 * d + 5];
  }
  c.t0 = t[0];
  c.t1 = t[1];
  c.t2 = t[2];
  return c;
}

// The input index along axis d of virtual position q (dilated input), or -1 outside.
int axis_index(int d, int q) {
  const int idil = geo[7 * d + 6];
  if (q < 0) return -1;
  if (idil > 1) {
    if (q % idil != 0) return -1;
    q /= idil;
  }
  return q < geo[7 * d] ? q : -1;
}

MM_C im2col(Row row, Col col) {
  const int i0 = axis_index(0, row.p0 + col.t0), i1 = axis_index(1, row.p1 + col.t1);
  const int i2 = axis_index(2, row.p2 + col.t2);
  if ((i0 | i1 | i2) < 0) return MM_C(0);
  const int pos = (i0 * geo[7] + i1) * geo[14] + i2;
  return MM_LOAD(x.d[pc.x_off + (row.base + pos) * pc.C + grp * pc.cig + col.c]);
}

// Per load l, the row (Forward: A's m) or column (WeightGrad: B's n) it last decomposed: a
// thread's load l reads the same one in every K-slice. The other coordinate changes with the
// slice; Forward keeps the column of the last call (all loads of a slice share the k).
Row rows[A_LOADS];
Col cols[B_LOADS];
Col last_col;

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
  for (uint l = 0u; l < A_LOADS; ++l) rows[l].key = -1;
  for (uint l = 0u; l < B_LOADS; ++l) cols[l].key = -1;
  last_col.key = -1;
}

MM_C tile_a(uint l, int m, int k) {
  if (MODE != 0u) return MM_LOAD(second.d[pc.s_off + k * pc.cout + grp * pc.cog + m]);
  if (rows[l].key != m) rows[l] = make_row(m);
  if (last_col.key != k) last_col = make_col(k);
  return im2col(rows[l], last_col);
}

MM_C tile_b(uint l, int k, int n) {
  if (MODE == 0u) return MM_LOAD(second.d[pc.s_off + (grp * pc.cog + n) * pc.cols + k]);
  if (cols[l].key != n) cols[l] = make_col(n);
  return im2col(make_row(k), cols[l]);
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
