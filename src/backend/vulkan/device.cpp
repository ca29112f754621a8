// Instance, physical-device choice, logical device, capabilities, validation messenger and
// "bring your own Vulkan". The process-wide Device lives here.
#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <stdexcept>

#include "internal.hpp"

namespace tessera::vulkan {

namespace {

const char* result_name(VkResult r) {
  switch (r) {
    case VK_NOT_READY: return "VK_NOT_READY";
    case VK_TIMEOUT: return "VK_TIMEOUT";
    case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
    case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
    case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
    case VK_ERROR_LAYER_NOT_PRESENT: return "VK_ERROR_LAYER_NOT_PRESENT";
    case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
    case VK_ERROR_FEATURE_NOT_PRESENT: return "VK_ERROR_FEATURE_NOT_PRESENT";
    case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER";
    case VK_ERROR_OUT_OF_POOL_MEMORY: return "VK_ERROR_OUT_OF_POOL_MEMORY";
    default: return "VkResult";
  }
}

bool has_extension(const std::vector<VkExtensionProperties>& list, const char* name) {
  return std::any_of(list.begin(), list.end(),
                     [&](const VkExtensionProperties& e) { return std::strcmp(e.extensionName, name) == 0; });
}

std::vector<VkExtensionProperties> instance_extensions(const char* layer) {
  uint32_t n = 0;
  if (vkEnumerateInstanceExtensionProperties(layer, &n, nullptr) != VK_SUCCESS) return {};
  std::vector<VkExtensionProperties> out(n);
  if (vkEnumerateInstanceExtensionProperties(layer, &n, out.data()) != VK_SUCCESS) return {};
  out.resize(n);
  return out;
}

std::vector<VkExtensionProperties> device_extensions(VkPhysicalDevice pd) {
  uint32_t n = 0;
  vkEnumerateDeviceExtensionProperties(pd, nullptr, &n, nullptr);
  std::vector<VkExtensionProperties> out(n);
  vkEnumerateDeviceExtensionProperties(pd, nullptr, &n, out.data());
  out.resize(n);
  return out;
}

VKAPI_ATTR VkBool32 VKAPI_CALL on_validation_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                     VkDebugUtilsMessageTypeFlagsEXT,
                                                     const VkDebugUtilsMessengerCallbackDataEXT* data,
                                                     void* user) {
  if (severity & (VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT)) {
    static_cast<Device::Impl*>(user)->validation_messages.fetch_add(1);
    const char* level = (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) ? "error" : "warning";
    std::fprintf(stderr, "[tessera vulkan validation %s] %s\n", level, data && data->pMessage ? data->pMessage : "");
  }
  return VK_FALSE;
}

// The feature structs we read and enable, chained in place (hence not copyable).
struct FeatureChain {
  VkPhysicalDeviceFeatures2 f2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
  VkPhysicalDeviceVulkan11Features v11{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES};
  VkPhysicalDeviceVulkan12Features v12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
  VkPhysicalDeviceCooperativeMatrixFeaturesNV coop{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV};
  explicit FeatureChain(bool with_coop) {
    f2.pNext = &v11;
    v11.pNext = &v12;
    v12.pNext = with_coop ? &coop : nullptr;
  }
  FeatureChain(const FeatureChain&) = delete;
};

// An adopted device: read what the app says it enabled (core 1.1/1.2 structs or the KHR ones).
void read_enabled_features(const VkPhysicalDeviceFeatures2* app, FeatureChain& out) {
  if (!app) return;
  out.f2.features = app->features;
  for (auto* s = static_cast<const VkBaseInStructure*>(app->pNext); s; s = s->pNext) {
    switch (s->sType) {
      case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES: {
        auto* p = reinterpret_cast<const VkPhysicalDeviceVulkan11Features*>(s);
        out.v11.storageBuffer16BitAccess = p->storageBuffer16BitAccess;
        break;
      }
      case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES: {
        auto* p = reinterpret_cast<const VkPhysicalDeviceVulkan12Features*>(s);
        out.v12.shaderFloat16 = p->shaderFloat16;
        out.v12.shaderInt8 = p->shaderInt8;
        out.v12.storageBuffer8BitAccess = p->storageBuffer8BitAccess;
        out.v12.timelineSemaphore = p->timelineSemaphore;
        break;
      }
      case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES:
        out.v11.storageBuffer16BitAccess =
            reinterpret_cast<const VkPhysicalDevice16BitStorageFeatures*>(s)->storageBuffer16BitAccess;
        break;
      case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_8BIT_STORAGE_FEATURES:
        out.v12.storageBuffer8BitAccess =
            reinterpret_cast<const VkPhysicalDevice8BitStorageFeatures*>(s)->storageBuffer8BitAccess;
        break;
      case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES: {
        auto* p = reinterpret_cast<const VkPhysicalDeviceShaderFloat16Int8Features*>(s);
        out.v12.shaderFloat16 = p->shaderFloat16;
        out.v12.shaderInt8 = p->shaderInt8;
        break;
      }
      case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES:
        out.v12.timelineSemaphore =
            reinterpret_cast<const VkPhysicalDeviceTimelineSemaphoreFeatures*>(s)->timelineSemaphore;
        break;
      case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV:
        out.coop.cooperativeMatrix =
            reinterpret_cast<const VkPhysicalDeviceCooperativeMatrixFeaturesNV*>(s)->cooperativeMatrix;
        break;
      default: break;
    }
  }
}

bool disabled(const char* feature) {
  std::string name = std::string("TESSERA_VK_DISABLE_") + feature;
  return env_flag(name.c_str());
}

// Fills props, memory props and caps from the features that are (or will be) enabled.
// `push_ext`: VK_KHR_push_descriptor is (or will be) enabled.
void fill_caps(Device::Impl& d, const FeatureChain& f, bool coop_ext, bool push_ext) {
  VkPhysicalDevicePushDescriptorPropertiesKHR push{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PUSH_DESCRIPTOR_PROPERTIES_KHR};
  VkPhysicalDeviceVulkan11Properties p11{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_PROPERTIES, push_ext ? &push : nullptr};
  VkPhysicalDeviceProperties2 p2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, &p11};
  vkGetPhysicalDeviceProperties2(d.physical, &p2);
  d.props = p2.properties;
  vkGetPhysicalDeviceMemoryProperties(d.physical, &d.memory_props);

