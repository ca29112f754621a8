#pragma once
// Value tests and whole-array comparisons, as MLX's: isnan, isinf, isposinf, isneginf,
// isfinite, isclose, allclose and array_equal. Each is composed from the elementwise ops and
// the reductions (one fused elementwise node, then a reduction for the whole-array forms), so
// it runs on every device and needs no derivative of its own: its outputs are bool.
#include "tessera/core/array.hpp"
#include "tessera/core/device.hpp"

namespace tessera {

// Elementwise predicates (bool arrays of a's shape). Integer and bool arrays are never NaN or
// infinite; complex ones are NaN or infinite when either part is.
array isnan(const array& a, StreamOrDevice s = {});
array isinf(const array& a, StreamOrDevice s = {});
array isposinf(const array& a, StreamOrDevice s = {});
array isneginf(const array& a, StreamOrDevice s = {});
array isfinite(const array& a, StreamOrDevice s = {});

// |a - b| <= atol + rtol * |b|, elementwise (broadcasting); infinities are close only to the
// same infinity; NaNs are close to each other only with equal_nan.
array isclose(const array& a, const array& b, double rtol = 1e-5, double atol = 1e-8,
              bool equal_nan = false, StreamOrDevice s = {});
// all(isclose(...)): a 0-d bool array.
array allclose(const array& a, const array& b, double rtol = 1e-5, double atol = 1e-8,
               bool equal_nan = false, StreamOrDevice s = {});

// True when the shapes are equal (no broadcasting) and so is every element; a 0-d bool array.
array array_equal(const array& a, const array& b, bool equal_nan, StreamOrDevice s = {});
array array_equal(const array& a, const array& b, StreamOrDevice s = {});

}  // namespace tessera
