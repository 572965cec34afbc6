#include "ringtail/reader/alerts/alert_rule.hpp"

#include <charconv>
#include <chrono>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "internal/message_text.hpp"
#include "ringtail/reader/storage/retention.hpp"  // parse_age

namespace ringtail::reader {
namespace {

using internal::cat;
using internal::printable;
using internal::trim_space;

absl::Status bad_rule(std::string_view rule, std::string_view why) {
  return absl::InvalidArgumentError(cat("--alert '", printable(rule), "': ", why));
}

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxAlertNameBytes || !absl::ascii_isalpha(static_cast<unsigned char>(name[0]))) {
    return false;
  }
  for (const char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  }
  return true;
}

// A whole unsigned decimal number (no sign, no spaces); nullopt otherwise.
std::optional<uint64_t> whole_number(std::string_view text) {
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// The rule's body split at unescaped commas into expressions (escapes
// undone), and what follows its first unescaped '@' (the threshold).
struct Split {
  std::vector<std::string> expressions;
  std::string condition;  // the body before the '@', as typed
  std::optional<std::string_view> threshold;
};

Split split_body(std::string_view body) {
  Split out;
  std::string current;
  size_t i = 0;
  for (; i < body.size(); ++i) {
    const char c = body[i];
    if (c == '\\' && i + 1 < body.size()) {
      const char next = body[i + 1];
      if (next != ',' && next != '@') current.push_back(c);  // kept with what it precedes
      current.push_back(next);
      ++i;
    } else if (c == ',') {
      out.expressions.push_back(std::move(current));
      current.clear();
    } else if (c == '@') {
      out.threshold = body.substr(i + 1);
      break;
    } else {
      current.push_back(c);
    }
  }
  out.expressions.push_back(std::move(current));
  out.condition = std::string(body.substr(0, i));
  return out;
}

// `level>=L` (spaces allowed around the operator): the level text, else nullopt.
std::optional<std::string_view> level_floor(std::string_view expression) {
  constexpr std::string_view kLevel = "level";
  if (!expression.starts_with(kLevel)) return std::nullopt;
  std::string_view rest = trim_space(expression.substr(kLevel.size()));
  if (!rest.starts_with(">=")) return std::nullopt;
  rest = trim_space(rest.substr(2));
  if (rest.size() >= 2 && rest.front() == '"' && rest.back() == '"') rest = rest.substr(1, rest.size() - 2);
  return rest;
}

absl::Status parse_threshold(std::string_view rule, std::string_view threshold, AlertRule& out) {
  const auto malformed = [&] {
    return bad_rule(rule, cat("'@", printable(threshold),
                              "' is not @COUNT/WINDOW such as @10/1m (an @ inside a value is written \\@)"));
  };
  const size_t slash = threshold.find('/');
  if (slash == std::string_view::npos || threshold.find('@') != std::string_view::npos) return malformed();
  const std::string_view count_text = trim_space(threshold.substr(0, slash));
  const std::string_view window_text = trim_space(threshold.substr(slash + 1));
  const std::optional<uint64_t> count = whole_number(count_text);
  if (!count) return malformed();
  if (*count < 1 || *count > kMaxAlertCount) {
    return bad_rule(rule, cat("COUNT ", printable(count_text), " is not 1 to ", std::to_string(kMaxAlertCount)));
  }
  if (window_text.empty()) return malformed();
  // The drain's one spelling of a span of time (retention.hpp: 30s, 5m, 1h, ...).
  const absl::StatusOr<std::chrono::seconds> window = parse_age(window_text);
  if (!window.ok() || window->count() < 1 || window->count() > kMaxAlertWindowSeconds) {
    return bad_rule(rule, cat("WINDOW '", printable(window_text), "' is not 1s to 24h (30s, 5m, 1h)"));
  }
  out.count = static_cast<uint32_t>(*count);
  out.window_ns = static_cast<int64_t>(window->count()) * 1'000'000'000;
  out.window_text = std::string(window_text);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<AlertRule> parse_alert_rule(std::string_view text) {
  if (text.size() > kMaxAlertRuleBytes) {
    return absl::InvalidArgumentError(cat("--alert '", printable(text.substr(0, 64)), "...': longer than ",
                                          std::to_string(kMaxAlertRuleBytes), " bytes"));
  }
  const size_t eq = text.find('=');
  if (eq == std::string_view::npos) {
    return bad_rule(text, "expected NAME=EXPR[,EXPR...][@COUNT/WINDOW], e.g. denied=message=policy.check,allow=false");
  }
  AlertRule rule;
  rule.text = std::string(text);
  const std::string_view name = trim_space(text.substr(0, eq));
  if (!valid_name(name)) {
    return bad_rule(text, cat("the name '", printable(name), "' is not a simple identifier (a letter, then letters, ",
                              "digits, '_' or '-'; at most ", std::to_string(kMaxAlertNameBytes), " bytes)"));
  }
  rule.name = std::string(name);
  Split split = split_body(text.substr(eq + 1));
  rule.condition = std::string(trim_space(split.condition));
  if (split.threshold) {
    if (absl::Status status = parse_threshold(text, *split.threshold, rule); !status.ok()) return status;
  }
  bool has_level = false;
  for (size_t i = 0; i < split.expressions.size(); ++i) {
    const std::string_view expression = trim_space(split.expressions[i]);
    if (expression.empty()) {
      return bad_rule(text, split.expressions.size() == 1 ? std::string("give at least one expression after NAME=")
                                                          : cat("expression ", std::to_string(i + 1),
                                                                " is empty (a comma inside a value is written \\,)"));
    }
    if (const std::optional<std::string_view> level = level_floor(expression)) {
      if (has_level) return bad_rule(text, "level>= is given twice");
      absl::StatusOr<shm::Level> floor = parse_min_level(*level);
      if (!floor.ok()) {
        return bad_rule(text, cat("level>=", printable(*level),
                                  ": expected one of TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL (any case)"));
      }
      rule.filter.set_min_level(*floor);
      has_level = true;
      continue;
    }
    absl::StatusOr<WhereClause> clause = parse_where(expression);
    if (!clause.ok()) {
      // "bad --where 'EXPR': why" said as a part of this rule.
      std::string_view why(clause.status().message().data(), clause.status().message().size());
      const std::string prefix = cat("bad --where '", printable(expression), "': ");
      if (why.starts_with(prefix)) why.remove_prefix(prefix.size());
      return bad_rule(text, cat("in '", printable(expression), "': ", why));
    }
    rule.filter.add(*std::move(clause));
  }
  return rule;
}

absl::StatusOr<std::vector<AlertRule>> parse_alert_rules(const std::vector<std::string>& texts) {
  if (texts.size() > kMaxAlertRules) {
    return absl::InvalidArgumentError(
        cat("--alert: at most ", std::to_string(kMaxAlertRules), " rules (", std::to_string(texts.size()), " given)"));
  }
  std::vector<AlertRule> rules;
  std::set<std::string, std::less<>> names;
  for (const std::string& text : texts) {
    absl::StatusOr<AlertRule> rule = parse_alert_rule(text);
    if (!rule.ok()) return rule.status();
    if (!names.insert(rule->name).second) {
      return bad_rule(text, cat("another rule is named '", rule->name, "' already"));
    }
    rules.push_back(*std::move(rule));
  }
  return rules;
}

}  // namespace ringtail::reader
