#pragma once
// Primitives of ops/misc.hpp.
#include "tessera/core/primitive.hpp"

namespace tessera {

// The identity, seen by autodiff as a constant: its vjp and jvp give zeros. Evaluating it
// shares the input's buffer (no copy), on either device.
class StopGradient : public Primitive {
 public:
  using Primitive::Primitive;
  TESSERA_DEFINE_EVAL()
  TESSERA_DEFINE_GRADS()
  TESSERA_DEFINE_VMAP()
  TESSERA_DEFINE_NAME(StopGradient)
  bool is_equivalent(const Primitive& other) const override;
};

}  // namespace tessera
