// Vulkan kernel of RandomBits: shaders/random_bits.comp, a GLSL port of threefry::hash with the
// bit layout of primitives/random.hpp, bit-identical to backend/cpu/random.cpp.
#include <algorithm>
#include <stdexcept>
#include <string>

#include "backend/vulkan/gpu_array.hpp"
#include "tessera/primitives/random.hpp"

namespace tessera {

namespace {
struct BitsPush {
  uint32_t items, key_offset, block_bytes, words, half_words, odd, total_bytes, packed, row, out_offset, word0;
};

// One dispatch of shaders/random_bits.comp over the keys from `kv` into the output from `ov`
// (elements of `itemsize` bytes).
void dispatch_bits(vulkan::Stream& vs, gpu::View kv, gpu::View ov, size_t itemsize, BitsPush push, uint64_t items) {
  push.key_offset = kv.offset;
  push.out_offset = static_cast<uint32_t>(uint64_t{ov.offset} * itemsize / 4);  // whole words
  push.items = static_cast<uint32_t>(items);
  uint32_t gx, gy;
  gpu::grid_for(items, gpu::kGroupSize, gx, gy);
  push.row = gx * gpu::kGroupSize;
  auto& kernel = gpu::device().kernel("random_bits", 2);
  const vulkan::Binding b[] = {kv.bind(false), ov.bind(true)};
  vs.dispatch(kernel, b, &push, sizeof(push), {}, gx, gy);
}
}  // namespace

void RandomBits::eval_gpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  array keys = inputs[0];
  array& out = outputs[0];
  auto& vs = gpu::stream(stream());
  gpu::alloc_output(out);  // capacity is a multiple of 4 bytes: whole words may be written
  const uint64_t num_keys = keys.size() / 2;
  if (out.size() == 0 || num_keys == 0) return;
  if (!keys.flags().row_contiguous) {
    array dense(keys.shape(), keys.dtype(), nullptr, {});
    gpu::alloc_output(dense);
    gpu::copy_into(keys, dense, stream(), "random.bits");
    keys = dense;
  }
  const uint64_t total = out.nbytes(), block = total / num_keys, words = (block + 3) / 4;
  const uint64_t item = out.itemsize();
  if (words > UINT32_MAX) {
    throw std::runtime_error("[random.bits] a block of " + std::to_string(block) +
                             " bytes per key is more than 2^32 words of counter");
  }
  BitsPush push{};
  push.block_bytes = static_cast<uint32_t>(block);
  push.words = static_cast<uint32_t>(words);
  push.half_words = static_cast<uint32_t>(words / 2);
  push.odd = static_cast<uint32_t>(words % 2);
  push.packed = block % 4 == 0 ? 0 : 1;
  // Whole blocks of `count` keys from key k0: the aligned or the packed mode.
  auto blocks = [&](gpu::View kv, gpu::View ov, uint64_t count) {
    push.total_bytes = static_cast<uint32_t>(count * block);
    dispatch_bits(vs, kv, ov, out.itemsize(), push,
                  push.packed ? (count * block + 3) / 4 : count * (words / 2 + words % 2));
  };
  if (gpu::fits_one_binding(out) && total < (uint64_t{1} << 32)) {
    blocks(gpu::resident(keys), gpu::resident(out), num_keys);
    return;
  }
  // Past one binding's reach: as many whole blocks per window as fit (a multiple of 4 keys
  // when blocks share words, so windows start on a word), or else one block's words a window
  // at a time. The bits do not depend on the split.
  const uint64_t per_window = gpu::units_per_binding(block);
  const uint64_t keys_per = push.packed ? per_window / 4 * 4 : per_window;
  if (keys_per >= 1) {
    for (uint64_t k0 = 0; k0 < num_keys; k0 += keys_per) {
      const uint64_t count = std::min(keys_per, num_keys - k0);
      blocks(gpu::resident_at(keys, 2 * k0), gpu::resident_at(out, k0 * block / item), count);
    }
    return;
  }
  if (push.packed) {
    throw std::runtime_error("[random.bits] a block of " + std::to_string(block) +
                             " bytes per key, not a whole number of 32-bit words and larger than one "
                             "GPU binding reaches; use the CPU stream");
  }
  push.packed = 2;
  const uint64_t words_per = gpu::units_per_binding(4);
  for (uint64_t k = 0; k < num_keys; ++k) {
    for (uint64_t w0 = 0; w0 < words; w0 += words_per) {
      const uint64_t count = std::min(words_per, words - w0);
      push.word0 = static_cast<uint32_t>(w0);
      dispatch_bits(vs, gpu::resident_at(keys, 2 * k), gpu::resident_at(out, (k * block + 4 * w0) / item),
                    out.itemsize(), push, count);
    }
  }
}

}  // namespace tessera
