#include "ringtail/reader/output/redaction.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "absl/strings/str_cat.h"

namespace ringtail::reader {
namespace {

// The default rule's word list (see the header, and docs/FORMAT.md,
// "Redaction"): lower case, compared with a key's words case-insensitively.
constexpr std::string_view kSecretWords[] = {
    "password", "passwd",        "pwd",        "passphrase",  "passcode",  "secret",
    "token",    "jwt",           "bearer",     "apikey",      "accesskey", "privatekey",
    "auth",     "authorization", "credential", "credentials", "cookie",    "cookies",
};
struct WordPair {
  std::string_view first;
  std::string_view second;
};
constexpr WordPair kSecretPairs[] = {{"api", "key"}, {"access", "key"}, {"private", "key"}};

char lower_ascii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_letter(char c) { return is_upper(c) || is_lower(c); }

// Whether `word` (letters, any case) is `lower` (lower case).
bool word_is(std::string_view word, std::string_view lower) {
  if (word.size() != lower.size()) return false;
  for (size_t i = 0; i < word.size(); ++i) {
    if (lower_ascii(word[i]) != lower[i]) return false;
  }
  return true;
}

// Calls emit(word) for each word of `key`, in order (header: how a key is cut).
template <class Emit>
void for_each_key_word(std::string_view key, Emit&& emit) {
  size_t at = 0;
  while (at < key.size()) {
    while (at < key.size() && !is_letter(key[at])) ++at;
    size_t start = at;
    while (at < key.size() && is_letter(key[at])) {
      const size_t next = at + 1;
      const bool boundary =
          next < key.size() && is_letter(key[next]) &&
          ((is_lower(key[at]) && is_upper(key[next])) ||
           (is_upper(key[at]) && is_upper(key[next]) && next + 1 < key.size() && is_lower(key[next + 1])));
      at = next;
      if (boundary) {
        emit(key.substr(start, at - start));
        start = at;
      }
    }
    if (at > start) emit(key.substr(start, at - start));
  }
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = lower_ascii(c);
  return out;
}

// '*' matches any run of characters; letters match either case (the glob is
// lower case); everything else matches itself.
bool glob_match(std::string_view glob, std::string_view text) {
  size_t g = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (g < glob.size() && glob[g] == '*') {
      star = g++;
      mark = t;
    } else if (g < glob.size() && glob[g] == lower_ascii(text[t])) {
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
  for (const RedactionRule& rule : rules_) {
    if (glob_match(rule.key_glob, key)) return &rule;
  }
  if (default_rules_ && is_secret_key(key)) return &default_rule_;
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

std::vector<std::string_view> key_words(std::string_view key) {
  std::vector<std::string_view> words;
  for_each_key_word(key, [&](std::string_view word) { words.push_back(word); });
  return words;
}

bool is_secret_key(std::string_view key) {
  bool secret = false;
  std::string_view previous;
  for_each_key_word(key, [&](std::string_view word) {
    if (secret) return;
    for (const std::string_view secret_word : kSecretWords) secret = secret || word_is(word, secret_word);
    for (const WordPair& pair : kSecretPairs) {
      secret = secret || (word_is(previous, pair.first) && word_is(word, pair.second));
    }
    previous = word;
  });
  return secret;
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
