#pragma once
// Tessera's Vulkan runtime: one device, a caching buffer allocator, kernels (compute
// pipelines) and streams that batch dispatches into command buffers. Array ops are written
// on top of this layer; nothing here knows about dtypes or shapes.
//
// Kernel ABI (every kernel, embedded or generated):
//   set 0, bindings 0..num_buffers-1   storage buffers (whole buffer bound; element offsets
//                                      travel in push constants or params)
//   set 0, binding num_buffers         readonly storage buffer "params" (per-dispatch blob)
//   push constants                     128 bytes, compute stage
#include <vulkan/vulkan.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "tessera/core/buffer.hpp"

namespace tessera::vulkan {

struct Capabilities {
  std::string device_name;
  uint32_t vendor_id = 0;
  VkPhysicalDeviceType type = VK_PHYSICAL_DEVICE_TYPE_OTHER;
  uint32_t api_version = 0;
  // Shader arithmetic.
  bool float16_arith = false, float64 = false, int64 = false, int16 = false, int8 = false;
  // 64-bit atomics on storage buffers (the scatters of 8-byte dtypes).
  bool int64_atomics = false;
  // 8/16-bit storage buffer access.
  bool storage8 = false, storage16 = false;
  uint32_t subgroup_size = 1;
  bool subgroup_arith = false;
  uint32_t max_shared_memory = 0, max_workgroup_invocations = 0, max_workgroup_count[3] = {0, 0, 0};
  // What one storage-buffer binding reaches; TESSERA_VK_MAX_BINDING_RANGE=<bytes> lowers it
  // (tests use it to split work over windows with small arrays).
  uint64_t max_storage_buffer_range = 0;
  uint64_t min_storage_offset_alignment = 1;
  bool cooperative_matrix = false;
  bool host_visible_device_local = false;  // device-local memory the host reads cached (zero-copy)
  bool timeline_semaphore = false;
  // VK_KHR_push_descriptor: kernels with up to max_push_descriptors bindings get their buffers
  // pushed into the command buffer instead of through a descriptor set allocated per dispatch.
  bool push_descriptor = false;
  uint32_t max_push_descriptors = 0;
};
// Every optional feature honours TESSERA_VK_DISABLE_<NAME>=1 (FP16, FLOAT64, INT64, INT16,
// INT8, STORAGE8, STORAGE16, SUBGROUP, COOPMAT, ZERO_COPY, TIMELINE, which makes streams
// track completion with fences, and PUSH_DESCRIPTOR, which makes every dispatch allocate a
// descriptor set): the capability reads false and the feature is not enabled on the device,
// because drivers sometimes claim features they get wrong.

// Where a buffer's memory should live. Arrays use `automatic`; the others exist for staging
// and for tests that must exercise the staged path on devices where everything is mappable.
enum class MemoryHint {
  automatic,     // device-local + host-visible (zero-copy) when allowed, else device-local
  device_local,  // never mapped: host_ptr() is nullptr, host access is staged
  host,          // host-visible, coherent, cached when possible (staging, parameter arenas)
};

class MemoryPool;

class DeviceBuffer : public tessera::Buffer, public std::enable_shared_from_this<DeviceBuffer> {
 public:
  VkBuffer handle() const { return buffer_; }
  void* host_ptr() override { return mapped_; }  // nullptr when not host-visible
  std::size_t capacity() const { return capacity_; }  // the size class actually allocated

 private:
  friend class MemoryPool;
  DeviceBuffer(std::size_t size, std::size_t capacity, VkBuffer buffer, VkDeviceMemory memory,
               void* mapped, MemoryHint hint)
      : Buffer(BufferKind::vulkan, size), capacity_(capacity), buffer_(buffer), memory_(memory),
        mapped_(mapped), hint_(hint) {}
  std::size_t capacity_;
  VkBuffer buffer_;
  VkDeviceMemory memory_;
  void* mapped_;
  MemoryHint hint_;
};

struct Binding {
  DeviceBuffer* buffer;
  // false promises the kernel only reads this buffer, which lets the stream skip barriers
  // between dispatches that merely share an input.
  bool written = true;
  // Where the kernel's view of the buffer starts (a multiple of minStorageBufferOffsetAlignment);
  // it reaches to the buffer's end or maxStorageBufferRange bytes, whichever is nearer. Buffers
  // larger than the range are reached by windows.
  VkDeviceSize offset = 0;
};

class Kernel;  // opaque: shader module + pipeline layout + pipeline; owned by the Device

class Device {
 public:
  struct Impl;

