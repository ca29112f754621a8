#pragma once
// Random bits: MLX's counter-based generator (Threefry-2x32, 20 rounds, the PRNG of JAX and
// MLX), so a key and a shape give the same bits as MLX, byte for byte, on every backend.
//
// Bit layout of RandomBits (what every backend must reproduce). The key array has shape
// (..., 2); key i is (keys[2i], keys[2i+1]) in row-major order. The output has shape
// key.shape[:-1] + shape and is filled per key: key i owns a block of B bytes (B = output bytes /
// number of keys) that starts at byte i * B. Inside a block, viewed as W = ceil(B / 4) little-
// endian uint32 words, with H = W / 2 and odd = W % 2:
//   for j in [0, H):   (word[j], word[j + H + odd]) = threefry2x32(key, (j, j + H + odd))
//   if odd:            word[H] = threefry2x32(key, (H, 0)).first
// Only the first B - 4 * (W - 1) bytes of the last word are stored (widths 1 and 2, odd sizes).
// A GPU port runs one invocation per (key, j in [0, H + odd)) and writes the word(s) above,
// masking the bytes of a partial last word.
#include <cstddef>
#include <cstdint>
#include <utility>

#include "tessera/core/primitive.hpp"

namespace tessera {

namespace threefry {

// Skein's key-schedule parity constant (Salmon et al., "Parallel random numbers: as easy as
// 1, 2, 3", SC'11): the third key word is k0 ^ k1 ^ kParity.
inline constexpr uint32_t kParity = 0x1BD11BDAu;
// Rotation distances of the 2x32 variant: rounds 4r..4r+3 use kRotations[r % 2].
inline constexpr uint32_t kRotations[2][4] = {{13, 15, 26, 6}, {17, 29, 16, 24}};

inline constexpr uint32_t rotl32(uint32_t v, uint32_t r) { return (v << r) | (v >> (32u - r)); }

// Threefry-2x32 with 20 rounds: 5 groups of 4 mix rounds, each group followed by a key
// injection. Plain 32-bit unsigned arithmetic (wrapping), no tables beyond the constants above,
// so it ports line by line to GLSL (uvec2, the same loops).
inline constexpr std::pair<uint32_t, uint32_t> hash(uint32_t k0, uint32_t k1, uint32_t c0,
                                                    uint32_t c1) {
  const uint32_t ks[3] = {k0, k1, k0 ^ k1 ^ kParity};
  uint32_t x = c0 + ks[0];
  uint32_t y = c1 + ks[1];
  for (uint32_t g = 0; g < 5; ++g) {
    for (uint32_t r = 0; r < 4; ++r) {
      x += y;
      y = rotl32(y, kRotations[g % 2][r]);
      y ^= x;
    }
    x += ks[(g + 1) % 3];
    y += ks[(g + 2) % 3] + g + 1;  // injection counter g + 1
  }
  return {x, y};
}

// Fills one key's block of `bytes` bytes at `out` with the layout above; only the words
// j in [j_begin, j_end) of the paired loop, plus the odd middle word when `with_middle`.
void fill_block(uint32_t k0, uint32_t k1, size_t bytes, unsigned char* out, size_t j_begin,
                size_t j_end, bool with_middle);
// The whole block (serial); used by the host-side key sequence.
inline void fill_block(uint32_t k0, uint32_t k1, size_t bytes, unsigned char* out) {
  const size_t words = (bytes + 3) / 4;
  fill_block(k0, k1, bytes, out, 0, words / 2, true);
}

}  // namespace threefry

// Random bits of `width` bytes per element (uint8/uint16/uint32 output) from a uint32 key
// array of shape (..., 2). Not differentiable.
class RandomBits : public NonDifferentiable {
 public:
  RandomBits(Stream s, Shape shape, int width)
      : NonDifferentiable(s), shape_(std::move(shape)), width_(width) {}
  TESSERA_DEFINE_EVAL()
  TESSERA_DEFINE_VMAP()
  TESSERA_DEFINE_NAME(RandomBits)
  bool is_equivalent(const Primitive& other) const override;
  const Shape& shape() const { return shape_; }  // the per-key shape
  int width() const { return width_; }

 private:
  Shape shape_;
  int width_;
};

}  // namespace tessera
