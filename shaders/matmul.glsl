// Matmul (backend/vulkan/matmul.cpp; CPU twin backend/cpu/matmul.cpp): C[b] = A[b] @ B[b] for
// strided A (batch..., M, K) and B (batch..., K, N) into a dense C (batch, M, N), on the tiled
// GEMM engine of gemm_tile.glsl (one problem per batch entry).
//
// The variants (matmul.comp: float32, matmul_f16.comp, matmul_bf16.comp, matmul_f64.comp)
// define MM_T (storage type), MM_C (compute type), MM_LOAD(x) and MM_STORE(v), then include
// this body. 16-bit floats are loaded from 16-bit storage and accumulate in float32. Operands
// are read through their strides (transposed operands need no copy).
#ifndef TESSERA_MATMUL_GLSL
#define TESSERA_MATMUL_GLSL

layout(std430, set = 0, binding = 0) readonly buffer A { MM_T d[]; } a;
layout(std430, set = 0, binding = 1) readonly buffer B { MM_T d[]; } b;
layout(std430, set = 0, binding = 2) writeonly buffer C { MM_T d[]; } c;
// Batch geometry: shape[nbd], A's batch strides[nbd], B's batch strides[nbd].
layout(std430, set = 0, binding = 3) readonly buffer Params { int p[]; } params;

layout(push_constant) uniform Push {
  int M, N, K;
  int a_off, b_off;  // elements
  int a_rs, a_cs, b_rs, b_cs;
  uint nb, nbd;
  int c_off;  // elements: where C starts in its binding window
} pc;

#include "gemm_tile.glsl"

int ao, bo, co;  // this batch entry's offsets

void tile_begin(uint batch, out int M, out int N, out int k_lo, out int k_hi) {
  ao = pc.a_off;
  bo = pc.b_off;
  uint rem = batch;
  for (int d = int(pc.nbd) - 1; d >= 0; --d) {
    const uint sz = uint(params.p[d]);
    const int i = int(rem % sz);
    rem /= sz;
    ao += i * params.p[int(pc.nbd) + d];
    bo += i * params.p[2 * int(pc.nbd) + d];
  }
  co = pc.c_off + int(batch) * pc.M * pc.N;
  M = pc.M;
  N = pc.N;
  k_lo = 0;
  k_hi = pc.K;
}
MM_C tile_a(uint l, int m, int k) { return MM_LOAD(a.d[ao + m * pc.a_rs + k * pc.a_cs]); }
MM_C tile_b(uint l, int k, int n) { return MM_LOAD(b.d[bo + k * pc.b_rs + n * pc.b_cs]); }
void tile_store(int m, int n, MM_C v) { c.d[co + m * pc.N + n] = MM_STORE(v); }

void main() { gemm_tile(pc.nb); }

#endif
