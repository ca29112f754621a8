// RandomBits: MLX's Threefry-2x32 bit layout (see include/tessera/primitives/random.hpp), the
// GLSL twin of threefry::hash and threefry::fill_block in backend/cpu/random.cpp.
//
// The output is written as little-endian uint32 words (no 8/16-bit storage needed). Three modes:
//   aligned (every key's block is a whole number of words): one invocation per (key, j) of the
//     paired loop, writing word j and word j + H + odd of the block (the middle word if odd);
//   packed (widths 1 and 2 with blocks of B % 4 != 0 bytes, so blocks share words): one
//     invocation per output word, gathering its 4 bytes from the blocks they belong to;
//   block range (one block larger than a binding reaches, written a window at a time): one
//     invocation per word of words [word0, word0 + items) of the first key's block.
// Outputs too large for one binding are written a window at a time (whole blocks per window,
// or a block's words): `out_offset` is where the window's words start.
#version 450

layout(local_size_x = 256) in;

layout(std430, set = 0, binding = 0) readonly buffer Keys { uint k[]; } keys;
layout(std430, set = 0, binding = 1) writeonly buffer Out { uint w[]; } dst;

layout(push_constant) uniform Push {
  uint items;        // invocations that do work
  uint key_offset;   // element offset of the first key word
  uint block_bytes;  // B
  uint words;        // W = ceil(B / 4)
  uint half_words;   // H = W / 2
  uint odd;          // W % 2
  uint total_bytes;  // num_keys * B (packed mode)
  uint packed;       // 0: aligned, 1: packed, 2: block range
  uint row;          // invocations per row of the 2-D grid
  uint out_offset;   // word offset of the output in its binding
  uint word0;        // block range: the first word written
} pc;

const uint kParity = 0x1BD11BDAu;

uint rotl(uint v, uint r) { return (v << r) | (v >> (32u - r)); }

#define TS_MIX(R) x += y; y = rotl(y, R); y ^= x;

uvec2 threefry(uint k0, uint k1, uint c0, uint c1) {
  uint ks0 = k0, ks1 = k1, ks2 = k0 ^ k1 ^ kParity;
  uint x = c0 + ks0, y = c1 + ks1;
  // 5 groups of 4 rounds, rotations alternating, each followed by a key injection.
  TS_MIX(13u) TS_MIX(15u) TS_MIX(26u) TS_MIX(6u)
  x += ks1; y += ks2 + 1u;
  TS_MIX(17u) TS_MIX(29u) TS_MIX(16u) TS_MIX(24u)
  x += ks2; y += ks0 + 2u;
  TS_MIX(13u) TS_MIX(15u) TS_MIX(26u) TS_MIX(6u)
  x += ks0; y += ks1 + 3u;
  TS_MIX(17u) TS_MIX(29u) TS_MIX(16u) TS_MIX(24u)
  x += ks1; y += ks2 + 4u;
  TS_MIX(13u) TS_MIX(15u) TS_MIX(26u) TS_MIX(6u)
  x += ks2; y += ks0 + 5u;
  return uvec2(x, y);
}

// Word wb of the block of key `key`.
uint block_word(uint key, uint wb) {
  uint k0 = keys.k[pc.key_offset + 2u * key], k1 = keys.k[pc.key_offset + 2u * key + 1u];
  uint H = pc.half_words, hi = H + pc.odd;
  if (wb < H) return threefry(k0, k1, wb, wb + hi).x;
  if (wb < hi) return threefry(k0, k1, H, 0u).x;  // the odd middle word
  return threefry(k0, k1, wb - hi, wb).y;
}

void main() {
  uint t = gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * pc.row;
  if (t >= pc.items) return;
  if (pc.packed == 0u) {
    uint per_key = pc.half_words + pc.odd;
    uint key = t / per_key, j = t - key * per_key;
    uint k0 = keys.k[pc.key_offset + 2u * key], k1 = keys.k[pc.key_offset + 2u * key + 1u];
    uint base = key * pc.words;
    if (j < pc.half_words) {
      uint hi = j + per_key;
      uvec2 h = threefry(k0, k1, j, hi);
      dst.w[pc.out_offset + base + j] = h.x;
      dst.w[pc.out_offset + base + hi] = h.y;
    } else {
      dst.w[pc.out_offset + base + j] = threefry(k0, k1, j, 0u).x;
    }
    return;
  }
  if (pc.packed == 2u) {
    dst.w[pc.out_offset + t] = block_word(0u, pc.word0 + t);
    return;
  }
  // Packed: gather the 4 bytes of output word t.
  uint result = 0u;
  uint cached_key = 0xffffffffu, cached_wb = 0u, word = 0u;
  for (uint b = 0u; b < 4u; ++b) {
    uint byte_index = 4u * t + b;
    if (byte_index >= pc.total_bytes) break;
    uint key = byte_index / pc.block_bytes;
    uint off = byte_index - key * pc.block_bytes;
    uint wb = off >> 2u;
    if (key != cached_key || wb != cached_wb) {
      word = block_word(key, wb);
      cached_key = key;
      cached_wb = wb;
    }
    result |= ((word >> (8u * (off & 3u))) & 0xffu) << (8u * b);
  }
  dst.w[pc.out_offset + t] = result;
}
