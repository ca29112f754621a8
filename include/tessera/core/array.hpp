#pragma once
// `array`: a cheap shared handle to a node of the lazy graph. While lazy it holds the Primitive
// that will compute it and that primitive's inputs; once evaluated it holds a Buffer (possibly
// shared with other arrays, for views) and the graph above it is released.
#include <algorithm>
#include <atomic>
#include <complex>
#include <functional>
#include <cstring>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "tessera/core/buffer.hpp"
#include "tessera/core/dtype.hpp"
#include "tessera/core/shape.hpp"

namespace tessera {

class Primitive;
class Event;
class array;
class Index;       // NumPy-style indexing: ops/subscript.hpp
class IndexProxy;
class AtProxy;

array make_row_contiguous(const array& a);  // evaluated, row-major copy (or `a` itself)

// Throws what cpu::malloc throws for an impossible size (std::runtime_error), naming `op`.
[[noreturn]] void throw_cannot_allocate(size_t n, size_t elem_size, const char* op);

// A host vector of n elements for `op`: a size it cannot hold fails as cpu::malloc does, not
// with std::length_error or a bare std::bad_alloc (a broadcast view can have more elements
// than any host memory, and to_vector<double> of a bool array needs 8x its bytes).
template <typename T>
std::vector<T> host_vector(size_t n, const char* op) {
  std::vector<T> v;
  if (n > v.max_size()) throw_cannot_allocate(n, sizeof(T), op);
  try {
    v.resize(n);
  } catch (const std::bad_alloc&) {
    throw_cannot_allocate(n, sizeof(T), op);
  }
  return v;
}

// The C++ scalar rule shared with MLX C++: a scalar or initializer list of double becomes
// float32 (use an explicit dtype for float64); every other host type keeps its own dtype.
template <typename T>
inline constexpr Dtype default_dtype_of = std::is_same_v<T, double> ? float32 : dtype_of<T>;

template <typename T>
concept ScalarType = std::is_arithmetic_v<T> || std::is_same_v<T, float16_t> ||
                     std::is_same_v<T, bfloat16_t> || std::is_same_v<T, complex64_t>;

struct ArrayFlags {
  // MLX's meanings. contiguous: no gaps, every element of the memory range the view spans
  // belongs to it, in any order (permuted, or broadcast along stride-0 axes).
  bool contiguous = true;
  bool row_contiguous = true;  // C order, no gaps
  bool col_contiguous = true;  // Fortran order, no gaps
};
enum class ArrayStatus { unscheduled, scheduled, available };

// The node behind an array handle (shared by all copies of the handle).
struct ArrayDesc {
  Shape shape;
  Strides strides;
  Dtype dtype = float32;
  int64_t size = 1;
  ArrayFlags flags;
  // Read by any thread; written under the graph lock when scheduling (acquire/release: a
  // thread that sees `scheduled` also sees `event`).
  std::atomic<ArrayStatus> status{ArrayStatus::unscheduled};
  std::shared_ptr<Primitive> primitive;
  std::vector<array> inputs;
  // Multi-output primitives: the other outputs, held weakly to avoid a cycle.
  std::vector<std::weak_ptr<ArrayDesc>> siblings;
  int position = 0;  // this output's index among the primitive's outputs
  BufferPtr data;
  size_t offset = 0;
  std::shared_ptr<Event> event;  // set while the node is scheduled, until it is waited on
  // A copy of `data` on the other device kind, made once when the array crosses devices
  // (a CPU array read by a GPU kernel, or a device-local GPU array read on the host).
  // Guarded by one lock (array::mirror_of): threads may need it at the same time.
  BufferPtr mirror;
  ~ArrayDesc();  // releases long input chains iteratively (no recursion)
};

class array {
 public:
  using Flags = ArrayFlags;
  using Status = ArrayStatus;
  using Desc = ArrayDesc;

