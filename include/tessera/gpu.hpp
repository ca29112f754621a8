#pragma once
// The GPU (Vulkan) device as a whole, as MLX's mx.metal / mx.gpu namespace.
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <variant>

namespace tessera::gpu {

// A usable Vulkan device exists (and TESSERA_DEVICE is not "cpu").
bool is_available();
// Facts about the device: "device_name", "architecture" (the Vulkan device type),
// "max_buffer_size", "memory_size" (device-local heap), "subgroup_size", "max_shared_memory",
// "resource_limit" (max allocations), and the optional features (1/0).
std::unordered_map<std::string, std::variant<std::string, size_t>> device_info();
// Counters for tests and tuning: kernels dispatched on all GPU streams, run-time GLSL
// compilations, and messages from the Khronos validation layer (TESSERA_VK_VALIDATION=1).
uint64_t dispatch_count();
uint64_t kernel_compiles();
uint64_t validation_messages();

}  // namespace tessera::gpu

// MLX's other GPU back ends do not exist here: code that asks gets `false` and takes its
// portable path. Tessera's GPU is the Vulkan device above (tessera::gpu).
namespace tessera::metal {
inline bool is_available() { return false; }
}  // namespace tessera::metal
namespace tessera::cuda {
inline bool is_available() { return false; }
}  // namespace tessera::cuda
