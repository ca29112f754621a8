#pragma once
// Fashion-MNIST from the gzip'd IDX files of Debian's dataset-fashion-mnist package
// (/usr/share/datasets/fashion-mnist), read with zlib. The reader checks every header field
// against the file so that a damaged or foreign file fails with a message, never a huge
// allocation or a read past the end.
#include <zlib.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <tessera/tessera.hpp>

namespace examples {

inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";
inline constexpr const char* kFashionMnistClasses[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                         "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

struct Split {
  tessera::array images;  // (n, 28, 28, 1) float32 in [0, 1], channels last as MLX's convolutions want
  tessera::array labels;  // (n,) uint32 in [0, 10)
  int size = 0;
};

struct FashionMnist {
  Split train, test;
};

namespace detail {

// One IDX file, decompressed: the dimensions from its header and the unsigned bytes after it.
struct Idx {
  std::vector<uint32_t> dims;
  std::vector<uint8_t> bytes;
};

inline Idx read_idx_gz(const std::string& path, int expected_ndim) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error("cannot open " + path);
  struct Closer {
    gzFile f;
    ~Closer() { gzclose(f); }
  } closer{f};
  auto read_exact = [&](void* dst, size_t n, const char* what) {
    const int got = gzread(f, dst, static_cast<unsigned>(n));
    if (got < 0 || static_cast<size_t>(got) != n) {
      throw std::runtime_error(path + ": truncated or corrupt gzip data while reading the " + what);
    }
  };
  std::array<uint8_t, 4> magic{};
  read_exact(magic.data(), 4, "header");
  // IDX: two zero bytes, a type code (0x08: unsigned byte) and the number of dimensions.
  if (magic[0] != 0 || magic[1] != 0 || magic[2] != 0x08 || magic[3] != expected_ndim) {
    throw std::runtime_error(path + ": not an unsigned-byte IDX file with " + std::to_string(expected_ndim) +
                             " dimensions");
  }
  Idx idx;
  uint64_t total = 1;
  for (int d = 0; d < expected_ndim; ++d) {
    std::array<uint8_t, 4> be{};
    read_exact(be.data(), 4, "header");
    const uint32_t v = (uint32_t{be[0]} << 24) | (uint32_t{be[1]} << 16) | (uint32_t{be[2]} << 8) | be[3];
    if (v == 0 || v > 10'000'000) throw std::runtime_error(path + ": implausible dimension " + std::to_string(v));
    idx.dims.push_back(v);
    total *= v;
  }
  if (total > (uint64_t{1} << 31)) throw std::runtime_error(path + ": the header claims more than 2 GiB of data");
  idx.bytes.resize(static_cast<size_t>(total));
  read_exact(idx.bytes.data(), idx.bytes.size(), "data");
  return idx;
}

inline Split load_split(const std::string& dir, const std::string& prefix, int limit) {
  const Idx images = read_idx_gz(dir + "/" + prefix + "-images-idx3-ubyte.gz", 3);
  const Idx labels = read_idx_gz(dir + "/" + prefix + "-labels-idx1-ubyte.gz", 1);
  if (images.dims[1] != 28 || images.dims[2] != 28) {
    throw std::runtime_error(dir + ": " + prefix + " images are not 28x28");
  }
  if (images.dims[0] != labels.dims[0]) {
    throw std::runtime_error(dir + ": " + prefix + " has " + std::to_string(images.dims[0]) + " images but " +
                             std::to_string(labels.dims[0]) + " labels");
  }
  int n = static_cast<int>(images.dims[0]);
  if (limit > 0 && limit < n) n = limit;
  std::vector<uint32_t> y(labels.bytes.begin(), labels.bytes.begin() + n);
  for (uint32_t v : y) {
    if (v >= 10) throw std::runtime_error(dir + ": " + prefix + " label " + std::to_string(v) + " is not in [0, 10)");
  }
  namespace mx = tessera;
  mx::array raw(images.bytes.data(), mx::Shape{n, 28, 28, 1}, mx::uint8);
  Split s{mx::astype(raw, mx::float32) / 255.0f, mx::array(y.data(), mx::Shape{n}, mx::uint32), n};
  mx::eval(s.images, s.labels);
  return s;
}

}  // namespace detail

// Loads both splits from `dir` (the package's directory when empty); `train_limit` > 0 keeps
// the first train_limit training examples, `test_limit` > 0 the first test_limit test ones.
// Missing files name the package to install.
inline FashionMnist load_fashion_mnist(std::string dir, int train_limit = 0, int test_limit = 0) {
  if (dir.empty()) dir = kFashionMnistDir;
  for (const char* f : {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                        "t10k-labels-idx1-ubyte.gz"}) {
    if (!std::filesystem::exists(std::filesystem::path(dir) / f)) {
      throw std::runtime_error("Fashion-MNIST not found: " + dir + "/" + f +
                               " is missing. Install it with `sudo apt-get install dataset-fashion-mnist` "
                               "(Debian/Ubuntu), or pass --data DIR with the four *-ubyte.gz files.");
    }
  }
  return {detail::load_split(dir, "train", train_limit), detail::load_split(dir, "t10k", test_limit)};
}

}  // namespace examples
