#version 450
// Runtime self-test kernel (tests/vulkan_runtime_test.cpp, tests/vulkan_byo_test.cpp):
//   y[i] = x[x_offset + i] * push.scale + params.bias + EXTRA
// It exercises every part of the kernel ABI: two storage buffers, the params blob at
// binding 2, push constants and a specialization constant.
layout(local_size_x = 64) in;

layout(constant_id = 0) const uint EXTRA = 0;

layout(set = 0, binding = 0) readonly buffer X { float x[]; };
layout(set = 0, binding = 1) writeonly buffer Y { float y[]; };
layout(set = 0, binding = 2) readonly buffer Params {
  float bias;
  uint n;
} params;

layout(push_constant) uniform Push {
  float scale;
  uint x_offset;
} push;

void main() {
  uint i = gl_GlobalInvocationID.x;
  if (i >= params.n) return;
  y[i] = x[push.x_offset + i] * push.scale + params.bias + float(EXTRA);
}