  Capabilities& c = d.caps;
  const VkPhysicalDeviceLimits& lim = d.props.limits;
  c.device_name = d.props.deviceName;
  c.vendor_id = d.props.vendorID;
  c.type = d.props.deviceType;
  c.api_version = d.props.apiVersion;
  c.float16_arith = f.v12.shaderFloat16 && !disabled("FP16");
  c.float64 = f.f2.features.shaderFloat64 && !disabled("FLOAT64");
  c.int64 = f.f2.features.shaderInt64 && !disabled("INT64");
  c.int16 = f.f2.features.shaderInt16 && !disabled("INT16");
  c.int64_atomics = c.int64 && f.v12.shaderBufferInt64Atomics && !disabled("INT64_ATOMICS");
  c.int8 = f.v12.shaderInt8 && !disabled("INT8");
  c.storage8 = f.v12.storageBuffer8BitAccess && !disabled("STORAGE8");
  c.storage16 = f.v11.storageBuffer16BitAccess && !disabled("STORAGE16");
  c.subgroup_size = p11.subgroupSize;
  c.subgroup_arith = (p11.subgroupSupportedStages & VK_SHADER_STAGE_COMPUTE_BIT) &&
                     (p11.subgroupSupportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT) &&
                     !disabled("SUBGROUP");
  c.max_shared_memory = lim.maxComputeSharedMemorySize;
  c.max_workgroup_invocations = lim.maxComputeWorkGroupInvocations;
  for (int i = 0; i < 3; ++i) c.max_workgroup_count[i] = lim.maxComputeWorkGroupCount[i];
  c.max_storage_buffer_range = lim.maxStorageBufferRange;
  if (const char* env = std::getenv("TESSERA_VK_MAX_BINDING_RANGE")) {
    const uint64_t v = std::strtoull(env, nullptr, 10);
    if (v >= 4096) c.max_storage_buffer_range = std::min<uint64_t>(c.max_storage_buffer_range, v);
  }
  c.min_storage_offset_alignment = lim.minStorageBufferOffsetAlignment;
  c.cooperative_matrix = coop_ext && f.coop.cooperativeMatrix && !disabled("COOPMAT");
  c.timeline_semaphore = f.v12.timelineSemaphore && !disabled("TIMELINE");
  c.push_descriptor = push_ext && push.maxPushDescriptors > 0 && !disabled("PUSH_DESCRIPTOR");
  c.max_push_descriptors = c.push_descriptor ? push.maxPushDescriptors : 0;

