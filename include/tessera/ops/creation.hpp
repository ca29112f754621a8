#pragma once
// Array creation ops.
#include <optional>

#include "tessera/core/array.hpp"
#include "tessera/core/device.hpp"

namespace tessera {

array zeros(const Shape& shape, Dtype dtype = float32, StreamOrDevice s = {});
array ones(const Shape& shape, Dtype dtype = float32, StreamOrDevice s = {});
array full(const Shape& shape, const array& vals, Dtype dtype, StreamOrDevice s = {});
array full(const Shape& shape, const array& vals, StreamOrDevice s = {});
template <ScalarType T>
array full(const Shape& shape, T val, Dtype dtype, StreamOrDevice s = {}) {
  check_valid_dtype(dtype, "full");  // before the scalar is made in it
  return full(shape, array(val, dtype), dtype, s);
}
template <ScalarType T>
array full(const Shape& shape, T val, StreamOrDevice s = {}) {
  return full(shape, array(val), s);
}
array zeros_like(const array& a, StreamOrDevice s = {});
array zeros_like(const array& a, Dtype dtype, StreamOrDevice s = {});
array ones_like(const array& a, StreamOrDevice s = {});
array ones_like(const array& a, Dtype dtype, StreamOrDevice s = {});
array full_like(const array& a, const array& vals, StreamOrDevice s = {});

// Half-open [start, stop) with `step`; float arguments give float32, integer ones int32.
array arange(double start, double stop, double step, Dtype dtype, StreamOrDevice s = {});
array arange(double start, double stop, double step, StreamOrDevice s = {});
array arange(double start, double stop, Dtype dtype, StreamOrDevice s = {});
array arange(double start, double stop, StreamOrDevice s = {});
array arange(double stop, Dtype dtype, StreamOrDevice s = {});
array arange(double stop, StreamOrDevice s = {});
array arange(int start, int stop, int step, StreamOrDevice s = {});
array arange(int start, int stop, StreamOrDevice s = {});
array arange(int stop, StreamOrDevice s = {});

array linspace(double start, double stop, int num = 50, Dtype dtype = float32,
               StreamOrDevice s = {});
// Without the endpoint, `num` samples of [start, stop) spaced (stop - start) / num apart.
array linspace(double start, double stop, int num, bool endpoint, Dtype dtype = float32, StreamOrDevice s = {});

// The window functions of NumPy / MLX, float32 of size M (empty for M < 1, [1] for M = 1).
array hanning(int M, StreamOrDevice s = {});
array hamming(int M, StreamOrDevice s = {});
array bartlett(int M, StreamOrDevice s = {});
array blackman(int M, StreamOrDevice s = {});
array eye(int n, int m, int k, Dtype dtype = float32, StreamOrDevice s = {});
array eye(int n, Dtype dtype = float32, StreamOrDevice s = {});
array identity(int n, Dtype dtype = float32, StreamOrDevice s = {});
array tri(int n, int m, int k, Dtype type = float32, StreamOrDevice s = {});
array tri(int n, Dtype type = float32, StreamOrDevice s = {});

}  // namespace tessera
