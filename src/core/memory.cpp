#include "tessera/core/memory.hpp"

#include "backend/gpu.hpp"
#include "core/cpu_allocator.hpp"

namespace tessera {

namespace {
bool on_gpu(Device d) { return d.type == Device::gpu; }
}  // namespace

size_t get_active_memory(Device d) { return on_gpu(d) ? gpu::active_memory() : cpu::active_memory(); }
size_t get_peak_memory(Device d) { return on_gpu(d) ? gpu::peak_memory() : cpu::peak_memory(); }
void reset_peak_memory(Device d) { on_gpu(d) ? gpu::reset_peak_memory() : cpu::reset_peak_memory(); }
size_t get_cache_memory(Device d) { return on_gpu(d) ? gpu::cache_memory() : cpu::cache_memory(); }
size_t set_memory_limit(size_t v, Device d) {
  return on_gpu(d) ? gpu::set_memory_limit(v) : cpu::set_memory_limit(v);
}
size_t set_cache_limit(size_t v, Device d) {
  return on_gpu(d) ? gpu::set_cache_limit(v) : cpu::set_cache_limit(v);
}
void clear_cache(Device d) { on_gpu(d) ? gpu::clear_cache() : cpu::clear_cache(); }

size_t get_active_memory() { return get_active_memory(default_device()); }
size_t get_peak_memory() { return get_peak_memory(default_device()); }
void reset_peak_memory() { reset_peak_memory(default_device()); }
size_t get_cache_memory() { return get_cache_memory(default_device()); }
size_t set_memory_limit(size_t v) { return set_memory_limit(v, default_device()); }
size_t set_cache_limit(size_t v) { return set_cache_limit(v, default_device()); }
void clear_cache() { clear_cache(default_device()); }

BufferPtr allocate(size_t bytes, Device d) { return on_gpu(d) ? gpu::malloc(bytes) : cpu::malloc(bytes); }

}  // namespace tessera
