#include "ringtail/reader/output/redaction.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "absl/strings/str_cat.h"

namespace ringtail::reader {
namespace {

constexpr std::string_view kDefaultWords[] = {"password", "passwd", "secret",       "token",
                                              "api_key",  "apikey", "authorization"};

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool is_separator(char c) { return c == '_' || c == '-' || c == '.'; }

// Whether `key` (lower case) has `word` as a run of whole words; a word made
// of several ("api_key") matches with any separators between its parts.
bool has_word(std::string_view key, std::string_view word) {
  for (size_t start = 0; start + word.size() <= key.size(); ++start) {
    if (start != 0 && !is_separator(key[start - 1])) continue;
    size_t k = start;
    size_t w = 0;
    while (w < word.size() && k < key.size() &&
           (key[k] == word[w] || (is_separator(key[k]) && is_separator(word[w])))) {
      ++k;
      ++w;
    }
    if (w == word.size() && (k == key.size() || is_separator(key[k]))) return true;
  }
  return false;
}

// '*' matches any run of characters; everything else matches itself.
bool glob_match(std::string_view glob, std::string_view text) {
  size_t g = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (g < glob.size() && glob[g] == '*') {
      star = g++;
      mark = t;
    } else if (g < glob.size() && glob[g] == text[t]) {
      ++g;
      ++t;
    } else if (star != std::string_view::npos) {
      g = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (g < glob.size() && glob[g] == '*') ++g;
  return g == glob.size();
}

size_t sequence_length(unsigned char lead) {
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  if (lead >= 0xE0) return 3;
  if (lead >= 0xC2 && lead < 0xE0) return 2;
  return 1;
}

}  // namespace

absl::StatusOr<RedactionRule> parse_redaction_rule(std::string_view line) {
  std::vector<std::string> words;
  size_t at = 0;
  while (at < line.size()) {
    while (at < line.size() && std::isspace(static_cast<unsigned char>(line[at]))) ++at;
    const size_t start = at;
    while (at < line.size() && !std::isspace(static_cast<unsigned char>(line[at]))) ++at;
    if (at > start) words.emplace_back(line.substr(start, at - start));
  }
  const std::string shown(line);
  if (words.empty()) return absl::InvalidArgumentError("empty redaction rule");
  RedactionRule rule;
  const std::string& action = words[0];
  size_t want = 2;
  if (action == "redact") {
    rule.action = RedactionRule::Action::kRedact;
  } else if (action == "hash") {
    rule.action = RedactionRule::Action::kHash;
  } else if (action == "truncate") {
    rule.action = RedactionRule::Action::kTruncate;
    want = 3;
  } else if (action == "keep-ends") {
    rule.action = RedactionRule::Action::kKeepEnds;
    want = 3;
  } else {
    return absl::InvalidArgumentError(absl::StrCat("bad redaction rule '", shown, "': the action '", action,
                                                   "' is not one of redact, hash, truncate, keep-ends"));
  }
  if (words.size() != want) {
    return absl::InvalidArgumentError(absl::StrCat("bad redaction rule '", shown, "': '", action, "' takes ",
                                                   want == 2 ? "a key" : "a key and a number of characters"));
  }
  rule.key_glob = lower(words[1]);
  if (want == 3) {
    const std::string& n = words[2];
    const auto [end, error] = std::from_chars(n.data(), n.data() + n.size(), rule.n);
    if (error != std::errc() || end != n.data() + n.size() || rule.n == 0 || rule.n > (size_t{1} << 30)) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad redaction rule '", shown, "': '", n, "' is not a positive number of characters"));
    }
  }
  return rule;
}

absl::StatusOr<std::vector<RedactionRule>> parse_redaction_rules(std::string_view text) {
  std::vector<RedactionRule> rules;
  size_t number = 0;
  size_t at = 0;
  while (at <= text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(at, end - at);
    ++number;
    at = end + 1;
    if (const size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) {
      if (end == text.size()) break;
      continue;
    }
    absl::StatusOr<RedactionRule> rule = parse_redaction_rule(line);
    if (!rule.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "line ", number, ": ", std::string(rule.status().message().data(), rule.status().message().size())));
    }
    rules.push_back(*rule);
    if (end == text.size()) break;
  }
  return rules;
}

Redactor::Redactor(std::vector<RedactionRule> rules, bool default_rules, KeyedHash keyed_hash)
    : rules_(std::move(rules)), default_rules_(default_rules), keyed_hash_(std::move(keyed_hash)) {}

const RedactionRule* Redactor::rule_for(std::string_view key) const {
  const std::string lowered = lower(key);
  for (const RedactionRule& rule : rules_) {
    if (glob_match(rule.key_glob, lowered)) return &rule;
  }
  if (default_rules_) {
    for (std::string_view word : kDefaultWords) {
      if (has_word(lowered, word)) return &default_rule_;
    }
  }
  return nullptr;
}

std::string Redactor::hash_text(std::string_view json_text) const {
  static constexpr char kHex[] = "0123456789abcdef";
  const std::string digest = keyed_hash_ ? keyed_hash_(json_text) : std::string();
  std::string out = "hmac:";
  for (size_t i = 0; i < std::min<size_t>(digest.size(), 8); ++i) {
    const auto byte = static_cast<unsigned char>(digest[i]);
    out.push_back(kHex[byte >> 4]);
    out.push_back(kHex[byte & 0xF]);
  }
  return out;
}

bool is_keyed_hash(std::string_view text) {
  constexpr std::string_view kPrefix = "hmac:";
  if (text.size() != kPrefix.size() + 16 || text.substr(0, kPrefix.size()) != kPrefix) return false;
  for (const char c : text.substr(kPrefix.size())) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string_view utf8_prefix(std::string_view text, size_t chars) {
  size_t at = 0;
  for (size_t n = 0; n < chars && at < text.size(); ++n) {
    at += std::min(sequence_length(static_cast<unsigned char>(text[at])), text.size() - at);
  }
  return text.substr(0, at);
}

size_t utf8_length(std::string_view text) {
  size_t n = 0;
  for (size_t at = 0; at < text.size(); ++n) {
    at += std::min(sequence_length(static_cast<unsigned char>(text[at])), text.size() - at);
  }
  return n;
}

std::string_view utf8_suffix(std::string_view text, size_t chars) {
  const size_t total = utf8_length(text);
  if (chars >= total) return text;
  return text.substr(utf8_prefix(text, total - chars).size());
}

}  // namespace ringtail::reader
