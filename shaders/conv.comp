// Convolution, float32 (body and layout in conv.glsl).
#version 450
#extension GL_GOOGLE_include_directive : require
#define MM_T float
#define MM_C float
#define MM_LOAD(x) (x)
#define MM_STORE(v) (v)
#include "conv.glsl"
