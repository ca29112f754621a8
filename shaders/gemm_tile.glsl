// The tiled GEMM engine shared by matmul.glsl and conv.glsl: C = A @ B for problems that
// differ only in where A, B and C live.
//
// The includer defines MM_C (the compute type), includes this file, and defines:
//   void tile_begin(uint z, out int M, out int N, out int k_lo, out int k_hi)
//       sets up problem z (a batch entry, a group, a split of K) and its extents; K runs
//       over [k_lo, k_hi);
//   MM_C tile_a(uint l, int m, int k), MM_C tile_b(uint l, int k, int n)
//       the operands' elements (called in bounds only); l is which of the thread's
//       A_LOADS / B_LOADS loads of a K-slice this is (a thread's load l of every slice reads
//       the same m of A and the same n of B), so a hook can keep per-load state;
//   void tile_store(int m, int n, MM_C v)
//       one element of C (called in bounds only);
// and calls gemm_tile(problems) from its main; workgroups along z stride over the problems.
//
// A workgroup computes a BM x BN tile of C, each thread a TM x TN register block (rows
// ty + i * BM/TM, columns tx + j * BN/TN: consecutive threads read consecutive shared words
// and store consecutive columns). K advances BK at a time through shared memory (padded by
// one column against bank conflicts); the next K-slice is loaded into registers while the
// current one is multiplied. A_KFAST / B_NFAST choose which tile axis consecutive threads
// load, so that reads stay coalesced whichever axis of an operand has unit stride. Tile sizes
// are specialization constants chosen by the host from the device's shared memory.
#ifndef TESSERA_GEMM_TILE_GLSL
#define TESSERA_GEMM_TILE_GLSL

layout(constant_id = 0) const uint BM = 128;
layout(constant_id = 1) const uint BN = 128;
layout(constant_id = 2) const uint BK = 16;
layout(constant_id = 3) const uint TM = 8;
layout(constant_id = 4) const uint TN = 8;
layout(local_size_x_id = 5) in;  // WG = (BM / TM) * (BN / TN)
layout(constant_id = 5) const uint WG = 256;
layout(constant_id = 6) const uint A_KFAST = 1;  // 1: A's k axis is the one with unit stride
layout(constant_id = 7) const uint B_NFAST = 1;  // 1: B's n axis is the one with unit stride

const uint TX = BN / TN;
const uint TY = BM / TM;
const uint A_LOADS = (BM * BK) / WG;
const uint B_LOADS = (BN * BK) / WG;
const uint AS = BM + 1;  // padded row lengths of the shared tiles
const uint BS = BN + 1;

shared MM_C As[BK * AS];  // As[k * AS + m]
shared MM_C Bs[BK * BS];  // Bs[k * BS + n]

void tile_begin(uint z, out int M, out int N, out int k_lo, out int k_hi);
MM_C tile_a(uint l, int m, int k);
MM_C tile_b(uint l, int k, int n);
void tile_store(int m, int n, MM_C v);

void a_coord(uint idx, out uint m, out uint k) {
  if (A_KFAST == 1u) { k = idx % BK; m = idx / BK; } else { m = idx % BM; k = idx / BM; }
}
void b_coord(uint idx, out uint k, out uint n) {
  if (B_NFAST == 1u) { n = idx % BN; k = idx / BN; } else { k = idx % BK; n = idx / BK; }
}

MM_C ra[A_LOADS];  // the next K-slice of A and B, in registers
MM_C rb[B_LOADS];

void load_slice(int m0, int n0, int kb, int M, int N, int k_hi) {
  const uint t = gl_LocalInvocationID.x;
  for (uint l = 0u; l < A_LOADS; ++l) {
    uint m, k;
    a_coord(t + l * WG, m, k);
    const int gm = m0 + int(m), gk = kb + int(k);
    ra[l] = (gm < M && gk < k_hi) ? tile_a(l, gm, gk) : MM_C(0);
  }
  for (uint l = 0u; l < B_LOADS; ++l) {
    uint k, n;
    b_coord(t + l * WG, k, n);
    const int gn = n0 + int(n), gk = kb + int(k);
    rb[l] = (gn < N && gk < k_hi) ? tile_b(l, gk, gn) : MM_C(0);
  }
}

void gemm_tile(uint problems) {
  const uint t = gl_LocalInvocationID.x;
  const uint tx = t % TX, ty = t / TX;
  const int m0 = int(gl_WorkGroupID.y * BM), n0 = int(gl_WorkGroupID.x * BN);
  for (uint z = gl_WorkGroupID.z; z < problems; z += gl_NumWorkGroups.z) {
    int M, N, k_lo, k_hi;
    tile_begin(z, M, N, k_lo, k_hi);
    if (m0 >= M || n0 >= N) continue;  // uniform across the workgroup
    MM_C acc[TM * TN];
    for (uint i = 0u; i < TM * TN; ++i) acc[i] = MM_C(0);
    load_slice(m0, n0, k_lo, M, N, k_hi);
    for (int k0 = k_lo; k0 < k_hi; k0 += int(BK)) {
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
      if (k1 < k_hi) load_slice(m0, n0, k1, M, N, k_hi);  // in flight while this one is multiplied
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
    for (uint i = 0u; i < TM; ++i) {
      const int gm = m0 + int(ty + i * TY);
      if (gm >= M) continue;
      for (uint j = 0u; j < TN; ++j) {
        const int gn = n0 + int(tx + j * TX);
        if (gn < N) tile_store(gm, gn, acc[i * TN + j]);
      }
    }
  }
}

#endif
