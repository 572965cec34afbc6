#include "ringtail/reader/output/redaction.hpp"

#include <algorithm>
#include <bit>
#include <cctype>
#include <charconv>
#include <cstring>
#include <iterator>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "absl/strings/str_cat.h"
#include "ringtail/reader/ingest/callsite_table.hpp"
#include "ringtail/shm/hmac_token.hpp"

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
bool is_digit(char c) { return c >= '0' && c <= '9'; }

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
  const std::string digest = keyed_hash_ ? keyed_hash_(json_text) : std::string();
  // The producer's rule (shm/hmac_token.hpp): no token from a short digest.
  if (digest.size() < shm::kHmacTokenDigestBytes) return std::string(shm::kHmacUnavailable);
  std::string out(shm::kHmacTokenChars, '\0');
  shm::write_hmac_token(out.data(), reinterpret_cast<const unsigned char*>(digest.data()));
  return out;
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

namespace {

// The part of a text a credential takes: [begin, end), replaced whole.
struct Span {
  size_t begin = std::string_view::npos;
  size_t end = std::string_view::npos;
  bool found() const { return begin != std::string_view::npos; }
};

bool is_alnum(char c) { return is_letter(c) || is_digit(c); }

// RFC 7235 token68, less its trailing '='s.
bool is_token68(char c) { return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/'; }
bool is_base64(char c) { return is_alnum(c) || c == '+' || c == '/'; }
// What ends a URL's authority in free text: its own delimiters, white space,
// quotes and brackets around it, and control bytes.
bool ends_authority(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u <= 0x20 || u == 0x7F || c == '/' || c == '?' || c == '#' || c == '"' || c == '\'' || c == '<' || c == '>' ||
         c == '`';
}

// Whether the word that ends at `end` is `scheme` (lower case), in any case,
// and starts the text or follows a byte that is no letter or digit.
bool scheme_before(std::string_view text, size_t end, std::string_view scheme) {
  if (end < scheme.size()) return false;
  const size_t start = end - scheme.size();
  return word_is(text.substr(start, scheme.size()), scheme) && (start == 0 || !is_alnum(text[start - 1]));
}

// The credential of "Bearer <token68>" or "Basic <base64>" (see the header),
// the first whose spaces come at or after `from`; `from` moves past them.
Span next_http_credential(std::string_view text, size_t& from) {
  // The shortest scheme has 5 letters; a space after any other last letter
  // than 'r' or 'c' (either case) is rejected at once.
  for (size_t space = std::max<size_t>(from, 5); space < text.size(); ++space) {
    if (text[space] != ' ') continue;
    const char last = lower_ascii(text[space - 1]);
    if (last != 'r' && last != 'c') continue;
    size_t begin = space;
    while (begin < text.size() && text[begin] == ' ') ++begin;
    from = begin;
    const bool bearer = scheme_before(text, space, "bearer");
    if (!bearer && !scheme_before(text, space, "basic")) continue;
    size_t end = begin;
    if (bearer) {
      while (end < text.size() && is_token68(text[end])) ++end;
      while (end < text.size() && text[end] == '=') ++end;
      if (end > begin) return Span{begin, end};
      continue;
    }
    bool all_lower = true;
    for (; end < text.size() && is_base64(text[end]); ++end) all_lower = all_lower && is_lower(text[end]);
    for (int pad = 0; pad < 2 && end < text.size() && text[end] == '='; ++pad) {
      ++end;
      all_lower = false;
    }
    const size_t length = end - begin;
    const bool whole = end == text.size() || !(is_token68(text[end]) || text[end] == '=');
    if (whole && length >= 4 && length % 4 == 0 && !all_lower) return Span{begin, end};
  }
  from = text.size();
  return Span{};
}

// The password of "scheme://user:password@host", the first whose "://" is at
// or after `from`; `from` moves past that "://".
Span next_url_password(std::string_view text, size_t& from) {
  while (from < text.size()) {
    const size_t separator = text.find("://", from);
    if (separator == std::string_view::npos) break;
    const size_t start = separator + 3;
    from = start;
    size_t end = start;
    while (end < text.size() && !ends_authority(text[end])) ++end;
    const std::string_view authority = text.substr(start, end - start);
    const size_t at = authority.rfind('@');
    if (at == std::string_view::npos) continue;
    const size_t colon = authority.substr(0, at).find(':');
    if (colon == std::string_view::npos || colon + 1 == at) continue;
    return Span{start + colon + 1, start + at};
  }
  from = text.size();
  return Span{};
}

// The body of a "-----BEGIN <label>PRIVATE KEY<label>-----" block: after that
// line's dashes up to "-----END" or the end of the text, the first whose
// BEGIN is at or after `from`; `from` moves past its label.
Span next_private_key(std::string_view text, size_t& from) {
  constexpr std::string_view kBegin = "-----BEGIN ";
  constexpr std::string_view kDashes = "-----";
  while (from < text.size()) {
    const size_t begin = text.find(kBegin, from);
    if (begin == std::string_view::npos) break;
    const size_t label = begin + kBegin.size();
    size_t end = label;
    while (end < text.size() && (is_upper(text[end]) || is_digit(text[end]) || text[end] == ' ')) ++end;
    from = end;
    if (text.substr(label, end - label).find("PRIVATE KEY") == std::string_view::npos) continue;
    if (text.substr(end, kDashes.size()) == kDashes) end += kDashes.size();
    size_t stop = text.find("-----END", end);
    if (stop == std::string_view::npos) stop = text.size();
    from = stop;
    if (stop > end) return Span{end, stop};
  }
  from = text.size();
  return Span{};
}

// One kind of credential: the next match, and where the search goes on.
struct CredentialFinder {
  Span (*next)(std::string_view text, size_t& from);
  size_t from = 0;
  Span match;

  // Skips matches that end at or before `done`; clips one that began before it.
  void advance(std::string_view text, size_t done) {
    while (match.found() && match.end <= done) match = next(text, from);
    if (match.found() && match.begin < done) match.begin = done;
  }
};

// Which kinds of credential a text may hold, from a quick look: a URL's
// password needs an '@' and a "://"; the rest start with a 'b' or 'B'
// ("bearer ", "basic " in any case; "-----BEGIN "). A few memchr()s over a
// text without them, a few compares for each 'b' or 'B' of one with them.
// One word of bits, not three bools: GCC built those in memory a byte at a
// time and returned them as one load, a store-forwarding stall per call.
struct Candidates {
  static constexpr unsigned kHttp = 1;
  static constexpr unsigned kUrl = 2;
  static constexpr unsigned kKey = 4;
  unsigned kinds = 0;
  bool http() const { return (kinds & kHttp) != 0; }
  bool url() const { return (kinds & kUrl) != 0; }
  bool key() const { return (kinds & kKey) != 0; }
  bool any() const { return kinds != 0; }
};

// The shortest text holding a credential: "://:p@" (an empty user's password).
constexpr size_t kShortest = 6;

// Strings up to this long are looked at in one pass (scan_short);
// longer ones with a memchr per byte sought (fewer, faster passes over long
// text). Most values are short, and for them the calls cost more than the
// bytes.
constexpr size_t kShortScan = 64;

constexpr uint64_t kOnes = 0x0101010101010101ULL;
constexpr uint64_t kHighs = 0x8080808080808080ULL;
static_assert(std::endian::native == std::endian::little, "byte i of a loaded word is bits 8i..8i+7");

// The high bit of each byte of `word` that equals `byte` (a bit may also be
// set in the byte just above one that does: callers check the byte itself).
constexpr uint64_t bytes_equal(uint64_t word, unsigned char byte) {
  const uint64_t v = word ^ (kOnes * byte);
  return (v - kOnes) & ~v & kHighs;
}

// One pass over a short text: calls look_at(i) for each 'b' or 'B' at i,
// and returns whether it holds an '@'. Sixteen bytes at a time where SSE2
// is (every x86-64), the last load overlapping the one before it, whose
// bytes it skips; otherwise eight at a time, then byte by byte.
template <class LookAt>
bool scan_short(const char* bytes, size_t size, LookAt& look_at) {
  bool at_sign = false;
  size_t at = 0;
#if defined(__SSE2__)
  if (size >= 16) {
    const __m128i at_char = _mm_set1_epi8('@');
    const __m128i case_bit = _mm_set1_epi8(0x20);
    const __m128i b_char = _mm_set1_epi8('b');
    auto scan = [&](size_t from, unsigned seen) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes + from));
      at_sign = at_sign || _mm_movemask_epi8(_mm_cmpeq_epi8(v, at_char)) != 0;
      // Exactly 'b' and 'B' are 'b' with bit 5 set.
      auto b = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_or_si128(v, case_bit), b_char)));
      for (b &= ~0U << seen; b != 0; b &= b - 1) look_at(from + static_cast<size_t>(std::countr_zero(b)));
    };
    for (; at + 16 <= size; at += 16) scan(at, 0);
    if (at < size) scan(size - 16, static_cast<unsigned>(at - (size - 16)));
    return at_sign;
  }
