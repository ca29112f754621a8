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
// partition). A sort along another axis (or of a view) runs on a dense copy with the axis last.
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

enum class Step { keys, local_full, local_merge, global, write_values, write_indices };

std::string sort_source(Dtype t, Step step) {
  const bool wide = wide_key(t);
  const std::string K = wide ? "uint64_t" : "uint";
  std::ostringstream g;
  g << "#version 450\n#extension GL_GOOGLE_include_directive : require\n";
  if (t.size() == 1) g << "#extension GL_EXT_shader_8bit_storage : require\n";
  if (t.size() == 2) g << "#extension GL_EXT_shader_16bit_storage : require\n";
  if (wide) g << "#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require\n";
  g << "#include \"dtype.glsl\"\nlayout(local_size_x = " << kGroupSize << ") in;\n"
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
// [first, n) of the axis.
void sort_gpu(const array& in, array& out, int axis, bool indices, int first, const Stream& s, const char* op) {
  require_dtype(in.dtype(), op);
  if (out.size() == 0) {
    alloc_output(out);
    return;
  }
  const uint64_t n = static_cast<uint64_t>(in.shape(axis));
  along_last_axis(in, out, axis, s, op, [&](const array& rows_in, const array& rows_out) {
    RowSorter sorter(rows_in, in.size() / n, n, s, op);
    sorter.sort();
    sorter.write(rows_out, indices, first);
  });
}

}  // namespace
}  // namespace gpu

void Sort::eval_gpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  gpu::sort_gpu(inputs[0], outputs[0], axis_, false, 0, stream(), "sort");
}
void ArgSort::eval_gpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  gpu::sort_gpu(inputs[0], outputs[0], axis_, true, 0, stream(), "argsort");
}
void Partition::eval_gpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  gpu::sort_gpu(inputs[0], outputs[0], axis_, false, first_, stream(), "partition");
}
void ArgPartition::eval_gpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  gpu::sort_gpu(inputs[0], outputs[0], axis_, true, first_, stream(), "argpartition");
}

}  // namespace tessera
