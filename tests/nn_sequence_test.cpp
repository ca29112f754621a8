// The sequence layers of nn/: RNN, GRU, LSTM (layers/recurrent.hpp), MultiHeadAttention and the
// Transformer family (layers/transformer.hpp), RoPE, SinusoidalPositionalEncoding and ALiBi
// (layers/positional_encoding.hpp). PyTorch / NumPy fixtures (tests/fixtures/nn_sequence.txt from
// gen_nn_sequence.py) on every device, with the weights loaded by MLX's parameter names; MLX's
// parameter layout and names; gradients through nn::value_and_grad against finite differences;
// bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "tessera/nn.hpp"
#include "tessera/tessera.hpp"
#include "test_util.hpp"

namespace {

using namespace tessera;
using namespace tessera::test;

std::vector<std::string> keys(const Tree& t) {
  std::vector<std::string> out;
  for (auto& [k, v] : tree::flatten_arrays(t)) out.push_back(k);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Fixtures. An op token is <what>#<args>: comma-separated numbers first, then flags ("h0",
// "nobias", ...) and key=value options.

struct Args {
  std::vector<std::string> fields;
  std::set<std::string> flags;
  std::map<std::string, int> options;
  explicit Args(const std::string& s) : fields(split_fields(s, ',')) {
    for (auto& f : fields) {
      const auto eq = f.find('=');
      if (eq != std::string::npos) options[f.substr(0, eq)] = std::stoi(f.substr(eq + 1));
      else flags.insert(f);
    }
  }
  int i(size_t k) const { return std::stoi(fields.at(k)); }
  float f(size_t k) const { return std::stof(fields.at(k)); }
  bool has(const std::string& flag) const { return flags.count(flag) > 0; }
  std::optional<int> option(const std::string& key) const {
    auto it = options.find(key);
    return it == options.end() ? std::nullopt : std::optional<int>(it->second);
  }
};

// Loads in[first..] into the module's parameters in the order of parameters() (the fixture's
// order, MLX's attribute order), by name.
void load_in_order(nn::Module& m, const std::vector<array>& in, size_t first) {
  const auto names = keys(m.parameters());
  if (in.size() - first != names.size()) {
    throw std::invalid_argument("[test] " + m.name() + " has " + std::to_string(names.size()) +
                                " parameters, the fixture " + std::to_string(in.size() - first));
  }
  std::vector<std::pair<std::string, array>> weights;
  for (size_t i = 0; i < names.size(); ++i) weights.emplace_back(names[i], in[first + i]);
  m.load_weights(weights);
}

array run_case(const std::string& what, const Args& a, const std::vector<array>& in) {
  if (what == "RNN") {
    nn::RNN::Nonlinearity relu;
    if (a.has("relu")) relu = [](const array& x) { return nn::relu(x); };
    nn::RNN l(a.i(0), a.i(1), !a.has("nobias"), relu);
    std::vector<std::pair<std::string, array>> w{{"Wxh", in[1]}, {"Whh", in[2]}};
    if (!a.has("nobias")) w.emplace_back("bias", in[3]);
    l.load_weights(w);
    return a.has("h0") ? l(in[0], in.back()) : l(in[0]);
  }
  if (what == "GRU") {
    nn::GRU l(a.i(0), a.i(1), !a.has("nobias"));
    std::vector<std::pair<std::string, array>> w{{"Wx", in[1]}, {"Wh", in[2]}};
    if (!a.has("nobias")) {
      w.emplace_back("b", in[3]);
      w.emplace_back("bhn", in[4]);
    }
    l.load_weights(w);
    return a.has("h0") ? l(in[0], in.back()) : l(in[0]);
  }
  if (what == "LSTM") {
    nn::LSTM l(a.i(0), a.i(1), !a.has("nobias"));
    std::vector<std::pair<std::string, array>> w{{"Wx", in[1]}, {"Wh", in[2]}};
    if (!a.has("nobias")) w.emplace_back("bias", in[3]);
    l.load_weights(w);
    auto [h, c] = a.has("h0") ? l(in[0], in[in.size() - 2], in.back()) : l(in[0]);
    return a.fields.at(2) == "hidden" ? h : c;
  }
  if (what == "MHA") {
    nn::MultiHeadAttention l(a.i(0), a.i(1),
                             {.query_input_dims = a.option("qd"), .key_input_dims = a.option("kd"),
                              .value_input_dims = a.option("vd"), .value_dims = a.option("vdims"),
                              .value_output_dims = a.option("vout"), .bias = a.has("bias")});
    std::vector<std::pair<std::string, array>> w;
    size_t next = 3;
    for (const char* p : {"query_proj", "key_proj", "value_proj", "out_proj"}) w.emplace_back(std::string(p) + ".weight", in[next++]);
    if (a.has("bias")) {
      for (const char* p : {"query_proj", "key_proj", "value_proj", "out_proj"}) w.emplace_back(std::string(p) + ".bias", in[next++]);
    }
    l.load_weights(w);
    std::optional<array> mask;
    if (a.has("causal")) mask = nn::MultiHeadAttention::create_additive_causal_mask(in[0].shape(-2));
    if (a.has("mask")) mask = in.at(next);
    if (a.has("boolmask")) mask = astype(in.at(next), bool_);
    return l(in[0], in[1], in[2], mask);
  }
  if (what == "EncoderLayer" || what == "Encoder") {
    const bool nf = a.fields.at(3) == "nf";
    const array mask = nn::MultiHeadAttention::create_additive_causal_mask(in[0].shape(-2));
    if (what == "EncoderLayer") {
      nn::TransformerEncoderLayer l(a.i(0), a.i(1), a.i(2), 0.0f, nn::relu, nf);
      load_in_order(l, in, 1);
      return l(in[0], mask);
    }
    nn::TransformerEncoder l(a.i(4), a.i(0), a.i(1), a.i(2), 0.0f, nn::relu, nf);
    load_in_order(l, in, 1);
    return l(in[0], mask);
  }
  if (what == "DecoderLayer") {
    nn::TransformerDecoderLayer l(a.i(0), a.i(1), a.i(2), 0.0f, nn::relu, a.fields.at(3) == "nf");
    load_in_order(l, in, 2);
    return l(in[0], in[1], nn::MultiHeadAttention::create_additive_causal_mask(in[0].shape(-2)));
  }
  if (what == "RoPE") return nn::RoPE(a.i(0), a.i(1) != 0, a.f(2), a.f(3))(in[0], a.i(4));
  if (what == "Sinusoidal") {
    std::optional<float> scale;
    if (a.fields.at(3) != "-") scale = a.f(3);
    return nn::SinusoidalPositionalEncoding(a.i(0), a.f(1), a.f(2), scale, a.i(4) != 0, a.i(5) != 0)(in[0]);
  }
  if (what == "ALiBiSlope") return nn::ALiBi::create_alibi_slope(a.i(0));
  if (what == "ALiBiMatrix") return nn::ALiBi::create_alibi_matrix(a.i(0), a.i(1), a.i(2), a.i(3));
  if (what == "ALiBi") {
    return a.has("mask") ? nn::ALiBi()(in[0], a.i(0), in[1]) : nn::ALiBi()(in[0], a.i(0));
  }
  throw std::invalid_argument("[test] unknown case " + what);
}

class NnSequenceFixture : public ::testing::TestWithParam<FixtureCase> {};

TEST_P(NnSequenceFixture, MatchesReference) {
  const FixtureCase& c = GetParam();
  const auto hash = c.op.find('#');
  const std::string what = c.op.substr(0, hash);
  const Args args(c.op.substr(hash + 1));
  for_each_device([&](Device) {
    std::vector<array> in;
    for (auto& t : c.inputs) in.push_back(fixture_array(t));
    array out = run_case(what, args, in);
    ASSERT_EQ(out.shape(), c.output.shape);
    EXPECT_EQ(out.dtype(), float32);
    EXPECT_TRUE(close_values(out, c.output.values, 1e-4, 1e-5));
  });
}

INSTANTIATE_TEST_SUITE_P(Fixtures, NnSequenceFixture, ::testing::ValuesIn(load_fixture("nn_sequence.txt")),
                         [](const auto& info) { return info.param.name; });

// ---------------------------------------------------------------------------------------------
// MLX's layout, names and behaviour

TEST(NnSequence, RecurrentParametersAsMlx) {
  nn::RNN rnn(3, 4);
  nn::GRU gru(3, 4);
  nn::LSTM lstm(3, 4);
  EXPECT_EQ(keys(rnn.parameters()), (std::vector<std::string>{"Wxh", "Whh", "bias"}));
  EXPECT_EQ(keys(gru.parameters()), (std::vector<std::string>{"Wx", "Wh", "b", "bhn"}));
  EXPECT_EQ(keys(lstm.parameters()), (std::vector<std::string>{"Wx", "Wh", "bias"}));
  EXPECT_EQ(rnn.Wxh.shape(), (Shape{4, 3}));
  EXPECT_EQ(gru.Wx.shape(), (Shape{12, 3}));
  EXPECT_EQ(gru.Wh.shape(), (Shape{12, 4}));
  EXPECT_EQ(gru.bhn->shape(), (Shape{4}));
  EXPECT_EQ(lstm.Wh.shape(), (Shape{16, 4}));
  EXPECT_EQ(lstm.bias->shape(), (Shape{16}));
  // U(-1/sqrt(hidden), 1/sqrt(hidden)) for every parameter.
  nn::LSTM big(5, 64);
  for (auto& [k, p] : tree::flatten_arrays(big.parameters())) {
    EXPECT_LE(max(abs(p)).item<float>(), 0.125f) << k;
    EXPECT_GT(max(abs(p)).item<float>(), 0.1f) << k;
  }
  EXPECT_EQ(keys(nn::GRU(3, 4, false).parameters()), (std::vector<std::string>{"Wx", "Wh"}));
  EXPECT_EQ(keys(nn::RNN(3, 4, false).parameters()), (std::vector<std::string>{"Wxh", "Whh"}));
  std::ostringstream os;
  os << lstm;
  EXPECT_EQ(os.str(), "LSTM(input_dims=3, hidden_size=4, bias=True)");
}

TEST(NnSequence, RecurrentBatchedRowsMatchUnbatched) {
  for_each_device([](Device) {
    nn::GRU gru(3, 4);
    nn::LSTM lstm(3, 4);
    nn::RNN rnn(3, 4);
    array x = random_array({2, 5, 3}, 11), h0 = random_array({2, 4}, 12), c0 = random_array({2, 4}, 13);
    array g = gru(x, h0);
    auto [h, c] = lstm(x, h0, c0);
    array r = rnn(x);
    EXPECT_EQ(g.shape(), (Shape{2, 5, 4}));
    for (int n = 0; n < 2; ++n) {
      array xn = take(x, n, 0), hn = take(h0, n, 0), cn = take(c0, n, 0);
      EXPECT_TRUE(arrays_close(gru(xn, hn), take(g, n, 0), 1e-6, 1e-6));
      auto [h1, c1] = lstm(xn, hn, cn);
      EXPECT_TRUE(arrays_close(h1, take(h, n, 0), 1e-6, 1e-6));
      EXPECT_TRUE(arrays_close(c1, take(c, n, 0), 1e-6, 1e-6));
      EXPECT_TRUE(arrays_close(rnn(xn), take(r, n, 0), 1e-6, 1e-6));
    }
    // The last state continues the sequence: running the second half from it gives the same.
    array first = slice(x, {0, 0, 0}, {2, 3, 3}), second = slice(x, {0, 3, 0}, {2, 5, 3});
    auto [hf, cf] = lstm(first, h0, c0);
    auto [hs, cs] = lstm(second, squeeze(slice(hf, {0, 2, 0}, {2, 3, 4}), 1), squeeze(slice(cf, {0, 2, 0}, {2, 3, 4}), 1));
    EXPECT_TRUE(arrays_close(hs, slice(h, {0, 3, 0}, {2, 5, 4}), 1e-6, 1e-6));
    // Sequential takes RNN and GRU as one-input layers.
    nn::Sequential seq(nn::GRU(3, 4), nn::Linear(4, 2));
    EXPECT_EQ(seq(x).shape(), (Shape{2, 5, 2}));
  });
}

TEST(NnSequence, MultiHeadAttentionAsMlx) {
  nn::MultiHeadAttention mha(8, 2, {.key_input_dims = 6, .value_dims = 4, .value_output_dims = 3});
  EXPECT_EQ(keys(mha.parameters()),
            (std::vector<std::string>{"query_proj.weight", "key_proj.weight", "value_proj.weight", "out_proj.weight"}));
  EXPECT_EQ(mha.query_proj.weight.shape(), (Shape{8, 8}));
  EXPECT_EQ(mha.key_proj.weight.shape(), (Shape{8, 6}));
  EXPECT_EQ(mha.value_proj.weight.shape(), (Shape{4, 6}));  // value_input_dims defaults to key_input_dims
  EXPECT_EQ(mha.out_proj.weight.shape(), (Shape{3, 4}));
  EXPECT_EQ(keys(nn::MultiHeadAttention(8, 2, {.bias = true}).parameters()).size(), 8u);

  const float lowest = static_cast<float>(finfo(float32).min);
  array m = nn::MultiHeadAttention::create_additive_causal_mask(3);
  EXPECT_EQ(m.dtype(), float32);
  EXPECT_TRUE(close_values(m, {0, lowest, lowest, 0, 0, lowest, 0, 0, 0}, 0, 0));
  EXPECT_EQ(nn::MultiHeadAttention::create_additive_causal_mask(4, float16).dtype(), float16);
  array m16 = astype(nn::MultiHeadAttention::create_additive_causal_mask(4, float16), float32);
  EXPECT_EQ(max(m16).item<float>(), 0.0f);
  EXPECT_EQ(min(m16).item<float>(), -65504.0f);

  for_each_device([](Device) {
    nn::MultiHeadAttention att(8, 4);
    array q = random_array({2, 5, 8}, 21), kv = random_array({2, 7, 8}, 22);
    array y = att(q, kv, kv);
    EXPECT_EQ(y.shape(), (Shape{2, 5, 8}));
    // Unbatched rows, and a boolean mask of all true is no mask.
    EXPECT_TRUE(arrays_close(att(take(q, 1, 0), take(kv, 1, 0), take(kv, 1, 0)), take(y, 1, 0), 1e-5, 1e-6));
    EXPECT_TRUE(arrays_close(att(q, kv, kv, full({5, 7}, array(true))), y, 1e-6, 1e-6));
    // A causal mask: the first query sees the first key only, so its output is that key's value.
    array x = random_array({1, 4, 8}, 23);
    array causal = att(x, x, x, nn::MultiHeadAttention::create_additive_causal_mask(4));
    array only_first = att(slice(x, {0, 0, 0}, {1, 1, 8}), slice(x, {0, 0, 0}, {1, 1, 8}), slice(x, {0, 0, 0}, {1, 1, 8}));
    EXPECT_TRUE(arrays_close(slice(causal, {0, 0, 0}, {1, 1, 8}), only_first, 1e-5, 1e-6));
    // 16-bit inputs stay 16-bit.
    nn::MultiHeadAttention half = att;
    half.set_dtype(float16);
    EXPECT_EQ(half(astype(q, float16), astype(kv, float16), astype(kv, float16)).dtype(), float16);
  });
}

// A custom encoder for nn::Transformer: its output is the decoder's memory.
struct ScaleEncoder : nn::EncoderModule {
  std::string name() const override { return "ScaleEncoder"; }
  array operator()(const array& src, const std::optional<array>&) override { return src * 2; }
};

TEST(NnSequence, TransformerNamesAndStructure) {
  nn::Transformer t({.dims = 8, .num_heads = 2, .num_encoder_layers = 2, .num_decoder_layers = 1, .mlp_dims = 16});
  const auto names = keys(t.parameters());
  for (const char* k : {"encoder.layers.1.attention.query_proj.weight", "encoder.layers.0.ln2.bias",
                        "encoder.layers.0.linear1.weight", "encoder.ln.weight", "decoder.layers.0.self_attention.out_proj.weight",
                        "decoder.layers.0.cross_attention.key_proj.weight", "decoder.layers.0.ln3.weight", "decoder.ln.bias"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), k), names.end()) << k;
  }
  // Arrays: an encoder layer has 12 (4 projections, 2 norms, 2 linears with biases), a decoder
  // layer 18 (a second attention and a third norm); each stack ends in a LayerNorm (2).
  EXPECT_EQ(names.size(), 2u * 12 + 2 + 18 + 2);
  EXPECT_EQ(t.parameters().find_path("encoder.layers.0.linear1.weight")->as_array().shape(), (Shape{16, 8}));
  // mlp_dims defaults to 4 * dims; no biases in the attention projections (MLX's default).
  nn::TransformerEncoderLayer layer(8, 2);
  EXPECT_EQ(layer.linear1.weight.shape(), (Shape{32, 8}));
  EXPECT_FALSE(layer.attention.query_proj.bias.has_value());
  EXPECT_EQ(nn::Transformer().parameters().find_path("decoder.layers.5.linear2.weight")->as_array().shape(),
            (Shape{512, 2048}));

