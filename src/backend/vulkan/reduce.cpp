// Vulkan kernels of Reduce and ArgReduce. The GLSL bodies live in shaders/reduce.glsl; this
// file generates the dtype/op prelude of each variant (compiled once through glslang, cached in
// memory and on disk) and picks the layout, as the CPU kernel (backend/cpu/reduce.cpp) does:
// size-1 axes dropped, reduced axes ordered by decreasing stride, contiguous neighbours merged,
// then
//   [K?, R]       R unit-stride: row reduction (threads per row scaled to the row length,
//                 4-wide loads for 32-bit types, subgroup arithmetic when the device has it;
//                 long rows with few outputs are split into partial results + a second pass);
//   [K1?, R, K2]  K2 unit-stride: column accumulation (coalesced over K2, R split among the
//                 workgroup's lanes and, when there are few columns, among workgroups);
//   otherwise     copied (copy_into) into [kept..., reduced...] order, then rows.
// Accumulators follow the CPU: 16-bit floats in float32, integer sums/products wrap in the
// output's width, integer -> float32 sums (mean) in float64 where the device has it.
#include <algorithm>
#include <bit>
#include <sstream>
#include <stdexcept>

#include "backend/reduce_layout.hpp"
#include "backend/vulkan/glsl_types.hpp"
#include "backend/vulkan/gpu_array.hpp"
#include "tessera/primitives/reduce.hpp"
#include "tessera/primitives/shape.hpp"

