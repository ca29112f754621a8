#include "tessera/core/memory.hpp"
#include "tessera/primitives/creation.hpp"

namespace tessera {

void Arange::eval_cpu(const std::vector<array>&, std::vector<array>& outputs) {
  array& out = outputs[0];
  out.set_data(cpu::malloc(out.nbytes()));
  dispatch_dtype(out.dtype(), [&](auto v) {
    using T = decltype(v);
    if constexpr (!std::is_same_v<T, bool> && !std::is_same_v<T, complex64_t>) {
      const T start = static_cast<T>(start_);
      const T step = static_cast<T>(static_cast<T>(start_ + step_) - start);
      T* o = static_cast<T*>(out.raw_host_ptr());
      for (size_t i = 0; i < out.size(); ++i) {
        o[i] = static_cast<T>(start + static_cast<T>(static_cast<T>(i) * step));
      }
    }
  });
}

}  // namespace tessera