  for_each_device([&](Device) {
    array src = random_array({2, 6, 8}, 31), tgt = random_array({2, 4, 8}, 32);
    array mask = nn::MultiHeadAttention::create_additive_causal_mask(4);
    EXPECT_EQ(t(src, tgt, std::nullopt, mask, std::nullopt).shape(), (Shape{2, 4, 8}));
    // With a custom encoder, the decoder attends to its output.
    auto custom = std::make_shared<ScaleEncoder>();
    nn::Transformer tc({.dims = 8, .num_heads = 2, .num_encoder_layers = 1, .num_decoder_layers = 1, .custom_encoder = custom});
    EXPECT_EQ(tc.encoder.get(), custom.get());
    auto& dec = static_cast<nn::TransformerDecoder&>(*tc.decoder);
    EXPECT_TRUE(arrays_close(tc(src, tgt, std::nullopt, mask), dec(tgt, src * 2, mask), 1e-6, 1e-6));
    EXPECT_TRUE(keys(tc.parameters())[0].rfind("decoder.", 0) == 0);
  });

  // Dropout runs in training only.
  nn::TransformerEncoderLayer drop(8, 2, 16, 0.5f);
  array x = random_array({1, 5, 8}, 33);
  EXPECT_FALSE(arrays_close(drop(x), drop(x), 1e-6, 1e-6));
  drop.eval();
  EXPECT_TRUE(arrays_equal(drop(x), drop(x)));
}

