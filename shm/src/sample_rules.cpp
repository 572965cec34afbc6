// Sampling rules: the parser, the matcher and the header text's seqlock.
// The grammar and the contract are in sample_rules.hpp.
#include "ringtail/shm/sample_rules.hpp"

#include "ringtail/shm/level.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <cmath>
#include <initializer_list>
#include <optional>
#include <thread>

namespace ringtail::shm {
namespace {

// Small string helpers on std::string_view (Debian's Abseil has its own
// absl::string_view, which does not mix with std::string_view).
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

std::string cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (const std::string_view part : parts) out.append(part);
  return out;
}

bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// A plain decimal in [0, 1]: digits with at most one '.', nothing else. No
// sign, exponent, "inf" or "nan" (std::from_chars alone would take them).
std::optional<double> parse_rate(std::string_view text) {
  bool digit = false;
  int dots = 0;
  for (const char c : text) {
    if (c == '.') {
      ++dots;
    } else if (is_digit(c)) {
      digit = true;
    } else {
      return std::nullopt;
    }
  }
  if (!digit || dots > 1) return std::nullopt;
  double rate = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), rate);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (rate < 0 || rate > 1) return std::nullopt;
  return rate;
}

// A line number: 1 to 2^32 - 1, decimal digits only.
std::optional<uint32_t> parse_line(std::string_view text) {
  if (text.empty() || text.size() > 10) return std::nullopt;
  uint64_t value = 0;
  for (const char c : text) {
    if (!is_digit(c)) return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  if (value == 0 || value > UINT32_MAX) return std::nullopt;
  return static_cast<uint32_t>(value);
}

// Strips a case-insensitive prefix ("msg:", "site:").
bool consume_prefix(std::string_view& text, std::string_view prefix) {
  if (text.size() < prefix.size() || !equals_ignore_case(text.substr(0, prefix.size()), prefix)) return false;
  text.remove_prefix(prefix.size());
  return true;
}

absl::Status bad_item(size_t index, std::string_view item, std::string_view why) {
  // The item is echoed back to whoever wrote it; a long one is cut.
  constexpr size_t kShown = 80;
  const std::string shown = item.size() > kShown ? cat({item.substr(0, kShown), "..."}) : std::string(item);
  return absl::InvalidArgumentError(cat({"sampling rule ", std::to_string(index + 1), " \"", shown, "\": ", why}));
}

// Parses one trimmed, non-empty item.
absl::StatusOr<SampleRule> parse_item(size_t index, std::string_view item) {
  const size_t equals = item.rfind('=');
  if (equals == std::string_view::npos) return bad_item(index, item, "expected selector=rate");
  std::string_view selector = trim(item.substr(0, equals));
  const std::string_view rate_text = trim(item.substr(equals + 1));

  SampleRule rule;
  const std::optional<double> rate = parse_rate(rate_text);
  if (!rate.has_value()) {
    return bad_item(index, item, cat({"rate \"", rate_text, "\" is not a decimal between 0 and 1"}));
  }
  rule.rate = *rate;
  rule.keep = keep_word(*rate);

  if (consume_prefix(selector, "msg:")) {
    if (selector.empty()) return bad_item(index, item, "msg: needs a message");
    rule.kind = SampleRule::Kind::kMessage;
    rule.message = std::string(selector);
  } else if (consume_prefix(selector, "site:")) {
    const size_t colon = selector.rfind(':');
    if (colon == std::string_view::npos || colon == 0) {
      return bad_item(index, item, "expected site:<file>:<line>");
    }
    const std::optional<uint32_t> line = parse_line(selector.substr(colon + 1));
    if (!line.has_value()) {
      return bad_item(index, item, cat({"\"", selector.substr(colon + 1), "\" is not a line number"}));
    }
    rule.kind = SampleRule::Kind::kSite;
    rule.file = std::string(selector.substr(0, colon));
    rule.line = *line;
  } else if (const std::optional<Level> level = parse_level(selector); level.has_value()) {
    if (*level == Level::kOff) return bad_item(index, item, cat({"\"", selector, "\" is not a level an event has"}));
    rule.kind = SampleRule::Kind::kLevel;
    rule.level = *level;
  } else {
    return bad_item(index, item,
                    cat({"\"", selector,
                         "\" is not a level (trace, debug, info, warn, error, critical), msg:<message> or "
                         "site:<file>:<line>"}));
  }
  return rule;
}

bool matches(const SampleRule& rule, Level level, std::string_view message, std::string_view file, uint32_t line) {
  switch (rule.kind) {
    case SampleRule::Kind::kLevel:
      return rule.level == level;
    case SampleRule::Kind::kMessage:
      return rule.message == message;
    case SampleRule::Kind::kSite:
      return rule.line == line && path_suffix_matches(file, rule.file);
  }
  return false;
}

absl::Status too_long(size_t bytes) {
  return absl::InvalidArgumentError(cat({"sampling rules are ", std::to_string(bytes), " bytes, more than the ",
                                         std::to_string(kSampleRulesBytes), " a segment holds"}));
}

// Shared memory is accessed a byte at a time through atomic_ref so that the
// seqlock's racing reads and writes are defined behaviour (and TSan-clean).
// C++20 has no atomic_ref<const T>: the loads cast the const away, which is
// sound because a relaxed load does not write (it works on a read-only map).
char load_byte(const char& byte) {
  return std::atomic_ref<char>(const_cast<char&>(byte)).load(std::memory_order_relaxed);
}
void store_byte(char& byte, char value) { std::atomic_ref<char>(byte).store(value, std::memory_order_relaxed); }

// Attempts before a reader of the text starts yielding, and how long a
// writer waits for another writer before taking over from it.
constexpr int kSpinAttempts = 8;
constexpr int kWriterWaitYields = 10000;

}  // namespace

