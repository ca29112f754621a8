// Kernels: embedded SPIR-V lookup, runtime GLSL -> SPIR-V through glslang (with an on-disk
// SPIR-V cache), compute pipelines, and the VkPipelineCache persisted between runs.
#include <glslang/Public/ResourceLimits.h>
#include <glslang/Public/ShaderLang.h>
#include <glslang/SPIRV/GlslangToSpv.h>
#include <glslang/build_info.h>

#include <array>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>

#include "internal.hpp"

namespace tessera::vulkan {

namespace {

struct Registry {
  std::unordered_map<std::string, std::span<const uint32_t>> spirv;
  std::unordered_map<std::string, std::string_view> glsl;
  uint64_t glsl_digest = 0;  // of every embedded header: a changed header invalidates disk SPIR-V
};

uint64_t fnv1a(std::string_view data, uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : data) h = (h ^ c) * 1099511628211ull;
  return h;
}

const Registry& registry() {
  static const Registry r = [] {
    Registry out;
    std::size_t n = 0;
    const detail::EmbeddedFile* files = detail::embedded_files(&n);
    for (std::size_t i = 0; i < n; ++i) {
      const auto& f = files[i];
      if (f.spirv) {
        out.spirv.emplace(f.name, std::span<const uint32_t>(static_cast<const uint32_t*>(f.data), f.bytes / 4));
      } else {
        std::string_view text(static_cast<const char*>(f.data), f.bytes);
        out.glsl.emplace(f.name, text);
        out.glsl_digest = fnv1a(text, fnv1a(f.name, out.glsl_digest));
      }
    }
    return out;
  }();
  return r;
}

// Resolves #include "x.glsl" from the embedded headers, so generated kernels see exactly the
// snippets the build compiled the fixed kernels with.
class EmbeddedIncluder : public glslang::TShader::Includer {
 public:
  IncludeResult* includeLocal(const char* name, const char*, size_t) override { return find(name); }
  IncludeResult* includeSystem(const char* name, const char*, size_t) override { return find(name); }
  void releaseInclude(IncludeResult* r) override { delete r; }

 private:
  static IncludeResult* find(const char* name) {
    std::string_view text = embedded_glsl(name);
    if (text.empty()) return nullptr;
    return new IncludeResult(name, text.data(), text.size(), nullptr);
  }
};

std::string numbered(const std::string& source) {
  std::ostringstream out;
  std::istringstream in(source);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    char prefix[16];
    std::snprintf(prefix, sizeof prefix, "%4d | ", n);
    out << prefix << line << '\n';
  }
  return out.str();
}

bool valid_spirv(const std::vector<uint32_t>& words) { return words.size() >= 5 && words[0] == 0x07230203u; }

std::string hex(uint64_t v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%0*llx", digits, static_cast<unsigned long long>(v));
  return buf;
}

