// Compiled (not run) by ctest with each compiler: every kind of call site the
// public API offers, so that a header change that breaks one compiler, or
// warns under -Wall -Wextra, fails the suite.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "ringtail/ringtail.hpp"

namespace {

enum class Decision : uint8_t { kAllow, kBlock };

[[maybe_unused]] int every_call_site(int step, double ms, const std::string& owned, std::string_view view,
                                     const char* pointer) {
  int committed = 0;
  committed += RINGTAIL_TRACE("no fields");
  committed += RINGTAIL_DEBUG("ints", ringtail::kv("i8", int8_t{-1}), ringtail::kv("u64", uint64_t{1}));
  committed += RINGTAIL_INFO("tool call", ringtail::kv("step_id", step), ringtail::kv("duration_ms", ms),
                             ringtail::kv("tool", "write_file"));
  committed += RINGTAIL_WARN("strings", ringtail::kv("owned", owned), ringtail::kv("view", view),
                             ringtail::kv("pointer", pointer), ringtail::kv("temporary", std::string("x")));
  committed +=
      RINGTAIL_ERROR("others", ringtail::kv("ok", true), ringtail::kv("f", 1.5F),
                     ringtail::kv("decision", Decision::kBlock), ringtail::kv("elapsed", std::chrono::milliseconds(5)));
  committed += RINGTAIL_CRITICAL("critical");
  committed += RINGTAIL_LOG(ringtail::Level::kInfo, "explicit level");
  const ringtail::EmitResult r = RINGTAIL_TRY_LOG(ringtail::Level::kInfo, "try", ringtail::kv("step_id", step));
  return committed + static_cast<int>(r);
}

}  // namespace
