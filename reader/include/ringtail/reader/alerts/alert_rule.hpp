// AlertRule: one `ringtail drain --alert` rule, parsed from what the user
// typed. A rule names a condition on the drained lines and how many matching
// lines within how long make it fire:
//
//   NAME=EXPR[,EXPR...][@COUNT/WINDOW]
//
//   denied=message=policy.check,allow=false      every denied policy check
//   errors=level>=ERROR@10/1m                    10 ERROR-or-worse lines within a minute
//
// NAME   a simple identifier: a letter, then letters, digits, '_' or '-', at
//        most kMaxAlertNameBytes bytes (it is a JSON value, a syslog
//        parameter and a summary word: nothing in it needs escaping).
// EXPR   a `query --where` expression (query/filter.hpp), all of them ANDed;
//        `message=X` is one already (the head's message), and `level>=L` is
//        the level floor of `query --level` (L any case, "warning" for WARN;
//        given at most once), not a string comparison.
// COUNT  1 to kMaxAlertCount; WINDOW a span of time as --max-age spells it
//        (30s, 5m, 1h; parse_age), 1s to 24h. Default @1/1m: every matching line,
//        at most one notification a minute.
//
// Escapes: the rule is split at every ',' and at its first '@' before
// anything else reads it, so a comma or an '@' inside a value is written
// `\,` or `\@` (`reason=a\, b`, `user=bob\@example.com`). A backslash
// before any other character is kept with it, untouched: `\d` in a regex
// and `\"` in a JSON string reach the --where parser as typed.
//
// Bounds (the text is user input; the limits keep an alert's memory small
// whatever rules are given): a rule holds at most kMaxAlertRuleBytes bytes,
// a drain takes at most kMaxAlertRules rules, COUNT is at most
// kMaxAlertCount (the sink keeps the times of the last COUNT matches per
// rule). Every error is InvalidArgument, one line, quoting the rule
// (printable) and naming the part that is wrong.
//
// Threading: pure functions; an AlertRule is a plain value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ringtail/reader/query/filter.hpp"

namespace ringtail::reader {

inline constexpr size_t kMaxAlertNameBytes = 64;
inline constexpr size_t kMaxAlertRuleBytes = 4096;
inline constexpr size_t kMaxAlertRules = 64;
inline constexpr uint32_t kMaxAlertCount = 1000;
inline constexpr int64_t kMaxAlertWindowSeconds = int64_t{24} * 3600;

struct AlertRule {
  std::string name;
  std::string text;                    // the whole rule as given
  std::string condition;               // the expressions as given, escapes and all (between "NAME=" and "@")
  Filter filter;                       // every expression (--where clauses, a level floor)
  uint32_t count = 1;                  // matching lines ...
  int64_t window_ns = 60'000'000'000;  // ... within this long, by the lines' own timestamps
  std::string window_text = "1m";      // WINDOW as given ("1m" by default)
};

// One rule (syntax above).
absl::StatusOr<AlertRule> parse_alert_rule(std::string_view text);

// Every --alert of a drain: each parsed, names distinct, at most kMaxAlertRules.
absl::StatusOr<std::vector<AlertRule>> parse_alert_rules(const std::vector<std::string>& texts);

}  // namespace ringtail::reader
