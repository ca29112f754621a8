#pragma once
// The optimizers of mlx.optimizers, with MLX's arguments, defaults and update rules. Each is its
// state (init_single) and one update of one parameter (apply_single); the walk over the trees
// is the base's (optimizer.hpp).
#include <cmath>
#include <string>
#include <utility>

#include "tessera/optim/optimizer.hpp"
#include "tessera/ops/elementwise.hpp"

namespace tessera::optim {

namespace detail {
inline array scalar_like(float v, const array& like) { return array(v, like.dtype()); }
inline void check_range(const char* opt, const char* what, float v, float lo, float hi) {
  if (!(v >= lo && v <= hi)) {
    throw std::invalid_argument(std::string("[") + opt + "] " + what + " must be in [" + std::to_string(lo) + ", " +
                                std::to_string(hi) + "], got " + std::to_string(v));
  }
}
}  // namespace detail
using detail::scalar_like;

// Stochastic gradient descent, optionally with (Nesterov) momentum, dampening and L2 weight decay.
class SGD : public Optimizer {
 public:
  explicit SGD(LearningRate learning_rate, float momentum = 0.0f, float weight_decay = 0.0f, float dampening = 0.0f,
               bool nesterov = false)
      : Optimizer(learning_rate), momentum_(momentum), weight_decay_(weight_decay), dampening_(dampening),
        nesterov_(nesterov) {
    if (nesterov && (momentum <= 0 || dampening != 0)) {
      throw std::invalid_argument("[SGD] Nesterov momentum needs a positive momentum and zero dampening");
    }
  }
  std::string name() const override { return "SGD"; }

 protected:
  void init_single(const array& p, Tree& state) override {
    if (momentum_ > 0) state["v"] = zeros_like(p);
  }
  array apply_single(const array& g0, const array& p, Tree& state) override {
    array g = weight_decay_ != 0 ? array(g0 + scalar_like(weight_decay_, p) * p) : g0;
    if (momentum_ <= 0) return p - lr(g) * g;
    array v = scalar_like(momentum_, g) * state.at("v").as_array();
    v = dampening_ > 0 ? array(v + scalar_like(1 - dampening_, g) * g) : array(v + g);
    state["v"] = v;
    array step = nesterov_ ? array(g + scalar_like(momentum_, g) * v) : v;
    return p - lr(g) * step;
  }

 private:
  float momentum_, weight_decay_, dampening_;
  bool nesterov_;
};

// RMSprop: v = alpha v + (1 - alpha) g^2; p -= lr g / (sqrt(v) + eps).
class RMSprop : public Optimizer {
 public:
  explicit RMSprop(LearningRate learning_rate, float alpha = 0.99f, float eps = 1e-8f)
      : Optimizer(learning_rate), alpha_(alpha), eps_(eps) {
    detail::check_range("RMSprop", "alpha", alpha, 0, 1);
    detail::check_range("RMSprop", "eps", eps, 0, INFINITY);
  }
  std::string name() const override { return "RMSprop"; }

 protected:
  void init_single(const array& p, Tree& state) override { state["v"] = zeros_like(p); }
  array apply_single(const array& g, const array& p, Tree& state) override {
    array v = scalar_like(alpha_, g) * state.at("v").as_array() + scalar_like(1 - alpha_, g) * square(g);
    state["v"] = v;
    return p - lr(g) * g / (sqrt(v) + scalar_like(eps_, g));
  }

 private:
  float alpha_, eps_;
};

// Adagrad: v += g^2; p -= lr g / (sqrt(v) + eps).
class Adagrad : public Optimizer {
 public:
  explicit Adagrad(LearningRate learning_rate, float eps = 1e-8f) : Optimizer(learning_rate), eps_(eps) {
    detail::check_range("Adagrad", "eps", eps, 0, INFINITY);
  }
  std::string name() const override { return "Adagrad"; }

 protected:
  void init_single(const array& p, Tree& state) override { state["v"] = zeros_like(p); }
  array apply_single(const array& g, const array& p, Tree& state) override {
    array v = state.at("v").as_array() + square(g);
    state["v"] = v;
    return p - lr(g) * g / (sqrt(v) + scalar_like(eps_, g));
  }

 private:
  float eps_;
};

// AdaDelta: the step is scaled by the ratio of running RMS of past steps and of gradients.
class AdaDelta : public Optimizer {
 public:
  explicit AdaDelta(LearningRate learning_rate, float rho = 0.9f, float eps = 1e-6f)
      : Optimizer(learning_rate), rho_(rho), eps_(eps) {
    detail::check_range("AdaDelta", "rho", rho, 0, 1);
    detail::check_range("AdaDelta", "eps", eps, 0, INFINITY);
  }
  std::string name() const override { return "AdaDelta"; }

 protected:
  void init_single(const array& p, Tree& state) override {
    state["v"] = zeros_like(p);
    state["u"] = zeros_like(p);
  }
  array apply_single(const array& g, const array& p, Tree& state) override {
    const array rho = scalar_like(rho_, g), keep = scalar_like(1 - rho_, g), eps = scalar_like(eps_, g);
    array v = rho * state.at("v").as_array() + keep * square(g);
    array d = sqrt(state.at("u").as_array() + eps) / sqrt(v + eps) * g;
    state["v"] = v;
    state["u"] = rho * state.at("u").as_array() + keep * square(d);
    return p - lr(g) * d;
  }