TEST(NnSequence, CheckpointedEncoderMatchesPlain) {
  nn::TransformerEncoder plain(2, 8, 2, 16, 0.0f, nn::relu, true, false);
  nn::TransformerEncoder ck(2, 8, 2, 16, 0.0f, nn::relu, true, true);
  ck.update(plain.parameters());
  array x = random_array({2, 4, 8}, 41), w = random_array({2, 4, 8}, 42);
  array mask = nn::MultiHeadAttention::create_additive_causal_mask(4);
  auto loss = [&](nn::TransformerEncoder& m, const std::optional<array>& mk) {
    return nn::value_and_grad(m, [&](const array& in) { return sum(m(in, mk) * w); })(x);
  };
  auto [l1, g1] = loss(plain, mask);
  auto [l2, g2] = loss(ck, mask);
  EXPECT_NEAR(l1.item<float>(), l2.item<float>(), 1e-5);
  ASSERT_EQ(keys(g1), keys(g2));
  const auto f1 = tree::flatten_arrays(g1), f2 = tree::flatten_arrays(g2);
  for (size_t i = 0; i < f1.size(); ++i) EXPECT_TRUE(arrays_close(f2[i].second, f1[i].second, 1e-5, 1e-6)) << f1[i].first;
  // The layers keep their own parameters afterwards.
  EXPECT_TRUE(arrays_equal(ck.layers[1].linear2.weight, plain.layers[1].linear2.weight));
  // The same without a mask.
  auto [l3, g3] = loss(ck, std::nullopt);
  auto [l4, g4] = loss(plain, std::nullopt);
  EXPECT_NEAR(l3.item<float>(), l4.item<float>(), 1e-5);
  const auto f3 = tree::flatten_arrays(g3), f4 = tree::flatten_arrays(g4);
  for (size_t i = 0; i < f3.size(); ++i) EXPECT_TRUE(arrays_close(f3[i].second, f4[i].second, 1e-5, 1e-6)) << f3[i].first;
}

