// Uses a few parts of the public API and checks the numbers, so a broken install fails here.
#include <cmath>
#include <cstdio>

#include <tessera/tessera.hpp>

namespace mx = tessera;

int main() {
  mx::array x = mx::arange(0.0, 4.0, 1.0);
  mx::array y = mx::sum(x * x + 1);             // 0+1 + 1+1 + 4+1 + 9+1 = 18
  mx::array g = mx::grad([](const mx::array& v) { return mx::sum(mx::square(v)); })(x);
  float s = y.item<float>();
  float g3 = mx::slice(g, {3}, {4}).item<float>();  // 2 * 3
  std::printf("sum %.1f, grad[3] %.1f\n", s, g3);
  return (std::abs(s - 18.0f) < 1e-5f && std::abs(g3 - 6.0f) < 1e-5f) ? 0 : 1;
}
