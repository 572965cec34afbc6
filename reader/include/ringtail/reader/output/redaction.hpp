// Redaction: what the reader does to field values before any output, so that
// secrets never reach a file, a pipe or a terminal (docs/FORMAT.md,
// "Redaction").
//
// Rules match a field's key (case-insensitively) and say what becomes of its
// value:
//   redact       the value becomes the string "***REDACTED***", whatever its type;
//   hash         the value becomes "hmac:<16 hex digits>", the start of a keyed
//                hash (HMAC-SHA256 with a secret key) of the value's JSON text,
//                so equal values still correlate but cannot be read back;
//   truncate N   a string longer than N characters keeps its first N (whole
//                UTF-8 characters) and is marked cut (in "_cut", with its
//                original length); other types are kept;
//   keep-ends N  a string keeps its first N and last N characters around
//                "...", e.g. "sk-a...x9Qz" for an API key; a string of 2N + 3
//                characters or fewer is redacted whole; other types are redacted.
// A rule's key is a glob: '*' matches any run of characters ("prompt*",
// "*email*"), letters of either case match each other. The first rule (in the
// order given) that matches a key wins; after them come the default rules,
// unless turned off.
//
// Default rule for keys: redact every key that holds a secret word. A key is
// cut into words at every byte that is not an ASCII letter ('_', '-', '.',
// digits, spaces, ...) and inside a run of letters where a lower-case letter
// is followed by an upper-case one ("accessToken": access, token) or an
// upper-case letter starts a capitalised word after an acronym ("APIKey":
// api, key). Words compare case-insensitively with the list below; a key is
// secret if one word is a secret word, or two adjacent words are a secret
// pair:
//   words   password passwd pwd passphrase passcode secret token jwt
//           bearer apikey accesskey privatekey auth authorization
//           credential credentials cookie cookies
//   pairs   api key, access key, private key
// So "password2", "dbPassword", "x-api-key", "APIKey", "clientSecret",
// "set-cookie", "private_key", "session_token" and "Authorization" are
// secret. Deliberately not: "tokens", "input_tokens", "max_tokens" (the
// plural names a count in cost events; so do "passwords_checked" and
// "secrets_loaded"), "author", "authority", "secretary", "tokenizer" (other
// words), "session_id", "key", "cache_key" (no secret word), "pass" (a test
// result as often as a password), and a word written without any boundary
// ("dbpassword" is one word, not db + password).
//
// Default rule for values: credentials are scrubbed out of every string that
// reaches the output, whatever its key (event string fields, error type,
// message and stack, context fields, span names, attributes and outcomes,
// the reader's notes): each of these has its secret part replaced by
// "***REDACTED***":
//   "Bearer <token68>"       the token (scheme in any case, after one or
//                            more spaces);
//   "Basic <base64>"         the base64, when it is one: a multiple of 4
//                            characters, at least 4, not all lower-case
//                            letters (which is prose: "basic test");
//   "scheme://user:pass@..." the password (the userinfo's text after its
//                            first ':', up to the authority's last '@');
//   "-----BEGIN ... PRIVATE KEY-----" blocks: everything after that line up
//                            to "-----END", or to the end of the string.
// A string without what starts these (an '@' and a "://"; a 'b' or 'B'
// that begins "bearer ", "basic " or "BEGIN ") is written as it is, after a
// look that costs three memchr()s and a few compares per 'b' or 'B': about
// what escaping the string costs.
//
// A value that looks like a keyed hash ("hmac:" and 16 lowercase hex
// digits, as hash_text() writes it) is trusted to be one only in the field
// the producer fills so: token_hash of the breakglass call site
// (ringtail::agent::breakglass; its message, level and fields as
// docs/FORMAT.md fixes them), which the default rule and hash rules then
// write as it is (hashing it again would break its correlation; a redact
// rule still redacts it). Anywhere else such a text is a value like any
// other: it may be the secret itself.
//
// Rules come from flags and from a file, one per line ('#' starts a comment):
//   redact   password
//   hash     user_email
//   truncate prompt*   200
//   keep-ends api_key  4
//
// Threading: a Redactor is immutable once built; share it freely. The keyed
// hash function it is given must be thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ringtail/shm/hmac_token.hpp"

