// Convolution, bfloat16: 16-bit storage, float32 accumulation (body and layout in conv.glsl).
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_shader_16bit_storage : require
#include "dtype.glsl"
#define MM_T uint16_t
#define MM_C float
#define MM_LOAD(x) ts_bf16_to_float(uint(x))
#define MM_STORE(v) uint16_t(ts_float_to_bf16(v))
#include "conv.glsl"
