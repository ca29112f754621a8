// "Bring your own Vulkan": an application creates its own instance, device and queue, hands
// them to Tessera, runs a kernel, releases Tessera and destroys its device itself. A separate
// executable because the Tessera device is a process-wide singleton. Exit code 0 = pass,
// 77 = skipped (no Vulkan 1.2 device), 1 = fail. With TESSERA_VK_VALIDATION set, the app
// enables the validation layer itself and fails on any message, which also catches objects
// Tessera forgot to destroy before vkDestroyDevice. With --baseline the app does not tell
// Tessera which features it enabled, so Tessera must run on the baseline (fences instead of
// timeline semaphores).
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "tessera/backend/vulkan/runtime.hpp"

namespace tv = tessera::vulkan;

namespace {

std::atomic<int> g_messages{0};

VKAPI_ATTR VkBool32 VKAPI_CALL on_message(VkDebugUtilsMessageSeverityFlagBitsEXT, VkDebugUtilsMessageTypeFlagsEXT,
                                          const VkDebugUtilsMessengerCallbackDataEXT* data, void*) {
  ++g_messages;
  std::fprintf(stderr, "[byo validation] %s\n", data->pMessage);
  return VK_FALSE;
}

#define CHECK(cond)                                                   \
  do {                                                                \
    if (!(cond)) {                                                    \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      return 1;                                                       \
    }                                                                 \
  } while (0)

struct Params {
  float bias;
  uint32_t n;
};
struct Push {
  float scale;
  uint32_t x_offset;
};

// Everything Tessera-side in its own scope: streams and buffers die before release().
int run_tessera_work() {
  tv::Device& d = tv::Device::get();
  std::printf("adopted device: %s (timeline semaphores %s)\n", d.caps().device_name.c_str(),
              d.caps().timeline_semaphore ? "on" : "off");
  const uint32_t n = 10000;
  std::vector<float> x(n);
  for (uint32_t i = 0; i < n; ++i) x[i] = static_cast<float>(i) * 0.25f;
  auto xb = d.alloc(n * sizeof(float));
  auto yb = d.alloc(n * sizeof(float), tv::MemoryHint::device_local);
  d.upload(*xb, 0, x.data(), n * sizeof(float));
  tv::Stream s(d);
  tv::Kernel& k = d.kernel("selftest", 2);
  Push push{3.0f, 0};
  Params params{-1.0f, n};
  tv::Binding b[] = {{xb.get(), false}, {yb.get()}};
  s.dispatch(k, b, &push, sizeof push, std::as_bytes(std::span<const Params, 1>(&params, 1)), (n + 63) / 64);
  s.synchronize();
  std::vector<float> y(n);
  d.download(*yb, 0, y.data(), n * sizeof(float));
  for (uint32_t i = 0; i < n; ++i) CHECK(y[i] == x[i] * 3.0f - 1.0f);
  CHECK(d.validation_messages() == 0);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const bool baseline = argc > 1 && std::strcmp(argv[1], "--baseline") == 0;
  const char* v = std::getenv("TESSERA_VK_VALIDATION");
  const bool validate = v && *v && std::strcmp(v, "0") != 0;

  VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
  app.pApplicationName = "byo-test";
  app.apiVersion = VK_API_VERSION_1_2;
  std::vector<const char*> layers, exts;
  if (validate) {
    layers.push_back("VK_LAYER_KHRONOS_validation");
    exts.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
  }
  VkDebugUtilsMessengerCreateInfoEXT mi{VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT};
  mi.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
  mi.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                   VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
  mi.pfnUserCallback = on_message;
  VkInstanceCreateInfo ici{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, validate ? &mi : nullptr};
  ici.pApplicationInfo = &app;
  ici.enabledLayerCount = static_cast<uint32_t>(layers.size());
  ici.ppEnabledLayerNames = layers.data();
  ici.enabledExtensionCount = static_cast<uint32_t>(exts.size());
  ici.ppEnabledExtensionNames = exts.data();
  VkInstance instance;
  if (vkCreateInstance(&ici, nullptr, &instance) != VK_SUCCESS) {
    std::printf("SKIP: no Vulkan instance\n");
    return 77;
  }
  VkDebugUtilsMessengerEXT messenger = VK_NULL_HANDLE;
  if (validate) {
    auto create = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
        vkGetInstanceProcAddr(instance, "vkCreateDebugUtilsMessengerEXT"));
    create(instance, &mi, nullptr, &messenger);
  }