namespace tessera {
namespace gpu {

namespace {

using RT = Reduce::ReduceType;

using glsl::compute_type;
using glsl::storage_type;
using glsl::store_expr;

// A stored element (expression `x` of the storage type) as a value of its compute type, except
// bool, which reads as uint 0/1.
std::string value_expr(Dtype t, const std::string& x) {
  switch (t.val) {
    case Dtype::Val::float16: return "ts_f16_to_float(uint(" + x + "))";
    case Dtype::Val::bfloat16: return "ts_bf16_to_float(uint(" + x + "))";
    case Dtype::Val::bool_: case Dtype::Val::uint8: case Dtype::Val::uint16: return "uint(" + x + ")";
    case Dtype::Val::int8: case Dtype::Val::int16: return "int(" + x + ")";
    default: return "(" + x + ")";
  }
}

bool is_float_kind(Dtype t) {
  return t == float16 || t == bfloat16 || t == float32 || t == float64;
}

// The accumulator of `op` reducing `in` into `out`, as a dtype (bool_, int32, uint32, int64,
// uint64, float32, float64, complex64): the CPU's acc_t.
Dtype acc_dtype(RT op, Dtype in, Dtype out) {
  if (op == Reduce::And || op == Reduce::Or) return bool_;
  if (op == Reduce::Max || op == Reduce::Min) {
    if (in == float16 || in == bfloat16) return float32;
    if (in == int8 || in == int16) return int32;
    if (in == uint8 || in == uint16) return uint32;
    return in;
  }
  if (out == float16 || out == bfloat16) return float32;
  if (out == float32) {
    if (!is_float_kind(in) && device().caps().float64) return float64;
    return in == float64 ? float64 : float32;
  }
  if (out == int8 || out == int16) return int32;
  if (out == uint8 || out == uint16) return uint32;
  return out;
}

// Identity of `op` for accumulator `acc`; for max/min the extreme of the input dtype `in`
// (what the CPU writes for an empty reduction).
std::string init_expr(RT op, Dtype acc, Dtype in) {
  const std::string A = compute_type(acc);
  switch (op) {
    case Reduce::And: return "true";
    case Reduce::Or: return "false";
    case Reduce::Sum: return acc == complex64 ? "vec2(0.0)" : A + "(0)";
    case Reduce::Prod: return acc == complex64 ? "vec2(1.0, 0.0)" : A + "(1)";
    case Reduce::Max:
    case Reduce::Min: {
      const bool mx = op == Reduce::Max;
      if (acc == bool_) return mx ? "false" : "true";
      return glsl::extreme_expr(in, acc, mx);
    }
  }
  return A + "(0)";
}

std::string apply_body(RT op, Dtype acc) {
  const bool fp = acc == float32 || acc == float64;
  switch (op) {
    case Reduce::And: return "a && b";
    case Reduce::Or: return "a || b";
    case Reduce::Sum: return "a + b";
    case Reduce::Prod:
      return acc == complex64 ? "vec2(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x)" : "a * b";
    case Reduce::Max:
      if (acc == bool_) return "a || b";
      return fp ? "(b > a || isnan(b)) ? b : a" : "(b > a) ? b : a";
    case Reduce::Min:
      if (acc == bool_) return "a && b";
      return fp ? "(b < a || isnan(b)) ? b : a" : "(b < a) ? b : a";
  }
  return "a";
}

// GLSL for an input value `v` (of the input's compute type, bool as uint) as an accumulator.
std::string to_acc(RT op, Dtype in, Dtype acc, const std::string& v) {
  if (acc == bool_) {
    if (in == complex64) return "(" + v + " != vec2(0.0))";
    if (in == bool_ || in == uint8 || in == uint16 || in == uint32) return "(" + v + " != 0u)";
    return "(" + v + " != " + std::string(compute_type(in)) + "(0))";
  }
  (void)op;
  return std::string(compute_type(acc)) + "(" + v + ")";
}

std::string subgroup_expr(RT op, Dtype acc) {
  if (!(acc == float32 || acc == int32 || acc == uint32 || acc == bool_)) return "";
  switch (op) {
    case Reduce::And: return "subgroupAnd(a)";
    case Reduce::Or: return "subgroupOr(a)";
    case Reduce::Sum: return acc == bool_ ? "" : "subgroupAdd(a)";
    case Reduce::Prod: return acc == bool_ ? "" : "subgroupMul(a)";
    case Reduce::Max:
      if (acc == bool_) return "subgroupOr(a)";
      if (acc == float32) return "(subgroupMax(isnan(a) ? 1u : 0u) != 0u) ? ts_nan() : subgroupMax(a)";
      return "subgroupMax(a)";
    case Reduce::Min:
      if (acc == bool_) return "subgroupAnd(a)";
      if (acc == float32) return "(subgroupMax(isnan(a) ? 1u : 0u) != 0u) ? ts_nan() : subgroupMin(a)";
      return "subgroupMin(a)";
  }
  return "";
}

std::string extensions(std::initializer_list<Dtype> types) {
  bool n8 = false, n16 = false, n64 = false;
  for (Dtype t : types) {
    n8 |= t.size() == 1;
    n16 |= t.size() == 2;
    n64 |= t == int64 || t == uint64;
  }
  std::string s;
  if (n8) s += "#extension GL_EXT_shader_8bit_storage : require\n";
  if (n16) s += "#extension GL_EXT_shader_16bit_storage : require\n";
  if (n64) s += "#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require\n";
  return s;
}

enum class Layout { row, col };

struct Variant {
  RT op;
  Dtype in, out, acc;
  Layout layout;
  bool vec = false;       // 4-wide loads (row layout, 32-bit input)
  bool subgroup = false;  // subgroup arithmetic (row layout)
};

std::string reduce_source(const Variant& v);

vulkan::Kernel& reduce_kernel(const Variant& v) {
  std::string key = std::string("reduce:") + (v.layout == Layout::row ? "row" : "col") + ":" +
                    std::to_string(static_cast<int>(v.op)) + ":" + dtype_name(v.in) + ":" +
                    dtype_name(v.out) + ":" + dtype_name(v.acc) + (v.vec ? ":v" : "") +
                    (v.subgroup ? ":sg" : "");
  return device().kernel_from_glsl(key, [&] { return reduce_source(v); }, 2);
}

std::string reduce_source(const Variant& v) {
  const std::string A = compute_type(v.acc);
  std::ostringstream g;
  g << "#version 450\n" << extensions({v.in, v.out, v.acc});
  std::string sg = v.subgroup ? subgroup_expr(v.op, v.acc) : "";
  if (!sg.empty()) {
    g << "#extension GL_KHR_shader_subgroup_basic : require\n"
         "#extension GL_KHR_shader_subgroup_arithmetic : require\n";
  }
  g << "#include \"dtype.glsl\"\n";
  g << (v.layout == Layout::row ? "#define TS_ROW\n" : "#define TS_COL\n");
  g << "#define IN_T " << storage_type(v.in) << "\n#define OUT_T " << storage_type(v.out)
    << "\n#define ACC_T " << A << "\n";
  g << A << " ts_apply(" << A << " a, " << A << " b) { return " << apply_body(v.op, v.acc) << "; }\n";
  g << "#define APPLY(a, b) ts_apply(a, b)\n";
  g << "#define INIT " << init_expr(v.op, v.acc, v.in) << "\n";
  g << "#define LOAD(x) " << to_acc(v.op, v.in, v.acc, value_expr(v.in, "x")) << "\n";
  // The accumulator as the output's compute type, then as its storage type.
  const std::string oc = compute_type(v.out);
  std::string out_value = oc == A ? "(a)" : oc + "(a)";
  if (v.out == bool_) out_value = "(a)";
  g << "#define STORE(a) " << store_expr(v.out, out_value) << "\n";
  if (v.vec) {
    const char* vt = v.in == float32 ? "vec4" : v.in == int32 ? "ivec4" : "uvec4";
    g << "#define IN_VEC_T " << vt << "\n";
    g << A << " ts_load_vec(" << A << " acc, " << vt << " v) {\n"
      << "  acc = APPLY(acc, LOAD(v.x));\n  acc = APPLY(acc, LOAD(v.y));\n"
      << "  acc = APPLY(acc, LOAD(v.z));\n  return APPLY(acc, LOAD(v.w));\n}\n"
      << "#define LOAD_VEC(acc, v) ts_load_vec(acc, v)\n";
  }
  if (!sg.empty()) g << A << " ts_sg(" << A << " a) { return " << sg << "; }\n#define SG_REDUCE(a) ts_sg(a)\n";
  g << "#include \"reduce.glsl\"\n";
  return g.str();
}

uint32_t log2u(uint64_t pow2) { return static_cast<uint32_t>(std::countr_zero(pow2)); }

// Workgroups that keep a large GPU busy; smaller launches split long reductions.
constexpr uint64_t kTargetGroups = 512;

void dispatch_groups(vulkan::Stream& vs, vulkan::Kernel& k, std::span<const vulkan::Binding> b,
                     const void* push, size_t push_bytes, uint64_t groups) {
  uint32_t gx, gy;
  grid_for(groups, 1, gx, gy);
  vs.dispatch(k, b, push, push_bytes, {}, gx, gy);
}

array temp(uint64_t n, Dtype t) {
  if (n > 0x7fffffffull) throw std::runtime_error("[reduce] temporary of more than 2^31 elements");
  array a(Shape{static_cast<int32_t>(n)}, t, nullptr, {});
  alloc_output(a);
  return a;
}

struct Ctx {
  vulkan::Stream& vs;
  const Stream& s;
  RT op;
  Dtype acc;
};

// out[row] (at out view) = op over in[in_off + row * row_stride + i], i < n.
void reduce_rows(Ctx& c, Dtype in_t, View in, uint64_t rows, uint64_t n, uint64_t row_stride,
                 Dtype out_t, View out) {
  const auto& caps = device().caps();
  Variant v{c.op, in_t, out_t, c.acc, Layout::row};
  v.vec = (in_t == float32 || in_t == int32 || in_t == uint32) && n >= 4 && n % 4 == 0 &&
          in.offset % 4 == 0 && (rows == 1 || row_stride % 4 == 0);
  const uint64_t n_eff = v.vec ? n / 4 : n;
  uint64_t tpr = std::clamp<uint64_t>(std::bit_ceil(std::max<uint64_t>(1, (n_eff + 3) / 4)), 1, 256);
  uint64_t parts = 1, part_len = std::max<uint64_t>(n, 1);
  if (tpr == 256 && rows < kTargetGroups && n_eff >= 2 * 256 * 16) {
    parts = std::min((kTargetGroups + rows - 1) / rows, n_eff / (256 * 16));
    part_len = (n + parts - 1) / parts;
    part_len = (part_len + 3) / 4 * 4;
    parts = (n + part_len - 1) / part_len;
  }
  v.subgroup = caps.subgroup_arith && tpr == 256 && !subgroup_expr(c.op, c.acc).empty();
  struct {
    uint32_t tasks, n, row_stride, in_off, out_off, tpr_shift, parts, part_len;
  } push{static_cast<uint32_t>(rows * parts), static_cast<uint32_t>(n),
         static_cast<uint32_t>(row_stride), in.offset, out.offset, log2u(tpr),
         static_cast<uint32_t>(parts), static_cast<uint32_t>(part_len)};
  const uint64_t groups = (rows * parts + (256 / tpr) - 1) / (256 / tpr);
  if (parts == 1) {
    const vulkan::Binding b[2] = {in.bind(false), out.bind(true)};
    dispatch_groups(c.vs, reduce_kernel(v), b, &push, sizeof(push), groups);
    return;
  }
  array partial = temp(rows * parts, c.acc);
  View pv = resident(partial);
  v.out = c.acc;
  push.out_off = pv.offset;
  const vulkan::Binding b[2] = {in.bind(false), pv.bind(true)};
  dispatch_groups(c.vs, reduce_kernel(v), b, &push, sizeof(push), groups);
  reduce_rows(c, c.acc, pv, rows, parts, parts, out_t, out);
}

// out[k1 * K2 + k2] = op over r of in[in_off + k1 * os + r * rs + k2].
void reduce_cols(Ctx& c, Dtype in_t, View in, uint64_t K1, uint64_t os, uint64_t R, uint64_t rs,
                 uint64_t K2, Dtype out_t, View out) {
  Variant v{c.op, in_t, out_t, c.acc, Layout::col};
  const uint64_t cx = std::min<uint64_t>(std::bit_ceil(K2), 64);
  const uint64_t cy = 256 / cx;
  const uint64_t tiles = (K2 + cx - 1) / cx;
  const uint64_t groups0 = tiles * K1;
  uint64_t parts = 1, part_len = std::max<uint64_t>(R, 1);
  if (groups0 < kTargetGroups && R >= 2 * cy * 32) {
    parts = std::min((kTargetGroups + groups0 - 1) / groups0, R / (cy * 32));
    part_len = (R + parts - 1) / parts;
    parts = (R + part_len - 1) / part_len;
  }
  struct {
    uint32_t K1, R, K2, rs, os, in_off, out_off, cx_shift, parts, part_len, tiles;
  } push{static_cast<uint32_t>(K1), static_cast<uint32_t>(R), static_cast<uint32_t>(K2),
         static_cast<uint32_t>(rs), static_cast<uint32_t>(os), in.offset, out.offset,
         log2u(cx), static_cast<uint32_t>(parts), static_cast<uint32_t>(part_len),
         static_cast<uint32_t>(tiles)};
  if (parts == 1) {
    const vulkan::Binding b[2] = {in.bind(false), out.bind(true)};
    dispatch_groups(c.vs, reduce_kernel(v), b, &push, sizeof(push), groups0);
    return;
  }
  array partial = temp(parts * K1 * K2, c.acc);
  View pv = resident(partial);
  v.out = c.acc;
  push.out_off = pv.offset;
  const vulkan::Binding b[2] = {in.bind(false), pv.bind(true)};
  dispatch_groups(c.vs, reduce_kernel(v), b, &push, sizeof(push), groups0 * parts);
  // The partials as [1, parts, K1 * K2].
  reduce_cols(c, c.acc, pv, 1, 0, parts, K1 * K2, K1 * K2, out_t, out);
}

using reduce_layout::Dim;

const char* op_name(RT op) {
  switch (op) {
    case Reduce::And: return "all";
    case Reduce::Or: return "any";
    case Reduce::Sum: return "sum";
    case Reduce::Prod: return "prod";
    case Reduce::Min: return "min";
    case Reduce::Max: return "max";
  }
  return "reduce";
}



void reduce_into(Ctx& c, const array& in, const array& out, const std::vector<int>& axes,
                 const char* name);

// A reduction whose input one binding window cannot reach: split along the input's first axis
// of extent > 1, as many rows at a time as fit. Along a kept axis each slab reduces into its
// slab of the output; along a reduced axis each slab reduces into a row of partials (in the
// accumulator dtype), and the partials are reduced again. Both recurse if a slab of one row is
// still too large.
void reduce_in_slabs(Ctx& c, const array& in, const array& out, const std::vector<int>& axes,
                     const char* name) {
  const int axis = split_axis(in);
  const int64_t extent = in.shape(axis);
  int64_t rows = extent;
  while (rows > 1 && (!fits_one_binding(slab(in, axis, 0, rows)) || uint64_t(rows) * (in.size() / extent) > 0xffffffffull))
    rows = (rows + 1) / 2;
  const int64_t pieces = (extent + rows - 1) / rows;
  const bool reduced = std::find(axes.begin(), axes.end(), axis) != axes.end();
  if (!reduced) {
    for (int64_t start = 0; start < extent; start += rows) {
      const int64_t count = std::min(rows, extent - start);
      reduce_into(c, slab(in, axis, start, count), slab(out, axis, start, count), axes, name);
    }
    return;
  }
  const int64_t k = static_cast<int64_t>(out.size());
  array partials(Shape{static_cast<int32_t>(pieces), static_cast<int32_t>(k)}, c.acc, nullptr, {});
  alloc_output(partials);
  for (int64_t i = 0; i < pieces; ++i) {
    const int64_t start = i * rows;
    array row = gpu_view(partials, out.shape(), row_major_strides(out.shape()), i * k);
    reduce_into(c, slab(in, axis, start, std::min(rows, extent - start)), row, axes, name);
  }
  reduce_into(c, partials, gpu_view(out, Shape{1, static_cast<int32_t>(k)}, Strides{k, 1}, 0), {0}, name);
}

// Reduces `in` over `axes` into the dense view `out` (its shape: `in`'s, reduced axes as 1).
void reduce_into(Ctx& c, const array& in, const array& out, const std::vector<int>& axes,
                 const char* name) {
  View ov = resident(out);
  if (in.size() == 0) {  // an empty reduction: the identity
    array dummy = temp(1, in.dtype());
    reduce_rows(c, in.dtype(), resident(dummy), out.size(), 0, 0, out.dtype(), ov);
    return;
  }
  if (!fits_one_binding(in) || in.size() > 0xffffffffull) {
    reduce_in_slabs(c, in, out, axes, name);
    return;
  }
  View iv = resident(in);

  auto layout = reduce_layout::analyse(in, axes);
  std::vector<Dim>& kept = layout.kept;
  std::vector<Dim>& red = layout.reduced;
  const bool negative = layout.negative_strides;
  if (!negative) {
    if (red.empty() && kept.size() <= 1) {  // only size-1 axes reduced: one element per row
      reduce_rows(c, in.dtype(), iv, kept.empty() ? 1 : kept[0].size, 1,
                  kept.empty() ? 0 : kept[0].stride, out.dtype(), ov);
      return;
    }
    if (red.size() == 1) {
      const Dim& r = red[0];
      if (r.stride == 1 && kept.size() <= 1) {
        reduce_rows(c, in.dtype(), iv, kept.empty() ? 1 : kept[0].size, r.size,
                    kept.empty() ? 0 : kept[0].stride, out.dtype(), ov);
        return;
      }
      if (!kept.empty() && kept.back().stride == 1 && kept.size() <= 2) {
        const Dim k2 = kept.back();
        const Dim k1 = kept.size() == 2 ? kept[0] : Dim{1, 0};
        reduce_cols(c, in.dtype(), iv, k1.size, k1.stride, r.size, r.stride, k2.size,
                    out.dtype(), ov);
        return;
      }
    }
  }
  // General: gather [kept..., reduced...] densely, then reduce rows.
  const auto order = reduce_layout::gather_order(layout);
  const Shape& shape = order.shape;
  const Strides& strides = order.strides;
  const uint64_t rows = static_cast<uint64_t>(order.rows), n = static_cast<uint64_t>(order.n);
  array src = gpu_view(in, shape, strides, 0);
  array dense(shape, in.dtype(), nullptr, {});
  alloc_output(dense);
  copy_into(src, dense, c.s, name);
  reduce_rows(c, in.dtype(), resident(dense), rows, n, n, out.dtype(), ov);
}

}  // namespace
}  // namespace gpu

void Reduce::eval_gpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  using namespace gpu;
  const array& in = inputs[0];
  array& out = outputs[0];
  const char* name = op_name(type_);
  if (in.dtype() == complex64 && (type_ == Min || type_ == Max)) {
    throw std::invalid_argument(std::string("[") + name + "] is not supported for complex64");
  }
  require_dtype(in.dtype(), name);
  require_dtype(out.dtype(), name);
  auto& vs = gpu::stream(stream());
  alloc_output(out);
  if (out.size() == 0) return;
  Ctx c{vs, stream(), type_, acc_dtype(type_, in.dtype(), out.dtype())};
  reduce_into(c, in, out, axes_, name);
}

