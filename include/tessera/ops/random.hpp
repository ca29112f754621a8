#pragma once
// Random numbers with MLX's API (mlx/random.h) and MLX's bit stream: keys are uint32 arrays of
// shape (2,), bits come from Threefry-2x32 in MLX's layout (primitives/random.hpp), so
// `random::key(0)` and the same calls give the same bits as MLX. Calls without a key draw one
// from the global KeySequence (seeded from the clock, as MLX; `random::seed` resets it).
//
// Beyond MLX: `bits` (and so `split`) also accept a batch of keys of shape (..., 2); the
// output then has shape key.shape[:-1] + shape, equal to MLX's vmap of `bits` over the keys.
#include <cstdint>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>

#include "tessera/core/array.hpp"
#include "tessera/core/device.hpp"

namespace tessera::random {

// The global sequence of keys: next() splits the current key into (new current, returned).
// Thread-safe; the keys are computed on the host, so the sequence never grows a graph.
class KeySequence {
 public:
  explicit KeySequence(uint64_t seed);
  void seed(uint64_t seed);
  array next();

  static KeySequence& default_();

 private:
  std::mutex mutex_;
  uint32_t key_[2];
};

// The key of a seed: {uint32(seed >> 32), uint32(seed)}.
array key(uint64_t seed);
// Seeds the global key sequence.
void seed(uint64_t seed);

// Random bits: uint32, uint16 or uint8 for width 4, 2 or 1.
array bits(const Shape& shape, int width, const std::optional<array>& key = std::nullopt,
           StreamOrDevice s = {});
inline array bits(const Shape& shape, const std::optional<array>& key = std::nullopt,
                  StreamOrDevice s = {}) {
  return bits(shape, 4, key, s);
}

// Splits a key into two keys, or into `num` keys (shape (num, 2)).
std::pair<array, array> split(const array& key, StreamOrDevice s = {});
array split(const array& key, int num, StreamOrDevice s = {});

// Uniform samples in [low, high) (low, high broadcast to `shape`).
array uniform(const array& low, const array& high, const Shape& shape, Dtype dtype = float32,
              const std::optional<array>& key = std::nullopt, StreamOrDevice s = {});
template <typename T, typename U>
  requires(std::is_constructible_v<array, T> && std::is_constructible_v<array, U>)
array uniform(T low, U high, const Shape& shape, Dtype dtype = float32,
              const std::optional<array>& key = std::nullopt, StreamOrDevice s = {}) {
  return uniform(array(low), array(high), shape, dtype, key, to_stream(s));
}
// Uniform samples in [0, 1).
array uniform(const Shape& shape, Dtype dtype, const std::optional<array>& key = std::nullopt,
              StreamOrDevice s = {});
inline array uniform(const Shape& shape, const std::optional<array>& key = std::nullopt,
                     StreamOrDevice s = {}) {
  return uniform(shape, float32, key, s);
}

// Normal samples: loc + scale * sqrt(2) * erfinv(u), u uniform on (-1, 1).
array normal(const Shape& shape, Dtype dtype, const std::optional<array>& loc,
             const std::optional<array>& scale, const std::optional<array>& key,
             StreamOrDevice s = {});
inline array normal(const Shape& shape, Dtype dtype, const float loc, const float scale,
                    const std::optional<array>& key = std::nullopt, StreamOrDevice s = {}) {
  check_valid_dtype(dtype, "random.normal");  // before loc and scale are made in it
  auto loc_ = loc == 0 ? std::nullopt : std::make_optional(array(loc, dtype));
  auto scale_ = scale == 1 ? std::nullopt : std::make_optional(array(scale, dtype));
  return normal(shape, dtype, loc_, scale_, key, s);
}
inline array normal(const Shape& shape, const float loc, const float scale,
                    const std::optional<array>& key = std::nullopt, StreamOrDevice s = {}) {
  return normal(shape, float32, loc, scale, key, s);
}
inline array normal(const Shape& shape, const Dtype dtype,
                    const std::optional<array>& key = std::nullopt, StreamOrDevice s = {}) {
  return normal(shape, dtype, std::nullopt, std::nullopt, key, s);
}
inline array normal(const Shape& shape, const std::optional<array>& key = std::nullopt,
                    StreamOrDevice s = {}) {
  return normal(shape, float32, std::nullopt, std::nullopt, key, s);
}

// --- Distributions composed of uniform / bits, as MLX composes them (the same bit stream). ---

// Integers in [low, high) (floor of uniform, clamped), of an integer dtype or bool.
array randint(const array& low, const array& high, const Shape& shape, Dtype dtype = int32,
              const std::optional<array>& key = std::nullopt, StreamOrDevice s = {});
template <typename T, typename U>
  requires(std::is_arithmetic_v<T> && std::is_arithmetic_v<U>)
array randint(T low, U high, const Shape& shape, Dtype dtype = int32, const std::optional<array>& key = std::nullopt,
              StreamOrDevice s = {}) {
  return randint(array(low), array(high), shape, dtype, key, to_stream(s));
}

// True with probability p (a float array, broadcast to `shape`; 0.5 when absent).
array bernoulli(const array& p, const Shape& shape, const std::optional<array>& key = std::nullopt,
                StreamOrDevice s = {});
array bernoulli(const array& p, const std::optional<array>& key = std::nullopt, StreamOrDevice s = {});
template <typename T>
  requires std::is_arithmetic_v<T>
array bernoulli(T p, const std::optional<array>& key = std::nullopt, StreamOrDevice s = {}) {
  return bernoulli(array(p), key, s);
}
template <typename T>
  requires std::is_arithmetic_v<T>
array bernoulli(T p, const Shape& shape, const std::optional<array>& key = std::nullopt, StreamOrDevice s = {}) {
  return bernoulli(array(p), shape, key, s);
}
array bernoulli(const std::optional<array>& key = std::nullopt, StreamOrDevice s = {});

// Normal samples truncated to [lower, upper] (inverse-CDF sampling, as jax / MLX).
array truncated_normal(const array& lower, const array& upper, const Shape& shape, Dtype dtype = float32,
                       const std::optional<array>& key = std::nullopt, StreamOrDevice s = {});
array truncated_normal(const array& lower, const array& upper, Dtype dtype = float32,
                       const std::optional<array>& key = std::nullopt, StreamOrDevice s = {});

// Standard Gumbel samples: -log(-log(u)).
array gumbel(const Shape& shape, Dtype dtype = float32, const std::optional<array>& key = std::nullopt,
             StreamOrDevice s = {});

// Samples of the categorical distributions of `logits` along `axis` (uint32 indices): of the
// given output shape (broadcasting with the logits' other axes), `num_samples` per
// distribution, or one. 1-D logits with a shape use the inverse CDF (cumsum + searchsorted),
// the others the Gumbel-max trick, as MLX.
array categorical(const array& logits, int axis, const Shape& shape, const std::optional<array>& key = std::nullopt,
                  StreamOrDevice s = {});
array categorical(const array& logits, int axis, int num_samples, const std::optional<array>& key = std::nullopt,
                  StreamOrDevice s = {});
array categorical(const array& logits, int axis = -1, const std::optional<array>& key = std::nullopt,
                  StreamOrDevice s = {});

// Laplace samples with location `loc` and scale `scale`.
array laplace(const Shape& shape, Dtype dtype, const float loc, const float scale,
              const std::optional<array>& key = std::nullopt, StreamOrDevice s = {});
inline array laplace(const Shape& shape, const float loc, const float scale,
                     const std::optional<array>& key = std::nullopt, StreamOrDevice s = {}) {
  return laplace(shape, float32, loc, scale, key, s);
}
inline array laplace(const Shape& shape, Dtype dtype, const std::optional<array>& key = std::nullopt,
                     StreamOrDevice s = {}) {
  return laplace(shape, dtype, 0.0f, 1.0f, key, s);
}
inline array laplace(const Shape& shape, const std::optional<array>& key = std::nullopt, StreamOrDevice s = {}) {
  return laplace(shape, float32, 0.0f, 1.0f, key, s);
}

// A random permutation of arange(x) (argsort of random bits), or of x along `axis`.
array permutation(int x, const std::optional<array>& key = std::nullopt, StreamOrDevice s = {});
array permutation(const array& x, int axis = 0, const std::optional<array>& key = std::nullopt,
                  StreamOrDevice s = {});

}  // namespace tessera::random