std::vector<char> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  return std::vector<char>(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

std::span<const uint32_t> embedded_spirv(const std::string& name) {
  const auto& r = registry();
  auto it = r.spirv.find(name);
  return it == r.spirv.end() ? std::span<const uint32_t>{} : it->second;
}

std::string_view embedded_glsl(const std::string& file_name) {
  const auto& r = registry();
  auto it = r.glsl.find(file_name);
  return it == r.glsl.end() ? std::string_view{} : it->second;
}

namespace {
std::atomic<uint64_t> g_store_generation{0};
}

PipelineStore::PipelineStore(Device::Impl& dev) : dev_(dev), generation_(++g_store_generation) { load_cache(); }

PipelineStore::~PipelineStore() {
  save_cache();
  VkDevice d = dev_.device;
  for (auto& [key, k] : kernels_) {
    vkDestroyPipeline(d, k->pipeline, nullptr);
    vkDestroyShaderModule(d, k->module, nullptr);
  }
  for (auto& [n, l] : layouts_) {
    vkDestroyPipelineLayout(d, l.pipeline, nullptr);
    vkDestroyDescriptorSetLayout(d, l.set, nullptr);
  }
  if (cache_) vkDestroyPipelineCache(d, cache_, nullptr);
  if (glslang_ready_) glslang::FinalizeProcess();
}

std::filesystem::path PipelineStore::cache_path() const {
  return cache_dir() / ("pipelines-" + hex(dev_.props.vendorID, 4) + "-" + hex(dev_.props.deviceID, 4) + ".bin");
}

void PipelineStore::load_cache() {
  std::vector<char> data = read_file(cache_path());
  // Drivers are supposed to reject foreign data themselves; not all do, so check the header.
  if (data.size() >= 16 + VK_UUID_SIZE) {
    uint32_t header[4];
    std::memcpy(header, data.data(), sizeof header);
    bool ok = header[0] >= 16 + VK_UUID_SIZE && header[1] == VK_PIPELINE_CACHE_HEADER_VERSION_ONE &&
              header[2] == dev_.props.vendorID && header[3] == dev_.props.deviceID &&
              std::memcmp(data.data() + 16, dev_.props.pipelineCacheUUID, VK_UUID_SIZE) == 0;
    if (!ok) data.clear();
  } else {
    data.clear();
  }
  VkPipelineCacheCreateInfo ci{VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO};
  ci.initialDataSize = data.size();
  ci.pInitialData = data.empty() ? nullptr : data.data();
  if (vkCreatePipelineCache(dev_.device, &ci, nullptr, &cache_) != VK_SUCCESS) {
    ci.initialDataSize = 0;
    ci.pInitialData = nullptr;
    check(vkCreatePipelineCache(dev_.device, &ci, nullptr, &cache_), "vkCreatePipelineCache");
  }
}

void PipelineStore::save_cache() {
  std::lock_guard lock(mu_);
  if (!cache_) return;
  size_t size = 0;
  if (vkGetPipelineCacheData(dev_.device, cache_, &size, nullptr) != VK_SUCCESS || size == 0) return;
  std::vector<char> data(size);
  if (vkGetPipelineCacheData(dev_.device, cache_, &size, data.data()) != VK_SUCCESS) return;
  write_file_atomically(cache_path(), data.data(), size);
}

Kernel& PipelineStore::build(const std::string& cache_key, const std::string& name, std::span<const uint32_t> spirv,
                             uint32_t num_buffers, std::span<const uint32_t> spec) {
  std::unique_lock gate(pipeline_gate());
  VkDevice d = dev_.device;
  auto& layout = layouts_[num_buffers];
  if (!layout.set) {
    // The parameter blob takes one binding more than the kernel's buffers.
    layout.push = dev_.caps.push_descriptor && num_buffers + 1 <= dev_.caps.max_push_descriptors;
    std::vector<VkDescriptorSetLayoutBinding> bindings(num_buffers + 1);
    for (uint32_t i = 0; i <= num_buffers; ++i)
      bindings[i] = {i, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, nullptr};
    VkDescriptorSetLayoutCreateInfo si{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
    if (layout.push) si.flags = VK_DESCRIPTOR_SET_LAYOUT_CREATE_PUSH_DESCRIPTOR_BIT_KHR;
    si.bindingCount = num_buffers + 1;
    si.pBindings = bindings.data();
    check(vkCreateDescriptorSetLayout(d, &si, nullptr, &layout.set), "vkCreateDescriptorSetLayout");
    VkPushConstantRange push{VK_SHADER_STAGE_COMPUTE_BIT, 0, 128};
    VkPipelineLayoutCreateInfo pi{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
    pi.setLayoutCount = 1;
    pi.pSetLayouts = &layout.set;
    pi.pushConstantRangeCount = 1;
    pi.pPushConstantRanges = &push;
    VkResult r = vkCreatePipelineLayout(d, &pi, nullptr, &layout.pipeline);
    if (r != VK_SUCCESS) {
      vkDestroyDescriptorSetLayout(d, layout.set, nullptr);
      layouts_.erase(num_buffers);
      throw_vk(r, "vkCreatePipelineLayout");
    }
  }

  auto k = std::make_unique<Kernel>();
  k->name = name;
  k->num_buffers = num_buffers;
  k->set_layout = layout.set;
  k->layout = layout.pipeline;
  k->push_descriptors = layout.push;
  VkShaderModuleCreateInfo mi{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
  mi.codeSize = spirv.size() * 4;
  mi.pCode = spirv.data();
  check(vkCreateShaderModule(d, &mi, nullptr, &k->module), ("vkCreateShaderModule for '" + name + "'").c_str());

  std::vector<VkSpecializationMapEntry> entries(spec.size());
  for (uint32_t i = 0; i < spec.size(); ++i) entries[i] = {i, i * 4, 4};
  VkSpecializationInfo si{static_cast<uint32_t>(entries.size()), entries.data(), spec.size() * 4, spec.data()};
  VkComputePipelineCreateInfo ci{VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
  ci.stage = {VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO};
  ci.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
  ci.stage.module = k->module;
  ci.stage.pName = "main";
  ci.stage.pSpecializationInfo = spec.empty() ? nullptr : &si;
  ci.layout = k->layout;
  VkResult r = vkCreateComputePipelines(d, cache_, 1, &ci, nullptr, &k->pipeline);
  if (r != VK_SUCCESS) {
    vkDestroyShaderModule(d, k->module, nullptr);
    throw_vk(r, "vkCreateComputePipelines for '" + name + "'");
  }
  Kernel& out = *k;
  kernels_.emplace(cache_key, std::move(k));
  return out;
}

Kernel& PipelineStore::kernel(const std::string& name, uint32_t num_buffers, std::span<const uint32_t> spec) {
  std::string key = "e:" + name + "#" + std::to_string(num_buffers);
  for (uint32_t v : spec) key.append(":").append(std::to_string(v));  // not ":" + ..., GCC 12 -Wrestrict false positive
  std::lock_guard lock(mu_);
  if (auto it = kernels_.find(key); it != kernels_.end()) return *it->second;
  auto spirv = embedded_spirv(name);
  if (spirv.empty()) throw std::runtime_error("[vulkan] no embedded shader named '" + name + "'");
  return build(key, name, spirv, num_buffers, spec);
}

std::vector<uint32_t> PipelineStore::compile(const std::string& name, const std::string& source) {
  if (!glslang_ready_) glslang_ready_ = glslang::InitializeProcess();
  glslang::TShader shader(EShLangCompute);
  const char* text = source.c_str();
  const int length = static_cast<int>(source.size());
  // The label names the source in glslang's messages and in the `#line` directives it writes
  // around #includes, where a token longer than 1024 characters is an error: a long kernel name
  // (a fused program's signature) is shortened to its start and a hash. The full name is in the
  // exception either way.
  std::string short_name = name;
  if (short_name.size() > 160) {
    short_name = name.substr(0, 120) + "...#" + std::to_string(std::hash<std::string>{}(name));
  }
  const char* label = short_name.c_str();
  shader.setStringsWithLengthsAndNames(&text, &length, &label, 1);
  // Generated kernels may #include the embedded snippets without declaring the extension.
  shader.setPreamble("#extension GL_GOOGLE_include_directive : enable\n");
  shader.setEnvInput(glslang::EShSourceGlsl, EShLangCompute, glslang::EShClientVulkan, 100);
  shader.setEnvClient(glslang::EShClientVulkan, glslang::EShTargetVulkan_1_2);
  shader.setEnvTarget(glslang::EShTargetSpv, glslang::EShTargetSpv_1_5);
  const auto messages = static_cast<EShMessages>(EShMsgSpvRules | EShMsgVulkanRules);
  EmbeddedIncluder includer;
  auto fail = [&](const char* stage, const char* log) -> std::runtime_error {
    return std::runtime_error("[vulkan] GLSL " + std::string(stage) + " of kernel '" + name + "' failed:\n" + log +
                              "\nsource:\n" + numbered(source));
  };
  if (!shader.parse(GetDefaultResources(), 450, false, messages, includer)) throw fail("compile", shader.getInfoLog());
  glslang::TProgram program;
  program.addShader(&shader);
  if (!program.link(messages)) throw fail("link", program.getInfoLog());
  std::vector<uint32_t> spirv;
  glslang::SpvOptions options;
  spv::SpvBuildLogger logger;
  glslang::GlslangToSpv(*program.getIntermediate(EShLangCompute), spirv, &logger, &options);
  if (!valid_spirv(spirv)) throw fail("SPIR-V generation", logger.getAllMessages().c_str());
  compiles_.fetch_add(1);
  return spirv;
}

Kernel* PipelineStore::find_glsl(const std::string& key, uint32_t num_buffers) {
  std::lock_guard lock(mu_);
  auto it = kernels_.find("g:" + key);
  if (it == kernels_.end()) return nullptr;
  if (it->second->num_buffers != num_buffers)
    throw std::invalid_argument("[vulkan] kernel '" + key + "' was created with a different buffer count");
  return it->second.get();
}

Kernel& PipelineStore::from_glsl(const std::string& key, const std::string& source, uint32_t num_buffers) {
  const std::string cache_key = "g:" + key;
  std::lock_guard lock(mu_);
  if (auto it = kernels_.find(cache_key); it != kernels_.end()) {
    if (it->second->num_buffers != num_buffers)
      throw std::invalid_argument("[vulkan] kernel '" + key + "' was created with a different buffer count");
    return *it->second;
  }
  // The disk cache is keyed by content, not by the caller's key: the same generated source
  // from another run (or another key) skips glslang entirely.
  uint64_t h = fnv1a(source, registry().glsl_digest);
  h = fnv1a(std::to_string(GLSLANG_VERSION_MAJOR) + "." + std::to_string(GLSLANG_VERSION_MINOR) + "." +
                std::to_string(GLSLANG_VERSION_PATCH) + "/vulkan1.2",
            h);
  const auto path = cache_dir() / "spirv" / (hex(h, 16) + ".spv");
  // File layout: SPIR-V words, then the FNV-1a of those bytes, so a truncated or corrupted
  // file (a crash mid-write on a filesystem without atomic rename) is recompiled, not loaded.
  std::vector<uint32_t> spirv;
  if (std::vector<char> bytes = read_file(path); bytes.size() > 8 && bytes.size() % 4 == 0) {
    uint64_t stored;
    std::memcpy(&stored, bytes.data() + bytes.size() - 8, 8);
    if (fnv1a(std::string_view(bytes.data(), bytes.size() - 8)) == stored) {
      spirv.resize((bytes.size() - 8) / 4);
      std::memcpy(spirv.data(), bytes.data(), bytes.size() - 8);
    }
  }
  if (!valid_spirv(spirv)) {
    spirv = compile(key, source);
    std::string file(reinterpret_cast<const char*>(spirv.data()), spirv.size() * 4);
    const uint64_t sum = fnv1a(file);
    file.append(reinterpret_cast<const char*>(&sum), 8);
    write_file_atomically(path, file.data(), file.size());
  }
  return build(cache_key, key, spirv, num_buffers, {});
}

// --- Device's kernel API ------------------------------------------------------------------

Kernel& Device::kernel(const std::string& name, uint32_t num_buffers, std::span<const uint32_t> spec_constants) {
  return impl_->pipelines->kernel(name, num_buffers, spec_constants);
}

Kernel& Device::kernel_from_glsl(const std::string& key, const std::string& glsl_source, uint32_t num_buffers) {
  return impl_->pipelines->from_glsl(key, glsl_source, num_buffers);
}

namespace {
// The same few kernels come back node after node (a chain of adds): a per-thread memo of the
// last lookups skips the store's lock and hash. Kernels live as long as their store; the
// generation tells a store that replaced a released device's apart from it.
struct KernelMemo {
  uint64_t generation = 0;
  uint32_t num_buffers = 0;
  std::string key;
  Kernel* kernel = nullptr;
};
thread_local std::array<KernelMemo, 4> t_memo;
thread_local unsigned t_memo_next = 0;

void remember(PipelineStore& store, const std::string& key, uint32_t num_buffers, Kernel* k) {
  KernelMemo& m = t_memo[t_memo_next++ % t_memo.size()];
  m.generation = store.generation();
  m.num_buffers = num_buffers;
  m.key.assign(key);
  m.kernel = k;
}
}  // namespace

Kernel* Device::find_kernel_from_glsl(const std::string& key, uint32_t num_buffers) {
  PipelineStore& store = *impl_->pipelines;
  for (const KernelMemo& m : t_memo)
    if (m.kernel && m.generation == store.generation() && m.num_buffers == num_buffers && m.key == key)
      return m.kernel;
  Kernel* k = store.find_glsl(key, num_buffers);
  if (k) remember(store, key, num_buffers, k);
  return k;
}

Kernel& Device::kernel_from_glsl(const std::string& key, const std::function<std::string()>& make_source,
                                 uint32_t num_buffers) {
  if (Kernel* k = find_kernel_from_glsl(key, num_buffers)) return *k;
  PipelineStore& store = *impl_->pipelines;
  Kernel& k = store.from_glsl(key, make_source(), num_buffers);
  remember(store, key, num_buffers, &k);
  return k;
}

uint64_t Device::runtime_compiles() const { return impl_->pipelines->compiles(); }

void Device::save_pipeline_cache() { impl_->pipelines->save_cache(); }

}  // namespace tessera::vulkan
