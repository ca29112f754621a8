// Miscellaneous ops: stop_gradient.
#include "tessera/ops/misc.hpp"

#include "tessera/ops/creation.hpp"
#include "tessera/primitives/misc.hpp"
#include "transforms/batching.hpp"

namespace tessera {

array stop_gradient(const array& a, StreamOrDevice s) {
  return array(a.shape(), a.dtype(), std::make_shared<StopGradient>(to_stream(s)), {a});
}

bool StopGradient::is_equivalent(const Primitive& other) const {
  return dynamic_cast<const StopGradient*>(&other) != nullptr;
}

// The output is the input's buffer, with its strides (a view, no copy).
void StopGradient::eval_cpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  outputs[0].copy_shared_buffer(inputs[0]);
}

std::vector<array> StopGradient::vjp(const std::vector<array>& primals, const std::vector<array>&,
                                     const std::vector<int>& argnums, const std::vector<array>&) {
  std::vector<array> out;
  for (int i : argnums) out.push_back(zeros_like(primals[i], stream()));
  return out;
}

std::vector<array> StopGradient::jvp(const std::vector<array>& primals, const std::vector<array>&,
                                     const std::vector<int>&) {
  return {zeros_like(primals[0], stream())};
}


std::pair<std::vector<array>, std::vector<int>> StopGradient::vmap(const std::vector<array>& in,
                                                                   const std::vector<int>& axes) {
  return {{stop_gradient(in[0], stream())}, {axes[0]}};
}

std::vector<Shape> StopGradient::output_shapes(const std::vector<array>& in) { return {in[0].shape()}; }

}  // namespace tessera
