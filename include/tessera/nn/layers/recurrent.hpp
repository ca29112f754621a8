#pragma once
// RNN, GRU and LSTM, as mlx.nn's (python/mlx/nn/layers/recurrent.py): the same parameter names,
// shapes, initialisation U(-1/sqrt(hidden), 1/sqrt(hidden)) and gate order, so weights saved by
// MLX load by name.
//
//   nn::LSTM lstm(16, 32);
//   auto [hidden, cell] = lstm(x);          // x: (N, L, 16) or (L, 16) -> both (N, L, 32) / (L, 32)
//   auto [h2, c2] = lstm(x, h0, c0);        // initial states (N, 32) / (32)
//
// Every layer first projects the whole sequence at once (one GEMM: (N, L, D) @ (D, G*H)), then
// walks the time axis, adding the recurrent projection of the previous hidden state at each
// step. Without an initial state the first step skips the recurrent term (a zero state would
// contribute nothing but a matmul by zeros). The graph is unrolled: L steps give L small nodes
// each, which the lazy evaluator runs in one pass; autodiff goes through them as through any
// other ops.
//
// Differences from PyTorch's layers (for converting weights): the gate order is the same
// (RNN: -, GRU: r z n, LSTM: i f g o), but MLX keeps one bias where PyTorch keeps b_ih and b_hh:
// bias = b_ih + b_hh for RNN and LSTM; for GRU, b = b_ih + [b_hh_r, b_hh_z, 0] and bhn = b_hh_n,
// because the n gate's recurrent bias sits inside r * (W_hn h + b_hn) and cannot be folded.
#include <cmath>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tessera/nn/activations.hpp"
#include "tessera/nn/layers/linear.hpp"
#include "tessera/ops/matmul.hpp"
#include "tessera/ops/shape.hpp"

namespace tessera::nn {

namespace detail {

// Checks a recurrent layer's input, (N, L, D) or (L, D) with D = input_size.
inline void check_sequence(const char* layer, const array& x, int input_size) {
  if (x.ndim() != 2 && x.ndim() != 3) {
    throw std::invalid_argument(std::string("[") + layer + "] expects an input of shape (N, L, D) or (L, D), got " +
                                shape_string(x.shape()));
  }
  check_features(layer, x, input_size);
}

// Checks an initial state against the input: (N, H) for a batched input, (H) for an unbatched one.
inline void check_state(const char* layer, const char* what, const std::optional<array>& state, const array& x,
                        int hidden_size) {
  if (!state) return;
  Shape expected = x.shape();
  expected.erase(expected.end() - 2);  // drop L
  expected.back() = hidden_size;
  if (state->shape() != expected) {
    throw std::invalid_argument(std::string("[") + layer + "] the initial " + what + " state has shape " +
                                shape_string(state->shape()) + "; an input of shape " + shape_string(x.shape()) +
                                " needs " + shape_string(expected));
  }
}

// x[..., t, :]: one time step of an (N, L, F) or (L, F) array, as a view.
inline array time_step(const array& x, int t) {
  const int axis = x.ndim() - 2;
  Shape start(x.ndim(), 0), stop = x.shape();
  start[axis] = t;
  stop[axis] = t + 1;
  return squeeze(slice(x, std::move(start), std::move(stop)), axis);
}

// x[..., lo:hi]: a range of features, as a view.
inline array features(const array& x, int lo, int hi) {
  Shape start(x.ndim(), 0), stop = x.shape();
  start.back() = lo;
  stop.back() = hi;
  return slice(x, std::move(start), std::move(stop));
}

// x @ W^T (+ b): the input projection of every time step at once.
inline array project(const array& x, const array& w, const std::optional<array>& b) {
  return b ? addmm(*b, x, transpose(w)) : matmul(x, transpose(w));
}

// MLX's scale of every recurrent parameter.
inline float recurrent_scale(const char* layer, int input_size, int hidden_size) {
  check_positive(layer, "input_size", input_size);
  check_positive(layer, "hidden_size", hidden_size);
  return 1.0f / std::sqrt(static_cast<float>(hidden_size));
}

}  // namespace detail

// Elman RNN: h_t = nonlinearity(W_xh x_t + W_hh h_{t-1} + bias). Returns every h_t, (N, L, H)
// or (L, H).
class RNN : public Module {
 public:
  using Nonlinearity = std::function<array(const array&)>;

