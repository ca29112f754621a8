// Uses a few parts of the public API and checks the numbers, so a broken install fails here.
#include <cmath>
#include <cstdio>

#include <tessera/tessera.hpp>
#include <tessera/version.hpp>

namespace mx = tessera;

int main() {
  mx::array x = mx::arange(0.0, 4.0, 1.0);
  mx::array y = mx::sum(x * x + 1);             // 0+1 + 1+1 + 4+1 + 9+1 = 18
  mx::array g = mx::grad([](const mx::array& v) { return mx::sum(mx::square(v)); })(x);
  float s = y.item<float>();
  float g3 = mx::slice(g, {3}, {4}).item<float>();  // 2 * 3
  // The headers' version and the library's must agree (a stale install would not).
  bool same_version = mx::version() == TESSERA_VERSION_STRING;
  const char* device = mx::default_device().type == mx::Device::gpu ? "gpu" : "cpu";
  std::printf("tessera %s (headers %d.%d.%d) on the %s: sum %.1f, grad[3] %.1f\n",
              mx::version().c_str(), TESSERA_VERSION_MAJOR, TESSERA_VERSION_MINOR,
              TESSERA_VERSION_PATCH, device, s, g3);
  return (same_version && std::abs(s - 18.0f) < 1e-5f && std::abs(g3 - 6.0f) < 1e-5f) ? 0 : 1;
}