  // Zero-copy only where the mappable device-local heap is the real one (UMA, resizable BAR):
  // a 256 MiB BAR window would fill up and push arrays to an unpredictable mix of heaps.
  VkDeviceSize largest_local = 0;
  for (uint32_t h = 0; h < d.memory_props.memoryHeapCount; ++h)
    if (d.memory_props.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
      largest_local = std::max(largest_local, d.memory_props.memoryHeaps[h].size);
  // Zero-copy only where the host reads the memory through its caches (integrated GPUs, CPU
  // devices). A discrete GPU's resizable-BAR window is host-visible too, but uncached: CPU
  // kernels reading arrays through it run two orders of magnitude slower than after one copy.
  const VkMemoryPropertyFlags zc = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT | VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                   VK_MEMORY_PROPERTY_HOST_COHERENT_BIT | VK_MEMORY_PROPERTY_HOST_CACHED_BIT;
  c.host_visible_device_local = false;
  for (uint32_t t = 0; t < d.memory_props.memoryTypeCount; ++t) {
    const VkMemoryType& type = d.memory_props.memoryTypes[t];
    if ((type.propertyFlags & zc) == zc && d.memory_props.memoryHeaps[type.heapIndex].size * 2 >= largest_local)
      c.host_visible_device_local = true;
  }
  if (disabled("ZERO_COPY")) c.host_visible_device_local = false;
}

int type_rank(VkPhysicalDeviceType t) {
  switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 0;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 1;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return 3;
    default: return 4;
  }
}

std::optional<uint32_t> compute_family(VkPhysicalDevice pd) {
  uint32_t n = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, nullptr);
  std::vector<VkQueueFamilyProperties> fams(n);
  vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, fams.data());
  std::optional<uint32_t> any;
  for (uint32_t i = 0; i < n; ++i) {
    if (!(fams[i].queueFlags & VK_QUEUE_COMPUTE_BIT) || fams[i].queueCount == 0) continue;
    // A compute-only family is the async queue: ML work there does not stall an app's graphics.
    if (!(fams[i].queueFlags & VK_QUEUE_GRAPHICS_BIT)) return i;
    if (!any) any = i;
  }
  return any;
}

