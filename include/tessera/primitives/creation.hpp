#pragma once
#include "tessera/core/primitive.hpp"

namespace tessera {

// start, start + step, ... computed as start + i * step in the output dtype (the step itself
// is T(start + step) - T(start), as MLX, so integer and low-precision ranges match it).
class Arange : public NonDifferentiable {
 public:
  Arange(Stream s, double start, double step) : NonDifferentiable(s), start_(start), step_(step) {}
  TESSERA_DEFINE_EVAL()
  TESSERA_DEFINE_NAME(Arange)
  bool is_equivalent(const Primitive& o) const override;
  double start() const { return start_; }
  double step() const { return step_; }

 private:
  double start_, step_;
};

}  // namespace tessera
