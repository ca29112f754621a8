#pragma once
// Primitives of the reductions (ops/reduce.hpp; CPU kernels in backend/cpu/reduce.cpp).
//
// `Reduce` always keeps the reduced axes (as size 1): its output has the input's rank, and the
// op removes the axes afterwards with a zero-copy reshape when keepdims is false (as MLX).
// The output dtype is chosen by the op (sum of bool -> int32, mean's internal float32 sum of
// 16-bit floats or integers, all/any -> bool); the kernels read it from the output array.
#include <vector>

#include "tessera/core/primitive.hpp"

namespace tessera {

class Reduce : public Primitive {
 public:
  enum ReduceType { And, Or, Sum, Prod, Min, Max };

  // `axes`: sorted, distinct, non-negative. `out_dtype`: what the op chose (kept for the
  // batching rule, which builds the same reduction on a batched input).
  Reduce(Stream s, ReduceType type, std::vector<int> axes, Dtype out_dtype)
      : Primitive(s), type_(type), axes_(std::move(axes)), out_dtype_(out_dtype) {}
  TESSERA_DEFINE_EVAL()
  TESSERA_DEFINE_GRADS()
  TESSERA_DEFINE_VMAP()
  TESSERA_DEFINE_OUTPUT_SHAPES()
  const char* name() const override;
  bool is_equivalent(const Primitive& other) const override;

  ReduceType type() const { return type_; }
  const std::vector<int>& axes() const { return axes_; }

 private:
  ReduceType type_;
  std::vector<int> axes_;
  Dtype out_dtype_;
};

// Index (uint32) of the first largest / smallest element along one axis, which the output
// keeps as size 1. NaN counts as the extreme for both (as NumPy).
class ArgReduce : public Primitive {
 public:
  enum ReduceType { ArgMin, ArgMax };
  ArgReduce(Stream s, ReduceType type, int axis) : Primitive(s), type_(type), axis_(axis) {}
  TESSERA_DEFINE_EVAL()
  TESSERA_DEFINE_GRADS()  // zero gradients: the output is an integer index
  TESSERA_DEFINE_VMAP()
  TESSERA_DEFINE_OUTPUT_SHAPES()
  const char* name() const override { return type_ == ArgMax ? "ArgMax" : "ArgMin"; }
  bool is_equivalent(const Primitive& other) const override;

  ReduceType type() const { return type_; }
  int axis() const { return axis_; }

 private:
  ReduceType type_;
  int axis_;
};

}  // namespace tessera
