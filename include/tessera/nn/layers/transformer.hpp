#pragma once
// MultiHeadAttention and the Transformer family, as mlx.nn's (python/mlx/nn/layers/transformer.py):
// the same sub-module names (query_proj, key_proj, value_proj, out_proj; attention, ln1, ln2,
// linear1, linear2; self_attention, cross_attention, ln3; layers, ln; encoder, decoder), so MLX
// weights load by name, and the same formulas, pre-norm or post-norm.
//
//   nn::MultiHeadAttention mha(64, 8);
//   array mask = nn::MultiHeadAttention::create_additive_causal_mask(L);
//   array y = mha(x, x, x, mask);                               // (N, L, 64)
//
//   nn::Transformer model({.dims = 64, .num_heads = 4, .num_encoder_layers = 2, .num_decoder_layers = 2});
//   array out = model(src, tgt, std::nullopt, tgt_mask, std::nullopt);
//
// Attention is composed from ops (Tessera has no fused kernel for it yet): the scores are one
// batched matmul, the mask is added (or selected, for a boolean mask), softmax runs in float32
// for 16-bit inputs (MLX's `precise` softmax inside scaled_dot_product_attention), and a second
// matmul gathers the values.
#include <cmath>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tessera/nn/activations.hpp"
#include "tessera/nn/layers/dropout.hpp"
#include "tessera/nn/layers/linear.hpp"
#include "tessera/nn/layers/normalization.hpp"
#include "tessera/ops/creation.hpp"
#include "tessera/ops/matmul.hpp"
#include "tessera/ops/rearrange.hpp"
#include "tessera/ops/reduce.hpp"
#include "tessera/ops/shape.hpp"
#include "tessera/transforms/custom.hpp"

namespace tessera::nn {

// The keyword arguments of MultiHeadAttention after (dims, num_heads). An absent size takes
// MLX's default: dims, except value_input_dims, which defaults to key_input_dims.
struct MultiHeadAttentionOptions {
  std::optional<int> query_input_dims = std::nullopt;
  std::optional<int> key_input_dims = std::nullopt;
  std::optional<int> value_input_dims = std::nullopt;
  std::optional<int> value_dims = std::nullopt;
  std::optional<int> value_output_dims = std::nullopt;
  bool bias = false;
};

namespace detail {
inline int check_heads(int dims, int num_heads) {
  check_positive("MultiHeadAttention", "dims", dims);
  check_positive("MultiHeadAttention", "num_heads", num_heads);
  if (dims % num_heads != 0) {
    throw std::invalid_argument("[MultiHeadAttention] dims (" + std::to_string(dims) +
                                ") must be divisible by num_heads (" + std::to_string(num_heads) + ")");
  }
  return dims;
}
inline int option_dims(const std::optional<int>& v, int fallback, const char* what) {
  const int d = v.value_or(fallback);
  check_positive("MultiHeadAttention", what, d);
  return d;
}
}  // namespace detail

// Scaled dot-product attention over `num_heads` heads, with linear projections of the queries,
// keys and values in front and of the result behind (no biases by default).
//
// Inputs are (..., L, features): (N, L, D) as in MLX, or unbatched (L, D). The optional mask
// broadcasts against the scores, (..., num_heads, L_queries, L_keys): an additive float mask
// (-inf or a very negative number where attention is not allowed), or a boolean mask (true
// where it is allowed), as mx.fast.scaled_dot_product_attention takes.
class MultiHeadAttention : public Module {
 public:
  Linear query_proj, key_proj, value_proj, out_proj;

  MultiHeadAttention(int dims, int num_heads, const MultiHeadAttentionOptions& o = {})
      : query_proj(detail::option_dims(o.query_input_dims, detail::check_heads(dims, num_heads), "query_input_dims"),
                   dims, o.bias),
        key_proj(detail::option_dims(o.key_input_dims, dims, "key_input_dims"), dims, o.bias),
        value_proj(detail::option_dims(o.value_input_dims, o.key_input_dims.value_or(dims), "value_input_dims"),
                   detail::option_dims(o.value_dims, dims, "value_dims"), o.bias),
        out_proj(detail::option_dims(o.value_dims, dims, "value_dims"),
                 detail::option_dims(o.value_output_dims, dims, "value_output_dims"), o.bias),
        num_heads_(num_heads) {
    // MLX would fail later, inside the reshape to heads; say so here.
    if (value_proj.weight.shape(0) % num_heads != 0) {
      throw std::invalid_argument("[MultiHeadAttention] value_dims (" + std::to_string(value_proj.weight.shape(0)) +
                                  ") must be divisible by num_heads (" + std::to_string(num_heads) + ")");
    }
    register_module("query_proj", query_proj);
    register_module("key_proj", key_proj);
    register_module("value_proj", value_proj);
    register_module("out_proj", out_proj);
  }
  std::string name() const override { return "MultiHeadAttention"; }
  int num_heads() const { return num_heads_; }