#endif
  for (; at + 8 <= size; at += 8) {
    uint64_t word = 0;
    std::memcpy(&word, bytes + at, sizeof(word));
    at_sign = at_sign || bytes_equal(word, '@') != 0;
    // 'b' and 'B' are the bytes that are 'b' with bit 5 set.
    for (uint64_t b = bytes_equal(word | (kOnes * 0x20), 'b'); b != 0; b &= b - 1) {
      const size_t i = at + static_cast<size_t>(std::countr_zero(b)) / 8;
      if ((static_cast<unsigned char>(bytes[i]) | 0x20U) == 'b') look_at(i);
    }
  }
  for (; at < size; ++at) {
    const auto c = static_cast<unsigned char>(bytes[at]);
    at_sign = at_sign || c == '@';
    if ((c | 0x20U) == 'b') look_at(at);
  }
  return at_sign;
}

Candidates candidates(std::string_view text) {
  if (text.size() < kShortest) return Candidates{};
  const char* const bytes = text.data();
  const size_t size = text.size();
  // bytes[at] is 'b' or 'B': "bearer " / "basic " (any case) start there, or
  // "-----BEGIN " around it. The second letter rules most out at once.
  unsigned kinds = 0;
  auto look_at = [&](size_t at) {
    const size_t left = size - at;
    if (left > 6) {
      const char second = lower_ascii(bytes[at + 1]);
      if ((second == 'e' && left > 7 && word_is(text.substr(at, 7), "bearer ")) ||
          (second == 'a' && word_is(text.substr(at, 6), "basic "))) {
        kinds |= Candidates::kHttp;
        return;
      }
    }
    if (bytes[at] == 'B' && at >= 5 && text.substr(at - 5, 11) == "-----BEGIN ") kinds |= Candidates::kKey;
  };
  bool at_sign = false;
  if (size <= kShortScan) {
    at_sign = scan_short(bytes, size, look_at);
  } else {
    at_sign = std::memchr(bytes, '@', size) != nullptr;
    for (const char b : {'b', 'B'}) {
      for (const char* p = bytes; (p = static_cast<const char*>(std::memchr(p, b, bytes + size - p))); ++p) {
        look_at(static_cast<size_t>(p - bytes));
      }
    }
  }
  if (at_sign && text.find("://") != std::string_view::npos) kinds |= Candidates::kUrl;
  return Candidates{kinds};
}

