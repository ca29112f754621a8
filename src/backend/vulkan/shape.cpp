// Vulkan evaluation of the shape primitives: views are the same arithmetic as on the CPU;
// copies run the strided-copy kernel (the empty elementwise program).
#include "backend/vulkan/gpu_array.hpp"
#include "tessera/primitives/shape.hpp"

namespace tessera {

namespace {
void dense_copy(const array& in, array& out, const Stream& s, const char* op) {
  gpu::alloc_output(out);
  gpu::copy_into(in, out, s, op);
}
}  // namespace

void Reshape::eval_gpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  const array& in = inputs[0];
  array& out = outputs[0];
  if (in.flags().row_contiguous) {
    views::reshape(in, out);
    return;
  }
  // Copy in the input's own shape into the output's dense buffer, then it is the reshape.
  gpu::alloc_output(out);
  array dense(in.shape(), out.dtype(), nullptr, {});
  dense.copy_shared_buffer(out, row_major_strides(in.shape()), array::Flags{}, 0);
  gpu::copy_into(in, dense, stream(), name());
}
void Transpose::eval_gpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  views::transpose(inputs[0], outputs[0], axes_);
}
void Broadcast::eval_gpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  views::broadcast(inputs[0], outputs[0]);
}
void Slice::eval_gpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  views::slice(inputs[0], outputs[0], start_, strides_);
}
void Copy::eval_gpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  if (inputs[0].flags().row_contiguous && inputs[0].buffer() &&
      inputs[0].buffer()->kind() == BufferKind::vulkan) {
    outputs[0].copy_shared_buffer(inputs[0]);
  } else {
    dense_copy(inputs[0], outputs[0], stream(), name());
  }
}
void SliceUpdate::eval_gpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  array& out = outputs[0];
  dense_copy(inputs[0], out, stream(), name());
  array region(inputs[1].shape(), out.dtype(), nullptr, {});
  views::slice(out, region, start_, strides_);
  gpu::copy_into(inputs[1], region, stream(), name());
}
void Concatenate::eval_gpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  array& out = outputs[0];
  gpu::alloc_output(out);
  int32_t offset = 0;
  for (auto& in : inputs) {
    Shape start(out.ndim(), 0), strides(out.ndim(), 1);
    start[axis_] = offset;
    array region(in.shape(), out.dtype(), nullptr, {});
    views::slice(out, region, start, strides);
    gpu::copy_into(in, region, stream(), name());
    offset += in.shape()[axis_];
  }
}

}  // namespace tessera