uint32_t keep_word(double rate) {
  if (rate >= 1.0) return 0;
  if (!(rate > 0.0)) return 1;  // also NaN
  // rate < 1, so the product is below 2^32 - 1 and the sum fits.
  return 1U + static_cast<uint32_t>(std::floor(rate * 4294967295.0));
}

double keep_fraction(uint32_t keep) { return keep == 0 ? 1.0 : static_cast<double>(keep - 1) / 4294967296.0; }

absl::StatusOr<SampleRules> parse_sample_rules(std::string_view text) {
  if (text.size() > kSampleRulesBytes) {
    return too_long(text.size());
  }
  SampleRules rules;
  if (trim(text).empty()) return rules;
  for (size_t index = 0, start = 0; start <= text.size(); ++index) {
    const size_t comma = std::min(text.find(',', start), text.size());
    const std::string_view item = trim(text.substr(start, comma - start));
    start = comma + 1;
    if (item.empty()) return bad_item(index, item, "empty rule (a stray comma?)");
    absl::StatusOr<SampleRule> rule = parse_item(index, item);
    if (!rule.ok()) return rule.status();
    rules.rules.push_back(std::move(*rule));
  }
  return rules;
}

uint32_t keep_for(const SampleRules& rules, Level level, std::string_view message, std::string_view file,
                  uint32_t line) {
  int best = -1;  // rank (Kind) of the rule chosen so far
  uint32_t keep = 0;
  for (const SampleRule& rule : rules.rules) {
    const int rank = static_cast<int>(rule.kind);
    // >=: a later rule of the same kind overrides an earlier one.
    if (rank >= best && matches(rule, level, message, file, line)) {
      best = rank;
      keep = rule.keep;
    }
  }
  return keep;
}

bool path_suffix_matches(std::string_view file, std::string_view suffix) {
  if (suffix.empty() || !file.ends_with(suffix)) return false;
  if (file.size() == suffix.size() || suffix.front() == '/') return true;
  return file[file.size() - suffix.size() - 1] == '/';
}

absl::Status store_sample_rules_text(SegmentHeader& header, std::string_view text) {
  if (text.size() > kSampleRulesBytes) {
    return too_long(text.size());
  }
  // Claim the text: make the version odd with a compare-and-swap from even,
  // so two well-behaved writers never interleave. A version that stays odd
  // belongs to a writer that died mid-write: move it on (still odd, but
  // changed, so a reader that copied during its write retries).
  std::atomic<uint32_t>& version = header.sample_rules_version;
  uint32_t seen = version.load(std::memory_order_relaxed);
  uint32_t claim = 0;
  for (int waited = 0;;) {
    if ((seen & 1U) == 0) {
      claim = seen + 1;
    } else if (waited < kWriterWaitYields) {
      ++waited;
      std::this_thread::yield();
      seen = version.load(std::memory_order_relaxed);
      continue;
    } else {
      claim = seen + 2;
    }
    if (version.compare_exchange_weak(seen, claim, std::memory_order_relaxed)) break;
  }
  // release: the odd version is visible before any byte of the text changes.
  std::atomic_thread_fence(std::memory_order_release);
  for (size_t i = 0; i < kSampleRulesBytes; ++i) store_byte(header.sample_rules[i], i < text.size() ? text[i] : '\0');
  header.sample_rules_bytes.store(static_cast<uint32_t>(text.size()), std::memory_order_relaxed);
  // release: publishes the text and its length with the even version. A
  // writer that took over (this one looked dead) has moved the version on
  // and finishes instead.
  uint32_t expected = claim;
  version.compare_exchange_strong(expected, claim + 1, std::memory_order_release, std::memory_order_relaxed);
  return absl::OkStatus();
}

absl::StatusOr<std::string> load_sample_rules_text(const SegmentHeader& header, int max_attempts) {
  std::string text;
  for (int attempt = 0; attempt < std::max(max_attempts, 1); ++attempt) {
    if (attempt >= kSpinAttempts) std::this_thread::yield();
    // acquire: the text and length stored before this (even) version.
    const uint32_t before = header.sample_rules_version.load(std::memory_order_acquire);
    if ((before & 1U) != 0) continue;  // a writer is at work
    const uint32_t bytes_untrusted = header.sample_rules_bytes.load(std::memory_order_relaxed);
    const uint32_t bytes = std::min(bytes_untrusted, kSampleRulesBytes);
    text.resize(bytes);
    for (uint32_t i = 0; i < bytes; ++i) text[i] = load_byte(header.sample_rules[i]);
    // acquire: the copy above is done before the version is read again.
    std::atomic_thread_fence(std::memory_order_acquire);
    if (header.sample_rules_version.load(std::memory_order_relaxed) != before) continue;
    if (bytes_untrusted > kSampleRulesBytes) {
      return absl::DataLossError(
          cat({"the sampling rules claim ", std::to_string(bytes_untrusted), " bytes, more than the ",
               std::to_string(kSampleRulesBytes), " the header holds"}));
    }
    return text;
  }
  return absl::UnavailableError("the sampling rules kept changing while they were read");
}

}  // namespace ringtail::shm