  array operator()(const array& queries, const array& keys, const array& values,
                   const std::optional<array>& mask = std::nullopt) const {
    check_inputs(queries, keys, values);
    // (..., L, h * d) -> (..., h, L, d): each head attends on its own slice of the features.
    auto heads = [&](const array& x) { return swapaxes(unflatten(x, -1, {num_heads_, -1}), -3, -2); };
    array q = heads(query_proj(queries));
    array k = heads(key_proj(keys));
    array v = heads(value_proj(values));

    // Scaling q before the product (as MLX's fallback does) keeps the scores' magnitude small in
    // 16-bit types; the constant is made in q's dtype so it does not widen it.
    const double scale = std::sqrt(1.0 / q.shape(-1));
    array scores = matmul(q * array(scale, q.dtype()), swapaxes(k, -1, -2));
    if (mask) {
      check_mask(*mask, scores.shape());
      scores = mask->dtype() == bool_
                   ? where(*mask, scores, array(finfo(scores.dtype()).min, scores.dtype()))
                   : array(scores + astype(*mask, scores.dtype()));
    }
    scores = tessera::softmax(scores, scores.ndim() - 1, /*precise=*/true);
    array out = matmul(scores, v);
    // (..., h, L, d) -> (..., L, h * d)
    return out_proj(flatten(swapaxes(out, -3, -2), -2, -1));
  }

  // (N, N): 0 where query i may attend key j (j <= i), the most negative finite value of
  // `dtype` where it may not (a finite value: a row of -inf would make softmax NaN).
  static array create_additive_causal_mask(int N, Dtype dtype = float32) {
    const array idx = arange(N);
    const array future = expand_dims(idx, 1) < expand_dims(idx, 0);
    return astype(future, dtype) * array(finfo(dtype).min, dtype);
  }

 private:
  void check_inputs(const array& q, const array& k, const array& v) const {
    auto check = [](const char* what, const array& x, int features) {
      if (x.ndim() < 2 || x.shape(-1) != features) {
        throw std::invalid_argument(std::string("[MultiHeadAttention] ") + what + " of shape " +
                                    shape_string(x.shape()) + " must be (..., L, " + std::to_string(features) + ")");
      }
    };
    check("queries", q, query_proj.weight.shape(1));
    check("keys", k, key_proj.weight.shape(1));
    check("values", v, value_proj.weight.shape(1));
    if (k.shape(-2) != v.shape(-2)) {
      throw std::invalid_argument("[MultiHeadAttention] keys " + shape_string(k.shape()) + " and values " +
                                  shape_string(v.shape()) + " must have the same sequence length");
    }
    auto batch = [](const array& x) { return Shape(x.shape().begin(), x.shape().end() - 2); };
    if (batch(q) != batch(k) || batch(k) != batch(v)) {
      throw std::invalid_argument("[MultiHeadAttention] queries " + shape_string(q.shape()) + ", keys " +
                                  shape_string(k.shape()) + " and values " + shape_string(v.shape()) +
                                  " must have the same batch dimensions");
    }
  }
  static void check_mask(const array& mask, const Shape& scores) {
    if (mask.ndim() > static_cast<int>(scores.size()) || !broadcasts_to(mask.shape(), scores)) {
      throw std::invalid_argument("[MultiHeadAttention] the mask of shape " + shape_string(mask.shape()) +
                                  " does not broadcast to the attention scores " + shape_string(scores) +
                                  " (..., num_heads, queries, keys)");
    }
  }

