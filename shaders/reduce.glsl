// Reductions (Reduce and ArgReduce, backend/vulkan/reduce.cpp; CPU twins in
// backend/cpu/reduce.cpp). One body per layout; the dtype- and op-specific parts are macros
// that reduce.cpp defines before including this file (kernels are generated per
// (op, input dtype, output dtype, layout) and cached):
//
//   IN_T        storage type of the input            OUT_T     storage type of the output
//   ACC_T       accumulator type                     INIT      the op's identity (ACC_T)
//   LOAD(x)     an input element as an ACC_T operand APPLY(a,b) the op on two ACC_Ts
//   STORE(a)    an ACC_T as the output's storage type
//   IN_VEC_T, LOAD_VEC(acc, v)   (optional) 4-wide loads: the input is read as IN_VEC_T
//   SG_REDUCE(a)  (optional) the op over the subgroup (GL_KHR_shader_subgroup_arithmetic)
//
// Layouts:
//   TS_ROW  rows of n contiguous elements at in_off + row * row_stride. 2^tpr_shift threads per
//           row (a workgroup covers 256 >> tpr_shift rows); each row may be split into `parts`
//           of part_len elements, each writing one partial result (out[row * parts + part]),
//           which a second dispatch reduces.
//   TS_COL  [K1, R, K2] with K2 contiguous: out[part][k1][k2] = op over the part's r of
//           in[k1 * os + r * rs + k2]. A workgroup is 2^cx_shift columns x (256 >> cx_shift)
//           row lanes, combined in shared memory.
//   TS_ARG  ArgReduce over [outer, n, inner]: VAL_T / LOADV(x) / IS_MAX / IS_FP, and
//           TS_ARG_PARTIAL / TS_ARG_COMBINE for inputs reduced in parts (see below);
//           with inner == 1 threads cooperate on a row, otherwise one thread per output.
#ifndef TESSERA_REDUCE_GLSL
#define TESSERA_REDUCE_GLSL

#define WG 256u
layout(local_size_x = 256) in;

#ifdef IN_VEC_T
layout(std430, set = 0, binding = 0) readonly buffer In { IN_VEC_T d[]; } src;
#else
layout(std430, set = 0, binding = 0) readonly buffer In { IN_T d[]; } src;
#endif
#ifdef TS_ARG
layout(std430, set = 0, binding = 1) writeonly buffer Out { uint d[]; } dst;
#else
layout(std430, set = 0, binding = 1) writeonly buffer Out { OUT_T d[]; } dst;
#endif

uint group_index() { return gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x; }

#if defined(TS_ROW)
layout(push_constant) uniform Push {
  uint tasks;       // rows * parts
  uint n;           // row length (elements; for IN_VEC_T a multiple of 4)
  uint row_stride;  // elements
  uint in_off;      // elements (for IN_VEC_T a multiple of 4)
  uint out_off;
  uint tpr_shift;   // log2(threads per row)
  uint parts;
  uint part_len;    // elements per part (for IN_VEC_T a multiple of 4)
} pc;

shared ACC_T sh[WG];
#ifdef SG_REDUCE
shared ACC_T sg_sh[WG];
#endif

void main() {
  const uint t = gl_LocalInvocationID.x;
  const uint tpr = 1u << pc.tpr_shift;
  const uint lane = t & (tpr - 1u);
  const uint task = group_index() * (WG >> pc.tpr_shift) + (t >> pc.tpr_shift);
  const bool live = task < pc.tasks;
  ACC_T acc = INIT;
  if (live) {
    const uint row = task / pc.parts, part = task - row * pc.parts;
    const uint begin = part * pc.part_len;
    const uint end = min(pc.n, begin + pc.part_len);
    const uint base = pc.in_off + row * pc.row_stride;
#ifdef IN_VEC_T
    // 4-wide loads, two independent accumulators to keep more loads in flight.
    const uint vb = (base + begin) >> 2u, ve = (base + end) >> 2u;
    ACC_T acc2 = INIT;
    uint i = vb + lane;
    for (; i + tpr < ve; i += 2u * tpr) {
      IN_VEC_T v0 = src.d[i];
      IN_VEC_T v1 = src.d[i + tpr];
      acc = LOAD_VEC(acc, v0);
      acc2 = LOAD_VEC(acc2, v1);
    }
    if (i < ve) acc = LOAD_VEC(acc, src.d[i]);
    acc = APPLY(acc, acc2);
#else
    for (uint i = begin + lane; i < end; i += tpr) acc = APPLY(acc, LOAD(src.d[base + i]));
#endif
  }
#ifdef SG_REDUCE
  if (tpr == WG) {
    // The whole workgroup reduces one row: subgroups first, then their partial results.
    acc = SG_REDUCE(acc);
    if (subgroupElect()) sg_sh[gl_SubgroupID] = acc;
    barrier();
    if (t == 0u) {
      ACC_T r = sg_sh[0];
      for (uint s = 1u; s < gl_NumSubgroups; ++s) r = APPLY(r, sg_sh[s]);
      if (live) dst.d[pc.out_off + task] = STORE(r);
    }
    return;
  }
#endif
  sh[t] = acc;
  barrier();
  for (uint s = tpr >> 1u; s > 0u; s >>= 1u) {
    if (lane < s) sh[t] = APPLY(sh[t], sh[t + s]);
    barrier();
  }
  if (live && lane == 0u) dst.d[pc.out_off + task] = STORE(sh[t]);
}

#elif defined(TS_COL)
layout(push_constant) uniform Push {
  uint K1, R, K2;
  uint rs, os;      // element strides of the r and k1 axes
  uint in_off, out_off;
  uint cx_shift;    // log2(columns per workgroup)
  uint parts, part_len;
  uint tiles;       // ceil(K2 / columns per workgroup)
} pc;

