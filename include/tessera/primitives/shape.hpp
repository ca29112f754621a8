#pragma once
// Primitives of the shape ops. The view primitives (Reshape of a row-contiguous input,
// Transpose, Broadcast, Slice) compute nothing: their outputs share the input's buffer with
// new strides, on either device.
#include "tessera/core/primitive.hpp"

namespace tessera {

class Reshape : public Primitive {
 public:
  Reshape(Stream s, Shape shape) : Primitive(s), shape_(std::move(shape)) {}
  TESSERA_DEFINE_EVAL()
  TESSERA_DEFINE_GRADS()
  TESSERA_DEFINE_VMAP()
  TESSERA_DEFINE_NAME(Reshape)
  bool is_equivalent(const Primitive& o) const override;

 private:
  Shape shape_;
};

class Transpose : public Primitive {
 public:
  Transpose(Stream s, std::vector<int> axes) : Primitive(s), axes_(std::move(axes)) {}
  TESSERA_DEFINE_EVAL()
  TESSERA_DEFINE_GRADS()
  TESSERA_DEFINE_VMAP()
  TESSERA_DEFINE_OUTPUT_SHAPES()
  TESSERA_DEFINE_NAME(Transpose)
  bool is_equivalent(const Primitive& o) const override;

 private:
  std::vector<int> axes_;
};

class Broadcast : public Primitive {
 public:
  Broadcast(Stream s, Shape shape) : Primitive(s), shape_(std::move(shape)) {}
  TESSERA_DEFINE_EVAL()
  TESSERA_DEFINE_GRADS()
  TESSERA_DEFINE_VMAP()
  TESSERA_DEFINE_NAME(Broadcast)
  bool is_equivalent(const Primitive& o) const override;

 private:
  Shape shape_;
};

class Slice : public Primitive {
 public:
  Slice(Stream s, Shape start, Shape stop, Shape strides)
      : Primitive(s), start_(std::move(start)), stop_(std::move(stop)), strides_(std::move(strides)) {}
  TESSERA_DEFINE_EVAL()
  TESSERA_DEFINE_GRADS()
  TESSERA_DEFINE_VMAP()
  TESSERA_DEFINE_NAME(Slice)
  bool is_equivalent(const Primitive& o) const override;

 private:
  Shape start_, stop_, strides_;
};

// A copy of input 0 whose slice [start:stop:strides] is replaced by input 1.
class SliceUpdate : public Primitive {
 public:
  SliceUpdate(Stream s, Shape start, Shape stop, Shape strides)
      : Primitive(s), start_(std::move(start)), stop_(std::move(stop)), strides_(std::move(strides)) {}
  TESSERA_DEFINE_EVAL()
  TESSERA_DEFINE_GRADS()
  TESSERA_DEFINE_VMAP()
  TESSERA_DEFINE_NAME(SliceUpdate)

 private:
  Shape start_, stop_, strides_;
};

class Concatenate : public Primitive {
 public:
  Concatenate(Stream s, int axis) : Primitive(s), axis_(axis) {}
  TESSERA_DEFINE_EVAL()
  TESSERA_DEFINE_GRADS()
  TESSERA_DEFINE_VMAP()
  TESSERA_DEFINE_NAME(Concatenate)

 private:
  int axis_;
};

// A view of the row-contiguous input 0 with any shape, element strides and element offset
// (as_strided checks that it stays inside the input).
class AsStrided : public Primitive {
 public:
  AsStrided(Stream s, Shape shape, Strides strides, int64_t offset)
      : Primitive(s), shape_(std::move(shape)), strides_(std::move(strides)), offset_(offset) {}
  TESSERA_DEFINE_EVAL()
  TESSERA_DEFINE_GRADS()
  TESSERA_DEFINE_VMAP()
  TESSERA_DEFINE_NAME(AsStrided)
  bool is_equivalent(const Primitive& o) const override;

 private:
  Shape shape_;
  Strides strides_;
  int64_t offset_;
};

// The bytes of the row-contiguous input 0 read as another dtype (the last axis rescaled by the
// ratio of the sizes). Bit reinterpretation has no gradient: asking for one is an error.
class DtypeView : public Primitive {
 public:
  DtypeView(Stream s, Dtype dtype) : Primitive(s), dtype_(dtype) {}
  TESSERA_DEFINE_EVAL()
  TESSERA_DEFINE_VMAP()
  const char* name() const override { return "View"; }  // (MLX's name for it)
  bool is_equivalent(const Primitive& o) const override;

 private:
  Dtype dtype_;
};

// A row-major copy.
class Copy : public Primitive {
 public:
  using Primitive::Primitive;
  TESSERA_DEFINE_EVAL()
  TESSERA_DEFINE_GRADS()
  TESSERA_DEFINE_VMAP()
  TESSERA_DEFINE_OUTPUT_SHAPES()
  TESSERA_DEFINE_NAME(Copy)
};

// The view arithmetic shared by the CPU and GPU evaluation of the view primitives.
namespace views {
void reshape(const array& in, array& out);     // in must be row-contiguous
void transpose(const array& in, array& out, const std::vector<int>& axes);
void broadcast(const array& in, array& out);
void slice(const array& in, array& out, const Shape& start, const Shape& strides);
}  // namespace views

// Slice geometry (as Python slicing): `out` start offset (elements) and strides of the view.
int64_t slice_offset(const array& in, const Shape& start);

}  // namespace tessera

namespace tessera {
// Sums `g` down to `shape`: the reverse of broadcasting (used by gradient rules).
array sum_to_shape(const array& g, const Shape& shape, StreamOrDevice s = {});
// Flags (contiguity) of a view with these strides.
array::Flags flags_for(const Shape& shape, const Strides& strides);
// Returns a copy of `src` with its slice [start:stop:strides] replaced by `update`.
}  // namespace tessera