TEST(NnSequence, PositionalEncodings) {
  for_each_device([](Device) {
    // RoPE: rows t.. of a sequence encoded from 0 equal the same rows encoded with offset t.
    array x = random_array({2, 3, 6, 8}, 51);
    for (bool traditional : {false, true}) {
      nn::RoPE rope(6, traditional);
      array whole = rope(x);
      array tail = rope(slice(x, {0, 0, 2, 0}, {2, 3, 6, 8}), 2);
      EXPECT_TRUE(arrays_close(tail, slice(whole, {0, 0, 2, 0}, {2, 3, 6, 8}), 1e-5, 1e-6));
      // Features past dims pass through, position 0 is not rotated, and norms of pairs are kept.
      EXPECT_TRUE(arrays_equal(slice(whole, {0, 0, 0, 6}, {2, 3, 6, 8}), slice(x, {0, 0, 0, 6}, {2, 3, 6, 8})));
      EXPECT_TRUE(arrays_close(slice(whole, {0, 0, 0, 0}, {2, 3, 1, 8}), slice(x, {0, 0, 0, 0}, {2, 3, 1, 8}), 1e-6, 1e-7));
      EXPECT_TRUE(arrays_close(sum(square(slice(whole, {0, 0, 0, 0}, {2, 3, 6, 6})), -1),
                               sum(square(slice(x, {0, 0, 0, 0}, {2, 3, 6, 6})), -1), 1e-5, 1e-6));
      EXPECT_EQ(rope(astype(x, float16)).dtype(), float16);
    }
    EXPECT_TRUE(keys(nn::RoPE(4).parameters()).empty());

    nn::SinusoidalPositionalEncoding pe(8);
    EXPECT_TRUE(keys(pe.parameters()).empty());  // the frequencies are not parameters
    array e = pe(arange(5));
    EXPECT_EQ(e.shape(), (Shape{5, 8}));
    EXPECT_EQ(e.dtype(), float32);
    // Position 0: sin = 0, cos = 1, times sqrt(2 / dims).
    EXPECT_TRUE(close_values(take(e, 0, 0), {0, 0, 0, 0, 0.5, 0.5, 0.5, 0.5}, 1e-6, 1e-7));

    array slopes = nn::ALiBi::create_alibi_slope(8);
    EXPECT_EQ(slopes.shape(), (Shape{8, 1, 1}));
    EXPECT_TRUE(close_values(reshape(slopes, {8}), {0.5, 0.25, 0.125, 0.0625, 0.03125, 0.015625, 0.0078125, 0.00390625}));
    array m = nn::ALiBi::create_alibi_matrix(4, 4, 2, 1, float16);
    EXPECT_EQ(m.shape(), (Shape{1, 2, 3, 4}));
    EXPECT_EQ(m.dtype(), float16);
  });
}

