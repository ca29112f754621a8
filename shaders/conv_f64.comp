// Convolution, float64 (needs shaderFloat64; body and layout in conv.glsl).
#version 450
#extension GL_GOOGLE_include_directive : require
#define MM_T double
#define MM_C double
#define MM_LOAD(x) (x)
#define MM_STORE(v) (v)
#include "conv.glsl"
