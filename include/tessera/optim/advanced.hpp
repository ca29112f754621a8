#pragma once
// Adafactor, Muon and MultiOptimizer, as mlx.optimizers' (MLX's arguments, defaults, state
// names and update rules). Adafactor and Muon are init_single + apply_single over the base's
// tree walk (optimizer.hpp); MultiOptimizer routes the gradient tree by path to several
// optimizers and keeps their states side by side.
#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "tessera/ops/matmul.hpp"
#include "tessera/ops/reduce.hpp"
#include "tessera/ops/shape.hpp"
#include "tessera/optim/optimizer.hpp"
#include "tessera/optim/optimizers.hpp"

namespace tessera::optim {

// Adafactor's keyword arguments (MLX's names and defaults), for designated initializers:
// `optim::Adafactor({.learning_rate = 1e-2f, .relative_step = false})`.
struct AdafactorOptions {
  std::optional<LearningRate> learning_rate = std::nullopt;
  std::pair<float, float> eps = {1e-30f, 1e-3f};
  float clip_threshold = 1.0f;
  float decay_rate = -0.8f;
  std::optional<float> beta_1 = std::nullopt;
  float weight_decay = 0.0f;
  bool scale_parameter = true;
  bool relative_step = true;
  bool warmup_init = false;
};

// Adafactor (Shazeer & Stern, 2018): the second moment of a parameter of two or more dimensions
// is kept factored, as running means of its rows and of its columns (over the last two axes);
// the step is relative to the step count (min(1e-2, 1/sqrt(t)), or 1e-6 t under warmup_init)
// unless relative_step is off, and scaled by the parameter's RMS (at least eps[1]) under
// scale_parameter. The update is clipped to RMS clip_threshold; beta_1 adds a first moment.
class Adafactor : public Optimizer {
 public:
  explicit Adafactor(AdafactorOptions o = {})
      // Without a learning rate the base still keeps one (0) in the state; it is never read
      // then, since a relative step is required (MLX keeps no entry at all).
      : Optimizer(o.learning_rate.value_or(LearningRate(0.0f))), o_(std::move(o)) {
    if (!o_.relative_step && !o_.learning_rate) {
      throw std::invalid_argument("[Adafactor] relative_step=false needs a learning_rate");
    }
    if (o_.beta_1) detail::check_range("Adafactor", "beta_1", *o_.beta_1, 0, 1);
    if (!(o_.clip_threshold > 0)) {
      throw std::invalid_argument("[Adafactor] clip_threshold must be positive, got " +
                                  std::to_string(o_.clip_threshold));
    }
  }
  // MLX's positional order.
  explicit Adafactor(std::optional<LearningRate> learning_rate, std::pair<float, float> eps = {1e-30f, 1e-3f},
                     float clip_threshold = 1.0f, float decay_rate = -0.8f, std::optional<float> beta_1 = std::nullopt,
                     float weight_decay = 0.0f, bool scale_parameter = true, bool relative_step = true,
                     bool warmup_init = false)
      : Adafactor(AdafactorOptions{std::move(learning_rate), eps, clip_threshold, decay_rate, beta_1, weight_decay,
                                   scale_parameter, relative_step, warmup_init}) {}
  std::string name() const override { return "Adafactor"; }
  const AdafactorOptions& options() const { return o_; }

 protected:
  void init_single(const array& p, Tree& state) override {
    if (p.ndim() >= 2) {
      Shape rows(p.shape().begin(), p.shape().end() - 1);
      Shape cols(p.shape().begin(), p.shape().end() - 2);
      cols.push_back(p.shape(-1));
      state["exp_avg_sq_row"] = zeros(rows, p.dtype());
      state["exp_avg_sq_col"] = zeros(cols, p.dtype());
    } else {
      state["exp_avg_sq"] = zeros_like(p);
    }
    if (o_.beta_1) state["exp_avg"] = zeros_like(p);
  }

