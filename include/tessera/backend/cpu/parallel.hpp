#pragma once
// A small thread pool for the CPU kernels' parallel loops.
#include <cstdint>
#include <functional>

namespace tessera::cpu {

// Runs body(begin, end) over [0, n) in chunks of at least `grain` items, on the pool's
// threads and the caller's. Nested calls (from inside a body) run inline.
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& body);
int num_threads();

}  // namespace tessera::cpu