  int num_heads_;
};

// The activation of the Transformer's MLP blocks (MLX's default: relu).
using TransformerActivation = std::function<array(const array&)>;

namespace detail {
inline TransformerActivation default_activation() {
  return [](const array& x) { return nn::relu(x); };
}

// MLX's nn.utils.checkpoint(layer): runs `call(layer, args)` under tessera::checkpoint with the
// layer's trainable parameters as extra inputs, so that the backward pass recomputes the layer's
// intermediates instead of keeping them and the gradient still reaches the parameters. The
// parameters are swapped in for each (re)computation and put back after; the layer must stay
// where it is until the gradient has been computed (it is captured by reference).
template <typename Layer, typename Call>
array checkpointed(Layer& layer, const std::vector<array>& args, Call call) {
  const auto params = tree::flatten_arrays(layer.trainable_parameters());
  std::vector<std::string> names;
  std::vector<array> inputs = args;
  for (auto& [k, v] : params) {
    names.push_back(k);
    inputs.push_back(v);
  }
  const size_t nargs = args.size();
  auto fn = [&layer, names, nargs, call](const std::vector<array>& in) {
    const Tree saved = layer.parameters();
    std::vector<std::pair<std::string, array>> items;
    for (size_t i = 0; i < names.size(); ++i) items.emplace_back(names[i], in[nargs + i]);
    layer.update(tree::unflatten(items), false);
    std::vector<array> out;
    try {
      out = {call(layer, std::vector<array>(in.begin(), in.begin() + nargs))};
    } catch (...) {
      layer.update(saved, false);
      throw;
    }
    layer.update(saved, false);
    return out;
  };
  return tessera::checkpoint(fn)(inputs)[0];
}

// The optional masks travel as extra arguments of a checkpointed call; this reads them back.
inline std::optional<array> arg_or_none(const std::vector<array>& args, size_t i, bool present) {
  return present ? std::optional<array>(args.at(i)) : std::nullopt;
}
}  // namespace detail

// Self-attention and an MLP, each with a residual connection. norm_first (pre-norm):
//   x = x + attention(ln1(x));  y = x + linear2(activation(linear1(ln2(x))))
// otherwise (post-norm, the original Transformer's):
//   x = ln1(x + attention(x));  y = ln2(x + linear2(activation(linear1(x))))
// with dropout after the attention and after the activation.
class TransformerEncoderLayer : public Module {
 public:
  MultiHeadAttention attention;
  LayerNorm ln1, ln2;
  Linear linear1, linear2;
  Dropout dropout1, dropout2;

  TransformerEncoderLayer(int dims, int num_heads, std::optional<int> mlp_dims = std::nullopt, float dropout = 0.0f,
                          TransformerActivation activation = detail::default_activation(), bool norm_first = true)
      : attention(dims, num_heads),
        ln1(dims),
        ln2(dims),
        linear1(dims, mlp_dims.value_or(4 * dims)),
        linear2(mlp_dims.value_or(4 * dims), dims),
        dropout1(dropout),
        dropout2(dropout),
        activation_(activation ? std::move(activation) : detail::default_activation()),
        norm_first_(norm_first) {
    register_module("attention", attention);
    register_module("ln1", ln1);
    register_module("ln2", ln2);
    register_module("linear1", linear1);
    register_module("linear2", linear2);
    register_module("dropout1", dropout1);
    register_module("dropout2", dropout2);
  }
  std::string name() const override { return "TransformerEncoderLayer"; }

  array operator()(const array& x, const std::optional<array>& mask = std::nullopt) const {
    detail::check_features("TransformerEncoderLayer", x, attention.query_proj.weight.shape(1));
    if (norm_first_) {
      array y = ln1(x);
      array h = x + dropout1(attention(y, y, y, mask));
      y = linear2(dropout2(activation_(linear1(ln2(h)))));
      return h + y;
    }
    array h = ln1(x + dropout1(attention(x, x, x, mask)));
    array y = linear2(dropout2(activation_(linear1(h))));
    return ln2(h + y);
  }
  array forward(const array& x) override { return (*this)(x); }

 private:
  TransformerActivation activation_;
  bool norm_first_;
};

// Self-attention over the target, cross-attention to the encoder's output (`memory`) and an
// MLP, each with a residual connection; pre-norm or post-norm as the encoder layer.
class TransformerDecoderLayer : public Module {
 public:
  MultiHeadAttention self_attention, cross_attention;
  LayerNorm ln1, ln2, ln3;
  Linear linear1, linear2;
  Dropout dropout1, dropout2, dropout3;

