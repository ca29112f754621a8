// CPU evaluation of the shape primitives. Views share buffers; the rest copy.
#include "backend/cpu/copy.hpp"
#include "backend/cpu/strided.hpp"
#include "tessera/core/memory.hpp"
#include "tessera/primitives/shape.hpp"

namespace tessera {

namespace {
void dense_copy_into(const array& in, array& out) {
  out.set_data(cpu::malloc(out.nbytes()));
  cpu::copy_to_dense(in, out.raw_host_ptr());
}
}  // namespace

void Reshape::eval_cpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  if (inputs[0].flags().row_contiguous) {
    views::reshape(inputs[0], outputs[0]);
  } else {
    dense_copy_into(inputs[0], outputs[0]);
  }
}

void Transpose::eval_cpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  views::transpose(inputs[0], outputs[0], axes_);
}

void Broadcast::eval_cpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  views::broadcast(inputs[0], outputs[0]);
}

void Slice::eval_cpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  views::slice(inputs[0], outputs[0], start_, strides_);
}

void AsStrided::eval_cpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  outputs[0].copy_shared_buffer(inputs[0], strides_, flags_for(shape_, strides_), offset_);
}

void DtypeView::eval_cpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  const Strides st = row_major_strides(outputs[0].shape());
  if (inputs[0].offset() % dtype_.size() == 0) {
    outputs[0].copy_shared_buffer(inputs[0], st, flags_for(outputs[0].shape(), st), 0);
    return;
  }
  // A start not aligned to the new dtype (a view of an odd slice): the bytes are copied.
  outputs[0].set_data(cpu::malloc(outputs[0].nbytes()));
  cpu::copy_to_dense(inputs[0], outputs[0].raw_host_ptr());
}

void Copy::eval_cpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  if (inputs[0].flags().row_contiguous) {
    outputs[0].copy_shared_buffer(inputs[0]);
  } else {
    dense_copy_into(inputs[0], outputs[0]);
  }
}

void SliceUpdate::eval_cpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  array& out = outputs[0];
  dense_copy_into(inputs[0], out);
  // The region as a view of `out`, then the update copied into it.
  array region(inputs[1].shape(), out.dtype(), nullptr, {});
  views::slice(out, region, start_, strides_);
  auto& upd = const_cast<array&>(inputs[1]);
  cpu::strided_copy(static_cast<const char*>(upd.raw_host_ptr()), cpu::broadcast_strides(upd, upd.shape()),
                    static_cast<char*>(region.raw_host_ptr()), region.strides(), region.shape(),
                    static_cast<int>(out.itemsize()));
}

void Concatenate::eval_cpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  array& out = outputs[0];
  out.set_data(cpu::malloc(out.nbytes()));
  char* base = static_cast<char*>(out.raw_host_ptr());
  const auto& ost = out.strides();
  int64_t offset = 0;
  for (auto& in : inputs) {
    auto& src = const_cast<array&>(in);
    cpu::strided_copy(static_cast<const char*>(src.raw_host_ptr()), src.strides(),
                      base + offset * ost[axis_] * out.itemsize(), ost, src.shape(),
                      static_cast<int>(out.itemsize()));
    offset += in.shape()[axis_];
  }
}

}  // namespace tessera
