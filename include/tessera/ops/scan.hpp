#pragma once
// Cumulative ops with MLX's signatures (mlx/ops.h): cumsum, cumprod, cummax, cummin,
// logcumsumexp along an axis (or over the flattened array), `reverse` scanning from the end,
// `inclusive = false` giving each position the scan of the elements before it (the identity
// first). cumsum and cumprod of bool give int32, and take an optional dtype to compute in;
// logcumsumexp of integers gives float32. Primitive: primitives/scan.hpp.
#include <optional>

#include "tessera/core/array.hpp"
#include "tessera/core/device.hpp"

namespace tessera {

array cumsum(const array& a, int axis, bool reverse = false, bool inclusive = true,
             std::optional<Dtype> dtype = std::nullopt, StreamOrDevice s = {});
array cumsum(const array& a, bool reverse = false, bool inclusive = true, std::optional<Dtype> dtype = std::nullopt,
             StreamOrDevice s = {});
array cumsum(const array& a, int axis, bool reverse, bool inclusive, StreamOrDevice s);
array cumsum(const array& a, bool reverse, bool inclusive, StreamOrDevice s);
array cumprod(const array& a, int axis, bool reverse = false, bool inclusive = true,
              std::optional<Dtype> dtype = std::nullopt, StreamOrDevice s = {});
array cumprod(const array& a, bool reverse = false, bool inclusive = true, std::optional<Dtype> dtype = std::nullopt,
              StreamOrDevice s = {});
array cumprod(const array& a, int axis, bool reverse, bool inclusive, StreamOrDevice s);
array cumprod(const array& a, bool reverse, bool inclusive, StreamOrDevice s);
array cummax(const array& a, int axis, bool reverse = false, bool inclusive = true, StreamOrDevice s = {});
array cummax(const array& a, bool reverse = false, bool inclusive = true, StreamOrDevice s = {});
array cummin(const array& a, int axis, bool reverse = false, bool inclusive = true, StreamOrDevice s = {});
array cummin(const array& a, bool reverse = false, bool inclusive = true, StreamOrDevice s = {});
array logcumsumexp(const array& a, int axis, bool reverse = false, bool inclusive = true, StreamOrDevice s = {});
array logcumsumexp(const array& a, bool reverse = false, bool inclusive = true, StreamOrDevice s = {});

}  // namespace tessera
