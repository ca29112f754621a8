// Convolutions: argument checking and shapes (conv_general and its 1-3-D and transposed
// forms, convolve), and the Convolution primitive's gradients and batching rules.
//
// Gradients, with the geometry of primitives/conv.hpp:
//  - input: a Forward convolution of dy (input dilation = the forward stride) with the weight
//    transposed to (C_in, kernel..., C_out / groups) and flipped, padded so that it yields
//    the dilated input's extent; the elements that the input dilation inserted are then
//    dropped with a strided slice;
//  - weight: the WeightGrad mode (the im2col matrix reduced against dy).
// Both are linear in each argument, so the jvps are sums of the same nodes, and the vjps of
// the WeightGrad node are a Forward convolution and the input gradient again.
#include "tessera/ops/conv.hpp"

#include <algorithm>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "tessera/ops/elementwise.hpp"
#include "tessera/ops/shape.hpp"
#include "tessera/primitives/conv.hpp"
#include "transforms/batching.hpp"

namespace tessera {

namespace {

std::string list_string(const std::vector<int>& v) {
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < v.size(); ++i) os << (i ? ", " : "") << v[i];
  os << ")";
  return os.str();
}

// A per-axis argument: one value (or none: `fallback`) for every spatial axis, or one each.
std::vector<int> per_axis(std::vector<int> v, int nsp, int fallback, const char* what) {
  if (v.empty()) return std::vector<int>(nsp, fallback);
  if (v.size() == 1) return std::vector<int>(nsp, v[0]);
  if (static_cast<int>(v.size()) != nsp) {
    throw std::invalid_argument("[conv] " + std::string(what) + " " + list_string(v) + " has " +
                                std::to_string(v.size()) + " values for a " + std::to_string(nsp) +
                                "-D convolution");
  }
  return v;
}

std::vector<int> spatial_of(const Shape& shape) { return std::vector<int>(shape.begin() + 1, shape.end() - 1); }

// The output shape of a Forward convolution, checking the geometry (the checks every mode
// shares: positive strides and dilations, a non-empty output).
Shape forward_shape(const Shape& in, const Shape& wt, const ConvGeometry& g) {
  const int nsp = static_cast<int>(in.size()) - 2;
  for (int d = 0; d < nsp; ++d) {
    if (g.stride[d] <= 0) throw std::invalid_argument("[conv] strides must be positive, got " + list_string(g.stride));
    if (g.kernel_dilation[d] <= 0) {
      throw std::invalid_argument("[conv] kernel dilations must be positive, got " + list_string(g.kernel_dilation));
    }
    if (g.input_dilation[d] <= 0) {
      throw std::invalid_argument("[conv] input dilations must be positive, got " + list_string(g.input_dilation));
    }
  }
  std::vector<int> out = Convolution::out_spatial(spatial_of(in), spatial_of(wt), g);
  for (int d = 0; d < nsp; ++d) {
    if (out[d] <= 0) {
      throw std::invalid_argument("[conv] the padded input of shape " + shape_string(in) + " (padding low " +
                                  list_string(g.padding_lo) + ", high " + list_string(g.padding_hi) +
                                  ") is smaller than the dilated kernel of the weight of shape " +
                                  shape_string(wt) + " along spatial axis " + std::to_string(d));
    }
  }
  Shape shape{in[0]};
  shape.insert(shape.end(), out.begin(), out.end());
  shape.push_back(wt[0]);
  return shape;
}

array forward_node(const array& x, const array& w, const ConvGeometry& g, const Stream& s) {
  return array(forward_shape(x.shape(), w.shape(), g), x.dtype(), std::make_shared<Convolution>(s, g), {x, w});
}

array weight_grad_node(const array& x, const array& dy, const Shape& w_shape, const ConvGeometry& g,
                       const Stream& s) {
  return array(w_shape, x.dtype(), std::make_shared<Convolution>(s, g, w_shape), {x, dy});
}

// d<dy, conv(x, w)>/dx for an input of shape `x_shape`.
array input_grad(const array& dy, const array& w, const Shape& x_shape, const ConvGeometry& g, const Stream& s) {
  const int nsp = static_cast<int>(x_shape.size()) - 2;
  const int cout = w.shape(0), cig = w.shape(-1), G = g.groups, cog = cout / G;
  // (C_out, k..., cig) -> (G, cog, k..., cig) -> (G, cig, k..., cog) -> (C_in, k..., cog).
  Shape split{G, cog};
  for (int d = 0; d < nsp; ++d) split.push_back(w.shape(1 + d));
  split.push_back(cig);
  std::vector<int> perm{0, nsp + 2};
  for (int d = 0; d < nsp; ++d) perm.push_back(2 + d);
  perm.push_back(1);
  Shape wt_shape{G * cig};
  for (int d = 0; d < nsp; ++d) wt_shape.push_back(w.shape(1 + d));
  wt_shape.push_back(cog);
  array wt = reshape(contiguous(transpose(reshape(w, split, s), perm, s), false, s), wt_shape, s);

  ConvGeometry t;
  t.groups = G;
  t.flip = !g.flip;
  t.stride.assign(nsp, 1);
  t.kernel_dilation = g.kernel_dilation;
  t.input_dilation = g.stride;
  bool dilated = false;
  for (int d = 0; d < nsp; ++d) {
    const int k = w.shape(1 + d), o = dy.shape(1 + d);
    const int lv = (x_shape[1 + d] - 1) * g.input_dilation[d] + 1;  // the dilated input's extent
    t.padding_lo.push_back((k - 1) * g.kernel_dilation[d] - g.padding_lo[d]);
    t.padding_hi.push_back(lv - (o - 1) * g.stride[d] - 1 + g.padding_lo[d]);
    dilated |= g.input_dilation[d] > 1;
  }
  array dx = forward_node(dy, wt, t, s);
  if (!dilated) return dx;
  Shape start(x_shape.size(), 0), stop = dx.shape(), step(x_shape.size(), 1);
  for (int d = 0; d < nsp; ++d) step[1 + d] = g.input_dilation[d];
  return slice(dx, start, stop, step, s);
}

// (B, N, spatial..., C) -> (N, spatial..., B * C): a batch folded into the channels (and so
// into the groups), channel index b * C + c.
array batch_into_channels(const array& x, const Stream& s) {
  const int nd = x.ndim();
  array m = moveaxis(x, 0, nd - 2, s);
  Shape shape(m.shape().begin(), m.shape().end() - 2);
  shape.push_back(x.shape(0) * x.shape(-1));
  return reshape(m, shape, s);
}

// (N, spatial..., B * C) -> (N, spatial..., B, C).
array channels_into_batch(const array& y, int batch, const Stream& s) {
  Shape shape(y.shape().begin(), y.shape().end() - 1);
  shape.push_back(batch);
  shape.push_back(y.shape(-1) / batch);
  return reshape(y, shape, s);
}

ConvGeometry batched_groups(ConvGeometry g, int batch) {
  g.groups *= batch;
  return g;
}

void check_inputs(const array& in, const array& wt, int groups) {
  if (!issubdtype(in.dtype(), floating) || !issubdtype(wt.dtype(), floating)) {
    throw std::invalid_argument("[conv] inputs must be floating point, got input " + to_string(in.dtype()) +
                                " and weight " + to_string(wt.dtype()));
  }
  const int nsp = in.ndim() - 2;
  if (nsp < 1 || nsp > 3) {
    throw std::invalid_argument("[conv] the input of shape " + shape_string(in.shape()) +
                                " must be (N, spatial..., C_in) with 1 to 3 spatial axes");
  }
  if (wt.ndim() != in.ndim()) {
    throw std::invalid_argument("[conv] the weight of shape " + shape_string(wt.shape()) + " must have " +
                                std::to_string(in.ndim()) + " axes (C_out, kernel..., C_in) for the input of shape " +
                                shape_string(in.shape()));
  }
  if (groups <= 0) throw std::invalid_argument("[conv] groups must be positive, got " + std::to_string(groups));
  const int cin = in.shape(-1), cout = wt.shape(0);
  if (cin % groups != 0 || cout % groups != 0) {
    throw std::invalid_argument("[conv] " + std::to_string(groups) + " groups do not divide the " +
                                std::to_string(cin) + " input channels of " + shape_string(in.shape()) + " and the " +
                                std::to_string(cout) + " output channels of " + shape_string(wt.shape()));
  }
  if (wt.shape(-1) * groups != cin) {
    throw std::invalid_argument("[conv] the weight of shape " + shape_string(wt.shape()) + " takes " +
                                std::to_string(wt.shape(-1)) + " channels per group, but the input of shape " +
                                shape_string(in.shape()) + " has " + std::to_string(cin) + " channels in " +
                                std::to_string(groups) + " groups");
  }
  for (int d = 0; d < wt.ndim(); ++d) {
    if (wt.shape(d) == 0) throw std::invalid_argument("[conv] the weight of shape " + shape_string(wt.shape()) + " is empty");
  }
}

array conv_transpose_general(const array& in, const array& wt, std::vector<int> stride, std::vector<int> padding,
                             std::vector<int> dilation, std::vector<int> output_padding, int groups,
                             StreamOrDevice s) {
  check_inputs(in, wt, groups);
  const int nsp = in.ndim() - 2;
  std::vector<int> lo(nsp), hi(nsp);
  for (int d = 0; d < nsp; ++d) {
    if (stride[d] <= 0 || dilation[d] <= 0) {
      throw std::invalid_argument("[conv_transpose] strides " + list_string(stride) + " and dilations " +
                                  list_string(dilation) + " must be positive");
    }
    if (output_padding[d] < 0 || output_padding[d] >= std::max(stride[d], dilation[d])) {
      throw std::invalid_argument("[conv_transpose] output_padding " + list_string(output_padding) +
                                  " must be non-negative and smaller than the stride or the dilation");
    }
    const int64_t span = 1 + static_cast<int64_t>(dilation[d]) * (wt.shape(1 + d) - 1);
    lo[d] = static_cast<int>(span - padding[d] - 1);
    hi[d] = static_cast<int>(span - padding[d] - 1 + output_padding[d]);
  }
  return conv_general(in, wt, std::vector<int>(nsp, 1), lo, hi, dilation, stride, groups, true, s);
}

}  // namespace