  TransformerDecoderLayer(int dims, int num_heads, std::optional<int> mlp_dims = std::nullopt, float dropout = 0.0f,
                          TransformerActivation activation = detail::default_activation(), bool norm_first = true)
      : self_attention(dims, num_heads),
        cross_attention(dims, num_heads),
        ln1(dims),
        ln2(dims),
        ln3(dims),
        linear1(dims, mlp_dims.value_or(4 * dims)),
        linear2(mlp_dims.value_or(4 * dims), dims),
        dropout1(dropout),
        dropout2(dropout),
        dropout3(dropout),
        activation_(activation ? std::move(activation) : detail::default_activation()),
        norm_first_(norm_first) {
    register_module("self_attention", self_attention);
    register_module("cross_attention", cross_attention);
    register_module("ln1", ln1);
    register_module("ln2", ln2);
    register_module("ln3", ln3);
    register_module("linear1", linear1);
    register_module("linear2", linear2);
    register_module("dropout1", dropout1);
    register_module("dropout2", dropout2);
    register_module("dropout3", dropout3);
  }
  std::string name() const override { return "TransformerDecoderLayer"; }

  array operator()(const array& x, const array& memory, const std::optional<array>& x_mask = std::nullopt,
                   const std::optional<array>& memory_mask = std::nullopt) const {
    detail::check_features("TransformerDecoderLayer", x, self_attention.query_proj.weight.shape(1));
    detail::check_features("TransformerDecoderLayer", memory, cross_attention.key_proj.weight.shape(1));
    if (norm_first_) {
      array y = ln1(x);
      array h = x + dropout1(self_attention(y, y, y, x_mask));
      y = ln2(h);
      h = h + dropout2(cross_attention(y, memory, memory, memory_mask));
      y = linear2(dropout3(activation_(linear1(ln3(h)))));
      return h + y;
    }
    array h = ln1(x + dropout1(self_attention(x, x, x, x_mask)));
    h = ln2(h + dropout2(cross_attention(h, memory, memory, memory_mask)));
    array y = linear2(dropout3(activation_(linear1(h))));
    return ln3(h + y);
  }

 private:
  TransformerActivation activation_;
  bool norm_first_;
};

// What nn::Transformer calls as its encoder and decoder. TransformerEncoder and
// TransformerDecoder are ones; a custom encoder or decoder derives from these.
class EncoderModule : public Module {
 public:
  virtual array operator()(const array& src, const std::optional<array>& src_mask) = 0;
};
class DecoderModule : public Module {
 public:
  virtual array operator()(const array& tgt, const array& memory, const std::optional<array>& tgt_mask,
                           const std::optional<array>& memory_mask) = 0;
};

// `num_layers` encoder layers and a final LayerNorm. With `checkpoint`, each layer's
// intermediates are recomputed in the backward pass instead of kept (less memory, more work).
class TransformerEncoder : public EncoderModule {
 public:
  std::vector<TransformerEncoderLayer> layers;
  LayerNorm ln;

  TransformerEncoder(int num_layers, int dims, int num_heads, std::optional<int> mlp_dims = std::nullopt,
                     float dropout = 0.0f, TransformerActivation activation = detail::default_activation(),
                     bool norm_first = true, bool checkpoint = false)
      : ln(dims), checkpoint_(checkpoint) {
    if (num_layers < 0) {
      throw std::invalid_argument("[TransformerEncoder] num_layers must not be negative, got " +
                                  std::to_string(num_layers));
    }
    for (int i = 0; i < num_layers; ++i) layers.emplace_back(dims, num_heads, mlp_dims, dropout, activation, norm_first);
    register_modules("layers", layers);
    register_module("ln", ln);
  }
  std::string name() const override { return "TransformerEncoder"; }

  array operator()(const array& x, const std::optional<array>& mask = std::nullopt) override {
    array y = x;
    for (auto& l : layers) {
      if (!checkpoint_) {
        y = l(y, mask);
        continue;
      }
      std::vector<array> args{y};
      if (mask) args.push_back(*mask);
      const bool has_mask = mask.has_value();
      y = detail::checkpointed(l, args, [has_mask](TransformerEncoderLayer& layer, const std::vector<array>& a) {
        return layer(a[0], detail::arg_or_none(a, 1, has_mask));
      });
    }
    return ln(y);
  }
  array forward(const array& x) override { return (*this)(x); }

