#pragma once
// Dropout, Dropout2d and Dropout3d, as mlx.nn's: in training, zero entries (or whole channels)
// with probability p and scale the rest by 1 / (1 - p); identity in evaluation.
#include <string>

#include "tessera/nn/layers/linear.hpp"
#include "tessera/ops/random.hpp"

namespace tessera::nn {

namespace detail {
class DropoutBase : public Module {
 public:
  std::string describe() const override { return "p=" + std::to_string(p_); }
  array forward(const array& x) override { return call(x); }

 protected:
  DropoutBase(const char* layer, float p, int spatial) : layer_(layer), p_(p), spatial_(spatial) {
    if (!(p >= 0.0f && p < 1.0f)) {
      throw std::invalid_argument(std::string("[") + layer + "] the dropout probability " + std::to_string(p) +
                                  " is not in [0, 1)");
    }
  }
  array call(const array& x) const {
    if (spatial_ > 0 && x.ndim() != spatial_ + 1 && x.ndim() != spatial_ + 2) {
      throw std::invalid_argument(std::string("[") + layer_ + "] expects " + std::to_string(spatial_ + 1) + " or " +
                                  std::to_string(spatial_ + 2) + " dimensions (channels last), got shape " +
                                  shape_string(x.shape()));
    }
    if (!training() || p_ == 0.0f) return x;
    Shape mask_shape = x.shape();
    for (int i = 0; i < spatial_; ++i) mask_shape[mask_shape.size() - 2 - i] = 1;  // whole channels
    const float keep = 1.0f - p_;
    array mask = random::bernoulli(array(keep), mask_shape);
    return x * astype(mask, x.dtype()) * array(1.0f / keep, x.dtype());
  }

 private:
  const char* layer_;
  float p_;
  int spatial_;  // 0: elementwise; 2 / 3: channels of (N)HWC / (N)DHWC inputs
};
}  // namespace detail

class Dropout : public detail::DropoutBase {
 public:
  explicit Dropout(float p = 0.5f) : DropoutBase("Dropout", p, 0) {}
  std::string name() const override { return "Dropout"; }
  array operator()(const array& x) const { return call(x); }
};
class Dropout2d : public detail::DropoutBase {
 public:
  explicit Dropout2d(float p = 0.5f) : DropoutBase("Dropout2d", p, 2) {}
  std::string name() const override { return "Dropout2d"; }
  array operator()(const array& x) const { return call(x); }
};
class Dropout3d : public detail::DropoutBase {
 public:
  explicit Dropout3d(float p = 0.5f) : DropoutBase("Dropout3d", p, 3) {}
  std::string name() const override { return "Dropout3d"; }
  array operator()(const array& x) const { return call(x); }
};

}  // namespace tessera::nn
