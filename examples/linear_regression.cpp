// Linear regression by gradient descent, as in MLX's "Linear Regression" example, in C++ on
// the default device (the GPU when Vulkan finds one; TESSERA_DEVICE=cpu forces the CPU).
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include <tessera/tessera.hpp>

namespace mx = tessera;

int main(int argc, char** argv) {
  const int num_features = 100;
  const int num_examples = 1000;
  const int num_iters = argc > 1 ? std::atoi(argv[1]) : 10000;
  const float lr = 0.01f;

  std::printf("device: %s\n", mx::default_device() == mx::Device(mx::Device::gpu) ? "gpu (Vulkan)" : "cpu");

  // The true parameters, and noisy observations of a linear function of random inputs.
  mx::array w_star = mx::random::normal({num_features});
  mx::array X = mx::random::normal({num_examples, num_features});
  mx::array eps = 1e-2f * mx::random::normal({num_examples});
  mx::array y = mx::matmul(X, w_star) + eps;

  auto loss_fn = [&](const mx::array& w) -> mx::array {
    return 0.5f * mx::mean(mx::square(mx::matmul(X, w) - y));
  };
  auto grad_fn = mx::grad(loss_fn);

  mx::array w = 1e-2f * mx::random::normal({num_features});
  for (int it = 0; it < num_iters; ++it) {
    mx::array grad = grad_fn(w);
    w = w - lr * grad;
    mx::eval(w);
    if (it % (num_iters / 10 > 0 ? num_iters / 10 : 1) == 0) {
      std::printf("iteration %5d  loss %.5f\n", it, loss_fn(w).item<float>());
    }
  }

  float loss = loss_fn(w).item<float>();
  float error_norm = std::sqrt(mx::sum(mx::square(w - w_star)).item<float>());
  std::printf("Loss %.5f, |w-w*| = %.5f\n", loss, error_norm);
  // The fit must recover the parameters up to the noise (0.01 per example).
  return (loss < 1e-3f && error_norm < 1e-2f) ? EXIT_SUCCESS : EXIT_FAILURE;
}
