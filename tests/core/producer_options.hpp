// Options small enough for a test's producer, and helpers shared by the
// core tests.
#pragma once

#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "ringtail/options.hpp"

namespace ringtail::test {

inline Options small_options() {
  Options options;
  options.service = "core-test";
  options.ring_bytes = 64 << 10;
  options.max_threads = 8;
  options.max_callsites = 256;
  options.max_string_bytes = 256;
  return options;
}

// The calling thread's kernel tid, as the producer records it.
inline uint32_t gettid_now() { return static_cast<uint32_t>(::syscall(SYS_gettid)); }

}  // namespace ringtail::test
