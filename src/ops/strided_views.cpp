// as_strided and view (ops/shape.hpp): argument checks, the views (no kernel: the output shares
// the input's buffer on either device), gradients and batching rules.
#include <limits>

#include "tessera/ops/creation.hpp"
#include "tessera/ops/elementwise.hpp"
#include "tessera/ops/indexing.hpp"
#include "tessera/ops/shape.hpp"
#include "tessera/primitives/shape.hpp"
#include "transforms/batching.hpp"

namespace tessera {

array as_strided(array a, Shape shape, Strides strides, size_t offset, StreamOrDevice s) {
  if (shape.size() != strides.size()) {
    throw std::invalid_argument("[as_strided] shape " + shape_string(shape) + " and " + std::to_string(strides.size()) +
                                " strides differ in length");
  }
  checked_shape_size(shape, a.itemsize(), "as_strided");
  // The lowest and highest element the view reaches, which must lie inside `a`.
  int64_t lo = static_cast<int64_t>(offset), hi = lo;
  bool empty = false;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 0) empty = true;
    const int64_t span = static_cast<int64_t>(shape[d] - 1) * strides[d];
    (span < 0 ? lo : hi) += span;
  }
  if (!empty && (lo < 0 || hi >= static_cast<int64_t>(a.size()))) {
    throw std::invalid_argument("[as_strided] shape " + shape_string(shape) + " with these strides and offset " +
                                std::to_string(offset) + " reaches elements " + std::to_string(lo) + ".." +
                                std::to_string(hi) + " of an array of " + std::to_string(a.size()));
  }
  array x = contiguous(a, false, s);
  return array(shape, a.dtype(),
               std::make_shared<AsStrided>(to_stream(s), shape, std::move(strides), static_cast<int64_t>(offset)), {x});
}

array view(const array& a, const Dtype& dtype, StreamOrDevice s) {
  if (a.dtype() == dtype) return a;
  Shape shape = a.shape();
  const size_t in = a.itemsize(), out = dtype.size();
  if (a.ndim() == 0 && in != out) {
    throw std::invalid_argument("[view] a scalar can only be viewed as a dtype of the same size (" + to_string(a.dtype()) +
                                " to " + to_string(dtype) + ")");
  }
  if (in < out) {
    if (shape.back() % static_cast<int>(out / in) != 0) {
      throw std::invalid_argument("[view] the last axis of shape " + shape_string(shape) + " (" + to_string(a.dtype()) +
                                  ") is not a whole number of " + to_string(dtype) + " elements");
    }
    shape.back() /= static_cast<int>(out / in);
  } else if (in > out) {
    shape.back() *= static_cast<int>(in / out);
  }
  return array(shape, dtype, std::make_shared<DtypeView>(to_stream(s), dtype), {contiguous(a, false, s)});
}

bool AsStrided::is_equivalent(const Primitive& o) const {
  auto* p = dynamic_cast<const AsStrided*>(&o);
  return p && p->shape_ == shape_ && p->strides_ == strides_ && p->offset_ == offset_;
}
bool DtypeView::is_equivalent(const Primitive& o) const {
  auto* p = dynamic_cast<const DtypeView*>(&o);
  return p && p->dtype_ == dtype_;
}

// Every output element is input element idx (the view of an arange): the cotangent is added
// back there, so elements the view reaches twice get both.
std::vector<array> AsStrided::vjp(const std::vector<array>& primals, const std::vector<array>& cot,
                                  const std::vector<int>&, const std::vector<array>&) {
  const array& x = primals[0];
  const int64_t n = static_cast<int64_t>(x.size());
  if (n > std::numeric_limits<int32_t>::max()) {
    throw std::invalid_argument("[as_strided] the gradient of a view of more than 2^31 elements");
  }
  array idx = as_strided(arange(0, static_cast<int>(n), 1, stream()), shape_, strides_, offset_, stream());
  array g = scatter_add(zeros({static_cast<int32_t>(n)}, cot[0].dtype(), stream()), reshape(idx, {-1}, stream()),
                        reshape(cot[0], {-1, 1}, stream()), 0, stream());
  return {reshape(g, x.shape(), stream())};
}
std::vector<array> AsStrided::jvp(const std::vector<array>&, const std::vector<array>& tan,
                                  const std::vector<int>&) {
  return {as_strided(tan[0], shape_, strides_, offset_, stream())};
}

// The batch in front of a row-major copy: one more leading stride of a whole example.
std::pair<std::vector<array>, std::vector<int>> AsStrided::vmap(const std::vector<array>& in,
                                                                const std::vector<int>& axes) {
  array x = contiguous(batching::to_front(in[0], axes[0], stream()), false, stream());
  const int64_t example = x.shape(0) == 0 ? 0 : static_cast<int64_t>(x.size()) / x.shape(0);
  Shape shape = shape_;
  Strides strides = strides_;
  shape.insert(shape.begin(), x.shape(0));
  strides.insert(strides.begin(), example);
  return {{as_strided(x, shape, strides, static_cast<size_t>(offset_), stream())}, {0}};
}
std::pair<std::vector<array>, std::vector<int>> DtypeView::vmap(const std::vector<array>& in, const std::vector<int>& axes) {
  return {{view(batching::to_front(in[0], axes[0], stream()), dtype_, stream())}, {0}};
}

}  // namespace tessera
