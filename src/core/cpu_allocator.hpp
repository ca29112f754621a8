#pragma once
// Statistics and limits of the CPU caching allocator (cpu_allocator.cpp), behind the memory API.
#include <cstddef>

namespace tessera::cpu {
size_t active_memory();
size_t peak_memory();
void reset_peak_memory();
size_t cache_memory();
size_t set_memory_limit(size_t);
size_t set_cache_limit(size_t);
void clear_cache();
}  // namespace tessera::cpu
