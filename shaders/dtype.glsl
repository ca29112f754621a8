// Conversions between the storage types of Tessera's dtypes and the types kernels compute in.
// float16 and bfloat16 live in 16-bit storage and compute in float; 8-bit types and bool live
// in 8-bit storage and compute in int/uint/bool. After every operation a 16-bit float result is
// rounded back to its precision, as the CPU kernels do, so fused and unfused results agree.
#ifndef TESSERA_DTYPE_GLSL
#define TESSERA_DTYPE_GLSL

float ts_nan() { return uintBitsToFloat(0x7fc00000u); }

float ts_f16_to_float(uint bits) { return unpackHalf2x16(bits).x; }
uint ts_float_to_f16(float v) { return packHalf2x16(vec2(v, 0.0)) & 0xffffu; }
// Rounds to the nearest float16 value (ties to even), with integer arithmetic: drivers may
// fold an unpackHalf2x16(packHalf2x16(v)) round trip into v, skipping the rounding.
float ts_round_f16(float v) {
  uint u = floatBitsToUint(v);
  uint e = (u >> 23) & 0xffu;
  if (e == 0xffu) return v;  // inf, nan
  if (e < 113u) {
    // float16 subnormals are multiples of 2^-24: exact in float, rounded by roundEven.
    return roundEven(v * 16777216.0) * 5.9604644775390625e-8;
  }
  u = (u + 0xfffu + ((u >> 13) & 1u)) & ~0x1fffu;  // keep 10 mantissa bits, ties to even
  float r = uintBitsToFloat(u);
  return abs(r) > 65504.0 ? (v > 0.0 ? uintBitsToFloat(0x7f800000u) : uintBitsToFloat(0xff800000u)) : r;
}

float ts_bf16_to_float(uint bits) { return uintBitsToFloat(bits << 16); }
// Round to nearest even, keeping NaN a NaN.
uint ts_float_to_bf16(float v) {
  if (isnan(v)) return 0x7fc0u;
  uint u = floatBitsToUint(v);
  u += 0x7fffu + ((u >> 16) & 1u);
  return u >> 16;
}
float ts_round_bf16(float v) { return ts_bf16_to_float(ts_float_to_bf16(v)); }

int ts_wrap_i8(int v) { return bitfieldExtract(v, 0, 8); }
int ts_wrap_i16(int v) { return bitfieldExtract(v, 0, 16); }
uint ts_wrap_u8(uint v) { return v & 0xffu; }
uint ts_wrap_u16(uint v) { return v & 0xffffu; }

#endif
