#pragma once
// Element types, MLX's type-promotion table, categories and numeric limits.
#include <complex>
#include <cstdint>
#include <string>

#include <Eigen/Core>  // Eigen::half and Eigen::bfloat16 are Tessera's 16-bit float host types

namespace tessera {

using float16_t = Eigen::half;
using bfloat16_t = Eigen::bfloat16;
using complex64_t = std::complex<float>;

struct Dtype {
  // The order matches MLX's, and indexes the promotion table.
  enum class Val : uint8_t {
    bool_, uint8, uint16, uint32, uint64, int8, int16, int32, int64,
    float16, float32, float64, bfloat16, complex64,
  };
  enum class Kind : char { b = 'b', u = 'u', i = 'i', f = 'f', V = 'V', c = 'c' };
  enum class Category {
    complexfloating, floating, inexact, signedinteger, unsignedinteger, integer, number, generic,
  };

  Val val;
  uint8_t size_;

  constexpr Dtype(Val v, uint8_t size) : val(v), size_(size) {}
  constexpr uint8_t size() const { return size_; }
  constexpr bool operator==(const Dtype& o) const { return val == o.val; }
};

inline constexpr Dtype bool_{Dtype::Val::bool_, 1};
inline constexpr Dtype uint8{Dtype::Val::uint8, 1};
inline constexpr Dtype uint16{Dtype::Val::uint16, 2};
inline constexpr Dtype uint32{Dtype::Val::uint32, 4};
inline constexpr Dtype uint64{Dtype::Val::uint64, 8};
inline constexpr Dtype int8{Dtype::Val::int8, 1};
inline constexpr Dtype int16{Dtype::Val::int16, 2};
inline constexpr Dtype int32{Dtype::Val::int32, 4};
inline constexpr Dtype int64{Dtype::Val::int64, 8};
inline constexpr Dtype float16{Dtype::Val::float16, 2};
inline constexpr Dtype float32{Dtype::Val::float32, 4};
inline constexpr Dtype float64{Dtype::Val::float64, 8};
inline constexpr Dtype bfloat16{Dtype::Val::bfloat16, 2};
inline constexpr Dtype complex64{Dtype::Val::complex64, 8};

inline constexpr int num_dtypes = 14;
inline constexpr Dtype all_dtypes[num_dtypes] = {bool_,   uint8,   uint16,  uint32,  uint64,
                                                 int8,    int16,   int32,   int64,   float16,
                                                 float32, float64, bfloat16, complex64};

inline constexpr Dtype::Category complexfloating = Dtype::Category::complexfloating;
inline constexpr Dtype::Category floating = Dtype::Category::floating;
inline constexpr Dtype::Category inexact = Dtype::Category::inexact;
inline constexpr Dtype::Category signedinteger = Dtype::Category::signedinteger;
inline constexpr Dtype::Category unsignedinteger = Dtype::Category::unsignedinteger;
inline constexpr Dtype::Category integer = Dtype::Category::integer;
inline constexpr Dtype::Category number = Dtype::Category::number;
inline constexpr Dtype::Category generic = Dtype::Category::generic;

inline constexpr int size_of(const Dtype& t) { return t.size(); }
Dtype::Kind kind(const Dtype& t);
Dtype promote_types(const Dtype& a, const Dtype& b);
bool issubdtype(const Dtype& a, const Dtype& b);
// The array-API dtype tests: isdtype(t, kind) for kind "bool", "signed integer", "unsigned
// integer", "integral", "real floating", "complex floating" or "numeric" (std::invalid_argument
// otherwise), and can_cast(from, to): `from` promotes to `to` without changing it.
bool isdtype(const Dtype& t, const std::string& kind);
bool can_cast(const Dtype& from, const Dtype& to);
bool issubdtype(const Dtype& a, const Dtype::Category& cat);
bool issubdtype(const Dtype::Category& a, const Dtype& b);
bool issubdtype(const Dtype::Category& a, const Dtype::Category& b);
std::string to_string(const Dtype& t);    // "float32"
const char* dtype_name(const Dtype& t);    // same, as a C string ("invalid" for a bad value)
// A Dtype made by casting an out-of-range Val (or with a size that is not its Val's) is not one
// of the 14 dtypes; every op that takes a dtype rejects it with std::invalid_argument naming
// `op`, before it could index a table or size a buffer with it.
bool is_valid(const Dtype& t);
void check_valid_dtype(const Dtype& t, const char* op);

inline bool is_floating(const Dtype& t) { return issubdtype(t, floating); }
inline bool is_integral(const Dtype& t) { return issubdtype(t, integer); }
inline bool is_complex(const Dtype& t) { return t == complex64; }
inline bool is_unsigned(const Dtype& t) { return issubdtype(t, unsignedinteger); }

// Machine limits of a floating type (as numpy.finfo / mx.finfo).
struct finfo {
  explicit finfo(Dtype t);
  Dtype dtype;
  double min, max, eps;
};
// Limits of an integer type (as numpy.iinfo / mx.iinfo); also accepts bool.
struct iinfo {
  explicit iinfo(Dtype t);
  Dtype dtype;
  int64_t min;
  uint64_t max;
};

// C++ type -> Dtype, following MLX C++'s mapping (double scalars are not float64 arrays unless
// asked; see the scalar rule in ops).
template <typename T> struct TypeToDtype;
template <> struct TypeToDtype<bool> { static constexpr Dtype value = bool_; };
template <> struct TypeToDtype<uint8_t> { static constexpr Dtype value = uint8; };
template <> struct TypeToDtype<uint16_t> { static constexpr Dtype value = uint16; };
template <> struct TypeToDtype<uint32_t> { static constexpr Dtype value = uint32; };
template <> struct TypeToDtype<uint64_t> { static constexpr Dtype value = uint64; };
template <> struct TypeToDtype<int8_t> { static constexpr Dtype value = int8; };
template <> struct TypeToDtype<int16_t> { static constexpr Dtype value = int16; };
template <> struct TypeToDtype<int32_t> { static constexpr Dtype value = int32; };
template <> struct TypeToDtype<int64_t> { static constexpr Dtype value = int64; };
template <> struct TypeToDtype<float16_t> { static constexpr Dtype value = float16; };
template <> struct TypeToDtype<float> { static constexpr Dtype value = float32; };
template <> struct TypeToDtype<double> { static constexpr Dtype value = float64; };
template <> struct TypeToDtype<bfloat16_t> { static constexpr Dtype value = bfloat16; };
template <> struct TypeToDtype<complex64_t> { static constexpr Dtype value = complex64; };
// long / long long / unsigned long differ between platforms; map them by width.
template <typename T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, bool> &&
           !std::is_same_v<T, int8_t> && !std::is_same_v<T, int16_t> &&
           !std::is_same_v<T, int32_t> && !std::is_same_v<T, int64_t> &&
           !std::is_same_v<T, uint8_t> && !std::is_same_v<T, uint16_t> &&
           !std::is_same_v<T, uint32_t> && !std::is_same_v<T, uint64_t>)
