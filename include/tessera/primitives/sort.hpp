#pragma once
// Primitives of sorting and selection (ops/sort.hpp). Sort and ArgSort are stable with NaN last
// (MLX's order); Partition and ArgPartition put the kth element in its sorted place with no
// larger one before it and no smaller one after it. The GPU kernels (backend/vulkan/sort.cpp)
// run a bitonic sort of (key, index) pairs over every row, which is stable because ties
// compare by index, and serves the partitions too; the CPU (backend/cpu/sort.cpp) uses
// std::stable_sort and std::nth_element.
#include "tessera/core/primitive.hpp"

namespace tessera {

class Sort : public Primitive {
 public:
  Sort(Stream s, int axis) : Primitive(s), axis_(axis) {}
  TESSERA_DEFINE_EVAL()
  TESSERA_DEFINE_GRADS()
  TESSERA_DEFINE_VMAP()
  TESSERA_DEFINE_OUTPUT_SHAPES()
  TESSERA_DEFINE_NAME(Sort)
  bool is_equivalent(const Primitive& o) const override;

 private:
  int axis_;
};

// uint32 indices: no gradient.
class ArgSort : public NonDifferentiable {
 public:
  ArgSort(Stream s, int axis) : NonDifferentiable(s), axis_(axis) {}
  TESSERA_DEFINE_EVAL()
  TESSERA_DEFINE_VMAP()
  TESSERA_DEFINE_OUTPUT_SHAPES()
  TESSERA_DEFINE_NAME(ArgSort)
  bool is_equivalent(const Primitive& o) const override;

 private:
  int axis_;
};

// `first` > 0 keeps only positions [first, n) of the partitioned axis (topk: the k largest,
// without writing the rest).
class Partition : public Primitive {
 public:
  Partition(Stream s, int kth, int axis, int first = 0) : Primitive(s), kth_(kth), axis_(axis), first_(first) {}
  TESSERA_DEFINE_EVAL()
  TESSERA_DEFINE_GRADS()
  TESSERA_DEFINE_VMAP()
  TESSERA_DEFINE_NAME(Partition)
  bool is_equivalent(const Primitive& o) const override;

 private:
  int kth_, axis_, first_;
};

class ArgPartition : public NonDifferentiable {
 public:
  ArgPartition(Stream s, int kth, int axis, int first = 0)
      : NonDifferentiable(s), kth_(kth), axis_(axis), first_(first) {}
  TESSERA_DEFINE_EVAL()
  TESSERA_DEFINE_VMAP()
  TESSERA_DEFINE_NAME(ArgPartition)
  bool is_equivalent(const Primitive& o) const override;

 private:
  int kth_, axis_, first_;
};

// Input 0: a sorted 1-D sequence; input 1: values (both of one dtype). For each value, the
// index where it would be inserted to keep the order (NaN last): before equal elements
// (left) or after them (right). uint32, no gradient.
class SearchSorted : public NonDifferentiable {
 public:
  SearchSorted(Stream s, bool right) : NonDifferentiable(s), right_(right) {}
  TESSERA_DEFINE_EVAL()
  TESSERA_DEFINE_VMAP()
  TESSERA_DEFINE_NAME(SearchSorted)
  bool is_equivalent(const Primitive& o) const override;

 private:
  bool right_;
};

}  // namespace tessera
