// The caching buffer allocator behind Device::alloc and MLX's memory API.
//
// Size classes: up to 1 MiB a request rounds up to a power of two (minimum 256 bytes), above
// that to a quarter of its power of two (1, 1.25, 1.5, 1.75 x 2^k). Small buffers are cheap,
// so powers of two maximise reuse between the many temporaries of slightly different sizes;
// for large tensors a power of two would waste up to half the memory (a 2.1 GB weight would
// take 4 GB), while quarter steps bound the waste at 25% and still let similar sizes share.
//
// Each buffer has its own VkDeviceMemory. Simple and leak-proof, but drivers cap the number of
// allocations (maxMemoryAllocationCount, 4096 on some); sub-allocating the small classes from
// slabs is the next step if that limit is ever hit.
#include <algorithm>
#include <bit>
#include <cstring>
#include <stdexcept>

#include "internal.hpp"

namespace tessera::vulkan {

namespace {

constexpr std::size_t kMinClass = 256;
constexpr std::size_t kMiB = std::size_t{1} << 20;

std::size_t size_class(std::size_t n) {
  if (n <= kMinClass) return kMinClass;
  if (n <= kMiB) return std::bit_ceil(n);
  std::size_t step = std::bit_floor(n) / 4;
  return (n + step - 1) / step * step;
}

std::string mib(std::size_t bytes) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%zu bytes (%.1f MiB)", bytes, static_cast<double>(bytes) / double(kMiB));
  return buf;
}

}  // namespace

