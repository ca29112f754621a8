// Streams: record dispatches/copies into a command buffer, insert the barriers they need,
// submit in batches and track completion with a timeline semaphore (a fence per batch on
// devices without one). Also the staged upload/download that Device offers.
#include <algorithm>
#include <cstring>
#include <deque>
#include <set>
#include <stdexcept>

#include "internal.hpp"

namespace tessera::vulkan {

namespace {

constexpr uint32_t kAutoSubmitDispatches = 64;  // lets the GPU start while the host records on
// Batches submitted and not yet finished, per stream, before recording waits for the oldest:
// each keeps the buffers of its dispatches alive, so a host far ahead of a slow GPU (a long
// chain on lavapipe) would otherwise hold every intermediate buffer of the graph at once.
constexpr std::size_t kMaxInFlightBatches = 8;
constexpr std::size_t kPushBytes = 128;
constexpr std::size_t kArenaChunk = 64 * 1024;
constexpr uint32_t kSetsPerPool = 64;
constexpr uint32_t kDescriptorsPerPool = 64 * 8;
constexpr std::size_t kMaxTracked = 128;
constexpr std::size_t kInlineBindings = 16;  // bindings a dispatch describes without allocating

bool contains(const std::vector<VkBuffer>& list, VkBuffer b) {
  return std::find(list.begin(), list.end(), b) != list.end();
}

constexpr VkPipelineStageFlags kWorkStages = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
constexpr VkAccessFlags kWrites = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
constexpr VkAccessFlags kAll =
    VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;

struct Batch {
  VkCommandBuffer cb = VK_NULL_HANDLE;
  VkFence fence = VK_NULL_HANDLE;  // only without timeline semaphores
  uint64_t ticket = 0;
  std::vector<VkDescriptorPool> pools;
  std::size_t pool_index = 0;
  std::vector<std::shared_ptr<DeviceBuffer>> arenas;  // host-visible params chunks
  std::size_t arena_index = 0, arena_offset = 0;
  std::vector<std::shared_ptr<void>> keep;
  uint32_t dispatches = 0;
};

// Leaked on purpose: the device is torn down by a static destructor in another file, and the
// order of static destruction across files is unspecified.
struct StreamRegistry {
  std::mutex mu;
  std::multimap<Device::Impl*, Stream::Impl*> streams;
};
StreamRegistry& registry() {
  static auto* r = new StreamRegistry;
  return *r;
}

}  // namespace

struct Stream::Impl {
  Device::Impl* dev;
  std::mutex mu;
  VkCommandPool pool = VK_NULL_HANDLE;
  VkSemaphore timeline = VK_NULL_HANDLE;
  std::unique_ptr<Batch> current;
  std::deque<std::unique_ptr<Batch>> in_flight;
  std::vector<std::unique_ptr<Batch>> spare;
  // Buffers touched since the last barrier. A new access to one of them needs a barrier:
  // read-after-write and write-after-write through `written`, write-after-read through `read`.
  // Flat lists: a barrier empties them, and past kMaxTracked buffers one is simply inserted.
  std::vector<VkBuffer> written, read;
  bool barrier_at_start = false;
  VkPipeline bound = VK_NULL_HANDLE;
  uint64_t submitted = 0, completed = 0;
  std::atomic<uint64_t> dispatches{0};

