// The GPU side of the core's backend interface (backend/gpu.hpp) on top of the Vulkan runtime.
#include <map>
#include <mutex>

#include "backend/gpu.hpp"
#include "backend/vulkan/gpu_array.hpp"
#include "tessera/core/primitive.hpp"

namespace tessera::gpu {

namespace {
std::mutex& streams_mutex() {
  static std::mutex m;
  return m;
}
std::map<int, std::unique_ptr<vulkan::Stream>>& streams() {
  // Leaked: streams must outlive arrays destroyed during static destruction.
  static auto* s = new std::map<int, std::unique_ptr<vulkan::Stream>>();
  return *s;
}
std::mutex& residency_mutex() {
  static std::mutex m;
  return m;
}
}  // namespace

bool is_available() { return vulkan::Device::available(); }
vulkan::Device& device() { return vulkan::Device::get(); }

vulkan::Stream& stream(const Stream& s) {
  std::lock_guard<std::mutex> lock(streams_mutex());
  auto& st = streams()[s.index];
  if (!st) st = std::make_unique<vulkan::Stream>(device());
  return *st;
}

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

std::function<void()> submit(Stream s) {
  auto& vs = stream(s);
  uint64_t ticket = vs.submit();
  return [&vs, ticket] { vs.wait(ticket); };
}

void synchronize(Stream s) { stream(s).synchronize(); }

void download(Buffer& src, size_t offset, void* dst, size_t bytes) {
  device().download(static_cast<vulkan::DeviceBuffer&>(src), offset, dst, bytes);
}

View resident(const array& a_in, vulkan::Stream& vs) {
  array& a = const_cast<array&>(a_in);
  const uint32_t offset = static_cast<uint32_t>(a.offset() / a.itemsize());
  BufferPtr buf = a.buffer();
  if (!buf) throw std::runtime_error("[gpu] an input array holds no data");
  if (buf->kind() != BufferKind::vulkan) {
    std::lock_guard<std::mutex> lock(residency_mutex());
    if (!a.mirror() || a.mirror()->kind() != BufferKind::vulkan) {
      auto gpu_buf = device().alloc(buf->size());
      device().upload(*gpu_buf, 0, buf->host_ptr(), buf->size());
      a.set_mirror(gpu_buf);
    }
    buf = a.mirror();
  }
  vs.keep_alive(buf);
  return {static_cast<vulkan::DeviceBuffer*>(buf.get()), offset};
}

void alloc_output(array& out, vulkan::Stream& vs) {
  auto buf = device().alloc(out.nbytes());
  vs.keep_alive(buf);
  out.set_data(buf);
}

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

void grid_for(uint64_t items, uint32_t group, uint32_t& gx, uint32_t& gy) {
  uint64_t groups = (items + group - 1) / group;
  if (groups == 0) groups = 1;
  const uint64_t max_x = 65535;
  gx = static_cast<uint32_t>(groups < max_x ? groups : max_x);
  gy = static_cast<uint32_t>((groups + gx - 1) / gx);
}

}  // namespace tessera::gpu
