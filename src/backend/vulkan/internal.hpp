#pragma once
// Private to src/backend/vulkan: the pieces the runtime's four source files share.

// Vulkan structs are initialised as `VkFooCreateInfo ci{VK_STRUCTURE_TYPE_FOO_CREATE_INFO};`
// (the rest value-initialised to zero); -Wextra would flag every one of them.
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#endif
#include <atomic>
#include <filesystem>
#include <list>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "tessera/backend/vulkan/runtime.hpp"

namespace tessera::vulkan {

[[noreturn]] void throw_vk(VkResult result, const std::string& what);
inline void check(VkResult result, const char* what) {
  if (result != VK_SUCCESS) throw_vk(result, what);
}
bool env_flag(const char* name);            // env var set to something other than "" / "0"
std::filesystem::path cache_dir();          // may not exist yet
void write_file_atomically(const std::filesystem::path& path, const void* data, std::size_t bytes);

class Kernel {
 public:
  std::string name;
  uint32_t num_buffers = 0;
  VkShaderModule module = VK_NULL_HANDLE;
  VkPipelineLayout layout = VK_NULL_HANDLE;
  VkDescriptorSetLayout set_layout = VK_NULL_HANDLE;
  VkPipeline pipeline = VK_NULL_HANDLE;
  bool push_descriptors = false;  // its set layout is a push-descriptor layout
};

// The allocator. Held through shared_ptr by every buffer's deleter so a buffer released after
// the device is gone (a static array destroyed late at exit) finds a dead pool, not freed memory.
class MemoryPool {
 public:
  MemoryPool(Device::Impl& dev);
  ~MemoryPool();
  static std::shared_ptr<DeviceBuffer> alloc(const std::shared_ptr<MemoryPool>& self,
                                             std::size_t bytes, MemoryHint hint);
  std::size_t active() const;
  std::size_t peak() const;
  void reset_peak();
  std::size_t cached() const;
  std::size_t set_memory_limit(std::size_t limit);
  std::size_t set_cache_limit(std::size_t limit);
  void clear_cache();
  void shutdown();  // frees every allocation, live or cached; later releases are no-ops

 private:
  struct Block {
    VkBuffer buffer = VK_NULL_HANDLE;
    VkDeviceMemory memory = VK_NULL_HANDLE;
    void* mapped = nullptr;
    std::size_t capacity = 0;
    MemoryHint hint = MemoryHint::automatic;  // the hint it was requested with (cache key)
  };
  void release(DeviceBuffer* buffer);
  bool create_block(std::size_t capacity, MemoryHint hint, Block& out);
  bool create_block_of_type(std::size_t capacity, VkMemoryPropertyFlags want, VkMemoryPropertyFlags prefer,
                            bool map, Block& out);
  void destroy_block(const Block& block);
  void evict_until(std::size_t cache_target);  // needs mu_

  Device::Impl* dev_;
  mutable std::mutex mu_;
  bool alive_ = true;
  std::list<Block> lru_;  // front = most recently released
  std::multimap<std::pair<int, std::size_t>, std::list<Block>::iterator> index_;
  std::unordered_map<VkBuffer, Block> live_;
  std::size_t active_ = 0, peak_ = 0, cached_ = 0;
  std::size_t memory_limit_ = 0, cache_limit_ = 0;
};

class PipelineStore {
 public:
  explicit PipelineStore(Device::Impl& dev);
  ~PipelineStore();
  Kernel& kernel(const std::string& name, uint32_t num_buffers, std::span<const uint32_t> spec);
  Kernel& from_glsl(const std::string& key, const std::string& source, uint32_t num_buffers);
  Kernel* find_glsl(const std::string& key, uint32_t num_buffers);  // nullptr if not built yet
  void save_cache();
  uint64_t compiles() const { return compiles_.load(); }
  uint64_t generation() const { return generation_; }  // unique per store in the process

 private:
  Kernel& build(const std::string& cache_key, const std::string& name, std::span<const uint32_t> spirv,
                uint32_t num_buffers, std::span<const uint32_t> spec);
  std::vector<uint32_t> compile(const std::string& name, const std::string& source);
  void load_cache();
  std::filesystem::path cache_path() const;

  Device::Impl& dev_;
  std::mutex mu_;
  VkPipelineCache cache_ = VK_NULL_HANDLE;
  struct Layout {
    VkDescriptorSetLayout set = VK_NULL_HANDLE;
    VkPipelineLayout pipeline = VK_NULL_HANDLE;
    bool push = false;
  };
  std::map<uint32_t, Layout> layouts_;  // by buffer count
  std::unordered_map<std::string, std::unique_ptr<Kernel>> kernels_;
  std::atomic<uint64_t> compiles_{0};
  bool glslang_ready_ = false;
  const uint64_t generation_;
};

struct Device::Impl {
  VkInstance instance = VK_NULL_HANDLE;
  VkPhysicalDevice physical = VK_NULL_HANDLE;
  VkDevice device = VK_NULL_HANDLE;
  VkQueue queue = VK_NULL_HANDLE;
  uint32_t queue_family = 0;
  bool owns_handles = true;
  VkDebugUtilsMessengerEXT messenger = VK_NULL_HANDLE;
  VkPhysicalDeviceProperties props{};
  VkPhysicalDeviceMemoryProperties memory_props{};
  Capabilities caps;
  std::atomic<uint64_t> validation_messages{0};
  PFN_vkCmdPushDescriptorSetKHR cmd_push_descriptor_set = nullptr;  // with caps.push_descriptor

  std::mutex queue_mutex;  // vkQueueSubmit needs the queue externally synchronized
  std::shared_ptr<MemoryPool> pool;
  std::unique_ptr<PipelineStore> pipelines;
  std::mutex transfer_mutex;
  std::atomic<uint64_t> uploads{0};  // Device::upload calls that copied bytes
  std::unique_ptr<Stream> transfer;  // staging copies for upload/download

  ~Impl();
};

// Pipeline creation excludes command recording and submission on every stream (exclusive
// against shared). NVIDIA's driver (580, H200) hung the queue now and then when compute
// pipelines were created while other threads recorded push descriptors and submitted: a batch
// recorded during the first concurrent uses of new kernels never completed. Creation is rare
// (a kernel's first use), recording takes the gate shared. Leaked: streams may outlive devices.
std::shared_mutex& pipeline_gate();

// Streams register themselves so the device can drain and detach them before it goes away.
void register_stream(Device::Impl* dev, Stream::Impl* stream);
void unregister_stream(Stream::Impl* stream);
void shutdown_streams(Device::Impl* dev);

}  // namespace tessera::vulkan
