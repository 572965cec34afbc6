// Filter: a line against all of one command's conditions, on its raw bytes
// (may_match) or parsed (matches); and the --level floor (filter.hpp).
#include "ringtail/reader/query/filter.hpp"

#include <cstring>

#include "absl/status/status.h"
#include "internal/message_text.hpp"
#include "ringtail/reader/output/line_head.hpp"
#include "ringtail/reader/output/time_text.hpp"
#include "ringtail/reader/query/parsed_line.hpp"
#include "ringtail/shm/level.hpp"

namespace ringtail::reader {
namespace {

namespace dom = simdjson::dom;

// A line's level string passes `floor`: a stored event level at or above it.
bool level_at_or_above(std::string_view text, shm::Level floor) {
  const std::optional<shm::Level> level = shm::stored_event_level(text);
  return level.has_value() && *level >= floor;
}

}  // namespace

// ---------------------------------------------------------------------------
// Levels

absl::StatusOr<shm::Level> parse_min_level(std::string_view text) {
  const std::optional<shm::Level> level = shm::parse_level(internal::trim_space(text));
  if (level && *level != shm::Level::kOff) return *level;
  return absl::InvalidArgumentError(internal::cat("bad --level '", internal::printable(text),
                                                  "': expected one of TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL "
                                                  "(any case)"));
}

// ---------------------------------------------------------------------------
// Filter

void Filter::set_since(int64_t ns) {
  since_ns_ = ns;
  since_text_ = format_timestamp(ns);
}

void Filter::set_until(int64_t ns) {
  until_ns_ = ns;
  until_text_ = format_timestamp(ns);
}

bool Filter::timestamp_in_bounds(std::string_view timestamp) const {
  if (is_canonical_timestamp(timestamp)) {
    // Fixed width: text order is time order (filter.hpp).
    if (since_ns_ && timestamp < since_text_) return false;
    if (until_ns_ && timestamp >= until_text_) return false;
    return true;
  }
  const absl::StatusOr<int64_t> ns = parse_rfc3339(timestamp);
  return ns.ok() && time_in_bounds(*ns);
}

bool Filter::time_in_bounds(int64_t ns) const {
  if (since_ns_ && ns < *since_ns_) return false;
  if (until_ns_ && ns >= *until_ns_) return false;
  return true;
}

bool Filter::level_passes(std::string_view level) const { return !min_level_ || level_at_or_above(level, *min_level_); }

bool Filter::may_match(std::string_view raw_line) const {
  if (since_ns_ || until_ns_) {
    if (const std::optional<std::string_view> timestamp = head_timestamp(raw_line)) {
      if (since_ns_ && *timestamp < since_text_) return false;
      if (until_ns_ && *timestamp >= until_text_) return false;
    }
  }
  if (min_level_) {
    // Without a head (or with an escaped level) the parse decides.
    const std::optional<std::string_view> level = head_level(raw_line);
    if (level && !level_passes(*level)) return false;
  }
  for (const WhereClause& clause : clauses_) {
    const std::optional<std::string>& needle = clause.needle();
    if (!needle || needle->empty()) continue;
    // memmem() takes no null pointer, which an empty view may hold.
    if (raw_line.size() < needle->size() ||
        ::memmem(raw_line.data(), raw_line.size(), needle->data(), needle->size()) == nullptr) {
      return false;
    }
  }
  return true;
}

bool Filter::matches(const ParsedLine& parsed) const {
  const dom::element line = parsed.element();
  dom::object object;
  if (line.get_object().get(object) != simdjson::SUCCESS) return false;
  if (since_ns_ || until_ns_) {
    std::string_view timestamp;
    if (object.at_key("timestamp").get_string().get(timestamp) != simdjson::SUCCESS) return false;
    if (!timestamp_in_bounds(timestamp)) return false;
  }
  if (min_level_) {
    std::string_view level;
    if (object.at_key("level").get_string().get(level) != simdjson::SUCCESS) return false;
    if (!level_passes(level)) return false;
  }
  for (const WhereClause& clause : clauses_) {
    if (!clause.matches(parsed)) return false;
  }
  return true;
}

}  // namespace ringtail::reader
