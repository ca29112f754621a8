#include "backend/vulkan/glsl_types.hpp"

namespace tessera::gpu::glsl {

const char* storage_type(Dtype t) {
  switch (t.val) {
    case Dtype::Val::bool_: case Dtype::Val::uint8: return "uint8_t";
    case Dtype::Val::int8: return "int8_t";
    case Dtype::Val::uint16: case Dtype::Val::float16: case Dtype::Val::bfloat16: return "uint16_t";
    case Dtype::Val::int16: return "int16_t";
    case Dtype::Val::uint32: return "uint";
    case Dtype::Val::int32: return "int";
    case Dtype::Val::uint64: return "uint64_t";
    case Dtype::Val::int64: return "int64_t";
    case Dtype::Val::float32: return "float";
    case Dtype::Val::float64: return "double";
    case Dtype::Val::complex64: return "vec2";
  }
  return "float";
}

const char* compute_type(Dtype t) {
  switch (t.val) {
    case Dtype::Val::bool_: return "bool";
    case Dtype::Val::uint8: case Dtype::Val::uint16: case Dtype::Val::uint32: return "uint";
    case Dtype::Val::int8: case Dtype::Val::int16: case Dtype::Val::int32: return "int";
    case Dtype::Val::uint64: return "uint64_t";
    case Dtype::Val::int64: return "int64_t";
    case Dtype::Val::float16: case Dtype::Val::bfloat16: case Dtype::Val::float32: return "float";
    case Dtype::Val::float64: return "double";
    case Dtype::Val::complex64: return "vec2";
  }
  return "float";
}

std::string load_expr(Dtype t, const std::string& raw) {
  switch (t.val) {
    case Dtype::Val::float16: return "ts_f16_to_float(uint(" + raw + "))";
    case Dtype::Val::bfloat16: return "ts_bf16_to_float(uint(" + raw + "))";
    case Dtype::Val::bool_: return "(uint(" + raw + ") != 0u)";
    case Dtype::Val::uint8: case Dtype::Val::uint16: return "uint(" + raw + ")";
    case Dtype::Val::int8: case Dtype::Val::int16: return "int(" + raw + ")";
    default: return raw;
  }
}

std::string store_expr(Dtype t, const std::string& v) {
  switch (t.val) {
    case Dtype::Val::float16: return "uint16_t(ts_float_to_f16(" + v + "))";
    case Dtype::Val::bfloat16: return "uint16_t(ts_float_to_bf16(" + v + "))";
    case Dtype::Val::bool_: return "uint8_t(" + v + " ? 1u : 0u)";
    case Dtype::Val::uint8: return "uint8_t(" + v + ")";
    case Dtype::Val::int8: return "int8_t(" + v + ")";
    case Dtype::Val::uint16: return "uint16_t(" + v + ")";
    case Dtype::Val::int16: return "int16_t(" + v + ")";
    default: return v;
  }
}

// Rounds a freshly computed value to its dtype's range/precision.
std::string wrap_expr(Dtype t, const std::string& v) {
  switch (t.val) {
    case Dtype::Val::float16: return "ts_round_f16(" + v + ")";
    case Dtype::Val::bfloat16: return "ts_round_bf16(" + v + ")";
    case Dtype::Val::int8: return "ts_wrap_i8(" + v + ")";
    case Dtype::Val::int16: return "ts_wrap_i16(" + v + ")";
    case Dtype::Val::uint8: return "ts_wrap_u8(" + v + ")";
    case Dtype::Val::uint16: return "ts_wrap_u16(" + v + ")";
    default: return v;
  }
}

std::string cast_expr(Dtype from, Dtype to, const std::string& v) {
  const std::string T = compute_type(to);
  std::string r;
  if (to == bool_) {
    r = from == complex64 ? "(" + v + " != vec2(0.0))" : "(" + v + " != " + compute_type(from) + "(0))";
  } else if (from == bool_) {
    r = to == complex64 ? "vec2(" + v + " ? 1.0 : 0.0, 0.0)" : "(" + v + " ? " + T + "(1) : " + T + "(0))";
  } else if (from == complex64) {
    r = T + "(" + v + ".x)";
  } else if (to == complex64) {
    r = "vec2(float(" + v + "), 0.0)";
  } else {
    r = T + "(" + v + ")";
  }
  return wrap_expr(to, r);
}

std::string extreme_expr(Dtype in, Dtype acc, bool lowest) {
  const std::string A = compute_type(acc);
  if (acc == float16 || acc == bfloat16 || acc == float32 || acc == float64) {
    return A + "(uintBitsToFloat(" + (lowest ? "0xff800000u" : "0x7f800000u") + "))";
  }
  switch (in.val) {
    case Dtype::Val::int8: return lowest ? "int(-128)" : "int(127)";
    case Dtype::Val::int16: return lowest ? "int(-32768)" : "int(32767)";
    case Dtype::Val::int32: return lowest ? "int(0x80000000u)" : "int(0x7fffffff)";
    case Dtype::Val::uint8: return lowest ? "0u" : "255u";
    case Dtype::Val::uint16: return lowest ? "0u" : "65535u";
    case Dtype::Val::uint32: return lowest ? "0u" : "0xffffffffu";
    case Dtype::Val::int64: return lowest ? "int64_t(0x8000000000000000ul)" : "int64_t(0x7ffffffffffffffful)";
    case Dtype::Val::uint64: return lowest ? "uint64_t(0)" : "uint64_t(0xfffffffffffffffful)";
    default: return A + "(0)";
  }
}

}  // namespace tessera::gpu::glsl
