// Vulkan kernels of Gather, Scatter, GatherAxis and ScatterAxis: one invocation per point of
// the plan (backend/index_plan.hpp), generated GLSL per element size, index dtype and number of
// index arrays (compiled once, cached). The shape, strides and index geometry travel in the
// params buffer, so one kernel serves every rank.
//
// Gathers copy elements as their storage type. Scatters first copy the input into the output,
// then combine each update with a compare-and-swap loop on the 32-bit word holding the element
// (8- and 16-bit dtypes share words with their neighbours), or on the 64-bit element itself
// (needs shaderBufferInt64Atomics); int32/uint32 sum, max and min use the native atomics.
// Duplicate indices therefore accumulate exactly as on the CPU, in an unspecified order.
#include <limits>
#include <sstream>
#include <stdexcept>

#include "backend/index_plan.hpp"
#include "backend/vulkan/glsl_types.hpp"
#include "backend/vulkan/gpu_array.hpp"
#include "tessera/primitives/indexing.hpp"

namespace tessera {
namespace gpu {
namespace {

using index_plan::Plan;
using namespace glsl;

const char* index_type(Dtype t) { return storage_type(t); }  // int, uint, int64_t, uint64_t

// GLSL that reads index j into `int v<j>`, counting a negative one from the end, then clamps
// it into [0, bound] (clamp) or leaves `ok` false when it is outside (drop).
std::string fix_index(Dtype t, int j, const std::string& raw, const std::string& len, const std::string& bound,
                      bool clamp) {
  std::string v = std::to_string(j);
  v.insert(0, 1, 'v');  // (not "v" + ...: GCC 12 warns falsely about that concatenation)
  std::ostringstream g;
  if (t == int32) {
    g << "  int " << v << " = " << raw << ";\n  if (" << v << " < 0) " << v << " += " << len << ";\n";
    if (clamp) g << "  " << v << " = clamp(" << v << ", 0, " << bound << ");\n";
    else g << "  if (" << v << " < 0 || " << v << " > " << bound << ") return;\n";
  } else if (t == uint32) {
    g << "  uint u" << j << " = " << raw << ";\n";
    if (clamp) g << "  int " << v << " = u" << j << " > uint(" << bound << ") ? " << bound << " : int(u" << j << ");\n";
    else g << "  if (u" << j << " > uint(" << bound << ")) return;\n  int " << v << " = int(u" << j << ");\n";
  } else if (t == int64) {
    g << "  int64_t w" << j << " = " << raw << ";\n  if (w" << j << " < 0l) w" << j << " += int64_t(" << len << ");\n";
    if (clamp) g << "  int " << v << " = int(clamp(w" << j << ", 0l, int64_t(" << bound << ")));\n";
    else g << "  if (w" << j << " < 0l || w" << j << " > int64_t(" << bound << ")) return;\n  int " << v << " = int(w" << j << ");\n";
  } else {
    g << "  uint64_t w" << j << " = " << raw << ";\n";
    if (clamp) g << "  int " << v << " = w" << j << " > uint64_t(" << bound << ") ? " << bound << " : int(w" << j << ");\n";
    else g << "  if (w" << j << " > uint64_t(" << bound << ")) return;\n  int " << v << " = int(w" << j << ");\n";
  }
  return g.str();
}

// params: [nd, data_off, value_off, idx_off[k], shape[nd], data_strides[nd], value_strides[nd],
//          per index: strides[nd], data_stride, length, bound]
constexpr int kHead = 3;

std::string prologue(Dtype dtype, Dtype idx_dtype, int k, const std::string& extra) {
  std::ostringstream g;
  g << "#version 450\n#extension GL_GOOGLE_include_directive : require\n";
  if (dtype.size() == 1) g << "#extension GL_EXT_shader_8bit_storage : require\n";
  if (dtype.size() == 2) g << "#extension GL_EXT_shader_16bit_storage : require\n";
  if (dtype.size() == 8 || idx_dtype.size() == 8) g << "#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require\n";
  g << extra << "#include \"dtype.glsl\"\nlayout(local_size_x = " << kGroupSize << ") in;\n";
  for (int j = 0; j < k; ++j) {
    g << "layout(std430, set = 0, binding = " << 1 + j << ") readonly buffer Idx" << j << " { "
      << index_type(idx_dtype) << " d[]; } idx" << j << ";\n";
  }
  return g.str();
}

// The body that locates point i: `doff`, `voff` and the fixed indices' contribution.
std::string locate(Dtype idx_dtype, int k, bool clamp) {
  std::ostringstream g;
  g << "  uint i = gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * " << kGroupSize
    << "u;\n  if (i >= pc.n) return;\n  int nd = P(0);\n  int P0 = " << kHead + k
    << ";\n  int doff = 0, voff = 0;\n";
  for (int j = 0; j < k; ++j) g << "  int io" << j << " = 0;\n";
  g << "  uint rem = i;\n  for (int d = nd - 1; d >= 0; --d) {\n    uint sz = uint(P(P0 + d));\n"
       "    int c = int(rem % sz);\n    rem /= sz;\n    doff += c * P(P0 + nd + d);\n    voff += c * P(P0 + 2 * nd + d);\n";
  for (int j = 0; j < k; ++j) g << "    io" << j << " += c * P(P0 + 3 * nd + " << j << " * (nd + 3) + d);\n";
  g << "  }\n";
  for (int j = 0; j < k; ++j) {
    const std::string b = "P0 + 3 * nd + " + std::to_string(j) + " * (nd + 3) + nd";
    g << fix_index(idx_dtype, j, "idx" + std::to_string(j) + ".d[uint(P(" + std::to_string(kHead + j) + ") + io" +
                                     std::to_string(j) + ")]",
                   "P(" + b + " + 1)", "P(" + b + " + 2)", clamp);
    g << "  doff += v" << j << " * P(" << b << ");\n";
  }
  return g.str();
}

const char* kParamsDecl =
    "layout(push_constant) uniform Push { uint n; } pc;\n"
    "#define P(x) params.p[x]\n";

std::string gather_source(Dtype dtype, Dtype idx_dtype, int k) {
  std::ostringstream g;
  const char* st = storage_type(dtype);
  g << prologue(dtype, idx_dtype, k, "");
  g << "layout(std430, set = 0, binding = 0) readonly buffer Src { " << st << " d[]; } src;\n"
    << "layout(std430, set = 0, binding = " << k + 1 << ") writeonly buffer Out { " << st << " d[]; } dst;\n"
    << "layout(std430, set = 0, binding = " << k + 2 << ") readonly buffer Params { int p[]; } params;\n"
    << kParamsDecl << "void main() {\n"
    << locate(idx_dtype, k, true) << "  dst.d[uint(P(2)) + i] = src.d[uint(P(1) + doff)];\n}\n";
  return g.str();
}

// The element's compute-type value from the bits of its word (`b`, already shifted down).
std::string from_bits(Dtype t, const std::string& b) {
  switch (t.val) {
    case Dtype::Val::bool_: return "((" + b + " & 0xffu) != 0u)";
    case Dtype::Val::uint8: return "(" + b + " & 0xffu)";
    case Dtype::Val::int8: return "bitfieldExtract(int(" + b + "), 0, 8)";
    case Dtype::Val::uint16: return "(" + b + " & 0xffffu)";
    case Dtype::Val::int16: return "bitfieldExtract(int(" + b + "), 0, 16)";
    case Dtype::Val::float16: return "ts_f16_to_float(" + b + " & 0xffffu)";
    case Dtype::Val::bfloat16: return "ts_bf16_to_float(" + b + " & 0xffffu)";
    case Dtype::Val::float32: return "uintBitsToFloat(" + b + ")";
    case Dtype::Val::int32: return "int(" + b + ")";
    case Dtype::Val::uint32: return b;
    case Dtype::Val::int64: return "int64_t(" + b + ")";
    case Dtype::Val::uint64: return b;
    case Dtype::Val::float64: return "uint64BitsToDouble(" + b + ")";
    case Dtype::Val::complex64: return "vec2(uintBitsToFloat(uint(" + b + ")), uintBitsToFloat(uint(" + b + " >> 32)))";
  }
  return b;
}

// The bits of a compute-type value (of the element's width, in the low bits).
std::string to_bits(Dtype t, const std::string& v) {
  switch (t.val) {
    case Dtype::Val::bool_: return "(" + v + " ? 1u : 0u)";
    case Dtype::Val::uint8: case Dtype::Val::int8: return "(uint(" + v + ") & 0xffu)";
    case Dtype::Val::uint16: case Dtype::Val::int16: return "(uint(" + v + ") & 0xffffu)";
    case Dtype::Val::float16: return "ts_float_to_f16(" + v + ")";
    case Dtype::Val::bfloat16: return "ts_float_to_bf16(" + v + ")";
    case Dtype::Val::float32: return "floatBitsToUint(" + v + ")";
    case Dtype::Val::int32: return "uint(" + v + ")";
    case Dtype::Val::uint32: return v;
    case Dtype::Val::int64: return "uint64_t(" + v + ")";
    case Dtype::Val::uint64: return v;
    case Dtype::Val::float64: return "doubleBitsToUint64(" + v + ")";
    case Dtype::Val::complex64:
      return "(uint64_t(floatBitsToUint(" + v + ".x)) | (uint64_t(floatBitsToUint(" + v + ".y)) << 32))";
  }
  return v;
}

// The combination of update u into stored value v (compute types), as backend/cpu/indexing.cpp.
std::string combine_body(ScatterReduce r, Dtype t) {
  const bool fp = t == float16 || t == bfloat16 || t == float32 || t == float64;
  if (r == ScatterReduce::None) return "u";
  if (t == bool_) return (r == ScatterReduce::Sum || r == ScatterReduce::Max) ? "v || u" : "v && u";
  if (t == complex64) return r == ScatterReduce::Sum ? "v + u" : "vec2(v.x * u.x - v.y * u.y, v.x * u.y + v.y * u.x)";
  switch (r) {
    case ScatterReduce::Sum: return wrap_expr(t, "v + u");
    case ScatterReduce::Prod: return wrap_expr(t, "v * u");
    case ScatterReduce::Max: return fp ? "(isnan(v) ? v : isnan(u) ? u : max(v, u))" : "max(v, u)";
    case ScatterReduce::Min: return fp ? "(isnan(v) ? v : isnan(u) ? u : min(v, u))" : "min(v, u)";
    default: return "u";
  }
}

std::string scatter_source(ScatterReduce r, Dtype dtype, Dtype idx_dtype, int k) {
  const int size = static_cast<int>(dtype.size());
  const std::string C = compute_type(dtype);
  const bool wide = size == 8;
  std::ostringstream g;
  g << prologue(dtype, idx_dtype, k, wide ? "#extension GL_EXT_shader_atomic_int64 : require\n" : "");
  g << "layout(std430, set = 0, binding = 0) buffer Out { " << (wide ? "uint64_t" : "uint") << " w[]; } dst;\n"
    << "layout(std430, set = 0, binding = " << k + 1 << ") readonly buffer Upd { " << storage_type(dtype)
    << " d[]; } upd;\n"
    << "layout(std430, set = 0, binding = " << k + 2 << ") readonly buffer Params { int p[]; } params;\n"
    << kParamsDecl;
  g << C << " combine(" << C << " v, " << C << " u) { return " << combine_body(r, dtype) << "; }\n";
  g << "void main() {\n" << locate(idx_dtype, k, false);
  g << "  " << C << " u = " << load_expr(dtype, "upd.d[uint(P(2) + voff)]") << ";\n";
  g << "  uint e = uint(P(1) + doff);\n";
  const bool native = (dtype == int32 || dtype == uint32) &&
                      (r == ScatterReduce::Sum || r == ScatterReduce::Max || r == ScatterReduce::Min);
  if (native) {
    const char* fn = r == ScatterReduce::Sum ? "atomicAdd" : r == ScatterReduce::Max ? "atomicMax" : "atomicMin";
    // The buffer holds uint words; signed max/min compare the words as ints.
    if (dtype == int32 && r != ScatterReduce::Sum) {
      g << "  " << C << " cur = int(dst.w[e]);\n"
        << "  for (;;) {\n    int nv = combine(cur, u);\n    if (nv == cur) return;\n"
        << "    uint prev = atomicCompSwap(dst.w[e], uint(cur), uint(nv));\n    if (prev == uint(cur)) return;\n"
        << "    cur = int(prev);\n  }\n}\n";
    } else {
      g << "  " << fn << "(dst.w[e], uint(u));\n}\n";
    }
    return g.str();
  }
  if (wide) {
    g << "  uint64_t old = dst.w[e];\n  for (;;) {\n"
      << "    uint64_t nw = " << to_bits(dtype, "combine(" + from_bits(dtype, "old") + ", u)") << ";\n"
      << "    uint64_t prev = atomicCompSwap(dst.w[e], old, nw);\n    if (prev == old) return;\n    old = prev;\n  }\n}\n";
    return g.str();
  }
  // Words: the element's byte offset gives its word and its shift inside it.
  if (size == 4) {
    g << "  uint word = e, shift = 0u, mask = 0xffffffffu;\n";
  } else {
    g << "  uint byte_off = e * " << size << "u;\n  uint word = byte_off >> 2u, shift = (byte_off & 3u) * 8u;\n"
      << "  uint mask = " << (size == 1 ? "0xffu" : "0xffffu") << ";\n";
  }
  g << "  uint old = dst.w[word];\n  for (;;) {\n"
    << "    uint bits = (old >> shift) & mask;\n"
    << "    uint nb = " << to_bits(dtype, "combine(" + from_bits(dtype, "bits") + ", u)") << " & mask;\n"
    << "    uint nw = (old & ~(mask << shift)) | (nb << shift);\n"
    << "    if (nw == old) return;\n"
    << "    uint prev = atomicCompSwap(dst.w[word], old, nw);\n    if (prev == old) return;\n    old = prev;\n  }\n}\n";
  return g.str();
}

// The plan's params, checked to fit the kernels' int32 arithmetic.
std::vector<int32_t> plan_params(const Plan& p, int64_t data_off, int64_t value_off,
                                 const std::vector<View>& idx_views, const char* op) {
  std::vector<int64_t> v;
  const int nd = static_cast<int>(p.shape.size());
  v.push_back(nd);
  v.push_back(data_off);
  v.push_back(value_off);
  for (auto& iv : idx_views) v.push_back(iv.offset);
  v.insert(v.end(), p.shape.begin(), p.shape.end());
  v.insert(v.end(), p.data_strides.begin(), p.data_strides.end());
  v.insert(v.end(), p.value_strides.begin(), p.value_strides.end());
  for (auto& ix : p.indices) {
    v.insert(v.end(), ix.strides.begin(), ix.strides.end());
    v.push_back(ix.data_stride);
    v.push_back(ix.length);
    v.push_back(ix.bound);
  }
  std::vector<int32_t> out;
  for (int64_t x : v) {
    if (x > std::numeric_limits<int32_t>::max() || x < std::numeric_limits<int32_t>::min()) {
      throw std::runtime_error(std::string("[") + op + "] an offset or stride of " + std::to_string(x) +
                               " elements is beyond the GPU kernel's 32-bit arithmetic; use the CPU stream");
    }
    out.push_back(static_cast<int32_t>(x));
  }
  return out;
}

void check_binding(const array& a, const char* op) {
  if (!fits_one_binding(a)) {
    throw std::runtime_error(std::string("[") + op + "] an array of shape " + shape_string(a.shape()) +
                             " spans more than one GPU binding reaches; use the CPU stream");
  }
}

void dispatch_plan(vulkan::Kernel& kernel, std::vector<vulkan::Binding>& bindings, const std::vector<int32_t>& params,
                   uint64_t n, const Stream& s, const char* op) {
  if (n > 0xffffffffull) {
    throw std::runtime_error(std::string("[") + op + "] " + std::to_string(n) +
                             " elements are more than one GPU dispatch covers; use the CPU stream");
  }
  struct {
    uint32_t n;
  } push{static_cast<uint32_t>(n)};
  uint32_t gx, gy;
  grid_for(n, kGroupSize, gx, gy);
  stream(s).dispatch(kernel, bindings, &push, sizeof(push), std::as_bytes(std::span(params)), gx, gy);
}

std::vector<View> bind_indices(const std::vector<array>& idx, std::vector<vulkan::Binding>& bindings, const char* op) {
  std::vector<View> views;
  for (auto& a : idx) {
    check_binding(a, op);
    views.push_back(resident(a));
    bindings.push_back(views.back().bind(false));
  }
  return views;
}

void run_gather(const Plan& p, const array& src, const std::vector<array>& idx, array& out, const Stream& s,
                const char* op) {
  alloc_output(out);
  const uint64_t n = out.size();
  if (n == 0) return;
  const Dtype idt = idx.empty() ? int32 : idx[0].dtype();
  require_dtype(out.dtype(), op);
  require_dtype(idt, op);
  check_binding(src, op);
  const int k = static_cast<int>(idx.size());
  const std::string key = std::string("gather:") + dtype_name(out.dtype()) + ":" + dtype_name(idt) + ":" + std::to_string(k);
  auto& kernel = device().kernel_from_glsl(key, [&] { return gather_source(out.dtype(), idt, k); },
                                           static_cast<uint32_t>(k + 2));
  std::vector<vulkan::Binding> bindings;
  View sv = resident(src);
  bindings.push_back(sv.bind(false));
  auto views = bind_indices(idx, bindings, op);
  View ov = resident(out);
  bindings.push_back(ov.bind(true));
  dispatch_plan(kernel, bindings, plan_params(p, sv.offset, ov.offset, views, op), n, s, op);
}

void run_scatter(const Plan& p, ScatterReduce r, const array& a, const std::vector<array>& idx, const array& upd,
                 array& out, const Stream& s, const char* op) {
  require_dtype(out.dtype(), op);
  alloc_output(out);
  copy_into(a, out, s, op);
  const uint64_t n = static_cast<uint64_t>(p.size());
  if (n == 0 || out.size() == 0) return;
  const Dtype idt = idx.empty() ? int32 : idx[0].dtype();
  require_dtype(idt, op);
  if (out.itemsize() == 8 && !device().caps().int64_atomics) {
    throw std::runtime_error(std::string("[") + op + "] a scatter of dtype " + to_string(out.dtype()) +
                             " needs the Vulkan feature shaderBufferInt64Atomics, which " +
                             device().caps().device_name + " does not offer; use the CPU stream");
  }
  check_binding(out, op);
  check_binding(upd, op);
  const int k = static_cast<int>(idx.size());
  const std::string key = std::string("scatter:") + scatter_reduce_name(r) + ":" + dtype_name(out.dtype()) + ":" +
                          dtype_name(idt) + ":" + std::to_string(k);
  auto& kernel = device().kernel_from_glsl(key, [&] { return scatter_source(r, out.dtype(), idt, k); },
                                           static_cast<uint32_t>(k + 2));
  std::vector<vulkan::Binding> bindings;
  View ov = resident(out);
  bindings.push_back(ov.bind(true));
  auto views = bind_indices(idx, bindings, op);
  View uv = resident(upd);
  bindings.push_back(uv.bind(false));
  dispatch_plan(kernel, bindings, plan_params(p, ov.offset, uv.offset, views, op), n, s, op);
}

}  // namespace
}  // namespace gpu

void Gather::eval_gpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  const std::vector<array> idx(inputs.begin() + 1, inputs.end());
  gpu::run_gather(index_plan::gather(inputs, outputs[0], axes_, slice_sizes_), inputs[0], idx, outputs[0], stream(),
                  "gather");
}

void GatherAxis::eval_gpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  gpu::run_gather(index_plan::gather_axis(inputs, outputs[0], axis_), inputs[0], {inputs[1]}, outputs[0], stream(),
                  "take_along_axis");
}

void Scatter::eval_gpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  const std::vector<array> idx(inputs.begin() + 1, inputs.end() - 1);
  gpu::run_scatter(index_plan::scatter(inputs, outputs[0].shape(), axes_), reduce_, inputs[0], idx, inputs.back(),
                   outputs[0], stream(), scatter_reduce_name(reduce_));
}

void ScatterAxis::eval_gpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  gpu::run_scatter(index_plan::scatter_axis(inputs, outputs[0].shape(), axis_), reduce_, inputs[0], {inputs[1]},
                   inputs[2], outputs[0], stream(), reduce_ == ScatterReduce::None ? "put_along_axis" : "scatter_add_axis");
}

}  // namespace tessera
