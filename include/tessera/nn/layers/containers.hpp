#pragma once
// Sequential and Lambda: chains of layers, as mlx.nn.Sequential.
//
//   nn::Sequential mlp(nn::Linear(784, 512), nn::ReLU(), nn::Linear(512, 10));
//   nn::Sequential custom(nn::Linear(4, 4), [](const array& x) { return x * 2; });
//
// Its members are held by shared pointers: copies of a Sequential share their layers (as
// Python references do); parameters() lists them as `layers.0`, `layers.1`, ...
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "tessera/nn/module.hpp"

namespace tessera::nn {

// A function without parameters as a module.
class Lambda : public Module {
 public:
  explicit Lambda(std::function<array(const array&)> fn) : fn_(std::move(fn)) {}
  std::string name() const override { return "Lambda"; }
  array operator()(const array& x) const { return fn_(x); }
  array forward(const array& x) override { return fn_(x); }

 private:
  std::function<array(const array&)> fn_;
};

class Sequential : public Module {
 public:
  std::vector<std::shared_ptr<Module>> layers;

  template <typename... Layers>
    requires(!(sizeof...(Layers) == 1 && (std::is_same_v<std::decay_t<Layers>, Sequential> && ...)))
  explicit Sequential(Layers&&... ls) {
    (append(std::forward<Layers>(ls)), ...);
    register_modules("layers", layers);
  }

  std::string name() const override { return "Sequential"; }
  array operator()(const array& x) const {
    array y = x;
    for (auto& l : layers) y = l->forward(y);
    return y;
  }
  array forward(const array& x) override { return (*this)(x); }

  template <typename L>
  Sequential& append(L&& layer) {
    using T = std::decay_t<L>;
    if constexpr (std::is_base_of_v<Module, T>) {
      layers.push_back(std::make_shared<T>(std::forward<L>(layer)));
    } else if constexpr (std::is_same_v<T, std::shared_ptr<Module>> ||
                         (requires { typename T::element_type; } &&
                          std::is_base_of_v<Module, typename T::element_type>)) {
      layers.push_back(layer);
    } else {
      layers.push_back(std::make_shared<Lambda>(std::function<array(const array&)>(
          [fn = std::forward<L>(layer)](const array& x) { return array(fn(x)); })));
    }
    return *this;
  }
};

}  // namespace tessera::nn