namespace gpu {
namespace {
// The arg-reduction kernel for `t`: plain, or the partial / combine passes of an input
// reduced in parts (shaders/reduce.glsl, TS_ARG).
enum class ArgPass { whole, partial, combine };
vulkan::Kernel& arg_kernel(const char* name, bool is_max, Dtype t, ArgPass pass) {
  const std::string val = t == bool_ ? "uint" : compute_type(t);
  const bool fp = is_float_kind(t);
  const char* pass_name = pass == ArgPass::whole ? "" : pass == ArgPass::partial ? ":partial" : ":combine";
  std::string key = std::string("argreduce:") + name + ":" + dtype_name(t) + pass_name;
  auto source = [&] {
    std::ostringstream g;
    g << "#version 450\n" << extensions({t}) << "#include \"dtype.glsl\"\n#define TS_ARG\n";
    if (pass == ArgPass::partial) g << "#define TS_ARG_PARTIAL\n";
    if (pass == ArgPass::combine) g << "#define TS_ARG_COMBINE\n";
    g << "#define IN_T " << storage_type(t) << "\n#define VAL_T " << val << "\n"
      << "#define LOADV(x) " << value_expr(t, "x") << "\n"
      << "#define IS_MAX " << (is_max ? 1 : 0) << "\n#define IS_FP " << (fp ? 1 : 0)
      << "\n#include \"reduce.glsl\"\n";
    return g.str();
  };
  return device().kernel_from_glsl(key, source, pass == ArgPass::whole ? 2 : 3);
}

struct ArgPush {
  uint32_t outer, n, inner, in_off, tpr_shift, out_off, row_stride, index_base;
};

// One arg-reduction dispatch over `outer` rows of `n` x `inner` elements, rows `row_stride`
// apart in `in`. `extra` is the third binding of the partial pass (the values it writes) or of
// the combine pass (the candidates' indices it reads).
void dispatch_arg(vulkan::Stream& vs, vulkan::Kernel& k, View in, View out, const View* extra, bool extra_written,
                  uint64_t outer, uint64_t n, uint64_t inner, uint64_t row_stride, uint64_t index_base) {
  uint64_t tpr = 1, groups;
  if (inner == 1) {
    tpr = std::clamp<uint64_t>(std::bit_ceil(std::max<uint64_t>(1, (n + 3) / 4)), 1, 256);
    groups = (outer + 256 / tpr - 1) / (256 / tpr);
  } else {
    groups = (outer * inner + 255) / 256;
  }
  ArgPush push{static_cast<uint32_t>(outer), static_cast<uint32_t>(n), static_cast<uint32_t>(inner), in.offset,
               log2u(tpr), out.offset, static_cast<uint32_t>(row_stride), static_cast<uint32_t>(index_base)};
  const vulkan::Binding b[3] = {in.bind(false), out.bind(true), extra ? extra->bind(extra_written) : vulkan::Binding{}};
  dispatch_groups(vs, k, std::span(b, extra ? 3 : 2), &push, sizeof(push), groups);
}
}  // namespace
}  // namespace gpu

