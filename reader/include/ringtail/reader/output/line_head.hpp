// The line head: the fixed beginning of every JSONL line the reader writes
// (docs/FORMAT.md), its one writer's pieces and its one reader.
//
//   {"timestamp":"2026-11-22T21:00:00.123456789Z","level":"INFO","message":…
//   0             14                            44         55
//
// EventJsonFormatter writes it from kHeadStart, the quoted stored timestamp
// (TimestampFormatter) and head_level_key(). The store (which file a line goes
// to) and the query filter (deciding a line on its raw bytes) read it back at
// these fixed offsets instead of parsing the line.
//
// A reader trusts only a head exactly as written: `{"timestamp":"`, a stored
// timestamp of 30 bytes (is_canonical_timestamp) and its closing quote; for
// the level, then `,"level":"`, a name without a backslash and its quote. Any
// other line has no head (nullopt) and the caller parses it or falls back to
// a default. The level word is returned as it is, not checked against the
// level names (a corrupt call-site table may hold OFF).
//
// Threading: pure functions; the table is constant.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

#include "ringtail/shm/layout.hpp"
#include "ringtail/shm/level.hpp"

namespace ringtail::reader {

// What every line starts with, before the quoted timestamp.
inline constexpr std::string_view kHeadStart = R"({"timestamp":)";

namespace detail {

inline constexpr std::string_view kLevelKeyStart = R"(,"level":")";
inline constexpr std::string_view kLevelKeyEnd = R"(","message":)";

constexpr size_t longest_level_name() {
  size_t longest = 0;
  for (const std::string_view name : shm::kLevelNames) longest = std::max(longest, name.size());
  return longest;
}

struct LevelKey {
  std::array<char, kLevelKeyStart.size() + longest_level_name() + kLevelKeyEnd.size()> text{};
  size_t size = 0;
};

// `,"level":"<NAME>","message":` for each stored name, built at compile time.
constexpr std::array<LevelKey, shm::kLevelNames.size()> make_level_keys() {
  std::array<LevelKey, shm::kLevelNames.size()> keys{};
  for (size_t i = 0; i < keys.size(); ++i) {
    size_t n = 0;
    for (const std::string_view piece : {kLevelKeyStart, shm::kLevelNames[i], kLevelKeyEnd}) {
      for (const char c : piece) keys[i].text[n++] = c;
    }
    keys[i].size = n;
  }
  return keys;
}

inline constexpr std::array<LevelKey, shm::kLevelNames.size()> kLevelKeys = make_level_keys();

}  // namespace detail

// The index in shm::kLevelNames of the word a line shows for `level`: a
// value that is not a level shows OFF (a call site may declare kOff; no
// honest producer logs at it).
constexpr size_t head_level_index(shm::Level level) {
  return std::min(static_cast<size_t>(level), shm::kLevelNames.size() - 1);
}
// That word ("WARN").
constexpr std::string_view head_level_name(shm::Level level) { return shm::kLevelNames[head_level_index(level)]; }

// What follows the quoted timestamp: `,"level":"WARN","message":`. A table
// lookup: the formatter calls it per event.
constexpr std::string_view head_level_key(shm::Level level) {
  const size_t index = head_level_index(level);
  return {detail::kLevelKeys[index].text.data(), detail::kLevelKeys[index].size};
}

// The 30 timestamp bytes of a line with a head; nullopt for any other line.
std::optional<std::string_view> head_timestamp(std::string_view line);

// The level word of a line with a head ("INFO"); nullopt for any other line,
// and for a level written with an escape (the raw text is then not the
// decoded word: parse the line).
std::optional<std::string_view> head_level(std::string_view line);

}  // namespace ringtail::reader