// ---------------------------------------------------------------------------------------------
// Gradients through nn::value_and_grad against central differences, in float64.

template <typename M, typename Loss>
void expect_fd_gradients(M& model, Loss loss, double tol = 1e-6) {
  // (nn::value_and_grad passes its arguments on; the losses here read captured inputs.)
  auto [value, grads] = nn::value_and_grad(model, [&](const array&) { return loss(); })(array(0.0));
  EXPECT_NEAR(value.template item<double>(), loss().template item<double>(), 1e-12);
  ASSERT_EQ(keys(grads), keys(model.trainable_parameters()));
  for (auto& [path, g] : tree::flatten_arrays(grads)) {
    const array p = model.parameters().find_path(path)->as_array();
    ASSERT_EQ(p.dtype(), float64) << path;
    auto set = [&](const array& v) { model.update(tree::unflatten(std::vector<std::pair<std::string, array>>{{path, v}})); };
    const std::vector<double> base = values(p), gv = values(g);
    for (int64_t k = 0; k < p.size(); ++k) {
      auto at = [&](double delta) {
        std::vector<double> v = base;
        v[k] += delta;
        set(array(v, p.shape(), float64));
        const double out = loss().template item<double>();
        set(p);
        return out;
      };
      EXPECT_NEAR(gv[k], (at(1e-6) - at(-1e-6)) / 2e-6, tol) << path << "[" << k << "]";
    }
  }
}

