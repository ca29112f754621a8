#pragma once
// Einstein summation with MLX's signatures (mlx/einsum.h). Composed of the shape, reduction,
// elementwise and matmul ops (no primitive of its own): it runs on either device and takes its
// gradients and batching rules from the ops it is made of. Definitions: src/ops/einsum.cpp.
#include <string>
#include <utility>
#include <vector>

#include "tessera/core/array.hpp"
#include "tessera/core/device.hpp"

namespace tessera {

// The order in which einsum contracts `operands` for `subscripts`, and a report of it.
//
// The path is NumPy's format without its leading "einsum_path" entry: each step lists the
// positions (in the list of operands still to contract, where every step's result is appended
// at the end) of the operands it contracts, e.g. {{0, 1}, {0, 1}} for "ij,jk,kl->il".
// Cost model: the FLOPs of each step, size(indices of the step) * (max(1, terms - 1) + 1 when
// an index is summed), intermediates no larger than the largest operand or output. Up to 6
// operands every order is searched (branch and bound; the same path as
// numpy.einsum_path(..., optimize="optimal")); beyond, the contraction removing the most
// elements is taken step by step (greedy). One or two operands, or an expression without a
// summed index, is one step of all operands.
// The report gives the naive and optimized FLOP counts and scalings, the largest
// intermediate, and each step's subscripts.
std::pair<std::vector<std::vector<int>>, std::string> einsum_path(const std::string& subscripts,
                                                                  const std::vector<array>& operands);

// NumPy's / MLX's einsum: explicit ("ij,jk->ik") or implicit output (the letters appearing
// once, sorted, after the ellipsis dimensions), "..." broadcasting (right-aligned, size-1
// dimensions broadcast), repeated letters in a term (diagonals), letters summed away, outer
// products, 0-d operands; spaces are ignored. Follows einsum_path's path, each pairwise step a
// (batched) matmul. As MLX, ellipsis dimensions missing from an explicit output are summed.
array einsum(const std::string& subscripts, const std::vector<array>& operands, StreamOrDevice s = {});

}  // namespace tessera
