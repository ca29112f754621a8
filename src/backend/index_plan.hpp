#pragma once
// The geometry of the four indexing primitives (primitives/indexing.hpp) as one walk, shared by
// the CPU and Vulkan kernels. Every one iterates over a shape S (the gather's output, the
// scatter's updates) and at each point p of it touches
//   data[ sum_d p_d * data_strides[d]  +  sum_j fix(idx_j[p]) * index_j.data_stride ]
// where data is the gather's source or the scatter's output, idx_j is read at
// sum_d p_d * index_j.strides[d] and `fix` adds `length` to a negative index once, then clamps
// (gather) or drops (scatter) an index outside [0, bound]. `value_strides` walk the gather's
// output (dense) or the scatter's updates. Size-1 axes are dropped and axes contiguous in every
// stream merged, so take of a flat array is one long axis.
#include <cstdint>
#include <vector>

#include "tessera/core/array.hpp"

namespace tessera::index_plan {

struct Index {
  std::vector<int64_t> strides;  // over S
  int64_t data_stride;           // of its axis in the data array
  int64_t length;                // its axis's extent
  int64_t bound;                 // the largest valid start on that axis
};

struct Plan {
  std::vector<int64_t> shape;  // int64: merged axes may pass 2^31
  std::vector<int64_t> data_strides, value_strides;
  std::vector<Index> indices;

  int64_t size() const {
    int64_t n = 1;
    for (auto d : shape) n *= d;
    return n;
  }
  // Drops size-1 axes and merges an axis into its outer neighbour when every stream steps
  // uniformly across both (outer stride = inner stride * inner extent).
  void simplify() {
    Plan out;
    out.indices = indices;
    for (auto& ix : out.indices) ix.strides.clear();
    for (size_t d = 0; d < shape.size(); ++d) {
      if (shape[d] == 1) continue;
      auto uniform = [&](const std::vector<int64_t>& outer, const std::vector<int64_t>& st) {
        return outer.back() == st[d] * shape[d];
      };
      bool merge = !out.shape.empty() && uniform(out.data_strides, data_strides) &&
                   uniform(out.value_strides, value_strides);
      for (size_t j = 0; j < indices.size() && merge; ++j) merge = uniform(out.indices[j].strides, indices[j].strides);
      if (merge) {
        out.shape.back() *= shape[d];
        out.data_strides.back() = data_strides[d];
        out.value_strides.back() = value_strides[d];
        for (size_t j = 0; j < indices.size(); ++j) out.indices[j].strides.back() = indices[j].strides[d];
      } else {
        out.shape.push_back(shape[d]);
        out.data_strides.push_back(data_strides[d]);
        out.value_strides.push_back(value_strides[d]);
        for (size_t j = 0; j < indices.size(); ++j) out.indices[j].strides.push_back(indices[j].strides[d]);
      }
    }
    *this = std::move(out);
  }
};

// Strides of `a` over `shape`'s axes [lead, lead + a.ndim()), 0 where `a` has extent 1, and 0
// on every other axis of `shape`.
inline std::vector<int64_t> strides_over(const array& a, size_t rank, size_t lead) {
  std::vector<int64_t> st(rank, 0);
  for (int d = 0; d < a.ndim(); ++d) st[lead + d] = a.shape(d) == 1 ? 0 : a.strides()[d];
  return st;
}

inline std::vector<int64_t> dense_strides(const Shape& shape) {
  std::vector<int64_t> st(shape.size());
  int64_t s = 1;
  for (size_t d = shape.size(); d-- > 0;) {
    st[d] = shape[d] == 1 ? 0 : s;
    s *= shape[d];
  }
  return st;
}

// Gather: inputs [a, idx...] (indices of one shape), out of shape idx shape + slice_sizes.
inline Plan gather(const std::vector<array>& inputs, const array& out, const std::vector<int>& axes,
                   const Shape& slice_sizes) {
  const array& a = inputs[0];
  Plan p;
  p.shape.assign(out.shape().begin(), out.shape().end());
  const size_t lead = p.shape.size() - a.ndim();
  p.data_strides = strides_over(a, p.shape.size(), lead);
  p.value_strides = dense_strides(out.shape());
  for (size_t j = 0; j < axes.size(); ++j) {
    const array& idx = inputs[1 + j];
    const int ax = axes[j];
    p.indices.push_back({strides_over(idx, p.shape.size(), 0), a.strides()[ax], a.shape(ax),
                         int64_t{a.shape(ax)} - slice_sizes[ax]});
  }
  p.simplify();
  return p;
}

// Strides of a dense array of `shape` over axes [lead, lead + shape.size()) of a rank-`rank`
// walk, 0 elsewhere.
inline std::vector<int64_t> dense_strides_over(const Shape& shape, size_t rank, size_t lead) {
  std::vector<int64_t> st(rank, 0);
  auto dense = dense_strides(shape);
  for (size_t d = 0; d < shape.size(); ++d) st[lead + d] = dense[d];
  return st;
}

// Scatter: inputs [a, idx..., updates] into a dense output of a's shape.
inline Plan scatter(const std::vector<array>& inputs, const Shape& out, const std::vector<int>& axes) {
  const array& upd = inputs.back();
  Plan p;
  p.shape.assign(upd.shape().begin(), upd.shape().end());
  const size_t lead = p.shape.size() - out.size();
  p.data_strides = dense_strides_over(out, p.shape.size(), lead);
  p.value_strides = strides_over(upd, p.shape.size(), 0);
  const Strides out_strides = row_major_strides(out);
  for (size_t j = 0; j < axes.size(); ++j) {
    const int ax = axes[j];
    p.indices.push_back({strides_over(inputs[1 + j], p.shape.size(), 0), out_strides[ax], out[ax],
                         int64_t{out[ax]} - upd.shape(static_cast<int>(lead) + ax)});
  }
  p.simplify();
  return p;
}

// GatherAxis: inputs [a, idx] (a's shape equals idx's off the axis); out of idx's shape.
inline Plan gather_axis(const std::vector<array>& inputs, const array& out, int axis) {
  const array& a = inputs[0];
  Plan p;
  p.shape.assign(out.shape().begin(), out.shape().end());
  p.data_strides = strides_over(a, p.shape.size(), 0);
  p.data_strides[axis] = 0;
  p.value_strides = dense_strides(out.shape());
  p.indices.push_back({strides_over(inputs[1], p.shape.size(), 0), a.strides()[axis], a.shape(axis),
                       int64_t{a.shape(axis)} - 1});
  p.simplify();
  return p;
}

// ScatterAxis: inputs [a, idx, updates] (idx and updates of one shape) into a dense output of
// a's shape.
inline Plan scatter_axis(const std::vector<array>& inputs, const Shape& out, int axis) {
  Plan p;
  p.shape.assign(inputs[1].shape().begin(), inputs[1].shape().end());
  p.data_strides = dense_strides_over(out, p.shape.size(), 0);
  p.data_strides[axis] = 0;
  p.value_strides = strides_over(inputs[2], p.shape.size(), 0);
  p.indices.push_back({strides_over(inputs[1], p.shape.size(), 0), row_major_strides(out)[axis], out[axis],
                       int64_t{out[axis]} - 1});
  p.simplify();
  return p;
}

}  // namespace tessera::index_plan
