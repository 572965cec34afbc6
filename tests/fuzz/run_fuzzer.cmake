# Builds and runs the fuzzers; see CMakeLists.txt in this folder.
#   cmake -DMODE=build|run [-DFUZZER=segment|where|redaction_rules|sample_rules|jsonl|checkpoint]
#         -DSOURCE_DIR=<ringtail source> -DWORK_DIR=<scratch folder>
#         [-DLOADGEN=<ringtail-loadgen>] [-DGENERATOR=Ninja -DMAKE_PROGRAM=ninja] -P run_fuzzer.cmake
# MODE=build configures and builds every fuzzer; MODE=run brings the build up
# to date (a no-op after MODE=build), writes the seeds of FUZZER and fuzzes
# it: the segment fuzzer from real segments written by ringtail-loadgen, the
# others from tests/fuzz/seeds/<FUZZER>/.
# Prints "[fuzz] SKIPPED: <why>" and succeeds when clang++ or libFuzzer is
# missing (the test's SKIP_REGULAR_EXPRESSION turns that into a skip), except
# under CI (CI set in the environment), where a missing fuzzer is a failure.
cmake_minimum_required(VERSION 3.25)

string(TIMESTAMP _start "%s" UTC)
if(NOT FUZZER)
  set(FUZZER segment)
endif()
if(FUZZER STREQUAL "segment")
  set(_fuzz_seconds 20)
else()
  set(_fuzz_seconds 10)
endif()
if(DEFINED ENV{RINGTAIL_FUZZ_SECONDS})
  set(_fuzz_seconds $ENV{RINGTAIL_FUZZ_SECONDS})
endif()
set(_budget_seconds 30)  # build + seeds + fuzzing, when the build is up to date

function(skip why)
  if(DEFINED ENV{CI} AND NOT "$ENV{CI}" STREQUAL "" AND NOT "$ENV{CI}" STREQUAL "false")
    message(FATAL_ERROR "[fuzz] cannot run under CI: ${why}")
  endif()
  message("[fuzz] SKIPPED: ${why}")
endfunction()

# --- clang++ with libFuzzer -------------------------------------------------------
find_program(CLANGXX NAMES clang++ clang++-16 clang++-15 clang++-14)
if(NOT CLANGXX)
  skip("no clang++ (Debian: apt-get install clang libclang-rt-14-dev)")
  return()
endif()
set(_probe_dir ${WORK_DIR}/probe)
file(MAKE_DIRECTORY ${_probe_dir})
file(WRITE ${_probe_dir}/probe.cpp
  "#include <cstddef>\n#include <cstdint>\n"
  "extern \"C\" int LLVMFuzzerTestOneInput(const uint8_t*, size_t) { return 0; }\n")
execute_process(
  COMMAND ${CLANGXX} -fsanitize=fuzzer,address,undefined ${_probe_dir}/probe.cpp -o ${_probe_dir}/probe
  RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _out)
if(NOT _rc EQUAL 0)
  skip("${CLANGXX} cannot link -fsanitize=fuzzer (Debian: apt-get install libclang-rt-14-dev)")
  return()
endif()

# --- Build ----------------------------------------------------------------------------
set(_build ${WORK_DIR}/build)
set(_configure_args -S ${SOURCE_DIR}/tests/fuzz/project -B ${_build} -DCMAKE_CXX_COMPILER=${CLANGXX}
  -DRINGTAIL_SOURCE_DIR=${SOURCE_DIR})
if(GENERATOR)
  list(APPEND _configure_args -G ${GENERATOR})
  if(MAKE_PROGRAM)
    list(APPEND _configure_args -DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM})
  endif()
endif()
if(NOT EXISTS ${_build}/CMakeCache.txt)
  execute_process(COMMAND ${CMAKE_COMMAND} ${_configure_args} RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "[fuzz] configuring tests/fuzz/project failed")
  endif()
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${_build} --parallel 2 RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "[fuzz] building the fuzzers failed")
endif()
if(MODE STREQUAL "build")
  return()
endif()