  array apply_single(const array& g, const array& p0, Tree& state) override {
    const bool factored = g.ndim() >= 2;
    // The step-count terms are float32 in MLX (a uint64 step with Python floats), cast to the
    // parameter's dtype where MLX casts them; scalars, computed on the CPU.
    const Device cpu(Device::cpu);
    const array t = step_count();
    const array p_rms = rms(p0);
    const Dtype dt = p_rms.dtype();
    array rel = o_.relative_step
                    ? minimum(o_.warmup_init ? multiply(array(1e-6f), t, cpu) : array(1e-2f), rsqrt(t, cpu), cpu)
                    : learning_rate();
    rel = astype(rel, dt);
    const array lr = o_.scale_parameter ? array(maximum(scalar_like(o_.eps.second, p_rms), p_rms) * rel) : rel;
    const array beta2 = scalar_like(1.0f, p_rms) - astype(power(t, array(o_.decay_rate), cpu), dt);
    const array keep = scalar_like(1.0f, beta2) - beta2;

    array update = square(g) + scalar_like(o_.eps.first, g);
    if (factored) {
      array row = beta2 * state.at("exp_avg_sq_row").as_array() + keep * mean(update, -1);
      array col = beta2 * state.at("exp_avg_sq_col").as_array() + keep * mean(update, -2);
      state["exp_avg_sq_row"] = row;
      state["exp_avg_sq_col"] = col;
      // The rank-1 estimate of 1/sqrt(v): rows normalised by their mean, times the columns.
      array r_factor = rsqrt(row / mean(row, -1, true));
      array c_factor = rsqrt(col);
      update = expand_dims(r_factor, -1) * expand_dims(c_factor, -2) * g;
    } else {
      array v = beta2 * state.at("exp_avg_sq").as_array() + keep * update;
      state["exp_avg_sq"] = v;
      update = rsqrt(v) * g;
    }
    update = update / maximum(scalar_like(1.0f, update), rms(update) / scalar_like(o_.clip_threshold, update));
    update = lr * update;
    if (o_.beta_1) {
      const float b1 = *o_.beta_1;
      array m = scalar_like(b1, update) * state.at("exp_avg").as_array() + scalar_like(1 - b1, update) * update;
      state["exp_avg"] = m;
      update = m;
    }
    array p = o_.weight_decay != 0 ? array(p0 + p0 * (scalar_like(-o_.weight_decay, lr) * lr)) : p0;
    return p - update;
  }

 private:
  static array rms(const array& x) { return sqrt(mean(square(x))); }
  AdafactorOptions o_;
};

// Muon (Jordan et al., 2024): SGD momentum (Nesterov by default) whose update, for a parameter
// of two or more dimensions, is replaced by its nearest semi-orthogonal matrix through ns_steps
// quintic Newton-Schulz iterations, and scaled by sqrt(max(1, rows / cols)). Weights of more
// than two dimensions (convolutions) are flattened to (shape[0], -1) for the iteration; 0-D and
// 1-D parameters get the plain momentum update (MLX suggests another optimizer for them, e.g.
// through MultiOptimizer). Weight decay is added to the gradient (L2), as MLX.
class Muon : public Optimizer {
 public:
  explicit Muon(LearningRate learning_rate, float momentum = 0.95f, float weight_decay = 0.01f, bool nesterov = true,
                int ns_steps = 5)
      : Optimizer(learning_rate), momentum_(momentum), weight_decay_(weight_decay), nesterov_(nesterov),
        ns_steps_(ns_steps) {
    detail::check_range("Muon", "momentum", momentum, 0, 1);
    if (ns_steps < 0) throw std::invalid_argument("[Muon] ns_steps must be non-negative, got " + std::to_string(ns_steps));
  }
  std::string name() const override { return "Muon"; }

 protected:
  void init_single(const array& p, Tree& state) override { state["v"] = zeros_like(p); }

