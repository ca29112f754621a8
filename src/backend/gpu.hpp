#pragma once
// The narrow interface between the core (scheduler, memory API, arrays) and the GPU backend.
// Vulkan builds implement it in backend/vulkan/; other builds link backend/no_gpu.cpp, where
// the GPU is simply absent.
#include <cstddef>
#include <functional>
#include <utility>
#include <vector>

#include "tessera/core/array.hpp"
#include "tessera/core/device.hpp"
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
// Submits what `s` has recorded; returns a function that waits for that work to finish and
// one that tells (without blocking) whether it has.
std::pair<std::function<void()>, std::function<bool()>> submit(Stream s);
void synchronize(Stream s);

// Host copy of a GPU buffer's bytes (for device-local memory without a host mapping).
void download(Buffer& src, size_t offset, void* dst, size_t bytes);

}  // namespace tessera::gpu
