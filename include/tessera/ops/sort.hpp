#pragma once
// Sorting and selection with MLX's signatures (mlx/ops.h). sort / argsort are stable and put
// NaN last; argsort and argpartition give uint32 indices. partition(a, kth) moves the element
// that would be at position kth of the sorted array there, no larger one before it and no
// smaller one after it (a negative kth counts from the end). topk(a, k) gives the k largest
// elements along the axis (the last k of partition(a, -k), in no promised order), as MLX.
// Without an axis the flattened array is used. Primitives: primitives/sort.hpp.
#include <string>

#include "tessera/core/array.hpp"
#include "tessera/core/device.hpp"

namespace tessera {

array sort(const array& a, int axis, StreamOrDevice s = {});
array sort(const array& a, StreamOrDevice s = {});
array argsort(const array& a, int axis, StreamOrDevice s = {});
array argsort(const array& a, StreamOrDevice s = {});
array partition(const array& a, int kth, int axis, StreamOrDevice s = {});
array partition(const array& a, int kth, StreamOrDevice s = {});
array argpartition(const array& a, int kth, int axis, StreamOrDevice s = {});
array argpartition(const array& a, int kth, StreamOrDevice s = {});
array topk(const array& a, int k, int axis, StreamOrDevice s = {});
array topk(const array& a, int k, StreamOrDevice s = {});

// For each of `values`, the index into the sorted 1-D `sorted_sequence` where it would be
// inserted to keep the order (NaN last): side "left" before equal elements, "right" after.
array searchsorted(const array& sorted_sequence, const array& values, const std::string& side = "left",
                   StreamOrDevice s = {});

}  // namespace tessera