  array apply_single(const array& g0, const array& p, Tree& state) override {
    const array g = weight_decay_ != 0 ? array(g0 + scalar_like(weight_decay_, p) * p) : g0;
    array v = scalar_like(momentum_, g) * state.at("v").as_array() + scalar_like(1 - momentum_, g) * g;
    state["v"] = v;
    array update = nesterov_ ? array(g * scalar_like(1 - momentum_, g) + v * scalar_like(momentum_, g)) : v;
    array step_lr = lr(g);
    if (update.ndim() >= 2) {
      const Shape shape = update.shape();
      const bool flatten = update.ndim() > 2;
      if (flatten) update = reshape(update, {shape[0], -1});
      update = newton_schulz5(update, ns_steps_);
      if (flatten) update = reshape(update, shape);
      // MLX's scale reads the last two axes of the update in its original shape.
      const double ratio = static_cast<double>(shape[shape.size() - 2]) / shape.back();
      step_lr = step_lr * scalar_like(static_cast<float>(std::sqrt(std::max(1.0, ratio))), step_lr);
    }
    return p - step_lr * update;
  }

 private:
  // MLX's _zeropower_via_newtonschulz5: X / |X|_F, then X <- a X + (b A + c A^2) X with
  // A = X X^T, on the wide orientation (transposed when there are more rows than columns).
  static array newton_schulz5(array x, int steps) {
    const bool transpose_needed = x.shape(0) > x.shape(1);
    if (transpose_needed) x = transpose(x);
    x = x / (sqrt(sum(square(x), true)) + scalar_like(1e-7f, x));
    const array a = scalar_like(3.4445f, x), b = scalar_like(-4.7750f, x);
    for (int i = 0; i < steps; ++i) {
      array A = matmul(x, transpose(x));
      array B = addmm(b * A, A, A, 2.0315f, 1.0f);
      x = addmm(a * x, B, x, 1.0f, 1.0f);
    }
    return transpose_needed ? transpose(x) : x;
  }
  float momentum_, weight_decay_;
  bool nesterov_;
  int ns_steps_;
};

// Several optimizers for parts of one model: each gradient goes to the first optimizer whose
// filter accepts its (dotted path, gradient); the last optimizer takes the rest and has no
// filter (so filters.size() == optimizers.size() - 1, as MLX). Each optimizer keeps its own
// state and step; state() is {"states": [state of each]}.
//
//   std::vector<std::unique_ptr<optim::Optimizer>> opts;
//   opts.push_back(std::make_unique<optim::Muon>(0.02f));
//   opts.push_back(std::make_unique<optim::AdamW>(1e-3f));
//   optim::MultiOptimizer opt(std::move(opts), {[](const std::string&, const array& g) { return g.ndim() >= 2; }});
//
// state() is kept as {"states": [...]} after every update, init and set_state (arrays are
// shared handles, so this costs no copies); restore a saved one with set_state.
class MultiOptimizer : public Optimizer {
 public:
  using Filter = std::function<bool(const std::string& path, const array&)>;

  MultiOptimizer(std::vector<std::unique_ptr<Optimizer>> optimizers, std::vector<Filter> filters = {})
      : Optimizer(0.0f), optimizers_(std::move(optimizers)), filters_(std::move(filters)) {
    if (optimizers_.empty()) throw std::invalid_argument("[MultiOptimizer] needs at least one optimizer");
    for (auto& o : optimizers_)
      if (!o) throw std::invalid_argument("[MultiOptimizer] an optimizer is null");
    if (filters_.size() != optimizers_.size() - 1) {
      throw std::invalid_argument("[MultiOptimizer] Given " + std::to_string(filters_.size()) + " filters but " +
                                  std::to_string(optimizers_.size() - 1) + " needed (the last optimizer is the "
                                  "fallback and has none)");
    }
    for (auto& f : filters_)
      if (!f) throw std::invalid_argument("[MultiOptimizer] a filter is empty");
    sync_state();
  }
  std::string name() const override { return "MultiOptimizer"; }

  Tree apply_gradients(const Tree& gradients, const Tree& parameters) override {
    const std::vector<Tree> parts = split(gradients);
    Tree out;
    for (size_t i = 0; i < optimizers_.size(); ++i) {
      out = merge(out, optimizers_[i]->apply_gradients(parts[i], parameters), "");
    }
    sync_state();
    return out;
  }
  void init(const Tree& parameters) override {
    const std::vector<Tree> parts = split(parameters);
    for (size_t i = 0; i < optimizers_.size(); ++i) optimizers_[i]->init(parts[i]);
    sync_state();
  }

