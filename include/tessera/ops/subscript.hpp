#pragma once
// NumPy's indexing in C++: `a[i]`, `a[{i, Slice(1, {}, -1), ellipsis, newaxis, idx}]` read
// (the index words live in tessera::indexing, as LibTorch's torch::indexing, so that `Slice`
// does not meet the Slice primitive: `using namespace tessera::indexing;`);
// `a[{...}] = v` writes back into `a`; `a.at({...}).add(v)` (subtract, multiply, divide,
// maximum, minimum) returns an updated copy that accumulates repeated indices, as MLX's
// `array.at[...]`.
//
// The rules are NumPy's (and MLX Python's):
// - an integer picks one entry and drops the axis (negative counts from the end; out of range
//   throws std::out_of_range);
// - a Slice(start, stop, step) keeps the axis (absent bounds run to the end in the step's
//   direction; out-of-range bounds are clipped, as in Python);
// - `ellipsis` stands for as many full slices as the other indices leave (at most one);
// - `newaxis` inserts an axis of size 1;
// - integer arrays (any integer dtype) broadcast together, and with the integers standing
//   beside them; their broadcast shape replaces the indexed axes, in place when those indices
//   are adjacent and in front otherwise. Array indices out of range are clamped on read and
//   dropped on write (ops/indexing.hpp).
// Boolean masks are refused: their result's shape depends on the data (MLX refuses them too).
//
// Every form is composed of slice / slice_update and gather / scatter, so it runs on both
// devices, has gradients, and batches under vmap.
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <variant>
#include <vector>

#include "tessera/core/array.hpp"
#include "tessera/core/device.hpp"
#include "tessera/expr/expr.hpp"

namespace tessera {

namespace indexing {

// start:stop:step. `Slice()` is `:`, `Slice(2)` is `2:`, `Slice({}, {}, -1)` is `::-1`.
struct Slice {
  std::optional<int64_t> start, stop, step;
  Slice() = default;
  Slice(std::optional<int64_t> start_, std::optional<int64_t> stop_ = std::nullopt,
        std::optional<int64_t> step_ = std::nullopt)
      : start(start_), stop(stop_), step(step_) {}
};
struct Ellipsis {};
struct NewAxis {};
inline constexpr Ellipsis ellipsis{};
inline constexpr NewAxis newaxis{};

}  // namespace indexing

// One entry of an index: an integer, a Slice, ellipsis, newaxis, or an integer array (or an
// expression, materialized).
class Index {
 public:
  using Slice = indexing::Slice;
  using Ellipsis = indexing::Ellipsis;
  using NewAxis = indexing::NewAxis;
  using Value = std::variant<int64_t, Slice, Ellipsis, NewAxis, array>;
  template <typename I>
    requires(std::is_integral_v<I> && !std::is_same_v<I, bool>)
  Index(I i) : v_(static_cast<int64_t>(i)) {}
  Index(Slice s) : v_(s) {}
  Index(Ellipsis e) : v_(e) {}
  Index(NewAxis n) : v_(n) {}
  Index(const array& a) : v_(a) {}
  template <typename E>
    requires is_expr_v<E>
  Index(const E& e) : v_(array(e)) {}
  const Value& value() const { return v_; }

 private:
  Value v_;
};

// How index_update combines the values with what is there.
enum class IndexUpdate { set, add, subtract, multiply, divide, maximum, minimum };

// a[indices].
array index(const array& a, const std::vector<Index>& indices, StreamOrDevice s = {});
// A copy of `a` with a[indices] combined with `values` (broadcast to that shape and cast to
// a's dtype). `set` keeps one write where array indices repeat; the others accumulate every
// duplicate. `divide` multiplies by the reciprocal (floating dtypes only).
array index_update(const array& a, const std::vector<Index>& indices, const array& values,
                   IndexUpdate mode = IndexUpdate::set, StreamOrDevice s = {});

// What `a[...]` returns on a non-const array: the read value, which also writes back into `a`
// when assigned to as a temporary (`a[{0}] = v`). A named copy (`auto r = a[{0}]`) is just an
// array: assigning to it rebinds it and leaves `a` alone.
class IndexProxy : public array {
 public:
  IndexProxy(array& target, std::vector<Index> indices)
      : array(index(target, indices)), target_(&target), indices_(std::move(indices)) {}
  IndexProxy(const IndexProxy&) = default;
  IndexProxy(IndexProxy&&) = default;
  // On a temporary: write back.
  IndexProxy& operator=(const array& v) && { return write(v); }
  IndexProxy& operator=(const IndexProxy& v) && { return write(v); }
  template <typename V>
    requires(ScalarType<std::remove_cvref_t<V>> || is_expr_v<V>)
  IndexProxy& operator=(V&& v) && {
    if constexpr (ScalarType<std::remove_cvref_t<V>>) return write(array(v));
    else return write(array(v));
  }
  // `a[{...}] += v` is `a[{...}] = a[{...}] + v` (NumPy: repeated indices count once).
  template <Operand V> IndexProxy& operator+=(V&& v) && { return write(array(*this + std::forward<V>(v))); }
  template <Operand V> IndexProxy& operator-=(V&& v) && { return write(array(*this - std::forward<V>(v))); }
  template <Operand V> IndexProxy& operator*=(V&& v) && { return write(array(*this * std::forward<V>(v))); }
  template <Operand V> IndexProxy& operator/=(V&& v) && { return write(array(*this / std::forward<V>(v))); }
  // On a named variable: rebind, as any array.
  IndexProxy& operator=(const array& v) & { array::operator=(v); return *this; }
  IndexProxy& operator=(const IndexProxy& v) & { array::operator=(v); return *this; }
  IndexProxy& operator=(IndexProxy&& v) & { array::operator=(std::move(v)); return *this; }

