// A multi-layer perceptron on Fashion-MNIST: 784 -> 256 -> 256 -> 10 with ReLU, trained with
// Adam on the real data set from Debian's dataset-fashion-mnist package. About 89% test accuracy
// after the default 10 epochs (a minute on two CPU cores).
//
//   ./build/examples/fashion_mnist_mlp [--device cpu|gpu] [--epochs N] [--limit N] ... (--help)
#include <tessera/nn.hpp>
#include <tessera/optim.hpp>
#include <tessera/tessera.hpp>

#include "common/train.hpp"

namespace mx = tessera;
namespace nn = tessera::nn;

struct Mlp : nn::Module {
  nn::Sequential layers;
  Mlp() : layers(nn::Linear(28 * 28, 256), nn::ReLU(), nn::Linear(256, 256), nn::ReLU(), nn::Linear(256, 10)) {
    register_module("layers", layers);
  }
  std::string name() const override { return "Mlp"; }
  // Images arrive as (batch, 28, 28, 1); the MLP sees each as one 784-vector.
  mx::array operator()(const mx::array& x) { return layers(mx::reshape(x, {x.shape(0), 28 * 28})); }
};

int main(int argc, char** argv) {
  examples::Options defaults;
  defaults.epochs = 10;
  defaults.batch_size = 128;
  defaults.lr = 1e-3f;
  defaults.out_prefix = "fashion_mnist_mlp";
  const auto o = examples::parse_options(argc, argv, "Trains an MLP on Fashion-MNIST.", defaults);
  if (!examples::select_device(o)) return 1;
  mx::random::seed(o.seed);
  Mlp model;
  // Adam with the learning rate decayed along half a cosine over the whole run.
  mx::optim::Adam optimizer(mx::optim::cosine_decay(o.lr, examples::total_steps(o), 0.05f * o.lr));
  return examples::train_fashion_mnist(model, optimizer, o, "Fashion-MNIST MLP");
}
