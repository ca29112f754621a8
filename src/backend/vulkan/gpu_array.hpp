#pragma once
// What the Vulkan kernels of the primitives share: the device, the Vulkan stream of a Tessera
// stream, GPU residency of inputs, output allocation and dispatch of a kernel over arrays.
#include <functional>
#include <string>
#include <vector>

#include "tessera/backend/vulkan/runtime.hpp"
#include "tessera/core/array.hpp"
#include "tessera/core/device.hpp"

namespace tessera::gpu {

vulkan::Device& device();
vulkan::Stream& stream(const Stream& s);

// An array as a kernel sees it: a window of a buffer and the element offset of its first
// element in that window. The window starts at or below the lowest byte the view touches and
// reaches maxStorageBufferRange bytes at most, so arrays in buffers larger than one binding can
// reach are still bound, as long as the view itself spans no more than the range.
struct View {
  vulkan::DeviceBuffer* buffer;
  uint32_t offset;        // in elements of the array's dtype, from the window's start
  uint64_t window = 0;    // byte offset of the window in the buffer
  vulkan::Binding bind(bool written) const { return {buffer, written, window}; }
};
// The array's GPU buffer, uploading a CPU-resident array once (kept as its mirror). The
// buffers are kept alive by the stream until the work that uses them completes. Throws
// std::runtime_error when the view spans more than one binding can reach: ops split such
// work into views that fit (see fits_one_binding).
View resident(const array& a);
// Whether resident() can bind `a` (its span fits in one binding window).
bool fits_one_binding(const array& a);
// A view of the evaluated `a` with another shape, strides and element offset, reading the same
// GPU buffer (a CPU-resident `a` is uploaded once, and the upload shared).
array gpu_view(const array& a, const Shape& shape, const Strides& strides, int64_t elem_offset);
// Elements [start, start + count) of `axis`: how ops split work too large for one binding.
array slab(const array& a, int axis, int64_t start, int64_t count);
// The first axis of extent > 1 (the one to split), or -1.
int split_axis(const array& a);
// How many consecutive units of `unit_bytes` one binding window surely reaches wherever they
// start (the window may begin up to one offset alignment below them); 0 if not even one.
int64_t units_per_binding(uint64_t unit_bytes);
// The window of the dense `a` that starts at (or just below) its element `element`: how ops
// that split their work bind a part of an array; the caller keeps what the kernel touches
// within units_per_binding() of that element.
View resident_at(const array& a, uint64_t element);
// A fresh dense GPU buffer for `out`.
void alloc_output(array& out);
// Throws std::runtime_error when the device cannot store or compute `t` (e.g. float64
// without shaderFloat64), naming the op.
void require_dtype(Dtype t, const char* op);

// Copies the view `in` into the view `out` (same shape; either may be strided), converting
// the dtype if they differ: the strided-copy kernel (backend/vulkan/elementwise.cpp).
void copy_into(const array& in, const array& out, const Stream& s, const char* op);

// Runs `rows` (a kernel over dense rows of the last axis) for an op along `axis`: directly when
// `in` is row-contiguous and `axis` is its last, else on a dense copy with the axis moved last,
// whose result is copied back into `out` (allocated here). `rows` gets (input, output) arrays of
// shape [..., n] and [..., m] (m = out's extent along the axis). (backend/vulkan/shape.cpp)
void along_last_axis(const array& in, array& out, int axis, const Stream& s, const char* op,
                     const std::function<void(const array&, const array&)>& rows);

// Threads per workgroup used by the 1-D kernels, and the (x, y) grid covering n items.
constexpr uint32_t kGroupSize = 256;
void grid_for(uint64_t items, uint32_t group, uint32_t& gx, uint32_t& gy);

}  // namespace tessera::gpu
