// Random ops (MLX's mlx/random.h). `bits` builds a RandomBits node; uniform and normal are one
// fused elementwise program over those bits, whose instructions and dtypes follow MLX's op
// sequence exactly (so their values match MLX's to the bit, up to the erfinv approximation).
#include "tessera/ops/random.hpp"

#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "tessera/ops/shape.hpp"
#include "tessera/primitives/elementwise.hpp"
#include "tessera/primitives/random.hpp"
#include "transforms/batching.hpp"

namespace tessera::random {

namespace {

// An output shape, checked under the op's name: no negative extent, and its size in bytes
// (`itemsize` per element) fits in int64.
void check_shape(const Shape& shape, size_t itemsize, const char* op) {
  checked_shape_size(shape, itemsize, (std::string("random.") + op).c_str());
}

// `loc` or `scale` of normal must broadcast to the sample shape (a larger one would silently
// grow the output, and an incompatible one fail inside the fused program).
void check_param(const std::optional<array>& p, const char* what, const Shape& shape) {
  if (p && !broadcasts_to(p->shape(), shape)) {
    throw std::invalid_argument(std::string("[random.normal] ") + what + " of shape " +
                                shape_string(p->shape()) + " cannot be broadcast to the shape " +
                                shape_string(shape) + " of the samples");
  }
}

void check_key(const array& key, const char* op) {
  if (key.dtype() != uint32 || key.ndim() < 1 || key.shape().back() != 2) {
    throw std::invalid_argument(std::string("[random.") + op +
                                "] expected a key of dtype uint32 and shape (..., 2), got dtype " +
                                to_string(key.dtype()) + " and shape " + shape_string(key.shape()));
  }
}

void check_floating(Dtype dtype, const char* op) {
  if (!issubdtype(dtype, floating)) {
    throw std::invalid_argument(std::string("[random.") + op +
                                "] can only generate samples of a real floating point dtype, got " +
                                to_string(dtype));
  }
}

Dtype bits_dtype(int width) {
  switch (width) {
    case 4: return uint32;
    case 2: return uint16;
    case 1: return uint8;
    default:
      throw std::invalid_argument("[random.bits] bit width must be in {1, 2, 4}, got " +
                                  std::to_string(width));
  }
}

// The largest value below 1 of `dtype`, as float32: the clamp that keeps uniform samples
// below `high` after the cast (MLX's `get_upper`).
float below_one(Dtype dtype) {
  if (dtype == float16) return 0.99951171875f;  // 1 - 2^-11: float16 0x3BFF
  if (dtype == bfloat16) return 0.99609375f;    // 1 - 2^-8: bfloat16 0x3F7F
  // float32 (and float64, sampled through float32 as the other dtypes).
  return std::nextafter(1.0f, 0.0f);
}

uint64_t clock_seed() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Keys

KeySequence::KeySequence(uint64_t seed) { this->seed(seed); }

void KeySequence::seed(uint64_t seed) {
  std::lock_guard<std::mutex> lock(mutex_);
  key_[0] = static_cast<uint32_t>(seed >> 32);
  key_[1] = static_cast<uint32_t>(seed);
}

array KeySequence::next() {
  // split(key_): the bits of shape (2, 2); row 0 becomes the new key, row 1 is returned.
  uint32_t words[4];
  {
    std::lock_guard<std::mutex> lock(mutex_);
    threefry::fill_block(key_[0], key_[1], sizeof(words), reinterpret_cast<unsigned char*>(words));
    key_[0] = words[0];
    key_[1] = words[1];
  }
  return array({words[2], words[3]});
}

KeySequence& KeySequence::default_() {
  static KeySequence ks(clock_seed());
  return ks;
}

array key(uint64_t seed) {
  return array({static_cast<uint32_t>(seed >> 32), static_cast<uint32_t>(seed)});
}

void seed(uint64_t seed) { KeySequence::default_().seed(seed); }

// ---------------------------------------------------------------------------------------------
// Bits and split

namespace {
// The RandomBits node for `op` (bits itself, or the distribution built on the bits), its
// shape checked under that op's name with `itemsize`: the op's output element size.
array bits_node(const Shape& shape, int width, const std::optional<array>& key_in,
                size_t itemsize, const char* op, StreamOrDevice s) {
  check_shape(shape, itemsize, op);
  const Dtype dtype = bits_dtype(width);
  if (key_in) check_key(*key_in, op);
  array k = key_in ? *key_in : KeySequence::default_().next();
  Shape out_shape(k.shape().begin(), k.shape().end() - 1);
  out_shape.insert(out_shape.end(), shape.begin(), shape.end());
  check_shape(out_shape, itemsize, op);  // with a batch of keys in front
  return array(std::move(out_shape), dtype, std::make_shared<RandomBits>(to_stream(s), shape, width),
               {k});
}
}  // namespace

array bits(const Shape& shape, int width, const std::optional<array>& key_in, StreamOrDevice s) {
  return bits_node(shape, width, key_in, bits_dtype(width).size(), "bits", s);
}

std::pair<array, array> split(const array& key, StreamOrDevice s) {
  check_key(key, "split");
  Stream stream = to_stream(s);
  array keys = random::split(key, 2, stream);  // (..., 2, 2)
  const int ax = keys.ndim() - 2;
  auto parts = tessera::split(keys, 2, ax, stream);
  return {squeeze(parts[0], ax, stream), squeeze(parts[1], ax, stream)};
}

array split(const array& key, int num, StreamOrDevice s) {
  check_key(key, "split");
  if (num < 0) {
    throw std::invalid_argument("[random.split] the number of keys must be non-negative, got " +
                                std::to_string(num));
  }
  return bits_node({num, 2}, 4, key, uint32.size(), "split", s);
}

// ---------------------------------------------------------------------------------------------
// Distributions

namespace {
// Emits MLX's uniform sequence into `b` and returns the result register:
//   u = astype(minimum(bits / float32(UINT32_MAX), below_one), dtype); (hi - lo) * u + lo
// with lo, hi already cast to dtype. `bits_reg`, `lo`, `hi` are input registers.
int emit_uniform(ProgramBuilder& b, int bits_reg, int lo_in, int hi_in, int maxval, int upper,
                 Dtype dtype) {
  int lo = b.emit(ElemOp::AsType, {lo_in}, dtype);
  int hi = b.emit(ElemOp::AsType, {hi_in}, dtype);
  int range = b.emit(ElemOp::Subtract, {hi, lo});
  int u = b.emit(ElemOp::Divide, {bits_reg, maxval});  // uint32 / float32 -> float32
  u = b.emit(ElemOp::Minimum, {u, upper});
  u = b.emit(ElemOp::AsType, {u}, dtype);
  return b.emit(ElemOp::Add, {b.emit(ElemOp::Multiply, {range, u}), lo});
}

void check_uniform_shape(const array& low, const array& high, const Shape& shape, Dtype dtype,
                         const char* op) {
  check_shape(shape, dtype.size(), op);
  const std::string name = std::string("random.") + op;
  Shape range_shape = broadcast_shapes(low.shape(), high.shape(), name.c_str());
  if (!broadcasts_to(range_shape, shape)) {
    throw std::invalid_argument(std::string("[random.") + op +
                                "] cannot generate random values of shape " + shape_string(shape) +
                                " from low and high of broadcast shape " +
                                shape_string(range_shape));
  }
}
}  // namespace

array uniform(const array& low, const array& high, const Shape& shape, Dtype dtype,
              const std::optional<array>& key, StreamOrDevice s) {
  check_floating(dtype, "uniform");
  if (key) check_key(*key, "uniform");
  check_uniform_shape(low, high, shape, dtype, "uniform");
  Stream stream = to_stream(s);
  array raw = bits_node(shape, 4, key, dtype.size(), "uniform", stream);
  ProgramBuilder b;
  int r_bits = b.input(raw);
  int r_lo = b.input(low);
  int r_hi = b.input(high);
  int r_max = b.input(array(static_cast<float>(std::numeric_limits<uint32_t>::max())));
  int r_up = b.input(array(below_one(dtype)));
  return b.finish(emit_uniform(b, r_bits, r_lo, r_hi, r_max, r_up, dtype), stream);
}

array uniform(const Shape& shape, Dtype dtype, const std::optional<array>& key, StreamOrDevice s) {
  check_floating(dtype, "uniform");
  return uniform(array(0.0, dtype), array(1.0, dtype), shape, dtype, key, to_stream(s));
}

array normal(const Shape& shape, Dtype dtype, const std::optional<array>& loc,
             const std::optional<array>& scale, const std::optional<array>& key,
             StreamOrDevice s) {
  check_floating(dtype, "normal");
  check_shape(shape, dtype.size(), "normal");
  if (key) check_key(*key, "normal");
  check_param(loc, "loc", shape);
  check_param(scale, "scale", shape);
  Stream stream = to_stream(s);
  // u uniform on [nextafter(-1, 0), 1) in float32, as MLX; then
  // loc + (sqrt(2) * scale) * astype(erfinv(u), dtype), each op in MLX's order and dtype.
  array raw = bits_node(shape, 4, key, dtype.size(), "normal", stream);
  ProgramBuilder b;
  int r_bits = b.input(raw);
  int r_lo = b.input(array(std::nextafter(-1.0f, 0.0f)));
  int r_hi = b.input(array(1.0f));
  int r_max = b.input(array(static_cast<float>(std::numeric_limits<uint32_t>::max())));
  int r_up = b.input(array(below_one(float32)));
  int r_sqrt2 = b.input(array(std::sqrt(2.0), dtype));
  int r_scale = scale ? b.input(*scale) : -1;
  int r_loc = loc ? b.input(*loc) : -1;

  int u = emit_uniform(b, r_bits, r_lo, r_hi, r_max, r_up, float32);
  int applied_scale = r_sqrt2;
  if (scale) {
    applied_scale =
        b.emit(ElemOp::Multiply, {applied_scale, b.emit(ElemOp::AsType, {r_scale}, dtype)});
  }
  int z = b.emit(ElemOp::AsType, {b.emit(ElemOp::Erfinv, {u})}, dtype);
  z = b.emit(ElemOp::Multiply, {applied_scale, z});
  if (loc) z = b.emit(ElemOp::Add, {b.emit(ElemOp::AsType, {r_loc}, dtype), z});
  return b.finish(z, stream);
}

}  // namespace tessera::random

namespace tessera {

bool RandomBits::is_equivalent(const Primitive& other) const {
  auto* o = dynamic_cast<const RandomBits*>(&other);
  return o && o->shape() == shape_ && o->width() == width_;
}


// Batching rule: a batch of keys is a leading axis of the key array, which the primitive
// already supports (one block of bits per key).
std::pair<std::vector<array>, std::vector<int>> RandomBits::vmap(const std::vector<array>& in,
                                                                 const std::vector<int>& axes) {
  // The traced per-example key passed the op's check (shape (..., 2)), so with the batch axis
  // in front the key axis is still the last.
  array k = batching::to_front(in[0], axes[0], stream());
  Shape out(k.shape().begin(), k.shape().end() - 1);
  out.insert(out.end(), shape_.begin(), shape_.end());
  return {{array(out, random::bits_dtype(width_), std::make_shared<RandomBits>(stream(), shape_, width_),
                 {k})},
          {0}};
}

}  // namespace tessera
