#pragma once
// Primitive: one node kind of the lazy graph. It evaluates itself on each backend, knows its
// derivative rules (written with ops, so they compose with every transform) and its output
// shapes.
#include <string>
#include <utility>
#include <vector>

#include "tessera/config.hpp"
#include "tessera/core/array.hpp"
#include "tessera/core/device.hpp"

namespace tessera {

class Primitive {
 public:
  explicit Primitive(Stream stream) : stream_(stream) {}
  virtual ~Primitive() = default;
  Primitive(const Primitive&) = delete;
  Primitive& operator=(const Primitive&) = delete;

  const Stream& stream() const { return stream_; }
  Device device() const { return stream_.device; }

  // Compute `outputs` (already shaped and typed) from evaluated `inputs`.
  virtual void eval_cpu(const std::vector<array>& inputs, std::vector<array>& outputs) = 0;
  // Record the GPU work for `outputs`; runs on the stream's Vulkan encoder.
  virtual void eval_gpu(const std::vector<array>& inputs, std::vector<array>& outputs);

  // Forward mode: tangents of every output, given tangents of the inputs in `argnums`.
  virtual std::vector<array> jvp(const std::vector<array>& primals,
                                 const std::vector<array>& tangents,
                                 const std::vector<int>& argnums);
  // Reverse mode: cotangents of the inputs in `argnums`, given the cotangents of every output.
  virtual std::vector<array> vjp(const std::vector<array>& primals,
                                 const std::vector<array>& cotangents,
                                 const std::vector<int>& argnums,
                                 const std::vector<array>& outputs);
  // Batching (vmap): the outputs for `inputs` that carry an extra batch axis at `axes[i]`
  // (-1: input i is not batched), and the batch axis of each output (-1: not batched).
  // Written with ops, so batched graphs are ordinary graphs that every transform can walk.
  // MLX's signature; the base class throws, naming the primitive.
  virtual std::pair<std::vector<array>, std::vector<int>> vmap(const std::vector<array>& inputs,
                                                               const std::vector<int>& axes);

  // The output shapes for inputs of these shapes: compile's shapeless mode replays a trace
  // with them. Only primitives whose output shape follows from their inputs' have one; the
  // base class throws, naming the primitive.
  virtual std::vector<Shape> output_shapes(const std::vector<array>& inputs);

  virtual const char* name() const = 0;
  // Same computation on the same kind of inputs (used by compile's CSE).
  virtual bool is_equivalent(const Primitive& other) const { return false; }
  virtual void print(std::ostream& os) const;

 private:
  Stream stream_;
};

// A primitive without derivative (random bits, comparisons' outputs, argmax): gradients
// through it are zero.
class NonDifferentiable : public Primitive {
 public:
  using Primitive::Primitive;
  std::vector<array> jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                         const std::vector<int>& argnums) override;
  std::vector<array> vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                         const std::vector<int>& argnums,
                         const std::vector<array>& outputs) override;
};

}  // namespace tessera

// Declares the backend entry points of a primitive; the GPU one only exists in Vulkan builds
// (the base class then reports that no GPU backend was built).
#if TESSERA_HAS_VULKAN
#define TESSERA_DEFINE_EVAL()                                                         \
  void eval_cpu(const std::vector<array>& inputs, std::vector<array>& outputs) override; \
  void eval_gpu(const std::vector<array>& inputs, std::vector<array>& outputs) override;
#else
#define TESSERA_DEFINE_EVAL() \
  void eval_cpu(const std::vector<array>& inputs, std::vector<array>& outputs) override;
#endif

#define TESSERA_DEFINE_VMAP()                                                       \
  std::pair<std::vector<array>, std::vector<int>> vmap(const std::vector<array>& inputs, \
                                                       const std::vector<int>& axes) override;

#define TESSERA_DEFINE_OUTPUT_SHAPES() \
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;

#define TESSERA_DEFINE_NAME(NAME) \
  const char* name() const override { return #NAME; }

#define TESSERA_DEFINE_GRADS()                                                                 \
  std::vector<array> jvp(const std::vector<array>& primals, const std::vector<array>& tangents, \
                         const std::vector<int>& argnums) override;                            \
  std::vector<array> vjp(const std::vector<array>& primals,                                    \
                         const std::vector<array>& cotangents, const std::vector<int>& argnums, \
                         const std::vector<array>& outputs) override;
