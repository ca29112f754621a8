#pragma once
// How Tessera's dtypes appear in generated GLSL: the storage type of a buffer element, the type
// kernels compute in, and the expressions that convert between them. Shared by every kernel
// generator (elementwise, reduce, ...), with the helper functions of shaders/dtype.glsl.
#include <string>

#include "tessera/core/dtype.hpp"

namespace tessera::gpu::glsl {

// float16/bfloat16 live in uint16_t, bool/uint8 in uint8_t (8/16-bit storage extensions).
const char* storage_type(Dtype t);
// float16/bfloat16 compute in float, 8/16-bit integers in int/uint, bool as bool.
const char* compute_type(Dtype t);
// A stored element `raw` as its compute type.
std::string load_expr(Dtype t, const std::string& raw);
// A compute-type value `v` as its storage type.
std::string store_expr(Dtype t, const std::string& v);
// `v` rounded to its dtype's precision / range after an operation.
std::string wrap_expr(Dtype t, const std::string& v);
// `v` of compute type `from` converted to `to` (with the same semantics as the CPU's astype).
std::string cast_expr(Dtype from, Dtype to, const std::string& v);

// The lowest (or highest) value of dtype `in` as a literal of accumulator `acc`'s compute
// type: -inf / +inf for floats; the integer extremes of `in` itself (so a max-scan of int8
// starts at -128, as on the CPU) otherwise. Not for bool.
std::string extreme_expr(Dtype in, Dtype acc, bool lowest);

}  // namespace tessera::gpu::glsl
