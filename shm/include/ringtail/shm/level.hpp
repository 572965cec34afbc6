// Level names: the one table both sides spell levels by.
//
// A level's stored name is upper case ("TRACE" ... "CRITICAL", "OFF"): the
// reader writes it into every JSONL line and reads it back exactly as written.
// What a person types is parsed by one rule everywhere (RINGTAIL_LEVEL, the
// CLI's --level and `level`, sampling rules): the lower- or upper-case name,
// "warning" for warn, and "off". Where "off" means nothing (a sampling rule's
// selector) the caller rejects Level::kOff by name.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "ringtail/shm/layout.hpp"

namespace ringtail::shm {

// Stored names, indexed by the level's value.
inline constexpr std::array<std::string_view, 7> kLevelNames = {"TRACE", "DEBUG",    "INFO", "WARN",
                                                                "ERROR", "CRITICAL", "OFF"};

// The words parse_level() accepts, for error messages.
inline constexpr std::string_view kLevelWords = "trace, debug, info, warn, error, critical, off";

// True if `value` (read from shared memory or a file) is a level.
constexpr bool is_level(uint32_t value) { return value < kLevelNames.size(); }

// The stored name of `level`; empty for a value that is not a level.
constexpr std::string_view level_name(Level level) {
  const auto index = static_cast<size_t>(level);
  return index < kLevelNames.size() ? kLevelNames[index] : std::string_view();
}

// A level a person wrote: a name in any case, "warning" for warn, "off".
std::optional<Level> parse_level(std::string_view text);

// The level of a stored name, spelled exactly as the reader writes it, for
// the levels an event can have: "TRACE" ... "CRITICAL". "OFF" and anything
// else give nullopt (no event is written at off).
std::optional<Level> stored_event_level(std::string_view text);

}  // namespace ringtail::shm
