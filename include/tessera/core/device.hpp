#pragma once
// Devices and streams: where work runs and in what order.
#include <variant>

namespace tessera {

struct Device {
  enum class DeviceType { cpu, gpu };
  static constexpr DeviceType cpu = DeviceType::cpu;
  static constexpr DeviceType gpu = DeviceType::gpu;

  constexpr Device(DeviceType t, int i = 0) : type(t), index(i) {}
  DeviceType type;
  int index;
  bool operator==(const Device& o) const { return type == o.type && index == o.index; }
};

// Is a GPU (Vulkan) device usable in this process? False when Tessera was built without
// Vulkan, when no device exists, or when TESSERA_DEVICE=cpu.
bool is_available(const Device& d);
const Device& default_device();
void set_default_device(const Device& d);

struct Stream {
  int index;
  Device device;
  Stream(int i, Device d) : index(i), device(d) {}
  bool operator==(const Stream& o) const { return index == o.index; }
};

Stream default_stream(Device d);
void set_default_stream(Stream s);
Stream new_stream(Device d);

using StreamOrDevice = std::variant<std::monostate, Stream, Device>;
// Resolves the trailing argument of every op: empty -> default stream of the default device.
Stream to_stream(StreamOrDevice s);
// For APIs that take a Device::DeviceType directly.
inline StreamOrDevice as_stream_or_device(Device::DeviceType t) { return Device(t); }

// MLX's scope guard: makes `s` (a stream, or a device's default stream) the default for the
// scope, and puts back at the end the previous default device and the previous default stream
// of s's device (MLX restores only the default device's stream, which leaves a CPU stream
// set as the CPU default when the GPU was the default device).
class StreamContext {
 public:
  explicit StreamContext(StreamOrDevice s);
  ~StreamContext();
  StreamContext(const StreamContext&) = delete;
  StreamContext& operator=(const StreamContext&) = delete;

 private:
  Device previous_device_;
  Stream previous_stream_;
};

// Waits until all work queued on the stream has finished.
void synchronize(Stream s);
void synchronize();

}  // namespace tessera