std::vector<int> Convolution::out_spatial(const std::vector<int>& in, const std::vector<int>& kernel,
                                          const ConvGeometry& g) {
  std::vector<int> out(in.size());
  for (size_t d = 0; d < in.size(); ++d) {
    const int64_t dilated_in = static_cast<int64_t>(in[d] - 1) * g.input_dilation[d] + 1;
    const int64_t span = static_cast<int64_t>(kernel[d] - 1) * g.kernel_dilation[d] + 1;
    const int64_t room = dilated_in + g.padding_lo[d] + g.padding_hi[d] - span;
    out[d] = in[d] == 0 || room < 0 ? 0 : static_cast<int>(room / g.stride[d] + 1);
  }
  return out;
}

array conv_general(array in, array wt, std::vector<int> stride, std::vector<int> padding_lo,
                   std::vector<int> padding_hi, std::vector<int> kernel_dilation, std::vector<int> input_dilation,
                   int groups, bool flip, StreamOrDevice s) {
  check_inputs(in, wt, groups);
  const int nsp = in.ndim() - 2;
  ConvGeometry g;
  g.stride = per_axis(std::move(stride), nsp, 1, "stride");
  g.padding_lo = per_axis(std::move(padding_lo), nsp, 0, "padding");
  g.padding_hi = per_axis(std::move(padding_hi), nsp, 0, "padding");
  g.kernel_dilation = per_axis(std::move(kernel_dilation), nsp, 1, "kernel dilation");
  g.input_dilation = per_axis(std::move(input_dilation), nsp, 1, "input dilation");
  g.groups = groups;
  g.flip = flip;
  const Dtype t = promote_types(in.dtype(), wt.dtype());
  const Stream st = to_stream(s);
  return forward_node(astype(in, t, st), astype(wt, t, st), g, st);
}

