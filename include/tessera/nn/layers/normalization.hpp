#pragma once
// LayerNorm, RMSNorm, GroupNorm, InstanceNorm and BatchNorm, as mlx.nn's (features last).
// 16-bit inputs are normalised in float32 and cast back, as MLX's fused kernels accumulate.
#include <optional>
#include <string>

#include "tessera/nn/layers/linear.hpp"
#include "tessera/ops/creation.hpp"
#include "tessera/ops/misc.hpp"
#include "tessera/ops/reduce.hpp"

namespace tessera::nn {

namespace detail {
inline Dtype compute_dtype(Dtype t) { return t == float16 || t == bfloat16 ? float32 : t; }
// (x - mean) / sqrt(var + eps) over `axes`, in float32 for 16-bit inputs.
inline array standardize(const array& x, const std::vector<int>& axes, float eps) {
  array xf = astype(x, compute_dtype(x.dtype()));
  array mu = mean(xf, axes, true);
  array v = var(xf, axes, true);
  return (xf - mu) * rsqrt(v + array(eps, xf.dtype()));
}
}  // namespace detail

class LayerNorm : public Module {
 public:
  std::optional<array> weight, bias;
  LayerNorm(int dims, float eps = 1e-5f, bool affine = true, bool use_bias = true) : dims_(dims), eps_(eps) {
    detail::check_positive("LayerNorm", "dims", dims);
    if (affine) {
      weight = ones({dims});
      if (use_bias) bias = zeros({dims});
    }
    register_parameter("weight", weight);
    register_parameter("bias", bias);
  }
  std::string name() const override { return "LayerNorm"; }
  std::string describe() const override {
    return std::to_string(dims_) + ", eps=" + std::to_string(eps_) + ", affine=" + detail::py_bool(weight.has_value());
  }
  array operator()(const array& x) const {
    detail::check_features("LayerNorm", x, dims_);
    array y = detail::standardize(x, {-1}, eps_);
    if (weight) y = y * *weight;
    if (bias) y = y + *bias;
    return astype(y, x.dtype());
  }
  array forward(const array& x) override { return (*this)(x); }

 private:
  int dims_;
  float eps_;
};

class RMSNorm : public Module {
 public:
  array weight;
  RMSNorm(int dims, float eps = 1e-5f)
      : weight((detail::check_positive("RMSNorm", "dims", dims), ones({dims}))), eps_(eps) {
    register_parameter("weight", weight);
  }
  std::string name() const override { return "RMSNorm"; }
  std::string describe() const override { return std::to_string(weight.shape(0)) + ", eps=" + std::to_string(eps_); }
  array operator()(const array& x) const {
    detail::check_features("RMSNorm", x, weight.shape(0));
    array xf = astype(x, detail::compute_dtype(x.dtype()));
    array y = xf * rsqrt(mean(square(xf), -1, true) + array(eps_, xf.dtype()));
    return astype(y * weight, x.dtype());
  }
  array forward(const array& x) override { return (*this)(x); }

 private:
  float eps_;
};

// Groups of consecutive features (MLX's default) or, with pytorch_compatible, PyTorch's
// grouping of the channel axis, normalised over the spatial axes and the group's features.
class GroupNorm : public Module {
 public:
  std::optional<array> weight, bias;
  GroupNorm(int num_groups, int dims, float eps = 1e-5f, bool affine = true, bool pytorch_compatible = false)
      : groups_(num_groups), dims_(dims), eps_(eps), pytorch_(pytorch_compatible) {
    detail::check_positive("GroupNorm", "num_groups", num_groups);
    detail::check_positive("GroupNorm", "dims", dims);
    if (dims % num_groups != 0) {
      throw std::invalid_argument("[GroupNorm] dims (" + std::to_string(dims) + ") must be divisible by num_groups (" +
                                  std::to_string(num_groups) + ")");
    }
    if (affine) {
      weight = ones({dims});
      bias = zeros({dims});
    }
    register_parameter("weight", weight);
    register_parameter("bias", bias);
  }
  std::string name() const override { return "GroupNorm"; }
  std::string describe() const override {
    return std::to_string(groups_) + ", " + std::to_string(dims_) + ", eps=" + std::to_string(eps_) +
           ", affine=" + detail::py_bool(weight.has_value()) + ", pytorch_compatible=" + detail::py_bool(pytorch_);
  }
  array operator()(const array& x) const {
    detail::check_features("GroupNorm", x, dims_);
    if (x.ndim() < 2) throw std::invalid_argument("[GroupNorm] expects (batch, ..., dims), got " + shape_string(x.shape()));
    array y = pytorch_ ? pytorch_groups(x) : mlx_groups(x);
    if (weight) y = y * *weight + *bias;
    return astype(y, x.dtype());
  }
  array forward(const array& x) override { return (*this)(x); }