set(_work ${WORK_DIR}/${FUZZER})
set(_seeds ${_work}/seeds)
file(REMOVE_RECURSE ${_seeds})
file(MAKE_DIRECTORY ${_seeds})
if(NOT FUZZER STREQUAL "segment")
  file(GLOB _seed_files ${SOURCE_DIR}/tests/fuzz/seeds/${FUZZER}/*)
  list(LENGTH _seed_files _seed_index)
  if(_seed_files)
    file(COPY ${_seed_files} DESTINATION ${_seeds})
  endif()
endif()

# --- Seeds: real segments ---------------------------------------------------------------
# Each loadgen run leaves its finished segment in /dev/shm; it is copied into
# seeds/ and removed. Small geometry (4 KiB rings, 2 slots, 16 call sites:
# 32 KiB segments) so that mutations reach the records. A run that starts
# with "flight " writes a flight-recorder segment (ABI v3: ring_mode,
# ring_chunk_count, chunk start records) with the smallest flight ring, 8 KiB
# in 2 chunks, lapped so that its oldest chunks were overwritten.
set(_seed_runs
  "--threads 2 --events 20 --string-bytes 10"   # a few events per ring
  "--threads 1 --events 400 --string-bytes 24"  # wrapped ring, drops (nobody drains it)
  "--threads 2 --events 30 --string-bytes 40"   # strings cut to RINGTAIL_MAX_STRING_BYTES
  "flight --threads 1 --events 500 --string-bytes 24"             # overwritten chunks
  "flight --threads 2 --events 300 --string-bytes 10 --context")  # frames re-sent at chunk starts
if(FUZZER STREQUAL "segment")
set(_seed_index 0)
if(LOADGEN AND EXISTS ${LOADGEN})
  foreach(_run IN LISTS _seed_runs)
    set(_args_text "${_run}")
    set(_mode_env RINGTAIL_MODE=normal RINGTAIL_RING_BYTES=4096)
    if(_args_text MATCHES "^flight ")
      string(REGEX REPLACE "^flight " "" _args_text "${_args_text}")
      set(_mode_env RINGTAIL_MODE=flight RINGTAIL_RING_BYTES=8192)
    endif()
    separate_arguments(_args UNIX_COMMAND "${_args_text}")
    execute_process(
      COMMAND ${CMAKE_COMMAND} -E env ${_mode_env} RINGTAIL_MAX_THREADS=2 RINGTAIL_MAX_CALLSITES=16
        RINGTAIL_MAX_STRING_BYTES=24 RINGTAIL_SERVICE=fuzz-seed ${LOADGEN} ${_args}
      RESULT_VARIABLE _rc OUTPUT_VARIABLE _json ERROR_VARIABLE _err)
    if(NOT _rc EQUAL 0)
      message(WARNING "[fuzz] ringtail-loadgen ${_args_text} failed (${_rc}): ${_err}")
      continue()
    endif()
    string(JSON _segment ERROR_VARIABLE _json_error GET "${_json}" segment)
    if(_json_error OR NOT _segment MATCHES "^ringtail\\.[0-9]+\\.[0-9]+$")
      message(WARNING "[fuzz] no segment name in ringtail-loadgen's output: ${_json}")
      continue()
    endif()
    if(EXISTS /dev/shm/${_segment})
      math(EXPR _seed_index "${_seed_index} + 1")
      file(COPY_FILE /dev/shm/${_segment} ${_seeds}/loadgen-${_seed_index})
      file(REMOVE /dev/shm/${_segment})
    endif()
  endforeach()
endif()
endif()
message("[fuzz] ${FUZZER}: ${_seed_index} seeds")

# --- Fuzz ---------------------------------------------------------------------------------
set(_corpus ${_work}/corpus)  # starts empty each time: runs stay comparable
file(REMOVE_RECURSE ${_corpus})
file(MAKE_DIRECTORY ${_corpus} ${_work}/artifacts)
string(TIMESTAMP _now "%s" UTC)
math(EXPR _left "${_budget_seconds} - (${_now} - ${_start})")
if(_left LESS _fuzz_seconds AND NOT DEFINED ENV{RINGTAIL_FUZZ_SECONDS})
  set(_fuzz_seconds ${_left})
endif()
if(_fuzz_seconds LESS 5)
  set(_fuzz_seconds 5)
endif()
message("[fuzz] ${FUZZER}: fuzzing for ${_fuzz_seconds} s")
execute_process(
  COMMAND ${_build}/${FUZZER}_fuzzer ${_corpus} ${_seeds}
    -max_total_time=${_fuzz_seconds} -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
    -artifact_prefix=${_work}/artifacts/
  RESULT_VARIABLE _rc)
# A fuzzer that crashed left its shm object behind: remove those of
# processes that are gone (never one a concurrent fuzzer still uses).
file(GLOB _leftovers /dev/shm/ringtail-fuzz.*)
foreach(_leftover IN LISTS _leftovers)
  string(REGEX REPLACE "^.*ringtail-fuzz\\." "" _pid "${_leftover}")
  if(_pid MATCHES "^[0-9]+$" AND NOT EXISTS /proc/${_pid})
    file(REMOVE ${_leftover})
  endif()
endforeach()
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "[fuzz] the ${FUZZER} fuzzer failed (${_rc}); the input is in ${_work}/artifacts/")
endif()
