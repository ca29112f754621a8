#pragma once
// A block of memory that holds an evaluated array's elements. Arrays share buffers (views),
// so a Buffer is always owned through std::shared_ptr; the allocator that made it gets it
// back (for caching) when the last owner lets go.
#include <cstddef>
#include <memory>

namespace tessera {

enum class BufferKind { cpu, vulkan };

class Buffer {
 public:
  Buffer(BufferKind kind, std::size_t size) : kind_(kind), size_(size) {}
  virtual ~Buffer() = default;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  BufferKind kind() const { return kind_; }
  std::size_t size() const { return size_; }
  // Host address of the first byte, or nullptr when the memory is not host-visible
  // (a device-local GPU buffer); the backends stage such buffers.
  virtual void* host_ptr() = 0;

 private:
  BufferKind kind_;
  std::size_t size_;
};

using BufferPtr = std::shared_ptr<Buffer>;

}  // namespace tessera
