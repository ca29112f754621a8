// Vulkan evaluation of the primitives that compute nothing on the GPU.
#include "backend/vulkan/gpu_array.hpp"
#include "tessera/primitives/misc.hpp"

namespace tessera {

// StopGradient's output shares its input's buffer, on every device.
void StopGradient::eval_gpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  outputs[0].copy_shared_buffer(inputs[0]);
}

// CustomTransforms' outputs are the traced function's outputs, its inputs after the arguments.
void CustomTransforms::eval_gpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  for (size_t i = 0; i < outputs.size(); ++i) outputs[i].copy_shared_buffer(inputs[num_args_ + i]);
}

}  // namespace tessera
