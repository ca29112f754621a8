// The GPU side of the core's backend interface (backend/gpu.hpp) on top of the Vulkan runtime.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>

#include "backend/gpu.hpp"
#include "backend/vulkan/gpu_array.hpp"
#include "tessera/core/primitive.hpp"
#include "tessera/primitives/shape.hpp"

namespace tessera::gpu {

namespace {
// A Tessera GPU stream: its Vulkan stream and the queue its nodes' events wait on. Never
// freed (events and arrays destroyed during static destruction may still refer to it); at
// exit its Vulkan stream finishes its work and goes, and the queue then reads as done.
class StreamQueue final : public DeviceQueue {
 public:
  std::unique_ptr<vulkan::Stream> vs;
  bool shut_down = false;

  void flush(uint64_t ticket) override {
    if (vulkan::Stream* s = live()) s->submit_through(ticket);
  }
  void wait(uint64_t ticket) override {
    if (vulkan::Stream* s = live()) {
      s->submit_through(ticket);
      s->wait(ticket);
    }
  }
  bool done(uint64_t ticket) override {
    vulkan::Stream* s = live();
    return !s || s->done(ticket);
  }

 private:
  vulkan::Stream* live();
};

std::mutex& streams_mutex() {
  static std::mutex m;
  return m;
}
std::map<int, StreamQueue*>& streams() {
  static auto* s = new std::map<int, StreamQueue*>();
  return *s;
}
// The live queues of the first streams, read without the lock (every node asks for its
// stream several times); the map is the record, these slots a shortcut into it.
constexpr int kFastStreams = 64;
std::atomic<StreamQueue*> g_fast_streams[kFastStreams];

vulkan::Stream* StreamQueue::live() {
  std::lock_guard<std::mutex> lock(streams_mutex());
  return shut_down ? nullptr : vs.get();
}
}  // namespace

bool is_available() { return vulkan::Device::available(); }
vulkan::Device& device() { return vulkan::Device::get(); }

// At exit, streams finish their work and go before the device does (the device outlives
// every static of the program; these handlers run first).
void shutdown_streams() {
  std::lock_guard<std::mutex> lock(streams_mutex());
  for (auto& slot : g_fast_streams) slot.store(nullptr, std::memory_order_release);
  for (auto& [i, q] : streams()) {
    try {
      if (q->vs) q->vs->synchronize();
    } catch (...) {
    }
    q->vs.reset();
    q->shut_down = true;
  }
}

namespace {
StreamQueue& stream_queue(const Stream& s) {
  const bool fast = s.index >= 0 && s.index < kFastStreams;
  if (fast)
    if (StreamQueue* q = g_fast_streams[s.index].load(std::memory_order_acquire)) return *q;
  std::lock_guard<std::mutex> lock(streams_mutex());
  StreamQueue*& q = streams()[s.index];
  if (!q) q = new StreamQueue;
  if (!q->vs) {
    static bool registered = (std::atexit(shutdown_streams), true);
    (void)registered;
    q->vs = std::make_unique<vulkan::Stream>(device());
    q->shut_down = false;
  }
  if (fast) g_fast_streams[s.index].store(q, std::memory_order_release);
  return *q;
}
}  // namespace

vulkan::Stream& stream(const Stream& s) { return *stream_queue(s).vs; }
DeviceQueue& queue(const Stream& s) { return stream_queue(s); }
uint64_t recorded_ticket(const Stream& s) { return stream(s).recorded_ticket(); }

BufferPtr malloc(size_t bytes) { return device().alloc(bytes); }
size_t active_memory() { return is_available() ? device().active_memory() : 0; }
size_t peak_memory() { return is_available() ? device().peak_memory() : 0; }
void reset_peak_memory() { if (is_available()) device().reset_peak_memory(); }
size_t cache_memory() { return is_available() ? device().cache_memory() : 0; }
size_t set_memory_limit(size_t v) { return device().set_memory_limit(v); }
size_t set_cache_limit(size_t v) { return device().set_cache_limit(v); }
void clear_cache() { if (is_available()) device().clear_cache(); }

void eval(const std::vector<array>& inputs, std::vector<array>& outputs) {
  outputs[0].primitive().eval_gpu(inputs, outputs);
}

void synchronize(Stream s) { stream(s).synchronize(); }

void download(Buffer& src, size_t offset, void* dst, size_t bytes) {
  device().download(static_cast<vulkan::DeviceBuffer&>(src), offset, dst, bytes);
}

namespace {
// The bytes of its buffer a view touches: [lo, hi).
struct ByteSpan {
  uint64_t lo, hi;
};
ByteSpan byte_span(const array& a) {
  const auto [lo, hi] = a.element_span();
  const int64_t first = static_cast<int64_t>(a.offset());
  return {static_cast<uint64_t>(first + lo * static_cast<int64_t>(a.itemsize())),
          static_cast<uint64_t>(first + (hi + 1) * static_cast<int64_t>(a.itemsize()))};
}

// Window starts are multiples of the device's offset alignment, of 16 bytes (the 4-wide
// elementwise path keeps its alignment relative to the window) and of the element size.
uint64_t window_alignment() {
  return std::max<uint64_t>(device().caps().min_storage_offset_alignment, 16);
}
uint64_t window_start(const array& a) {
  const uint64_t align = window_alignment();
  return byte_span(a).lo / align * align;
}

// The array's buffer on the GPU: its own, or its mirror (uploaded the first time).
BufferPtr gpu_buffer(const array& a_in) {
  array& a = const_cast<array&>(a_in);
  const BufferPtr& buf = a.buffer();
  if (buf->kind() == BufferKind::vulkan) return buf;
  return a.mirror_of(BufferKind::vulkan, [&] {
    auto gpu_buf = device().alloc(buf->size());
    device().upload(*gpu_buf, 0, buf->host_ptr(), buf->size());
    return gpu_buf;
  });
}
}  // namespace

array gpu_view(const array& a, const Shape& shape, const Strides& strides, int64_t elem_offset) {
  if (!a.buffer()) throw std::runtime_error("[gpu] an input array holds no data");
  array v(shape, a.dtype(), nullptr, {});
  v.copy_shared_buffer(a, strides, flags_for(shape, strides), elem_offset);
  if (a.buffer()->kind() != BufferKind::vulkan) {
    BufferPtr m = gpu_buffer(a);  // one upload, shared by every view of `a`
    v.mirror_of(BufferKind::vulkan, [&] { return m; });
  }
  return v;
}

array slab(const array& a, int axis, int64_t start, int64_t count) {
  Shape shape = a.shape();
  shape[axis] = static_cast<int32_t>(count);
  return gpu_view(a, shape, a.strides(), start * a.strides()[axis]);
}

int64_t units_per_binding(uint64_t unit_bytes) {
  const uint64_t range = device().caps().max_storage_buffer_range, align = window_alignment();
  return static_cast<int64_t>((range > align ? range - align : 0) / std::max<uint64_t>(unit_bytes, 1));
}

View resident_at(const array& a, uint64_t element) {
  if (!a.buffer()) throw std::runtime_error("[gpu] an input array holds no data");
  BufferPtr buf = gpu_buffer(a);
  const uint64_t byte = a.offset() + element * a.itemsize(), align = window_alignment();
  const uint64_t window = byte / align * align;
  return {static_cast<vulkan::DeviceBuffer*>(buf.get()), static_cast<uint32_t>((byte - window) / a.itemsize()), window};
}

int split_axis(const array& a) {
  for (int d = 0; d < a.ndim(); ++d)
    if (a.shape(d) > 1) return d;
  return -1;
}

bool fits_one_binding(const array& a) {
  // The usual case: the whole buffer is within one binding's reach from offset 0.
  const uint64_t range = device().caps().max_storage_buffer_range;
  if (a.buffer() && a.buffer()->size() <= range) return true;
  const ByteSpan span = byte_span(a);
  const uint64_t start = window_start(a);
  return span.hi - start <= range && (a.offset() - start) / a.itemsize() <= UINT32_MAX;
}

// Binding the buffer keeps it alive until the dispatch finishes (Stream::dispatch holds a
// reference per binding), so the View needs no reference of its own.
View resident(const array& a_in) {
  array& a = const_cast<array&>(a_in);
  BufferPtr buf = a.buffer();
  if (!buf) throw std::runtime_error("[gpu] an input array holds no data");
  // One binding reaches maxStorageBufferRange bytes (128 MiB on lavapipe, 4 GiB on NVIDIA)
  // from its window's start; the ops split larger work into views that fit.
  if (!fits_one_binding(a)) {
    const uint64_t range = device().caps().max_storage_buffer_range;
    const ByteSpan span = byte_span(a);
    throw std::runtime_error("[gpu] an array of shape " + shape_string(a.shape()) + " and dtype " +
                             to_string(a.dtype()) + " spans " + std::to_string(span.hi - span.lo) +
                             " bytes, more than this device's maxStorageBufferRange (" +
                             std::to_string(range) + " bytes) that one kernel binding reaches, "
                             "and this op does not split its work; compute it on the CPU stream");
  }
  buf = gpu_buffer(a);
  const uint64_t window = buf->size() <= device().caps().max_storage_buffer_range ? 0 : window_start(a);
  const uint32_t offset = static_cast<uint32_t>((a.offset() - window) / a.itemsize());
  return {static_cast<vulkan::DeviceBuffer*>(buf.get()), offset, window};
}

void alloc_output(array& out) { out.set_data(device().alloc(out.nbytes())); }

void require_dtype(Dtype t, const char* op) {
  const auto& c = device().caps();
  const char* need = nullptr;
  if ((t == float64) && !c.float64) need = "shaderFloat64";
  if ((t == int64 || t == uint64) && !c.int64) need = "shaderInt64";
  if ((t == int8 || t == uint8 || t == bool_) && !c.storage8) need = "storageBuffer8BitAccess";
  if ((t == int16 || t == uint16 || t == float16 || t == bfloat16) && !c.storage16) {
    need = "storageBuffer16BitAccess";
  }
  if (need) {
    throw std::runtime_error(std::string("[") + op + "] dtype " + to_string(t) +
                             " needs the Vulkan feature " + need + ", which " +
                             c.device_name + " does not offer; use the CPU stream");
  }
}

std::unordered_map<std::string, std::variant<std::string, size_t>> device_info() {
  const auto& c = device().caps();
  const char* arch = c.type == VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU     ? "discrete"
                     : c.type == VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU ? "integrated"
                     : c.type == VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU    ? "virtual"
                     : c.type == VK_PHYSICAL_DEVICE_TYPE_CPU            ? "cpu"
                                                                        : "other";
  VkPhysicalDeviceMemoryProperties mem{};
  vkGetPhysicalDeviceMemoryProperties(device().physical(), &mem);
  size_t device_local = 0;
  for (uint32_t i = 0; i < mem.memoryHeapCount; ++i) {
    if (mem.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) {
      device_local = std::max<size_t>(device_local, mem.memoryHeaps[i].size);
    }
  }
  VkPhysicalDeviceProperties props{};
  vkGetPhysicalDeviceProperties(device().physical(), &props);
  return {
      {"device_name", c.device_name},
      {"architecture", std::string(arch)},
      {"max_buffer_size", static_cast<size_t>(c.max_storage_buffer_range)},
      {"memory_size", device_local},
      {"max_recommended_working_set_size", device_local},
      {"resource_limit", static_cast<size_t>(props.limits.maxMemoryAllocationCount)},
      {"subgroup_size", static_cast<size_t>(c.subgroup_size)},
      {"max_shared_memory", static_cast<size_t>(c.max_shared_memory)},
      {"float16", static_cast<size_t>(c.float16_arith)},
      {"float64", static_cast<size_t>(c.float64)},
      {"int64", static_cast<size_t>(c.int64)},
      {"cooperative_matrix", static_cast<size_t>(c.cooperative_matrix)},
      {"zero_copy", static_cast<size_t>(c.host_visible_device_local)},
  };
}

uint64_t dispatch_count() {
  if (!is_available()) return 0;
  std::lock_guard<std::mutex> lock(streams_mutex());
  uint64_t n = 0;
  for (auto& [i, q] : streams())
    if (q->vs) n += q->vs->dispatches_recorded();
  return n;
}
uint64_t kernel_compiles() { return is_available() ? device().runtime_compiles() : 0; }
uint64_t validation_messages() { return is_available() ? device().validation_messages() : 0; }

void grid_for(uint64_t items, uint32_t group, uint32_t& gx, uint32_t& gy) {
  uint64_t groups = (items + group - 1) / group;
  if (groups == 0) groups = 1;
  const uint64_t max_x = 65535;
  gx = static_cast<uint32_t>(groups < max_x ? groups : max_x);
  gy = static_cast<uint32_t>((groups + gx - 1) / gx);
}

}  // namespace tessera::gpu