  // Never throws. TESSERA_DEVICE=cpu makes it false.
  static bool available();
  // Lazily created process-wide device; throws std::runtime_error("[vulkan] ...") if none.
  static Device& get();
  // Bring your own Vulkan: call before the first get(). Tessera uses these handles and never
  // destroys them. Tessera cannot query which features the app enabled on its VkDevice, so pass
  // the VkPhysicalDeviceFeatures2 chain it used (Vulkan11/12 feature structs are read); without
  // it every optional capability reads false (the baseline kernels still work). The instance
  // must have been created for Vulkan 1.2 or newer.
  static void adopt(VkInstance instance, VkPhysicalDevice physical, VkDevice device,
                    VkQueue compute_queue, uint32_t queue_family_index,
                    const VkPhysicalDeviceFeatures2* enabled_features = nullptr);
  // Tears the process-wide device down (waits for its streams, frees its buffers and
  // pipelines, saves the pipeline cache). For an adopted device the app may then destroy its
  // VkDevice. Outstanding Streams, Kernels and buffer host pointers become unusable.
  static void release();

  const Capabilities& caps() const;
  VkDevice handle() const;
  VkPhysicalDevice physical() const;

  // Memory. Sizes are rounded up to a size class (see memory.cpp) so freed buffers can be
  // reused by later allocations of similar size.
  std::shared_ptr<DeviceBuffer> alloc(std::size_t bytes, MemoryHint hint = MemoryHint::automatic);
  std::size_t active_memory() const;
  std::size_t peak_memory() const;
  void reset_peak_memory();
  std::size_t cache_memory() const;
  std::size_t set_memory_limit(std::size_t limit);  // returns the previous limit
  std::size_t set_cache_limit(std::size_t limit);   // returns the previous limit
  void clear_cache();

  // Synchronous host <-> device copies; stage through a host buffer when the device buffer is
  // not mapped. The caller must have synchronized streams that write `dst`/`src`.
  void upload(DeviceBuffer& dst, std::size_t dst_offset, const void* src, std::size_t bytes);
  void download(DeviceBuffer& src, std::size_t src_offset, void* dst, std::size_t bytes);
  // How many upload() calls copied bytes so far (tests check that a host array reaches the GPU
  // once, e.g. an array loaded from a memory-mapped file).
  uint64_t uploads() const;

  // Kernels. References stay valid until the device is released.
  Kernel& kernel(const std::string& name, uint32_t num_buffers,
                 std::span<const uint32_t> spec_constants = {});
  Kernel& kernel_from_glsl(const std::string& key, const std::string& glsl_source,
                           uint32_t num_buffers);
  // The same, generating the source only when `key` is not built yet (the hot path of
  // generated kernels: a lookup, no string building).
  Kernel& kernel_from_glsl(const std::string& key, const std::function<std::string()>& make_source,
                           uint32_t num_buffers);
  // The kernel built from GLSL under `key`, or nullptr if there is none yet (the cheapest
  // lookup: a per-thread memo of recent keys in front of the store).
  Kernel* find_kernel_from_glsl(const std::string& key, uint32_t num_buffers);
  uint64_t runtime_compiles() const;
  void save_pipeline_cache();

  // With TESSERA_VK_VALIDATION=1 (or =sync, which adds synchronization validation) the Khronos
  // layer is enabled when present; each WARNING/ERROR message is printed and counted.
  uint64_t validation_messages() const;

  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;
  ~Device();

 private:
  friend class Stream;
  Impl& impl() { return *impl_; }
  explicit Device(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class Stream {
 public:
  explicit Stream(Device& device);
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  void dispatch(Kernel& kernel, std::span<const Binding> buffers, const void* push,
                std::size_t push_bytes, std::span<const std::byte> params, uint32_t groups_x,
                uint32_t groups_y = 1, uint32_t groups_z = 1);
  void copy(DeviceBuffer& src, std::size_t src_off, DeviceBuffer& dst, std::size_t dst_off,
            std::size_t bytes);
  // dst_off must be a multiple of 4; bytes too unless the fill ends at dst.size().
  void fill(DeviceBuffer& dst, std::size_t off, std::size_t bytes, uint32_t value);
  // Keeps `owner` alive until everything recorded so far (and up to the next submit) is done.
  void keep_alive(std::shared_ptr<void> owner);

  uint64_t submit();  // returns a ticket; 0 or the previous ticket when nothing was pending
  // The ticket the work recorded so far will finish under: the batch being recorded (which
  // submit() will return) or, when none is, the last one submitted.
  uint64_t recorded_ticket();
  // Submits the batch being recorded if its ticket is `ticket` or lower.
  void submit_through(uint64_t ticket);
  void wait(uint64_t ticket);
  bool done(uint64_t ticket);
  void synchronize();
  uint64_t dispatches_recorded() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

std::span<const uint32_t> embedded_spirv(const std::string& name);  // empty if absent
std::string_view embedded_glsl(const std::string& file_name);       // empty if absent

namespace detail {
// Written by the source file that tessera_embed_shaders() generates (exactly one per program).
struct EmbeddedFile {
  const char* name;  // "fill" for shaders/fill.comp, "common.glsl" for shaders/common.glsl
  const void* data;  // SPIR-V words, or GLSL text
  std::size_t bytes;
  bool spirv;
};
const EmbeddedFile* embedded_files(std::size_t* count);
}  // namespace detail

}  // namespace tessera::vulkan
