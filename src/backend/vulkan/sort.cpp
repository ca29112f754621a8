// Vulkan kernels of Sort, ArgSort, Partition and ArgPartition: a bitonic sort of every row.
//   keys    each element becomes an unsigned order key, as on the CPU (backend/cpu/sort.cpp:
//           floats sign-flipped with NaN canonical and -0 = +0, signed integers sign-flipped),
//           with its index; rows are padded to a power of two P with (max key, index >= n);
//   local   one workgroup sorts a block of up to 2048 pairs in shared memory (all the network's
//           steps up to the block size), or finishes a merge step's small strides;
//   global  a compare-exchange pass of one stride over whole rows, for strides >= 2048;
//   write   the values (read from the input through the indices) or the indices.
// Pairs compare by (key, index), so equal keys keep their order: the result is the stable sort,
// bit-identical to the CPU's. Partitions are served by the full sort (a sorted row is a valid
// partition), except topk's window of up to 8, selected in one pass (select_source). A sort along another axis (or of a view) runs on a dense copy with the axis last.
#include <sstream>
#include <stdexcept>

#include "backend/vulkan/glsl_types.hpp"
#include "backend/vulkan/gpu_array.hpp"
#include "tessera/primitives/sort.hpp"

namespace tessera {
namespace gpu {
namespace {

using namespace glsl;

constexpr uint32_t kLocal = 2048;  // pairs one workgroup sorts in shared memory

bool wide_key(Dtype t) { return t.size() == 8; }

// GLSL computing the order key `key` of element value `raw` (storage type of t).
std::string key_code(Dtype t, const std::string& raw) {
  std::ostringstream g;
  switch (t.val) {
    case Dtype::Val::float16: case Dtype::Val::bfloat16: case Dtype::Val::float32: {
      const std::string f = t == float32 ? raw : load_expr(t, raw);
      g << "    uint u = floatBitsToUint(" << f << ");\n"
        << "    if ((u & 0x7f800000u) == 0x7f800000u && (u & 0x007fffffu) != 0u) u = 0x7fc00000u;\n"
        << "    if ((u & 0x7fffffffu) == 0u) u = 0u;\n"
        << "    key = (u & 0x80000000u) != 0u ? ~u : (u | 0x80000000u);\n";
      break;
    }
    case Dtype::Val::float64:
      g << "    uint64_t u = doubleBitsToUint64(" << raw << ");\n"
        << "    if ((u & 0x7ff0000000000000ul) == 0x7ff0000000000000ul && (u & 0x000ffffffffffffful) != 0ul)"
           " u = 0x7ff8000000000000ul;\n"
        << "    if ((u & 0x7ffffffffffffffful) == 0ul) u = 0ul;\n"
        << "    key = (u & 0x8000000000000000ul) != 0ul ? ~u : (u | 0x8000000000000000ul);\n";
      break;
    case Dtype::Val::int8: case Dtype::Val::int16: case Dtype::Val::int32:
      g << "    key = uint(int(" << raw << ")) ^ 0x80000000u;\n";
      break;
    case Dtype::Val::int64: g << "    key = uint64_t(" << raw << ") ^ 0x8000000000000000ul;\n"; break;
    case Dtype::Val::uint64: g << "    key = " << raw << ";\n"; break;
    default: g << "    key = uint(" << raw << ");\n"; break;  // bool, uint8, uint16, uint32
  }
  return g.str();
}

// The head of every kernel here: extensions for t's storage and 64-bit keys, dtype.glsl, the
// workgroup size.
std::string prologue(Dtype t) {
  std::string g = "#version 450\n#extension GL_GOOGLE_include_directive : require\n";
  if (t.size() == 1) g += "#extension GL_EXT_shader_8bit_storage : require\n";
  if (t.size() == 2) g += "#extension GL_EXT_shader_16bit_storage : require\n";
  if (wide_key(t)) g += "#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require\n";
  return g + "#include \"dtype.glsl\"\nlayout(local_size_x = " + std::to_string(kGroupSize) + ") in;\n";
}

enum class Step { keys, local_full, local_merge, global, write_values, write_indices };

std::string sort_source(Dtype t, Step step) {
  const bool wide = wide_key(t);
  const std::string K = wide ? "uint64_t" : "uint";
  std::ostringstream g;
  g << prologue(t)
    << "layout(std430, set = 0, binding = 0) readonly buffer In { " << storage_type(t) << " d[]; } src;\n"
    << "layout(std430, set = 0, binding = 1) buffer Keys { " << K << " d[]; } keys;\n"
    << "layout(std430, set = 0, binding = 2) buffer Idx { uint d[]; } idx;\n"
    << "layout(std430, set = 0, binding = 3) writeonly buffer Out { "
    << (step == Step::write_indices ? "uint" : storage_type(t)) << " d[]; } dst;\n"
    << "layout(push_constant) uniform Push { uint rows, n, P, k, j, in_off, out_off, key_off, idx_off, groups_x, first; } pc;\n"
    << "bool less_pair(" << K << " ka, uint ia, " << K << " kb, uint ib) { return ka < kb || (ka == kb && ia < ib); }\n";
  const std::string gid = "(gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * pc.groups_x * " +
                          std::to_string(kGroupSize) + "u)";
  switch (step) {
    case Step::keys:
      g << "void main() {\n  uint t = " << gid << ";\n  if (t >= pc.rows * pc.P) return;\n"
        << "  uint r = t / pc.P, c = t - r * pc.P;\n  " << K << " key;\n"
        << "  if (c < pc.n) {\n" << key_code(t, "src.d[pc.in_off + r * pc.n + c]") << "  } else {\n"
        << "    key = " << K << "(" << (wide ? "0xfffffffffffffffful" : "0xffffffffu") << ");\n  }\n"
        << "  keys.d[pc.key_off + t] = key;\n  idx.d[pc.idx_off + t] = c;\n}\n";
      break;
    case Step::global:
      // One pair (i, i + j) per invocation; ascending where bit k of i is clear.
      g << "void main() {\n  uint t = " << gid << ";\n  uint half_p = pc.P >> 1u;\n"
        << "  if (t >= pc.rows * half_p) return;\n"
        << "  uint r = t / half_p, q = t - r * half_p;\n"
        << "  uint i = ((q / pc.j) * 2u * pc.j) + (q % pc.j), l = i + pc.j;\n"
        << "  uint base = r * pc.P;\n"
        << "  " << K << " ka = keys.d[pc.key_off + base + i], kb = keys.d[pc.key_off + base + l];\n"
        << "  uint ia = idx.d[pc.idx_off + base + i], ib = idx.d[pc.idx_off + base + l];\n"
        << "  bool up = (i & pc.k) == 0u;\n"
        << "  if (up ? less_pair(kb, ib, ka, ia) : less_pair(ka, ia, kb, ib)) {\n"
        << "    keys.d[pc.key_off + base + i] = kb; keys.d[pc.key_off + base + l] = ka;\n"
        << "    idx.d[pc.idx_off + base + i] = ib; idx.d[pc.idx_off + base + l] = ia;\n  }\n}\n";
      break;
    case Step::local_full:
    case Step::local_merge:
      // Workgroup wg sorts block b = wg % blocks of row r: B = min(P, 2048) pairs.
      g << "shared " << K << " sk[" << kLocal << "];\nshared uint si[" << kLocal << "];\n"
        << "void exchange(uint i, uint l, uint k, uint block_base) {\n"
        << "  bool up = ((block_base + i) & k) == 0u;\n"
        << "  if (up ? less_pair(sk[l], si[l], sk[i], si[i]) : less_pair(sk[i], si[i], sk[l], si[l])) {\n"
        << "    " << K << " tk = sk[i]; sk[i] = sk[l]; sk[l] = tk;\n"
        << "    uint ti = si[i]; si[i] = si[l]; si[l] = ti;\n  }\n}\n"
        << "void main() {\n"
        << "  uint B = min(pc.P, " << kLocal << "u), blocks = pc.P / B;\n"
        << "  uint wg = gl_WorkGroupID.x + gl_WorkGroupID.y * pc.groups_x;\n"
        << "  if (wg >= pc.rows * blocks) return;  // whole workgroups: barriers stay uniform\n"
        << "  uint r = wg / blocks, b = wg - r * blocks, lid = gl_LocalInvocationID.x;\n"
        << "  uint block_base = b * B, g0 = r * pc.P + block_base;\n"
        << "  for (uint e = lid; e < B; e += " << kGroupSize << "u) {\n"
        << "    sk[e] = keys.d[pc.key_off + g0 + e];\n    si[e] = idx.d[pc.idx_off + g0 + e];\n  }\n"
        << "  barrier();\n";
      if (step == Step::local_full) {
        g << "  for (uint k = 2u; k <= B; k <<= 1u) {\n    for (uint j = k >> 1u; j > 0u; j >>= 1u) {\n";
      } else {
        g << "  { uint k = pc.k;\n    for (uint j = B >> 1u; j > 0u; j >>= 1u) {\n";
      }
      g << "      for (uint q = lid; q < (B >> 1u); q += " << kGroupSize << "u) {\n"
        << "        uint i = ((q / j) * 2u * j) + (q % j);\n        exchange(i, i + j, k, block_base);\n      }\n"
        << "      barrier();\n    }\n  }\n"
        << "  for (uint e = lid; e < B; e += " << kGroupSize << "u) {\n"
        << "    keys.d[pc.key_off + g0 + e] = sk[e];\n    idx.d[pc.idx_off + g0 + e] = si[e];\n  }\n}\n";
      break;
    case Step::write_values:
    case Step::write_indices:
      // Positions [first, n) of each row (a partition's window).
      g << "void main() {\n  uint t = " << gid << ";\n  uint kept = pc.n - pc.first;\n"
        << "  if (t >= pc.rows * kept) return;\n"
        << "  uint r = t / kept, c = pc.first + (t - r * kept);\n  uint i = idx.d[pc.idx_off + r * pc.P + c];\n"
        << (step == Step::write_indices ? "  dst.d[pc.out_off + t] = i;\n}\n"
                                        : "  dst.d[pc.out_off + t] = src.d[pc.in_off + r * pc.n + i];\n}\n");
      break;
  }
  return g.str();
}

// topk's window (the m <= 8 largest of each row, ascending) in one pass, one workgroup per row:
// every invocation keeps the 8 best (key, index) pairs of its strided share of the row in
// registers, the workgroup sorts the 2048 candidates in shared memory, and the last m are
// written. The same pairs as the full sort's last m positions.
constexpr uint32_t kSelectMax = 8;

std::string select_source(Dtype t, bool indices) {
  const bool wide = wide_key(t);
  const std::string K = wide ? "uint64_t" : "uint";
  const uint32_t cand = kGroupSize * kSelectMax;
  std::ostringstream g;
  g << prologue(t)
    << "layout(std430, set = 0, binding = 0) readonly buffer In { " << storage_type(t) << " d[]; } src;\n"
    << "layout(std430, set = 0, binding = 1) writeonly buffer Out { " << (indices ? "uint" : storage_type(t))
    << " d[]; } dst;\n"
    << "layout(push_constant) uniform Push { uint rows, n, m, in_off, out_off, groups_x; } pc;\n"
    << "const uint PAD = 0xffffffffu;  // an empty slot: below every element\n"
    << "bool lt(" << K << " ka, uint ia, " << K << " kb, uint ib) {\n"
    << "  if (ia == PAD) return ib != PAD;\n  if (ib == PAD) return false;\n"
    << "  return ka < kb || (ka == kb && ia < ib);\n}\n"
    << "shared " << K << " sk[" << cand << "];\nshared uint si[" << cand << "];\n"
    << "void main() {\n"
    << "  uint r = gl_WorkGroupID.x + gl_WorkGroupID.y * pc.groups_x;\n"
    << "  if (r >= pc.rows) return;  // whole workgroups\n"
    << "  uint lid = gl_LocalInvocationID.x;\n"
    << "  " << K << " tk[" << kSelectMax << "];\n  uint ti[" << kSelectMax << "];\n"
    << "  for (uint q = 0u; q < " << kSelectMax << "u; ++q) { tk[q] = " << K << "(0); ti[q] = PAD; }\n"
    << "  for (uint c = lid; c < pc.n; c += " << kGroupSize << "u) {\n    " << K << " key;\n    {\n"
    << key_code(t, "src.d[pc.in_off + r * pc.n + c]") << "    }\n"
    << "    if (!lt(tk[0], ti[0], key, c)) continue;\n"
    << "    tk[0] = key; ti[0] = c;  // replaces the smallest, then moves up (ascending list)\n"
    << "    for (uint q = 0u; q + 1u < " << kSelectMax << "u; ++q) {\n"
    << "      if (!lt(tk[q + 1u], ti[q + 1u], tk[q], ti[q])) break;\n"
    << "      " << K << " a = tk[q]; tk[q] = tk[q + 1u]; tk[q + 1u] = a;\n"
    << "      uint b = ti[q]; ti[q] = ti[q + 1u]; ti[q + 1u] = b;\n    }\n  }\n"
    << "  for (uint q = 0u; q < " << kSelectMax << "u; ++q) { sk[lid * " << kSelectMax << "u + q] = tk[q]; si[lid * "
    << kSelectMax << "u + q] = ti[q]; }\n"
    << "  barrier();\n"
    << "  for (uint k = 2u; k <= " << cand << "u; k <<= 1u) {\n    for (uint j = k >> 1u; j > 0u; j >>= 1u) {\n"
    << "      for (uint q = lid; q < " << cand / 2 << "u; q += " << kGroupSize << "u) {\n"
    << "        uint i = ((q / j) * 2u * j) + (q % j), l = i + j;\n"
    << "        bool up = (i & k) == 0u;\n"
    << "        if (up ? lt(sk[l], si[l], sk[i], si[i]) : lt(sk[i], si[i], sk[l], si[l])) {\n"
    << "          " << K << " a = sk[i]; sk[i] = sk[l]; sk[l] = a;\n"
    << "          uint b = si[i]; si[i] = si[l]; si[l] = b;\n        }\n      }\n      barrier();\n    }\n  }\n"
    << "  if (lid < pc.m) {\n    uint i = si[" << cand << "u - pc.m + lid];\n"
    << (indices ? "    dst.d[pc.out_off + r * pc.m + lid] = i;\n"
                : "    dst.d[pc.out_off + r * pc.m + lid] = src.d[pc.in_off + r * pc.n + i];\n")
    << "  }\n}\n";
  return g.str();
}

void select_top(const array& in, const array& out, uint64_t rows, uint64_t n, uint64_t m, bool indices,
                const Stream& s) {
  const std::string key = std::string("topk_select:") + dtype_name(in.dtype()) + (indices ? ":i" : ":v");
  auto& kernel = device().kernel_from_glsl(key, [&] { return select_source(in.dtype(), indices); }, 2);
  const uint32_t gx = static_cast<uint32_t>(std::min<uint64_t>(rows, 65535));
  const uint32_t gy = static_cast<uint32_t>((rows + gx - 1) / gx);
  View iv = resident(in), ov = resident(out);
  struct {
    uint32_t rows, n, m, in_off, out_off, groups_x;
  } push{static_cast<uint32_t>(rows), static_cast<uint32_t>(n), static_cast<uint32_t>(m), iv.offset, ov.offset, gx};
  const vulkan::Binding b[] = {iv.bind(false), ov.bind(true)};
  stream(s).dispatch(kernel, b, &push, sizeof(push), {}, gx, gy);
}

// searchsorted: one invocation per value, a binary search over the sequence's order keys.
std::string search_source(Dtype t, bool right) {
  const bool wide = wide_key(t);
  const std::string K = wide ? "uint64_t" : "uint";
  std::ostringstream g;
  g << prologue(t)
    << "layout(std430, set = 0, binding = 0) readonly buffer Seq { " << storage_type(t) << " d[]; } seq;\n"
    << "layout(std430, set = 0, binding = 1) readonly buffer Val { " << storage_type(t) << " d[]; } val;\n"
    << "layout(std430, set = 0, binding = 2) writeonly buffer Out { uint d[]; } dst;\n"
    << "layout(push_constant) uniform Push { uint count, n, seq_off, val_off, out_off, groups_x; } pc;\n"
    << K << " key_of_seq(uint i) {\n  " << K << " key;\n" << key_code(t, "seq.d[pc.seq_off + i]") << "  return key;\n}\n"
    << "void main() {\n  uint t = gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * pc.groups_x * " << kGroupSize
    << "u;\n  if (t >= pc.count) return;\n  " << K << " key;\n"
    << key_code(t, "val.d[pc.val_off + t]")
    << "  uint lo = 0u, hi = pc.n;\n  while (lo < hi) {\n    uint mid = lo + ((hi - lo) >> 1u);\n"
    << "    " << K << " km = key_of_seq(mid);\n"
    << (right ? "    if (km <= key) lo = mid + 1u; else hi = mid;\n" : "    if (km < key) lo = mid + 1u; else hi = mid;\n")
    << "  }\n  dst.d[pc.out_off + t] = lo;\n}\n";
  return g.str();
}

struct Push {
  uint32_t rows, n, P, k, j, in_off, out_off, key_off, idx_off, groups_x, first;
};

class RowSorter {
 public:
  RowSorter(const array& in, uint64_t rows, uint64_t n, const Stream& s, const char* op)
      : in_(in), rows_(rows), n_(n), s_(s), op_(op) {
    P_ = 1;
    while (P_ < n_) P_ <<= 1;
    const Shape shape{static_cast<int32_t>(rows_), static_cast<int32_t>(P_)};
    keys_ = array(shape, wide_key(in.dtype()) ? uint64 : uint32, nullptr, {});
    idx_ = array(shape, uint32, nullptr, {});
    alloc_output(keys_);
    alloc_output(idx_);
    for (const array* a : {&in_, static_cast<const array*>(&keys_), static_cast<const array*>(&idx_)}) {
      if (!fits_one_binding(*a) || rows_ * P_ > 0xffffffffull) {
        throw std::runtime_error(std::string("[") + op_ + "] rows of " + std::to_string(n_) + " x " +
                                 std::to_string(rows_) + " are more than one GPU binding reaches; use the CPU stream");
      }
    }
  }

