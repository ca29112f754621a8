// oneDNN's direct convolution for the CPU kernel of Convolution (see conv_onednn.hpp).
//
// Tensors are described in Tessera's own layouts, so activations are never reordered: the
// input and output as nwc / nhwc / ndhwc, the weight (C_out, kernel..., C_in / G) as owi /
// ohwi / odhwi, or gowi / gohwi / godhwi with groups. oneDNN picks the weight layout its
// kernel wants (format `any`); the weight (or the weight gradient) is reordered to or from
// it, which costs little beside the convolution. flip (a true convolution) reverses the taps:
// every spatial axis flipped is the flattened tap index reversed, done on the weight before
// (Forward) or on the gradient after (WeightGrad). oneDNN keeps built primitives in its own
// cache, so a repeated geometry costs no JIT compilation.
#include "backend/cpu/conv_onednn.hpp"

#include <algorithm>
#include <cstring>
#include <oneapi/dnnl/dnnl.hpp>
#include <vector>

namespace tessera::cpu {
namespace {

using dims = dnnl::memory::dims;
using tag = dnnl::memory::format_tag;

dnnl::engine& engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

// One stream per thread: a oneDNN stream is not to be used by two threads at once.
dnnl::stream& stream() {
  thread_local dnnl::stream s(engine());
  return s;
}

// w[co][tap][ci] -> out[co][taps - 1 - tap][ci].
void reverse_taps(const conv_plan::Plan& p, int64_t rows, const float* w, float* out) {
  const size_t run = static_cast<size_t>(p.cig) * sizeof(float);
  for (int64_t co = 0; co < rows; ++co) {
    for (int t = 0; t < p.taps; ++t) {
      std::memcpy(out + (co * p.taps + (p.taps - 1 - t)) * p.cig, w + (co * p.taps + t) * p.cig, run);
    }
  }
}

}  // namespace

bool onednn_conv(const conv_plan::Plan& p, int nsp, const ConvGeometry& g, Convolution::Mode mode, const float* x,
                 const float* second, float* out) {
  for (int d = 0; d < nsp; ++d) {
    if (g.input_dilation[d] != 1 || g.padding_lo[d] < 0 || g.padding_hi[d] < 0) return false;
  }
  if (p.cig == 0 || p.cog == 0) return false;
  dims src_dims{p.N, p.C}, dst_dims{p.N, p.cout}, w_dims, strides, dilates, pad_l, pad_r;
  if (g.groups > 1) {
    w_dims = {g.groups, p.cog, p.cig};
  } else {
    w_dims = {p.cout, p.cig};
  }
  for (int d = 0; d < nsp; ++d) {
    src_dims.push_back(p.in[d]);
    dst_dims.push_back(p.out[d]);
    w_dims.push_back(p.k[d]);
    strides.push_back(p.stride[d]);
    dilates.push_back(p.kdil[d] - 1);
    pad_l.push_back(g.padding_lo[d]);
    pad_r.push_back(g.padding_hi[d]);
  }
  const tag act = nsp == 1 ? tag::nwc : nsp == 2 ? tag::nhwc : tag::ndhwc;
  const tag wtag = g.groups > 1 ? (nsp == 1 ? tag::gowi : nsp == 2 ? tag::gohwi : tag::godhwi)
                                : (nsp == 1 ? tag::owi : nsp == 2 ? tag::ohwi : tag::odhwi);
  const auto f32 = dnnl::memory::data_type::f32;
  const dnnl::memory::desc src_md(src_dims, f32, act), dst_md(dst_dims, f32, act), w_user_md(w_dims, f32, wtag);
  const dnnl::memory::desc w_any(w_dims, f32, tag::any);
  const int64_t w_elems = static_cast<int64_t>(p.cout) * p.cols;
  try {
    dnnl::convolution_forward::desc fwd_desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                             src_md, w_any, dst_md, strides, dilates, pad_l, pad_r);
    dnnl::convolution_forward::primitive_desc fwd_pd(fwd_desc, engine());
    dnnl::stream& s = stream();
    dnnl::memory src(src_md, engine(), const_cast<float*>(x));
    std::vector<float> flipped;
    if (mode == Convolution::Forward) {
      const float* w = second;
      if (g.flip) {
        flipped.resize(static_cast<size_t>(w_elems));
        reverse_taps(p, p.cout, w, flipped.data());
        w = flipped.data();
      }
      dnnl::memory w_user(w_user_md, engine(), const_cast<float*>(w));
      dnnl::memory w_mem = w_user;
      if (fwd_pd.weights_desc() != w_user_md) {
        w_mem = dnnl::memory(fwd_pd.weights_desc(), engine());
        dnnl::reorder(w_user, w_mem).execute(s, w_user, w_mem);
      }
      dnnl::memory dst(dst_md, engine(), out);
      dnnl::convolution_forward(fwd_pd).execute(
          s, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, w_mem}, {DNNL_ARG_DST, dst}});
    } else {
      dnnl::convolution_backward_weights::desc bwd_desc(dnnl::algorithm::convolution_direct, src_md, w_any, dst_md,
                                                        strides, dilates, pad_l, pad_r);
      dnnl::convolution_backward_weights::primitive_desc bwd_pd(bwd_desc, engine(), fwd_pd);
      dnnl::memory dy(dst_md, engine(), const_cast<float*>(second));
      if (g.flip) flipped.resize(static_cast<size_t>(w_elems));
      dnnl::memory dw_user(w_user_md, engine(), g.flip ? flipped.data() : out);
      const bool reorder = bwd_pd.diff_weights_desc() != w_user_md;
      dnnl::memory dw_mem = reorder ? dnnl::memory(bwd_pd.diff_weights_desc(), engine()) : dw_user;
      dnnl::convolution_backward_weights(bwd_pd).execute(
          s, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, dy}, {DNNL_ARG_DIFF_WEIGHTS, dw_mem}});
      if (reorder) dnnl::reorder(dw_mem, dw_user).execute(s, dw_mem, dw_user);
      s.wait();
      if (g.flip) reverse_taps(p, p.cout, flipped.data(), out);
    }
    s.wait();
  } catch (const dnnl::error&) {
    return false;  // a geometry oneDNN has no kernel for: the im2col path takes it
  }
  return true;
}

}  // namespace tessera::cpu
