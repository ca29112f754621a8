#pragma once
// The geometry of a Convolution (primitives/conv.hpp) as both kernels use it: every spatial
// axis padded to 3 (extent 1, no padding), and the im2col matrix's extents.
#include <cstdint>

#include "tessera/primitives/conv.hpp"

namespace tessera::conv_plan {

struct Plan {
  int N, C, cout, groups, cig, cog;
  int in[3], out[3], k[3], stride[3], lo[3], kdil[3], idil[3];
  int64_t in_elems, out_elems;  // spatial products
  int taps;
  int64_t rows, cols;  // im2col: N * out_elems x taps * cig
};

// x: the input's shape, w: the weight's (or the weight gradient's), y: the output's (or dy's).
inline Plan make(const Shape& x, const Shape& w, const Shape& y, const ConvGeometry& g) {
  const int nsp = static_cast<int>(x.size()) - 2;
  Plan p;
  p.N = x[0];
  p.C = x.back();
  p.cout = w[0];
  p.groups = g.groups;
  p.cig = p.C / g.groups;
  p.cog = p.cout / g.groups;
  p.in_elems = p.out_elems = 1;
  p.taps = 1;
  for (int d = 0; d < 3; ++d) {
    const bool real = d < nsp;
    p.in[d] = real ? x[1 + d] : 1;
    p.out[d] = real ? y[1 + d] : 1;
    p.k[d] = real ? w[1 + d] : 1;
    p.stride[d] = real ? g.stride[d] : 1;
    p.lo[d] = real ? g.padding_lo[d] : 0;
    p.kdil[d] = real ? g.kernel_dilation[d] : 1;
    p.idil[d] = real ? g.input_dilation[d] : 1;
    p.in_elems *= p.in[d];
    p.out_elems *= p.out[d];
    p.taps *= p.k[d];
  }
  p.rows = static_cast<int64_t>(p.N) * p.out_elems;
  p.cols = static_cast<int64_t>(p.taps) * p.cig;
  return p;
}

}  // namespace tessera::conv_plan
