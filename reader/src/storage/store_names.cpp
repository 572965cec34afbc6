#include "ringtail/reader/storage/store_names.hpp"

#include <charconv>
#include <cstring>
#include <initializer_list>

#include "ringtail/reader/output/line_head.hpp"
#include "ringtail/reader/output/time_text.hpp"
#include "ringtail/shm/level.hpp"

namespace ringtail::reader {
namespace {

constexpr std::string_view kClassNames[kLevelClassCount] = {"debug", "info", "warn", "error"};
constexpr size_t kStampBytes = 26;  // 20261130T154500.123456789Z

constexpr std::string_view kOpenSuffix = "-open.jsonl";
constexpr std::string_view kPlainSuffix = ".jsonl";
constexpr std::string_view kCompressedSuffix = ".jsonl.zst";
constexpr std::string_view kIndexSuffix = ".index.json";

bool digits(std::string_view text) {
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool is_stamp(std::string_view s) {
  return s.size() == kStampBytes && digits(s.substr(0, 8)) && s[8] == 'T' && digits(s.substr(9, 6)) && s[15] == '.' &&
         digits(s.substr(16, 9)) && s[25] == 'Z';
}

// Concatenation of std::string_views (absl::StrCat takes absl's own
// string_view in Debian's Abseil, not std::string_view).
std::string cat(std::initializer_list<std::string_view> parts) {
  size_t size = 0;
  for (std::string_view part : parts) size += part.size();
  std::string out;
  out.reserve(size);
  for (std::string_view part : parts) out.append(part);
  return out;
}

// Splits off the last '-'-separated part of `rest`.
bool take_last_part(std::string_view& rest, std::string_view& part) {
  const size_t dash = rest.rfind('-');
  if (dash == std::string_view::npos) return false;
  part = rest.substr(dash + 1);
  rest = rest.substr(0, dash);
  return true;
}

}  // namespace

std::string_view level_class_name(LevelClass level_class) {
  return kClassNames[static_cast<size_t>(level_class) % kLevelClassCount];
}

std::optional<LevelClass> level_class_from_name(std::string_view name) {
  for (int i = 0; i < kLevelClassCount; ++i) {
    if (kClassNames[i] == name) return static_cast<LevelClass>(i);
  }
  return std::nullopt;
}

LevelClass level_class_of(std::string_view level) {
  return level_class_of(shm::stored_event_level(level).value_or(shm::Level::kInfo));
}

LevelClass level_class_of(shm::Level level) {
  switch (level) {
    case shm::Level::kTrace:
    case shm::Level::kDebug:
      return LevelClass::kDebug;
    case shm::Level::kWarn:
      return LevelClass::kWarn;
    case shm::Level::kError:
    case shm::Level::kCritical:
      return LevelClass::kError;
    default:
      return LevelClass::kInfo;
  }
}

std::string_view line_timestamp(std::string_view line) { return head_timestamp(line).value_or(std::string_view()); }

LevelClass level_class_of_line(std::string_view line) {
  return level_class_of(head_level(line).value_or(std::string_view()));
}

std::string name_stamp_from_timestamp(std::string_view t) {
  if (!is_canonical_timestamp(t)) return {};
  // 2026-11-30T15:45:00.123456789Z -> 20261130T154500.123456789Z
  return cat({t.substr(0, 4), t.substr(5, 2), t.substr(8, 2), "T", t.substr(11, 2), t.substr(14, 2), t.substr(17, 2),
              t.substr(19, 11)});
}

std::string name_stamp_from_ns(int64_t ns) { return name_stamp_from_timestamp(format_timestamp(ns)); }

std::string timestamp_from_name_stamp(std::string_view s) {
  if (!is_stamp(s)) return {};
  return cat({s.substr(0, 4), "-", s.substr(4, 2), "-", s.substr(6, 2), "T", s.substr(9, 2), ":", s.substr(11, 2), ":",
              s.substr(13, 2), s.substr(15, 11)});
}

std::string safe_service_name(std::string_view service) {
  std::string name;
  name.reserve(service.size());
  for (const char c : service) {
    const bool plain =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    char out = plain ? c : '_';
    if (out == '.' && (name.empty() || name.back() == '.')) out = '_';
    name.push_back(out);
  }
  if (name.empty()) name = "unknown";
  return name;
}

std::string StoredFileName::base_name() const {
  const std::string pid_text = std::to_string(pid);
  return cat({service, "-", pid_text, "-", level_class_name(level_class), "-", first, "-",
              kind == Kind::kOpen ? std::string_view("open") : std::string_view{last}});
}

std::string StoredFileName::file_name() const {
  switch (kind) {
    case Kind::kOpen:
    case Kind::kClosed:
      return cat({base_name(), kPlainSuffix});
    case Kind::kCompressed:
      return cat({base_name(), kCompressedSuffix});
    case Kind::kIndex:
      return cat({base_name(), kIndexSuffix});
  }
  return {};
}

std::optional<StoredFileName> parse_stored_file_name(std::string_view name) {
  StoredFileName parsed;
  std::string_view rest;
  if (name.ends_with(kOpenSuffix)) {
    parsed.kind = StoredFileName::Kind::kOpen;
    rest = name.substr(0, name.size() - kOpenSuffix.size());
  } else if (name.ends_with(kCompressedSuffix)) {
    parsed.kind = StoredFileName::Kind::kCompressed;
    rest = name.substr(0, name.size() - kCompressedSuffix.size());
  } else if (name.ends_with(kIndexSuffix)) {
    parsed.kind = StoredFileName::Kind::kIndex;
    rest = name.substr(0, name.size() - kIndexSuffix.size());
  } else if (name.ends_with(kPlainSuffix)) {
    parsed.kind = StoredFileName::Kind::kClosed;
    rest = name.substr(0, name.size() - kPlainSuffix.size());
  } else {
    return std::nullopt;
  }
  std::string_view last, first, level_class, pid;
  if (parsed.kind != StoredFileName::Kind::kOpen) {
    if (!take_last_part(rest, last) || !is_stamp(last)) return std::nullopt;
  }
  if (!take_last_part(rest, first) || !is_stamp(first)) return std::nullopt;
  if (!take_last_part(rest, level_class) || !take_last_part(rest, pid)) return std::nullopt;
  const std::optional<LevelClass> known = level_class_from_name(level_class);
  if (!known.has_value() || rest.empty() || pid.empty() || !digits(pid)) return std::nullopt;
  if (std::from_chars(pid.data(), pid.data() + pid.size(), parsed.pid).ec != std::errc()) return std::nullopt;
  parsed.level_class = *known;
  parsed.service = std::string(rest);
  parsed.first = std::string(first);
  parsed.last = std::string(last);
  return parsed;
}

}  // namespace ringtail::reader
