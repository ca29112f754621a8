// vmap (transforms/vmap.hpp): trace the function on one slice per batched input, then rewrite
// the traced graph node by node with each primitive's batching rule.
#include "tessera/transforms/vmap.hpp"

#include <string>
#include <unordered_map>

#include "tessera/core/primitive.hpp"
#include "tessera/ops/shape.hpp"
#include "transforms/batching.hpp"
#include "transforms/tape.hpp"

namespace tessera {

namespace batching {

array to_front(const array& x, int axis, const Stream& s) {
  if (axis <= 0) return x;
  return moveaxis(x, axis, 0, s);
}

int batch_size(const std::vector<array>& inputs, const std::vector<int>& axes, const char* op) {
  int size = -1;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (axes[i] < 0) continue;
    const int n = inputs[i].shape(axes[i]);
    if (size >= 0 && n != size) {
      throw std::invalid_argument(std::string("[vmap] ") + op + ": inputs have batch sizes " +
                                  std::to_string(size) + " and " + std::to_string(n));
    }
    size = n;
  }
  if (size < 0) throw std::logic_error(std::string("[vmap] ") + op + ": no batched input");
  return size;
}

array aligned(const array& x, int axis, int rank, int batch, bool materialize_batch,
              const Stream& s) {
  if (axis < 0) {
    if (!materialize_batch) return x;
    Shape target = x.shape();
    target.insert(target.begin(), rank - x.ndim(), 1);
    target.insert(target.begin(), batch);
    return broadcast_to(x, target, s);
  }
  array f = to_front(x, axis, s);
  const int missing = rank - (f.ndim() - 1);
  if (missing <= 0) return f;
  Shape shape = f.shape();
  shape.insert(shape.begin() + 1, missing, 1);
  return reshape(f, shape, s);
}

}  // namespace batching

namespace {

void check_axes(const std::vector<int>& axes, size_t n, const char* what) {
  if (axes.size() != n) {
    throw std::invalid_argument(std::string("[vmap] ") + std::to_string(axes.size()) + " " + what +
                                " for " + std::to_string(n) + (n == 1 ? " array" : " arrays"));
  }
}

// One slice of `x` along `axis` (the first), standing for every slice while tracing.
array trace_slice(const array& x, int axis) {
  Shape start(x.ndim(), 0), stop = x.shape();
  stop[axis] = 1;
  return squeeze(slice(x, start, stop), axis);
}

}  // namespace

std::function<std::vector<array>(const std::vector<array>&)> vmap(
    const std::function<std::vector<array>(const std::vector<array>&)>& fun,
    const std::vector<int>& in_axes_arg, const std::vector<int>& out_axes_arg) {
  return [fun, in_axes_arg, out_axes_arg](const std::vector<array>& inputs) {
    std::vector<int> in_axes = in_axes_arg.empty() ? std::vector<int>(inputs.size(), 0) : in_axes_arg;
    check_axes(in_axes, inputs.size(), "in_axes");
    int batch = -1;
    for (size_t i = 0; i < inputs.size(); ++i) {
      const int ax = in_axes[i];
      if (ax == -1) continue;
      if (ax < 0 || ax >= inputs[i].ndim()) {
        throw std::invalid_argument("[vmap] in_axes " + std::to_string(ax) + " for input " +
                                    std::to_string(i) + " of shape " +
                                    shape_string(inputs[i].shape()));
      }
      const int n = inputs[i].shape(ax);
      if (batch >= 0 && n != batch) {
        throw std::invalid_argument("[vmap] input " + std::to_string(i) + " of shape " +
                                    shape_string(inputs[i].shape()) + " has " + std::to_string(n) +
                                    " entries along axis " + std::to_string(ax) +
                                    ", other inputs " + std::to_string(batch));
      }
      batch = n;
    }
    if (batch < 0) throw std::invalid_argument("[vmap] at least one input must be batched");

    // Trace on one slice per batched input; unbatched inputs are used as they are.
    std::vector<array> traced;
    std::vector<array> placeholders;
    std::unordered_map<std::uintptr_t, std::pair<array, int>> batched;  // traced id -> value, axis
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (in_axes[i] == -1) {
        traced.push_back(inputs[i]);
        continue;
      }
      array t = trace_slice(inputs[i], in_axes[i]);
      traced.push_back(t);
      placeholders.push_back(t);
      batched.emplace(t.id(), std::make_pair(inputs[i], in_axes[i]));
    }
    std::vector<array> outputs = fun(traced);
    std::vector<int> out_axes = out_axes_arg.empty() ? std::vector<int>(outputs.size(), 0) : out_axes_arg;
    check_axes(out_axes, outputs.size(), "out_axes");

    // Replace every node that reads a batched value by its batched form.
    for (auto& entry : dependent_tape(outputs, placeholders)) {
      std::vector<array> ins = entry.inputs;
      std::vector<int> axes(ins.size(), -1);
      bool any = false;
      for (size_t i = 0; i < ins.size(); ++i) {
        auto it = batched.find(ins[i].id());
        if (it == batched.end()) continue;
        ins[i] = it->second.first;
        axes[i] = it->second.second;
        any = true;
      }
      if (!any) continue;
      auto [outs, out_ax] = entry.primitive->vmap(ins, axes);
      auto originals = entry.node.outputs();
      for (size_t k = 0; k < originals.size() && k < outs.size(); ++k) {
        if (out_ax[k] >= 0) batched.insert_or_assign(originals[k].id(), std::make_pair(outs[k], out_ax[k]));
      }
    }

    std::vector<array> result;
    for (size_t i = 0; i < outputs.size(); ++i) {
      const array& o = outputs[i];
      const int want = out_axes[i];
      if (want < 0 || want > o.ndim()) {
        throw std::invalid_argument("[vmap] out_axes " + std::to_string(want) + " for output " +
                                    std::to_string(i) + " of per-example shape " +
                                    shape_string(o.shape()));
      }
      auto it = batched.find(o.id());
      if (it == batched.end()) {
        // Not batched: every example gets the same value.
        Shape target = o.shape();
        target.insert(target.begin() + want, batch);
        result.push_back(broadcast_to(expand_dims(o, want), target));
        continue;
      }
      const auto& [value, ax] = it->second;
      result.push_back(ax == want ? value : moveaxis(value, ax, want));
    }
    return result;
  };
}

std::function<array(const array&)> vmap(const std::function<array(const array&)>& fun, int in_axis,
                                        int out_axis) {
  auto f = vmap([fun](const std::vector<array>& x) { return std::vector<array>{fun(x[0])}; },
                {in_axis}, {out_axis});
  return [f](const array& x) { return f({x})[0]; };
}

std::function<array(const array&, const array&)> vmap(
    const std::function<array(const array&, const array&)>& fun, int in_axis_a, int in_axis_b,
    int out_axis) {
  auto f = vmap(
      [fun](const std::vector<array>& x) { return std::vector<array>{fun(x[0], x[1])}; },
      {in_axis_a, in_axis_b}, {out_axis});
  return [f](const array& a, const array& b) { return f({a, b})[0]; };
}

}  // namespace tessera
