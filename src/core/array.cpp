#include "tessera/core/array.hpp"

#include <mutex>

#include "backend/gpu.hpp"
#include "core/graph_lock.hpp"
#include "tessera/core/event.hpp"
#include "tessera/core/memory.hpp"
#include "tessera/core/primitive.hpp"

namespace tessera {

namespace {
template <typename To, typename From>
To convert_one(From v) {
  if constexpr (std::is_same_v<To, From>) {
    return v;
  } else if constexpr (std::is_same_v<From, complex64_t>) {
    return convert_one<To>(v.real());
  } else if constexpr (std::is_same_v<To, complex64_t>) {
    return complex64_t(convert_one<float>(v), 0.0f);
  } else if constexpr (std::is_same_v<To, bool>) {
    return static_cast<float>(v) != 0.0f || static_cast<double>(v) != 0.0;
  } else if constexpr (std::is_same_v<From, float16_t> || std::is_same_v<From, bfloat16_t>) {
    return static_cast<To>(static_cast<float>(v));
  } else if constexpr (std::is_same_v<To, float16_t> || std::is_same_v<To, bfloat16_t>) {
    return To(static_cast<float>(v));
  } else {
    return static_cast<To>(v);
  }
}
}  // namespace

void convert_elements(const void* src, Dtype src_dtype, void* dst, Dtype dst_dtype, size_t n) {
  if (src_dtype == dst_dtype) {
    std::memcpy(dst, src, n * src_dtype.size());
    return;
  }
  dispatch_dtype(src_dtype, [&](auto s) {
    using S = decltype(s);
    dispatch_dtype(dst_dtype, [&](auto d) {
      using D = decltype(d);
      auto* in = static_cast<const S*>(src);
      auto* out = static_cast<D*>(dst);
      for (size_t i = 0; i < n; ++i) out[i] = convert_one<D>(in[i]);
    });
  });
}

void throw_cannot_allocate(size_t n, size_t elem_size, const char* op) {
  throw std::runtime_error(std::string("[") + op + "] cannot allocate " + std::to_string(n) +
                           " elements of " + std::to_string(elem_size) + " bytes");
}

// The backstop of every constructor: ops validate their shapes and dtypes under their own
// names first, so this only fires for arrays built directly (or an op that forgot to).
static int64_t checked_size(const Shape& shape, Dtype dtype) {
  check_valid_dtype(dtype, "array");
  return checked_shape_size(shape, dtype.size(), "array");
}

array::array(Shape shape, Dtype dtype) : desc_(std::make_shared<Desc>()) {
  desc_->size = checked_size(shape, dtype);
  desc_->strides = row_major_strides(shape);
  desc_->shape = std::move(shape);
  desc_->dtype = dtype;
  desc_->status = Status::available;
  desc_->data = cpu::malloc(nbytes());
}

array::array(const void* raw, Shape shape, Dtype dtype) : array(std::move(shape), dtype) {
  if (nbytes() > 0) {
    if (!raw) throw std::invalid_argument("[array] null data pointer for a non-empty array");
    std::memcpy(desc_->data->host_ptr(), raw, nbytes());
  }
}

namespace {
// Calls the caller's deleter when the constructor is done with its memory, also when it throws
// (the array took ownership either way).
struct CallDeleter {
  void* data;
  const std::function<void(void*)>& deleter;
  ~CallDeleter() {
    if (deleter) deleter(data);
  }
};
}  // namespace

Dtype result_type(const std::vector<array>& arrays) {
  if (arrays.empty()) throw std::invalid_argument("[result_type] needs at least one array");
  Dtype t = arrays[0].dtype();
  for (const array& a : arrays) t = promote_types(t, a.dtype());
  return t;
}

array::array(void* data, Shape shape, Dtype dtype, const std::function<void(void*)>& deleter) {
  CallDeleter done{data, deleter};
  *this = array(static_cast<const void*>(data), std::move(shape), dtype);
}

array::array(Shape shape, Dtype dtype, std::shared_ptr<Primitive> primitive,
             std::vector<array> inputs)
    : desc_(std::make_shared<Desc>()) {
  desc_->size = checked_size(shape, dtype);
  desc_->strides = row_major_strides(shape);
  desc_->shape = std::move(shape);
  desc_->dtype = dtype;
  desc_->primitive = std::move(primitive);
  desc_->inputs = std::move(inputs);
}

std::vector<array> array::make_arrays(std::vector<Shape> shapes, const std::vector<Dtype>& dtypes,
                                      const std::shared_ptr<Primitive>& primitive,
                                      const std::vector<array>& inputs) {
  if (dtypes.size() != shapes.size()) {
    throw std::invalid_argument("[array] " + std::to_string(shapes.size()) + " output shapes but " +
                                std::to_string(dtypes.size()) + " dtypes");
  }
  std::vector<array> outs;
  for (size_t i = 0; i < shapes.size(); ++i) {
    outs.emplace_back(std::move(shapes[i]), dtypes[i], primitive, inputs);
    outs.back().desc_->position = static_cast<int>(i);
  }
  for (size_t i = 0; i < outs.size(); ++i) {
    for (size_t j = 0; j < outs.size(); ++j) {
      if (i != j) outs[i].desc_->siblings.push_back(outs[j].desc_);
    }
  }
  return outs;
}

void array::fill_from(const void* src, size_t n, Dtype src_dtype) {
  if (n) convert_elements(src, src_dtype, desc_->data->host_ptr(), dtype(), n);
}

void array::check_count(size_t n) const {
  if (n != size()) {
    throw std::invalid_argument("[array] " + std::to_string(n) + " values cannot fill shape " +
                                shape_string(shape()) + " (" + std::to_string(size()) +
                                " elements)");
  }
}

// As MLX's array::shape(dim) (which indexes with .at()): out of range is std::out_of_range.
static int checked_dim(int dim, int ndim, const char* what) {
  if (dim < -ndim || dim >= ndim) {
    throw std::out_of_range(std::string("[") + what + "] dimension " + std::to_string(dim) +
                            " is out of range for an array of dimension " + std::to_string(ndim));
  }
  return dim < 0 ? dim + ndim : dim;
}
int32_t array::shape(int dim) const {
  return desc_->shape[checked_dim(dim, ndim(), "array::shape")];
}
int64_t array::strides(int dim) const {
  return desc_->strides[checked_dim(dim, ndim(), "array::strides")];
}

std::vector<array> array::siblings() const {
  std::vector<array> out;
  for (auto& w : desc_->siblings) {
    if (auto d = w.lock()) {
      array a = *this;
      a.desc_ = d;
      out.push_back(a);
    }
  }
  return out;
}

std::vector<array> array::outputs() const {
  auto sib = siblings();
  std::vector<array> out(sib.size() + 1, *this);
  for (auto& s : sib) out[s.desc_->position] = s;
  out[desc_->position] = *this;
  return out;
}

std::mutex& graph_mutex() {
  static std::mutex m;
  return m;
}

void array::detach() {
  std::shared_ptr<Primitive> prim;
  std::vector<array> ins;
  {
    std::lock_guard<std::mutex> lock(graph_mutex());
    prim = std::move(desc_->primitive);
    ins = std::move(desc_->inputs);
    desc_->primitive = nullptr;
    desc_->inputs.clear();
  }
  // The released graph is destroyed here, outside the lock.
}

namespace {
std::mutex& mirror_mutex() {
  static std::mutex m;
  return m;
}
}  // namespace

BufferPtr array::mirror_of(BufferKind kind, const std::function<BufferPtr()>& make) {
  std::lock_guard<std::mutex> lock(mirror_mutex());
  if (!desc_->mirror || desc_->mirror->kind() != kind) desc_->mirror = make();
  return desc_->mirror;
}

void array::set_data(BufferPtr buf) {
  desc_->data = std::move(buf);
  desc_->offset = 0;
  desc_->strides = row_major_strides(shape());
  desc_->flags = Flags{};
}

void array::set_data(BufferPtr buf, size_t byte_offset, Strides strides, Flags flags) {
  desc_->data = std::move(buf);
  desc_->offset = byte_offset;
  desc_->strides = std::move(strides);
  desc_->flags = flags;
}

void array::copy_shared_buffer(const array& other, const Strides& strides, Flags flags,
                               int64_t elem_offset) {
  desc_->data = other.desc_->data;
  {
    // A view reads the same bytes as `other`, so it reads them from other's copy on the other
    // device too, if there is one (a slice of an uploaded host array is not uploaded again).
    std::lock_guard<std::mutex> lock(mirror_mutex());
    desc_->mirror = other.desc_->mirror;
  }
  desc_->offset = other.desc_->offset + elem_offset * static_cast<int64_t>(itemsize());
  desc_->strides = strides;
  desc_->flags = flags;
}

void array::copy_shared_buffer(const array& other) {
  copy_shared_buffer(other, other.strides(), other.flags(), 0);
}

std::pair<int64_t, int64_t> array::element_span() const {
  int64_t lo = 0, hi = 0;
  if (size() == 0) return {lo, hi};
  for (int i = 0; i < ndim(); ++i) {
    int64_t ext = static_cast<int64_t>(shape()[i] - 1) * strides()[i];
    (ext < 0 ? lo : hi) += ext;
  }
  return {lo, hi};
}

size_t array::data_size() const {
  if (size() == 0) return 0;
  const auto [lo, hi] = element_span();
  return static_cast<size_t>(hi - lo + 1);
}

void* array::raw_host_ptr() {
  if (!desc_->data) return nullptr;
  void* base = desc_->data->host_ptr();
  if (!base) {
    // Device-local GPU memory: one download per array, kept as its CPU mirror.
    const BufferPtr& data = desc_->data;
    base = mirror_of(BufferKind::cpu, [&] {
             auto copy = cpu::malloc(data->size());
             gpu::download(*data, 0, copy->host_ptr(), data->size());
             return copy;
           })->host_ptr();
  }
  return base ? static_cast<char*>(base) + desc_->offset : nullptr;
}

void* array::host_ptr_checked(Dtype requested, const char* what) {
  if (!(requested == dtype())) {
    throw std::invalid_argument(std::string("[") + what + "] requested " + to_string(requested) +
                                " elements of an array of dtype " + to_string(dtype()));
  }
  eval();
  if (!desc_->data) {
    throw std::runtime_error(std::string("[") + what + "] the array holds no data");
  }
  return raw_host_ptr();
}

ArrayDesc::~ArrayDesc() {
  // Dropping the last handle of a long chain would otherwise recurse once per node.
  thread_local bool unwinding = false;
  if (unwinding || inputs.empty()) return;
  unwinding = true;
  std::vector<array> pending = std::move(inputs);
  while (!pending.empty()) {
    array a = std::move(pending.back());
    pending.pop_back();
    if (a.desc_.use_count() == 1) {
      for (auto& in : a.desc_->inputs) pending.push_back(std::move(in));
      a.desc_->inputs.clear();
    }
  }
  unwinding = false;
}

void Primitive::eval_gpu(const std::vector<array>&, std::vector<array>&) {
  throw std::runtime_error(std::string("[") + name() +
                           "] this build of Tessera has no GPU backend");
}

void Primitive::print(std::ostream& os) const { os << name(); }

}  // namespace tessera

namespace tessera {

std::vector<array> Primitive::jvp(const std::vector<array>&, const std::vector<array>&,
                                  const std::vector<int>&) {
  throw std::runtime_error(std::string("[jvp] the primitive ") + name() +
                           " has no forward-mode derivative");
}
std::vector<array> Primitive::vjp(const std::vector<array>&, const std::vector<array>&,
                                  const std::vector<int>&, const std::vector<array>&) {
  throw std::runtime_error(std::string("[vjp] the primitive ") + name() +
                           " has no reverse-mode derivative");
}
std::pair<std::vector<array>, std::vector<int>> Primitive::vmap(const std::vector<array>&,
                                                                const std::vector<int>&) {
  throw std::runtime_error(std::string("[vmap] the primitive ") + name() +
                           " has no batching rule");
}
std::vector<Shape> Primitive::output_shapes(const std::vector<array>&) {
  throw std::invalid_argument(std::string("[compile] shapeless: the output shape of ") + name() +
                              " does not follow from its inputs' shapes (compile the function "
                              "with shapeless = false)");
}

}  // namespace tessera