 private:
  IndexProxy& write(const array& v) {
    *target_ = index_update(*target_, indices_, v);
    array::operator=(index(*target_, indices_));
    return *this;
  }
  array* target_;
  std::vector<Index> indices_;
};

// `a.at(indices)`: the functional updates, each returning a new array.
class AtProxy {
 public:
  AtProxy(array a, std::vector<Index> indices) : a_(std::move(a)), indices_(std::move(indices)) {}
  array set(const array& v, StreamOrDevice s = {}) const { return apply(v, IndexUpdate::set, s); }
  array add(const array& v, StreamOrDevice s = {}) const { return apply(v, IndexUpdate::add, s); }
  array subtract(const array& v, StreamOrDevice s = {}) const { return apply(v, IndexUpdate::subtract, s); }
  array multiply(const array& v, StreamOrDevice s = {}) const { return apply(v, IndexUpdate::multiply, s); }
  array divide(const array& v, StreamOrDevice s = {}) const { return apply(v, IndexUpdate::divide, s); }
  array maximum(const array& v, StreamOrDevice s = {}) const { return apply(v, IndexUpdate::maximum, s); }
  array minimum(const array& v, StreamOrDevice s = {}) const { return apply(v, IndexUpdate::minimum, s); }
  // Scalars and expressions.
  template <typename V>
    requires(ScalarType<std::remove_cvref_t<V>> || is_expr_v<V>)
  array set(V&& v, StreamOrDevice s = {}) const { return set(array(v), s); }
  template <typename V>
    requires(ScalarType<std::remove_cvref_t<V>> || is_expr_v<V>)
  array add(V&& v, StreamOrDevice s = {}) const { return add(array(v), s); }
  template <typename V>
    requires(ScalarType<std::remove_cvref_t<V>> || is_expr_v<V>)
  array subtract(V&& v, StreamOrDevice s = {}) const { return subtract(array(v), s); }
  template <typename V>
    requires(ScalarType<std::remove_cvref_t<V>> || is_expr_v<V>)
  array multiply(V&& v, StreamOrDevice s = {}) const { return multiply(array(v), s); }
  template <typename V>
    requires(ScalarType<std::remove_cvref_t<V>> || is_expr_v<V>)
  array divide(V&& v, StreamOrDevice s = {}) const { return divide(array(v), s); }
  template <typename V>
    requires(ScalarType<std::remove_cvref_t<V>> || is_expr_v<V>)
  array maximum(V&& v, StreamOrDevice s = {}) const { return maximum(array(v), s); }
  template <typename V>
    requires(ScalarType<std::remove_cvref_t<V>> || is_expr_v<V>)
  array minimum(V&& v, StreamOrDevice s = {}) const { return minimum(array(v), s); }

 private:
  array apply(const array& v, IndexUpdate mode, StreamOrDevice s) const {
    return index_update(a_, indices_, v, mode, s);
  }
  array a_;
  std::vector<Index> indices_;
};

inline IndexProxy array::operator[](const Index& i) { return IndexProxy(*this, {i}); }
inline IndexProxy array::operator[](std::initializer_list<Index> i) { return IndexProxy(*this, i); }
inline array array::operator[](const Index& i) const { return index(*this, {i}); }
inline array array::operator[](std::initializer_list<Index> i) const { return index(*this, i); }
inline AtProxy array::at(const Index& i) const { return AtProxy(*this, {i}); }
inline AtProxy array::at(std::initializer_list<Index> i) const { return AtProxy(*this, i); }

}  // namespace tessera
