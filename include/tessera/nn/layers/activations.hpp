#pragma once
// The activation modules of mlx.nn: each wraps the function of nn/activations.hpp of the same
// name (PReLU holds its learnable slope).
#include <string>

#include "tessera/nn/activations.hpp"
#include "tessera/nn/module.hpp"
#include "tessera/ops/creation.hpp"

namespace tessera::nn {

#define TESSERA_ACTIVATION(NAME, FN)                                 \
  class NAME : public Module {                                       \
   public:                                                           \
    std::string name() const override { return #NAME; }             \
    array operator()(const array& x) const { return nn::FN(x); }        \
    array forward(const array& x) override { return nn::FN(x); }        \
  };
TESSERA_ACTIVATION(ReLU, relu)
TESSERA_ACTIVATION(ReLU2, relu2)
TESSERA_ACTIVATION(ReLU6, relu6)
TESSERA_ACTIVATION(SELU, selu)
TESSERA_ACTIVATION(SiLU, silu)
TESSERA_ACTIVATION(Sigmoid, sigmoid)
TESSERA_ACTIVATION(LogSigmoid, log_sigmoid)
TESSERA_ACTIVATION(Mish, mish)
TESSERA_ACTIVATION(Softplus, softplus)
TESSERA_ACTIVATION(Softsign, softsign)
TESSERA_ACTIVATION(Tanh, tanh)
TESSERA_ACTIVATION(Hardswish, hardswish)
#undef TESSERA_ACTIVATION

// Activations with one float argument (its MLX name and default).
#define TESSERA_ACTIVATION_1(NAME, FN, ARG, DEFAULT)                                   \
  class NAME : public Module {                                                         \
   public:                                                                             \
    explicit NAME(float ARG = DEFAULT) : ARG##_(ARG) {}                                \
    std::string name() const override { return #NAME; }                               \
    std::string describe() const override { return #ARG "=" + std::to_string(ARG##_); } \
    array operator()(const array& x) const { return nn::FN(x, ARG##_); }                   \
    array forward(const array& x) override { return nn::FN(x, ARG##_); }                   \
                                                                                       \
   private:                                                                            \
    float ARG##_;                                                                      \
  };
TESSERA_ACTIVATION_1(LeakyReLU, leaky_relu, negative_slope, 0.01f)
TESSERA_ACTIVATION_1(ELU, elu, alpha, 1.0f)
TESSERA_ACTIVATION_1(CELU, celu, alpha, 1.0f)
TESSERA_ACTIVATION_1(HardShrink, hard_shrink, lambd, 0.5f)
TESSERA_ACTIVATION_1(Softshrink, softshrink, lambd, 0.5f)
TESSERA_ACTIVATION_1(Step, step, threshold, 0.0f)
#undef TESSERA_ACTIVATION_1

// Activations along an axis.
#define TESSERA_ACTIVATION_AXIS(NAME, FN)                                                 \
  class NAME : public Module {                                                            \
   public:                                                                                \
    explicit NAME(int axis = -1) : axis_(axis) {}                                         \
    std::string name() const override { return #NAME; }                                  \
    std::string describe() const override { return "axis=" + std::to_string(axis_); }    \
    array operator()(const array& x) const { return nn::FN(x, axis_); }                       \
    array forward(const array& x) override { return nn::FN(x, axis_); }                       \
                                                                                          \
   private:                                                                               \
    int axis_;                                                                            \
  };
TESSERA_ACTIVATION_AXIS(Softmax, softmax)
TESSERA_ACTIVATION_AXIS(LogSoftmax, log_softmax)
TESSERA_ACTIVATION_AXIS(Softmin, softmin)
TESSERA_ACTIVATION_AXIS(GLU, glu)
#undef TESSERA_ACTIVATION_AXIS

class HardTanh : public Module {
 public:
  explicit HardTanh(float min_val = -1.0f, float max_val = 1.0f) : min_(min_val), max_(max_val) {}
  std::string name() const override { return "HardTanh"; }
  array operator()(const array& x) const { return nn::hard_tanh(x, min_, max_); }
  array forward(const array& x) override { return (*this)(x); }

 private:
  float min_, max_;
};

// approx: "none" (exact, erf), "precise" or "tanh" (tanh form), "fast" (x * sigmoid(1.702 x)).
class GELU : public Module {
 public:
  explicit GELU(std::string approx = "none") : approx_(std::move(approx)) {
    if (approx_ != "none" && approx_ != "precise" && approx_ != "tanh" && approx_ != "fast") {
      throw std::invalid_argument("[GELU] approx must be 'none', 'precise', 'tanh' or 'fast', got '" + approx_ + "'");
    }
  }
  std::string name() const override { return "GELU"; }
  array operator()(const array& x) const {
    if (approx_ == "none") return nn::gelu(x);
    return approx_ == "fast" ? nn::gelu_fast_approx(x) : nn::gelu_approx(x);
  }
  array forward(const array& x) override { return (*this)(x); }

 private:
  std::string approx_;
};

// A learnable slope for the negative side, one per channel (or one shared).
class PReLU : public Module {
 public:
  array weight;
  explicit PReLU(int num_parameters = 1, float init = 0.25f) : weight(full({num_parameters}, array(init))) {
    register_parameter("weight", weight);
  }
  std::string name() const override { return "PReLU"; }
  array operator()(const array& x) const { return nn::prelu(x, weight); }
  array forward(const array& x) override { return (*this)(x); }
};

}  // namespace tessera::nn
