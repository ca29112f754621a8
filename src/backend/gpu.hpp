#pragma once
// The narrow interface between the core (scheduler, memory API, arrays) and the GPU backend.
// Vulkan builds implement it in backend/vulkan/; other builds link backend/no_gpu.cpp, where
// the GPU is simply absent.
#include <cstddef>
#include <vector>

#include "tessera/core/array.hpp"
#include "tessera/core/device.hpp"
#include "tessera/core/event.hpp"
#include "tessera/gpu.hpp"

namespace tessera::gpu {

BufferPtr malloc(size_t bytes);

size_t active_memory();
size_t peak_memory();
void reset_peak_memory();
size_t cache_memory();
size_t set_memory_limit(size_t);
size_t set_cache_limit(size_t);
void clear_cache();

// Records the primitive of `outputs` on its stream (inputs are made GPU-resident first).
void eval(const std::vector<array>& inputs, std::vector<array>& outputs);
// The queue of `s`'s command batches (it outlives every event that refers to it), and the
// ticket of the batch that holds the work recorded on `s` so far.
DeviceQueue& queue(const Stream& s);
uint64_t recorded_ticket(const Stream& s);
void synchronize(Stream s);

// Host copy of a GPU buffer's bytes (for device-local memory without a host mapping).
void download(Buffer& src, size_t offset, void* dst, size_t bytes);

}  // namespace tessera::gpu