namespace ringtail::reader {

struct CallSiteInfo;

struct RedactionRule {
  enum class Action { kRedact, kHash, kTruncate, kKeepEnds };
  Action action = Action::kRedact;
  std::string key_glob;  // lower case
  size_t n = 0;          // truncate / keep-ends

  bool operator==(const RedactionRule&) const = default;
};

inline constexpr std::string_view kRedactedText = "***REDACTED***";

// "redact KEY", "hash KEY", "truncate KEY N", "keep-ends KEY N".
absl::StatusOr<RedactionRule> parse_redaction_rule(std::string_view line);
// A rules file: one rule per line, blank lines and '#' comments skipped.
// Errors name the line number.
absl::StatusOr<std::vector<RedactionRule>> parse_redaction_rules(std::string_view text);

class Redactor {
 public:
  // The keyed hash of a value's JSON text: any fixed-size digest, as bytes.
  using KeyedHash = std::function<std::string(std::string_view text)>;

  Redactor(std::vector<RedactionRule> rules, bool default_rules, KeyedHash keyed_hash);

  // The rule for a key, or nullptr when its value is written as it is
  // (scrubbed, see scrubs_values()). Allocates nothing; callers on the
  // per-event path still keep its answer per call site, whose keys never
  // change.
  const RedactionRule* rule_for(std::string_view key) const;

  // True when the default rules are on: every string value is then scrubbed
  // (scrub_credentials()) before any rule of its key applies, except hash,
  // which hashes the value as logged so that equal values still correlate.
  bool scrubs_values() const { return default_rules_; }

  // The keyed hash of `json_text` as a token (ringtail/shm/hmac_token.hpp):
  // "hmac:" and 16 hex digits, or "hmac:unavailable" when the keyed hash
  // gives fewer than 8 bytes (none at all without a function), as the
  // producer writes it then.
  std::string hash_text(std::string_view json_text) const;

  // True if `rule` is the default redact rule (no rule of the user's).
  bool is_default_rule(const RedactionRule* rule) const { return rule == &default_rule_; }

 private:
  std::vector<RedactionRule> rules_;
  bool default_rules_;
  KeyedHash keyed_hash_;
  RedactionRule default_rule_;  // redact
};

// The words of a key as the default rule sees them (views into `key`, case
// kept): "x-apiKey2" gives x, api, Key.
std::vector<std::string_view> key_words(std::string_view key);
// True if `key` has a secret word or pair of words (the default rule's test).
bool is_secret_key(std::string_view key);

// True if scrub_credentials() would replace something in `text`. A few
// memchr()s over a text that holds none (see above); no allocation.
bool holds_credentials(std::string_view text);
// `text` with the credentials of the default value rule replaced by
// kRedactedText: `text` itself when there are none, else the result, made in
// `scratch` (its capacity reused). The parts replaced lie between ASCII
// bytes, so well-formed UTF-8 stays so.
std::string_view scrub_credentials(std::string_view text, std::string& scratch);

// True if `text` already is a keyed hash as hash_text() writes it
// (shm::is_hmac_token; the producer writes breakglass tokens so).
inline bool is_keyed_hash(std::string_view text) { return shm::is_hmac_token(text); }

// The index of the field of `site` whose value the reader trusts to be a
// keyed hash already (see above: only breakglass's token_hash), or
// kNoTrustedHashField.
inline constexpr size_t kNoTrustedHashField = SIZE_MAX;
size_t trusted_hash_field(const CallSiteInfo& site);

// What keep-ends N shows of a string (or an error's message): its first and
// last `n` characters around "..." when it has more than 2n + 3, else
// kRedactedText (a shorter text would show too much of itself). The kept
// text is made in `scratch`.
std::string_view keep_ends(std::string_view text, size_t n, std::string& scratch);

// The start of `text` holding at most `chars` whole UTF-8 characters (bytes
// of ill-formed UTF-8 count one each).
std::string_view utf8_prefix(std::string_view text, size_t chars);
// The end of `text` holding at most `chars` whole UTF-8 characters.
std::string_view utf8_suffix(std::string_view text, size_t chars);
size_t utf8_length(std::string_view text);

}  // namespace ringtail::reader
