// Matmul (backend/vulkan/matmul.cpp; CPU twin backend/cpu/matmul.cpp): C[b] = A[b] @ B[b] for
// strided A (batch..., M, K) and B (batch..., K, N) into a dense C (batch, M, N).
//
// The variants (matmul.comp: float32, matmul_f16.comp, matmul_bf16.comp, matmul_f64.comp)
// define MM_T (storage type), MM_C (compute type), MM_LOAD(x) and MM_STORE(v), then include
// this body. 16-bit floats are loaded from 16-bit storage and accumulate in float32.
//
// A workgroup computes a BM x BN tile of C, each thread a TM x TN register block (rows
// ty + i * BM/TM, columns tx + j * BN/TN: consecutive threads read consecutive shared words
// and store consecutive columns). K advances BK at a time through shared memory (padded by
// one column against bank conflicts); the next K-slice is loaded into registers while the
// current one is multiplied. Operands are read through their strides (transposed operands
// need no copy); A_KFAST / B_NFAST choose which tile axis consecutive threads load, so that
// reads stay coalesced for both row-major and transposed operands. Tile sizes are
// specialization constants chosen by the host from the device's shared memory.
#ifndef TESSERA_MATMUL_GLSL
#define TESSERA_MATMUL_GLSL

layout(constant_id = 0) const uint BM = 128;
layout(constant_id = 1) const uint BN = 128;
layout(constant_id = 2) const uint BK = 16;
layout(constant_id = 3) const uint TM = 8;
layout(constant_id = 4) const uint TN = 8;
layout(local_size_x_id = 5) in;  // WG = (BM / TM) * (BN / TN)
layout(constant_id = 5) const uint WG = 256;
layout(constant_id = 6) const uint A_KFAST = 1;  // 1: A's k axis is the one with unit stride
layout(constant_id = 7) const uint B_NFAST = 1;  // 1: B's n axis is the one with unit stride

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

const uint TX = BN / TN;
const uint TY = BM / TM;
const uint A_LOADS = (BM * BK) / WG;
const uint B_LOADS = (BN * BK) / WG;
const uint AS = BM + 1;  // padded row lengths of the shared tiles
const uint BS = BN + 1;

shared MM_C As[BK * AS];  // As[k * AS + m]
shared MM_C Bs[BK * BS];  // Bs[k * BS + n]

void a_coord(uint idx, out uint m, out uint k) {
  if (A_KFAST == 1u) { k = idx % BK; m = idx / BK; } else { m = idx % BM; k = idx / BM; }
}
void b_coord(uint idx, out uint k, out uint n) {
  if (B_NFAST == 1u) { n = idx % BN; k = idx / BN; } else { k = idx % BK; n = idx / BK; }
}

void main() {
  const uint t = gl_LocalInvocationID.x;
  const uint tx = t % TX, ty = t / TX;
  const int m0 = int(gl_WorkGroupID.y * BM), n0 = int(gl_WorkGroupID.x * BN);
  for (uint batch = gl_WorkGroupID.z; batch < pc.nb; batch += gl_NumWorkGroups.z) {
    int ao = pc.a_off, bo = pc.b_off;
    uint rem = batch;
    for (int d = int(pc.nbd) - 1; d >= 0; --d) {
      const uint sz = uint(params.p[d]);
      const int i = int(rem % sz);
      rem /= sz;
      ao += i * params.p[int(pc.nbd) + d];
      bo += i * params.p[2 * int(pc.nbd) + d];
    }
    MM_C acc[TM * TN];
    for (uint i = 0u; i < TM * TN; ++i) acc[i] = MM_C(0);
    MM_C ra[A_LOADS];
    MM_C rb[B_LOADS];
    // K-slice 0 into registers.
    for (uint l = 0u; l < A_LOADS; ++l) {
      uint m, k;
      a_coord(t + l * WG, m, k);
      const int gm = m0 + int(m), gk = int(k);
      ra[l] = (gm < pc.M && gk < pc.K) ? MM_LOAD(a.d[ao + gm * pc.a_rs + gk * pc.a_cs]) : MM_C(0);
    }
    for (uint l = 0u; l < B_LOADS; ++l) {
      uint k, n;
      b_coord(t + l * WG, k, n);
      const int gn = n0 + int(n), gk = int(k);
      rb[l] = (gn < pc.N && gk < pc.K) ? MM_LOAD(b.d[bo + gk * pc.b_rs + gn * pc.b_cs]) : MM_C(0);
    }
    for (int k0 = 0; k0 < pc.K; k0 += int(BK)) {
      for (uint l = 0u; l < A_LOADS; ++l) {
        uint m, k;
        a_coord(t + l * WG, m, k);
        As[k * AS + m] = ra[l];
      }
      for (uint l = 0u; l < B_LOADS; ++l) {
        uint k, n;
        b_coord(t + l * WG, k, n);
        Bs[k * BS + n] = rb[l];
      }
      barrier();
      const int k1 = k0 + int(BK);
      if (k1 < pc.K) {  // the next K-slice, in flight while this one is multiplied
        for (uint l = 0u; l < A_LOADS; ++l) {
          uint m, k;
          a_coord(t + l * WG, m, k);
          const int gm = m0 + int(m), gk = k1 + int(k);
          ra[l] = (gm < pc.M && gk < pc.K) ? MM_LOAD(a.d[ao + gm * pc.a_rs + gk * pc.a_cs]) : MM_C(0);
        }
        for (uint l = 0u; l < B_LOADS; ++l) {
          uint k, n;
          b_coord(t + l * WG, k, n);
          const int gn = n0 + int(n), gk = k1 + int(k);
          rb[l] = (gn < pc.N && gk < pc.K) ? MM_LOAD(b.d[bo + gk * pc.b_rs + gn * pc.b_cs]) : MM_C(0);
        }
      }
      for (uint k = 0u; k < BK; ++k) {
        MM_C av[TM];
        MM_C bv[TN];
        for (uint i = 0u; i < TM; ++i) av[i] = As[k * AS + ty + i * TY];
        for (uint j = 0u; j < TN; ++j) bv[j] = Bs[k * BS + tx + j * TX];
        for (uint i = 0u; i < TM; ++i) {
          for (uint j = 0u; j < TN; ++j) acc[i * TN + j] = fma(av[i], bv[j], acc[i * TN + j]);
        }
      }
      barrier();
    }
    const int cb = pc.c_off + int(batch) * pc.M * pc.N;
    for (uint i = 0u; i < TM; ++i) {
      const int gm = m0 + int(ty + i * TY);
      if (gm >= pc.M) continue;
      for (uint j = 0u; j < TN; ++j) {
        const int gn = n0 + int(tx + j * TX);
        if (gn < pc.N) c.d[cb + gm * pc.N + gn] = MM_STORE(acc[i * TN + j]);
      }
    }
  }
}

#endif
