// oneDNN's direct convolution for the CPU kernel of Convolution (see conv_onednn.hpp).
//
// Tensors are described in Tessera's own layouts, so activations are never reordered: the
// input and output as nwc / nhwc / ndhwc, the weight (C_out, kernel..., C_in / G) as owi /
// ohwi / odhwi, or gowi / gohwi / godhwi with groups. oneDNN picks the weight layout its
// kernel wants (format `any`); the weight (or the weight gradient) is reordered to or from
// it, which costs little beside the convolution. flip (a true convolution) reverses the taps:
// every spatial axis flipped is the flattened tap index reversed, done on the weight before
// (Forward) or on the gradient after (WeightGrad). oneDNN keeps built primitives in its own
// cache, and Tessera keeps the primitives of each geometry it has seen, so a repeated geometry
// costs neither JIT compilation nor a new choice of implementation.
#include "backend/cpu/conv_onednn.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
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

// What one geometry needs, built once: the primitives, and whether the weight (gradient) is
// reordered between Tessera's layout and the one the kernel chose.
struct Prepared {
  dnnl::memory::desc src_md, dst_md, w_user_md, w_kernel_md;
  dnnl::primitive conv;
  dnnl::primitive reorder;  // w: user -> kernel (Forward); dw: kernel -> user (WeightGrad)
  bool reordered = false;
};

// Geometries seen, by their numbers (built primitives also sit in oneDNN's own cache, but
// choosing an implementation again costs more than the convolution of a small input).
std::shared_ptr<const Prepared> prepare(const conv_plan::Plan& p, int nsp, const ConvGeometry& g,
                                        Convolution::Mode mode) {
  std::vector<int64_t> key{mode, nsp, g.groups, p.N, p.C, p.cout};
  for (int d = 0; d < nsp; ++d) {
    key.insert(key.end(), {p.in[d], p.out[d], p.k[d], p.stride[d], p.kdil[d], g.padding_lo[d], g.padding_hi[d]});
  }
  static std::mutex mutex;
  static std::map<std::vector<int64_t>, std::shared_ptr<const Prepared>> cache;
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = cache.find(key);
    if (it != cache.end()) return it->second;
  }
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
  auto prep = std::make_shared<Prepared>();
  prep->src_md = dnnl::memory::desc(src_dims, f32, act);
  prep->dst_md = dnnl::memory::desc(dst_dims, f32, act);
  prep->w_user_md = dnnl::memory::desc(w_dims, f32, wtag);
  const dnnl::memory::desc w_any(w_dims, f32, tag::any);
  // Forward alone needs no training state; the weight gradient's kernel takes a training
  // forward as its hint.
  const auto prop = mode == Convolution::Forward ? dnnl::prop_kind::forward_inference : dnnl::prop_kind::forward_training;
  dnnl::convolution_forward::desc fwd_desc(prop, dnnl::algorithm::convolution_direct,
                                           prep->src_md, w_any, prep->dst_md, strides, dilates, pad_l, pad_r);
  dnnl::convolution_forward::primitive_desc fwd_pd(fwd_desc, engine());
  if (mode == Convolution::Forward) {
    prep->w_kernel_md = fwd_pd.weights_desc();
    prep->conv = dnnl::convolution_forward(fwd_pd);
    prep->reordered = prep->w_kernel_md != prep->w_user_md;
    if (prep->reordered) {
      prep->reorder = dnnl::reorder(dnnl::reorder::primitive_desc(engine(), prep->w_user_md, engine(), prep->w_kernel_md));
    }
  } else {
    dnnl::convolution_backward_weights::desc bwd_desc(dnnl::algorithm::convolution_direct, prep->src_md, w_any,
                                                      prep->dst_md, strides, dilates, pad_l, pad_r);
    dnnl::convolution_backward_weights::primitive_desc bwd_pd(bwd_desc, engine(), fwd_pd);
    prep->w_kernel_md = bwd_pd.diff_weights_desc();
    prep->conv = dnnl::convolution_backward_weights(bwd_pd);
    prep->reordered = prep->w_kernel_md != prep->w_user_md;
    if (prep->reordered) {
      prep->reorder = dnnl::reorder(dnnl::reorder::primitive_desc(engine(), prep->w_kernel_md, engine(), prep->w_user_md));
    }
  }
  std::lock_guard<std::mutex> lock(mutex);
  if (cache.size() >= 256) cache.clear();
  cache.emplace(key, prep);
  return prep;
}

}  // namespace

bool onednn_conv(const conv_plan::Plan& p, int nsp, const ConvGeometry& g, Convolution::Mode mode, const float* x,
                 const float* second, float* out) {
  for (int d = 0; d < nsp; ++d) {
    if (g.input_dilation[d] != 1 || g.padding_lo[d] < 0 || g.padding_hi[d] < 0) return false;
  }
  if (p.cig == 0 || p.cog == 0) return false;
  const int64_t w_elems = static_cast<int64_t>(p.cout) * p.cols;
  try {
    std::shared_ptr<const Prepared> prep = prepare(p, nsp, g, mode);
    dnnl::stream& s = stream();
    const dnnl::engine& e = engine();
    dnnl::memory src(prep->src_md, e, const_cast<float*>(x));
    std::vector<float> flipped;
    if (g.flip) flipped.resize(static_cast<size_t>(w_elems));
    if (mode == Convolution::Forward) {
      const float* w = second;
      if (g.flip) {
        reverse_taps(p, p.cout, w, flipped.data());
        w = flipped.data();
      }
      dnnl::memory w_user(prep->w_user_md, e, const_cast<float*>(w));
      dnnl::memory w_mem = w_user;
      if (prep->reordered) {
        w_mem = dnnl::memory(prep->w_kernel_md, e);
        prep->reorder.execute(s, {{DNNL_ARG_FROM, w_user}, {DNNL_ARG_TO, w_mem}});
      }
      dnnl::memory dst(prep->dst_md, e, out);
      prep->conv.execute(s, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, w_mem}, {DNNL_ARG_DST, dst}});
      s.wait();
    } else {
      dnnl::memory dy(prep->dst_md, e, const_cast<float*>(second));
      dnnl::memory dw_user(prep->w_user_md, e, g.flip ? flipped.data() : out);
      dnnl::memory dw_mem = prep->reordered ? dnnl::memory(prep->w_kernel_md, e) : dw_user;
      prep->conv.execute(s, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, dy}, {DNNL_ARG_DIFF_WEIGHTS, dw_mem}});
      if (prep->reordered) prep->reorder.execute(s, {{DNNL_ARG_FROM, dw_mem}, {DNNL_ARG_TO, dw_user}});
      s.wait();
      if (g.flip) reverse_taps(p, p.cout, flipped.data(), out);
    }
  } catch (const dnnl::error&) {
    return false;  // a geometry oneDNN has no kernel for: the im2col path takes it
  }
  return true;
}

}  // namespace tessera::cpu