  explicit Impl(Device::Impl& d) : dev(&d) {
    VkCommandPoolCreateInfo pi{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
    pi.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
    pi.queueFamilyIndex = d.queue_family;
    check(vkCreateCommandPool(d.device, &pi, nullptr, &pool), "vkCreateCommandPool");
    if (d.caps.timeline_semaphore) {
      VkSemaphoreTypeCreateInfo ti{VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO};
      ti.semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE;
      ti.initialValue = 0;
      VkSemaphoreCreateInfo si{VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO, &ti};
      VkResult r = vkCreateSemaphore(d.device, &si, nullptr, &timeline);
      if (r != VK_SUCCESS) {
        vkDestroyCommandPool(d.device, pool, nullptr);
        throw_vk(r, "vkCreateSemaphore");
      }
    }
  }

  void alive() const {
    if (!dev) throw std::runtime_error("[vulkan] stream used after its device was released");
  }

  // Destroys every Vulkan object; the stream is unusable afterwards. Keep-alive owners are
  // handed back to the caller so they die outside any lock.
  std::vector<std::shared_ptr<void>> shutdown() {
    std::vector<std::shared_ptr<void>> garbage;
    if (!dev) return garbage;
    try {
      submit_locked();
      wait_locked(submitted);
    } catch (...) {
      // Device lost at teardown: nothing to wait for any more.
    }
    VkDevice d = dev->device;
    auto destroy = [&](std::unique_ptr<Batch>& b) {
      if (!b) return;
      for (auto p : b->pools) vkDestroyDescriptorPool(d, p, nullptr);
      if (b->fence) vkDestroyFence(d, b->fence, nullptr);
      for (auto& a : b->arenas) garbage.push_back(std::move(a));
      for (auto& k : b->keep) garbage.push_back(std::move(k));
    };
    if (current) {
      vkEndCommandBuffer(current->cb);
      destroy(current);
    }
    for (auto& b : in_flight) destroy(b);
    for (auto& b : spare) destroy(b);
    current.reset();
    in_flight.clear();
    spare.clear();
    if (timeline) vkDestroySemaphore(d, timeline, nullptr);
    vkDestroyCommandPool(d, pool, nullptr);  // frees the command buffers
    dev = nullptr;
    return garbage;
  }

  Batch& recording() {
    if (current) return *current;
    if (!spare.empty()) {
      current = std::move(spare.back());
      spare.pop_back();
    } else {
      current = std::make_unique<Batch>();
      VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
      ai.commandPool = pool;
      ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
      ai.commandBufferCount = 1;
      check(vkAllocateCommandBuffers(dev->device, &ai, &current->cb), "vkAllocateCommandBuffers");
      if (!timeline) {
        VkFenceCreateInfo fi{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
        check(vkCreateFence(dev->device, &fi, nullptr, &current->fence), "vkCreateFence");
      }
    }
    VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
    check(vkBeginCommandBuffer(current->cb, &bi), "vkBeginCommandBuffer");
    // Separate submissions are ordered but not memory-coherent with each other: the first
    // command of a batch waits for earlier batches' writes (this or another stream's).
    barrier_at_start = true;
    return *current;
  }

  void barrier(VkPipelineStageFlags dst_stages, VkAccessFlags dst_access) {
    VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
    mb.srcAccessMask = kWrites;
    mb.dstAccessMask = dst_access;
    vkCmdPipelineBarrier(current->cb, kWorkStages, dst_stages, 0, 1, &mb, 0, nullptr, 0, nullptr);
    written.clear();
    read.clear();
    barrier_at_start = false;
  }

  // Call once per command with every buffer it touches, before recording it.
  template <typename Accesses>
  void hazards(const Accesses& accesses) {
    bool need = barrier_at_start || read.size() >= kMaxTracked;
    for (auto [buffer, writes] : accesses)
      need = need || contains(written, buffer) || (writes && contains(read, buffer));
    if (need) barrier(kWorkStages, kAll);
    for (auto [buffer, writes] : accesses) {
      if (!contains(read, buffer)) read.push_back(buffer);
      if (writes && !contains(written, buffer)) written.push_back(buffer);
    }
  }

  // Copies `params` into this batch's host-visible arena; returns where they landed.
  VkDescriptorBufferInfo stage_params(Batch& b, std::span<const std::byte> params) {
    const std::size_t align = std::max<std::size_t>(dev->props.limits.minStorageBufferOffsetAlignment, 16);
    // An empty blob still binds 16 zero bytes: the binding must be valid even if unused.
    const std::size_t need = (std::max<std::size_t>(params.size(), 16) + 15) / 16 * 16;
    while (true) {
      if (b.arena_index < b.arenas.size()) {
        auto& arena = b.arenas[b.arena_index];
        std::size_t off = (b.arena_offset + align - 1) / align * align;
        if (off + need <= arena->capacity()) {
          auto* base = static_cast<std::byte*>(arena->host_ptr()) + off;
          if (!params.empty()) std::memcpy(base, params.data(), params.size());
          std::memset(base + params.size(), 0, need - params.size());
          b.arena_offset = off + need;
          return {arena->handle(), off, need};
        }
        ++b.arena_index;
        b.arena_offset = 0;
        continue;
      }
      b.arenas.push_back(MemoryPool::alloc(dev->pool, std::max(kArenaChunk, need), MemoryHint::host));
    }
  }

  VkDescriptorSet allocate_set(Batch& b, VkDescriptorSetLayout layout) {
    while (true) {
      if (b.pool_index == b.pools.size()) {
        VkDescriptorPoolSize size{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, kDescriptorsPerPool};
        VkDescriptorPoolCreateInfo pi{VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
        pi.maxSets = kSetsPerPool;
        pi.poolSizeCount = 1;
        pi.pPoolSizes = &size;
        VkDescriptorPool p;
        check(vkCreateDescriptorPool(dev->device, &pi, nullptr, &p), "vkCreateDescriptorPool");
        b.pools.push_back(p);
      }
      VkDescriptorSetAllocateInfo ai{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
      ai.descriptorPool = b.pools[b.pool_index];
      ai.descriptorSetCount = 1;
      ai.pSetLayouts = &layout;
      VkDescriptorSet set;
      VkResult r = vkAllocateDescriptorSets(dev->device, &ai, &set);
      if (r == VK_SUCCESS) return set;
      if (r != VK_ERROR_OUT_OF_POOL_MEMORY && r != VK_ERROR_FRAGMENTED_POOL) throw_vk(r, "vkAllocateDescriptorSets");
      ++b.pool_index;
    }
  }

  uint64_t submit_locked() {
    if (!current) return submitted;
    Batch& b = *current;
    // Make this batch's writes visible to the host once the wait returns (downloads, zero-copy).
    VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
    mb.srcAccessMask = kWrites;
    mb.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
    vkCmdPipelineBarrier(b.cb, kWorkStages, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, nullptr, 0, nullptr);
    check(vkEndCommandBuffer(b.cb), "vkEndCommandBuffer");

    const uint64_t ticket = submitted + 1;
    VkTimelineSemaphoreSubmitInfo ti{VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO};
    ti.signalSemaphoreValueCount = 1;
    ti.pSignalSemaphoreValues = &ticket;
    VkSubmitInfo si{VK_STRUCTURE_TYPE_SUBMIT_INFO};
    si.commandBufferCount = 1;
    si.pCommandBuffers = &b.cb;
    if (timeline) {
      si.pNext = &ti;
      si.signalSemaphoreCount = 1;
      si.pSignalSemaphores = &timeline;
    }
    VkResult r;
    {
      std::lock_guard q(dev->queue_mutex);
      r = vkQueueSubmit(dev->queue, 1, &si, b.fence);
    }
    if (r != VK_SUCCESS) {
      vkResetCommandBuffer(b.cb, 0);
      throw_vk(r, "vkQueueSubmit");
    }
    b.ticket = submitted = ticket;
    in_flight.push_back(std::move(current));
    written.clear();
    read.clear();
    bound = VK_NULL_HANDLE;
    return ticket;
  }

  // Recycles finished batches; returns their keep-alive owners to be dropped outside the lock.
  std::vector<std::shared_ptr<void>> retire() {
    std::vector<std::shared_ptr<void>> garbage;
    if (timeline) {
      uint64_t value = 0;
      VkResult r = vkGetSemaphoreCounterValue(dev->device, timeline, &value);
      if (r == VK_ERROR_DEVICE_LOST) throw std::runtime_error("[vulkan] device lost");
      completed = std::max(completed, value);
    }
    while (!in_flight.empty()) {
      Batch& b = *in_flight.front();
      if (!timeline) {
        VkResult r = vkGetFenceStatus(dev->device, b.fence);
        if (r == VK_ERROR_DEVICE_LOST) throw std::runtime_error("[vulkan] device lost");
        if (r != VK_SUCCESS) break;
        completed = std::max(completed, b.ticket);
        vkResetFences(dev->device, 1, &b.fence);
      } else if (b.ticket > completed) {
        break;
      }
      vkResetCommandBuffer(b.cb, 0);
      for (auto p : b.pools) vkResetDescriptorPool(dev->device, p, 0);
      b.pool_index = b.arena_index = b.arena_offset = 0;
      b.dispatches = 0;
      // The parameter chunks go back to the allocator's cache (a new batch takes them from
      // there): an idle stream holds no memory that get_active_memory counts.
      for (auto& a : b.arenas) garbage.push_back(std::move(a));
      b.arenas.clear();
      for (auto& k : b.keep) garbage.push_back(std::move(k));
      b.keep.clear();
      spare.push_back(std::move(in_flight.front()));
      in_flight.pop_front();
    }
    return garbage;
  }

  void wait_locked(uint64_t ticket) {
    if (ticket > submitted) throw std::invalid_argument("[vulkan] waiting on a ticket that was never submitted");
    if (ticket <= completed) return;
    VkResult r;
    if (timeline) {
      VkSemaphoreWaitInfo wi{VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO};
      wi.semaphoreCount = 1;
      wi.pSemaphores = &timeline;
      wi.pValues = &ticket;
      r = vkWaitSemaphores(dev->device, &wi, UINT64_MAX);
    } else {
      std::vector<VkFence> fences;
      for (auto& b : in_flight)
        if (b->ticket <= ticket) fences.push_back(b->fence);
      r = fences.empty() ? VK_SUCCESS
                         : vkWaitForFences(dev->device, static_cast<uint32_t>(fences.size()), fences.data(),
                                           VK_TRUE, UINT64_MAX);
    }
    if (r == VK_ERROR_DEVICE_LOST) throw std::runtime_error("[vulkan] device lost while waiting for GPU work");
    if (r != VK_SUCCESS) throw_vk(r, "waiting for a submission");
    if (!timeline) completed = std::max(completed, ticket);
  }
};

std::shared_mutex& pipeline_gate() {
  static auto* gate = new std::shared_mutex;
  return *gate;
}

void register_stream(Device::Impl* dev, Stream::Impl* stream) {
  std::lock_guard lock(registry().mu);
  registry().streams.emplace(dev, stream);
}

void unregister_stream(Stream::Impl* stream) {
  std::lock_guard lock(registry().mu);
  auto& streams = registry().streams;
  for (auto it = streams.begin(); it != streams.end(); ++it)
    if (it->second == stream) {
      streams.erase(it);
      return;
    }
}

void shutdown_streams(Device::Impl* dev) {
  std::vector<Stream::Impl*> streams;
  {
    std::lock_guard lock(registry().mu);
    auto [lo, hi] = registry().streams.equal_range(dev);
    for (auto it = lo; it != hi; ++it) streams.push_back(it->second);
    registry().streams.erase(lo, hi);
  }
  for (Stream::Impl* s : streams) {
    std::vector<std::shared_ptr<void>> garbage;
    {
      std::shared_lock gate(pipeline_gate());
      std::lock_guard lock(s->mu);
      garbage = s->shutdown();
    }
  }
}

Stream::Stream(Device& device) : impl_(std::make_unique<Impl>(device.impl())) {
  register_stream(&device.impl(), impl_.get());
}

Stream::~Stream() {
  unregister_stream(impl_.get());
  std::vector<std::shared_ptr<void>> garbage;
  std::shared_lock gate(pipeline_gate());
  std::lock_guard lock(impl_->mu);
  garbage = impl_->shutdown();
}

void Stream::dispatch(Kernel& kernel, std::span<const Binding> buffers, const void* push, std::size_t push_bytes,
                      std::span<const std::byte> params, uint32_t gx, uint32_t gy, uint32_t gz) {
  if (buffers.size() != kernel.num_buffers)
    throw std::invalid_argument("[vulkan] kernel '" + kernel.name + "' takes " + std::to_string(kernel.num_buffers) +
                                " buffers, got " + std::to_string(buffers.size()));
  if (push_bytes > kPushBytes) throw std::invalid_argument("[vulkan] push constants exceed 128 bytes");
  for (const Binding& b : buffers)
    if (!b.buffer) throw std::invalid_argument("[vulkan] null buffer bound to kernel '" + kernel.name + "'");
  std::vector<std::shared_ptr<void>> garbage;
  std::shared_lock gate(pipeline_gate());
  std::unique_lock lock(impl_->mu);
  Impl& s = *impl_;
  s.alive();
  const auto& caps = s.dev->caps;
  if (gx > caps.max_workgroup_count[0] || gy > caps.max_workgroup_count[1] || gz > caps.max_workgroup_count[2])
    throw std::invalid_argument("[vulkan] dispatch of '" + kernel.name + "' exceeds maxComputeWorkGroupCount");
  s.dispatches.fetch_add(1);
  if (gx == 0 || gy == 0 || gz == 0) return;

  Batch& b = s.recording();
  const std::size_t n = buffers.size();
  // The buffers' descriptors (the parameter blob last) and accesses: on the stack for the
  // usual handful of bindings, on the heap past that.
  VkDescriptorBufferInfo inline_infos[kInlineBindings + 1];
  std::pair<VkBuffer, bool> inline_accesses[kInlineBindings];
  std::vector<VkDescriptorBufferInfo> heap_infos;
  std::vector<std::pair<VkBuffer, bool>> heap_accesses;
  if (n > kInlineBindings) {
    heap_infos.resize(n + 1);
    heap_accesses.resize(n);
  }
  VkDescriptorBufferInfo* infos = n > kInlineBindings ? heap_infos.data() : inline_infos;
  std::pair<VkBuffer, bool>* accesses_data = n > kInlineBindings ? heap_accesses.data() : inline_accesses;
  for (std::size_t i = 0; i < n; ++i) {
    DeviceBuffer* buf = buffers[i].buffer;
    // VK_WHOLE_SIZE would exceed maxStorageBufferRange for huge buffers; clamp explicitly.
    const VkDeviceSize off = buffers[i].offset;
    if (off >= buf->capacity() || off % caps.min_storage_offset_alignment != 0)
      throw std::invalid_argument("[vulkan] binding offset " + std::to_string(off) + " of kernel '" + kernel.name +
                                  "' is past its buffer or not aligned to minStorageBufferOffsetAlignment");
    infos[i] = {buf->handle(), off, std::min<VkDeviceSize>(buf->capacity() - off, caps.max_storage_buffer_range)};
    accesses_data[i] = {buf->handle(), buffers[i].written};
  }
  infos[n] = s.stage_params(b, params);
  for (std::size_t i = 0; i < n; ++i) b.keep.push_back(buffers[i].buffer->shared_from_this());
  std::span<const std::pair<VkBuffer, bool>> accesses(accesses_data, n);
  VkWriteDescriptorSet w{VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
  w.dstBinding = 0;
  w.descriptorCount = static_cast<uint32_t>(n + 1);
  w.descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
  w.pBufferInfo = infos;
  VkDescriptorSet set = VK_NULL_HANDLE;
  if (!kernel.push_descriptors) {
    set = s.allocate_set(b, kernel.set_layout);
    w.dstSet = set;
    vkUpdateDescriptorSets(s.dev->device, 1, &w, 0, nullptr);
  }

  s.hazards(accesses);
  if (s.bound != kernel.pipeline) {
    vkCmdBindPipeline(b.cb, VK_PIPELINE_BIND_POINT_COMPUTE, kernel.pipeline);
    s.bound = kernel.pipeline;
  }
  if (kernel.push_descriptors) {
    s.dev->cmd_push_descriptor_set(b.cb, VK_PIPELINE_BIND_POINT_COMPUTE, kernel.layout, 0, 1, &w);
  } else {
    vkCmdBindDescriptorSets(b.cb, VK_PIPELINE_BIND_POINT_COMPUTE, kernel.layout, 0, 1, &set, 0, nullptr);
  }
  // Always push the whole range: shaders may read members a caller did not set, and without
  // maintenance4 reading never-pushed constants is invalid usage.
  std::byte block[kPushBytes] = {};
  if (push_bytes) std::memcpy(block, push, push_bytes);
  vkCmdPushConstants(b.cb, kernel.layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, kPushBytes, block);
  vkCmdDispatch(b.cb, gx, gy, gz);

  if (++b.dispatches >= kAutoSubmitDispatches) {
    s.submit_locked();
    garbage = s.retire();
    if (s.in_flight.size() > kMaxInFlightBatches) {
      s.wait_locked(s.in_flight.front()->ticket);
      auto more = s.retire();
      garbage.insert(garbage.end(), more.begin(), more.end());
    }
  }
  lock.unlock();
}

void Stream::copy(DeviceBuffer& src, std::size_t src_off, DeviceBuffer& dst, std::size_t dst_off, std::size_t bytes) {
  if (src_off + bytes > src.size() || dst_off + bytes > dst.size())
    throw std::out_of_range("[vulkan] copy of " + std::to_string(bytes) + " bytes out of buffer bounds");
  if (bytes == 0) return;
  std::shared_lock gate(pipeline_gate());
  std::lock_guard lock(impl_->mu);
  Impl& s = *impl_;
  s.alive();
  Batch& b = s.recording();
  std::pair<VkBuffer, bool> accesses[] = {{src.handle(), false}, {dst.handle(), true}};
  s.hazards(accesses);
  VkBufferCopy region{src_off, dst_off, bytes};
  vkCmdCopyBuffer(b.cb, src.handle(), dst.handle(), 1, &region);
  b.keep.push_back(src.shared_from_this());
  b.keep.push_back(dst.shared_from_this());
}

void Stream::fill(DeviceBuffer& dst, std::size_t off, std::size_t bytes, uint32_t value) {
  if (off + bytes > dst.size()) throw std::out_of_range("[vulkan] fill out of buffer bounds");
  if (off % 4 != 0) throw std::invalid_argument("[vulkan] fill offset must be a multiple of 4");
  // vkCmdFillBuffer writes whole words; rounding up is only harmless past the logical end,
  // where the size class leaves padding.
  std::size_t words = (bytes + 3) / 4 * 4;
  if (words != bytes && off + bytes != dst.size())
    throw std::invalid_argument("[vulkan] fill size must be a multiple of 4 unless it reaches the buffer's end");
  if (bytes == 0) return;
  std::shared_lock gate(pipeline_gate());
  std::lock_guard lock(impl_->mu);
  Impl& s = *impl_;
  s.alive();
  Batch& b = s.recording();
  std::pair<VkBuffer, bool> accesses[] = {{dst.handle(), true}};
  s.hazards(accesses);
  vkCmdFillBuffer(b.cb, dst.handle(), off, words, value);
  b.keep.push_back(dst.shared_from_this());
}

void Stream::keep_alive(std::shared_ptr<void> owner) {
  std::lock_guard lock(impl_->mu);
  impl_->alive();
  impl_->recording().keep.push_back(std::move(owner));
}

uint64_t Stream::submit() {
  std::vector<std::shared_ptr<void>> garbage;
  std::shared_lock gate(pipeline_gate());
  std::lock_guard lock(impl_->mu);
  impl_->alive();
  uint64_t ticket = impl_->submit_locked();
  garbage = impl_->retire();
  return ticket;
}

uint64_t Stream::recorded_ticket() {
  std::lock_guard lock(impl_->mu);
  impl_->alive();
  return impl_->current ? impl_->submitted + 1 : impl_->submitted;
}

void Stream::submit_through(uint64_t ticket) {
  std::vector<std::shared_ptr<void>> garbage;
  std::shared_lock gate(pipeline_gate());
  std::lock_guard lock(impl_->mu);
  impl_->alive();
  if (!impl_->current || impl_->submitted + 1 > ticket) return;
  impl_->submit_locked();
  garbage = impl_->retire();
}

void Stream::wait(uint64_t ticket) {
  std::vector<std::shared_ptr<void>> garbage;
  std::unique_lock lock(impl_->mu);
  Impl& s = *impl_;
  s.alive();
  if (s.timeline) {
    // Wait without the lock so other threads keep recording; the semaphore outlives the wait
    // because only the device teardown destroys it.
    if (ticket > s.submitted) throw std::invalid_argument("[vulkan] waiting on a ticket that was never submitted");
    VkDevice device = s.dev->device;
    VkSemaphore sem = s.timeline;
    lock.unlock();
    VkSemaphoreWaitInfo wi{VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO};
    wi.semaphoreCount = 1;
    wi.pSemaphores = &sem;
    wi.pValues = &ticket;
    VkResult r = vkWaitSemaphores(device, &wi, UINT64_MAX);
    if (r == VK_ERROR_DEVICE_LOST) throw std::runtime_error("[vulkan] device lost while waiting for GPU work");
    if (r != VK_SUCCESS) throw_vk(r, "vkWaitSemaphores");
    lock.lock();
    s.alive();
  } else {
    s.wait_locked(ticket);
  }
  garbage = s.retire();
  lock.unlock();
}

bool Stream::done(uint64_t ticket) {
  std::vector<std::shared_ptr<void>> garbage;
  std::lock_guard lock(impl_->mu);
  impl_->alive();
  garbage = impl_->retire();
  return ticket <= impl_->completed;
}

void Stream::synchronize() { wait(submit()); }

uint64_t Stream::dispatches_recorded() const { return impl_->dispatches.load(); }

// --- Device's host transfers --------------------------------------------------------------

void Device::upload(DeviceBuffer& dst, std::size_t dst_offset, const void* src, std::size_t bytes) {
  if (dst_offset + bytes > dst.size()) throw std::out_of_range("[vulkan] upload out of buffer bounds");
  if (bytes == 0) return;
  impl_->uploads.fetch_add(1, std::memory_order_relaxed);
  if (void* p = dst.host_ptr()) {
    std::memcpy(static_cast<std::byte*>(p) + dst_offset, src, bytes);
    return;
  }
  auto staging = alloc(bytes, MemoryHint::host);
  std::memcpy(staging->host_ptr(), src, bytes);
  std::lock_guard lock(impl_->transfer_mutex);
  if (!impl_->transfer) impl_->transfer = std::make_unique<Stream>(*this);
  impl_->transfer->copy(*staging, 0, dst, dst_offset, bytes);
  impl_->transfer->synchronize();
}

uint64_t Device::uploads() const { return impl_->uploads.load(std::memory_order_relaxed); }

void Device::download(DeviceBuffer& src, std::size_t src_offset, void* dst, std::size_t bytes) {
  if (src_offset + bytes > src.size()) throw std::out_of_range("[vulkan] download out of buffer bounds");
  if (bytes == 0) return;
  if (void* p = src.host_ptr()) {
    std::memcpy(dst, static_cast<const std::byte*>(p) + src_offset, bytes);
    return;
  }
  auto staging = alloc(bytes, MemoryHint::host);
  {
    std::lock_guard lock(impl_->transfer_mutex);
    if (!impl_->transfer) impl_->transfer = std::make_unique<Stream>(*this);
    impl_->transfer->copy(src, src_offset, *staging, 0, bytes);
    impl_->transfer->synchronize();
  }
  std::memcpy(dst, staging->host_ptr(), bytes);
}

}  // namespace tessera::vulkan
