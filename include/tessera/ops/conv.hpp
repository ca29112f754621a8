#pragma once
// Convolutions with MLX's signatures (mlx/ops.h): conv1d / conv2d / conv3d, conv_general
// (per-axis stride, asymmetric padding, kernel and input dilation, groups, flip), the
// transposed convolutions conv_transpose1d/2d/3d (output_padding), and NumPy's 1-D convolve.
//
// Layout as MLX: channels last. Input (N, spatial..., C_in), weight (C_out, kernel
// spatial..., C_in / groups), output (N, out spatial..., C_out). The transposed convolutions
// take the weight in the same (C_out, kernel..., C_in / groups) layout (MLX's, not PyTorch's
// (C_in, C_out / groups, kernel...)). Inputs must be floating point; the result has their
// promoted dtype. Vector arguments of conv_general with one element (or none) apply to every
// spatial axis. Primitive: primitives/conv.hpp.
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "tessera/core/array.hpp"
#include "tessera/core/device.hpp"

namespace tessera {

array conv_general(array input, array weight, std::vector<int> stride = {}, std::vector<int> padding_lo = {},
                   std::vector<int> padding_hi = {}, std::vector<int> kernel_dilation = {},
                   std::vector<int> input_dilation = {}, int groups = 1, bool flip = false,
                   StreamOrDevice s = {});
// Symmetric padding.
inline array conv_general(const array& input, const array& weight, std::vector<int> stride,
                          std::vector<int> padding, std::vector<int> kernel_dilation,
                          std::vector<int> input_dilation = {}, int groups = 1, bool flip = false,
                          StreamOrDevice s = {}) {
  return conv_general(input, weight, std::move(stride), padding, padding, std::move(kernel_dilation),
                      std::move(input_dilation), groups, flip, s);
}

array conv1d(const array& input, const array& weight, int stride = 1, int padding = 0, int dilation = 1,
             int groups = 1, StreamOrDevice s = {});
array conv2d(const array& input, const array& weight, const std::pair<int, int>& stride = {1, 1},
             const std::pair<int, int>& padding = {0, 0}, const std::pair<int, int>& dilation = {1, 1},
             int groups = 1, StreamOrDevice s = {});
array conv3d(const array& input, const array& weight, const std::tuple<int, int, int>& stride = {1, 1, 1},
             const std::tuple<int, int, int>& padding = {0, 0, 0},
             const std::tuple<int, int, int>& dilation = {1, 1, 1}, int groups = 1, StreamOrDevice s = {});

// The gradient of the matching convolution with respect to its input: each input element is
// spread over a kernel window of the output (stride apart); `padding` trims the output's
// edges, `output_padding` adds rows at its far end (to pick one of the sizes that a strided
// convolution maps to the same input size).
array conv_transpose1d(const array& input, const array& weight, int stride = 1, int padding = 0,
                       int dilation = 1, int output_padding = 0, int groups = 1, StreamOrDevice s = {});
array conv_transpose2d(const array& input, const array& weight, const std::pair<int, int>& stride = {1, 1},
                       const std::pair<int, int>& padding = {0, 0}, const std::pair<int, int>& dilation = {1, 1},
                       const std::pair<int, int>& output_padding = {0, 0}, int groups = 1,
                       StreamOrDevice s = {});
array conv_transpose3d(const array& input, const array& weight,
                       const std::tuple<int, int, int>& stride = {1, 1, 1},
                       const std::tuple<int, int, int>& padding = {0, 0, 0},
                       const std::tuple<int, int, int>& dilation = {1, 1, 1},
                       const std::tuple<int, int, int>& output_padding = {0, 0, 0}, int groups = 1,
                       StreamOrDevice s = {});

// NumPy's convolve of two 1-D arrays (the kernel flipped, as in signal processing): mode
// "full" (length n + m - 1), "same" (max(n, m), centred as NumPy) or "valid" (max(n, m) -
// min(n, m) + 1).
array convolve(const array& a, const array& v, const std::string& mode = "full", StreamOrDevice s = {});

}  // namespace tessera
