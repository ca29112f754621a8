// Vulkan kernel of RandomBits: shaders/random_bits.comp, a GLSL port of threefry::hash with the
// bit layout of primitives/random.hpp, bit-identical to backend/cpu/random.cpp.
#include <stdexcept>

#include "backend/vulkan/gpu_array.hpp"
#include "tessera/primitives/random.hpp"

namespace tessera {

void RandomBits::eval_gpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  array keys = inputs[0];
  array& out = outputs[0];
  auto& vs = gpu::stream(stream());
  gpu::alloc_output(out, vs);  // capacity is a multiple of 4 bytes: whole words may be written
  const uint64_t num_keys = keys.size() / 2;
  if (out.size() == 0 || num_keys == 0) return;
  if (out.nbytes() >= (uint64_t{1} << 32)) {
    throw std::runtime_error("[random.bits] more than 4 GiB of output on the GPU");
  }
  if (!keys.flags().row_contiguous) {
    array dense(keys.shape(), keys.dtype(), nullptr, {});
    gpu::alloc_output(dense, vs);
    gpu::copy_into(keys, dense, stream(), "random.bits");
    keys = dense;
  }
  gpu::View kv = gpu::resident(keys, vs);
  gpu::View ov = gpu::resident(out, vs);

  struct {
    uint32_t items, key_offset, block_bytes, words, half_words, odd, total_bytes, packed, row;
  } push{};
  const uint64_t block = out.nbytes() / num_keys;
  const uint64_t words = (block + 3) / 4;
  push.key_offset = kv.offset;
  push.block_bytes = static_cast<uint32_t>(block);
  push.words = static_cast<uint32_t>(words);
  push.half_words = static_cast<uint32_t>(words / 2);
  push.odd = static_cast<uint32_t>(words % 2);
  push.total_bytes = static_cast<uint32_t>(out.nbytes());
  uint64_t items;
  if (block % 4 == 0) {
    push.packed = 0;
    items = num_keys * (words / 2 + words % 2);
  } else {
    push.packed = 1;
    items = (out.nbytes() + 3) / 4;
  }
  push.items = static_cast<uint32_t>(items);
  uint32_t gx, gy;
  gpu::grid_for(items, gpu::kGroupSize, gx, gy);
  push.row = gx * gpu::kGroupSize;
  auto& kernel = gpu::device().kernel("random_bits", 2);
  const vulkan::Binding b[] = {kv.bind(false), ov.bind(true)};
  vs.dispatch(kernel, b, &push, sizeof(push), {}, gx, gy);
}

}  // namespace tessera