void ArgReduce::eval_gpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  using namespace gpu;
  const char* name = type_ == ArgMax ? "argmax" : "argmin";
  const bool is_max = type_ == ArgMax;
  array in = inputs[0];
  array& out = outputs[0];
  if (in.dtype() == complex64) {
    throw std::invalid_argument(std::string("[") + name + "] is not supported for complex64");
  }
  require_dtype(in.dtype(), name);
  auto& vs = gpu::stream(stream());
  alloc_output(out);
  if (out.size() == 0) return;
  uint64_t outer = 1, inner = 1;
  for (int i = 0; i < axis_; ++i) outer *= in.shape()[i];
  for (int i = axis_ + 1; i < in.ndim(); ++i) inner *= in.shape()[i];
  const uint64_t n = in.shape()[axis_];
  if (in.size() == 0) {
    in = temp(1, in.dtype());
  } else if (!in.flags().row_contiguous) {
    array dense(in.shape(), in.dtype(), nullptr, {});
    alloc_output(dense);
    copy_into(in, dense, stream(), name);
    in = dense;
  }
  const Dtype t = in.dtype();
  const uint64_t row = n * inner, item = in.itemsize();
  // A long row is one workgroup's work: past kLongRow elements it is reduced in parts too,
  // which spreads it over workgroups (one workgroup scanning a row of ~16M int32 came out
  // wrong on lavapipe, with ties won by a later index).
  constexpr uint64_t kLongRow = uint64_t{1} << 20;
  const bool long_rows = inner == 1 && n > kLongRow;
  if (fits_one_binding(in) && in.size() <= 0xffffffffull && !long_rows) {
    dispatch_arg(vs, arg_kernel(name, is_max, t, ArgPass::whole), resident(in), resident(out), nullptr,
                 false, outer, n, inner, row, 0);
    return;
  }
  // Past one binding's reach: as many whole rows per window as fit; a row that alone is too
  // large (or too long) is reduced in parts along n, each part's winner (value and index)
  // kept, and the parts' winners reduced again. The answer does not depend on the split.
  const uint64_t rows_per = units_per_binding(row * item);
  if (rows_per >= 1 && !long_rows) {
    auto& k = arg_kernel(name, is_max, t, ArgPass::whole);
    for (uint64_t r0 = 0; r0 < outer; r0 += rows_per) {
      const uint64_t rows = std::min(rows_per, outer - r0);
      dispatch_arg(vs, k, resident_at(in, r0 * row), resident_at(out, r0 * inner), nullptr, false, rows, n, inner,
                   row, 0);
    }
    return;
  }
  const uint64_t part_len = std::min<uint64_t>(units_per_binding(inner * item), long_rows ? kLongRow : UINT64_MAX);
  if (part_len == 0) {
    throw std::runtime_error(std::string("[") + name + "] " + std::to_string(inner * item) +
                             " bytes between consecutive elements along the axis are more than one GPU "
                             "binding reaches; use the CPU stream");
  }
  const uint64_t parts = (n + part_len - 1) / part_len;
  auto& k_part = arg_kernel(name, is_max, t, ArgPass::partial);
  auto& k_combine = arg_kernel(name, is_max, t, ArgPass::combine);
  for (uint64_t r = 0; r < outer; ++r) {
    array vals = temp(parts * inner, t), idx = temp(parts * inner, uint32);
    const View vv = resident(vals), xv = resident(idx);
    for (uint64_t p = 0; p < parts; ++p) {
      const uint64_t j0 = p * part_len, len = std::min(part_len, n - j0);
      View out_p = xv, vals_p = vv;
      out_p.offset += static_cast<uint32_t>(p * inner);
      dispatch_arg(vs, k_part, resident_at(in, r * row + j0 * inner), out_p, &vals_p, true, 1, len, inner, len * inner,
                   j0);
    }
    dispatch_arg(vs, k_combine, vv, resident_at(out, r * inner), &xv, false, 1, parts, inner, parts * inner, 0);
  }
}

}  // namespace tessera