  array Wxh;  // (H, D)
  array Whh;  // (H, H)
  std::optional<array> bias;  // (H)

  // An empty `nonlinearity` means tanh (MLX's None).
  RNN(int input_size, int hidden_size, bool bias = true, Nonlinearity nonlinearity = {})
      : Wxh(detail::uniform_init(detail::recurrent_scale("RNN", input_size, hidden_size), {hidden_size, input_size})),
        Whh(detail::uniform_init(1.0f / std::sqrt(static_cast<float>(hidden_size)), {hidden_size, hidden_size})),
        hidden_size_(hidden_size),
        custom_nonlinearity_(static_cast<bool>(nonlinearity)),
        nonlinearity_(nonlinearity ? std::move(nonlinearity) : Nonlinearity([](const array& x) { return nn::tanh(x); })) {
    if (bias) this->bias = detail::uniform_init(1.0f / std::sqrt(static_cast<float>(hidden_size)), {hidden_size});
    register_parameter("Wxh", Wxh);
    register_parameter("Whh", Whh);
    register_parameter("bias", this->bias);
  }
  std::string name() const override { return "RNN"; }
  std::string describe() const override {
    return "input_dims=" + std::to_string(Wxh.shape(1)) + ", hidden_size=" + std::to_string(hidden_size_) +
           ", nonlinearity=" + (custom_nonlinearity_ ? "<function>" : "tanh") +
           ", bias=" + detail::py_bool(bias.has_value());
  }

  array operator()(const array& x, const std::optional<array>& hidden = std::nullopt) const {
    detail::check_sequence("RNN", x, Wxh.shape(1));
    detail::check_state("RNN", "hidden", hidden, x, hidden_size_);
    const array xp = detail::project(x, Wxh, bias);
    const array whh_t = transpose(Whh);
    std::optional<array> h = hidden;
    std::vector<array> all;
    for (int t = 0; t < x.shape(-2); ++t) {
      const array xt = detail::time_step(xp, t);
      h = nonlinearity_(h ? addmm(xt, *h, whh_t) : xt);
      all.push_back(*h);
    }
    return stack(all, -2);
  }
  array forward(const array& x) override { return (*this)(x); }

 private:
  int hidden_size_;
  bool custom_nonlinearity_;
  Nonlinearity nonlinearity_;
};

// Gated recurrent unit:
//   r = sigmoid(W_xr x + W_hr h + b_r)         z = sigmoid(W_xz x + W_hz h + b_z)
//   n = tanh(W_xn x + b_n + r * (W_hn h + b_hn))
//   h' = (1 - z) * n + z * h
// Wx and Wh stack the r, z and n rows; b holds b_r, b_z, b_n and bhn the recurrent b_hn.
class GRU : public Module {
 public:
  array Wx;  // (3H, D)
  array Wh;  // (3H, H)
  std::optional<array> b;    // (3H)
  std::optional<array> bhn;  // (H)

  GRU(int input_size, int hidden_size, bool bias = true)
      : Wx(detail::uniform_init(detail::recurrent_scale("GRU", input_size, hidden_size), {3 * hidden_size, input_size})),
        Wh(detail::uniform_init(1.0f / std::sqrt(static_cast<float>(hidden_size)), {3 * hidden_size, hidden_size})),
        hidden_size_(hidden_size) {
    const float scale = 1.0f / std::sqrt(static_cast<float>(hidden_size));
    if (bias) {
      b = detail::uniform_init(scale, {3 * hidden_size});
      bhn = detail::uniform_init(scale, {hidden_size});
    }
    register_parameter("Wx", Wx);
    register_parameter("Wh", Wh);
    register_parameter("b", b);
    register_parameter("bhn", bhn);
  }
  std::string name() const override { return "GRU"; }
  std::string describe() const override {
    return "input_dims=" + std::to_string(Wx.shape(1)) + ", hidden_size=" + std::to_string(hidden_size_) +
           ", bias=" + detail::py_bool(b.has_value());
  }