  void set_state(Tree state) override {
    const Tree* states = state.is_dict() ? state.find("states") : nullptr;
    if (!states || !states->is_list() || states->size() != optimizers_.size()) {
      throw std::invalid_argument("[MultiOptimizer::set_state] expected {\"states\": [...]} with " +
                                  std::to_string(optimizers_.size()) + " states");
    }
    for (size_t i = 0; i < optimizers_.size(); ++i) optimizers_[i]->set_state(states->as_list()[i]);
    sync_state();
  }
  // The first optimizer's learning rate and step (MLX's learning_rate property); setting the
  // learning rate sets every optimizer's.
  array learning_rate() const override { return optimizers_[0]->learning_rate(); }
  void set_learning_rate(float lr) override {
    for (auto& o : optimizers_) o->set_learning_rate(lr);
    sync_state();
  }
  array step() const override { return optimizers_[0]->step(); }

  size_t size() const { return optimizers_.size(); }
  Optimizer& optimizer(size_t i) { return *optimizers_.at(i); }

 protected:
  // Every parameter goes to a child optimizer; the base's per-parameter walk is never used.
  void init_single(const array&, Tree&) override {}
  array apply_single(const array&, const array& parameter, Tree&) override { return parameter; }

 private:
  // The base state as {"states": [each optimizer's state]} (shared array handles).
  void sync_state() {
    Tree::List states;
    for (auto& o : optimizers_) states.push_back(o->state());
    state() = Tree::dict({{"states", Tree(std::move(states))}});
  }

  // The gradients (or parameters) each optimizer gets, by the first filter that accepts them.
  std::vector<Tree> split(const Tree& t) const {
    if (optimizers_.size() == 1) return {t};
    std::vector<std::vector<std::pair<std::string, array>>> parts(optimizers_.size());
    for (auto& [path, a] : tree::flatten_arrays(t)) {
      size_t i = 0;
      while (i < filters_.size() && !filters_[i](path, a)) ++i;
      parts[i].emplace_back(path, a);
    }
    std::vector<Tree> out;
    for (auto& p : parts) out.push_back(hollow(tree::unflatten(p)));
    return out;
  }
  // unflatten fills the list positions a part lacks with empty dicts; the base's walk would
  // pair such a dict with the parameter array there and refuse it (MLX's tree_map skips it),
  // so they become empty trees, which the walk passes over.
  static Tree hollow(Tree t) {
    if (t.is_dict()) {
      for (auto& [k, v] : t.as_dict()) v = hollow(std::move(v));
    } else if (t.is_list()) {
      for (auto& v : t.as_list()) v = v.is_dict() && v.size() == 0 ? Tree() : hollow(std::move(v));
    }
    return t;
  }

  // MLX's tree_merge: empty dicts and lists (the gaps unflatten leaves in a list) count as
  // absent, unlike tree::merge, which would see an overlap there.
  static Tree merge(const Tree& a, const Tree& b, const std::string& path) {
    auto blank = [](const Tree& t) { return t.empty() || ((t.is_dict() || t.is_list()) && t.size() == 0); };
    if (blank(a)) return b;
    if (blank(b)) return a;
    if (a.is_dict() && b.is_dict()) {
      Tree out = a;
      for (auto& [k, v] : b.as_dict()) {
        const Tree* mine = out.find(k);
        Tree merged = merge(mine ? *mine : Tree(), v, path.empty() ? k : path + "." + k);
        out[k] = std::move(merged);
      }
      return out;
    }
    if (a.is_list() && b.is_list()) {
      Tree::List out = a.as_list();
      const Tree::List& other = b.as_list();
      if (other.size() > out.size()) out.resize(other.size());
      for (size_t i = 0; i < other.size(); ++i) {
        out[i] = merge(out[i], other[i], path.empty() ? std::to_string(i) : path + "." + std::to_string(i));
      }
      return Tree(std::move(out));
    }
    throw std::invalid_argument("[MultiOptimizer] two optimizers updated the same entry '" + path + "'");
  }

  std::vector<std::unique_ptr<Optimizer>> optimizers_;
  std::vector<Filter> filters_;
};

}  // namespace tessera::optim
