// Reverse and forward mode over the lazy graph. Both walk only the nodes that lie between the
// traced inputs and the outputs, in an order found without recursion.
#include "tessera/transforms/autodiff.hpp"

#include <algorithm>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "transforms/tape.hpp"
#include "tessera/core/primitive.hpp"
#include "tessera/ops/creation.hpp"
#include "tessera/ops/elementwise.hpp"
#include "tessera/ops/shape.hpp"

namespace tessera {

namespace {

// Fresh nodes standing for the inputs, so the walk can recognise them (a Copy of a row-major
// array shares its buffer: no data moves).
std::vector<array> trace_inputs(const std::vector<array>& primals) {
  std::vector<array> out;
  for (auto& p : primals) out.push_back(contiguous(p));
  return out;
}

void check_argnums(const std::vector<int>& argnums, size_t n, const char* op) {
  if (argnums.empty()) throw std::invalid_argument(std::string("[") + op + "] argnums is empty");
  for (int a : argnums) {
    if (a < 0 || static_cast<size_t>(a) >= n) {
      throw std::invalid_argument(std::string("[") + op + "] argnum " + std::to_string(a) +
                                  " is out of range for " + std::to_string(n) + " inputs");
    }
    // A repeated argnum would trace the input twice and give all its gradient to one copy.
    if (std::count(argnums.begin(), argnums.end(), a) > 1) {
      throw std::invalid_argument(std::string("[") + op + "] argnum " + std::to_string(a) +
                                  " is repeated in " + axes_string(argnums));
    }
  }
}

// Derivatives are taken with respect to inexact inputs only (as JAX; MLX would silently give
// an integer input an integer zero gradient).
void check_differentiable(const array& x, size_t index, const char* op) {
  if (!issubdtype(x.dtype(), inexact)) {
    throw std::invalid_argument(std::string("[") + op + "] input " + std::to_string(index) +
                                " has dtype " + to_string(x.dtype()) + " (shape " +
                                shape_string(x.shape()) +
                                "): inputs must be floating point or complex");
  }
}
void check_differentiable(const std::vector<array>& primals, const char* op) {
  for (size_t i = 0; i < primals.size(); ++i) check_differentiable(primals[i], i, op);
}

// value_and_grad under the name of the transform the user called (value_and_grad or grad).
ValueAndGradFn value_and_grad_named(const ArrayFn& fun, const std::vector<int>& argnums,
                                    const char* op) {
  return [fun, argnums, op](const std::vector<array>& inputs) {
    check_argnums(argnums, inputs.size(), op);
    std::vector<array> selected;
    for (int a : argnums) {
      check_differentiable(inputs[a], a, op);
      selected.push_back(inputs[a]);
    }
    std::vector<array> outputs;
    auto inner = [&](const std::vector<array>& sel) {
      std::vector<array> all = inputs;
      for (size_t k = 0; k < argnums.size(); ++k) all[argnums[k]] = sel[k];
      outputs = fun(all);
      if (outputs.empty() || outputs[0].ndim() != 0) {
        throw std::invalid_argument(
            std::string("[") + op +
            "] the function must return a scalar (0-d array) first, got shape " +
            (outputs.empty() ? std::string("nothing") : shape_string(outputs[0].shape())));
      }
      return std::vector<array>{outputs[0]};
    };
    auto [outs, grads] = vjp(inner, selected, {array(1.0f)});
    (void)outs;
    return std::make_pair(outputs, grads);
  };
}

}  // namespace

std::pair<std::vector<array>, std::vector<array>> vjp(const ArrayFn& fun,
                                                      const std::vector<array>& primals,
                                                      const std::vector<array>& cotangents) {
  check_differentiable(primals, "vjp");
  std::vector<array> traced = trace_inputs(primals);
  std::vector<array> outputs = fun(traced);
  if (cotangents.size() != outputs.size()) {
    throw std::invalid_argument("[vjp] got " + std::to_string(cotangents.size()) +
                                " cotangents for " + std::to_string(outputs.size()) + " outputs");
  }
  std::unordered_map<std::uintptr_t, array> cot;
  auto add_cot = [&](const array& target, array g) {
    auto it = cot.find(target.id());
    if (it == cot.end()) {
      cot.emplace(target.id(), std::move(g));
    } else {
      it->second = it->second + g;
    }
  };
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (cotangents[i].shape() != outputs[i].shape()) {
      throw std::invalid_argument("[vjp] cotangent of shape " + shape_string(cotangents[i].shape()) +
                                  " for an output of shape " + shape_string(outputs[i].shape()));
    }
    add_cot(outputs[i], astype(cotangents[i], outputs[i].dtype()));
  }

  std::vector<TapeNode> tape = dependent_tape(outputs, traced);
  std::unordered_set<std::uintptr_t> depends;
  for (auto& t : traced) depends.insert(t.id());
  for (auto& n : tape) {
    for (auto& o : n.node.outputs()) depends.insert(o.id());
  }
  for (auto it = tape.rbegin(); it != tape.rend(); ++it) {
    auto outs = it->node.outputs();
    bool any = false;
    std::vector<array> node_cots;
    for (auto& o : outs) {
      auto c = cot.find(o.id());
      if (c != cot.end()) {
        any = true;
        node_cots.push_back(c->second);
      } else {
        node_cots.push_back(zeros_like(o));
      }
    }
    if (!any) continue;
    std::vector<int> argnums;
    const auto& ins = it->inputs;
    for (size_t i = 0; i < ins.size(); ++i) {
      if (depends.count(ins[i].id())) argnums.push_back(static_cast<int>(i));
    }
    auto grads = it->primitive->vjp(ins, node_cots, argnums, outs);
    for (size_t k = 0; k < argnums.size(); ++k) add_cot(ins[argnums[k]], grads[k]);
  }

