#pragma once
// The Scan primitive (ops/scan.hpp): cumulative sum, product, maximum, minimum or logaddexp of
// input 0 along one axis, forward or reversed, inclusive or exclusive (an exclusive scan starts
// from the identity and leaves the last element out). CPU kernel: backend/cpu/scan.cpp;
// Vulkan: backend/vulkan/scan.cpp (a block scan per workgroup, blocks joined by a scan of
// their totals).
#include "tessera/core/primitive.hpp"

namespace tessera {

class Scan : public Primitive {
 public:
  enum ReduceType { Sum, Prod, Max, Min, LogAddExp };
  Scan(Stream s, ReduceType op, int axis, bool reverse, bool inclusive)
      : Primitive(s), op_(op), axis_(axis), reverse_(reverse), inclusive_(inclusive) {}
  TESSERA_DEFINE_EVAL()
  TESSERA_DEFINE_GRADS()
  TESSERA_DEFINE_VMAP()
  TESSERA_DEFINE_OUTPUT_SHAPES()
  const char* name() const override;
  bool is_equivalent(const Primitive& o) const override;
  ReduceType op() const { return op_; }
  int axis() const { return axis_; }
  bool reverse() const { return reverse_; }
  bool inclusive() const { return inclusive_; }

 private:
  ReduceType op_;
  int axis_;
  bool reverse_, inclusive_;
};

// The op's public name: "cumsum", "cumprod", "cummax", "cummin", "logcumsumexp".
const char* scan_op_name(Scan::ReduceType op);

}  // namespace tessera
