# The Vulkan backend: the runtime (device, memory, command, pipeline) and the eval_gpu of every
# primitive family. Included from src/CMakeLists.txt when Vulkan is found.
include(TesseraShaders)
target_sources(tessera PRIVATE
  backend/vulkan/device.cpp
  backend/vulkan/memory.cpp
  backend/vulkan/command.cpp
  backend/vulkan/pipeline.cpp
  backend/vulkan/backend.cpp
  backend/vulkan/creation.cpp
  backend/vulkan/elementwise.cpp
  backend/vulkan/indexing.cpp
  backend/vulkan/glsl_types.cpp
  backend/vulkan/shape.cpp
  backend/vulkan/reduce.cpp
  backend/vulkan/scan.cpp
  backend/vulkan/sort.cpp
  backend/vulkan/random.cpp
  backend/vulkan/matmul.cpp
  backend/vulkan/conv.cpp
  backend/vulkan/misc.cpp)
# runtime.hpp includes <vulkan/vulkan.h>, so Vulkan is PUBLIC; glslang is an implementation detail.
target_link_libraries(tessera
  PUBLIC Vulkan::Vulkan
  PRIVATE glslang::glslang glslang::SPIRV glslang::glslang-default-resource-limits)
# shaders/*.comp -> SPIR-V (glslangValidator + spirv-val), embedded with the *.glsl headers' text.
tessera_embed_shaders(TARGET tessera DIR ${PROJECT_SOURCE_DIR}/shaders)
if(TESSERA_SANITIZE AND NOT TESSERA_SANITIZE STREQUAL "thread")
  # Debian's glslang is built without RTTI: UBSan's vptr check would reference typeinfo for
  # glslang::TShader, which does not exist, and the link would fail.
  set_source_files_properties(backend/vulkan/pipeline.cpp PROPERTIES COMPILE_OPTIONS -fno-sanitize=vptr)
endif()
