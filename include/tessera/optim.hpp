#pragma once
// tessera::optim, MLX's mlx.optimizers in C++: optimizers, schedules and clip_grad_norm.
#include "tessera/optim/advanced.hpp"
#include "tessera/optim/clip.hpp"
#include "tessera/optim/optimizer.hpp"
#include "tessera/optim/optimizers.hpp"
#include "tessera/optim/schedulers.hpp"
