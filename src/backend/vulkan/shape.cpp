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

namespace gpu {
void along_last_axis(const array& in, array& out, int axis, const Stream& s, const char* op,
                     const std::function<void(const array&, const array&)>& rows) {
  alloc_output(out);
  if (axis == in.ndim() - 1 && in.flags().row_contiguous) {
    rows(in, out);
    return;
  }
  std::vector<int> perm;
  for (int d = 0; d < in.ndim(); ++d)
    if (d != axis) perm.push_back(d);
  perm.push_back(axis);
  Shape moved_in, moved_out;  // (the output may be shorter along the axis: a window of it)
  for (int d : perm) {
    moved_in.push_back(in.shape(d));
    moved_out.push_back(out.shape(d));
  }
  array in_view(moved_in, in.dtype(), nullptr, {}), out_view(moved_out, out.dtype(), nullptr, {});
  views::transpose(in, in_view, perm);
  views::transpose(out, out_view, perm);
  array rows_in(moved_in, in.dtype(), nullptr, {}), rows_out(moved_out, out.dtype(), nullptr, {});
  alloc_output(rows_in);
  alloc_output(rows_out);
  copy_into(in_view, rows_in, s, op);
  rows(rows_in, rows_out);
  copy_into(rows_out, out_view, s, op);
}
}  // namespace gpu

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
void AsStrided::eval_gpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  outputs[0].copy_shared_buffer(inputs[0], strides_, flags_for(shape_, strides_), offset_);
}
void DtypeView::eval_gpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  const Strides st = row_major_strides(outputs[0].shape());
  if (inputs[0].offset() % dtype_.size() == 0) {
    outputs[0].copy_shared_buffer(inputs[0], st, flags_for(outputs[0].shape(), st), 0);
    return;
  }
  // A start not aligned to the new dtype: the input's bytes copied to a fresh buffer first.
  array dense(inputs[0].shape(), inputs[0].dtype(), nullptr, {});
  gpu::alloc_output(dense);
  gpu::copy_into(inputs[0], dense, stream(), name());
  outputs[0].copy_shared_buffer(dense, st, flags_for(outputs[0].shape(), st), 0);
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
