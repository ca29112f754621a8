# Packaging (docs/packaging.md): the version header, the shared library's soname and exported
# symbols, `cmake --install` (headers, libtessera, the CMake package, tessera.pc) and CPack's
# libtessera-dev .deb. Included from the top-level CMakeLists.txt after src/.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# tessera/version.hpp: TESSERA_VERSION_MAJOR/MINOR/PATCH and tessera::version(), compiled into
# the library so a program can tell which library it runs with.
configure_file(${CMAKE_CURRENT_LIST_DIR}/version.hpp.in
               ${PROJECT_BINARY_DIR}/include/tessera/version.hpp @ONLY)
configure_file(${CMAKE_CURRENT_LIST_DIR}/version.cpp.in
               ${PROJECT_BINARY_DIR}/src/tessera_version.cpp @ONLY)
target_sources(tessera PRIVATE ${PROJECT_BINARY_DIR}/src/tessera_version.cpp)

# What src/ found (its directory scope holds the IO options' results).
get_directory_property(TESSERA_HAS_ZIP DIRECTORY ${PROJECT_SOURCE_DIR}/src DEFINITION TESSERA_HAS_ZIP)
get_directory_property(TESSERA_HAS_JSON DIRECTORY ${PROJECT_SOURCE_DIR}/src DEFINITION TESSERA_HAS_JSON)