  // Every value constructor is explicit, as in MLX: an implicit one would make brace lists
  // ambiguous between overloads taking a Shape and an array (`reshape(x, {2, 3})`).
  //
  // Scalars (0-d arrays).
  template <ScalarType T>
  explicit array(T value, Dtype dtype = default_dtype_of<T>) : array(Shape{}, dtype) {
    fill_from(&value, 1, dtype_of<T>);
  }
  // 1-D from a braced list; or reshaped to `shape`.
  template <ScalarType T>
  explicit array(std::initializer_list<T> data, Dtype dtype = default_dtype_of<T>)
      : array(Shape{static_cast<int32_t>(data.size())}, dtype) {
    fill_from(data.begin(), data.size(), dtype_of<T>);
  }
  // MLX's two special cases: `array({})` is an empty float32 array (a template cannot deduce
  // from an empty list) and `array({}, dtype)` an empty array of `dtype`.
  explicit array(std::initializer_list<float> data)
      : array(Shape{static_cast<int32_t>(data.size())}, float32) {
    fill_from(data.begin(), data.size(), float32);
  }
  explicit array(std::initializer_list<int> data, Dtype dtype)
      : array(Shape{static_cast<int32_t>(data.size())}, dtype) {
    fill_from(data.begin(), data.size(), int32);
  }
  template <ScalarType T>
  explicit array(std::initializer_list<T> data, Shape shape, Dtype dtype = default_dtype_of<T>)
      : array(std::move(shape), dtype) {
    check_count(data.size());
    fill_from(data.begin(), data.size(), dtype_of<T>);
  }
  // From a range of host values laid out row-major in `shape`.
  template <typename It>
    requires ScalarType<typename std::iterator_traits<It>::value_type>
  explicit array(It first, Shape shape,
        Dtype dtype = default_dtype_of<typename std::iterator_traits<It>::value_type>)
      : array(std::move(shape), dtype) {
    using T = typename std::iterator_traits<It>::value_type;
    std::vector<T> tmp = host_vector<T>(size(), "array");
    std::copy(first, first + size(), tmp.begin());
    fill_from(tmp.data(), tmp.size(), dtype_of<T>);
  }
  template <ScalarType T>
  explicit array(const std::vector<T>& data, Shape shape, Dtype dtype = default_dtype_of<T>)
      : array(std::move(shape), dtype) {
    check_count(data.size());
    fill_from(data.data(), data.size(), dtype_of<T>);
  }
  // Raw bytes in `dtype`'s layout, row-major; the bytes are copied.
  explicit array(const void* raw, Shape shape, Dtype dtype);
  // MLX's form for memory the caller owns: the bytes are copied (Tessera's buffers come from
  // its own aligned allocators) and `deleter(data)` is called once the copy is made.
  explicit array(void* data, Shape shape, Dtype dtype, const std::function<void(void*)>& deleter);
  // A lazy node: the output of `primitive` applied to `inputs`.
  array(Shape shape, Dtype dtype, std::shared_ptr<Primitive> primitive, std::vector<array> inputs);
  // Several outputs of one primitive; returns them wired as siblings.
  static std::vector<array> make_arrays(std::vector<Shape> shapes, const std::vector<Dtype>& dtypes,
                                        const std::shared_ptr<Primitive>& primitive,
                                        const std::vector<array>& inputs);

  array(const array&) = default;
  array(array&&) noexcept = default;
  // Assignment rebinds a named handle. It is refused on temporaries, so that `a[{0}] = v` on a
  // const array (whose subscript is a plain copy) does not compile instead of doing nothing.
  array& operator=(const array&) & = default;
  array& operator=(array&&) & noexcept = default;

  // Shape and layout.
  const Shape& shape() const { return desc_->shape; }
  int32_t shape(int dim) const;
  const Strides& strides() const { return desc_->strides; }
  int64_t strides(int dim) const;
  Dtype dtype() const { return desc_->dtype; }
  size_t size() const { return static_cast<size_t>(desc_->size); }
  int ndim() const { return static_cast<int>(desc_->shape.size()); }
  size_t itemsize() const { return desc_->dtype.size(); }
  size_t nbytes() const { return size() * itemsize(); }
  const Flags& flags() const { return desc_->flags; }

  // Evaluation and element access. These evaluate (and wait) as needed.
  void eval();
  // Blocks until a scheduled computation of this array is done (async_eval); then
  // is_available() is true. An unscheduled array is evaluated.
  void wait();
  template <typename T> T item();
  template <typename T> T item() const { return const_cast<array*>(this)->item<T>(); }
  template <typename T> std::vector<T> to_vector();
  // Pointer to the first element, after evaluation (and a copy to the host when the array
  // lives in device-local GPU memory). Only defined for T matching dtype().
  template <typename T> T* data();
  template <typename T> const T* data() const { return const_cast<array*>(this)->data<T>(); }

  // Graph introspection.
  bool has_primitive() const { return desc_->primitive != nullptr; }
  Primitive& primitive() const { return *desc_->primitive; }
  const std::shared_ptr<Primitive>& primitive_ptr() const { return desc_->primitive; }
  const std::vector<array>& inputs() const { return desc_->inputs; }
  std::vector<array>& inputs() { return desc_->inputs; }
  std::vector<array> siblings() const;
  std::vector<array> outputs() const;  // this array and its siblings, in primitive output order
  Status status() const { return desc_->status.load(std::memory_order_acquire); }
  bool is_available() const;
  // Identity of the node (stable while any handle lives), and of its primitive (shared by the
  // outputs of a multi-output primitive; 0 for an array without one).
  std::uintptr_t id() const { return reinterpret_cast<std::uintptr_t>(desc_.get()); }
  std::uintptr_t primitive_id() const {
    return reinterpret_cast<std::uintptr_t>(desc_->primitive.get());
  }
  int sibling_position() const { return desc_->position; }
  // How many handles (variables, graph edges, temporaries) share this node. 1 means the caller
  // holds the only one: nothing else can read the node, so an op may fold it into its own.
  long use_count() const { return desc_.use_count(); }
  // Drop the graph above this node (it must be evaluated, or it becomes a constant-less leaf).
  // Takes the graph lock: other threads may be walking the graph through this node.
  void detach();

