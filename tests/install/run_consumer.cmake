# cmake -P script behind the install.consumer test; see CMakeLists.txt here.
cmake_minimum_required(VERSION 3.25)

foreach(var RINGTAIL_BUILD_DIR PREFIX CONSUMER_SOURCE_DIR CONSUMER_BINARY_DIR GENERATOR CXX_COMPILER)
  if("${${var}}" STREQUAL "")
    message(FATAL_ERROR "run_consumer.cmake: -D${var}=... is required")
  endif()
endforeach()
if("${RINGTAIL_CONFIG}" STREQUAL "")
  set(RINGTAIL_CONFIG Release)
endif()

function(run step)
  message(STATUS "install.consumer: ${step}: ${ARGN}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "install.consumer: ${step} failed (${rc})")
  endif()
endfunction()

# The consumer must log at info, whatever the calling environment says.
foreach(var RINGTAIL_SERVICE RINGTAIL_LEVEL RINGTAIL_RING_BYTES RINGTAIL_MAX_THREADS
            RINGTAIL_MAX_CALLSITES RINGTAIL_MAX_STRING_BYTES RINGTAIL_SHM_MODE RINGTAIL_CLOCK RINGTAIL_PYTHON_INIT)
  unset(ENV{${var}})
endforeach()

file(REMOVE_RECURSE "${PREFIX}" "${CONSUMER_BINARY_DIR}")

run(install "${CMAKE_COMMAND}" --install "${RINGTAIL_BUILD_DIR}" --config "${RINGTAIL_CONFIG}" --prefix "${PREFIX}")

# No installed header may include what the libraries link privately
# (OpenSSL, zstd, RE2, cpp-httplib, SQLite, the moodycamel queue): a consumer is not given their
# include directories. Building the consumers below would not notice where
# such a library sits in a system include directory, so look.
file(GLOB_RECURSE installed_headers "${PREFIX}/include/ringtail/*")
foreach(header IN LISTS installed_headers)
  file(STRINGS "${header}" leaks REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"](openssl/|zstd|re2/|concurrentqueue/|httplib|sqlite3)")
  if(leaks)
    message(FATAL_ERROR "install.consumer: ${header} includes a private dependency: ${leaks}")
  endif()
endforeach()

set(configure_args
  -S "${CONSUMER_SOURCE_DIR}" -B "${CONSUMER_BINARY_DIR}"
  -G "${GENERATOR}"
  "-DCMAKE_BUILD_TYPE=${RINGTAIL_CONFIG}"
  "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
  "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
  "-DCMAKE_EXE_LINKER_FLAGS=${EXE_LINKER_FLAGS}"
  "-DCMAKE_PREFIX_PATH=${PREFIX}"
  # Only the scratch prefix may provide ringtail, never a system-wide install.
  "-DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF")
if(NOT "${MAKE_PROGRAM}" STREQUAL "")
  list(APPEND configure_args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
run(configure "${CMAKE_COMMAND}" ${configure_args})
run(build "${CMAKE_COMMAND}" --build "${CONSUMER_BINARY_DIR}" --config "${RINGTAIL_CONFIG}")

foreach(exe consumer_static consumer_shared consumer_store)
  find_program(exe_path ${exe} PATHS "${CONSUMER_BINARY_DIR}" "${CONSUMER_BINARY_DIR}/${RINGTAIL_CONFIG}"
               NO_DEFAULT_PATH NO_CACHE REQUIRED)
  run("run ${exe}" "${exe_path}")
  unset(exe_path)
endforeach()

# The Python package, when the build has it: installed where Debian's
# python3 looks under /usr and /usr/local, and importable from there.
if(NOT "${PYTHON}" STREQUAL "" AND NOT "${PYTHON_INSTALL_DIR}" STREQUAL "")
  set(package "${PREFIX}/${PYTHON_INSTALL_DIR}/ringtail")
  file(GLOB module "${package}/_ringtail*.so")
  if(NOT EXISTS "${package}/__init__.py" OR module STREQUAL "")
    message(FATAL_ERROR "install.consumer: the Python package is not installed in ${package}")
  endif()
  run("import the installed Python package" "${PYTHON}" -c "
import os, sys
relative = sys.argv[2]
assert any(os.path.join(p, relative) in sys.path for p in ('/usr', '/usr/local')), relative + ' is not on the path'
sys.path.insert(0, os.path.join(sys.argv[1], relative))
import ringtail
assert ringtail.__file__.startswith(sys.argv[1]), ringtail.__file__
assert ringtail.info('before init', n=1) is False
assert ringtail.loss_counters()['before_init'] == 1
" "${PREFIX}" "${PYTHON_INSTALL_DIR}")
endif()

message(STATUS "install.consumer: passed")
