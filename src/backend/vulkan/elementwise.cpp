// Vulkan kernel of the Elementwise node, and the strided copy that the shape primitives use.
// The GLSL is generated from the program (one statement per instruction, calling the op
// snippets of shaders/elementwise_ops.glsl), compiled once per program signature and access
// pattern through glslang, and cached (in memory, and as SPIR-V + pipeline cache on disk).
#include <sstream>

#include "backend/vulkan/glsl_types.hpp"
#include "backend/vulkan/gpu_array.hpp"
#include "tessera/primitives/elementwise.hpp"
#include "tessera/primitives/shape.hpp"

namespace tessera {
namespace gpu {

namespace {

using namespace glsl;

constexpr uint32_t kItemsPerThread = 4;

// How a kernel reads an operand / writes its output.
enum class Access : char { dense = 'd', scalar = 's', strided = 'x' };

Access access_of(const array& a, const Shape& out_shape) {
  if (a.size() == 1) return Access::scalar;
  if (a.flags().row_contiguous && a.shape() == out_shape) return Access::dense;
  return Access::strided;
}

// The 4-wide type of a 4-byte storage type (the dense path of `vec4` kernels).
std::string vec4_of(const char* storage) {
  const std::string s = storage;
  return s == "float" ? "vec4" : s == "int" ? "ivec4" : "uvec4";
}

// `vec4`: every dense operand and the output are read/written 4 elements at a time (16-byte
// loads and stores); only for 4-byte dtypes, 16-byte aligned offsets and n % 4 == 0.
std::string generate(const ElementwiseProgram& p, const std::vector<Access>& in_access,
                     Dtype out_dtype, Access out_access, bool vec4) {
  const int k_in = static_cast<int>(p.input_dtypes.size());
  bool need8 = false, need16 = false, need64i = false, need64f = false;
  auto note = [&](Dtype t) {
    need8 |= t.size() == 1;
    need16 |= t.size() == 2;
    need64i |= t == int64 || t == uint64;
    need64f |= t == float64;
  };
  for (auto& t : p.input_dtypes) note(t);
  for (auto& in : p.code) note(in.dtype);
  note(out_dtype);

  std::ostringstream g;
  g << "#version 450\n#extension GL_GOOGLE_include_directive : require\n";
  if (need8) g << "#extension GL_EXT_shader_8bit_storage : require\n";
  if (need16) g << "#extension GL_EXT_shader_16bit_storage : require\n";
  if (need64i) g << "#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require\n#define TS_INT64\n";
  if (need64f) g << "#define TS_FLOAT64\n";
  g << "#include \"elementwise_ops.glsl\"\n";
  g << "layout(local_size_x = " << kGroupSize << ") in;\n";
  for (int i = 0; i < k_in; ++i) {
    const char* st = storage_type(p.input_dtypes[i]);
    g << "layout(std430, set = 0, binding = " << i << ") readonly buffer In" << i << " { "
      << (vec4 && in_access[i] == Access::dense ? vec4_of(st) : std::string(st)) << " d[]; } in"
      << i << ";\n";
  }
  g << "layout(std430, set = 0, binding = " << k_in << ") writeonly buffer Out { "
    << (vec4 ? vec4_of(storage_type(out_dtype)) : std::string(storage_type(out_dtype)))
    << " d[]; } out0;\n";
  g << "layout(std430, set = 0, binding = " << k_in + 1 << ") readonly buffer Params { int p[]; } params;\n";
  g << "layout(push_constant) uniform Push { uint n; uint ndim; } pc;\n";
  // params: [out_offset, in_offset[k_in], shape[ndim], out_strides[ndim], in_strides[k][ndim]]
  g << "const uint SHAPE = " << 1 + k_in << "u;\n";
  g << "uint strided_index(uint i, uint pos) {\n"
       "  int idx = 0;\n"
       "  for (int d = int(pc.ndim) - 1; d >= 0; --d) {\n"
       "    uint sz = uint(params.p[SHAPE + uint(d)]);\n"
       "    idx += int(i % sz) * params.p[pos + uint(d)];\n"
       "    i /= sz;\n"
       "  }\n"
       "  return uint(idx);\n"
       "}\n";
  // Each invocation handles kItemsPerThread elements one workgroup-width apart: accesses stay
  // coalesced and each thread keeps several independent loads in flight.
  g << "void main() {\n"
       "  uint group = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;\n"
       "  for (uint k = 0u; k < " << kItemsPerThread << "u; ++k) {\n"
       "  uint i = (group * " << kItemsPerThread << "u + k) * " << kGroupSize
    << "u + gl_LocalInvocationID.x;\n  if (i >= pc.n) return;\n";
  // The body: inputs loaded into registers r0.., one statement per instruction.
  auto load_input = [&](int k) {
    std::string idx = "uint(params.p[" + std::to_string(1 + k) + "])";
    if (in_access[k] == Access::dense) idx += " + i";
    if (in_access[k] == Access::strided) {
      idx += " + strided_index(i, SHAPE + (2u + " + std::to_string(k) + "u) * pc.ndim)";
    }
    g << "  " << compute_type(p.input_dtypes[k]) << " r" << k << " = "
      << load_expr(p.input_dtypes[k], "in" + std::to_string(k) + ".d[" + idx + "]") << ";\n";
  };
  auto instructions = [&] {
    for (size_t c = 0; c < p.code.size(); ++c) {
      const auto& in = p.code[c];
      const int r = k_in + static_cast<int>(c);
      std::string value;
      if (in.op == ElemOp::AsType) {
        value = cast_expr(p.register_dtype(in.args[0]), in.dtype, "r" + std::to_string(in.args[0]));
      } else {
        value = std::string("op_") + op_function(in.op) + "(";
        for (int a = 0; a < op_arity(in.op); ++a) value += (a ? ", r" : "r") + std::to_string(in.args[a]);
        value = wrap_expr(in.dtype, value + ")");
      }
      g << "  " << compute_type(in.dtype) << " r" << r << " = " << value << ";\n";
    }
  };
  const std::string last = "r" + std::to_string(p.num_registers() - 1);
  if (vec4) {
    // i counts groups of 4 elements; element offsets in params are multiples of 4.
    for (int k = 0; k < k_in; ++k) {
      if (in_access[k] == Access::dense) {
        g << "  " << vec4_of(storage_type(p.input_dtypes[k])) << " v" << k << " = in" << k
          << ".d[uint(params.p[" << 1 + k << "]) / 4u + i];\n";
      } else {
        load_input(k);
      }
    }
    g << "  " << vec4_of(storage_type(out_dtype)) << " o;\n  for (int c = 0; c < 4; ++c) {\n";
    for (int k = 0; k < k_in; ++k) {
      if (in_access[k] == Access::dense) {
        g << "  " << compute_type(p.input_dtypes[k]) << " r" << k << " = v" << k << "[c];\n";
      }
    }
    instructions();
    g << "  o[c] = " << last << ";\n  }\n  out0.d[uint(params.p[0]) / 4u + i] = o;\n  }\n}\n";
    return g.str();
  }
  for (int k = 0; k < k_in; ++k) load_input(k);
  instructions();
  std::string out_idx = "uint(params.p[0])";
  out_idx += out_access == Access::dense ? " + i" : " + strided_index(i, SHAPE + pc.ndim)";
  g << "  out0.d[" << out_idx << "] = " << store_expr(out_dtype, last) << ";\n  }\n}\n";
  return g.str();
}

}  // namespace

// Runs `p` over `inputs` into the view `out` (which may be strided: a region of a bigger
// array). `out` must already hold its buffer.
void run_program(const ElementwiseProgram& p, const std::vector<array>& inputs, const array& out,
                 const Stream& s, const char* op);

namespace {
bool fits_one_dispatch(const std::vector<array>& inputs, const array& out) {
  if (out.size() > 0xffffffffull || !fits_one_binding(out)) return false;
  for (auto& in : inputs)
    if (!fits_one_binding(in)) return false;
  return true;
}

// Work too large for one binding window (or for 2^32 invocations): the program runs on slabs
// of the output's first axis of extent > 1, as many rows at a time as fit. A slab of one row
// that is still too large is split again along its next axis by the recursive call.
void run_in_slabs(const ElementwiseProgram& p, const std::vector<array>& inputs, const array& out,
                  const Stream& s, const char* op) {
  const int axis = split_axis(out);
  if (axis < 0) throw std::logic_error(std::string("[") + op + "] cannot split a one-element output");
  const int64_t extent = out.shape(axis);
  auto slabs = [&](int64_t start, int64_t count) {
    std::vector<array> ins;
    for (auto& in : inputs) {
      const int d = axis - (out.ndim() - in.ndim());  // the input's matching axis
      ins.push_back(d >= 0 && in.shape(d) == extent ? slab(in, d, start, count) : in);
    }
    return std::make_pair(ins, slab(out, axis, start, count));
  };
  int64_t rows = extent;
  while (rows > 1) {
    auto [ins, o] = slabs(0, rows);
    if (fits_one_dispatch(ins, o)) break;
    rows = (rows + 1) / 2;
  }
  if (extent / rows > 65536) {
    throw std::runtime_error(std::string("[") + op + "] an array of shape " + shape_string(out.shape()) +
                             " is laid out too sparsely to split into GPU bindings; use the CPU stream");
  }
  for (int64_t start = 0; start < extent; start += rows) {
    auto [ins, o] = slabs(start, std::min(rows, extent - start));
    run_program(p, ins, o, s, op);
  }
}
}  // namespace

void run_program(const ElementwiseProgram& p, const std::vector<array>& inputs, const array& out,
                 const Stream& s, const char* op) {
  const uint64_t n = out.size();
  if (n == 0) return;
  if (!fits_one_dispatch(inputs, out)) {
    run_in_slabs(p, inputs, out, s, op);
    return;
  }
  for (auto& t : p.input_dtypes) require_dtype(t, op);
  for (auto& in : p.code) require_dtype(in.dtype, op);
  require_dtype(out.dtype(), op);

  auto& vs = stream(s);
  const int k_in = static_cast<int>(inputs.size());
  // Per-thread scratch, reused node after node (this runs once per GPU node; nothing below
  // re-enters it).
  thread_local std::vector<Access> access;
  thread_local std::string key;
  thread_local std::vector<vulkan::Binding> bindings;
  thread_local std::vector<int32_t> params;
  access.clear();
  key.assign("ew:");
  p.append_signature(key);
  key += ':';
  for (auto& a : inputs) {
    access.push_back(access_of(a, out.shape()));
    key += static_cast<char>(access.back());
  }
  const Access out_access = out.flags().row_contiguous ? Access::dense : Access::strided;
  key += static_cast<char>(out_access);
  key += dtype_name(out.dtype());

  // The 4-wide path: 4-byte real dtypes on every dense side, whole groups of 4, aligned offsets.
  auto four_bytes = [](Dtype t) { return t.size() == 4; };
  bool vec4 = out_access == Access::dense && four_bytes(out.dtype()) && n % 4 == 0 &&
              (out.offset() / out.itemsize()) % 4 == 0;
  for (int k = 0; k < k_in && vec4; ++k) {
    if (access[k] == Access::strided) vec4 = false;
    if (access[k] == Access::dense) {
      vec4 = four_bytes(inputs[k].dtype()) && (inputs[k].offset() / inputs[k].itemsize()) % 4 == 0;
    }
  }
  if (vec4) key += ":v4";

  const uint32_t num_buffers = static_cast<uint32_t>(k_in + 1);
  vulkan::Kernel* kernel = device().find_kernel_from_glsl(key, num_buffers);
  if (!kernel) {
    kernel = &device().kernel_from_glsl(
        key, [&] { return generate(p, access, out.dtype(), out_access, vec4); }, num_buffers);
  }

  bindings.clear();
  const uint32_t ndim = static_cast<uint32_t>(out.ndim());
  params.assign(1 + k_in + (2 + k_in) * ndim, 0);
  for (int k = 0; k < k_in; ++k) {
    View v = resident(inputs[k]);
    bindings.push_back(v.bind(false));
    params[1 + k] = static_cast<int32_t>(v.offset);
    if (access[k] == Access::strided) {
      const int lead = out.ndim() - inputs[k].ndim();
      for (int d = 0; d < inputs[k].ndim(); ++d) {
        params[1 + k_in + (2 + k) * ndim + lead + d] =
            inputs[k].shape()[d] == 1 ? 0 : static_cast<int32_t>(inputs[k].strides()[d]);
      }
    }
  }
  View ov = resident(out);
  bindings.push_back(ov.bind(true));
  params[0] = static_cast<int32_t>(ov.offset);
  for (uint32_t d = 0; d < ndim; ++d) {
    params[1 + k_in + d] = out.shape()[d];
    params[1 + k_in + ndim + d] = static_cast<int32_t>(out.strides()[d]);
  }
  const uint64_t items = vec4 ? n / 4 : n;
  struct {
    uint32_t n, ndim;
  } push{static_cast<uint32_t>(items), ndim};
  uint32_t gx, gy;
  grid_for(items, kGroupSize * kItemsPerThread, gx, gy);
  vs.dispatch(*kernel, bindings, &push, sizeof(push), std::as_bytes(std::span(params)), gx, gy);
}

// A strided copy of `in` into the (possibly strided) view `out`: the empty program.
void copy_into(const array& in, const array& out, const Stream& s, const char* op) {
  ElementwiseProgram p;
  p.input_dtypes = {in.dtype()};
  if (!(in.dtype() == out.dtype())) p.code.push_back({ElemOp::AsType, out.dtype(), {0, 0, 0}});
  run_program(p, {in}, out, s, op);
}

}  // namespace gpu

void Elementwise::eval_gpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  gpu::alloc_output(outputs[0]);
  gpu::run_program(program_, inputs, outputs[0], stream(), name());
}

}  // namespace tessera
