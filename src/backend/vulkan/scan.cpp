// Vulkan kernel of Scan. Rows of the scanned axis are scanned in blocks of 1024 elements, one
// workgroup per block: each of 256 invocations scans 4 elements, the workgroup scans their
// totals in shared memory (Hillis-Steele), and each invocation writes its elements from its
// prefix. A row longer than one block takes three steps: every block's total, an exclusive
// scan of the totals (the same kernel, recursively for very long rows), then the blocks again
// starting from their carries. A scan along another axis (or of a view) runs on a dense copy
// with the axis moved last and is copied back into place.
// Accumulators: floats in float32 (float64 for float64; the CPU uses float64 for all floats),
// 8- and 16-bit integers in 32 bits (wrapped at the store, as the CPU wraps), bool as 0/1.
#include <sstream>
#include <stdexcept>

#include "backend/vulkan/glsl_types.hpp"
#include "backend/vulkan/gpu_array.hpp"
#include "tessera/primitives/scan.hpp"

namespace tessera {
namespace gpu {
namespace {

using namespace glsl;

constexpr uint32_t kBlock = 4 * kGroupSize;

// The accumulator dtype of a scan of `t` (also the dtype of the block totals).
Dtype acc_dtype(Dtype t) {
  if (t == float16 || t == bfloat16) return float32;
  if (t == int8 || t == int16) return int32;
  if (t == uint8 || t == uint16 || t == bool_) return uint32;
  return t;
}

std::string identity(Scan::ReduceType op, Dtype in, Dtype acc) {
  const std::string A = compute_type(acc);
  switch (op) {
    case Scan::Sum: return acc == complex64 ? "vec2(0.0)" : A + "(0)";
    case Scan::Prod: return acc == complex64 ? "vec2(1.0, 0.0)" : A + "(1)";
    case Scan::LogAddExp: return A + "(uintBitsToFloat(0xff800000u))";
    case Scan::Max:
    case Scan::Min: {
      const bool mx = op == Scan::Max;
      if (in == bool_) return mx ? "0u" : "1u";
      return extreme_expr(in, acc, mx);
    }
  }
  return A + "(0)";
}

std::string combine_body(Scan::ReduceType op, Dtype acc) {
  const bool fp = acc == float32 || acc == float64;
  switch (op) {
    case Scan::Sum: return "a + b";
    case Scan::Prod: return acc == complex64 ? "vec2(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x)" : "a * b";
    case Scan::Max:
      return fp ? "(isnan(a) || isnan(b)) ? (isnan(a) ? a : b) : max(a, b)" : "max(a, b)";
    case Scan::Min:
      return fp ? "(isnan(a) || isnan(b)) ? (isnan(a) ? a : b) : min(a, b)" : "min(a, b)";
    case Scan::LogAddExp: return "op_logaddexp(a, b)";  // the elementwise op's GLSL (elementwise_ops.glsl)
  }
  return "a";
}

// `v` converted between compute types (nothing to do when the dtypes agree).
std::string convert(Dtype from, Dtype to, const std::string& v) { return from == to ? v : cast_expr(from, to, v); }

enum class Mode { totals, scan };

struct Variant {
  Scan::ReduceType op;
  Dtype dtype;
  Mode mode;
  bool carry, reverse, inclusive;
};

std::string scan_source(const Variant& v) {
  const Dtype A = acc_dtype(v.dtype);
  const std::string AT = compute_type(A);
  std::ostringstream g;
  g << "#version 450\n#extension GL_GOOGLE_include_directive : require\n";
  if (v.dtype.size() == 1) g << "#extension GL_EXT_shader_8bit_storage : require\n";
  if (v.dtype.size() == 2) g << "#extension GL_EXT_shader_16bit_storage : require\n";
  if (v.dtype == int64 || v.dtype == uint64) g << "#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require\n";
  if (v.op == Scan::LogAddExp) {
    if (A == float64) g << "#define TS_FLOAT64\n";
    g << "#include \"elementwise_ops.glsl\"\n";
  } else {
    g << "#include \"dtype.glsl\"\n";
  }
  g << "layout(local_size_x = " << kGroupSize << ") in;\n"
    << "layout(std430, set = 0, binding = 0) readonly buffer In { " << storage_type(v.dtype) << " d[]; } src;\n"
    << "layout(std430, set = 0, binding = 1) buffer Out { "
    << (v.mode == Mode::totals ? storage_type(A) : storage_type(v.dtype)) << " d[]; } dst;\n"
    << "layout(std430, set = 0, binding = 2) readonly buffer Carry { " << storage_type(A) << " d[]; } carry;\n"
    << "layout(push_constant) uniform Push { uint rows, n, nb, in_off, out_off, carry_off, groups_x; } pc;\n"
    << "shared " << AT << " sh[" << kGroupSize << "];\n"
    << AT << " op(" << AT << " a, " << AT << " b) { return " << combine_body(v.op, A) << "; }\n"
    << AT << " load_at(uint r, uint p) {\n"
    << "  uint i = pc.in_off + r * pc.n + " << (v.reverse ? "(pc.n - 1u - p)" : "p") << ";\n"
    << "  return " << convert(v.dtype, A, load_expr(v.dtype, "src.d[i]")) << ";\n}\n"
    << "void main() {\n"
    << "  uint wg = gl_WorkGroupID.x + gl_WorkGroupID.y * pc.groups_x;\n"
    << "  if (wg >= pc.rows * pc.nb) return;  // whole workgroups: barriers stay uniform\n"
    << "  uint r = wg / pc.nb, b = wg - r * pc.nb, t = gl_LocalInvocationID.x;\n"
    << "  uint p0 = b * " << kBlock << "u + t * 4u;\n"
    << "  const " << AT << " ident = " << identity(v.op, v.dtype, A) << ";\n"
    << "  " << AT << " v[4];\n  " << AT << " run = ident;\n"
    << "  for (uint k = 0u; k < 4u; ++k) {\n"
    << "    " << AT << " x = p0 + k < pc.n ? load_at(r, p0 + k) : ident;\n"
    << (v.inclusive || v.mode == Mode::totals ? "    run = op(run, x);\n    v[k] = run;\n"
                                              : "    v[k] = run;\n    run = op(run, x);\n")
    << "  }\n"
    << "  sh[t] = run;\n  barrier();\n"
    << "  for (uint off = 1u; off < " << kGroupSize << "u; off <<= 1u) {\n"
    << "    " << AT << " left = t >= off ? sh[t - off] : ident;\n"
    << "    barrier();\n    sh[t] = op(left, sh[t]);\n    barrier();\n  }\n";
  if (v.mode == Mode::totals) {
    g << "  if (t == " << kGroupSize - 1 << "u) dst.d[pc.out_off + wg] = " << store_expr(A, "sh[t]") << ";\n}\n";
    return g.str();
  }
  g << "  " << AT << " prefix = t > 0u ? sh[t - 1u] : ident;\n";
  if (v.carry) g << "  prefix = op(" << load_expr(A, "carry.d[pc.carry_off + wg]") << ", prefix);\n";
  g << "  for (uint k = 0u; k < 4u; ++k) {\n"
    << "    uint p = p0 + k;\n    if (p >= pc.n) break;\n"
    << "    uint o = pc.out_off + r * pc.n + " << (v.reverse ? "(pc.n - 1u - p)" : "p") << ";\n"
    << "    dst.d[o] = " << store_expr(v.dtype, convert(A, v.dtype, "op(prefix, v[k])")) << ";\n  }\n}\n";
  return g.str();
}

vulkan::Kernel& scan_kernel(const Variant& v) {
  std::string key = std::string("scan:") + std::to_string(static_cast<int>(v.op)) + ":" + dtype_name(v.dtype) +
                    (v.mode == Mode::totals ? ":tot" : ":scan") + (v.carry ? ":c" : "") + (v.reverse ? ":r" : "") +
                    (v.inclusive ? ":i" : ":e");
  return device().kernel_from_glsl(key, [&] { return scan_source(v); }, 3);
}

void dispatch_scan(const Variant& v, const array& in, const array& out, const array* carry, uint64_t rows,
                   uint64_t n, uint64_t nb, const Stream& s) {
  const uint64_t groups = rows * nb;
  if (groups > uint64_t{65535} * 65535 || rows * n > 0xffffffffull) {
    throw std::runtime_error("[" + std::string(scan_op_name(v.op)) + "] too large for one GPU dispatch");
  }
  const uint32_t gx = static_cast<uint32_t>(std::min<uint64_t>(groups, 65535));
  const uint32_t gy = static_cast<uint32_t>((groups + gx - 1) / gx);
  View iv = resident(in), ov = resident(out);
  View cv = carry ? resident(*carry) : iv;  // unused when there is no carry
  struct {
    uint32_t rows, n, nb, in_off, out_off, carry_off, groups_x;
  } push{static_cast<uint32_t>(rows), static_cast<uint32_t>(n), static_cast<uint32_t>(nb), iv.offset, ov.offset,
         carry ? cv.offset : 0u, gx};
  const vulkan::Binding b[] = {iv.bind(false), ov.bind(true), cv.bind(false)};
  stream(s).dispatch(scan_kernel(v), b, &push, sizeof(push), {}, gx, gy);
}

// Scans the dense rows [rows, n] of `in` into the dense `out` (both allocated).
void scan_rows(Scan::ReduceType op, bool reverse, bool inclusive, const array& in, const array& out, uint64_t rows,
               uint64_t n, const Stream& s) {
  const Dtype t = in.dtype();
  const uint64_t nb = (n + kBlock - 1) / kBlock;
  if (nb <= 1) {
    dispatch_scan({op, t, Mode::scan, false, reverse, inclusive}, in, out, nullptr, rows, n, 1, s);
    return;
  }
  const Dtype A = acc_dtype(t);
  array totals(Shape{static_cast<int32_t>(rows), static_cast<int32_t>(nb)}, A, nullptr, {});
  alloc_output(totals);
  dispatch_scan({op, t, Mode::totals, false, reverse, inclusive}, in, totals, nullptr, rows, n, nb, s);
  // The carry of every block: the exclusive scan of the totals, in scan order.
  array carries(totals.shape(), A, nullptr, {});
  alloc_output(carries);
  scan_rows(op, false, false, totals, carries, rows, nb, s);
  dispatch_scan({op, t, Mode::scan, true, reverse, inclusive}, in, out, &carries, rows, n, nb, s);
}

}  // namespace
}  // namespace gpu

void Scan::eval_gpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  const array& in = inputs[0];
  array& out = outputs[0];
  const char* op = scan_op_name(op_);
  gpu::require_dtype(out.dtype(), op);
  if (out.size() == 0) {
    gpu::alloc_output(out);
    return;
  }
  const uint64_t n = static_cast<uint64_t>(in.shape(axis_));
  gpu::along_last_axis(in, out, axis_, stream(), op, [&](const array& rows_in, const array& rows_out) {
    for (const array* a : {&rows_in, &rows_out}) {
      if (!gpu::fits_one_binding(*a)) {
        throw std::runtime_error(std::string("[") + op + "] an array of shape " + shape_string(a->shape()) +
                                 " spans more than one GPU binding reaches; use the CPU stream");
      }
    }
    gpu::scan_rows(op_, reverse_, inclusive_, rows_in, rows_out, out.size() / n, n, stream());
  });
}

}  // namespace tessera
