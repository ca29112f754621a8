// custom_function, custom_vjp and checkpoint (transforms/custom.hpp), and the transforms of
// their node, CustomTransforms (primitives/misc.hpp).
#include "tessera/transforms/custom.hpp"

#include <algorithm>

#include "tessera/ops/creation.hpp"
#include "tessera/transforms/autodiff.hpp"
#include "tessera/transforms/vmap.hpp"

namespace tessera {

namespace {

// `fun` as a function of the arguments in `argnums` only, the others fixed to `args`.
CustomFn restricted(const CustomFn& fun, const std::vector<array>& args,
                    const std::vector<int>& argnums) {
  return [fun, args, argnums](const std::vector<array>& selected) {
    std::vector<array> all = args;
    for (size_t k = 0; k < argnums.size(); ++k) all[argnums[k]] = selected[k];
    return fun(all);
  };
}

std::vector<array> pick(const std::vector<array>& v, const std::vector<int>& idx) {
  std::vector<array> out;
  for (int i : idx) out.push_back(v[i]);
  return out;
}

}  // namespace

std::function<std::vector<array>(const std::vector<array>&)> custom_function(
    std::function<std::vector<array>(const std::vector<array>&)> fun,
    std::optional<CustomVjpFn> fun_vjp, std::optional<CustomJvpFn> fun_jvp,
    std::optional<CustomVmapFn> fun_vmap) {
  if (!fun) throw std::invalid_argument("[custom_function] the function is empty");
  return [fun, fun_vjp, fun_jvp, fun_vmap](const std::vector<array>& args) {
    std::vector<array> outputs = fun(args);
    std::vector<array> inputs = args;
    inputs.insert(inputs.end(), outputs.begin(), outputs.end());
    std::vector<Shape> shapes;
    std::vector<Dtype> dtypes;
    for (const array& o : outputs) {
      shapes.push_back(o.shape());
      dtypes.push_back(o.dtype());
    }
    auto prim = std::make_shared<CustomTransforms>(to_stream({}), static_cast<int>(args.size()),
                                                   fun, fun_vjp, fun_jvp, fun_vmap);
    return array::make_arrays(std::move(shapes), dtypes, prim, inputs);
  };
}

std::function<std::vector<array>(const std::vector<array>&)> custom_vjp(
    std::function<std::vector<array>(const std::vector<array>&)> fun, CustomVjpFn fun_vjp) {
  if (!fun_vjp) throw std::invalid_argument("[custom_vjp] the vjp function is empty");
  return custom_function(std::move(fun), std::move(fun_vjp));
}

std::function<std::vector<array>(const std::vector<array>&)> checkpoint(
    std::function<std::vector<array>(const std::vector<array>&)> fun) {
  if (!fun) throw std::invalid_argument("[checkpoint] the function is empty");
  // The backward pass traces `fun` again on the primals: the forward's intermediates were
  // released when the forward was evaluated, and are recomputed here, only while needed.
  CustomVjpFn recompute = [fun](const std::vector<array>& primals,
                                const std::vector<array>& cotangents, const std::vector<array>&) {
    std::vector<int> inexact;
    for (size_t i = 0; i < primals.size(); ++i) {
      if (issubdtype(primals[i].dtype(), tessera::inexact)) inexact.push_back(static_cast<int>(i));
    }
    std::vector<array> grads;
    for (const array& p : primals) grads.push_back(zeros_like(p));
    if (inexact.empty()) return grads;
    auto [outs, g] = vjp(restricted(fun, primals, inexact), pick(primals, inexact), cotangents);
    for (size_t k = 0; k < inexact.size(); ++k) grads[inexact[k]] = g[k];
    return grads;
  };
  return custom_function(std::move(fun), std::move(recompute));
}

// ---------------------------------------------------------------------------------------------
// CustomTransforms

void CustomTransforms::eval_cpu(const std::vector<array>& inputs, std::vector<array>& outputs) {
  for (size_t i = 0; i < outputs.size(); ++i) outputs[i].copy_shared_buffer(inputs[num_args_ + i]);
}

std::vector<array> CustomTransforms::vjp(const std::vector<array>& primals,
                                         const std::vector<array>& cotangents,
                                         const std::vector<int>& argnums,
                                         const std::vector<array>& outputs) {
  const std::vector<array> args(primals.begin(), primals.begin() + num_args_);
  // Cotangents reach the arguments only: the inputs after them are the traced outputs, whose
  // own graph must not carry a second copy of the gradient.
  std::vector<int> arg_nums;
  for (int i : argnums) {
    if (i < num_args_ && issubdtype(args[i].dtype(), inexact)) arg_nums.push_back(i);
  }
  std::vector<array> arg_grads(num_args_, array(0.0f));
  if (!arg_nums.empty()) {
    if (vjp_) {
      std::vector<array> g = (*vjp_)(args, cotangents, outputs);
      if (static_cast<int>(g.size()) != num_args_) {
        throw std::invalid_argument("[custom_function] the vjp returned " + std::to_string(g.size()) +
                                    " cotangents for " + std::to_string(num_args_) + " arguments");
      }
      arg_grads = std::move(g);
    } else {
      auto [outs, g] = tessera::vjp(restricted(fun_, args, arg_nums), pick(args, arg_nums), cotangents);
      for (size_t k = 0; k < arg_nums.size(); ++k) arg_grads[arg_nums[k]] = g[k];
    }
  }
  std::vector<array> out;
  for (int i : argnums) {
    if (i >= num_args_ || std::find(arg_nums.begin(), arg_nums.end(), i) == arg_nums.end()) {
      out.push_back(zeros_like(primals[i]));
      continue;
    }
    const array& g = arg_grads[i];
    if (g.shape() != args[i].shape()) {
      throw std::invalid_argument("[custom_function] the vjp of argument " + std::to_string(i) +
                                  " has shape " + shape_string(g.shape()) + ", the argument " +
                                  shape_string(args[i].shape()));
    }
    out.push_back(g);
  }
  return out;
}

std::vector<array> CustomTransforms::jvp(const std::vector<array>& primals,
                                         const std::vector<array>& tangents,
                                         const std::vector<int>& argnums) {
  const std::vector<array> args(primals.begin(), primals.begin() + num_args_);
  std::vector<int> arg_nums;
  std::vector<array> arg_tans;
  for (size_t k = 0; k < argnums.size(); ++k) {
    if (argnums[k] < num_args_ && issubdtype(args[argnums[k]].dtype(), inexact)) {
      arg_nums.push_back(argnums[k]);
      arg_tans.push_back(tangents[k]);
    }
  }
  const int num_outputs = static_cast<int>(primals.size()) - num_args_;
  if (arg_nums.empty()) {
    std::vector<array> zeros;
    for (int i = 0; i < num_outputs; ++i) zeros.push_back(zeros_like(primals[num_args_ + i]));
    return zeros;
  }
  if (jvp_) return (*jvp_)(args, arg_tans, arg_nums);
  return tessera::jvp(restricted(fun_, args, arg_nums), pick(args, arg_nums), arg_tans).second;
}

std::pair<std::vector<array>, std::vector<int>> CustomTransforms::vmap(
    const std::vector<array>& inputs, const std::vector<int>& axes) {
  const std::vector<array> args(inputs.begin(), inputs.begin() + num_args_);
  std::vector<int> arg_axes(axes.begin(), axes.begin() + num_args_);
  if (vmap_) return (*vmap_)(args, arg_axes);
  const int num_outputs = static_cast<int>(inputs.size()) - num_args_;
  auto outs = tessera::vmap(fun_, arg_axes, std::vector<int>(num_outputs, 0))(args);
  return {outs, std::vector<int>(num_outputs, 0)};
}

}  // namespace tessera
