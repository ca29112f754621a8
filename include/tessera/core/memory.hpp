#pragma once
// MLX's memory API. Without a device argument the functions act on the default device;
// every function also takes an explicit device. Buffers come from a caching allocator per
// device, which keeps freed blocks (by size bucket) for reuse.
#include <cstddef>

#include "tessera/core/buffer.hpp"
#include "tessera/core/device.hpp"

namespace tessera {

size_t get_active_memory();
size_t get_peak_memory();
void reset_peak_memory();
size_t get_cache_memory();
size_t set_memory_limit(size_t limit);  // returns the previous limit
size_t set_cache_limit(size_t limit);   // returns the previous limit
void clear_cache();

size_t get_active_memory(Device d);
size_t get_peak_memory(Device d);
void reset_peak_memory(Device d);
size_t get_cache_memory(Device d);
size_t set_memory_limit(size_t limit, Device d);
size_t set_cache_limit(size_t limit, Device d);
void clear_cache(Device d);

namespace cpu {
// Host memory for array contents, 64-byte aligned, from the CPU caching allocator.
BufferPtr malloc(size_t bytes);
}  // namespace cpu

// Memory for `bytes` on `d`: the CPU allocator or the Vulkan device allocator.
BufferPtr allocate(size_t bytes, Device d);

// MLX's allocator namespace, for custom primitives written against MLX
// (`out.set_data(allocator::malloc(out.nbytes()))`). Tessera's buffers are reference counted,
// so a Buffer is a shared handle: free() only drops the handle it is given, and the memory goes
// back to the cache when the last array using it lets go.
namespace allocator {
using Buffer = BufferPtr;
inline Buffer malloc(size_t bytes) { return cpu::malloc(bytes); }
inline void free(Buffer buffer) { buffer.reset(); }
}  // namespace allocator

}  // namespace tessera