get_target_property(_tessera_type tessera TYPE)
set(TESSERA_PKG_SHARED OFF)
if(_tessera_type STREQUAL "SHARED_LIBRARY")
  set(TESSERA_PKG_SHARED ON)
  # Semantic versioning: while the major version is 0, each minor version may break the ABI,
  # so the soname carries MAJOR.MINOR (libtessera.so.0.1); from 1.0 on, MAJOR alone.
  if(PROJECT_VERSION_MAJOR EQUAL 0)
    set(_tessera_soversion ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
  else()
    set(_tessera_soversion ${PROJECT_VERSION_MAJOR})
  endif()
  set_target_properties(tessera PROPERTIES VERSION ${PROJECT_VERSION} SOVERSION ${_tessera_soversion})
  # Only namespace tessera is exported (cmake/tessera.map): the statically linked glslang and
  # SPIRV-Tools, and Eigen's and the standard library's instantiations, stay inside.
  # --no-undefined makes a missing symbol fail the library's link, not the application's.
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang" AND NOT APPLE AND NOT WIN32)
    target_link_options(tessera PRIVATE "LINKER:--version-script=${CMAKE_CURRENT_LIST_DIR}/tessera.map")
    set_property(TARGET tessera APPEND PROPERTY LINK_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/tessera.map)
    if(NOT TESSERA_SANITIZE)
      target_link_options(tessera PRIVATE "LINKER:--no-undefined")
    endif()
  endif()
endif()

if(NOT TESSERA_INSTALL)
  return()
endif()

set(TESSERA_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/Tessera)

# The library, its headers (the generated config.hpp and version.hpp too) and the MLX shim.
set_target_properties(tessera_mlx PROPERTIES EXPORT_NAME mlx)
target_include_directories(tessera_mlx INTERFACE
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/tessera/compat>)
install(TARGETS tessera tessera_mlx EXPORT TesseraTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/tessera
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  PATTERN "*.in" EXCLUDE)
install(FILES ${PROJECT_BINARY_DIR}/include/tessera/config.hpp
              ${PROJECT_BINARY_DIR}/include/tessera/version.hpp
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tessera)

# The CMake package: find_package(Tessera 0.1 CONFIG) -> tessera::tessera, tessera::mlx.
install(EXPORT TesseraTargets NAMESPACE tessera:: DESTINATION ${TESSERA_CMAKE_DIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/TesseraConfig.cmake.in
  ${PROJECT_BINARY_DIR}/TesseraConfig.cmake
  INSTALL_DESTINATION ${TESSERA_CMAKE_DIR})
# Semantic versions: 0.y releases are compatible only within the same minor version (0.1.x
# with 0.1.y), 1.0 and later within the same major version.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(_tessera_compat SameMinorVersion)
else()
  set(_tessera_compat SameMajorVersion)
endif()
write_basic_package_version_file(${PROJECT_BINARY_DIR}/TesseraConfigVersion.cmake
  COMPATIBILITY ${_tessera_compat})
install(FILES ${PROJECT_BINARY_DIR}/TesseraConfig.cmake
              ${PROJECT_BINARY_DIR}/TesseraConfigVersion.cmake
  DESTINATION ${TESSERA_CMAKE_DIR})

# tessera.pc. A shared library carries its dependencies; a static one lists them for
# `pkg-config --static` in Libs.private, as the files CMake linked (OpenBLAS, LAPACKE and libzip
# as found by pkg-config, glslang's and SPIRV-Tools' archives, oneDNN). Not as Requires.private:
# `--static` would then add those modules' own private libraries (libzip's -lssl -lbz2,
# OpenBLAS's -lgfortran), which only their static archives need and Debian's -dev packages do
# not all bring.
function(_tessera_link_items out)
  set(items "")
  foreach(item IN LISTS ARGN)
    string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" item "${item}")
    if(item STREQUAL "Threads::Threads" OR item STREQUAL "")
      continue()  # tessera.pc says -pthread
    elseif(TARGET ${item})
      get_target_property(type ${item} TYPE)
      if(NOT type STREQUAL "INTERFACE_LIBRARY")
        list(APPEND items "$<TARGET_FILE:${item}>")
      endif()
      get_target_property(deps ${item} INTERFACE_LINK_LIBRARIES)
      if(deps)
        _tessera_link_items(sub ${deps})
        list(APPEND items ${sub})
      endif()
    elseif(item MATCHES "^-" OR IS_ABSOLUTE "${item}")
      list(APPEND items "${item}")
    elseif(NOT item MATCHES "^\\$<")
      list(APPEND items "-l${item}")
    endif()
  endforeach()
  set(${out} ${items} PARENT_SCOPE)
endfunction()

set(TESSERA_PC_REQUIRES "eigen3")
set(TESSERA_PC_LIBS_PRIVATE "")
if(TESSERA_HAS_VULKAN)
  string(APPEND TESSERA_PC_REQUIRES " vulkan")
endif()
if(NOT TESSERA_PKG_SHARED)
  set(_tessera_private PkgConfig::OPENBLAS PkgConfig::LAPACKE)
  if(TESSERA_HAS_ZIP)
    list(APPEND _tessera_private PkgConfig::LIBZIP)
  endif()
  if(TESSERA_HAS_VULKAN)
    list(APPEND _tessera_private glslang::SPIRV glslang::glslang glslang::glslang-default-resource-limits)
  endif()
  if(TESSERA_HAS_ONEDNN)
    list(APPEND _tessera_private DNNL::dnnl)
  endif()
  _tessera_link_items(_tessera_libs ${_tessera_private})
  # Each archive after every archive that uses it: keep the last occurrence.
  list(REVERSE _tessera_libs)
  list(REMOVE_DUPLICATES _tessera_libs)
  list(REVERSE _tessera_libs)
  string(JOIN " " TESSERA_PC_LIBS_PRIVATE ${_tessera_libs})
endif()
file(RELATIVE_PATH TESSERA_PC_PREFIX_FROM_PCDIR
  /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
string(REGEX REPLACE "/$" "" TESSERA_PC_PREFIX_FROM_PCDIR "${TESSERA_PC_PREFIX_FROM_PCDIR}")
configure_file(${CMAKE_CURRENT_LIST_DIR}/tessera.pc.in ${PROJECT_BINARY_DIR}/tessera.pc.in @ONLY)
file(GENERATE OUTPUT ${PROJECT_BINARY_DIR}/tessera.pc INPUT ${PROJECT_BINARY_DIR}/tessera.pc.in)
install(FILES ${PROJECT_BINARY_DIR}/tessera.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

install(FILES ${PROJECT_SOURCE_DIR}/LICENSE ${PROJECT_SOURCE_DIR}/README.md
              ${PROJECT_SOURCE_DIR}/CHANGELOG.md
  DESTINATION ${CMAKE_INSTALL_DOCDIR})

# CPack: `cpack -G DEB` in the build folder writes libtessera-dev_<version>_<arch>.deb, whose
# Depends are the Debian 12 packages of what was found at configure time. A static build needs
# every dependency's -dev package (the application links them); a shared one needs the -dev
# packages of what the headers include, and dpkg-shlibdeps adds the runtime libraries.
if(NOT TESSERA_TOP_LEVEL)
  return()
endif()
set(TESSERA_PACKAGE_CONTACT "The Tessera authors" CACHE STRING "Maintainer field of the .deb")
set(_tessera_deb_depends "libeigen3-dev (>= 3.3)")
if(TESSERA_HAS_VULKAN)
  list(APPEND _tessera_deb_depends libvulkan-dev)
endif()
if(NOT TESSERA_PKG_SHARED)
  list(APPEND _tessera_deb_depends pkg-config libopenblas-dev liblapacke-dev)
  if(TESSERA_HAS_VULKAN)
    list(APPEND _tessera_deb_depends glslang-dev spirv-tools)
  endif()
  if(TESSERA_HAS_ZIP)
    list(APPEND _tessera_deb_depends libzip-dev)
  endif()
  if(TESSERA_HAS_JSON)
    list(APPEND _tessera_deb_depends nlohmann-json3-dev)
  endif()
  if(TESSERA_HAS_ONEDNN)
    # dnnl's CMake package looks for OpenCL (libdnnl-dev only recommends it).
    list(APPEND _tessera_deb_depends "libdnnl-dev (<< 3)" ocl-icd-opencl-dev)
  endif()
endif()
string(JOIN ", " CPACK_DEBIAN_PACKAGE_DEPENDS ${_tessera_deb_depends})
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME libtessera-dev)
set(CPACK_PACKAGE_VENDOR "The Tessera authors")
set(CPACK_PACKAGE_CONTACT "${TESSERA_PACKAGE_CONTACT}")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "C++20 array framework with MLX's programming model (CPU and Vulkan)")
set(CPACK_PACKAGE_DESCRIPTION "Tessera: lazy arrays, composable function transforms (grad, vjp, jvp, vmap) and NumPy-like ops on an Eigen/OpenBLAS CPU path and on Vulkan compute shaders. Headers, the library, its CMake package (find_package(Tessera)) and tessera.pc.")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ${TESSERA_PKG_SHARED})
set(CPACK_SOURCE_GENERATOR "")
include(CPack)
