// Vulkan kernel of Arange: out[i] = start + i * step in the output's compute type. The values
// travel as push constants, so one kernel per dtype serves every range.
#include <cstring>

#include "backend/vulkan/gpu_array.hpp"
#include "tessera/primitives/creation.hpp"

namespace tessera {

namespace {
std::string arange_source(Dtype t) {
  std::string compute, store, load_start, load_step, ext;
  switch (kind(t)) {
    case Dtype::Kind::f:
      if (t == float64) {
        compute = "double";
        load_start = "packDouble2x32(uvec2(pc.start_lo, pc.start_hi))";
        load_step = "packDouble2x32(uvec2(pc.step_lo, pc.step_hi))";
      } else {
        compute = "float";
        load_start = "uintBitsToFloat(pc.start_lo)";
        load_step = "uintBitsToFloat(pc.step_lo)";
      }
      break;
    case Dtype::Kind::i:
      compute = t == int64 ? "int64_t" : "int";
      load_start = t == int64 ? "int64_t(packInt2x32(ivec2(pc.start_lo, pc.start_hi)))" : "int(pc.start_lo)";
      load_step = t == int64 ? "int64_t(packInt2x32(ivec2(pc.step_lo, pc.step_hi)))" : "int(pc.step_lo)";
      break;
    default:
      compute = t == uint64 ? "uint64_t" : "uint";
      load_start = t == uint64 ? "packUint2x32(uvec2(pc.start_lo, pc.start_hi))" : "pc.start_lo";
      load_step = t == uint64 ? "packUint2x32(uvec2(pc.step_lo, pc.step_hi))" : "pc.step_lo";
  }
  std::string storage = compute, value = "v";
  if (t == float16) { storage = "uint16_t"; value = "uint16_t(ts_float_to_f16(v))"; }
  if (t == bfloat16) { storage = "uint16_t"; value = "uint16_t(ts_float_to_bf16(v))"; }
  if (t == int16) { storage = "int16_t"; value = "int16_t(v)"; }
  if (t == uint16) { storage = "uint16_t"; value = "uint16_t(v)"; }
  if (t == int8) { storage = "int8_t"; value = "int8_t(v)"; }
  if (t == uint8) { storage = "uint8_t"; value = "uint8_t(v)"; }
  std::string src = "#version 450\n#extension GL_GOOGLE_include_directive : require\n";
  if (t.size() == 8 && t != float64) src += "#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require\n";
  if (t.size() == 2) src += "#extension GL_EXT_shader_16bit_storage : require\n";
  if (t.size() == 1) src += "#extension GL_EXT_shader_8bit_storage : require\n";
  src += "#include \"dtype.glsl\"\nlayout(local_size_x = 256) in;\n";
  src += "layout(std430, set = 0, binding = 0) writeonly buffer Out { " + storage + " d[]; } out0;\n";
  src += "layout(push_constant) uniform Push { uint n; uint offset; uint start_lo; uint start_hi; uint step_lo; uint step_hi; uint base; } pc;\n";
  src += "void main() {\n  uint i = gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * 256u;\n";
  src += "  if (i >= pc.n) return;\n";
  src += "  " + compute + " v = " + load_start + " + " + compute + "(pc.base + i) * " + load_step + ";\n";
  src += "  out0.d[pc.offset + i] = " + value + ";\n}\n";
  return src;
}

template <typename T>
void split_bits(T v, uint32_t& lo, uint32_t& hi) {
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof(T));
  lo = static_cast<uint32_t>(bits);
  hi = static_cast<uint32_t>(bits >> 32);
}
}  // namespace

void Arange::eval_gpu(const std::vector<array>&, std::vector<array>& outputs) {
  array& out = outputs[0];
  gpu::require_dtype(out.dtype(), "arange");
  auto& vs = gpu::stream(stream());
  gpu::alloc_output(out);
  if (out.size() == 0) return;
  struct {
    uint32_t n, offset, start_lo, start_hi, step_lo, step_hi, base;
  } push{static_cast<uint32_t>(out.size()), 0, 0, 0, 0, 0, 0};
  // The step is T(start + step) - T(start), as on the CPU.
  dispatch_dtype(out.dtype(), [&](auto v) {
    using T = decltype(v);
    if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, complex64_t>) {
      return;
    } else if constexpr (std::is_same_v<T, float16_t> || std::is_same_v<T, bfloat16_t>) {
      float start = static_cast<float>(static_cast<T>(start_));
      float step = static_cast<float>(static_cast<T>(static_cast<T>(start_ + step_) - static_cast<T>(start_)));
      split_bits(start, push.start_lo, push.start_hi);
      split_bits(step, push.step_lo, push.step_hi);
    } else {
      T start = static_cast<T>(start_);
      T step = static_cast<T>(static_cast<T>(start_ + step_) - start);
      split_bits(start, push.start_lo, push.start_hi);
      split_bits(step, push.step_lo, push.step_hi);
    }
  });
  auto& kernel = gpu::device().kernel_from_glsl(std::string("arange:") + dtype_name(out.dtype()),
                                                [&] { return arange_source(out.dtype()); }, 1);
  // Past one binding's reach, the output is written a window at a time; the kernel counts
  // elements from `base`, so the values do not depend on the split.
  if (out.size() > UINT32_MAX) {
    throw std::runtime_error("[arange] more than 2^32 elements on the GPU; use the CPU stream");
  }
  const int64_t chunk = gpu::fits_one_binding(out) ? static_cast<int64_t>(out.size())
                                                    : gpu::units_per_binding(out.itemsize());
  for (int64_t start = 0; start < static_cast<int64_t>(out.size()); start += chunk) {
    const int64_t count = std::min<int64_t>(chunk, static_cast<int64_t>(out.size()) - start);
    gpu::View ov = gpu::resident_at(out, static_cast<uint64_t>(start));
    push.n = static_cast<uint32_t>(count);
    push.offset = ov.offset;
    push.base = static_cast<uint32_t>(start);
    vulkan::Binding b = ov.bind(true);
    uint32_t gx, gy;
    gpu::grid_for(static_cast<uint64_t>(count), gpu::kGroupSize, gx, gy);
    vs.dispatch(kernel, std::span(&b, 1), &push, sizeof(push), {}, gx, gy);
  }
}

}  // namespace tessera
