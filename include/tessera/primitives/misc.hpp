#pragma once
// Primitives that compute nothing themselves: StopGradient (ops/misc.hpp) and CustomTransforms
// (transforms/custom.hpp). Both share their inputs' buffers on every device.
#include <functional>
#include <optional>

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
  TESSERA_DEFINE_OUTPUT_SHAPES()
  TESSERA_DEFINE_NAME(StopGradient)
  bool is_equivalent(const Primitive& other) const override;
};

// The node of custom_function: its inputs are the function's arguments followed by the
// function's outputs (computed by the traced function itself), and its outputs are those
// values again; only the transforms differ: they call the user's rules when given and fall back
// to transforming the function otherwise.
using CustomFn = std::function<std::vector<array>(const std::vector<array>&)>;
using CustomVjpFn = std::function<std::vector<array>(
    const std::vector<array>& primals, const std::vector<array>& cotangents,
    const std::vector<array>& outputs)>;
using CustomJvpFn = std::function<std::vector<array>(
    const std::vector<array>& primals, const std::vector<array>& tangents,
    const std::vector<int>& argnums)>;
using CustomVmapFn = std::function<std::pair<std::vector<array>, std::vector<int>>(
    const std::vector<array>& inputs, const std::vector<int>& axes)>;

class CustomTransforms : public Primitive {
 public:
  CustomTransforms(Stream s, int num_args, CustomFn fun, std::optional<CustomVjpFn> fun_vjp,
                   std::optional<CustomJvpFn> fun_jvp, std::optional<CustomVmapFn> fun_vmap)
      : Primitive(s), num_args_(num_args), fun_(std::move(fun)), vjp_(std::move(fun_vjp)),
        jvp_(std::move(fun_jvp)), vmap_(std::move(fun_vmap)) {}
  TESSERA_DEFINE_EVAL()
  TESSERA_DEFINE_GRADS()
  TESSERA_DEFINE_VMAP()
  TESSERA_DEFINE_NAME(CustomTransforms)

 private:
  int num_args_;
  CustomFn fun_;
  std::optional<CustomVjpFn> vjp_;
  std::optional<CustomJvpFn> jvp_;
  std::optional<CustomVmapFn> vmap_;
};

}  // namespace tessera
