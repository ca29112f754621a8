#pragma once
// Primitive of matmul (ops/matmul.hpp; CPU kernel in backend/cpu/matmul.cpp).
//
// Inputs are two arrays of the same floating dtype and rank >= 2 whose batch axes already
// have the output's batch shape (the op broadcasts them with zero-copy views); the output is
// batch + (M, N).
#include "tessera/core/primitive.hpp"

namespace tessera {

class Matmul : public Primitive {
 public:
  using Primitive::Primitive;
  TESSERA_DEFINE_EVAL()
  TESSERA_DEFINE_GRADS()
  TESSERA_DEFINE_VMAP()
  TESSERA_DEFINE_OUTPUT_SHAPES()
  TESSERA_DEFINE_NAME(Matmul)
  bool is_equivalent(const Primitive& other) const override;
};

}  // namespace tessera
