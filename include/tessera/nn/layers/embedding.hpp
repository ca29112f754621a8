#pragma once
// Embedding, as mlx.nn's: a (num_embeddings, dims) table initialised N(0, 1/dims), looked up by
// integer indices; as_linear uses it as the output projection of tied weights.
#include <cmath>
#include <string>

#include "tessera/nn/layers/linear.hpp"
#include "tessera/ops/indexing.hpp"

namespace tessera::nn {

class Embedding : public Module {
 public:
  array weight;
  Embedding(int num_embeddings, int dims)
      : weight((detail::check_positive("Embedding", "num_embeddings", num_embeddings),
                detail::check_positive("Embedding", "dims", dims),
                random::normal({num_embeddings, dims}, float32, 0.0f, std::sqrt(1.0f / dims)))) {
    register_parameter("weight", weight);
  }
  std::string name() const override { return "Embedding"; }
  std::string describe() const override {
    return std::to_string(weight.shape(0)) + ", " + std::to_string(weight.shape(1));
  }
  array operator()(const array& indices) const {
    if (!is_integral(indices.dtype())) {
      throw std::invalid_argument("[Embedding] indices must be integers, got " + std::string(dtype_name(indices.dtype())));
    }
    return take(weight, indices, 0);
  }
  array forward(const array& x) override { return (*this)(x); }
  array as_linear(const array& x) const {
    detail::check_features("Embedding", x, weight.shape(1));
    return matmul(x, transpose(weight));
  }
};

}  // namespace tessera::nn