array conv1d(const array& in, const array& wt, int stride, int padding, int dilation, int groups, StreamOrDevice s) {
  return conv_general(in, wt, {stride}, {padding}, {padding}, {dilation}, {1}, groups, false, s);
}

array conv2d(const array& in, const array& wt, const std::pair<int, int>& stride, const std::pair<int, int>& padding,
             const std::pair<int, int>& dilation, int groups, StreamOrDevice s) {
  return conv_general(in, wt, {stride.first, stride.second}, {padding.first, padding.second},
                      {padding.first, padding.second}, {dilation.first, dilation.second}, {1, 1}, groups, false, s);
}

array conv3d(const array& in, const array& wt, const std::tuple<int, int, int>& stride,
             const std::tuple<int, int, int>& padding, const std::tuple<int, int, int>& dilation, int groups,
             StreamOrDevice s) {
  auto v = [](const std::tuple<int, int, int>& t) {
    return std::vector<int>{std::get<0>(t), std::get<1>(t), std::get<2>(t)};
  };
  return conv_general(in, wt, v(stride), v(padding), v(padding), v(dilation), {1, 1, 1}, groups, false, s);
}

array conv_transpose1d(const array& in, const array& wt, int stride, int padding, int dilation, int output_padding,
                       int groups, StreamOrDevice s) {
  if (in.ndim() != 3) {
    throw std::invalid_argument("[conv_transpose1d] the input of shape " + shape_string(in.shape()) +
                                " must be (N, L, C_in)");
  }
  return conv_transpose_general(in, wt, {stride}, {padding}, {dilation}, {output_padding}, groups, s);
}

