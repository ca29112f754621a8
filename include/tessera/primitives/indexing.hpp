#pragma once
// Primitives of the indexing ops (ops/indexing.hpp), as MLX has them:
//   Gather       inputs [a, idx_0..idx_k-1]: out[p..., s...] = a[start(p) + s], where the start
//                of axis axes[j] is idx_j[p] and 0 elsewhere; out shape = idx shape + slice_sizes.
//   Scatter      inputs [a, idx..., updates]: a copy of a with each update slice combined into
//                the slice that starts at the indices (updates shape = idx shape + a's rank).
//   GatherAxis   inputs [a, idx] (same shape except along axis): take_along_axis.
//   ScatterAxis  inputs [a, idx, updates] (idx and updates the same shape): put_along_axis and
//                scatter_add_axis.
// Indices are of one integer dtype (int32, uint32, int64 or uint64; the ops cast the narrower
// ones). A negative index counts from the end once (MLX); an index still out of range is
// clamped by the gathers and dropped by the scatters, so no kernel reads or writes out of
// bounds (MLX leaves both undefined).
#include "tessera/core/primitive.hpp"

namespace tessera {

// How a scatter combines an update u with the value v already there. None keeps one write of
// the duplicates (which one is unspecified on the GPU, the last on the CPU); the others
// accumulate every duplicate. Max and Min propagate NaN, as NumPy's maximum.at.
enum class ScatterReduce { None, Sum, Prod, Max, Min };
const char* scatter_reduce_name(ScatterReduce r);  // "scatter", "scatter_add", ...

class Gather : public Primitive {
 public:
  Gather(Stream s, std::vector<int> axes, Shape slice_sizes)
      : Primitive(s), axes_(std::move(axes)), slice_sizes_(std::move(slice_sizes)) {}
  TESSERA_DEFINE_EVAL()
  TESSERA_DEFINE_GRADS()
  TESSERA_DEFINE_VMAP()
  TESSERA_DEFINE_NAME(Gather)
  bool is_equivalent(const Primitive& o) const override;
  const std::vector<int>& axes() const { return axes_; }
  const Shape& slice_sizes() const { return slice_sizes_; }

 private:
  std::vector<int> axes_;
  Shape slice_sizes_;
};

class Scatter : public Primitive {
 public:
  Scatter(Stream s, ScatterReduce reduce, std::vector<int> axes)
      : Primitive(s), reduce_(reduce), axes_(std::move(axes)) {}
  TESSERA_DEFINE_EVAL()
  TESSERA_DEFINE_GRADS()
  TESSERA_DEFINE_VMAP()
  const char* name() const override { return "Scatter"; }
  bool is_equivalent(const Primitive& o) const override;
  void print(std::ostream& os) const override;
  ScatterReduce reduce() const { return reduce_; }
  const std::vector<int>& axes() const { return axes_; }

 private:
  ScatterReduce reduce_;
  std::vector<int> axes_;
};

class GatherAxis : public Primitive {
 public:
  GatherAxis(Stream s, int axis) : Primitive(s), axis_(axis) {}
  TESSERA_DEFINE_EVAL()
  TESSERA_DEFINE_GRADS()
  TESSERA_DEFINE_VMAP()
  TESSERA_DEFINE_NAME(GatherAxis)
  bool is_equivalent(const Primitive& o) const override;
  int axis() const { return axis_; }

 private:
  int axis_;
};

class ScatterAxis : public Primitive {
 public:
  ScatterAxis(Stream s, ScatterReduce reduce, int axis) : Primitive(s), reduce_(reduce), axis_(axis) {}
  TESSERA_DEFINE_EVAL()
  TESSERA_DEFINE_GRADS()
  TESSERA_DEFINE_VMAP()
  const char* name() const override { return "ScatterAxis"; }
  bool is_equivalent(const Primitive& o) const override;
  void print(std::ostream& os) const override;
  ScatterReduce reduce() const { return reduce_; }
  int axis() const { return axis_; }

 private:
  ScatterReduce reduce_;
  int axis_;
};

}  // namespace tessera