struct TypeToDtype<T> {
  static constexpr Dtype value = std::is_signed_v<T> ? (sizeof(T) == 8 ? int64 : int32)
                                                     : (sizeof(T) == 8 ? uint64 : uint32);
};

template <typename T> inline constexpr Dtype dtype_of = TypeToDtype<T>::value;

// Calls f(T{}) with T the host type of `t`: the one place that turns a runtime dtype into a
// compile-time type.
template <typename F>
decltype(auto) dispatch_dtype(Dtype t, F&& f) {
  switch (t.val) {
    case Dtype::Val::bool_: return f(bool{});
    case Dtype::Val::uint8: return f(uint8_t{});
    case Dtype::Val::uint16: return f(uint16_t{});
    case Dtype::Val::uint32: return f(uint32_t{});
    case Dtype::Val::uint64: return f(uint64_t{});
    case Dtype::Val::int8: return f(int8_t{});
    case Dtype::Val::int16: return f(int16_t{});
    case Dtype::Val::int32: return f(int32_t{});
    case Dtype::Val::int64: return f(int64_t{});
    case Dtype::Val::float16: return f(float16_t{});
    case Dtype::Val::float32: return f(float{});
    case Dtype::Val::float64: return f(double{});
    case Dtype::Val::bfloat16: return f(bfloat16_t{});
    case Dtype::Val::complex64: return f(complex64_t{});
  }
  return f(float{});
}

}  // namespace tessera