array conv_transpose2d(const array& in, const array& wt, const std::pair<int, int>& stride,
                       const std::pair<int, int>& padding, const std::pair<int, int>& dilation,
                       const std::pair<int, int>& output_padding, int groups, StreamOrDevice s) {
  if (in.ndim() != 4) {
    throw std::invalid_argument("[conv_transpose2d] the input of shape " + shape_string(in.shape()) +
                                " must be (N, H, W, C_in)");
  }
  return conv_transpose_general(in, wt, {stride.first, stride.second}, {padding.first, padding.second},
                                {dilation.first, dilation.second}, {output_padding.first, output_padding.second},
                                groups, s);
}

array conv_transpose3d(const array& in, const array& wt, const std::tuple<int, int, int>& stride,
                       const std::tuple<int, int, int>& padding, const std::tuple<int, int, int>& dilation,
                       const std::tuple<int, int, int>& output_padding, int groups, StreamOrDevice s) {
  if (in.ndim() != 5) {
    throw std::invalid_argument("[conv_transpose3d] the input of shape " + shape_string(in.shape()) +
                                " must be (N, D, H, W, C_in)");
  }
  auto v = [](const std::tuple<int, int, int>& t) {
    return std::vector<int>{std::get<0>(t), std::get<1>(t), std::get<2>(t)};
  };
  return conv_transpose_general(in, wt, v(stride), v(padding), v(dilation), v(output_padding), groups, s);
}

array convolve(const array& a, const array& v, const std::string& mode, StreamOrDevice s) {
  if (a.ndim() != 1 || v.ndim() != 1) {
    throw std::invalid_argument("[convolve] inputs must be 1-D, got " + shape_string(a.shape()) + " and " +
                                shape_string(v.shape()));
  }
  if (a.size() == 0 || v.size() == 0) {
    throw std::invalid_argument("[convolve] inputs must not be empty, got " + shape_string(a.shape()) + " and " +
                                shape_string(v.shape()));
  }
  const Stream st = to_stream(s);
  const bool swap = a.size() < v.size();
  const array& in = swap ? v : a;
  const array& k = swap ? a : v;
  const int m = k.shape(0);
  int lo = 0, hi = 0;
  if (mode == "full") {
    lo = hi = m - 1;
  } else if (mode == "same") {
    lo = m / 2;  // NumPy centres an even kernel one position to the left
    hi = m - 1 - lo;
  } else if (mode != "valid") {
    throw std::invalid_argument("[convolve] mode must be \"full\", \"same\" or \"valid\", got \"" + mode + "\"");
  }
  // conv_general correlates; flip = true convolves.
  array out = conv_general(reshape(in, {1, in.shape(0), 1}, st), reshape(k, {1, m, 1}, st), {1}, {lo}, {hi}, {1},
                           {1}, 1, true, st);
  return reshape(out, {out.shape(1)}, st);
}

