#pragma once
// MLX's mlx/io.h: save / load (.npy), load_safetensors / save_safetensors, load_gguf /
// save_gguf, GGUFMetaData, in the one header (see mlx.h beside this file). MLX's
// io::Reader / io::Writer are std::istream / std::ostream here (docs/io.md).
#include "mlx/mlx.h"