  array operator()(const array& x, const std::optional<array>& hidden = std::nullopt) const {
    detail::check_sequence("GRU", x, Wx.shape(1));
    detail::check_state("GRU", "hidden", hidden, x, hidden_size_);
    const int H = hidden_size_;
    const array xp = detail::project(x, Wx, b);
    // The r and z gates take the sum of both projections; n keeps them apart (r gates only
    // the recurrent part), so split the projected input once.
    const array x_rz = detail::features(xp, 0, 2 * H), x_n = detail::features(xp, 2 * H, 3 * H);
    const array wh_t = transpose(Wh);
    std::optional<array> h = hidden;
    std::vector<array> all;
    for (int t = 0; t < x.shape(-2); ++t) {
      array rz = detail::time_step(x_rz, t);
      array n = detail::time_step(x_n, t);
      std::optional<array> h_n;  // W_hn h + b_hn
      if (h) {
        const array h_proj = matmul(*h, wh_t);
        rz = rz + detail::features(h_proj, 0, 2 * H);
        h_n = detail::features(h_proj, 2 * H, 3 * H);
        if (bhn) h_n = *h_n + *bhn;
      } else if (bhn) {
        h_n = *bhn;  // W_hn h is zero without a state; its bias remains
      }
      auto gates = split(nn::sigmoid(rz), 2, -1);
      const array& r = gates[0];
      const array& z = gates[1];
      if (h_n) n = n + r * *h_n;
      n = nn::tanh(n);
      h = h ? array((1 - z) * n + z * *h) : array((1 - z) * n);
      all.push_back(*h);
    }
    return stack(all, -2);
  }
  array forward(const array& x) override { return (*this)(x); }

 private:
  int hidden_size_;
};

// Long short-term memory:
//   i = sigmoid(W_xi x + W_hi h + b_i)   f = sigmoid(W_xf x + W_hf h + b_f)
//   g = tanh(W_xg x + W_hg h + b_g)      o = sigmoid(W_xo x + W_ho h + b_o)
//   c' = f * c + i * g                   h' = o * tanh(c')
// Wx, Wh and bias stack the i, f, g and o rows. Returns {every h_t, every c_t}.
class LSTM : public Module {
 public:
  array Wx;  // (4H, D)
  array Wh;  // (4H, H)
  std::optional<array> bias;  // (4H)

  LSTM(int input_size, int hidden_size, bool bias = true)
      : Wx(detail::uniform_init(detail::recurrent_scale("LSTM", input_size, hidden_size), {4 * hidden_size, input_size})),
        Wh(detail::uniform_init(1.0f / std::sqrt(static_cast<float>(hidden_size)), {4 * hidden_size, hidden_size})),
        hidden_size_(hidden_size) {
    if (bias) this->bias = detail::uniform_init(1.0f / std::sqrt(static_cast<float>(hidden_size)), {4 * hidden_size});
    register_parameter("Wx", Wx);
    register_parameter("Wh", Wh);
    register_parameter("bias", this->bias);
  }
  std::string name() const override { return "LSTM"; }
  std::string describe() const override {
    return "input_dims=" + std::to_string(Wx.shape(1)) + ", hidden_size=" + std::to_string(hidden_size_) +
           ", bias=" + detail::py_bool(bias.has_value());
  }

  // {hidden states, cell states}, each (N, L, H) or (L, H).
  std::pair<array, array> operator()(const array& x, const std::optional<array>& hidden = std::nullopt,
                                     const std::optional<array>& cell = std::nullopt) const {
    detail::check_sequence("LSTM", x, Wx.shape(1));
    detail::check_state("LSTM", "hidden", hidden, x, hidden_size_);
    detail::check_state("LSTM", "cell", cell, x, hidden_size_);
    const array xp = detail::project(x, Wx, bias);
    const array wh_t = transpose(Wh);
    std::optional<array> h = hidden, c = cell;
    std::vector<array> all_h, all_c;
    for (int t = 0; t < x.shape(-2); ++t) {
      array ifgo = detail::time_step(xp, t);
      if (h) ifgo = addmm(ifgo, *h, wh_t);
      auto gates = split(ifgo, 4, -1);
      const array i = nn::sigmoid(gates[0]);
      const array f = nn::sigmoid(gates[1]);
      const array g = nn::tanh(gates[2]);
      const array o = nn::sigmoid(gates[3]);
      c = c ? array(f * *c + i * g) : array(i * g);  // a zero cell state forgets nothing
      h = o * nn::tanh(*c);
      all_h.push_back(*h);
      all_c.push_back(*c);
    }
    return {stack(all_h, -2), stack(all_c, -2)};
  }

 private:
  int hidden_size_;
};

}  // namespace tessera::nn
