#pragma once
// MLX's mlx/einsum.h: einsum and einsum_path, in the one header (see mlx.h beside this file).
#include "mlx/mlx.h"