MemoryPool::MemoryPool(Device::Impl& dev) : dev_(&dev) {
  // Default limit: everything the device-local heaps hold; there is no more to give anyway.
  std::size_t local = 0;
  for (uint32_t h = 0; h < dev.memory_props.memoryHeapCount; ++h)
    if (dev.memory_props.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
      local += dev.memory_props.memoryHeaps[h].size;
  memory_limit_ = local ? local : SIZE_MAX;
  cache_limit_ = memory_limit_;
}

MemoryPool::~MemoryPool() { shutdown(); }

bool MemoryPool::create_block_of_type(std::size_t capacity, VkMemoryPropertyFlags want,
                                      VkMemoryPropertyFlags prefer, bool map, Block& out) {
  VkDevice device = dev_->device;
  VkBufferCreateInfo bi{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
  bi.size = capacity;
  bi.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  bi.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  VkBuffer buffer = VK_NULL_HANDLE;
  if (vkCreateBuffer(device, &bi, nullptr, &buffer) != VK_SUCCESS) return false;
  VkMemoryRequirements req;
  vkGetBufferMemoryRequirements(device, buffer, &req);

  const auto& mp = dev_->memory_props;
  int chosen = -1;
  for (int pass = 0; pass < 2 && chosen < 0; ++pass) {
    VkMemoryPropertyFlags need = pass == 0 ? (want | prefer) : want;
    for (uint32_t t = 0; t < mp.memoryTypeCount; ++t) {
      if ((req.memoryTypeBits & (1u << t)) && (mp.memoryTypes[t].propertyFlags & need) == need) {
        chosen = static_cast<int>(t);
        break;
      }
    }
  }
  VkDeviceMemory memory = VK_NULL_HANDLE;
  if (chosen >= 0) {
    VkMemoryAllocateInfo ai{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
    ai.allocationSize = req.size;
    ai.memoryTypeIndex = static_cast<uint32_t>(chosen);
    if (vkAllocateMemory(device, &ai, nullptr, &memory) != VK_SUCCESS) memory = VK_NULL_HANDLE;
  }
  void* mapped = nullptr;
  bool ok = memory && vkBindBufferMemory(device, buffer, memory, 0) == VK_SUCCESS &&
            (!map || vkMapMemory(device, memory, 0, VK_WHOLE_SIZE, 0, &mapped) == VK_SUCCESS);
  if (!ok) {
    if (memory) vkFreeMemory(device, memory, nullptr);
    vkDestroyBuffer(device, buffer, nullptr);
    return false;
  }
  out.buffer = buffer;
  out.memory = memory;
  out.mapped = mapped;
  out.capacity = capacity;
  return true;
}

bool MemoryPool::create_block(std::size_t capacity, MemoryHint hint, Block& out) {
  constexpr auto local = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
  constexpr auto mappable = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  out.hint = hint;
  switch (hint) {
    case MemoryHint::automatic:
      if (dev_->caps.host_visible_device_local &&
          create_block_of_type(capacity, local | mappable | VK_MEMORY_PROPERTY_HOST_CACHED_BIT, 0, true, out))
        return true;
      return create_block_of_type(capacity, local, 0, false, out);
    case MemoryHint::device_local:
      return create_block_of_type(capacity, local, 0, false, out);
    case MemoryHint::host:
      // Cached memory makes readback fast; uncached write-combined is fine for uploads too.
      return create_block_of_type(capacity, mappable, VK_MEMORY_PROPERTY_HOST_CACHED_BIT, true, out);
  }
  return false;
}

void MemoryPool::destroy_block(const Block& b) {
  if (b.mapped) vkUnmapMemory(dev_->device, b.memory);
  vkDestroyBuffer(dev_->device, b.buffer, nullptr);
  vkFreeMemory(dev_->device, b.memory, nullptr);
}

void MemoryPool::evict_until(std::size_t cache_target) {
  while (cached_ > cache_target && !lru_.empty()) {
    auto it = std::prev(lru_.end());
    auto [lo, hi] = index_.equal_range({static_cast<int>(it->hint), it->capacity});
    for (auto i = lo; i != hi; ++i)
      if (i->second == it) {
        index_.erase(i);
        break;
      }
    cached_ -= it->capacity;
    destroy_block(*it);
    lru_.erase(it);
  }
}

std::shared_ptr<DeviceBuffer> MemoryPool::alloc(const std::shared_ptr<MemoryPool>& self, std::size_t bytes,
                                                MemoryHint hint) {
  MemoryPool& p = *self;
  const std::size_t cap = size_class(bytes);
  // A size whose class overflows cannot exist on any device: the allocator's runtime_error,
  // as for any allocation that fails (MLX's allocators throw std::runtime_error too).
  if (cap < bytes) throw std::runtime_error("[vulkan] cannot allocate " + std::to_string(bytes) + " bytes");
  std::lock_guard lock(p.mu_);
  if (!p.alive_) throw std::runtime_error("[vulkan] allocation after the device was released");

  // The limit is on memory in use, wherever the block comes from (a cached one too).
  if (p.active_ + cap > p.memory_limit_)
    throw std::runtime_error("[vulkan] allocating " + mib(bytes) + " would exceed the memory limit of " +
                             mib(p.memory_limit_) + " (" + mib(p.active_) + " in use)");
  Block block;
  bool found = false;
  if (auto it = p.index_.find({static_cast<int>(hint), cap}); it != p.index_.end()) {
    block = *it->second;
    p.lru_.erase(it->second);
    p.index_.erase(it);
    p.cached_ -= cap;
    found = true;
  } else {
    // Cached blocks count against the limit too: they are real device memory.
    if (p.active_ + p.cached_ + cap > p.memory_limit_) p.evict_until(p.memory_limit_ - p.active_ - cap);
    found = p.create_block(cap, hint, block);
    if (!found && p.cached_ > 0) {  // the driver is out of memory: give the cache back and retry once
      p.evict_until(0);
      found = p.create_block(cap, hint, block);
    }
    if (!found)
      throw std::runtime_error("[vulkan] out of device memory allocating " + mib(bytes) + " (" + mib(p.active_) +
                               " in use)");
  }
  p.live_.emplace(block.buffer, block);
  p.active_ += cap;
  p.peak_ = std::max(p.peak_, p.active_);

  auto* raw = new DeviceBuffer(bytes, cap, block.buffer, block.memory, block.mapped, hint);
  return std::shared_ptr<DeviceBuffer>(raw, [pool = self](DeviceBuffer* b) {
    pool->release(b);
    delete b;
  });
}

void MemoryPool::release(DeviceBuffer* b) {
  std::lock_guard lock(mu_);
  auto it = live_.find(b->buffer_);
  if (!alive_ || it == live_.end()) return;  // freed by shutdown already
  Block block = it->second;
  live_.erase(it);
  active_ -= block.capacity;
  if (block.capacity > cache_limit_) {
    destroy_block(block);
    return;
  }
  evict_until(cache_limit_ - block.capacity);
  lru_.push_front(block);
  index_.emplace(std::make_pair(static_cast<int>(block.hint), block.capacity), lru_.begin());
  cached_ += block.capacity;
}

std::size_t MemoryPool::active() const {
  std::lock_guard lock(mu_);
  return active_;
}
std::size_t MemoryPool::peak() const {
  std::lock_guard lock(mu_);
  return peak_;
}
void MemoryPool::reset_peak() {
  std::lock_guard lock(mu_);
  peak_ = active_;
}
std::size_t MemoryPool::cached() const {
  std::lock_guard lock(mu_);
  return cached_;
}
std::size_t MemoryPool::set_memory_limit(std::size_t limit) {
  std::lock_guard lock(mu_);
  std::size_t old = memory_limit_;
  memory_limit_ = limit;
  return old;
}
std::size_t MemoryPool::set_cache_limit(std::size_t limit) {
  std::lock_guard lock(mu_);
  std::size_t old = cache_limit_;
  cache_limit_ = limit;
  evict_until(limit);
  return old;
}
void MemoryPool::clear_cache() {
  std::lock_guard lock(mu_);
  evict_until(0);
}

void MemoryPool::shutdown() {
  std::lock_guard lock(mu_);
  if (!alive_) return;
  evict_until(0);
  for (auto& [handle, block] : live_) destroy_block(block);
  live_.clear();
  active_ = 0;
  alive_ = false;
}

// --- Device's memory API --------------------------------------------------------------------

std::shared_ptr<DeviceBuffer> Device::alloc(std::size_t bytes, MemoryHint hint) {
  return MemoryPool::alloc(impl_->pool, bytes, hint);
}
std::size_t Device::active_memory() const { return impl_->pool->active(); }
std::size_t Device::peak_memory() const { return impl_->pool->peak(); }
void Device::reset_peak_memory() { impl_->pool->reset_peak(); }
std::size_t Device::cache_memory() const { return impl_->pool->cached(); }
std::size_t Device::set_memory_limit(std::size_t limit) { return impl_->pool->set_memory_limit(limit); }
std::size_t Device::set_cache_limit(std::size_t limit) { return impl_->pool->set_cache_limit(limit); }
void Device::clear_cache() { impl_->pool->clear_cache(); }

}  // namespace tessera::vulkan
