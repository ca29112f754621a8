// Shape ops: values against plain index loops (a small reference implementation of NumPy's
// semantics below: permutation, Python slicing with clamping and negative steps, broadcasting,
// concatenation), and the view contract: reshape of a contiguous array, transpose, swapaxes,
// moveaxis, broadcast_to, expand_dims, squeeze, slice and split share the input's buffer
// after evaluation; contiguous copies (unless the input already is row-major).
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <numeric>

#include "test_util.hpp"
#include "tessera/ops/creation.hpp"
#include "tessera/ops/elementwise.hpp"
#include "tessera/ops/reduce.hpp"
#include "tessera/ops/shape.hpp"
#include "tessera/transforms/autodiff.hpp"
#include "tessera/transforms/eval.hpp"

namespace {

using namespace tessera;
using tessera::test::close_values;
using tessera::test::for_each_device;
using tessera::test::values;

// ---------------------------------------------------------------------------------------------
// Reference implementation over row-major vectors.

struct Ref {
  Shape shape;
  std::vector<double> v;
};

Ref iota_ref(const Shape& shape) {
  Ref r{shape, std::vector<double>(static_cast<size_t>(shape_size(shape)))};
  std::iota(r.v.begin(), r.v.end(), 0.0);
  return r;
}

// Multi-index of flat position i in `shape`.
std::vector<int64_t> unravel(int64_t i, const Shape& shape) {
  std::vector<int64_t> idx(shape.size());
  for (int d = static_cast<int>(shape.size()) - 1; d >= 0; --d) {
    idx[d] = i % shape[d];
    i /= shape[d];
  }
  return idx;
}
int64_t ravel(const std::vector<int64_t>& idx, const Shape& shape) {
  int64_t i = 0;
  for (size_t d = 0; d < shape.size(); ++d) i = i * shape[d] + idx[d];
  return i;
}

Ref ref_transpose(const Ref& a, const std::vector<int>& axes) {
  Shape out(axes.size());
  for (size_t i = 0; i < axes.size(); ++i) out[i] = a.shape[axes[i]];
  Ref r{out, std::vector<double>(a.v.size())};
  for (int64_t i = 0; i < static_cast<int64_t>(r.v.size()); ++i) {
    auto oi = unravel(i, out);
    std::vector<int64_t> ii(axes.size());
    for (size_t k = 0; k < axes.size(); ++k) ii[axes[k]] = oi[k];
    r.v[i] = a.v[ravel(ii, a.shape)];
  }
  return r;
}

// Python's slice(start, stop, step).indices(n), written out.
std::vector<int64_t> py_range(int64_t n, int64_t start, int64_t stop, int64_t step) {
  auto fix = [&](int64_t x, bool is_start) {
    if (x < 0) x += n;
    if (step > 0) return std::clamp<int64_t>(x, 0, n);
    (void)is_start;
    return std::clamp<int64_t>(x, -1, n - 1);
  };
  int64_t s = fix(start, true), e = fix(stop, false);
  std::vector<int64_t> out;
  for (int64_t i = s; step > 0 ? i < e : i > e; i += step) out.push_back(i);
  return out;
}

Ref ref_slice(const Ref& a, const Shape& start, const Shape& stop, const Shape& step) {
  std::vector<std::vector<int64_t>> sel;
  Shape out;
  for (size_t d = 0; d < a.shape.size(); ++d) {
    sel.push_back(py_range(a.shape[d], start[d], stop[d], step[d]));
    out.push_back(static_cast<int32_t>(sel.back().size()));
  }
  Ref r{out, std::vector<double>(static_cast<size_t>(shape_size(out)))};
  for (int64_t i = 0; i < static_cast<int64_t>(r.v.size()); ++i) {
    auto oi = unravel(i, out);
    std::vector<int64_t> ii(oi.size());
    for (size_t d = 0; d < oi.size(); ++d) ii[d] = sel[d][oi[d]];
    r.v[i] = a.v[ravel(ii, a.shape)];
  }
  return r;
}

Ref ref_broadcast(const Ref& a, const Shape& shape) {
  Ref r{shape, std::vector<double>(static_cast<size_t>(shape_size(shape)))};
  const size_t lead = shape.size() - a.shape.size();
  for (int64_t i = 0; i < static_cast<int64_t>(r.v.size()); ++i) {
    auto oi = unravel(i, shape);
    std::vector<int64_t> ii(a.shape.size());
    for (size_t d = 0; d < a.shape.size(); ++d) ii[d] = a.shape[d] == 1 ? 0 : oi[d + lead];
    r.v[i] = a.v[ravel(ii, a.shape)];
  }
  return r;
}

Ref ref_concat(const std::vector<Ref>& parts, int axis) {
  Shape out = parts[0].shape;
  out[axis] = 0;
  for (auto& p : parts) out[axis] += p.shape[axis];
  Ref r{out, std::vector<double>(static_cast<size_t>(shape_size(out)))};
  for (int64_t i = 0; i < static_cast<int64_t>(r.v.size()); ++i) {
    auto oi = unravel(i, out);
    int64_t k = oi[axis];
    size_t p = 0;
    while (k >= parts[p].shape[axis]) k -= parts[p++].shape[axis];
    oi[axis] = k;
    r.v[i] = parts[p].v[ravel(oi, parts[p].shape)];
  }
  return r;
}

array to_array(const Ref& r, Dtype d = float32) { return array(r.v, r.shape, d); }

::testing::AssertionResult matches(array a, const Ref& r) {
  if (a.shape() != r.shape) {
    return ::testing::AssertionFailure() << "shape " << shape_string(a.shape()) << " != "
                                         << shape_string(r.shape);
  }
  return close_values(values(a), r.v, 0, 0);
}

// Evaluates `out` and checks that it is a view of `in`'s buffer.
::testing::AssertionResult is_view_of(array out, array in) {
  eval(out, in);
  if (!out.buffer() || out.buffer() != in.buffer()) {
    return ::testing::AssertionFailure() << "not a view: the result has its own buffer";
  }
  return ::testing::AssertionSuccess();
}

// ---------------------------------------------------------------------------------------------

TEST(ShapeReshape, ValuesInferenceAndViews) {
  for_each_device([](Device) {
    Ref x = iota_ref({2, 3, 4});
    array a = to_array(x);
    struct Case {
      Shape request, expect;
    };
    const Case cases[] = {{{6, 4}, {6, 4}}, {{-1, 4}, {6, 4}}, {{4, -1}, {4, 6}},
                          {{24}, {24}},     {{-1}, {24}},      {{2, -1, 3}, {2, 4, 3}},
                          {{1, 24, 1}, {1, 24, 1}}};
    for (auto& c : cases) {
      array r = reshape(a, c.request);
      EXPECT_EQ(r.shape(), c.expect);
      EXPECT_TRUE(matches(r, Ref{c.expect, x.v}));  // same row-major values
      EXPECT_TRUE(is_view_of(r, a)) << shape_string(c.request);
    }
    EXPECT_EQ(reshape(array({5.0f}), {}).ndim(), 0);
    EXPECT_EQ(array(3.0f).reshape({1, 1}).shape(), (Shape{1, 1}));
    // Reshape of a non-contiguous view copies, in the view's logical order.
    array t = transpose(a);
    array rt = reshape(t, {4, 6});
    EXPECT_TRUE(matches(rt, Ref{{4, 6}, ref_transpose(x, {2, 1, 0}).v}));
    // Empty arrays: -1 resolved from the other dims.
    array e = zeros({0, 4});
    EXPECT_EQ(reshape(e, {4, 0}).shape(), (Shape{4, 0}));
  });
}

// Minimal: a reshape that must copy (its input is a transposed view).
TEST(ShapeReshape, OfTransposedViewCopiesInLogicalOrder) {
  for_each_device([](Device) {
    array a = reshape(arange(0, 6), {2, 3});
    EXPECT_TRUE(close_values(reshape(transpose(a), {6}), {0, 3, 1, 4, 2, 5}, 0, 0));
  });
}

TEST(ShapeFlatten, Ranges) {
  Ref x = iota_ref({2, 3, 4});
  array a = to_array(x);
  EXPECT_EQ(flatten(a).shape(), (Shape{24}));
  EXPECT_TRUE(matches(flatten(a), Ref{{24}, x.v}));
  EXPECT_EQ(flatten(a, 1, 2).shape(), (Shape{2, 12}));
  EXPECT_EQ(flatten(a, 0, 1).shape(), (Shape{6, 4}));
  EXPECT_EQ(flatten(a, -2, -1).shape(), (Shape{2, 12}));
  EXPECT_EQ(flatten(a, 1, 1).shape(), (Shape{2, 3, 4}));
  // MLX clamps a start before the first axis and an end past the last.
  EXPECT_EQ(flatten(a, -10, 10).shape(), (Shape{24}));
  EXPECT_EQ(flatten(a, 1, 7).shape(), (Shape{2, 12}));
  EXPECT_EQ(flatten(array(2.0f)).shape(), (Shape{1}));
  EXPECT_TRUE(is_view_of(flatten(a), a));
  // Of a transposed view: values in logical order.
  EXPECT_TRUE(matches(flatten(transpose(a)), Ref{{24}, ref_transpose(x, {2, 1, 0}).v}));
}

TEST(ShapeTranspose, AxesSwapaxesMoveaxis) {
  for_each_device([](Device) {
    Ref x = iota_ref({2, 3, 4});
    array a = to_array(x);
    const std::vector<std::vector<int>> perms = {{0, 1, 2}, {1, 0, 2}, {2, 0, 1}, {0, 2, 1}, {2, 1, 0}};
    for (auto& p : perms) {
      array t = transpose(a, p);
      EXPECT_TRUE(matches(t, ref_transpose(x, p)));
      EXPECT_TRUE(is_view_of(t, a));
    }
    EXPECT_TRUE(matches(transpose(a), ref_transpose(x, {2, 1, 0})));
    EXPECT_TRUE(matches(transpose(a, {-1, 0, -2}), ref_transpose(x, {2, 0, 1})));
    EXPECT_TRUE(matches(a.T(), ref_transpose(x, {2, 1, 0})));
    // Transpose of a transpose is the original order, and still a view.
    array tt = transpose(transpose(a, {1, 2, 0}), {2, 0, 1});
    EXPECT_TRUE(matches(tt, x));
    EXPECT_TRUE(is_view_of(tt, a));

    EXPECT_TRUE(matches(swapaxes(a, 0, 2), ref_transpose(x, {2, 1, 0})));
    EXPECT_TRUE(matches(swapaxes(a, -1, 1), ref_transpose(x, {0, 2, 1})));
    EXPECT_TRUE(is_view_of(swapaxes(a, 0, 1), a));
    // moveaxis(a, 0, -1): axes (1, 2, 0); moveaxis(a, 2, 0): (2, 0, 1).
    EXPECT_TRUE(matches(moveaxis(a, 0, -1), ref_transpose(x, {1, 2, 0})));
    EXPECT_TRUE(matches(moveaxis(a, 2, 0), ref_transpose(x, {2, 0, 1})));
    EXPECT_TRUE(matches(moveaxis(a, 1, 1), x));
    EXPECT_TRUE(is_view_of(moveaxis(a, 0, 2), a));
  });
}

TEST(ShapeBroadcast, BroadcastToAndArrays) {
  for_each_device([](Device) {
    Ref c = iota_ref({3, 1});
    array a = to_array(c);
    array b = broadcast_to(a, {2, 3, 4});
    EXPECT_TRUE(matches(b, ref_broadcast(c, {2, 3, 4})));
    EXPECT_TRUE(is_view_of(b, a));
    EXPECT_EQ(b.strides()[0], 0);
    EXPECT_EQ(b.strides()[2], 0);
    array s = broadcast_to(array(7.0f), {2, 2});
    EXPECT_TRUE(close_values(s, {7, 7, 7, 7}, 0, 0));
    auto arrs = broadcast_arrays({a, to_array(iota_ref({4})), array(1.0f)});
    ASSERT_EQ(arrs.size(), 3u);
    for (auto& r : arrs) EXPECT_EQ(r.shape(), (Shape{3, 4}));
    EXPECT_TRUE(matches(arrs[1], ref_broadcast(iota_ref({4}), {3, 4})));
    // A broadcast view feeds elementwise ops and copies correctly.
    EXPECT_TRUE(matches(contiguous(b), ref_broadcast(c, {2, 3, 4})));
  });
}

TEST(ShapeExpandSqueeze, AxesAndViews) {
  Ref x = iota_ref({2, 3});
  array a = to_array(x);
  EXPECT_EQ(expand_dims(a, 0).shape(), (Shape{1, 2, 3}));
  EXPECT_EQ(expand_dims(a, -1).shape(), (Shape{2, 3, 1}));
  EXPECT_EQ(expand_dims(a, 1).shape(), (Shape{2, 1, 3}));
  EXPECT_EQ(expand_dims(a, {0, 2}).shape(), (Shape{1, 2, 1, 3}));
  EXPECT_EQ(expand_dims(a, {-1, 0}).shape(), (Shape{1, 2, 3, 1}));
  EXPECT_TRUE(matches(expand_dims(a, 1), Ref{{2, 1, 3}, x.v}));
  EXPECT_TRUE(is_view_of(expand_dims(a, 0), a));

  array b = reshape(a, {1, 2, 1, 3, 1});
  EXPECT_EQ(squeeze(b).shape(), (Shape{2, 3}));
  EXPECT_EQ(squeeze(b, 0).shape(), (Shape{2, 1, 3, 1}));
  EXPECT_EQ(squeeze(b, -1).shape(), (Shape{1, 2, 1, 3}));
  EXPECT_EQ(squeeze(b, {0, 2}).shape(), (Shape{2, 3, 1}));
  EXPECT_TRUE(matches(squeeze(b), x));
  EXPECT_TRUE(is_view_of(squeeze(b), a));
  EXPECT_EQ(squeeze(array({5.0f})).ndim(), 0);
}

TEST(ShapeSlice, StridesNegativeStridesAndClamping) {
  for_each_device([](Device) {
    Ref x = iota_ref({4, 6});
    array a = to_array(x);
    struct Case {
      Shape start, stop, step;
    };
    const Case cases[] = {
        {{0, 0}, {4, 6}, {1, 2}},       // every other column
        {{1, 1}, {3, 5}, {1, 1}},       // interior block
        {{3, 5}, {-5, -7}, {-1, -1}},   // both axes reversed (stop before the start)
        {{-1, 4}, {0, 0}, {-2, -3}},    // negative steps with offsets
        {{0, -100}, {100, 100}, {3, 1}},  // clamped start and stop
        {{2, 0}, {1, 6}, {1, 1}},       // empty: stop < start
        {{-2, 1}, {4, 2}, {1, 4}},      // negative start
        {{10, 0}, {20, 6}, {1, 1}},     // start beyond the end: empty
        {{0, 5}, {4, -100}, {2, -2}},   // negative step clamped at the front
    };
    for (auto& c : cases) {
      SCOPED_TRACE(shape_string(c.start) + " " + shape_string(c.stop) + " " + shape_string(c.step));
      array s = slice(a, c.start, c.stop, c.step);
      Ref expect = ref_slice(x, c.start, c.stop, c.step);
      EXPECT_TRUE(matches(s, expect));
      if (s.size() > 0) EXPECT_TRUE(is_view_of(s, a));
    }
    // Default strides.
    EXPECT_TRUE(matches(slice(a, {1, 2}, {3, 4}), ref_slice(x, {1, 2}, {3, 4}, {1, 1})));
    // Slices of slices, and of transposed views.
    array s1 = slice(a, {0, 5}, {4, -7}, {1, -1});
    array s2 = slice(s1, {1, 0}, {4, 6}, {2, 2});
    EXPECT_TRUE(matches(s2, ref_slice(ref_slice(x, {0, 5}, {4, -7}, {1, -1}), {1, 0}, {4, 6}, {2, 2})));
    EXPECT_TRUE(is_view_of(s2, a));
    array st = slice(transpose(a), {1, 0}, {6, 4}, {2, 3});
    EXPECT_TRUE(matches(st, ref_slice(ref_transpose(x, {1, 0}), {1, 0}, {6, 4}, {2, 3})));
    // Elementwise ops read negative-stride views correctly.
    array rev = slice(a, {3, 5}, {-5, -7}, {-1, -1});
    Ref rr = ref_slice(x, {3, 5}, {-5, -7}, {-1, -1});
    std::vector<double> twice;
    for (double v : rr.v) twice.push_back(2 * v);
    EXPECT_TRUE(close_values(array(rev * 2.0f), twice, 0, 0));
  });
}

TEST(ShapeConcatenate, AxesAndPromotion) {
  for_each_device([](Device) {
    Ref a = iota_ref({2, 3});
    Ref b = iota_ref({2, 2});
    for (auto& v : b.v) v += 100;
    Ref c = iota_ref({1, 3});
    for (auto& v : c.v) v -= 50;
    EXPECT_TRUE(matches(concatenate({to_array(a), to_array(b)}, 1), ref_concat({a, b}, 1)));
    EXPECT_TRUE(matches(concatenate({to_array(a), to_array(b)}, -1), ref_concat({a, b}, 1)));
    EXPECT_TRUE(matches(concatenate({to_array(a), to_array(c), to_array(a)}, 0), ref_concat({a, c, a}, 0)));
    // Mixed dtypes promote.
    array m = concatenate({to_array(a, int32), to_array(c, float16)}, 0);
    EXPECT_EQ(m.dtype(), float16);
    EXPECT_TRUE(matches(m, ref_concat({a, c}, 0)));
    // Without an axis: flattened.
    array f = concatenate({to_array(a), to_array(b)});
    EXPECT_EQ(f.shape(), (Shape{10}));
    std::vector<double> fv = a.v;
    fv.insert(fv.end(), b.v.begin(), b.v.end());
    EXPECT_TRUE(close_values(f, fv, 0, 0));
    // Views as inputs.
    array t = transpose(to_array(a));  // (3,2)
    EXPECT_TRUE(matches(concatenate({t, to_array(b)}, 0),
                        ref_concat({ref_transpose(a, {1, 0}), b}, 0)));
  });
}

TEST(ShapeStack, Axes) {
  Ref a = iota_ref({2, 3});
  Ref b = a;
  for (auto& v : b.v) v = -v - 1;
  array A = to_array(a), B = to_array(b);
  // stack(axis) == concatenate of expand_dims(axis).
  for (int axis : {0, 1, 2, -1, -3}) {
    SCOPED_TRACE(axis);
    array s = stack({A, B}, axis);
    int ax = axis < 0 ? axis + 3 : axis;
    Shape es = {2, 3};
    es.insert(es.begin() + ax, 1);
    EXPECT_TRUE(matches(s, ref_concat({Ref{es, a.v}, Ref{es, b.v}}, ax)));
  }
  EXPECT_EQ(stack({A, B, A}).shape(), (Shape{3, 2, 3}));
  EXPECT_EQ(stack({A}).shape(), (Shape{1, 2, 3}));
}

TEST(ShapeSplit, EqualPartsAndIndices) {
  for_each_device([](Device) {
    Ref x = iota_ref({6, 4});
    array a = to_array(x);
    auto parts = split(a, 3);  // along axis 0
    ASSERT_EQ(parts.size(), 3u);
    for (int i = 0; i < 3; ++i) {
      EXPECT_TRUE(matches(parts[i], ref_slice(x, {2 * i, 0}, {2 * i + 2, 4}, {1, 1})));
      EXPECT_TRUE(is_view_of(parts[i], a));
    }
    auto cols = split(a, 2, 1);
    ASSERT_EQ(cols.size(), 2u);
    EXPECT_TRUE(matches(cols[1], ref_slice(x, {0, 2}, {6, 4}, {1, 1})));
    auto at = split(a, Shape{1, 3}, 1);
    ASSERT_EQ(at.size(), 3u);
    EXPECT_EQ(at[0].shape(), (Shape{6, 1}));
    EXPECT_EQ(at[1].shape(), (Shape{6, 2}));
    EXPECT_EQ(at[2].shape(), (Shape{6, 1}));
    EXPECT_TRUE(matches(at[1], ref_slice(x, {0, 1}, {6, 3}, {1, 1})));
    // Indices as NumPy's split (array_split is the same for indices): part i is
    // a[indices[i-1]:indices[i]], so a non-increasing index gives an empty part and the next
    // part starts again from it. np.split(np.arange(6), [4, 2, 10]) is
    // [0 1 2 3], [], [2 3 4 5], [].
    auto odd = split(a, Shape{4, 2, 10});
    ASSERT_EQ(odd.size(), 4u);
    EXPECT_EQ(odd[0].shape(), (Shape{4, 4}));
    EXPECT_EQ(odd[1].shape(), (Shape{0, 4}));
    EXPECT_EQ(odd[2].shape(), (Shape{4, 4}));
    EXPECT_EQ(odd[3].shape(), (Shape{0, 4}));
    EXPECT_TRUE(matches(odd[2], ref_slice(x, {2, 0}, {10, 4}, {1, 1})));
    auto neg = split(a, Shape{-2});
    ASSERT_EQ(neg.size(), 2u);
    EXPECT_EQ(neg[0].shape(), (Shape{4, 4}));
  });
}

// np.split's answers for non-increasing, negative and out-of-range indices (NumPy 1.24).
TEST(ShapeSplit, NonIncreasingIndicesAsNumPy) {
  for_each_device([](Device) {
    array a = arange(6);
    auto parts = [&](const Shape& idx) {
      std::vector<std::vector<int>> out;
      for (auto& p : split(a, idx)) out.push_back(p.to_vector<int>());
      return out;
    };
    using V = std::vector<std::vector<int>>;
    EXPECT_EQ(parts({4, 2}), (V{{0, 1, 2, 3}, {}, {2, 3, 4, 5}}));
    EXPECT_EQ(parts({-1, 2}), (V{{0, 1, 2, 3, 4}, {}, {2, 3, 4, 5}}));
    EXPECT_EQ(parts({10, 2}), (V{{0, 1, 2, 3, 4, 5}, {}, {2, 3, 4, 5}}));
    EXPECT_EQ(parts({3, -10}), (V{{0, 1, 2}, {}, {0, 1, 2, 3, 4, 5}}));
    EXPECT_EQ(parts({-10, 3}), (V{{}, {0, 1, 2}, {3, 4, 5}}));
    EXPECT_EQ(parts({3, 3}), (V{{0, 1, 2}, {}, {3, 4, 5}}));
  });
}

// Python slicing with INT32_MAX / INT32_MIN starts, stops and steps: NumPy's answers, no
// overflow (a[slice(start, stop, step)] for a = np.arange(5), NumPy 1.24).
TEST(ShapeSlice, ExtremeStartsStopsAndStepsAsNumPy) {
  constexpr int32_t M = std::numeric_limits<int32_t>::max();
  constexpr int32_t m = std::numeric_limits<int32_t>::min();
  struct Case {
    int32_t start, stop, step;
    std::vector<int> expect;
  };
  const Case cases[] = {
      {0, 5, M, {0}},
      {4, -6, m, {4}},
      {M, m, -1, {4, 3, 2, 1, 0}},
      {m, M, 1, {0, 1, 2, 3, 4}},
      {0, M, M, {0}},
      {M, m, m, {4}},
      {4, m, m, {4}},
      {1, M, 2, {1, 3}},
      {M, M, -1, {}},
      {-M, M, M, {0}},
      {m, -1, -1, {}},
      {M, 0, -1, {4, 3, 2, 1}},
      {M, m, M, {}},
  };
  for_each_device([&](Device) {
    array a = arange(5);
    for (auto& c : cases) {
      SCOPED_TRACE(std::to_string(c.start) + ":" + std::to_string(c.stop) + ":" +
                   std::to_string(c.step));
      array s = slice(a, {c.start}, {c.stop}, {c.step});
      EXPECT_EQ(s.to_vector<int>(), c.expect);
      EXPECT_TRUE(matches(s, ref_slice(iota_ref({5}), {c.start}, {c.stop}, {c.step})));
    }
  });
  // The gradient re-normalises the stored start: an empty reversed slice stays empty.
  array g = grad([&](const array& x) { return sum(slice(x, {m}, {-6}, {-1})); })(
      arange(5.0, float32));
  EXPECT_EQ(g.to_vector<float>(), std::vector<float>(5, 0.f));
}

TEST(ShapeContiguous, CopiesOnlyWhenNeeded) {
  for_each_device([](Device) {
    Ref x = iota_ref({3, 4});
    array a = to_array(x);
    array t = transpose(a);
    array c = contiguous(t);
    c.eval();
    EXPECT_TRUE(c.flags().row_contiguous);
    EXPECT_EQ(c.strides(), (Strides{3, 1}));
    EXPECT_TRUE(matches(c, ref_transpose(x, {1, 0})));
    EXPECT_NE(c.buffer(), a.buffer());
    // Already row-major on this device: shared (a CPU leaf read by a GPU op is uploaded first,
    // so the input is computed on the device).
    array here = a * 1.0f;
    array same = contiguous(here);
    EXPECT_TRUE(is_view_of(same, here));
    EXPECT_TRUE(matches(same, x));
    // A stepped slice becomes dense.
    array s = contiguous(slice(a, {0, 0}, {3, 4}, {2, 3}));
    s.eval();
    EXPECT_TRUE(s.flags().row_contiguous);
    EXPECT_TRUE(matches(s, ref_slice(x, {0, 0}, {3, 4}, {2, 3})));
  });
}

// Shape ops keep dtypes and work on every dtype (bytes are moved, not converted).
TEST(ShapeDtypes, EveryDtypeMovesBytes) {
  for (auto d : all_dtypes) {
    SCOPED_TRACE(dtype_name(d));
    Ref x = iota_ref({2, 3});
    if (d == bool_) for (auto& v : x.v) v = static_cast<int>(v) % 2;
    array a = to_array(x, d);
    array t = transpose(a);
    EXPECT_EQ(t.dtype(), d);
    EXPECT_TRUE(matches(t, ref_transpose(x, {1, 0})));
    array r = reshape(t, {3, 2});
    EXPECT_TRUE(matches(r, ref_transpose(x, {1, 0})));
    array s = slice(a, {1, 2}, {-3, -4}, {-1, -2});
    EXPECT_TRUE(matches(s, ref_slice(x, {1, 2}, {-3, -4}, {-1, -2})));
    array cc = concatenate({a, a}, 0);
    EXPECT_EQ(cc.dtype(), d);
    EXPECT_TRUE(matches(cc, ref_concat({x, x}, 0)));
  }
}

}  // namespace
