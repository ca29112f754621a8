#pragma once
// The loss functions of MLX's `mlx.nn.losses` in `tessera::nn::losses`, with MLX's formulas and
// its per-function default reductions (python/mlx/nn/losses.py). Losses with many keyword
// arguments in MLX take an options aggregate:
//
//   cross_entropy(logits, targets, {.label_smoothing = 0.1f, .reduction = Reduction::Mean});
//
// Bad arguments throw std::invalid_argument naming the loss and the shapes. Where MLX would
// broadcast two operands of different shapes (its nll, kl_div, hinge, huber, log_cosh, triplet
// and cosine losses do not check), Tessera requires equal shapes like MLX's other losses: a
// broadcast loss is almost always a shape bug.
#include <cmath>
#include <numbers>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "tessera/core/array.hpp"
#include "tessera/core/dtype.hpp"
#include "tessera/core/shape.hpp"
#include "tessera/nn/activations.hpp"
#include "tessera/ops/elementwise.hpp"
#include "tessera/ops/indexing.hpp"
#include "tessera/ops/misc.hpp"
#include "tessera/ops/reduce.hpp"
#include "tessera/ops/shape.hpp"

namespace tessera::nn::losses {

// MLX's reduction strings 'none', 'mean' and 'sum'.
enum class Reduction { None, Mean, Sum };

// "none" | "mean" | "sum" (MLX's spellings), for code that carries the reduction as a string.
inline Reduction reduction_from_name(std::string_view name) {
  if (name == "none") return Reduction::None;
  if (name == "mean") return Reduction::Mean;
  if (name == "sum") return Reduction::Sum;
  throw std::invalid_argument("[losses] unknown reduction '" + std::string(name) +
                              "'; expected 'none', 'mean' or 'sum'");
}

namespace detail {
using nn::detail::scalar_like;

inline array reduce(const array& loss, Reduction reduction) {
  switch (reduction) {
    case Reduction::Mean: return mean(loss);
    case Reduction::Sum: return sum(loss);
    case Reduction::None: break;
  }
  return loss;
}

inline std::string tag(const char* op) { return std::string("[") + op + "] "; }

// Throws "[op] targets of shape (8,) do not match logits of shape (4,10)" unless a and b have
// the same shape.
inline void check_same_shape(const char* op, const char* a_name, const array& a,
                             const char* b_name, const array& b) {
  if (a.shape() == b.shape()) return;
  const std::string an = a_name;
  throw std::invalid_argument(tag(op) + an + " of shape " + shape_string(a.shape()) +
                              (an.back() == 's' ? " do" : " does") + " not match " + b_name +
                              " of shape " + shape_string(b.shape()));
}

// Class-index targets: an integer array of the shape of `scores` without `axis` (normalised).
inline void check_class_targets(const char* op, const array& targets, const char* scores_name,
                                const array& scores, int axis) {
  Shape want = scores.shape();
  want.erase(want.begin() + axis);
  if (targets.shape() != want) {
    throw std::invalid_argument(tag(op) + "targets of shape " + shape_string(targets.shape()) +
                                " do not match " + scores_name + " of shape " +
                                shape_string(scores.shape()) + " (class indices need shape " +
                                shape_string(want) + ")");
  }
  if (!issubdtype(targets.dtype(), integer)) {
    throw std::invalid_argument(tag(op) + "class-index targets of shape " +
                                shape_string(targets.shape()) + " must be integers, got " +
                                dtype_name(targets.dtype()));
  }
}

inline void check_weights(const char* op, const std::optional<array>& weights, const array& loss) {
  if (weights && weights->shape() != loss.shape()) {
    throw std::invalid_argument(tag(op) + "weights of shape " + shape_string(weights->shape()) +
                                " do not match the loss of shape " + shape_string(loss.shape()));
  }
}

// The entry of `scores` at each class index along `axis` (that axis dropped).
inline array pick(const array& scores, const array& targets, int axis) {
  return squeeze(take_along_axis(scores, expand_dims(targets, axis), axis), axis);
}
}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Classification.

struct CrossEntropyOptions {
  std::optional<array> weights;  // multiplies each loss element (the logits' shape minus axis)
  int axis = -1;                 // the class axis
  float label_smoothing = 0.0f;  // in [0, 1)
  Reduction reduction = Reduction::None;
};

// logsumexp(z) - score, z the logits along `axis`, where score is z[target] for integer class
// targets (shape of the logits without `axis`) or sum(z * targets) for probability targets (the
// logits' shape). Label smoothing s gives logsumexp(z) - (1 - s) * score - s * mean(z).
// The logits are shifted by their max first (outside the gradient), as MLX does.
inline array cross_entropy(const array& logits, const array& targets,
                           const CrossEntropyOptions& options = {}) {
  const float ls = options.label_smoothing;
  if (!(ls >= 0.0f && ls < 1.0f)) {
    throw std::invalid_argument("[cross_entropy] label_smoothing must be in [0, 1), got " +
                                std::to_string(ls));
  }
  const int axis = normalize_axis(options.axis, logits.ndim(), "cross_entropy");
  const bool as_probs = targets.ndim() == logits.ndim();
  if (as_probs) {
    detail::check_same_shape("cross_entropy", "targets", targets, "logits", logits);
  } else {
    detail::check_class_targets("cross_entropy", targets, "logits", logits, axis);
  }
  const array z = logits - stop_gradient(max(logits, axis, /*keepdims=*/true));
  const array score = as_probs ? sum(z * targets, axis) : detail::pick(z, targets, axis);
  array loss = logsumexp(z, axis) - score;
  if (ls > 0.0f) {
    loss = logsumexp(z, axis) - detail::scalar_like(z, 1.0 - ls) * score -
           detail::scalar_like(z, ls) * mean(z, axis);
  }
  detail::check_weights("cross_entropy", options.weights, loss);
  if (options.weights) loss = loss * *options.weights;
  return detail::reduce(loss, options.reduction);
}

struct BinaryCrossEntropyOptions {
  std::optional<array> weights;  // multiplies each loss element (the inputs' shape)
  bool with_logits = true;       // inputs are logits (true) or probabilities (false)
  Reduction reduction = Reduction::Mean;
};

// Logits x: log(1 + exp(x)) - x * t (as logaddexp(0, x) - x * t: stable for any x).
// Probabilities p: -(t * log(p) + (1 - t) * log(1 - p)), each log clipped below at -100 (as
// MLX and PyTorch do) so that p = 0 or 1 gives a finite loss.
inline array binary_cross_entropy(const array& inputs, const array& targets,
                                  const BinaryCrossEntropyOptions& options = {}) {
  detail::check_same_shape("binary_cross_entropy", "inputs", inputs, "targets", targets);
  const array floor = detail::scalar_like(inputs, -100.0);
  array loss = options.with_logits
                   ? array(logaddexp(0, inputs) - inputs * targets)
                   : array(-(targets * maximum(log(inputs), floor) +
                             (1 - targets) * maximum(log(1 - inputs), floor)));
  detail::check_weights("binary_cross_entropy", options.weights, loss);
  if (options.weights) loss = loss * *options.weights;
  return detail::reduce(loss, options.reduction);
}

// -inputs[target] along `axis`: inputs are log probabilities, targets integer class indices of
// the inputs' shape without `axis`.
inline array nll_loss(const array& inputs, const array& targets, int axis = -1,
                      Reduction reduction = Reduction::None) {
  const int ax = normalize_axis(axis, inputs.ndim(), "nll_loss");
  detail::check_class_targets("nll_loss", targets, "inputs", inputs, ax);
  return detail::reduce(-detail::pick(inputs, targets, ax), reduction);
}

// KL(targets || inputs) = sum(exp(t) * (t - x)) along `axis`; both are log probabilities.
inline array kl_div_loss(const array& inputs, const array& targets, int axis = -1,
                         Reduction reduction = Reduction::None) {
  detail::check_same_shape("kl_div_loss", "inputs", inputs, "targets", targets);
  const int ax = normalize_axis(axis, inputs.ndim(), "kl_div_loss");
  return detail::reduce(sum(exp(targets) * (targets - inputs), ax), reduction);
}

// max(0, 1 - x * t), targets in {-1, 1}.
inline array hinge_loss(const array& inputs, const array& targets,
                        Reduction reduction = Reduction::None) {
  detail::check_same_shape("hinge_loss", "inputs", inputs, "targets", targets);
  return detail::reduce(maximum(1 - inputs * targets, 0), reduction);
}

// max(0, -t * (x1 - x2) + margin), targets in {-1, 1}.
inline array margin_ranking_loss(const array& inputs1, const array& inputs2, const array& targets,
                                 float margin = 0.0f, Reduction reduction = Reduction::None) {
  detail::check_same_shape("margin_ranking_loss", "inputs1", inputs1, "inputs2", inputs2);
  detail::check_same_shape("margin_ranking_loss", "targets", targets, "inputs1", inputs1);
  const array d = inputs1 - inputs2;
  return detail::reduce(maximum(-targets * d + detail::scalar_like(d, margin), 0), reduction);
}

// ---------------------------------------------------------------------------------------------
// Regression.

// |p - t|
inline array l1_loss(const array& predictions, const array& targets,
                     Reduction reduction = Reduction::Mean) {
  detail::check_same_shape("l1_loss", "predictions", predictions, "targets", targets);
  return detail::reduce(abs(predictions - targets), reduction);
}

// (p - t)^2
inline array mse_loss(const array& predictions, const array& targets,
                      Reduction reduction = Reduction::Mean) {
  detail::check_same_shape("mse_loss", "predictions", predictions, "targets", targets);
  return detail::reduce(square(predictions - targets), reduction);
}

// d = |p - t|: 0.5 * d^2 / beta where d < beta, else d - 0.5 * beta.
inline array smooth_l1_loss(const array& predictions, const array& targets, float beta = 1.0f,
                            Reduction reduction = Reduction::Mean) {
  detail::check_same_shape("smooth_l1_loss", "predictions", predictions, "targets", targets);
  if (!(beta >= 0.0f)) {
    throw std::invalid_argument("[smooth_l1_loss] beta must be non-negative, got " +
                                std::to_string(beta));
  }
  const array d = abs(predictions - targets);
  const array b = detail::scalar_like(d, beta);
  const array half = detail::scalar_like(d, 0.5);
  return detail::reduce(where(d < b, half * square(d) / b, d - half * b), reduction);
}

// a = |x - t|: 0.5 * a^2 where a <= delta, else delta * (a - 0.5 * delta); written as MLX does,
// 0.5 * q^2 + delta * (a - q) with q = min(a, delta).
inline array huber_loss(const array& inputs, const array& targets, float delta = 1.0f,
                        Reduction reduction = Reduction::None) {
  detail::check_same_shape("huber_loss", "inputs", inputs, "targets", targets);
  if (!(delta > 0.0f)) {
    throw std::invalid_argument("[huber_loss] delta must be positive, got " +
                                std::to_string(delta));
  }
  const array a = abs(inputs - targets);
  const array dl = detail::scalar_like(a, delta);
  const array q = minimum(a, dl);
  return detail::reduce(detail::scalar_like(a, 0.5) * square(q) + dl * (a - q), reduction);
}

// log(cosh(x - t)), as logaddexp(e, -e) - log(2): cosh overflows for |e| > ~89 in float32.
inline array log_cosh_loss(const array& inputs, const array& targets,
                           Reduction reduction = Reduction::None) {
  detail::check_same_shape("log_cosh_loss", "inputs", inputs, "targets", targets);
  const array e = inputs - targets;
  return detail::reduce(logaddexp(e, -e) - detail::scalar_like(e, std::numbers::ln2), reduction);
}

// With v = max(vars, eps): 0.5 * (log(v) + (t - x)^2 / v), plus 0.5 * log(2 pi) when `full`.
inline array gaussian_nll_loss(const array& inputs, const array& targets, const array& vars,
                               bool full = false, float eps = 1e-6f,
                               Reduction reduction = Reduction::Mean) {
  detail::check_same_shape("gaussian_nll_loss", "inputs", inputs, "targets", targets);
  detail::check_same_shape("gaussian_nll_loss", "vars", vars, "inputs", inputs);
  const array v = maximum(vars, detail::scalar_like(vars, eps));
  const array half = detail::scalar_like(v, 0.5);
  array loss = half * (log(v) + square(targets - inputs) / v);
  if (full) loss = loss + detail::scalar_like(loss, 0.5 * std::log(2.0 * std::numbers::pi));
  return detail::reduce(loss, reduction);
}

// ---------------------------------------------------------------------------------------------
// Embeddings.

// sum(x1 * x2) / max(|x1| * |x2|, eps) along `axis` (the Euclidean norms). Note MLX's default
// axis is 1, not -1.
inline array cosine_similarity_loss(const array& x1, const array& x2, int axis = 1,
                                    float eps = 1e-8f, Reduction reduction = Reduction::None) {
  detail::check_same_shape("cosine_similarity_loss", "x1", x1, "x2", x2);
  const int ax = normalize_axis(axis, x1.ndim(), "cosine_similarity_loss");
  const array norms = sqrt(sum(square(x1), ax)) * sqrt(sum(square(x2), ax));
  const array dot = sum(x1 * x2, ax);
  return detail::reduce(dot / maximum(norms, detail::scalar_like(norms, eps)), reduction);
}

struct TripletLossOptions {
  int axis = -1;        // the embedding axis
  int p = 2;            // the norm's degree (>= 1)
  float margin = 1.0f;
  float eps = 1e-6f;    // added to sum |d|^p before the 1/p power
  Reduction reduction = Reduction::None;
};

// max(|a - p|_p - |a - n|_p + margin, 0), with |d|_p = (sum |d|^p + eps)^(1/p) along `axis`.
// (PyTorch's triplet_margin_loss adds eps to d instead; the values differ slightly.)
inline array triplet_loss(const array& anchors, const array& positives, const array& negatives,
                          const TripletLossOptions& options = {}) {
  detail::check_same_shape("triplet_loss", "positives", positives, "anchors", anchors);
  detail::check_same_shape("triplet_loss", "negatives", negatives, "anchors", anchors);
  const int ax = normalize_axis(options.axis, anchors.ndim(), "triplet_loss");
  if (options.p < 1) {
    throw std::invalid_argument("[triplet_loss] p must be at least 1, got " +
                                std::to_string(options.p));
  }
  auto distance = [&](const array& d) {
    const array s = sum(power(abs(d), options.p), ax);
    return power(s + detail::scalar_like(s, options.eps), detail::scalar_like(s, 1.0 / options.p));
  };
  const array gap = distance(anchors - positives) - distance(anchors - negatives);
  return detail::reduce(maximum(gap + detail::scalar_like(gap, options.margin), 0),
                        options.reduction);
}

}  // namespace tessera::nn::losses