  void sort() {
    run(Step::keys, rows_ * P_, 0, 0, in_);
    const uint64_t B = std::min<uint64_t>(P_, kLocal);
    run_groups(Step::local_full, rows_ * (P_ / B), 0, 0, in_);
    for (uint64_t k = 2 * B; k <= P_; k <<= 1) {
      for (uint64_t j = k >> 1; j >= B; j >>= 1) run(Step::global, rows_ * P_ / 2, k, j, in_);
      run_groups(Step::local_merge, rows_ * (P_ / B), k, 0, in_);
    }
  }

  // Writes positions [first, n) of every row.
  void write(const array& out, bool indices, uint64_t first) {
    first_ = first;
    run(indices ? Step::write_indices : Step::write_values, rows_ * (n_ - first), 0, 0, out);
  }

 private:
  vulkan::Kernel& kernel(Step step) {
    const std::string key = std::string("sort:") + dtype_name(in_.dtype()) + ":" + std::to_string(static_cast<int>(step));
    return device().kernel_from_glsl(key, [&] { return sort_source(in_.dtype(), step); }, 4);
  }
  // `threads` invocations (one per item).
  void run(Step step, uint64_t threads, uint64_t k, uint64_t j, const array& out) {
    const uint64_t groups = (threads + kGroupSize - 1) / kGroupSize;
    dispatch(step, groups, k, j, out);
  }
  // `groups` workgroups (one per block).
  void run_groups(Step step, uint64_t groups, uint64_t k, uint64_t j, const array& out) { dispatch(step, groups, k, j, out); }

