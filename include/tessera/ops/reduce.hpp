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

// Variance and standard deviation (MLX's overloads): sum of squared deviations from the mean
// divided by max(N - ddof, 0); integers compute in float32; complex values give the mean
// squared magnitude (float32).
array var(const array& a, bool keepdims, int ddof = 0, StreamOrDevice s = {});
array var(const array& a, StreamOrDevice s = {});
array var(const array& a, const std::vector<int>& axes, bool keepdims = false, int ddof = 0, StreamOrDevice s = {});
array var(const array& a, int axis, bool keepdims = false, int ddof = 0, StreamOrDevice s = {});
array std(const array& a, bool keepdims, int ddof = 0, StreamOrDevice s = {});
array std(const array& a, StreamOrDevice s = {});
array std(const array& a, const std::vector<int>& axes, bool keepdims = false, int ddof = 0, StreamOrDevice s = {});
array std(const array& a, int axis, bool keepdims = false, int ddof = 0, StreamOrDevice s = {});

// The number of nonzero (true) elements, int32.
array count_nonzero(const array& a, bool keepdims = false, StreamOrDevice s = {});
array count_nonzero(const array& a, int axis, bool keepdims = false, StreamOrDevice s = {});
array count_nonzero(const array& a, const std::vector<int>& axes, bool keepdims = false, StreamOrDevice s = {});

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
