#pragma once
// The optimizer base, as mlx.optimizers.Optimizer: an optimizer walks a gradient Tree beside
// the parameter Tree, keeps per-parameter state (a dict of arrays at the parameter's path) in
// one state Tree with `step` and `learning_rate` at its top, and returns the updated
// parameters. A concrete optimizer is init_single + apply_single (see optimizers.hpp).
//
//   optim::Adam opt(1e-3f);
//   auto [loss, grads] = loss_and_grad(x, y);
//   opt.update(model, grads);
//
// Hyper-parameters that can follow a schedule (the learning rate) are arrays in the state,
// evaluated at the step count *before* it is incremented (MLX's convention).
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <variant>

#include "tessera/nn/module.hpp"
#include "tessera/ops/creation.hpp"
#include "tessera/ops/elementwise.hpp"
#include "tessera/transforms/compile.hpp"
#include "tessera/utils/tree.hpp"

namespace tessera::optim {

using Schedule = std::function<array(const array& step)>;
using LearningRate = std::variant<float, Schedule>;

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual std::string name() const = 0;

  // Updates the model's parameters from gradients shaped like its trainable_parameters().
  void update(nn::Module& model, const Tree& gradients) { model.update(apply_gradients(gradients, model.parameters())); }

  // The updated parameters for `gradients` (the result has the gradients' structure;
  // `parameters` may hold more).
  virtual Tree apply_gradients(const Tree& gradients, const Tree& parameters) {
    if (schedule_) state_["learning_rate"] = astype((*schedule_)(step()), float32);
    // The count is an array of the state, not a host integer, so that a compiled training
    // step (transforms/compile.hpp, with the state captured) counts too. Scalar work: on the
    // CPU, which every device has (uint64 on a GPU needs shaderInt64).
    state_["step"] = add(step(), array(uint64_t{1}, uint64), Device(Device::cpu));
    return walk(gradients, &parameters, state_, "");
  }

  // Creates the per-parameter state now (it is otherwise created on the first update).
  virtual void init(const Tree& parameters) { init_walk(parameters, state_); }

  // The state tree (optimizers that combine others, MultiOptimizer, keep it as a view of theirs:
  // restore it through set_state).
  Tree& state() { return state_; }
  const Tree& state() const { return state_; }
  // Restores a state saved from an optimizer of the same kind (step and learning rate too).
  virtual void set_state(Tree state) {
    if (!state.is_dict() || !state.contains("step") || !state.contains("learning_rate")) {
      throw std::invalid_argument("[" + name() + "::set_state] the state must be a dict with 'step' and 'learning_rate'");
    }
    state_ = std::move(state);
  }
  // The number of updates so far (uint64, as MLX), and the learning rate of the last update
  // (schedule(0) before any).
  virtual array step() const { return state_.at("step").as_array(); }
  virtual array learning_rate() const { return state_.at("learning_rate").as_array(); }
  virtual void set_learning_rate(float lr) {
    schedule_.reset();
    state_["learning_rate"] = array(lr);
  }

 protected:
  explicit Optimizer(const LearningRate& lr) {
    state_ = Tree::dict();
    state_["step"] = array(uint64_t{0}, uint64);
    if (auto* f = std::get_if<float>(&lr)) {
      state_["learning_rate"] = array(*f);
    } else {
      schedule_ = std::get<Schedule>(lr);
      state_["learning_rate"] = astype((*schedule_)(array(uint64_t{0}, uint64)), float32);
    }
  }
  // The state of one parameter (arrays by name, e.g. "m" and "v"), created from the parameter.
  virtual void init_single(const array& parameter, Tree& state) = 0;
  // The parameter after one update; may update `state`.
  virtual array apply_single(const array& gradient, const array& parameter, Tree& state) = 0;

  // The learning rate in the gradient's dtype, and the step count of this update (>= 1) as a
  // float32 scalar on the CPU (the step-count terms are scalars: computed there too).
  array lr(const array& like) const { return astype(learning_rate(), like.dtype()); }
  array step_count() const { return astype(step(), float32, Device(Device::cpu)); }

 private:
  Tree walk(const Tree& g, const Tree* p, Tree& st, const std::string& path) {
    if (g.empty()) return Tree();
    auto fail = [&](const std::string& what) {
      throw std::invalid_argument("[" + name() + "] " + what + " at '" + path + "'");
    };
    if (!p) fail("the parameters have no entry");
    if (g.is_array()) {
      if (!p->is_array()) fail(std::string("the parameters hold ") + p->kind() + " where the gradient is an array");
      const array& param = p->as_array();
      if (param.shape() != g.as_array().shape()) {
        fail("the gradient has shape " + shape_string(g.as_array().shape()) + " but the parameter " +
             shape_string(param.shape()));
      }
      if (st.empty()) {
        st = Tree::dict();
        init_single(param, st);
      }
      return Tree(apply_single(g.as_array(), param, st));
    }
    if (g.is_list()) {
      if (!p->is_list()) fail(std::string("the parameters hold ") + p->kind() + " where the gradients hold a list");
      const auto& gl = g.as_list();
      if (st.empty()) st = Tree::list(Tree::List(gl.size()));
      if (!st.is_list()) fail("the optimizer state is not a list");
      if (st.as_list().size() < gl.size()) st.as_list().resize(gl.size());
      Tree::List out;
      for (size_t i = 0; i < gl.size(); ++i) {
        const Tree* pi = i < p->as_list().size() ? &p->as_list()[i] : nullptr;
        out.push_back(walk(gl[i], pi, st.as_list()[i], path.empty() ? std::to_string(i) : path + "." + std::to_string(i)));
      }
      return Tree(std::move(out));
    }
    if (!p->is_dict()) fail(std::string("the parameters hold ") + p->kind() + " where the gradients hold a dict");
    Tree::Dict out;
    for (auto& [k, v] : g.as_dict()) {
      const std::string sub = path.empty() ? k : path + "." + k;
      out.emplace_back(k, walk(v, p->find(k), st[k], sub));
    }
    return Tree(std::move(out));
  }
  void init_walk(const Tree& p, Tree& st) {
    if (p.is_array()) {
      if (st.empty()) {
        st = Tree::dict();
        init_single(p.as_array(), st);
      }
    } else if (p.is_list()) {
      if (st.empty()) st = Tree::list(Tree::List(p.as_list().size()));
      for (size_t i = 0; i < p.as_list().size(); ++i) init_walk(p.as_list()[i], st.as_list()[i]);
    } else if (p.is_dict()) {
      for (auto& [k, v] : p.as_dict()) init_walk(v, st[k]);
    }
  }

  Tree state_;
  std::optional<Schedule> schedule_;
};

// The state of a compiled training step (transforms/compile.hpp): the model's parameters and
// the optimizer's state are inputs and outputs of every trace, so the replayed step reads their
// current values and writes the updated ones back.
//
//   auto step = compile([&](const std::vector<array>& xy) {
//     auto [loss, grads] = loss_and_grad(xy[0], xy[1]);
//     opt.update(model, grads);
//     return std::vector<array>{loss};
//   }, optim::compile_state(model, opt));
inline CompileState compile_state(nn::Module& model, Optimizer& optimizer) {
  return {[&model, &optimizer] {
            Tree t = Tree::dict();
            t["model"] = model.parameters();
            t["optimizer"] = optimizer.state();
            return t;
          },
          [&model, &optimizer](const Tree& t) {
            model.update(t.at("model"));
            optimizer.set_state(t.at("optimizer"));
          }};
}

}  // namespace tessera::optim
