#pragma once
// Miscellaneous ops.
#include "tessera/core/array.hpp"
#include "tessera/core/device.hpp"

namespace tessera {

// The same values as `a`, but gradients do not flow through it (they are zero).
array stop_gradient(const array& a, StreamOrDevice s = {});

}  // namespace tessera