TEST(NnSequence, GradientsMatchFiniteDifferences) {
  array x = random_array({2, 4, 3}, 61, float64), h0 = random_array({2, 5}, 62, float64);
  array c0 = random_array({2, 5}, 63, float64), w = random_array({2, 4, 5}, 64, float64);
  {
    nn::LSTM lstm(3, 5);
    lstm.set_dtype(float64);
    expect_fd_gradients(lstm, [&] {
      auto [h, c] = lstm(x, h0, c0);
      return sum(h * w + c * c);
    });
  }
  {
    nn::GRU gru(3, 5);
    gru.set_dtype(float64);
    expect_fd_gradients(gru, [&] { return sum(gru(x, h0) * w); });
    expect_fd_gradients(gru, [&] { return sum(gru(x) * w); });  // the first step without a state
  }
  {
    nn::RNN rnn(3, 5);
    rnn.set_dtype(float64);
    expect_fd_gradients(rnn, [&] { return sum(rnn(x, h0) * w); });
  }
  {
    nn::MultiHeadAttention mha(6, 2, {.key_input_dims = 4, .bias = true});
    mha.set_dtype(float64);
    array q = random_array({2, 3, 6}, 65, float64), kv = random_array({2, 3, 4}, 66, float64);
    array wo = random_array({2, 3, 6}, 67, float64);
    array mask = nn::MultiHeadAttention::create_additive_causal_mask(3, float64);
    expect_fd_gradients(mha, [&] { return sum(mha(q, kv, kv, mask) * wo); });
  }
  {
    nn::TransformerEncoderLayer layer(4, 2, 8, 0.0f, nn::gelu, false);
    layer.set_dtype(float64);
    array xs = random_array({1, 3, 4}, 68, float64), wl = random_array({1, 3, 4}, 69, float64);
    expect_fd_gradients(layer, [&] { return sum(layer(xs) * wl); });
  }
}