shared ACC_T sh[WG];

void main() {
  const uint t = gl_LocalInvocationID.x;
  const uint cx = 1u << pc.cx_shift;
  const uint cy = WG >> pc.cx_shift;
  const uint tx = t & (cx - 1u), ty = t >> pc.cx_shift;
  const uint g = group_index();
  const uint tile = g % pc.tiles, rest = g / pc.tiles;
  const uint k1 = rest % pc.K1, part = rest / pc.K1;
  const uint k2 = tile * cx + tx;
  const bool live = k2 < pc.K2 && part < pc.parts;
  ACC_T acc = INIT;
  if (live) {
    const uint begin = part * pc.part_len;
    const uint end = min(pc.R, begin + pc.part_len);
    uint idx = pc.in_off + k1 * pc.os + (begin + ty) * pc.rs + k2;
    const uint step = cy * pc.rs;
    for (uint r = begin + ty; r < end; r += cy, idx += step) acc = APPLY(acc, LOAD(src.d[idx]));
  }
  if (cy > 1u) {
    sh[t] = acc;
    barrier();
    for (uint s = cy >> 1u; s > 0u; s >>= 1u) {
      if (ty < s) sh[t] = APPLY(sh[t], sh[t + (s << pc.cx_shift)]);
      barrier();
    }
    acc = sh[t];
  }
  if (live && ty == 0u) dst.d[pc.out_off + (part * pc.K1 + k1) * pc.K2 + k2] = STORE(acc);
}

#elif defined(TS_ARG)
// ArgReduce over [outer, n, inner] with rows `row_stride` elements apart. Inputs past one
// binding's reach are reduced in parts along n: TS_ARG_PARTIAL also writes each part's winning
// value (binding 2), its index counted from `index_base`; TS_ARG_COMBINE then reduces those
// [outer, parts, inner] values, reading each candidate's index from binding 2.
layout(push_constant) uniform Push {
  uint outer, n, inner;
  uint in_off;
  uint tpr_shift;  // inner == 1: log2(threads per row)
  uint out_off;
  uint row_stride;
  uint index_base;
} pc;
#if defined(TS_ARG_PARTIAL)
layout(std430, set = 0, binding = 2) writeonly buffer Vals { IN_T d[]; } vals;
#elif defined(TS_ARG_COMBINE)
layout(std430, set = 0, binding = 2) readonly buffer Idx { uint d[]; } idxs;
#endif

const uint NONE = 0xffffffffu;

// Whether candidate (vb, ib) beats (va, ia): the extreme wins, NaN counts as the extreme, ties
// go to the lower index (the first occurrence).
bool beats(VAL_T vb, uint ib, VAL_T va, uint ia) {
  if (ib == NONE) return false;
  if (ia == NONE) return true;
#if IS_FP
  const bool na = isnan(va), nb = isnan(vb);
  if (na || nb) return (na && nb) ? ib < ia : nb;
#endif
#if IS_MAX
  if (vb != va) return vb > va;
#else
  if (vb != va) return vb < va;
#endif
  return ib < ia;
}

// The index that element `pos` of the input (the j-th along n) competes with.
uint candidate_index(uint pos, uint j) {
#ifdef TS_ARG_COMBINE
  return idxs.d[pos];
#else
  return pc.index_base + j;
#endif
}

// Writes the winner of output o: its index (and, for a partial, its value, read at `pos`).
void write_winner(uint o, uint bi, uint pos) {
  dst.d[pc.out_off + o] = bi == NONE ? 0u : bi;
#ifdef TS_ARG_PARTIAL
  if (bi != NONE) vals.d[pc.out_off + o] = src.d[pos];
#endif
}

shared VAL_T shv[WG];
shared uint shi[WG];
shared uint shp[WG];

void main() {
  const uint t = gl_LocalInvocationID.x;
  if (pc.inner == 1u) {
    const uint tpr = 1u << pc.tpr_shift;
    const uint lane = t & (tpr - 1u);
    const uint row = group_index() * (WG >> pc.tpr_shift) + (t >> pc.tpr_shift);
    const bool live = row < pc.outer;
    VAL_T best = VAL_T(0);
    uint bi = NONE, bp = 0u;
    if (live) {
      const uint base = pc.in_off + row * pc.row_stride;
      for (uint j = lane; j < pc.n; j += tpr) {
        VAL_T v = LOADV(src.d[base + j]);
        uint ci = candidate_index(base + j, j);
        if (beats(v, ci, best, bi)) { best = v; bi = ci; bp = base + j; }
      }
    }
    shv[t] = best;
    shi[t] = bi;
    shp[t] = bp;
    barrier();
    for (uint s = tpr >> 1u; s > 0u; s >>= 1u) {
      if (lane < s && beats(shv[t + s], shi[t + s], shv[t], shi[t])) {
        shv[t] = shv[t + s];
        shi[t] = shi[t + s];
        shp[t] = shp[t + s];
      }
      barrier();
    }
    if (live && lane == 0u) write_winner(row, shi[t], shp[t]);
    return;
  }
  const uint o = group_index() * WG + t;
  if (o >= pc.outer * pc.inner) return;
  const uint r = o / pc.inner, k = o - r * pc.inner;
  uint idx = pc.in_off + r * pc.row_stride + k;
  VAL_T best = VAL_T(0);
  uint bi = NONE, bp = 0u;
  for (uint j = 0u; j < pc.n; ++j, idx += pc.inner) {
    VAL_T v = LOADV(src.d[idx]);
    uint ci = candidate_index(idx, j);
    if (beats(v, ci, best, bi)) { best = v; bi = ci; bp = idx; }
  }
  write_winner(o, bi, bp);
}
#endif

#endif