 private:
  bool checkpoint_;
};

// `num_layers` decoder layers and a final LayerNorm; `checkpoint` as the encoder's.
class TransformerDecoder : public DecoderModule {
 public:
  std::vector<TransformerDecoderLayer> layers;
  LayerNorm ln;

  TransformerDecoder(int num_layers, int dims, int num_heads, std::optional<int> mlp_dims = std::nullopt,
                     float dropout = 0.0f, TransformerActivation activation = detail::default_activation(),
                     bool norm_first = true, bool checkpoint = false)
      : ln(dims), checkpoint_(checkpoint) {
    if (num_layers < 0) {
      throw std::invalid_argument("[TransformerDecoder] num_layers must not be negative, got " +
                                  std::to_string(num_layers));
    }
    for (int i = 0; i < num_layers; ++i) layers.emplace_back(dims, num_heads, mlp_dims, dropout, activation, norm_first);
    register_modules("layers", layers);
    register_module("ln", ln);
  }
  std::string name() const override { return "TransformerDecoder"; }

  array operator()(const array& x, const array& memory, const std::optional<array>& x_mask = std::nullopt,
                   const std::optional<array>& memory_mask = std::nullopt) override {
    array y = x;
    for (auto& l : layers) {
      if (!checkpoint_) {
        y = l(y, memory, x_mask, memory_mask);
        continue;
      }
      std::vector<array> args{y, memory};
      if (x_mask) args.push_back(*x_mask);
      if (memory_mask) args.push_back(*memory_mask);
      const bool has_x = x_mask.has_value(), has_m = memory_mask.has_value();
      y = detail::checkpointed(l, args, [has_x, has_m](TransformerDecoderLayer& layer, const std::vector<array>& a) {
        return layer(a[0], a[1], detail::arg_or_none(a, 2, has_x), detail::arg_or_none(a, has_x ? 3 : 2, has_m));
      });
    }
    return ln(y);
  }

 private:
  bool checkpoint_;
};

// The arguments of nn::Transformer, in MLX's order (so designated initialisers read as MLX's
// keywords): nn::Transformer({.dims = 256, .num_heads = 4, .norm_first = false}).
struct TransformerOptions {
  int dims = 512;
  int num_heads = 8;
  int num_encoder_layers = 6;
  int num_decoder_layers = 6;
  std::optional<int> mlp_dims = std::nullopt;  // 4 * dims
  float dropout = 0.0f;
  TransformerActivation activation = detail::default_activation();
  std::shared_ptr<EncoderModule> custom_encoder = nullptr;  // replaces the standard encoder when set
  std::shared_ptr<DecoderModule> custom_decoder = nullptr;  // replaces the standard decoder when set
  bool norm_first = true;
  bool checkpoint = false;
};

// An encoder over the source and a decoder over the target that attends to the encoder's
// output. The encoder and decoder are held by shared pointers (a custom one is the caller's
// object): copies of a Transformer share them, as Python references do.
class Transformer : public Module {
 public:
  std::shared_ptr<EncoderModule> encoder;
  std::shared_ptr<DecoderModule> decoder;

  explicit Transformer(const TransformerOptions& o = {})
      : encoder(o.custom_encoder ? o.custom_encoder
                                 : std::make_shared<TransformerEncoder>(o.num_encoder_layers, o.dims, o.num_heads,
                                                                        o.mlp_dims, o.dropout, o.activation,
                                                                        o.norm_first, o.checkpoint)),
        decoder(o.custom_decoder ? o.custom_decoder
                                 : std::make_shared<TransformerDecoder>(o.num_decoder_layers, o.dims, o.num_heads,
                                                                        o.mlp_dims, o.dropout, o.activation,
                                                                        o.norm_first, o.checkpoint)) {
    register_module("encoder", encoder);
    register_module("decoder", decoder);
  }
  std::string name() const override { return "Transformer"; }

  array operator()(const array& src, const array& tgt, const std::optional<array>& src_mask = std::nullopt,
                   const std::optional<array>& tgt_mask = std::nullopt,
                   const std::optional<array>& memory_mask = std::nullopt) {
    const array memory = (*encoder)(src, src_mask);
    return (*decoder)(tgt, memory, tgt_mask, memory_mask);
  }
};

}  // namespace tessera::nn
