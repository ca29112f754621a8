#pragma once
// tessera::nn, MLX's mlx.nn in C++: Module, the layers, activations and losses. Header-only;
// `#include <tessera/nn.hpp>`.
#include "tessera/nn/activations.hpp"
#include "tessera/nn/layers/activations.hpp"
#include "tessera/nn/layers/containers.hpp"
#include "tessera/nn/layers/conv.hpp"
#include "tessera/nn/layers/dropout.hpp"
#include "tessera/nn/layers/embedding.hpp"
#include "tessera/nn/layers/linear.hpp"
#include "tessera/nn/layers/normalization.hpp"
#include "tessera/nn/layers/pooling.hpp"
#include "tessera/nn/losses.hpp"
#include "tessera/nn/module.hpp"
#include "tessera/utils/tree.hpp"
