#include "tessera/core/dtype.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace tessera {

namespace {
constexpr Dtype b = bool_, u8 = uint8, u16 = uint16, u32 = uint32, u64 = uint64, i8 = int8,
                i16 = int16, i32 = int32, i64 = int64, f16 = float16, f32 = float32,
                f64 = float64, bf16 = bfloat16, c64 = complex64;

// MLX's promotion table, rows and columns in Dtype::Val order. Mixed signedness widens to
// the next signed type; uint64 with any signed type has no integer home and becomes float32;
// float16 with bfloat16 meets in float32.
constexpr Dtype kPromotion[num_dtypes][num_dtypes] = {
    {b, u8, u16, u32, u64, i8, i16, i32, i64, f16, f32, f64, bf16, c64},
    {u8, u8, u16, u32, u64, i16, i16, i32, i64, f16, f32, f64, bf16, c64},
    {u16, u16, u16, u32, u64, i32, i32, i32, i64, f16, f32, f64, bf16, c64},
    {u32, u32, u32, u32, u64, i64, i64, i64, i64, f16, f32, f64, bf16, c64},
    {u64, u64, u64, u64, u64, f32, f32, f32, f32, f16, f32, f64, bf16, c64},
    {i8, i16, i32, i64, f32, i8, i16, i32, i64, f16, f32, f64, bf16, c64},
    {i16, i16, i32, i64, f32, i16, i16, i32, i64, f16, f32, f64, bf16, c64},
    {i32, i32, i32, i64, f32, i32, i32, i32, i64, f16, f32, f64, bf16, c64},
    {i64, i64, i64, i64, f32, i64, i64, i64, i64, f16, f32, f64, bf16, c64},
    {f16, f16, f16, f16, f16, f16, f16, f16, f16, f16, f32, f64, f32, c64},
    {f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f64, f32, c64},
    {f64, f64, f64, f64, f64, f64, f64, f64, f64, f64, f64, f64, f64, c64},
    {bf16, bf16, bf16, bf16, bf16, bf16, bf16, bf16, bf16, f32, f32, f64, bf16, c64},
    {c64, c64, c64, c64, c64, c64, c64, c64, c64, c64, c64, c64, c64, c64},
};

Dtype::Category category_of(const Dtype& t) {
  switch (kind(t)) {
    case Dtype::Kind::c: return complexfloating;
    case Dtype::Kind::f: return floating;
    case Dtype::Kind::i: return signedinteger;
    case Dtype::Kind::u: return unsignedinteger;
    default: return generic;
  }
}

bool category_contains(Dtype::Category outer, Dtype::Category inner) {
  if (outer == inner || outer == generic) return true;
  switch (outer) {
    case inexact: return inner == floating || inner == complexfloating;
    case integer: return inner == signedinteger || inner == unsignedinteger;
    case number:
      return inner != generic;
    default: return false;
  }
}
}  // namespace

Dtype::Kind kind(const Dtype& t) {
  switch (t.val) {
    case Dtype::Val::bool_: return Dtype::Kind::b;
    case Dtype::Val::uint8:
    case Dtype::Val::uint16:
    case Dtype::Val::uint32:
    case Dtype::Val::uint64: return Dtype::Kind::u;
    case Dtype::Val::int8:
    case Dtype::Val::int16:
    case Dtype::Val::int32:
    case Dtype::Val::int64: return Dtype::Kind::i;
    case Dtype::Val::float16:
    case Dtype::Val::float32:
    case Dtype::Val::float64:
    case Dtype::Val::bfloat16: return Dtype::Kind::f;
    case Dtype::Val::complex64: return Dtype::Kind::c;
  }
  return Dtype::Kind::V;
}

bool is_valid(const Dtype& t) {
  const int v = static_cast<int>(t.val);
  return v >= 0 && v < num_dtypes && all_dtypes[v].size() == t.size();
}

void check_valid_dtype(const Dtype& t, const char* op) {
  if (!is_valid(t)) {
    throw std::invalid_argument(std::string("[") + op + "] invalid dtype (value " +
                                std::to_string(static_cast<int>(t.val)) + ", size " +
                                std::to_string(static_cast<int>(t.size())) + ")");
  }
}

Dtype promote_types(const Dtype& a, const Dtype& b) {
  check_valid_dtype(a, "promote_types");
  check_valid_dtype(b, "promote_types");
  return kPromotion[static_cast<int>(a.val)][static_cast<int>(b.val)];
}

bool issubdtype(const Dtype& a, const Dtype& b) { return a == b; }
bool issubdtype(const Dtype& a, const Dtype::Category& cat) {
  if (a == bool_) return cat == generic;
  return category_contains(cat, category_of(a));
}
bool issubdtype(const Dtype::Category&, const Dtype&) { return false; }
bool issubdtype(const Dtype::Category& a, const Dtype::Category& b) {
  return category_contains(b, a);
}

const char* dtype_name(const Dtype& t) {
  static const char* names[num_dtypes] = {"bool",    "uint8",   "uint16",   "uint32",   "uint64",
                                          "int8",    "int16",   "int32",    "int64",    "float16",
                                          "float32", "float64", "bfloat16", "complex64"};
  return is_valid(t) ? names[static_cast<int>(t.val)] : "invalid";
}
std::string to_string(const Dtype& t) { return dtype_name(t); }

finfo::finfo(Dtype t) : dtype(t), min(0), max(0), eps(0) {
  if (!issubdtype(t, inexact)) {
    throw std::invalid_argument("[finfo] dtype " + to_string(t) + " is not inexact");
  }
  dispatch_dtype(t == complex64 ? float32 : t, [&](auto v) {
    using T = decltype(v);
    if constexpr (!std::is_same_v<T, complex64_t>) {
      min = static_cast<double>(std::numeric_limits<T>::lowest());
      max = static_cast<double>(std::numeric_limits<T>::max());
      // 2^(1 - digits): Eigen 3.4.0's numeric_limits<half>::epsilon() is 2^-13, not 2^-10.
      eps = std::ldexp(1.0, 1 - std::numeric_limits<T>::digits);
    }
  });
  if (t == complex64) dtype = float32;
}

iinfo::iinfo(Dtype t) : dtype(t), min(0), max(0) {
  if (!issubdtype(t, integer) && t != bool_) {
    throw std::invalid_argument("[iinfo] dtype " + to_string(t) + " is not an integer type");
  }
  dispatch_dtype(t, [&](auto v) {
    using T = decltype(v);
    if constexpr (std::is_integral_v<T>) {
      min = static_cast<int64_t>(std::numeric_limits<T>::lowest());
      max = static_cast<uint64_t>(std::numeric_limits<T>::max());
    }
  });
}

bool isdtype(const Dtype& t, const std::string& kind) {
  if (kind == "bool") return t == bool_;
  if (kind == "signed integer") return issubdtype(t, signedinteger);
  if (kind == "unsigned integer") return issubdtype(t, unsignedinteger);
  if (kind == "integral") return issubdtype(t, integer);
  if (kind == "real floating") return issubdtype(t, floating);
  if (kind == "complex floating") return issubdtype(t, complexfloating);
  if (kind == "numeric") return !(t == bool_);
  throw std::invalid_argument("[isdtype] unknown kind '" + kind + "'");
}

bool can_cast(const Dtype& from, const Dtype& to) { return promote_types(from, to) == to; }

}  // namespace tessera
