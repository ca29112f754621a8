#pragma once
// How a reduction walks its input, shared by the CPU and Vulkan kernels: size-1 axes dropped,
// kept axes in output order, reduced axes by decreasing stride (so a transposed input still
// reduces along its memory order), and neighbours contiguous with each other merged into one
// axis. The kernels then pick a row or column strategy from the result.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "tessera/core/array.hpp"

namespace tessera::reduce_layout {

struct Dim {
  int64_t size;
  int64_t stride;
};

// Neighbours (in the given order) that are contiguous with each other become one axis.
inline std::vector<Dim> merge(const std::vector<Dim>& dims) {
  std::vector<Dim> out;
  for (auto& d : dims) {
    if (!out.empty() && out.back().stride == d.stride * d.size) {
      out.back().size *= d.size;
      out.back().stride = d.stride;
    } else {
      out.push_back(d);
    }
  }
  return out;
}

struct Layout {
  std::vector<Dim> kept, reduced;
  bool negative_strides = false;
};

inline Layout analyse(const array& in, const std::vector<int>& axes) {
  Layout l;
  for (int i = 0; i < in.ndim(); ++i) {
    if (in.shape()[i] == 1) continue;
    Dim d{in.shape()[i], in.strides()[i]};
    l.negative_strides |= d.stride < 0;
    (std::find(axes.begin(), axes.end(), i) != axes.end() ? l.reduced : l.kept).push_back(d);
  }
  std::stable_sort(l.reduced.begin(), l.reduced.end(), [](const Dim& a, const Dim& b) {
    return std::abs(a.stride) > std::abs(b.stride);
  });
  l.kept = merge(l.kept);
  l.reduced = merge(l.reduced);
  return l;
}

// The fallback: the input viewed as [kept..., reduced...] (to be gathered densely and reduced
// as `rows` rows of `n` elements).
struct GatherOrder {
  Shape shape;
  Strides strides;
  int64_t rows = 1, n = 1;
};

inline GatherOrder gather_order(const Layout& l) {
  GatherOrder g;
  for (auto& d : l.kept) {
    g.shape.push_back(static_cast<int32_t>(d.size));
    g.strides.push_back(d.stride);
    g.rows *= d.size;
  }
  for (auto& d : l.reduced) {
    g.shape.push_back(static_cast<int32_t>(d.size));
    g.strides.push_back(d.stride);
    g.n *= d.size;
  }
  return g;
}

}  // namespace tessera::reduce_layout
