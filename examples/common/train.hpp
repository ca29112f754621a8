#pragma once
// The training loop both Fashion-MNIST examples share: shuffled mini-batches, one
// nn::value_and_grad + optimizer update per step, a progress bar, test accuracy after every
// epoch, then the curves (CSV + PNG) and the last line `test accuracy: NN.N%`.
#include <algorithm>
#include <cstdio>
#include <numeric>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <tessera/nn.hpp>
#include <tessera/optim.hpp>
#include <tessera/tessera.hpp>

#include "cli.hpp"
#include "curves.hpp"
#include "fashion_mnist.hpp"
#include "progress.hpp"

namespace examples {

namespace mx = tessera;

// Selects --device; returns false (after saying why) when it is not available.
inline bool select_device(const Options& o) {
  if (o.device == "cpu") mx::set_default_device(mx::Device::cpu);
  if (o.device == "gpu") {
    if (!mx::is_available(mx::Device::gpu)) {
      std::fprintf(stderr, "--device gpu: no Vulkan GPU is available (see `vulkaninfo --summary`)\n");
      return false;
    }
    mx::set_default_device(mx::Device::gpu);
  }
  std::printf("device: %s\n", mx::default_device() == mx::Device(mx::Device::gpu) ? "gpu (Vulkan)" : "cpu");
  return true;
}

// The fraction of `split` that `model` (in eval mode) classifies right, in batches of 1000.
template <typename Model>
double accuracy(Model& model, const Split& split) {
  long correct = 0;
  for (int start = 0; start < split.size; start += 1000) {
    const int stop = std::min(split.size, start + 1000);
    mx::array x = mx::slice(split.images, {start, 0, 0, 0}, {stop, 28, 28, 1});
    mx::array y = mx::slice(split.labels, {start}, {stop});
    correct += mx::sum(mx::equal(mx::argmax(model(x), -1), y)).template item<int>();
  }
  return static_cast<double>(correct) / split.size;
}

// The optimizer steps of the whole run (for a schedule over it).
inline int total_steps(const Options& o) {
  const int n = o.limit > 0 ? std::min(o.limit, 60000) : 60000;
  return o.epochs * ((n + o.batch_size - 1) / o.batch_size);
}

// Trains `model` with `optimizer` as the options say; returns the process exit status.
template <typename Model>
int train_fashion_mnist(Model& model, mx::optim::Optimizer& optimizer, const Options& o, const std::string& title) {
  std::optional<FashionMnist> loaded;
  try {
    loaded = load_fashion_mnist(o.data_dir, o.limit, o.test_limit);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  const FashionMnist& data = *loaded;
  std::printf("%s: %d training and %d test images, %d epochs, batch size %d\n", title.c_str(), data.train.size,
              data.test.size, o.epochs, o.batch_size);

  auto step = mx::nn::value_and_grad(model, [&model](const mx::array& x, const mx::array& y) {
    mx::array logits = model(x);
    mx::array loss = mx::nn::losses::cross_entropy(logits, y, {.reduction = mx::nn::losses::Reduction::Mean});
    mx::array correct = mx::sum(mx::equal(mx::argmax(logits, -1), y));
    return std::vector<mx::array>{loss, correct};
  });

  std::mt19937 rng(o.seed);
  std::vector<uint32_t> order(data.train.size);
  std::iota(order.begin(), order.end(), 0u);
  std::vector<EpochRecord> history;
  const auto total_start = std::chrono::steady_clock::now();
  for (int epoch = 1; epoch <= o.epochs; ++epoch) {
    std::shuffle(order.begin(), order.end(), rng);
    model.train();
    ProgressBar bar(epoch, o.epochs, data.train.size);
    double loss_sum = 0;
    long correct = 0, seen = 0;
    for (int start = 0; start < data.train.size; start += o.batch_size) {
      const int n = std::min(o.batch_size, data.train.size - start);
      mx::array idx(order.data() + start, mx::Shape{n}, mx::uint32);
      mx::array x = mx::take(data.train.images, idx, 0);
      mx::array y = mx::take(data.train.labels, idx, 0);
      auto [values, grads] = step(x, y);
      optimizer.update(model, grads);
      std::vector<mx::array> pending = values;
      for (auto& [path, p] : mx::tree::flatten_arrays(model.parameters())) pending.push_back(p);
      for (auto& [path, s] : mx::tree::flatten_arrays(optimizer.state())) pending.push_back(s);
      mx::eval(pending);
      loss_sum += values[0].template item<float>() * n;
      correct += values[1].template item<int>();
      seen += n;
      bar.update(seen, loss_sum / seen, static_cast<double>(correct) / seen);
    }
    bar.finish();
    model.eval();
    const double test_acc = accuracy(model, data.test);
    const double secs = bar.elapsed();
    history.push_back({epoch, loss_sum / seen, static_cast<double>(correct) / seen, test_acc, secs});
    std::printf("epoch %d: train loss %.4f, train accuracy %.1f%%, test accuracy %.1f%% (%.1f s)\n", epoch,
                loss_sum / seen, 100.0 * correct / seen, 100 * test_acc, secs);
    std::fflush(stdout);
  }
  const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - total_start).count();
  try {
    std::string files;
    for (const auto& f : write_curves(o.out_prefix, title, history)) files += (files.empty() ? "" : ", ") + f;
    std::printf("training took %.1f s; curves: %s\n", total, files.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  std::printf("test accuracy: %.1f%%\n", 100 * history.back().test_accuracy);
  return 0;
}

}  // namespace examples
