// The text of an errno value, for messages on both sides, from any thread.
// std::strerror is not thread-safe (glibc writes an unknown number into a
// static buffer); strerrordesc_np is, and is what strerror prints.
#pragma once

#include <string.h>

#include <string>

namespace ringtail::shm {

// "No space left on device"; "Unknown error 4242" for a number glibc does not know.
inline std::string errno_text(int error) {
  const char* text = ::strerrordesc_np(error);
  return text != nullptr ? std::string(text) : "Unknown error " + std::to_string(error);
}

}  // namespace ringtail::shm
