#pragma once
// Helpers of the batching rules (Primitive::vmap), shared by the op families.
#include <vector>

#include "tessera/core/array.hpp"
#include "tessera/core/device.hpp"

namespace tessera::batching {

// `x` with its batch axis `axis` moved to the front (a view); `x` itself when axis is -1.
array to_front(const array& x, int axis, const Stream& s);

// The common batch size of the batched inputs (axes[i] >= 0); throws naming `op` when they
// disagree, and when no input is batched.
int batch_size(const std::vector<array>& inputs, const std::vector<int>& axes, const char* op);

// `x` with the batch at the front and exactly `rank` axes after it: a batched input gets size-1
// axes inserted after the batch (so that per-example shapes broadcast from the right as they
// did), an unbatched one is broadcast to `batch` along a new front axis when `materialize_batch`,
// else gets only the rank padding.
array aligned(const array& x, int axis, int rank, int batch, bool materialize_batch,
              const Stream& s);

// `x` with a batch of `batch` in front: its own batch axis moved there, or, for a shared
// input (axis -1), broadcast along a new front axis. For primitives whose operands must
// agree in shape (Matmul, SliceUpdate, Concatenate).
inline array with_batch_in_front(const array& x, int axis, int batch, const Stream& s) {
  return aligned(x, axis, x.ndim() - (axis >= 0 ? 1 : 0), batch, true, s);
}

}  // namespace tessera::batching
