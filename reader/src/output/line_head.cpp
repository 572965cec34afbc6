#include "ringtail/reader/output/line_head.hpp"

#include "ringtail/reader/output/time_text.hpp"

namespace ringtail::reader {
namespace {

constexpr size_t kTimestampAt = kHeadStart.size() + 1;              // after the opening quote
constexpr size_t kTimestampBytes = 30;                              // is_canonical_timestamp
constexpr size_t kLevelKeyAt = kTimestampAt + kTimestampBytes + 1;  // after the closing quote
constexpr size_t kLevelAt = kLevelKeyAt + detail::kLevelKeyStart.size();

static_assert(kLevelKeyAt == 45 && kLevelAt == 55, "the offsets drawn in line_head.hpp");

}  // namespace

std::optional<std::string_view> head_timestamp(std::string_view line) {
  if (line.size() < kLevelKeyAt || !line.starts_with(kHeadStart) || line[kHeadStart.size()] != '"' ||
      line[kLevelKeyAt - 1] != '"') {
    return std::nullopt;
  }
  const std::string_view timestamp = line.substr(kTimestampAt, kTimestampBytes);
  if (!is_canonical_timestamp(timestamp)) return std::nullopt;
  return timestamp;
}

std::optional<std::string_view> head_level(std::string_view line) {
  if (!head_timestamp(line) || line.substr(kLevelKeyAt, detail::kLevelKeyStart.size()) != detail::kLevelKeyStart) {
    return std::nullopt;
  }
  const std::string_view rest = line.substr(std::min(kLevelAt, line.size()));
  const size_t quote = rest.find('"');
  if (quote == std::string_view::npos) return std::nullopt;
  const std::string_view word = rest.substr(0, quote);
  if (word.find('\\') != std::string_view::npos) return std::nullopt;
  return word;
}

}  // namespace ringtail::reader