  void dispatch(Step step, uint64_t groups, uint64_t k, uint64_t j, const array& out) {
    const uint32_t gx = static_cast<uint32_t>(std::min<uint64_t>(groups, 65535));
    const uint32_t gy = static_cast<uint32_t>((groups + gx - 1) / gx);
    View iv = resident(in_), kv = resident(keys_), xv = resident(idx_), ov = resident(out);
    Push push{static_cast<uint32_t>(rows_), static_cast<uint32_t>(n_), static_cast<uint32_t>(P_),
              static_cast<uint32_t>(k), static_cast<uint32_t>(j), iv.offset, ov.offset, kv.offset, xv.offset, gx,
              static_cast<uint32_t>(first_)};
    // The output binding is unused until the write step: the keys stand in for it.
    const bool writes = step == Step::write_values || step == Step::write_indices;
    const vulkan::Binding b[] = {iv.bind(false), kv.bind(!writes), xv.bind(!writes),
                                 writes ? ov.bind(true) : kv.bind(true)};
    stream(s_).dispatch(kernel(step), b, &push, sizeof(push), {}, gx, gy);
  }

  const array& in_;
  uint64_t rows_, n_, P_ = 1, first_ = 0;
  Stream s_;
  const char* op_;
  array keys_{Shape{}, uint32, nullptr, {}}, idx_{Shape{}, uint32, nullptr, {}};
};

// Sorts `in` along `axis` into `out` (values or uint32 indices), which keeps positions
// [first, n) of the axis; a partition at kth == first keeping at most 8 is topk's selection.
void sort_gpu(const array& in, array& out, int axis, bool indices, int first, int kth, const Stream& s,
              const char* op) {
  require_dtype(in.dtype(), op);
  if (out.size() == 0) {
    alloc_output(out);
    return;
  }
  const uint64_t n = static_cast<uint64_t>(in.shape(axis));
  if (first > 0 && kth == first && n - first <= kSelectMax) {
    along_last_axis(in, out, axis, s, op, [&](const array& rows_in, const array& rows_out) {
      for (const array* a : {&rows_in, &rows_out}) {
        if (!fits_one_binding(*a)) {
          throw std::runtime_error(std::string("[") + op + "] rows of " + std::to_string(n) +
                                   " are more than one GPU binding reaches; use the CPU stream");
        }
      }
      select_top(rows_in, rows_out, in.size() / n, n, n - first, indices, s);
    });
    return;
  }
  along_last_axis(in, out, axis, s, op, [&](const array& rows_in, const array& rows_out) {
    RowSorter sorter(rows_in, in.size() / n, n, s, op);
    sorter.sort();
    sorter.write(rows_out, indices, first);
  });
}

// A dense GPU copy of `a` when it is a view.
array dense_gpu(const array& a, const Stream& s, const char* op) {
  if (a.flags().row_contiguous) return a;
  array d(a.shape(), a.dtype(), nullptr, {});
  alloc_output(d);
  copy_into(a, d, s, op);
  return d;
}

}  // namespace
}  // namespace gpu

void SearchSorted::eval_gpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  array& out = outputs[0];
  gpu::require_dtype(inputs[0].dtype(), "searchsorted");
  gpu::alloc_output(out);
  if (out.size() == 0) return;
  const array seq = gpu::dense_gpu(inputs[0], stream(), "searchsorted");
  const array val = gpu::dense_gpu(inputs[1], stream(), "searchsorted");
  if (!gpu::fits_one_binding(seq)) {
    throw std::runtime_error("[searchsorted] a sorted sequence of " + std::to_string(seq.size()) +
                             " elements spans more than one GPU binding reaches; use the CPU stream");
  }
  const std::string key = std::string("searchsorted:") + dtype_name(seq.dtype()) + (right_ ? ":r" : ":l");
  auto& kernel =
      gpu::device().kernel_from_glsl(key, [&] { return gpu::search_source(seq.dtype(), right_); }, 3);
  // The values (and outputs) a window at a time when they are past one binding's reach.
  const uint64_t total = out.size();
  const uint64_t per = std::min<uint64_t>({static_cast<uint64_t>(gpu::units_per_binding(val.itemsize())),
                                           static_cast<uint64_t>(gpu::units_per_binding(4)), uint64_t{1} << 31});
  if (per == 0) throw std::runtime_error("[searchsorted] the GPU binding range is too small");
  const gpu::View sv = gpu::resident(seq);
  for (uint64_t v0 = 0; v0 < total; v0 += per) {
    const uint64_t count = std::min(per, total - v0);
    uint32_t gx, gy;
    gpu::grid_for(count, gpu::kGroupSize, gx, gy);
    gpu::View vv = gpu::resident_at(val, v0), ov = gpu::resident_at(out, v0);
    struct {
      uint32_t count, n, seq_off, val_off, out_off, groups_x;
    } push{static_cast<uint32_t>(count), static_cast<uint32_t>(seq.size()), sv.offset, vv.offset, ov.offset, gx};
    const vulkan::Binding b[] = {sv.bind(false), vv.bind(false), ov.bind(true)};
    gpu::stream(stream()).dispatch(kernel, b, &push, sizeof(push), {}, gx, gy);
  }
}

void Sort::eval_gpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  gpu::sort_gpu(inputs[0], outputs[0], axis_, false, 0, 0, stream(), "sort");
}
void ArgSort::eval_gpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  gpu::sort_gpu(inputs[0], outputs[0], axis_, true, 0, 0, stream(), "argsort");
}
void Partition::eval_gpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  gpu::sort_gpu(inputs[0], outputs[0], axis_, false, first_, kth_, stream(), "partition");
}
void ArgPartition::eval_gpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  gpu::sort_gpu(inputs[0], outputs[0], axis_, true, first_, kth_, stream(), "argpartition");
}

}  // namespace tessera