  std::vector<array> result;
  for (size_t i = 0; i < traced.size(); ++i) {
    auto c = cot.find(traced[i].id());
    array g = c != cot.end() ? c->second : zeros_like(primals[i]);
    if (!(g.dtype() == primals[i].dtype())) g = astype(g, primals[i].dtype());
    result.push_back(g);
  }
  return {outputs, result};
}

std::pair<array, array> vjp(const std::function<array(const array&)>& fun, const array& primal,
                            const array& cotangent) {
  auto [outs, grads] = vjp([&](const std::vector<array>& x) { return std::vector<array>{fun(x[0])}; },
                           {primal}, {cotangent});
  return {outs[0], grads[0]};
}

std::pair<std::vector<array>, std::vector<array>> jvp(const ArrayFn& fun,
                                                      const std::vector<array>& primals,
                                                      const std::vector<array>& tangents) {
  check_differentiable(primals, "jvp");
  if (primals.size() != tangents.size()) {
    throw std::invalid_argument("[jvp] got " + std::to_string(tangents.size()) + " tangents for " +
                                std::to_string(primals.size()) + " primals");
  }
  for (size_t i = 0; i < primals.size(); ++i) {
    if (primals[i].shape() != tangents[i].shape()) {
      throw std::invalid_argument("[jvp] tangent of shape " + shape_string(tangents[i].shape()) +
                                  " for a primal of shape " + shape_string(primals[i].shape()));
    }
  }
  std::vector<array> traced = trace_inputs(primals);
  std::vector<array> outputs = fun(traced);
  std::unordered_map<std::uintptr_t, array> tan;
  for (size_t i = 0; i < traced.size(); ++i) tan.emplace(traced[i].id(), tangents[i]);
  for (auto& entry : dependent_tape(outputs, traced)) {
    std::vector<int> argnums;
    std::vector<array> node_tans;
    const auto& ins = entry.inputs;
    for (size_t i = 0; i < ins.size(); ++i) {
      auto t = tan.find(ins[i].id());
      if (t != tan.end()) {
        argnums.push_back(static_cast<int>(i));
        node_tans.push_back(t->second);
      }
    }
    if (argnums.empty()) continue;
    auto outs = entry.node.outputs();
    auto res = entry.primitive->jvp(ins, node_tans, argnums);
    for (size_t k = 0; k < outs.size() && k < res.size(); ++k) tan.insert_or_assign(outs[k].id(), res[k]);
  }
  std::vector<array> out_tans;
  for (auto& o : outputs) {
    auto t = tan.find(o.id());
    out_tans.push_back(t != tan.end() ? t->second : zeros_like(o));
  }
  return {outputs, out_tans};
}

std::pair<array, array> jvp(const std::function<array(const array&)>& fun, const array& primal,
                            const array& tangent) {
  auto [outs, tans] = jvp([&](const std::vector<array>& x) { return std::vector<array>{fun(x[0])}; },
                          {primal}, {tangent});
  return {outs[0], tans[0]};
}

ValueAndGradFn value_and_grad(const ArrayFn& fun, const std::vector<int>& argnums) {
  return value_and_grad_named(fun, argnums, "value_and_grad");
}
ValueAndGradFn value_and_grad(const ArrayFn& fun, int argnum) {
  return value_and_grad(fun, std::vector<int>{argnum});
}
SimpleValueAndGradFn value_and_grad(const std::function<array(const std::vector<array>&)>& fun,
                                    const std::vector<int>& argnums) {
  auto vg = value_and_grad([fun](const std::vector<array>& x) { return std::vector<array>{fun(x)}; },
                           argnums);
  return [vg](const std::vector<array>& x) {
    auto [v, g] = vg(x);
    return std::make_pair(v[0], g);
  };
}
SimpleValueAndGradFn value_and_grad(const std::function<array(const std::vector<array>&)>& fun,
                                    int argnum) {
  return value_and_grad(fun, std::vector<int>{argnum});
}
std::function<std::pair<array, array>(const array&)> value_and_grad(
    const std::function<array(const array&)>& fun) {
  auto vg = value_and_grad([fun](const std::vector<array>& x) { return fun(x[0]); }, 0);
  return [vg](const array& x) {
    auto [v, g] = vg({x});
    return std::make_pair(v, g[0]);
  };
}

std::function<std::vector<array>(const std::vector<array>&)> grad(
    const std::function<array(const std::vector<array>&)>& fun, const std::vector<int>& argnums) {
  auto vg = value_and_grad_named(
      [fun](const std::vector<array>& x) { return std::vector<array>{fun(x)}; }, argnums, "grad");
  return [vg](const std::vector<array>& x) { return vg(x).second; };
}
std::function<std::vector<array>(const std::vector<array>&)> grad(
    const std::function<array(const std::vector<array>&)>& fun, int argnum) {
  return grad(fun, std::vector<int>{argnum});
}
std::function<array(const array&)> grad(const std::function<array(const array&)>& fun) {
  auto g = grad([fun](const std::vector<array>& x) { return fun(x[0]); }, 0);
  return [g](const array& x) { return g({x})[0]; };
}

}  // namespace tessera