 private:
  // PyTorch's grouping: group g holds the consecutive channels g*D/G .. (g+1)*D/G - 1.
  array pytorch_groups(const array& x) const {
    const int batch = x.shape(0), per_group = dims_ / groups_;
    array g = reshape(transpose(reshape(x, {batch, -1, groups_, per_group}), {0, 2, 1, 3}), {batch, groups_, -1});
    g = detail::standardize(g, {-1}, eps_);
    return reshape(transpose(reshape(g, {batch, groups_, -1, per_group}), {0, 2, 1, 3}), x.shape());
  }
  // MLX's default grouping: channel c belongs to group c % G (a reshape to (B, -1, G)).
  array mlx_groups(const array& x) const {
    return reshape(detail::standardize(reshape(x, {x.shape(0), -1, groups_}), {1}, eps_), x.shape());
  }
  int groups_, dims_;
  float eps_;
  bool pytorch_;
};

// Normalises each example's every feature over its spatial axes.
class InstanceNorm : public Module {
 public:
  std::optional<array> weight, bias;
  InstanceNorm(int dims, float eps = 1e-5f, bool affine = false) : dims_(dims), eps_(eps) {
    detail::check_positive("InstanceNorm", "dims", dims);
    if (affine) {
      weight = ones({dims});
      bias = zeros({dims});
    }
    register_parameter("weight", weight);
    register_parameter("bias", bias);
  }
  std::string name() const override { return "InstanceNorm"; }
  std::string describe() const override {
    return std::to_string(dims_) + ", eps=" + std::to_string(eps_) + ", affine=" + detail::py_bool(weight.has_value());
  }
  array operator()(const array& x) const {
    detail::check_features("InstanceNorm", x, dims_);
    if (x.ndim() < 3) throw std::invalid_argument("[InstanceNorm] expects (batch, spatial..., dims), got " + shape_string(x.shape()));
    std::vector<int> axes;
    for (int a = 1; a < x.ndim() - 1; ++a) axes.push_back(a);
    array y = detail::standardize(x, axes, eps_);
    if (weight) y = y * *weight + *bias;
    return astype(y, x.dtype());
  }
  array forward(const array& x) override { return (*this)(x); }

 private:
  int dims_;
  float eps_;
};

// Batch statistics in training (and running averages updated with `momentum`), the running
// averages in evaluation. The running statistics are buffers: saved and loaded, never trained.
class BatchNorm : public Module {
 public:
  std::optional<array> weight, bias;
  std::optional<array> running_mean, running_var;

  BatchNorm(int num_features, float eps = 1e-5f, float momentum = 0.1f, bool affine = true,
            bool track_running_stats = true)
      : dims_(num_features), eps_(eps), momentum_(momentum) {
    detail::check_positive("BatchNorm", "num_features", num_features);
    if (affine) {
      weight = ones({num_features});
      bias = zeros({num_features});
    }
    register_parameter("weight", weight);
    register_parameter("bias", bias);
    if (track_running_stats) {
      running_mean = zeros({num_features});
      running_var = ones({num_features});
    }
    register_buffer("running_mean", running_mean);
    register_buffer("running_var", running_var);
  }
  std::string name() const override { return "BatchNorm"; }
  std::string describe() const override {
    return std::to_string(dims_) + ", eps=" + std::to_string(eps_) + ", momentum=" + std::to_string(momentum_) +
           ", affine=" + detail::py_bool(weight.has_value()) +
           ", track_running_stats=" + detail::py_bool(running_mean.has_value());
  }
  array operator()(const array& x) {
    detail::check_features("BatchNorm", x, dims_);
    if (x.ndim() < 2 || x.ndim() > 4) {
      throw std::invalid_argument("[BatchNorm] expects 2-4 dimensions (NC, NLC, NHWC), got " + shape_string(x.shape()));
    }
    std::vector<int> axes;
    for (int a = 0; a < x.ndim() - 1; ++a) axes.push_back(a);
    const Dtype ct = detail::compute_dtype(x.dtype());
    array xf = astype(x, ct);
    if (training() && x.size() / dims_ <= 1) {
      throw std::invalid_argument("[BatchNorm] training needs more than one value per channel, got shape " +
                                  shape_string(x.shape()));
    }
    const bool batch_stats = training() || !running_mean;
    array mu = batch_stats ? mean(xf, axes) : *running_mean;
    array v = batch_stats ? var(xf, axes) : *running_var;
    if (training() && running_mean) {
      // As MLX: the running variance is the unbiased one.
      const array m(momentum_, ct), keep(1.0f - momentum_, ct);
      *running_mean = stop_gradient(keep * *running_mean + m * mu);
      *running_var = stop_gradient(keep * *running_var + m * var(xf, axes, false, 1));
    }
    array y = (xf - mu) * rsqrt(v + array(eps_, ct));
    if (weight) y = y * *weight + *bias;
    return astype(y, x.dtype());
  }
  array forward(const array& x) override { return (*this)(x); }

 private:
  int dims_;
  float eps_, momentum_;
};

}  // namespace tessera::nn