// ---------------------------------------------------------------------------------------------
// Bad input: std::invalid_argument naming the layer and the offending shapes or values.

TEST(NnSequence, RejectsBadInput) {
  using IA = std::invalid_argument;
  EXPECT_TRUE(throws_with<IA>([] { nn::RNN(3, 4)(zeros({2, 5, 4})); }, {"[RNN]", "(2,5,4)", "3 features"}));
  EXPECT_TRUE(throws_with<IA>([] { nn::GRU(3, 4)(zeros({5})); }, {"[GRU]", "(5,)", "(N, L, D)"}));
  EXPECT_TRUE(throws_with<IA>([] { nn::LSTM(3, 4)(zeros({2, 5, 3}), zeros({4})); }, {"[LSTM]", "hidden", "(4,)", "(2,4)"}));
  EXPECT_TRUE(throws_with<IA>([] { nn::LSTM(3, 4)(zeros({2, 5, 3}), zeros({2, 4}), zeros({3, 4})); },
                              {"[LSTM]", "cell", "(3,4)"}));
  EXPECT_TRUE(throws_with<IA>([] { nn::GRU(3, 4)(zeros({5, 3}), zeros({2, 4})); }, {"[GRU]", "(2,4)", "(4,)"}));
  EXPECT_TRUE(throws_with<IA>([] { nn::RNN(0, 4); }, {"[RNN]", "input_size"}));
  EXPECT_TRUE(throws_with<IA>([] { nn::LSTM(3, -1); }, {"[LSTM]", "hidden_size"}));

  EXPECT_TRUE(throws_with<IA>([] { nn::MultiHeadAttention(10, 3); }, {"[MultiHeadAttention]", "(10)", "(3)", "divisible"}));
  EXPECT_TRUE(throws_with<IA>([] { nn::MultiHeadAttention(8, 2, {.value_dims = 5}); },
                              {"[MultiHeadAttention]", "value_dims", "divisible"}));
  EXPECT_TRUE(throws_with<IA>([] { nn::MultiHeadAttention(8, 2, {.key_input_dims = 0}); },
                              {"[MultiHeadAttention]", "key_input_dims"}));
  nn::MultiHeadAttention mha(8, 2);
  array x = zeros({2, 5, 8});
  EXPECT_TRUE(throws_with<IA>([&] { mha(zeros({2, 5, 7}), x, x); }, {"[MultiHeadAttention]", "queries", "(2,5,7)"}));
  EXPECT_TRUE(throws_with<IA>([&] { mha(x, zeros({2, 5, 6}), x); }, {"[MultiHeadAttention]", "keys", "(2,5,6)"}));
  EXPECT_TRUE(throws_with<IA>([&] { mha(x, x, zeros({2, 4, 8})); }, {"[MultiHeadAttention]", "sequence length"}));
  EXPECT_TRUE(throws_with<IA>([&] { mha(x, zeros({3, 5, 8}), zeros({3, 5, 8})); }, {"[MultiHeadAttention]", "batch"}));
  EXPECT_TRUE(throws_with<IA>([&] { mha(x, x, x, zeros({4, 4})); }, {"[MultiHeadAttention]", "mask", "(4,4)", "(2,2,5,5)"}));
  EXPECT_TRUE(throws_with<IA>([&] { mha(x, x, x, zeros({1, 1, 1, 5, 5})); }, {"[MultiHeadAttention]", "mask"}));
  EXPECT_TRUE(throws_with<IA>([] { nn::TransformerEncoderLayer(8, 3); }, {"[MultiHeadAttention]", "divisible"}));
  EXPECT_TRUE(throws_with<IA>([] { nn::TransformerEncoder(-1, 8, 2); }, {"[TransformerEncoder]", "num_layers"}));
  EXPECT_TRUE(throws_with<IA>([] { nn::TransformerEncoderLayer(8, 2)(zeros({2, 5, 4})); },
                              {"[TransformerEncoderLayer]", "(2,5,4)", "8 features"}));
  EXPECT_TRUE(throws_with<IA>([] { nn::TransformerDecoderLayer(8, 2)(zeros({2, 5, 8}), zeros({2, 3, 6})); },
                              {"[TransformerDecoderLayer]", "(2,3,6)"}));

  EXPECT_TRUE(throws_with<IA>([] { nn::RoPE(5); }, {"[RoPE]", "even"}));
  EXPECT_TRUE(throws_with<IA>([] { nn::RoPE(8)(zeros({1, 3, 6})); }, {"[RoPE]", "(1,3,6)", "exceeds"}));
  EXPECT_TRUE(throws_with<IA>([] { nn::RoPE(4)(zeros({1, 3, 6}, int32)); }, {"[RoPE]", "floating"}));
  EXPECT_TRUE(throws_with<IA>([] { nn::SinusoidalPositionalEncoding(7); }, {"[SinusoidalPositionalEncoding]", "even"}));
  EXPECT_TRUE(throws_with<IA>([] { nn::ALiBi()(zeros({3, 4})); }, {"[ALiBi]", "(3,4)"}));
  EXPECT_TRUE(throws_with<IA>([] { nn::ALiBi::create_alibi_slope(0); }, {"[ALiBi]", "num_heads"}));
  EXPECT_TRUE(throws_with<IA>([] { nn::ALiBi::create_alibi_matrix(3, 3, 2, 4); }, {"[ALiBi]", "offset"}));
}

}  // namespace
