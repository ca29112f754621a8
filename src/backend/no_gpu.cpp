// Linked when Tessera is built without Vulkan: there is no GPU, and asking for one says so.
#include <stdexcept>

#include "backend/gpu.hpp"

namespace tessera::gpu {
namespace {
[[noreturn]] void absent() {
  throw std::runtime_error("[gpu] Tessera was built without the Vulkan backend");
}
}  // namespace

bool is_available() { return false; }
BufferPtr malloc(size_t) { absent(); }
size_t active_memory() { return 0; }
size_t peak_memory() { return 0; }
void reset_peak_memory() {}
size_t cache_memory() { return 0; }
size_t set_memory_limit(size_t) { return 0; }
size_t set_cache_limit(size_t) { return 0; }
void clear_cache() {}
void eval(const std::vector<array>&, std::vector<array>&) { absent(); }
DeviceQueue& queue(const Stream&) { absent(); }
uint64_t recorded_ticket(const Stream&) { absent(); }
void synchronize(Stream) {}
void download(Buffer&, size_t, void*, size_t) { absent(); }
std::unordered_map<std::string, std::variant<std::string, size_t>> device_info() { absent(); }
uint64_t dispatch_count() { return 0; }
uint64_t kernel_compiles() { return 0; }
uint64_t validation_messages() { return 0; }

}  // namespace tessera::gpu
