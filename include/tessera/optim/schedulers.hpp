#pragma once
// Learning-rate schedules, as mlx.optimizers': functions of the step count (an array) that an
// optimizer evaluates before each update.
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "tessera/optim/optimizer.hpp"
#include "tessera/ops/elementwise.hpp"

namespace tessera::optim {

namespace detail {
inline array steps_f32(const array& step) { return astype(step, float32); }
}  // namespace detail

// init * decay_rate^step.
inline Schedule exponential_decay(float init, float decay_rate) {
  return [=](const array& step) { return array(init) * power(array(decay_rate), detail::steps_f32(step)); };
}
// init * decay_rate^floor(step / step_size).
inline Schedule step_decay(float init, float decay_rate, int step_size) {
  if (step_size <= 0) throw std::invalid_argument("[step_decay] step_size must be positive, got " + std::to_string(step_size));
  return [=](const array& step) {
    return array(init) * power(array(decay_rate), floor(detail::steps_f32(step) / array(float(step_size))));
  };
}
// Half a cosine from init to end over decay_steps, then end.
inline Schedule cosine_decay(float init, int decay_steps, float end = 0.0f) {
  if (decay_steps <= 0) throw std::invalid_argument("[cosine_decay] decay_steps must be positive, got " + std::to_string(decay_steps));
  return [=](const array& step) {
    array s = minimum(detail::steps_f32(step), array(float(decay_steps)));
    array decay = array(0.5f) * (array(1.0f) + cos(array(float(M_PI / decay_steps)) * s));
    return array(end) + decay * array(init - end);
  };
}
// A straight line from init to end over `steps`, then end.
inline Schedule linear_schedule(float init, float end, int steps) {
  if (steps < 1) throw std::invalid_argument("[linear_schedule] steps must be at least 1, got " + std::to_string(steps));
  return [=](const array& step) {
    array s = minimum(detail::steps_f32(step), array(float(steps)));
    return s * array((end - init) / steps) + array(init);
  };
}
// schedules[i] from boundaries[i-1] on, each seeing the steps since its boundary.
inline Schedule join_schedules(std::vector<Schedule> schedules, std::vector<int> boundaries) {
  if (schedules.empty()) throw std::invalid_argument("[join_schedules] at least one schedule is needed");
  if (boundaries.size() + 1 != schedules.size()) {
    throw std::invalid_argument("[join_schedules] " + std::to_string(schedules.size()) + " schedules need " +
                                std::to_string(schedules.size() - 1) + " boundaries, got " +
                                std::to_string(boundaries.size()));
  }
  return [=](const array& step) {
    array s = astype(step, int64);
    array out = schedules[0](step);
    for (size_t i = 0; i < boundaries.size(); ++i) {
      const array b(static_cast<int64_t>(boundaries[i]), int64);
      out = where(s < b, out, schedules[i + 1](maximum(s - b, array(int64_t{0}, int64))));
    }
    return out;
  };
}

}  // namespace tessera::optim
