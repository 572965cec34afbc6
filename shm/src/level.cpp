#include "ringtail/shm/level.hpp"

namespace ringtail::shm {
namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace

std::optional<Level> parse_level(std::string_view text) {
  for (size_t i = 0; i < kLevelNames.size(); ++i) {
    if (equals_ignore_case(text, kLevelNames[i])) return static_cast<Level>(i);
  }
  if (equals_ignore_case(text, "warning")) return Level::kWarn;
  return std::nullopt;
}

std::optional<Level> stored_event_level(std::string_view text) {
  for (size_t i = 0; i < kLevelNames.size(); ++i) {
    if (text == kLevelNames[i]) {
      const auto level = static_cast<Level>(i);
      if (level == Level::kOff) return std::nullopt;
      return level;
    }
  }
  return std::nullopt;
}

}  // namespace ringtail::shm
