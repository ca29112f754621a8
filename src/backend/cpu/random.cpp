// CPU evaluation of RandomBits: MLX's Threefry-2x32 bit layout (see primitives/random.hpp).
#include <algorithm>
#include <cstring>
#include <vector>

#include "backend/cpu/strided.hpp"
#include "tessera/backend/cpu/parallel.hpp"
#include "tessera/core/memory.hpp"
#include "tessera/primitives/random.hpp"

namespace tessera {

namespace threefry {

namespace {
// Stores word `w` of a block of `bytes` bytes, little-endian, truncated at the block's end.
inline void store_word(unsigned char* block, size_t bytes, size_t w, uint32_t v) {
  const size_t at = 4 * w;
  if (at >= bytes) return;
  const unsigned char le[4] = {static_cast<unsigned char>(v), static_cast<unsigned char>(v >> 8),
                               static_cast<unsigned char>(v >> 16),
                               static_cast<unsigned char>(v >> 24)};
  std::memcpy(block + at, le, std::min<size_t>(4, bytes - at));
}
}  // namespace

void fill_block(uint32_t k0, uint32_t k1, size_t bytes, unsigned char* out, size_t j_begin,
                size_t j_end, bool with_middle) {
  const size_t words = (bytes + 3) / 4;
  const size_t half = words / 2;
  const size_t odd = words % 2;
  for (size_t j = j_begin; j < j_end; ++j) {
    const size_t hi = j + half + odd;
    auto [a, b] = hash(k0, k1, static_cast<uint32_t>(j), static_cast<uint32_t>(hi));
    store_word(out, bytes, j, a);
    store_word(out, bytes, hi, b);
  }
  if (odd && with_middle) {
    store_word(out, bytes, half, hash(k0, k1, static_cast<uint32_t>(half), 0u).first);
  }
}

}  // namespace threefry

void RandomBits::eval_cpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  const array& keys = inputs[0];
  array& out = outputs[0];
  out.set_data(cpu::malloc(out.nbytes()));
  const size_t num_keys = keys.size() / 2;
  if (out.size() == 0 || num_keys == 0) return;

  // Key words in row-major order (keys are tiny; copy strided ones).
  std::vector<uint32_t> kv(keys.size());
  cpu::copy_to_dense(keys, kv.data());

  const size_t bytes_per_key = out.nbytes() / num_keys;
  const size_t half = ((bytes_per_key + 3) / 4) / 2;
  auto* base = static_cast<unsigned char*>(out.raw_host_ptr());
  constexpr int64_t kGrain = 1 << 14;  // threefry pairs per task

  if (num_keys == 1) {
    // One key: split the paired loop across threads.
    cpu::parallel_for(static_cast<int64_t>(half) + 1, kGrain, [&](int64_t b, int64_t e) {
      const bool middle = e == static_cast<int64_t>(half) + 1;  // the task holding the end
      threefry::fill_block(kv[0], kv[1], bytes_per_key, base, static_cast<size_t>(b),
                           std::min<size_t>(static_cast<size_t>(e), half), middle);
    });
    return;
  }
  const int64_t per_key = static_cast<int64_t>(half) + 1;
  cpu::parallel_for(static_cast<int64_t>(num_keys), std::max<int64_t>(1, kGrain / per_key),
                    [&](int64_t b, int64_t e) {
                      for (int64_t i = b; i < e; ++i) {
                        threefry::fill_block(kv[2 * i], kv[2 * i + 1], bytes_per_key,
                                             base + static_cast<size_t>(i) * bytes_per_key);
                      }
                    });
}

}  // namespace tessera
