// Temporary GPU entry points of primitives whose Vulkan kernels are not written yet (reduce,
// matmul): they say so. Replace each with its real kernel (shaders/reduce*.comp,
// shaders/matmul*.comp) and delete it from here.
#include "tessera/config.hpp"

#if TESSERA_HAS_VULKAN
#include <stdexcept>

#include "tessera/primitives/matmul.hpp"
#include "tessera/primitives/misc.hpp"
#include "tessera/primitives/reduce.hpp"

namespace tessera {

void Reduce::eval_gpu(const std::vector<array>&, std::vector<array>&) {
  throw std::runtime_error("[Reduce] no Vulkan kernel yet");
}
void ArgReduce::eval_gpu(const std::vector<array>&, std::vector<array>&) {
  throw std::runtime_error("[ArgReduce] no Vulkan kernel yet");
}
void Matmul::eval_gpu(const std::vector<array>&, std::vector<array>&) {
  throw std::runtime_error("[Matmul] no Vulkan kernel yet");
}
// Not pending: StopGradient computes nothing on any device (its output shares the buffer).
void StopGradient::eval_gpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  outputs[0].copy_shared_buffer(inputs[0]);
}

}  // namespace tessera
#endif

// RandomBits: pending its Vulkan kernel (a GLSL port of threefry::hash and the layout documented
// in primitives/random.hpp). Appended by the random ops; delete when shaders/random*.comp lands.
#if TESSERA_HAS_VULKAN
#include "tessera/primitives/random.hpp"

namespace tessera {
void RandomBits::eval_gpu(const std::vector<array>&, std::vector<array>&) {
  throw std::runtime_error("[RandomBits] no Vulkan kernel yet");
}
}  // namespace tessera
#endif
