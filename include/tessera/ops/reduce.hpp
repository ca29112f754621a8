#pragma once
// Reductions. Each takes no axis (all axes), one axis, or a list of axes, and keepdims.
#include <vector>

#include "tessera/core/array.hpp"
#include "tessera/core/device.hpp"

namespace tessera {

#define TESSERA_DECLARE_REDUCTION(NAME)                                                     \
  array NAME(const array& a, bool keepdims, StreamOrDevice s = {});                         \
  array NAME(const array& a, StreamOrDevice s = {});                                        \
  array NAME(const array& a, const std::vector<int>& axes, bool keepdims = false,           \
             StreamOrDevice s = {});                                                        \
  array NAME(const array& a, int axis, bool keepdims = false, StreamOrDevice s = {});

TESSERA_DECLARE_REDUCTION(sum)
TESSERA_DECLARE_REDUCTION(mean)
TESSERA_DECLARE_REDUCTION(prod)
TESSERA_DECLARE_REDUCTION(max)
TESSERA_DECLARE_REDUCTION(min)
TESSERA_DECLARE_REDUCTION(all)
TESSERA_DECLARE_REDUCTION(any)
TESSERA_DECLARE_REDUCTION(logsumexp)
#undef TESSERA_DECLARE_REDUCTION

// Index of the largest / smallest element (uint32, as MLX); without axis, of the flattened array.
array argmax(const array& a, bool keepdims, StreamOrDevice s = {});
array argmax(const array& a, StreamOrDevice s = {});
array argmax(const array& a, int axis, bool keepdims = false, StreamOrDevice s = {});
array argmin(const array& a, bool keepdims, StreamOrDevice s = {});
array argmin(const array& a, StreamOrDevice s = {});
array argmin(const array& a, int axis, bool keepdims = false, StreamOrDevice s = {});

// softmax over the given axes (all axes without one); `precise` accumulates low-precision
// inputs in float32.
array softmax(const array& a, const std::vector<int>& axes, bool precise = false,
              StreamOrDevice s = {});
array softmax(const array& a, int axis, bool precise = false, StreamOrDevice s = {});
array softmax(const array& a, bool precise = false, StreamOrDevice s = {});

}  // namespace tessera
