# Install rules and the CMake package (find_package(ringtail)).
#
#   cmake --install build --prefix /opt/ringtail
#
# installs the libraries, the public headers under include/ringtail/, and
# lib/cmake/ringtail/ with the imported targets ringtail::shm, ringtail::core
# (static libringtail.a), ringtail::core_shared (libringtail.so),
# ringtail::reader and ringtail::store (the storage and query library).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(RINGTAIL_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/ringtail
    CACHE STRING "Where ringtailConfig.cmake is installed, relative to the prefix")
mark_as_advanced(RINGTAIL_INSTALL_CMAKEDIR)

set(_ringtail_install_targets ringtail_shm ringtail_core ringtail_core_shared)

# If a library links the header-only moodycamel queue through the internal
# INTERFACE target ringtail_concurrentqueue, that target has to be exported
# too: even a PRIVATE link of a static library shows up as $<LINK_ONLY:...>
# in the export. It installs nothing; it carries the (system) include
# directory found at configure time, and only to the libraries' own sources:
# no public header includes the queue.
set(_ringtail_exports_queue FALSE)
foreach(_target IN ITEMS ringtail_reader ringtail_store)
  if(TARGET ${_target})
    list(APPEND _ringtail_install_targets ${_target})
    get_target_property(_links ${_target} LINK_LIBRARIES)
    get_target_property(_interface_links ${_target} INTERFACE_LINK_LIBRARIES)
    if("${_links};${_interface_links}" MATCHES "ringtail(::|_)concurrentqueue")
      set(_ringtail_exports_queue TRUE)
    endif()
  endif()
endforeach()
if(_ringtail_exports_queue)
  set_target_properties(ringtail_concurrentqueue PROPERTIES EXPORT_NAME concurrentqueue)
  list(APPEND _ringtail_install_targets ringtail_concurrentqueue)
endif()
unset(_links)
unset(_interface_links)
unset(_ringtail_exports_queue)

# The public headers need C++20 (constinit, __VA_OPT__): say so to consumers,
# whatever their own default standard is.
foreach(_target IN ITEMS ringtail_shm ringtail_core ringtail_core_shared ringtail_reader ringtail_store)
  if(TARGET ${_target})
    target_compile_features(${_target} INTERFACE cxx_std_20)
  endif()
endforeach()

install(TARGETS ${_ringtail_install_targets}
  EXPORT ringtailTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# Public headers: <ringtail/...>. src/ directories hold the private ones.
set(_ringtail_header_dirs
  ${PROJECT_SOURCE_DIR}/shm/include/ringtail
  ${PROJECT_SOURCE_DIR}/core/include/ringtail)
if(TARGET ringtail_reader AND IS_DIRECTORY ${PROJECT_SOURCE_DIR}/reader/include/ringtail)
  list(APPEND _ringtail_header_dirs ${PROJECT_SOURCE_DIR}/reader/include/ringtail)
endif()
foreach(_dir IN LISTS _ringtail_header_dirs)
  install(DIRECTORY ${_dir}/
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ringtail
    FILES_MATCHING PATTERN "*.hpp" PATTERN "*.h")
endforeach()

install(EXPORT ringtailTargets
  NAMESPACE ringtail::
  FILE ringtailTargets.cmake
  DESTINATION ${RINGTAIL_INSTALL_CMAKEDIR})

configure_package_config_file(
  ${CMAKE_CURRENT_LIST_DIR}/ringtailConfig.cmake.in
  ${PROJECT_BINARY_DIR}/ringtailConfig.cmake
  INSTALL_DESTINATION ${RINGTAIL_INSTALL_CMAKEDIR})
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/ringtailConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMajorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/ringtailConfig.cmake
  ${PROJECT_BINARY_DIR}/ringtailConfigVersion.cmake
  DESTINATION ${RINGTAIL_INSTALL_CMAKEDIR})

unset(_ringtail_install_targets)
unset(_ringtail_header_dirs)
unset(_target)
unset(_dir)