  // Backend interface: set the evaluated contents.
  void set_data(BufferPtr buf);                               // dense row-major, offset 0
  void set_data(BufferPtr buf, size_t byte_offset, Strides strides, Flags flags);
  void copy_shared_buffer(const array& other, const Strides& strides, Flags flags,
                          int64_t elem_offset);               // a view into other's buffer
  void copy_shared_buffer(const array& other);
  const BufferPtr& buffer() const { return desc_->data; }
  // The copy of the buffer in memory of `kind`, made by `make` the first time it is asked for
  // (see ArrayDesc::mirror); safe to call from several threads at once.
  BufferPtr mirror_of(BufferKind kind, const std::function<BufferPtr()>& make);
  size_t offset() const { return desc_->offset; }        // bytes from the buffer start
  size_t data_size() const;                              // elements the view spans in memory
  // The lowest and highest element the view touches, counted from its first element (lo <= 0
  // <= hi; both 0 for an empty view).
  std::pair<int64_t, int64_t> element_span() const;
  void* raw_host_ptr();                                  // host address of element 0 or null
  const std::shared_ptr<Event>& event() const { return desc_->event; }
  void set_event(std::shared_ptr<Event> e) { desc_->event = std::move(e); }
  void set_status(Status s) { desc_->status.store(s, std::memory_order_release); }

  // Iterating an array walks its first axis: `for (array row : x)` gives x[0], x[1], ...
  // (views; defined with the shape ops). A 0-d array cannot be iterated.
  class ArrayIterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using difference_type = std::ptrdiff_t;
    using value_type = array;
    using reference = array;
    ArrayIterator(const array& a, int index) : a_(&a), index_(index) {}
    array operator*() const;
    ArrayIterator& operator++() { ++index_; return *this; }
    ArrayIterator operator++(int) { ArrayIterator old = *this; ++index_; return old; }
    bool operator==(const ArrayIterator& o) const { return a_->id() == o.a_->id() && index_ == o.index_; }
   private:
    const array* a_;
    int index_;
  };
  ArrayIterator begin() const;
  ArrayIterator end() const;

  // NumPy-style indexing, `a[1]`, `a[{Slice(1, {}), ellipsis, newaxis, idx}]`; on a non-const
  // array, `a[{...}] = v` writes back. `a.at({...}).add(v)` and the other functional updates.
  // Defined in ops/subscript.hpp (included by tessera.hpp), which says the rules.
  IndexProxy operator[](const Index& i);
  IndexProxy operator[](std::initializer_list<Index> indices);
  array operator[](const Index& i) const;
  array operator[](std::initializer_list<Index> indices) const;
  AtProxy at(const Index& i) const;
  AtProxy at(std::initializer_list<Index> indices) const;

  // Mirrors of the free ops (defined in ops/).
  array astype(Dtype dtype) const;
  array reshape(Shape shape) const;
  array T() const;


 private:
  array(Shape shape, Dtype dtype);  // allocated host buffer, contents unset
  void fill_from(const void* src, size_t n, Dtype src_dtype);
  void check_count(size_t n) const;
  void* host_ptr_checked(Dtype requested, const char* what);

  std::shared_ptr<Desc> desc_;
  friend struct ArrayDesc;
};


// Converts host values of any scalar type into `dst_dtype` storage (used by constructors).
void convert_elements(const void* src, Dtype src_dtype, void* dst, Dtype dst_dtype, size_t n);

template <typename T>
T array::item() {
  if (size() != 1) {
    throw std::invalid_argument("[item] can only be called on arrays of size 1, got shape " +
                                shape_string(shape()));
  }
  eval();
  T out{};
  convert_elements(host_ptr_checked(dtype(), "item"), dtype(), &out, dtype_of<T>, 1);
  return out;
}

template <typename T>
std::vector<T> array::to_vector() {
  eval();
  std::vector<T> out = host_vector<T>(size(), "to_vector");
  array dense = *this;
  if (!flags().row_contiguous) dense = make_row_contiguous(*this);
  if (!out.empty()) {
    convert_elements(dense.host_ptr_checked(dtype(), "to_vector"), dtype(), out.data(),
                     dtype_of<T>, size());
  }
  return out;
}

template <typename T>
T* array::data() {
  return static_cast<T*>(host_ptr_checked(dtype_of<T>, "data"));
}

// MLX's result_type: the dtype the arrays promote to together.
inline Dtype result_type(const array& a, const array& b) { return promote_types(a.dtype(), b.dtype()); }
inline Dtype result_type(const array& a, const array& b, const array& c) {
  return promote_types(result_type(a, b), c.dtype());
}
Dtype result_type(const std::vector<array>& arrays);  // throws for an empty list

std::ostream& operator<<(std::ostream& os, const array& a);
std::ostream& operator<<(std::ostream& os, const Dtype& d);
std::ostream& operator<<(std::ostream& os, const Shape& s);

}  // namespace tessera
