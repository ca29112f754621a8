#pragma once
// Identity, Linear and Bilinear, as mlx.nn's: weights (out, in), initialised U(-1/sqrt(in), 1/sqrt(in)).
#include <cmath>
#include <optional>
#include <string>

#include "tessera/nn/module.hpp"
#include "tessera/ops/matmul.hpp"
#include "tessera/ops/random.hpp"
#include "tessera/ops/reduce.hpp"
#include "tessera/ops/shape.hpp"

namespace tessera::nn {

namespace detail {
inline void check_features(const char* layer, const array& x, int expected, int axis_from_end = 1) {
  if (x.ndim() < axis_from_end || x.shape(-axis_from_end) != expected) {
    throw std::invalid_argument(std::string("[") + layer + "] input of shape " + shape_string(x.shape()) +
                                " does not end in " + std::to_string(expected) + " features");
  }
}
inline void check_positive(const char* layer, const char* what, int v) {
  if (v <= 0) throw std::invalid_argument(std::string("[") + layer + "] " + what + " must be positive, got " + std::to_string(v));
}
inline array uniform_init(float scale, const Shape& shape) { return random::uniform(-scale, scale, shape); }
inline const char* py_bool(bool b) { return b ? "True" : "False"; }
}  // namespace detail

class Identity : public Module {
 public:
  std::string name() const override { return "Identity"; }
  array operator()(const array& x) const { return x; }
  array forward(const array& x) override { return x; }
};

// y = x W^T + b.
class Linear : public Module {
 public:
  array weight;
  std::optional<array> bias;

  Linear(int input_dims, int output_dims, bool use_bias = true)
      : weight((detail::check_positive("Linear", "input_dims", input_dims),
                detail::check_positive("Linear", "output_dims", output_dims),
                detail::uniform_init(std::sqrt(1.0f / input_dims), {output_dims, input_dims}))) {
    if (use_bias) bias = detail::uniform_init(std::sqrt(1.0f / input_dims), {output_dims});
    register_parameter("weight", weight);
    register_parameter("bias", bias);
  }
  std::string name() const override { return "Linear"; }
  std::string describe() const override {
    return "input_dims=" + std::to_string(weight.shape(1)) + ", output_dims=" + std::to_string(weight.shape(0)) +
           ", bias=" + detail::py_bool(bias.has_value());
  }
  array operator()(const array& x) const {
    detail::check_features("Linear", x, weight.shape(1));
    // One GEMM with the bias as its C operand when the input is a matrix.
    if (bias && x.ndim() == 2) return addmm(*bias, x, transpose(weight));
    array y = matmul(x, transpose(weight));
    return bias ? array(y + *bias) : y;
  }
  array forward(const array& x) override { return (*this)(x); }
};

// y[..., o] = x1 W[o] x2^T + b[o].
class Bilinear : public Module {
 public:
  array weight;  // (out, in1, in2)
  std::optional<array> bias;

  Bilinear(int input1_dims, int input2_dims, int output_dims, bool use_bias = true)
      : weight((detail::check_positive("Bilinear", "input1_dims", input1_dims),
                detail::check_positive("Bilinear", "input2_dims", input2_dims),
                detail::check_positive("Bilinear", "output_dims", output_dims),
                detail::uniform_init(1.0f / std::sqrt(static_cast<float>(input1_dims)),
                                     {output_dims, input1_dims, input2_dims}))) {
    if (use_bias) bias = detail::uniform_init(1.0f / std::sqrt(static_cast<float>(input1_dims)), {output_dims});
    register_parameter("weight", weight);
    register_parameter("bias", bias);
  }
  std::string name() const override { return "Bilinear"; }
  std::string describe() const override {
    return "input1_dims=" + std::to_string(weight.shape(1)) + ", input2_dims=" + std::to_string(weight.shape(2)) +
           ", output_dims=" + std::to_string(weight.shape(0)) + ", bias=" + detail::py_bool(bias.has_value());
  }
  array operator()(const array& x1, const array& x2) const {
    detail::check_features("Bilinear", x1, weight.shape(1));
    detail::check_features("Bilinear", x2, weight.shape(2));
    const int out = weight.shape(0), in1 = weight.shape(1), in2 = weight.shape(2);
    Shape batch = x1.shape();
    batch.pop_back();
    // (N, in1) @ (in1, out*in2) -> (N, out, in2), then contract in2 with x2.
    array a = reshape(x1, {-1, in1});
    array b = reshape(x2, {-1, 1, in2});
    array w = reshape(transpose(weight, {1, 0, 2}), {in1, out * in2});
    array y = sum(multiply(reshape(matmul(a, w), {-1, out, in2}), b), -1);
    if (bias) y = y + *bias;
    batch.push_back(out);
    return reshape(y, batch);
  }
};

}  // namespace tessera::nn
