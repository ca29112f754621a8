// Sorting and selection: argument checking, gradients (the values move with their indices) and
// batching rules.
#include "tessera/ops/sort.hpp"

#include "tessera/ops/compare.hpp"
#include "tessera/ops/creation.hpp"
#include "tessera/ops/elementwise.hpp"
#include "tessera/ops/reduce.hpp"
#include "tessera/ops/indexing.hpp"
#include "tessera/ops/shape.hpp"
#include "tessera/primitives/sort.hpp"
#include "transforms/batching.hpp"

namespace tessera {

namespace {

int check_axis(const array& a, int axis, const char* op) {
  if (a.ndim() == 0) throw std::invalid_argument(std::string("[") + op + "] a 0-d array has no axis to sort");
  return normalize_axis(axis, a.ndim(), op);
}

int check_kth(const array& a, int kth, int axis, const char* op) {
  const int n = a.shape(axis);
  const int k = kth < 0 ? kth + n : kth;
  if (k < 0 || k >= n) {
    throw std::invalid_argument(std::string("[") + op + "] kth " + std::to_string(kth) + " is out of range for axis " +
                                std::to_string(axis) + " of extent " + std::to_string(n));
  }
  return k;
}

void check_sortable(const array& a, const char* op) {
  if (a.dtype() == complex64) throw std::invalid_argument(std::string("[") + op + "] complex64 has no ordering");
}

}  // namespace

array sort(const array& a, int axis, StreamOrDevice s) {
  check_sortable(a, "sort");
  axis = check_axis(a, axis, "sort");
  return array(a.shape(), a.dtype(), std::make_shared<Sort>(to_stream(s), axis), {a});
}
array sort(const array& a, StreamOrDevice s) { return sort(flatten(a, s), 0, s); }

array argsort(const array& a, int axis, StreamOrDevice s) {
  check_sortable(a, "argsort");
  axis = check_axis(a, axis, "argsort");
  return array(a.shape(), uint32, std::make_shared<ArgSort>(to_stream(s), axis), {a});
}
array argsort(const array& a, StreamOrDevice s) { return argsort(flatten(a, s), 0, s); }

array partition(const array& a, int kth, int axis, StreamOrDevice s) {
  check_sortable(a, "partition");
  axis = check_axis(a, axis, "partition");
  kth = check_kth(a, kth, axis, "partition");
  return array(a.shape(), a.dtype(), std::make_shared<Partition>(to_stream(s), kth, axis), {a});
}
array partition(const array& a, int kth, StreamOrDevice s) { return partition(flatten(a, s), kth, 0, s); }

array argpartition(const array& a, int kth, int axis, StreamOrDevice s) {
  check_sortable(a, "argpartition");
  axis = check_axis(a, axis, "argpartition");
  kth = check_kth(a, kth, axis, "argpartition");
  return array(a.shape(), uint32, std::make_shared<ArgPartition>(to_stream(s), kth, axis), {a});
}
array argpartition(const array& a, int kth, StreamOrDevice s) { return argpartition(flatten(a, s), kth, 0, s); }

namespace {
// The partition of `a` at kth, keeping positions [first, n) of the axis.
array partition_window(const array& a, int kth, int axis, int first, bool indices, StreamOrDevice s) {
  Shape shape = a.shape();
  shape[axis] -= first;
  if (indices) return array(shape, uint32, std::make_shared<ArgPartition>(to_stream(s), kth, axis, first), {a});
  return array(shape, a.dtype(), std::make_shared<Partition>(to_stream(s), kth, axis, first), {a});
}
}  // namespace

array topk(const array& a, int k, int axis, StreamOrDevice s) {
  check_sortable(a, "topk");
  axis = check_axis(a, axis, "topk");
  const int n = a.shape(axis);
  if (k < 0 || k > n) {
    throw std::invalid_argument("[topk] k=" + std::to_string(k) + " is out of range for axis " + std::to_string(axis) +
                                " of an array with shape " + shape_string(a.shape()));
  }
  if (k == n) return a;
  if (k == 0) {
    Shape start(a.ndim(), 0), stop = a.shape();
    start[axis] = n;
    return slice(a, start, stop, s);
  }
  // The last k of partition(a, n - k): only they are computed and written.
  return partition_window(a, n - k, axis, n - k, false, s);
}
array topk(const array& a, int k, StreamOrDevice s) { return topk(flatten(a, s), k, 0, s); }

array searchsorted(const array& sorted_sequence, const array& values, const std::string& side, StreamOrDevice s) {
  if (side != "left" && side != "right") {
    throw std::invalid_argument("[searchsorted] side must be 'left' or 'right', got '" + side + "'");
  }
  if (sorted_sequence.ndim() != 1) {
    throw std::invalid_argument("[searchsorted] the sorted sequence must be 1-D, got shape " +
                                shape_string(sorted_sequence.shape()));
  }
  const Dtype dtype = promote_types(sorted_sequence.dtype(), values.dtype());
  if (dtype == complex64) throw std::invalid_argument("[searchsorted] complex64 has no ordering");
  array a = sorted_sequence.dtype() == dtype ? sorted_sequence : astype(sorted_sequence, dtype, s);
  array v = values.dtype() == dtype ? values : astype(values, dtype, s);
  return array(values.shape(), uint32, std::make_shared<SearchSorted>(to_stream(s), side == "right"), {a, v});
}

bool SearchSorted::is_equivalent(const Primitive& o) const {
  auto* p = dynamic_cast<const SearchSorted*>(&o);
  return p && p->right_ == right_;
}

// A batched sequence: the count of its elements ordered before each value (NaN last), as a
// broadcast comparison [batch, values..., n] summed over n.
std::pair<std::vector<array>, std::vector<int>> SearchSorted::vmap(const std::vector<array>& in,
                                                                   const std::vector<int>& axes) {
  const Stream s = stream();
  if (axes[0] < 0) {
    return {{searchsorted(in[0], batching::to_front(in[1], axes[1], s), right_ ? "right" : "left", s)},
            {axes[1] < 0 ? -1 : 0}};
  }
  const int batch = batching::batch_size(in, axes, "SearchSorted");
  array seq = batching::to_front(in[0], axes[0], s);  // [B, n]
  array v = batching::with_batch_in_front(in[1], axes[1], batch, s);
  Shape seq_shape(v.ndim() + 1, 1);
  seq_shape.front() = batch;
  seq_shape.back() = seq.shape(1);
  array a = reshape(seq, seq_shape, s);
  array x = expand_dims(v, -1, s);
  array before = right_ ? logical_or(less_equal(a, x, s), isnan(x, s), s)
                        : logical_or(less(a, x, s), logical_and(isnan(x, s), logical_not(isnan(a, s), s), s), s);
  return {{astype(sum(before, -1, false, s), uint32, s)}, {0}};
}

bool Sort::is_equivalent(const Primitive& o) const {
  auto* p = dynamic_cast<const Sort*>(&o);
  return p && p->axis_ == axis_;
}
bool ArgSort::is_equivalent(const Primitive& o) const {
  auto* p = dynamic_cast<const ArgSort*>(&o);
  return p && p->axis_ == axis_;
}
bool Partition::is_equivalent(const Primitive& o) const {
  auto* p = dynamic_cast<const Partition*>(&o);
  return p && p->kth_ == kth_ && p->axis_ == axis_ && p->first_ == first_;
}
bool ArgPartition::is_equivalent(const Primitive& o) const {
  auto* p = dynamic_cast<const ArgPartition*>(&o);
  return p && p->kth_ == kth_ && p->axis_ == axis_ && p->first_ == first_;
}

// Each output element is an input element: the cotangent goes back through the permutation,
// the tangent is permuted with the values. (The kernels compute values and indices with one
// algorithm, so the permutation matches the values.)
std::vector<array> Sort::vjp(const std::vector<array>& primals, const std::vector<array>& cot,
                             const std::vector<int>&, const std::vector<array>&) {
  array idx = argsort(primals[0], axis_, stream());
  return {put_along_axis(zeros(primals[0].shape(), cot[0].dtype(), stream()), idx, cot[0], axis_, stream())};
}
std::vector<array> Sort::jvp(const std::vector<array>& primals, const std::vector<array>& tan,
                             const std::vector<int>&) {
  return {take_along_axis(tan[0], argsort(primals[0], axis_, stream()), axis_, stream())};
}
std::vector<array> Partition::vjp(const std::vector<array>& primals, const std::vector<array>& cot,
                                  const std::vector<int>&, const std::vector<array>&) {
  array idx = partition_window(primals[0], kth_, axis_, first_, true, stream());
  return {put_along_axis(zeros(primals[0].shape(), cot[0].dtype(), stream()), idx, cot[0], axis_, stream())};
}
std::vector<array> Partition::jvp(const std::vector<array>& primals, const std::vector<array>& tan,
                                  const std::vector<int>&) {
  return {take_along_axis(tan[0], partition_window(primals[0], kth_, axis_, first_, true, stream()), axis_, stream())};
}

#define TESSERA_SORT_VMAP(P, make)                                                                    \
  std::pair<std::vector<array>, std::vector<int>> P::vmap(const std::vector<array>& in,              \
                                                          const std::vector<int>& axes) {            \
    array x = batching::to_front(in[0], axes[0], stream());                                          \
    return {{make}, {0}};                                                                             \
  }
TESSERA_SORT_VMAP(Sort, sort(x, axis_ + 1, stream()))
TESSERA_SORT_VMAP(ArgSort, argsort(x, axis_ + 1, stream()))
TESSERA_SORT_VMAP(Partition, partition_window(x, kth_, axis_ + 1, first_, false, stream()))
TESSERA_SORT_VMAP(ArgPartition, partition_window(x, kth_, axis_ + 1, first_, true, stream()))
#undef TESSERA_SORT_VMAP

std::vector<Shape> Sort::output_shapes(const std::vector<array>& in) { return {in[0].shape()}; }
std::vector<Shape> ArgSort::output_shapes(const std::vector<array>& in) { return {in[0].shape()}; }

}  // namespace tessera