  uint32_t count = 0;
  vkEnumeratePhysicalDevices(instance, &count, nullptr);
  std::vector<VkPhysicalDevice> pds(count);
  vkEnumeratePhysicalDevices(instance, &count, pds.data());
  VkPhysicalDevice pd = VK_NULL_HANDLE;
  uint32_t family = 0;
  for (VkPhysicalDevice cand : pds) {
    VkPhysicalDeviceProperties p;
    vkGetPhysicalDeviceProperties(cand, &p);
    if (p.apiVersion < VK_API_VERSION_1_2) continue;
    uint32_t nf = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(cand, &nf, nullptr);
    std::vector<VkQueueFamilyProperties> fams(nf);
    vkGetPhysicalDeviceQueueFamilyProperties(cand, &nf, fams.data());
    for (uint32_t f = 0; f < nf && !pd; ++f)
      if (fams[f].queueFlags & VK_QUEUE_COMPUTE_BIT) pd = cand, family = f;
    if (pd) break;
  }
  if (!pd) {
    std::printf("SKIP: no Vulkan 1.2 device with a compute queue\n");
    vkDestroyInstance(instance, nullptr);
    return 77;
  }

  // The app enables timeline semaphores if offered and tells Tessera through the same chain.
  VkPhysicalDeviceVulkan12Features supported12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
  VkPhysicalDeviceFeatures2 supported{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, &supported12};
  vkGetPhysicalDeviceFeatures2(pd, &supported);
  VkPhysicalDeviceVulkan12Features enable12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
  enable12.timelineSemaphore = supported12.timelineSemaphore;
  VkPhysicalDeviceFeatures2 enabled{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, &enable12};

  float priority = 1.0f;
  VkDeviceQueueCreateInfo qi{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
  qi.queueFamilyIndex = family;
  qi.queueCount = 1;
  qi.pQueuePriorities = &priority;
  VkDeviceCreateInfo dci{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, &enabled};
  dci.queueCreateInfoCount = 1;
  dci.pQueueCreateInfos = &qi;
  VkDevice device;
  if (vkCreateDevice(pd, &dci, nullptr, &device) != VK_SUCCESS) {
    std::fprintf(stderr, "vkCreateDevice failed\n");
    return 1;
  }
  VkQueue queue;
  vkGetDeviceQueue(device, family, 0, &queue);

  int rc = 0;
  try {
    tv::Device::adopt(instance, pd, device, queue, family, baseline ? nullptr : &enabled);
    rc = run_tessera_work();
    const bool expect_timeline = !baseline && supported12.timelineSemaphore;
    if (rc == 0 && tv::Device::get().handle() != device) rc = 1;
    if (rc == 0 && tv::Device::get().caps().timeline_semaphore != expect_timeline) rc = 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tessera threw: %s\n", e.what());
    rc = 1;
  }
  tv::Device::release();  // Tessera lets go of the device; the app still owns it

  vkDestroyDevice(device, nullptr);  // the validation layer reports any Tessera object left behind
  if (messenger) {
    auto destroy = reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(
        vkGetInstanceProcAddr(instance, "vkDestroyDebugUtilsMessengerEXT"));
    destroy(instance, messenger, nullptr);
  }
  vkDestroyInstance(instance, nullptr);
  if (g_messages.load() != 0) {
    std::fprintf(stderr, "%d validation messages\n", g_messages.load());
    rc = 1;
  }
  std::printf(rc == 0 ? "PASS\n" : "FAIL\n");
  return rc;
}
