#pragma once
// What the Vulkan kernels of the primitives share: the device, the Vulkan stream of a Tessera
// stream, GPU residency of inputs, output allocation and dispatch of a kernel over arrays.
#include <string>
#include <vector>

#include "tessera/backend/vulkan/runtime.hpp"
#include "tessera/core/array.hpp"
#include "tessera/core/device.hpp"

namespace tessera::gpu {

vulkan::Device& device();
vulkan::Stream& stream(const Stream& s);

// An array as a kernel sees it: a buffer and the element offset of its first element.
struct View {
  vulkan::DeviceBuffer* buffer;
  uint32_t offset;  // in elements of the array's dtype
};
// The array's GPU buffer, uploading a CPU-resident array once (kept as its mirror). The
// buffers are kept alive by the stream until the work that uses them completes.
View resident(const array& a, vulkan::Stream& vs);
// A fresh dense GPU buffer for `out`.
void alloc_output(array& out, vulkan::Stream& vs);
// Throws std::runtime_error when the device cannot store or compute `t` (e.g. float64
// without shaderFloat64), naming the op.
void require_dtype(Dtype t, const char* op);

// Copies the view `in` into the view `out` (same shape; either may be strided), converting
// the dtype if they differ: the strided-copy kernel (backend/vulkan/elementwise.cpp).
void copy_into(const array& in, const array& out, const Stream& s, const char* op);

// Threads per workgroup used by the 1-D kernels, and the (x, y) grid covering n items.
constexpr uint32_t kGroupSize = 256;
void grid_for(uint64_t items, uint32_t group, uint32_t& gx, uint32_t& gy);

}  // namespace tessera::gpu
