// A small convolutional network on Fashion-MNIST (channels last, as MLX's convolutions take
// them): two 3x3 convolutions (16 and 32 channels) with ReLU and 2x2 max pooling, then two
// linear layers, trained with Adam on the real data set from Debian's dataset-fashion-mnist
// package. About 90.5% test accuracy after the default 4 epochs (about two minutes on two CPU
// cores).
//
//   ./build/examples/fashion_mnist_cnn [--device cpu|gpu] [--epochs N] [--limit N] ... (--help)
#include <tessera/nn.hpp>
#include <tessera/optim.hpp>
#include <tessera/tessera.hpp>

#include "common/train.hpp"

namespace mx = tessera;
namespace nn = tessera::nn;

struct Cnn : nn::Module {
  nn::Sequential features, classifier;
  Cnn()
      : features(nn::Conv2d(1, 16, 3, 1, 1), nn::ReLU(), nn::MaxPool2d(2), nn::Conv2d(16, 32, 3, 1, 1), nn::ReLU(),
                 nn::MaxPool2d(2)),
        classifier(nn::Linear(7 * 7 * 32, 128), nn::ReLU(), nn::Linear(128, 10)) {
    register_module("features", features);
    register_module("classifier", classifier);
  }
  std::string name() const override { return "Cnn"; }
  mx::array operator()(const mx::array& x) {
    mx::array f = features(x);  // (batch, 7, 7, 32)
    return classifier(mx::reshape(f, {f.shape(0), 7 * 7 * 32}));
  }
};

int main(int argc, char** argv) {
  examples::Options defaults;
  defaults.epochs = 4;
  defaults.batch_size = 128;
  defaults.lr = 2e-3f;
  defaults.out_prefix = "fashion_mnist_cnn";
  const auto o = examples::parse_options(argc, argv, "Trains a convolutional network on Fashion-MNIST.", defaults);
  if (!examples::select_device(o)) return 1;
  mx::random::seed(o.seed);
  Cnn model;
  // Adam with the learning rate decayed along half a cosine over the whole run.
  mx::optim::Adam optimizer(mx::optim::cosine_decay(o.lr, examples::total_steps(o), 0.05f * o.lr));
  return examples::train_fashion_mnist(model, optimizer, o, "Fashion-MNIST CNN");
}