constexpr size_t kFinders = 3;
// The finders of the kinds `found` may hold; the others find nothing.
void start_finders(std::string_view text, const Candidates& found, CredentialFinder (&finders)[kFinders]) {
  finders[0].next = &next_http_credential;
  finders[1].next = &next_url_password;
  finders[2].next = &next_private_key;
  const bool wanted[kFinders] = {found.http(), found.url(), found.key()};
  for (size_t i = 0; i < kFinders; ++i) {
    if (wanted[i]) finders[i].match = finders[i].next(text, finders[i].from);
  }
}

}  // namespace

bool holds_credentials(std::string_view text) {
  const Candidates found = candidates(text);
  if (!found.any()) return false;
  size_t from = 0;
  if (found.url() && next_url_password(text, from).found()) return true;
  from = 0;
  if (found.key() && next_private_key(text, from).found()) return true;
  from = 0;
  return found.http() && next_http_credential(text, from).found();
}

std::string_view scrub_credentials(std::string_view text, std::string& scratch) {
  const Candidates found = candidates(text);
  if (!found.any()) return text;
  CredentialFinder finders[kFinders];
  start_finders(text, found, finders);
  size_t done = 0;
  bool any = false;
  for (;;) {
    CredentialFinder* first = nullptr;
    for (CredentialFinder& finder : finders) {
      if (finder.match.found() && (first == nullptr || finder.match.begin < first->match.begin)) first = &finder;
    }
    if (first == nullptr) break;
    if (!any) scratch.clear();
    any = true;
    scratch.append(text.substr(done, first->match.begin - done));
    scratch.append(kRedactedText);
    done = first->match.end;
    for (CredentialFinder& finder : finders) finder.advance(text, done);
  }
  if (!any) return text;
  scratch.append(text.substr(done));
  return scratch;
}

size_t trusted_hash_field(const CallSiteInfo& site) {
  // ringtail::agent::breakglass (core/include/ringtail/agent.hpp; docs/FORMAT.md, "Agent vocabulary").
  static constexpr std::string_view kBreakglassFields[] = {
      "enabled_by", "reason", "expires_at", "token_hash", "affected_validators", "affected_decisions"};
  constexpr size_t kTokenHash = 3;
  if (!site.valid || site.message != "breakglass" || site.level != shm::Level::kWarn ||
      site.fields.size() != std::size(kBreakglassFields)) {
    return kNoTrustedHashField;
  }
  for (size_t i = 0; i < site.fields.size(); ++i) {
    if (site.fields[i].name != kBreakglassFields[i] || site.fields[i].type != shm::FieldType::kString) {
      return kNoTrustedHashField;
    }
  }
  return kTokenHash;
}

std::string_view keep_ends(std::string_view text, size_t n, std::string& scratch) {
  if (utf8_length(text) <= 2 * n + 3) return kRedactedText;
  scratch.assign(utf8_prefix(text, n));
  scratch += "...";
  scratch += utf8_suffix(text, n);
  return scratch;
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