std::string lower(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

VkPhysicalDevice pick_physical(VkInstance instance) {
  uint32_t n = 0;
  check(vkEnumeratePhysicalDevices(instance, &n, nullptr), "vkEnumeratePhysicalDevices");
  std::vector<VkPhysicalDevice> all(n);
  check(vkEnumeratePhysicalDevices(instance, &n, all.data()), "vkEnumeratePhysicalDevices");
  all.resize(n);
  if (all.empty()) throw std::runtime_error("[vulkan] no Vulkan physical device found");

  std::string names;
  for (uint32_t i = 0; i < all.size(); ++i) {
    VkPhysicalDeviceProperties p;
    vkGetPhysicalDeviceProperties(all[i], &p);
    names += "\n  " + std::to_string(i) + ": " + p.deviceName;
  }
  if (const char* want = std::getenv("TESSERA_VK_DEVICE"); want && *want) {
    std::string w = want;
    bool digits = std::all_of(w.begin(), w.end(), [](char ch) { return std::isdigit(static_cast<unsigned char>(ch)); });
    for (uint32_t i = 0; i < all.size(); ++i) {
      VkPhysicalDeviceProperties p;
      vkGetPhysicalDeviceProperties(all[i], &p);
      if (digits ? std::stoul(w) == i : lower(p.deviceName).find(lower(w)) != std::string::npos) return all[i];
    }
    throw std::runtime_error("[vulkan] TESSERA_VK_DEVICE=" + w + " matches no device; devices:" + names);
  }
  VkPhysicalDevice best = VK_NULL_HANDLE;
  int best_rank = 1 << 30;
  for (VkPhysicalDevice pd : all) {
    VkPhysicalDeviceProperties p;
    vkGetPhysicalDeviceProperties(pd, &p);
    if (p.apiVersion < VK_API_VERSION_1_2 || !compute_family(pd)) continue;
    if (type_rank(p.deviceType) < best_rank) best = pd, best_rank = type_rank(p.deviceType);
  }
  if (!best) throw std::runtime_error("[vulkan] no device with Vulkan 1.2 and a compute queue; devices:" + names);
  return best;
}

void create_instance(Device::Impl& d) {
  uint32_t loader = VK_API_VERSION_1_0;
  vkEnumerateInstanceVersion(&loader);
  if (loader < VK_API_VERSION_1_2) throw std::runtime_error("[vulkan] the Vulkan loader is older than 1.2");

  const char* validation = std::getenv("TESSERA_VK_VALIDATION");
  bool want_validation = validation && *validation && std::strcmp(validation, "0") != 0;
  bool want_sync = want_validation && std::strcmp(validation, "sync") == 0;

  std::vector<const char*> layers, exts;
  auto available = instance_extensions(nullptr);
  if (has_extension(available, VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME))
    exts.push_back(VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME);
  bool debug_utils = false, validation_features = false;
  if (want_validation) {
    uint32_t n = 0;
    vkEnumerateInstanceLayerProperties(&n, nullptr);
    std::vector<VkLayerProperties> lp(n);
    vkEnumerateInstanceLayerProperties(&n, lp.data());
    bool found = std::any_of(lp.begin(), lp.end(), [](const VkLayerProperties& l) {
      return std::strcmp(l.layerName, "VK_LAYER_KHRONOS_validation") == 0;
    });
    if (found) {
      layers.push_back("VK_LAYER_KHRONOS_validation");
      auto layer_exts = instance_extensions("VK_LAYER_KHRONOS_validation");
      validation_features = want_sync && has_extension(layer_exts, VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME);
      if (validation_features) exts.push_back(VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME);
      debug_utils = has_extension(available, VK_EXT_DEBUG_UTILS_EXTENSION_NAME) ||
                    has_extension(layer_exts, VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
    } else {
      std::fprintf(stderr, "[tessera vulkan] TESSERA_VK_VALIDATION is set but VK_LAYER_KHRONOS_validation is not installed\n");
    }
  }
  if (debug_utils) exts.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);

  VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
  app.pApplicationName = "tessera";
  app.pEngineName = "tessera";
  app.apiVersion = std::min<uint32_t>(loader, VK_API_VERSION_1_3);

  VkDebugUtilsMessengerCreateInfoEXT messenger{VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT};
  messenger.messageSeverity =
      VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
  messenger.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                          VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
  messenger.pfnUserCallback = on_validation_message;
  messenger.pUserData = &d;

  VkValidationFeatureEnableEXT sync = VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT;
  VkValidationFeaturesEXT features{VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT};
  features.enabledValidationFeatureCount = 1;
  features.pEnabledValidationFeatures = &sync;

  VkInstanceCreateInfo ci{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
  // The messenger in pNext also reports problems inside vkCreateInstance/vkDestroyInstance.
  const void* next = nullptr;
  if (debug_utils) messenger.pNext = next, next = &messenger;
  if (validation_features) features.pNext = next, next = &features;
  ci.pNext = next;
  if (has_extension(available, VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME))
    ci.flags |= VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR;
  ci.pApplicationInfo = &app;
  ci.enabledLayerCount = static_cast<uint32_t>(layers.size());
  ci.ppEnabledLayerNames = layers.data();
  ci.enabledExtensionCount = static_cast<uint32_t>(exts.size());
  ci.ppEnabledExtensionNames = exts.data();
  check(vkCreateInstance(&ci, nullptr, &d.instance), "vkCreateInstance");

  if (debug_utils) {
    messenger.pNext = nullptr;
    auto create = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
        vkGetInstanceProcAddr(d.instance, "vkCreateDebugUtilsMessengerEXT"));
    if (create) check(create(d.instance, &messenger, nullptr, &d.messenger), "vkCreateDebugUtilsMessengerEXT");
  }
}

void create_device(Device::Impl& d) {
  d.physical = pick_physical(d.instance);
  VkPhysicalDeviceProperties p;
  vkGetPhysicalDeviceProperties(d.physical, &p);
  if (p.apiVersion < VK_API_VERSION_1_2)
    throw std::runtime_error(std::string("[vulkan] ") + p.deviceName + " supports only Vulkan " +
                             std::to_string(VK_API_VERSION_MAJOR(p.apiVersion)) + "." +
                             std::to_string(VK_API_VERSION_MINOR(p.apiVersion)) + "; Tessera needs 1.2");
  d.queue_family = *compute_family(d.physical);

  auto exts = device_extensions(d.physical);
  bool coop_ext = has_extension(exts, VK_NV_COOPERATIVE_MATRIX_EXTENSION_NAME);
  FeatureChain supported(coop_ext);
  vkGetPhysicalDeviceFeatures2(d.physical, &supported.f2);
  fill_caps(d, supported, coop_ext, has_extension(exts, VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME));

  // Enable exactly what the capabilities say, so a killed feature is also off on the device.
  const Capabilities& c = d.caps;
  FeatureChain enable(c.cooperative_matrix);
  enable.f2.features.shaderFloat64 = c.float64;
  enable.f2.features.shaderInt64 = c.int64;
  enable.f2.features.shaderInt16 = c.int16;
  enable.v11.storageBuffer16BitAccess = c.storage16;
  enable.v12.shaderFloat16 = c.float16_arith;
  enable.v12.shaderInt8 = c.int8;
  enable.v12.shaderBufferInt64Atomics = c.int64_atomics;
  enable.v12.storageBuffer8BitAccess = c.storage8;
  enable.v12.timelineSemaphore = c.timeline_semaphore;
  enable.v12.shaderSubgroupExtendedTypes = supported.v12.shaderSubgroupExtendedTypes && c.subgroup_arith;
  enable.coop.cooperativeMatrix = c.cooperative_matrix;

  std::vector<const char*> enable_exts;
  if (c.cooperative_matrix) enable_exts.push_back(VK_NV_COOPERATIVE_MATRIX_EXTENSION_NAME);
  if (c.push_descriptor) enable_exts.push_back(VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME);
  // MoltenVK and similar layered drivers require this extension to be enabled when offered.
  if (has_extension(exts, "VK_KHR_portability_subset")) enable_exts.push_back("VK_KHR_portability_subset");

  float priority = 1.0f;
  VkDeviceQueueCreateInfo qi{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
  qi.queueFamilyIndex = d.queue_family;
  qi.queueCount = 1;
  qi.pQueuePriorities = &priority;
  VkDeviceCreateInfo ci{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, &enable.f2};
  ci.queueCreateInfoCount = 1;
  ci.pQueueCreateInfos = &qi;
  ci.enabledExtensionCount = static_cast<uint32_t>(enable_exts.size());
  ci.ppEnabledExtensionNames = enable_exts.data();
  check(vkCreateDevice(d.physical, &ci, nullptr, &d.device), "vkCreateDevice");
  vkGetDeviceQueue(d.device, d.queue_family, 0, &d.queue);
  if (c.push_descriptor) {
    d.cmd_push_descriptor_set = reinterpret_cast<PFN_vkCmdPushDescriptorSetKHR>(
        vkGetDeviceProcAddr(d.device, "vkCmdPushDescriptorSetKHR"));
    if (!d.cmd_push_descriptor_set) d.caps.push_descriptor = false, d.caps.max_push_descriptors = 0;
  }
}

void finish_setup(Device::Impl& d) {
  d.pool = std::make_shared<MemoryPool>(d);
  d.pipelines = std::make_unique<PipelineStore>(d);
}

struct AdoptedHandles {
  VkInstance instance;
  VkPhysicalDevice physical;
  VkDevice device;
  VkQueue queue;
  uint32_t family;
  std::shared_ptr<FeatureChain> features;  // copied: the app's chain may be gone by get()
};

// Constant-initialized, so destroyed after anything a program creates at run time: the device
// outlives user statics (their buffers/streams release into a live device).
std::mutex g_mutex;
std::unique_ptr<Device> g_device;
// g_device once it is set up: every kernel launch asks for the device, without the lock.
std::atomic<Device*> g_live{nullptr};
std::optional<AdoptedHandles> g_adopted;
std::string g_failure;  // remembered so available() does not retry a broken driver each call

}  // namespace

[[noreturn]] void throw_vk(VkResult result, const std::string& what) {
  throw std::runtime_error("[vulkan] " + what + " failed: " + result_name(result) + " (" +
                           std::to_string(static_cast<int>(result)) + ")");
}

bool env_flag(const char* name) {
  const char* v = std::getenv(name);
  return v && *v && std::strcmp(v, "0") != 0;
}

std::filesystem::path cache_dir() {
  if (const char* v = std::getenv("TESSERA_CACHE_DIR"); v && *v) return v;
  if (const char* v = std::getenv("XDG_CACHE_HOME"); v && *v) return std::filesystem::path(v) / "tessera";
  if (const char* v = std::getenv("HOME"); v && *v) return std::filesystem::path(v) / ".cache" / "tessera";
  return std::filesystem::temp_directory_path() / "tessera-cache";
}

void write_file_atomically(const std::filesystem::path& path, const void* data, std::size_t bytes) {
  // Write-then-rename so a concurrent reader (another process) never sees half a file.
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  static std::atomic<uint64_t> counter{0};
  auto tmp = path;
  tmp += ".tmp" + std::to_string(reinterpret_cast<uintptr_t>(&counter) ^ counter.fetch_add(1)) + "-" +
         std::to_string(std::rand());
  {
    std::ofstream out(tmp, std::ios::binary);
    if (!out) return;
    out.write(static_cast<const char*>(data), static_cast<std::streamsize>(bytes));
    if (!out) {
      out.close();
      std::filesystem::remove(tmp, ec);
      return;
    }
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) std::filesystem::remove(tmp, ec);
}

Device::Impl::~Impl() {
  transfer.reset();
  shutdown_streams(this);
  // Only our own device may be idled wholesale; an adopted one may be busy with the app's work.
  if (device && owns_handles) vkDeviceWaitIdle(device);
  pipelines.reset();  // saves the pipeline cache
  if (pool) pool->shutdown();
  pool.reset();
  if (owns_handles) {
    if (device) vkDestroyDevice(device, nullptr);
    if (messenger) {
      auto destroy = reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(
          vkGetInstanceProcAddr(instance, "vkDestroyDebugUtilsMessengerEXT"));
      if (destroy) destroy(instance, messenger, nullptr);
    }
    if (instance) vkDestroyInstance(instance, nullptr);
  }
}

Device::Device(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Device::~Device() = default;

bool Device::available() {
  if (const char* d = std::getenv("TESSERA_DEVICE"); d && lower(d) == "cpu") return false;
  try {
    get();
    return true;
  } catch (...) {
    return false;
  }
}

Device& Device::get() {
  if (Device* live = g_live.load(std::memory_order_acquire)) return *live;
  std::lock_guard lock(g_mutex);
  if (g_device) return *g_device;
  if (!g_failure.empty()) throw std::runtime_error(g_failure);
  auto impl = std::make_unique<Impl>();
  try {
    if (g_adopted) {
      Impl& d = *impl;
      d.owns_handles = false;
      d.instance = g_adopted->instance;
      d.physical = g_adopted->physical;
      d.device = g_adopted->device;
      d.queue = g_adopted->queue;
      d.queue_family = g_adopted->family;
      fill_caps(d, *g_adopted->features, true, false);  // extensions it enabled are unknown
      if (d.props.apiVersion < VK_API_VERSION_1_2) throw std::runtime_error("[vulkan] adopted device is below Vulkan 1.2");
    } else {
      create_instance(*impl);
      create_device(*impl);
    }
    finish_setup(*impl);
  } catch (const std::exception& e) {
    impl.reset();
    g_failure = e.what();
    throw;
  }
  g_device.reset(new Device(std::move(impl)));
  g_live.store(g_device.get(), std::memory_order_release);
  // Tear the device down at exit before the driver's own statics go: the driver library was
  // loaded (and registered its destructors) during creation, so a handler registered now runs
  // first. Some drivers (NVIDIA's) crash when a device outlives them. An adopted device
  // belongs to the application, which may already have destroyed it by then.
  if (!g_adopted) {
    static const bool registered = (std::atexit([] { Device::release(); }), true);
    (void)registered;
  }
  return *g_device;
}

void Device::adopt(VkInstance instance, VkPhysicalDevice physical, VkDevice device, VkQueue compute_queue,
                   uint32_t queue_family_index, const VkPhysicalDeviceFeatures2* enabled_features) {
  std::lock_guard lock(g_mutex);
  if (g_device) throw std::logic_error("[vulkan] Device::adopt must be called before the first Device::get");
  if (!instance || !physical || !device || !compute_queue)
    throw std::invalid_argument("[vulkan] Device::adopt needs non-null instance, physical device, device and queue");
  auto features = std::make_shared<FeatureChain>(true);
  read_enabled_features(enabled_features, *features);
  g_adopted = AdoptedHandles{instance, physical, device, compute_queue, queue_family_index, std::move(features)};
  g_failure.clear();
}

void Device::release() {
  std::unique_ptr<Device> dying;
  {
    std::lock_guard lock(g_mutex);
    g_live.store(nullptr, std::memory_order_release);
    dying = std::move(g_device);
    g_adopted.reset();
    g_failure.clear();
  }
  dying.reset();  // outside the lock: teardown may release buffers whose owners call back in
}

const Capabilities& Device::caps() const { return impl_->caps; }
VkDevice Device::handle() const { return impl_->device; }
VkPhysicalDevice Device::physical() const { return impl_->physical; }
uint64_t Device::validation_messages() const { return impl_->validation_messages.load(); }

}  // namespace tessera::vulkan
