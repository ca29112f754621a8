#pragma once
// MLX's mlx/compile.h: Tessera has it all in one header (see mlx.h beside this file).
#include "mlx/mlx.h"