 private:
  float rho_, eps_;
};

// Adam (MLX's: eps added after the square root; bias correction off by default).
class Adam : public Optimizer {
 public:
  explicit Adam(LearningRate learning_rate, std::pair<float, float> betas = {0.9f, 0.999f}, float eps = 1e-8f,
                bool bias_correction = false)
      : Optimizer(learning_rate), b1_(betas.first), b2_(betas.second), eps_(eps), bias_correction_(bias_correction) {
    detail::check_range("Adam", "betas[0]", b1_, 0, 1);
    detail::check_range("Adam", "betas[1]", b2_, 0, 1);
  }
  std::string name() const override { return "Adam"; }

 protected:
  void init_single(const array& p, Tree& state) override {
    state["m"] = zeros_like(p);
    state["v"] = zeros_like(p);
  }
  array apply_single(const array& g, const array& p, Tree& state) override {
    array m = scalar_like(b1_, g) * state.at("m").as_array() + scalar_like(1 - b1_, g) * g;
    array v = scalar_like(b2_, g) * state.at("v").as_array() + scalar_like(1 - b2_, g) * square(g);
    state["m"] = m;
    state["v"] = v;
    if (!bias_correction_) return p - lr(g) * m / (sqrt(v) + scalar_like(eps_, g));
    // MLX's float32 terms: c1 = lr / (1 - b1^t), c2 = rsqrt(1 - b2^t), in the gradient's dtype.
    const Device cpu(Device::cpu);
    const array t = step_count();
    const array one(1.0f);
    const array c1 = lr(g) / astype(subtract(one, power(array(b1_), t, cpu), cpu), g.dtype(), cpu);
    const array c2 = astype(rsqrt(subtract(one, power(array(b2_), t, cpu), cpu), cpu), g.dtype(), cpu);
    return p - c1 * m / (sqrt(v) * c2 + scalar_like(eps_, g));
  }

 private:
  float b1_, b2_, eps_;
  bool bias_correction_;
};

// AdamW: Adam with decoupled weight decay, p *= 1 - lr * weight_decay before the Adam step.
class AdamW : public Adam {
 public:
  explicit AdamW(LearningRate learning_rate, std::pair<float, float> betas = {0.9f, 0.999f}, float eps = 1e-8f,
                 float weight_decay = 0.01f, bool bias_correction = false)
      : Adam(learning_rate, betas, eps, bias_correction), weight_decay_(weight_decay) {}
  std::string name() const override { return "AdamW"; }

 protected:
  array apply_single(const array& g, const array& p, Tree& state) override {
    return Adam::apply_single(g, p * (scalar_like(1, p) - lr(p) * scalar_like(weight_decay_, p)), state);
  }

 private:
  float weight_decay_;
};

// Adamax: the infinity-norm variant of Adam.
class Adamax : public Optimizer {
 public:
  explicit Adamax(LearningRate learning_rate, std::pair<float, float> betas = {0.9f, 0.999f}, float eps = 1e-8f)
      : Optimizer(learning_rate), b1_(betas.first), b2_(betas.second), eps_(eps) {
    detail::check_range("Adamax", "betas[0]", b1_, 0, 1);
    detail::check_range("Adamax", "betas[1]", b2_, 0, 1);
    detail::check_range("Adamax", "eps", eps, 0, INFINITY);
  }
  std::string name() const override { return "Adamax"; }

 protected:
  void init_single(const array& p, Tree& state) override {
    state["m"] = zeros_like(p);
    state["v"] = zeros_like(p);
  }
  array apply_single(const array& g, const array& p, Tree& state) override {
    array m = scalar_like(b1_, g) * state.at("m").as_array() + scalar_like(1 - b1_, g) * g;
    array v = maximum(scalar_like(b2_, g) * state.at("v").as_array(), abs(g));
    state["m"] = m;
    state["v"] = v;
    return p - lr(g) * m / (v + scalar_like(eps_, g));
  }

 private:
  float b1_, b2_, eps_;
};

// Lion: the sign of an interpolation of momentum and gradient; decoupled weight decay.
class Lion : public Optimizer {
 public:
  explicit Lion(LearningRate learning_rate, std::pair<float, float> betas = {0.9f, 0.99f}, float weight_decay = 0.0f)
      : Optimizer(learning_rate), b1_(betas.first), b2_(betas.second), weight_decay_(weight_decay) {}
  std::string name() const override { return "Lion"; }

 protected:
  void init_single(const array& p, Tree& state) override { state["m"] = zeros_like(p); }
  array apply_single(const array& g, const array& p0, Tree& state) override {
    const array m0 = state.at("m").as_array();
    array c = scalar_like(b1_, g) * m0 + scalar_like(1 - b1_, g) * g;
    state["m"] = scalar_like(b2_, g) * m0 + scalar_like(1 - b2_, g) * g;
    array p = weight_decay_ > 0 ? array(p0 * (scalar_like(1, p0) - lr(g) * scalar_like(weight_decay_, g))) : p0;
    return p - lr(g) * sign(c);
  }

 private:
  float b1_, b2_, weight_decay_;
};

}  // namespace tessera::optim