bool Convolution::is_equivalent(const Primitive& other) const {
  auto* o = dynamic_cast<const Convolution*>(&other);
  return o && o->g_ == g_ && o->mode_ == mode_ && o->weight_shape_ == weight_shape_;
}

std::vector<array> Convolution::vjp(const std::vector<array>& primals, const std::vector<array>& cotangents,
                                    const std::vector<int>& argnums, const std::vector<array>&) {
  const Stream& s = stream();
  const array& x = primals[0];
  const array& ct = cotangents[0];
  std::vector<array> out;
  for (int i : argnums) {
    if (mode_ == Forward) {
      // primals (x, w), ct = dy.
      out.push_back(i == 0 ? input_grad(ct, primals[1], x.shape(), g_, s)
                           : weight_grad_node(x, ct, primals[1].shape(), g_, s));
    } else {
      // primals (x, dy) -> dw = WeightGrad(x, dy), linear in each; ct has dw's shape.
      out.push_back(i == 0 ? input_grad(primals[1], ct, x.shape(), g_, s) : forward_node(x, ct, g_, s));
    }
  }
  return out;
}

std::vector<array> Convolution::jvp(const std::vector<array>& primals, const std::vector<array>& tangents,
                                    const std::vector<int>& argnums) {
  const Stream& s = stream();
  std::optional<array> out;
  for (size_t k = 0; k < argnums.size(); ++k) {
    std::vector<array> args = primals;
    args[argnums[k]] = tangents[k];
    array term = mode_ == Forward ? forward_node(args[0], args[1], g_, s)
                                  : weight_grad_node(args[0], args[1], weight_shape_, g_, s);
    out = out ? add(*out, term, s) : term;
  }
  return {*out};
}

// Batching: a batch of inputs only (Forward) joins the images; otherwise the batch is folded
// into the channels, each batch entry becoming `groups` more groups (a shared operand is
// broadcast along the batch first).
std::pair<std::vector<array>, std::vector<int>> Convolution::vmap(const std::vector<array>& in,
                                                                  const std::vector<int>& axes) {
  const Stream& s = stream();
  const int batch = batching::batch_size(in, axes, name());
  if (mode_ == Forward && axes[1] < 0) {
    array x = batching::to_front(in[0], axes[0], s);
    Shape merged(x.shape().begin() + 1, x.shape().end());
    merged[0] *= batch;
    array y = forward_node(reshape(x, merged, s), in[1], g_, s);
    Shape split{batch, x.shape(1)};
    split.insert(split.end(), y.shape().begin() + 1, y.shape().end());
    return {{reshape(y, split, s)}, {0}};
  }
  array a = batch_into_channels(batching::with_batch_in_front(in[0], axes[0], batch, s), s);
  const ConvGeometry g = batched_groups(g_, batch);
  if (mode_ == Forward) {
    array w = batching::with_batch_in_front(in[1], axes[1], batch, s);
    Shape merged(w.shape().begin() + 1, w.shape().end());
    merged[0] *= batch;
    array y = forward_node(a, reshape(w, merged, s), g, s);
    return {{channels_into_batch(y, batch, s)}, {y.ndim() - 1}};
  }
  array dy = batch_into_channels(batching::with_batch_in_front(in[1], axes[1], batch, s), s);
  Shape w_shape = weight_shape_;
  w_shape[0] *= batch;
  array dw = weight_grad_node(a, dy, w_shape, g, s);
  Shape split{batch, weight_shape_[0]};
  split.insert(split.end(), weight_shape_.begin() + 1, weight_shape_.end());
  return {{reshape(dw, split, s)}, {0}};
}

}  // namespace tessera
