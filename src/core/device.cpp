#include "tessera/core/device.hpp"

#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <string>

#include "backend/gpu.hpp"

namespace tessera {
namespace {

struct DeviceState {
  std::mutex mutex;
  bool initialised = false;
  Device default_device{Device::cpu};
  int next_stream = 2;  // 0: default CPU stream, 1: default GPU stream
  Stream cpu_default{0, Device(Device::cpu)};
  Stream gpu_default{1, Device(Device::gpu)};
};

DeviceState& state() {
  static DeviceState s;
  return s;
}

bool forced_cpu() {
  const char* env = std::getenv("TESSERA_DEVICE");
  return env && std::string(env) == "cpu";
}

void init_locked(DeviceState& s) {
  if (s.initialised) return;
  s.initialised = true;
  s.default_device = (!forced_cpu() && gpu::is_available()) ? Device(Device::gpu)
                                                            : Device(Device::cpu);
}

void check(const Device& d, const char* op) {
  if (d.type == Device::gpu && !is_available(d)) {
    throw std::invalid_argument(std::string("[") + op +
                                "] no GPU device is available (Vulkan absent, or TESSERA_DEVICE=cpu)");
  }
  if (d.index != 0) {
    throw std::invalid_argument(std::string("[") + op + "] device index " +
                                std::to_string(d.index) + " does not exist; only index 0");
  }
}
}  // namespace

bool is_available(const Device& d) {
  if (d.type == Device::cpu) return true;
  return !forced_cpu() && gpu::is_available();
}

const Device& default_device() {
  // MLX's signature returns a reference; a per-thread copy keeps it valid while another
  // thread calls set_default_device.
  thread_local Device current{Device::cpu};
  auto& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  init_locked(s);
  current = s.default_device;
  return current;
}

void set_default_device(const Device& d) {
  check(d, "set_default_device");
  auto& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  init_locked(s);
  s.default_device = d;
}

Stream default_stream(Device d) {
  auto& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  return d.type == Device::cpu ? s.cpu_default : s.gpu_default;
}

void set_default_stream(Stream st) {
  check(st.device, "set_default_stream");
  auto& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  init_locked(s);
  (st.device.type == Device::cpu ? s.cpu_default : s.gpu_default) = st;
  s.default_device = st.device;
}

Stream new_stream(Device d) {
  check(d, "new_stream");
  auto& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  return Stream(s.next_stream++, d);
}

Stream to_stream(StreamOrDevice sd) {
  if (auto* st = std::get_if<Stream>(&sd)) return *st;
  Device d = std::holds_alternative<Device>(sd) ? std::get<Device>(sd) : default_device();
  check(d, "stream");
  return default_stream(d);
}

namespace {
Stream context_target(const StreamOrDevice& s) {
  if (std::holds_alternative<std::monostate>(s)) {
    throw std::invalid_argument("[StreamContext] needs a stream or a device");
  }
  return to_stream(s);
}
}  // namespace

StreamContext::StreamContext(StreamOrDevice s)
    : previous_device_(default_device()),
      previous_stream_(default_stream(context_target(s).device)) {
  Stream target = to_stream(s);
  set_default_device(target.device);
  set_default_stream(target);
}

StreamContext::~StreamContext() {
  set_default_stream(previous_stream_);
  set_default_device(previous_device_);
}

}  // namespace tessera
