// Redaction: rules and their matching, what each action writes, the
// formatter applying them (fast and piecewise paths alike), and canary
// secrets logged by a real producer found in no output of `ringtail drain`
// or `ringtail tail`.
#include "ringtail/reader/output/redaction.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "bin_dir.hpp"
#include "producer_child.hpp"
#include "ringtail/reader/output/event_json.hpp"
#include "ringtail/ringtail.hpp"
#include "shape_check.hpp"
#include "signal_ready.hpp"
#include "stored_files.hpp"
#include "subprocess.hpp"

namespace ringtail::reader {
namespace {

using ringtail::kv;

Redactor make(std::vector<std::string> lines, bool defaults = true) {
  std::vector<RedactionRule> rules;
  for (const std::string& line : lines) rules.push_back(*parse_redaction_rule(line));
  // A stand-in keyed hash: any fixed function of the text will do here.
  return Redactor(std::move(rules), defaults, [](std::string_view text) {
    std::string digest(8, '\0');
    for (size_t i = 0; i < text.size(); ++i) digest[i % 8] = static_cast<char>(digest[i % 8] * 31 + text[i]);
    return digest;
  });
}

TEST(Redaction, KeysSplitIntoWords) {
  using Words = std::vector<std::string_view>;
  EXPECT_EQ(key_words("accessToken"), (Words{"access", "Token"}));
  EXPECT_EQ(key_words("dbPassword"), (Words{"db", "Password"}));
  EXPECT_EQ(key_words("password2"), (Words{"password"}));
  EXPECT_EQ(key_words("APIKey"), (Words{"API", "Key"}));
  EXPECT_EQ(key_words("XMLHttpRequest"), (Words{"XML", "Http", "Request"}));
  EXPECT_EQ(key_words("x-api-key"), (Words{"x", "api", "key"}));
  EXPECT_EQ(key_words("client.secret_v2"), (Words{"client", "secret", "v"}));
  EXPECT_EQ(key_words("oauth2Token"), (Words{"oauth", "Token"}));
  EXPECT_EQ(key_words("Set-Cookie"), (Words{"Set", "Cookie"}));
  EXPECT_EQ(key_words("DB_PASSWORD"), (Words{"DB", "PASSWORD"}));
  EXPECT_EQ(key_words("aB"), (Words{"a", "B"}));
  EXPECT_EQ(key_words("Ab"), (Words{"Ab"}));
  EXPECT_EQ(key_words("k\xC3\xA9y token"), (Words{"k", "y", "token"}));  // non-ASCII bytes separate too
  EXPECT_EQ(key_words("__9__"), Words{});
  EXPECT_EQ(key_words(""), Words{});
}

TEST(Redaction, DefaultsMatchSecretWordsInEverySpelling) {
  const Redactor r = make({});
  for (const char* secret :
       {"password", "Password", "user_password", "passwd", "secret", "client_secret", "token", "access_token",
        "refresh-token", "api_key", "x-api-key", "API.KEY", "apikey", "Authorization", "proxy_authorization",
        // camelCase, digits, acronyms, kebab and dots
        "accessToken", "clientSecret", "dbPassword", "password2", "PASSWORD_2", "X-Api-Key", "APIKey", "apiKey",
        "Cookie", "set-cookie", "Set-Cookie", "cookies", "bearer", "bearerToken", "credential", "credentials",
        "awsCredentials", "private_key", "privateKey", "PRIVATE.KEY", "privatekey", "access_key", "AccessKey",
        "session_token", "sessionToken", "auth", "x-auth-token", "basic_auth", "authHeader", "OAuth", "jwt", "id_jwt",
        "pwd", "mysql_pwd", "passphrase", "ssh-passcode", "secret_key", "userSecret9"}) {
    ASSERT_NE(r.rule_for(secret), nullptr) << secret;
    EXPECT_EQ(r.rule_for(secret)->action, RedactionRule::Action::kRedact) << secret;
    EXPECT_TRUE(is_secret_key(secret)) << secret;
  }
  // Look-alikes that are not secrets: plurals naming counts, other words
  // that begin like a secret word, and words that are no secret alone.
  const char* const plain_keys[] = {
      "tokens",    "input_tokens", "max_tokens", "output_tokens", "maxTokens",     "author",     "authorName",
      "authors",   "authority",    "secretary",  "tokenizer",     "apikeys_total", "session_id", "secrets_loaded",
      "sessionId", "key",          "cache_key",  "primary_key",   "keyboard",      "pass",       "pass_count",
      "bypass",    "compass",      "cwd",        "tool",          "user_id"};
  for (const char* plain : plain_keys) {
    EXPECT_EQ(r.rule_for(plain), nullptr) << plain;
    EXPECT_FALSE(is_secret_key(plain)) << plain;
  }
  for (const char* plain : {"cache_read_tokens", "passwords_checked_count", ""}) {
    EXPECT_EQ(r.rule_for(plain), nullptr) << plain;
  }
  EXPECT_EQ(make({}, false).rule_for("password"), nullptr);
  EXPECT_EQ(make({}, false).rule_for("accessToken"), nullptr);
}

// Rules' globs match keys whatever their case, as before.
TEST(Redaction, RuleGlobsIgnoreCase) {
  const Redactor r = make({"hash User_*", "redact *Email*"}, false);
  ASSERT_NE(r.rule_for("USER_name"), nullptr);
  EXPECT_EQ(r.rule_for("USER_name")->action, RedactionRule::Action::kHash);
  ASSERT_NE(r.rule_for("workEMAILaddress"), nullptr);
  EXPECT_EQ(r.rule_for("workEMAILaddress")->action, RedactionRule::Action::kRedact);
  EXPECT_EQ(r.rule_for("username"), nullptr);
}

// Credentials inside values: replaced, whatever the key, and nothing else
// touched.
TEST(Redaction, ScrubsCredentialsOutOfValues) {
  const std::pair<std::string, std::string> scrubbed[] = {
      {"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln-_~+/=", "Authorization: Bearer ***REDACTED***"},
      {"bearer abc def", "bearer ***REDACTED*** def"},
      {"BEARER   tok3n,next", "BEARER   ***REDACTED***,next"},
      {"(Bearer x)", "(Bearer ***REDACTED***)"},
      {"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", "Basic ***REDACTED***"},
      {"header basic dXNlcjpwYXNz; next", "header basic ***REDACTED***; next"},
      {"postgres://app:s3cr3t@db.internal:5432/prod", "postgres://app:***REDACTED***@db.internal:5432/prod"},
      {"see https://user:p@ss@host/x?y=1 now", "see https://user:***REDACTED***@host/x?y=1 now"},
      {"\"redis://:hunter2@cache\"", "\"redis://:***REDACTED***@cache\""},
      {"-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nAAAA\n-----END RSA PRIVATE KEY-----\ntail",
       "-----BEGIN RSA PRIVATE KEY-----***REDACTED***-----END RSA PRIVATE KEY-----\ntail"},
      {"key: -----BEGIN PRIVATE KEY-----\nMIIEvQIBADAN", "key: -----BEGIN PRIVATE KEY-----***REDACTED***"},
      {"-----BEGIN OPENSSH PRIVATE KEY-----b3Blbn-----END OPENSSH PRIVATE KEY-----",
       "-----BEGIN OPENSSH PRIVATE KEY-----***REDACTED***-----END OPENSSH PRIVATE KEY-----"},
      {"-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQOY", "-----BEGIN PGP PRIVATE KEY BLOCK-----***REDACTED***"},
      {"a Bearer x and http://u:p@h and -----BEGIN EC PRIVATE KEY-----z-----END EC PRIVATE KEY----- end",
       "a Bearer ***REDACTED*** and http://u:***REDACTED***@h and -----BEGIN EC PRIVATE KEY-----***REDACTED***"
       "-----END EC PRIVATE KEY----- end"},
      // A URL with a password inside a key block: one replacement.
      {"-----BEGIN PRIVATE KEY-----x https://u:p@h", "-----BEGIN PRIVATE KEY-----***REDACTED***"},
      // UTF-8 around a credential stays whole.
      {"\xC3\xA9 Bearer tok\xC3\xA9", "\xC3\xA9 Bearer ***REDACTED***\xC3\xA9"},
  };
  // Each also after 1, 3, 9, 17 and 70 spaces: short values are looked at
  // sixteen or eight bytes at a time (then byte by byte), long ones with
  // memchr; every way, at every offset, must find the same.
  const std::string pad(70, ' ');
  const std::string prefixes[] = {std::string(),       std::string(1, ' '),  std::string(3, ' '),
                                  std::string(9, ' '), std::string(17, ' '), pad};
  for (const auto& [short_text, short_want] : scrubbed) {
    for (const std::string& prefix : prefixes) {
      const std::string text = prefix + short_text;
      const std::string want = prefix + short_want;
      SCOPED_TRACE(text);
      std::string scratch;
      EXPECT_TRUE(holds_credentials(text));
      EXPECT_EQ(scrub_credentials(text, scratch), want);
      // Scrubbing again changes nothing more.
      std::string again;
      EXPECT_EQ(scrub_credentials(want, again), want);
    }
  }
  const std::string plain[] = {"",
                               "a basic test",
                               "basic usage of Bearer",
                               "the bearer",
                               "xbearer abc",
                               "Basic abc",
                               "Basic dXNlcjpwYXN",
                               "Basic abcdefgh",
                               "Bearer ***REDACTED***",
                               "mailto:bob@example.com",
                               "bob@example.com wrote https://example.com/a@b",
                               "ssh://git@github.com/org/repo.git",
                               "https://example.com:8443/path",
                               "user@host:path",
                               "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
                               "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----",
                               "tokens: 1234, cost 0.5"};
  for (const std::string& short_text : plain) {
    for (const std::string& prefix : prefixes) {
      const std::string text = prefix + short_text;
      SCOPED_TRACE(text);
      std::string scratch = "untouched";
      EXPECT_FALSE(holds_credentials(text));
      const std::string_view out = scrub_credentials(text, scratch);
      EXPECT_EQ(out.data(), text.data()) << "the text itself, not a copy";
      EXPECT_EQ(scratch, "untouched");
    }
  }
}

TEST(Redaction, RulesParseAndTheFirstMatchWins) {
  const Redactor r = make({"hash user_*", "truncate prompt* 10", "keep-ends *key 4", "redact *"});
  EXPECT_EQ(r.rule_for("user_email")->action, RedactionRule::Action::kHash);
  EXPECT_EQ(r.rule_for("PROMPT_text")->action, RedactionRule::Action::kTruncate);
  EXPECT_EQ(r.rule_for("prompt")->n, 10u);
  EXPECT_EQ(r.rule_for("api_key")->action, RedactionRule::Action::kKeepEnds);  // before the default
  EXPECT_EQ(r.rule_for("anything")->action, RedactionRule::Action::kRedact);
  absl::StatusOr<std::vector<RedactionRule>> file =
      parse_redaction_rules("# comment\n\nredact password  # inline\nkeep-ends api_key 4\r\n");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->size(), 2u);
  for (const char* bad :
       {"", "erase x", "redact", "redact a b", "truncate x", "truncate x 0", "truncate x -1", "keep-ends x y"}) {
    EXPECT_FALSE(parse_redaction_rule(bad).ok()) << bad;
  }
  const absl::StatusOr<std::vector<RedactionRule>> bad = parse_redaction_rules("redact a\nfrob b\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string(bad.status().message()).find("line 2"), std::string::npos) << bad.status();
}

TEST(Redaction, Utf8Ends) {
  EXPECT_EQ(utf8_prefix("h\xC3\xA9llo", 2), "h\xC3\xA9");
  EXPECT_EQ(utf8_suffix("h\xC3\xA9llo", 4), "\xC3\xA9llo");
  EXPECT_EQ(utf8_length("\xF0\x9F\x98\x80"
                        "a"),
            2u);
  EXPECT_EQ(utf8_prefix("abc", 10), "abc");
}

SegmentIdentity test_identity() {
  SegmentIdentity identity;
  identity.service = "svc";
  identity.pid = 7;
  identity.clock.realtime = true;
  return identity;
}

FieldValue str(std::string text) {
  StringValue v;
  v.original_bytes = static_cast<uint32_t>(text.size());
  v.bytes = std::move(text);
  return FieldValue(v);
}

FieldValue err(std::string type, std::string message, std::string stack) {
  ErrorValue e;
  e.type = std::get<StringValue>(str(std::move(type)));
  e.message = std::get<StringValue>(str(std::move(message)));
  e.stack = std::get<StringValue>(str(std::move(stack)));
  return FieldValue(e);
}

// An event of `site` with `values` (one per field), formatted on the cached
// path and on the uncached one, which must agree; the line.
std::string format_event(const Redactor* redactor, const CallSiteInfo& site, const std::vector<FieldValue>& values) {
  DecodedEvent event;
  event.callsite = &site;
  event.timestamp_raw = 1'796'032'800'000'000'000ULL;
  for (size_t i = 0; i < values.size(); ++i) {
    // The name points into the call site, which outlives the event.
    event.fields.push_back(DecodedField{site.fields[i].name, site.fields[i].type, values[i]});
  }
  EventJsonFormatter cached(test_identity(), redactor);
  EventJsonFormatter uncached(test_identity(), redactor);
  ShapedLines lines_a, lines_b;
  cached.append_event(lines_a, event);
  cached.append_event(lines_a, event);  // the second through the built cache
  DecodedEvent plain = event;
  plain.callsite_id = UINT32_MAX;
  uncached.append_event(lines_b, plain);
  uncached.append_event(lines_b, plain);
  testing::check_shapes(lines_a);
  testing::check_shapes(lines_b);
  const std::string& a = lines_a.text;
  EXPECT_EQ(a, lines_b.text);
  EXPECT_EQ(a.substr(0, a.size() / 2), a.substr(a.size() / 2));
  return a.substr(0, a.size() / 2);
}

// The call site ringtail::agent::breakglass declares.
CallSiteInfo breakglass_site() {
  CallSiteInfo site;
  site.valid = true;
  site.level = shm::Level::kWarn;
  site.message = "breakglass";
  for (const char* name :
       {"enabled_by", "reason", "expires_at", "token_hash", "affected_validators", "affected_decisions"}) {
    site.fields.push_back({name, shm::FieldType::kString});
  }
  return site;
}

// A value that looks like a keyed hash passes the default rule and hash
// rules as it is only in breakglass's token_hash, where the producer writes
// one; anywhere else it is a value like any other. An explicit redact rule
// always applies.
TEST(Redaction, KeyedHashIsTrustedOnlyInBreakglassTokenHash) {
  EXPECT_TRUE(is_keyed_hash("hmac:0123456789abcdef"));
  EXPECT_FALSE(is_keyed_hash("hmac:0123456789ABCDEF"));
  EXPECT_FALSE(is_keyed_hash("hmac:0123456789abcde"));
  EXPECT_FALSE(is_keyed_hash("hmac:0123456789abcdefa"));
  EXPECT_FALSE(is_keyed_hash("hunter2"));

  const CallSiteInfo breakglass = breakglass_site();
  EXPECT_EQ(trusted_hash_field(breakglass), 3u);
  std::vector<CallSiteInfo> look_alikes(6, breakglass);
  look_alikes[0].message = "breakglass2";
  look_alikes[1].level = shm::Level::kInfo;
  look_alikes[2].fields.push_back({"note", shm::FieldType::kString});
  look_alikes[3].fields[0].name = "by";
  look_alikes[4].fields[3].name = "user_token";
  look_alikes[5].valid = false;
  for (const CallSiteInfo& site : look_alikes) EXPECT_EQ(trusted_hash_field(site), kNoTrustedHashField);
  CallSiteInfo other_type = breakglass;
  other_type.fields[5].type = shm::FieldType::kI64;
  EXPECT_EQ(trusted_hash_field(other_type), kNoTrustedHashField);

  const std::string hash = "hmac:00ff00ff00ff00ff";
  const std::vector<FieldValue> values = {str("oncall"), str("incident 42"), str("2026-11-30T18:00:00.000Z"),
                                          str(hash),     str("egress"),      str("BLOCK")};
  simdjson::dom::parser parser;
  simdjson::dom::element line;
  for (const char* rule : {"", "hash token_hash", "hash *", "redact token_hash"}) {
    SCOPED_TRACE(rule);
    const Redactor r = make(*rule == '\0' ? std::vector<std::string>{} : std::vector<std::string>{rule});
    const std::string text = format_event(&r, breakglass, values);
    ASSERT_EQ(parser.parse(text).get(line), simdjson::SUCCESS) << text;
    EXPECT_EQ(std::string_view(line["token_hash"]),
              std::string_view(rule).starts_with("redact") ? kRedactedText : hash);
  }
  const Redactor defaults = make({});
  const Redactor hashing = make({"hash token_hash"});
  for (const CallSiteInfo& site : look_alikes) {
    if (!site.valid || site.fields.size() != values.size() || site.fields[3].name != "token_hash") continue;
    SCOPED_TRACE(site.message + " " + std::to_string(static_cast<int>(site.level)));
    std::string text = format_event(&defaults, site, values);
    ASSERT_EQ(parser.parse(text).get(line), simdjson::SUCCESS) << text;
    EXPECT_EQ(std::string_view(line["token_hash"]), kRedactedText);
    text = format_event(&hashing, site, values);
    ASSERT_EQ(parser.parse(text).get(line), simdjson::SUCCESS) << text;
    EXPECT_EQ(std::string_view(line["token_hash"]), hashing.hash_text("\"" + hash + "\""));
  }
  // Secret keys holding such a text elsewhere: redacted.
  CallSiteInfo site;
  site.valid = true;
  site.level = shm::Level::kWarn;
  site.message = "login";
  site.fields = {{"api_token", shm::FieldType::kString},
                 {"secret", shm::FieldType::kString},
                 {"token_hash", shm::FieldType::kString}};
  const std::string text = format_event(&defaults, site, {str("hmac:aaaabbbbccccdddd"), str(hash), str(hash)});
  ASSERT_EQ(parser.parse(text).get(line), simdjson::SUCCESS) << text;
  for (const char* key : {"api_token", "secret", "token_hash"}) EXPECT_EQ(std::string_view(line[key]), kRedactedText);
  EXPECT_EQ(text.find("aaaabbbbccccdddd"), std::string::npos) << text;
  EXPECT_EQ(text.find("00ff00ff00ff00ff"), std::string::npos) << text;
}

// The formatter: every action on every value type, identical on the cached
// and uncached paths.
TEST(Redaction, FormatterAppliesTheRules) {
  const Redactor r = make({"hash user_id", "truncate prompt 5", "keep-ends api_key 3", "keep-ends short_key 3"});
  SegmentIdentity identity;
  identity.service = "svc";
  identity.pid = 7;
  identity.clock.realtime = true;
  CallSiteInfo site;
  site.valid = true;
  site.level = shm::Level::kInfo;
  site.message = "m";
  site.fields = {{"password", shm::FieldType::kString}, {"token", shm::FieldType::kI64},
                 {"user_id", shm::FieldType::kString},  {"prompt", shm::FieldType::kString},
                 {"api_key", shm::FieldType::kString},  {"short_key", shm::FieldType::kString},
                 {"tokens", shm::FieldType::kI64},      {"secret", shm::FieldType::kF64}};
  auto str = [](std::string text) {
    StringValue v;
    v.original_bytes = static_cast<uint32_t>(text.size());
    v.bytes = std::move(text);
    return FieldValue(v);
  };
  std::vector<FieldValue> values = {str("hunter2"),       int64_t{123456}, str("alice"), str("abcdefghij"),
                                    str("sk-1234567890"), str("abcdefg"),  int64_t{42},  3.25};
  DecodedEvent event;
  event.callsite = &site;
  event.timestamp_raw = 1'796'032'800'000'000'000ULL;
  for (size_t i = 0; i < values.size(); ++i) {
    event.fields.push_back(DecodedField{site.fields[i].name, site.fields[i].type, values[i]});
  }
  EventJsonFormatter cached(identity, &r);
  EventJsonFormatter uncached(identity, &r);
  ShapedLines lines_a, lines_b;
  cached.append_event(lines_a, event);
  DecodedEvent plain = event;
  plain.callsite_id = UINT32_MAX;
  uncached.append_event(lines_b, plain);
  testing::check_shapes(lines_a);
  const std::string& a = lines_a.text;
  EXPECT_EQ(a, lines_b.text);
  simdjson::dom::parser parser;
  simdjson::dom::element line;
  ASSERT_EQ(parser.parse(a).get(line), simdjson::SUCCESS) << a;
  EXPECT_EQ(std::string_view(line["password"]), kRedactedText);
  EXPECT_EQ(std::string_view(line["token"]), kRedactedText);  // numbers too
  EXPECT_EQ(std::string_view(line["user_id"]), r.hash_text("\"alice\""));
  EXPECT_EQ(std::string_view(line["user_id"]).substr(0, 5), "hmac:");
  EXPECT_EQ(std::string_view(line["prompt"]), "abcde");
  EXPECT_EQ(int64_t(line["_cut"]["prompt"]), 10);
  EXPECT_EQ(std::string_view(line["api_key"]), "sk-...890");
  EXPECT_EQ(std::string_view(line["short_key"]), kRedactedText);  // too short to keep its ends
  EXPECT_EQ(int64_t(line["tokens"]), 42);
  EXPECT_EQ(std::string_view(line["secret"]), kRedactedText);
  for (const char* secret : {"hunter2", "123456", "alice", "fghij", "4567", "3.25"}) {
    EXPECT_EQ(a.find(secret), std::string::npos) << secret << " in " << a;
  }
}

// Whether `text` is well-formed UTF-8 (what the scrubber must keep so).
bool valid_utf8(std::string_view text) {
  for (size_t at = 0; at < text.size();) {
    const auto lead = static_cast<unsigned char>(text[at]);
    const size_t n = lead < 0x80 ? 1 : lead >= 0xC2 && lead < 0xE0 ? 2 : lead >= 0xE0 && lead < 0xF0 ? 3 : 0;
    if (n == 0 || at + n > text.size()) return false;
    for (size_t i = 1; i < n; ++i) {
      if ((static_cast<unsigned char>(text[at + i]) & 0xC0) != 0x80) return false;
    }
    at += n;
  }
  return true;
}

// Texts made of the pieces the scrubber looks for, in random order: it
// ends, keeps UTF-8 whole, and says beforehand whether it changes anything.
// (A second pass may find more in such texts: a "Bearer " just before a key
// block's "-----END" takes the marker for its token, and the block then
// runs to the end of the text. The realistic cases above scrub to a fixed
// point.)
TEST(Redaction, Malicious_ScrubberOnPiecesOfCredentials) {
  const std::string_view pieces[] = {
      "Bearer ", "basic ",         "Basic ", "://", ":", "@",    "-----BEGIN ", "RSA ", "PRIVATE KEY",
      "-----",   "-----END ",      "=",      " ",   "/", "dXNl", "abc",         "Q0=",  "\xC3\xA9",
      "\n",      "***REDACTED***", "x"};
  std::mt19937 random(20261205);
  std::uniform_int_distribution<size_t> piece(0, std::size(pieces) - 1);
  std::uniform_int_distribution<int> length(0, 24);
  std::string scratch;
  for (int round = 0; round < 20000; ++round) {
    std::string text;
    for (int n = length(random); n > 0; --n) text += pieces[piece(random)];
    SCOPED_TRACE(text);
    const std::string_view out = scrub_credentials(text, scratch);
    ASSERT_EQ(holds_credentials(text), out.data() != text.data());
    ASSERT_TRUE(valid_utf8(out));
  }
}

// Credentials inside string values: scrubbed whatever the key, in strings
// and every part of an error, before truncate and keep-ends; hash reads the
// value as logged. Without the default rules, values are written as logged.
TEST(Redaction, FormatterScrubsCredentialsFromValues) {
  const Redactor r = make({"truncate prompt 24", "keep-ends api_key 6", "hash fingerprint"});
  CallSiteInfo site;
  site.valid = true;
  site.level = shm::Level::kError;
  site.message = "failed";
  site.fields = {{"note", shm::FieldType::kString},    {"url", shm::FieldType::kString},
                 {"failure", shm::FieldType::kError},  {"prompt", shm::FieldType::kString},
                 {"api_key", shm::FieldType::kString}, {"fingerprint", shm::FieldType::kString},
                 {"who", shm::FieldType::kString}};
  const std::string prompt = "Bearer CANARY-prompt-1 then more words";
  const std::vector<FieldValue> values = {
      str("Authorization: Bearer CANARY-bearer-1"),
      str("postgres://app:CANARY-url-1@db/prod"),
      err("TlsError Basic Q0FOQVJZOmJhc2lj",
          "cannot load -----BEGIN PRIVATE KEY-----\nCANARY-pem-1\n-----END PRIVATE KEY----- from disk",
          "lib.so+0x1 (f+0x2)\n-----BEGIN RSA PRIVATE KEY-----\nCANARY-stack-1"),
      str(prompt),
      str("sk-live Bearer CANARY-keep-1 0123456789"),
      str("Bearer CANARY-hash-1"),
      str("bob")};
  const std::string text = format_event(&r, site, values);
  simdjson::dom::parser parser;
  simdjson::dom::element line;
  ASSERT_EQ(parser.parse(text).get(line), simdjson::SUCCESS) << text;
  EXPECT_EQ(std::string_view(line["note"]), "Authorization: Bearer ***REDACTED***");
  EXPECT_EQ(std::string_view(line["url"]), "postgres://app:***REDACTED***@db/prod");
  EXPECT_EQ(std::string_view(line["failure"]["type"]), "TlsError Basic ***REDACTED***");
  EXPECT_EQ(std::string_view(line["failure"]["message"]),
            "cannot load -----BEGIN PRIVATE KEY-----***REDACTED***-----END PRIVATE KEY----- from disk");
  EXPECT_EQ(std::string_view(line["failure"]["stack"].at(0)), "lib.so+0x1 (f+0x2)");
  EXPECT_EQ(std::string_view(line["failure"]["stack"].at(1)), "-----BEGIN RSA PRIVATE KEY-----***REDACTED***");
  EXPECT_EQ(std::string_view(line["prompt"]), "Bearer ***REDACTED*** th");
  EXPECT_EQ(int64_t(line["_cut"]["prompt"]), static_cast<int64_t>(prompt.size()));
  EXPECT_EQ(std::string_view(line["api_key"]), "sk-liv...456789");  // the rule before the default
  EXPECT_EQ(std::string_view(line["fingerprint"]), r.hash_text("\"Bearer CANARY-hash-1\""));
  EXPECT_EQ(std::string_view(line["who"]), "bob");
  EXPECT_EQ(text.find("CANARY"), std::string::npos) << text;
  EXPECT_EQ(text.find("Q0FOQVJZOmJhc2lj"), std::string::npos) << text;

  // keep-ends keeps the ends of the scrubbed text.
  const Redactor ends = make({"keep-ends header 6"});
  CallSiteInfo one = site;
  one.fields = {{"header", shm::FieldType::kString}};
  const std::string kept = format_event(&ends, one, {str("Bearer CANARY-ends-1")});
  ASSERT_EQ(parser.parse(kept).get(line), simdjson::SUCCESS) << kept;
  EXPECT_EQ(std::string_view(line["header"]), "Bearer...TED***");

  // Off with the default rules: as logged, as without a redactor.
  const Redactor off = make({}, false);
  const std::string as_logged =
      format_event(&off, site, {values[0], values[1], values[2], str("p"), str("k"), values[5], values[6]});
  EXPECT_NE(as_logged.find("CANARY-bearer-1"), std::string::npos);
  EXPECT_NE(as_logged.find("CANARY-pem-1"), std::string::npos);
}

// Values without credentials come out exactly as without redaction (the
// fast path writes them), emails and URLs without passwords included.
TEST(Redaction, PlainValuesAreWrittenAsLogged) {
  const Redactor r = make({});
  CallSiteInfo site;
  site.valid = true;
  site.level = shm::Level::kInfo;
  site.message = "fetch";
  site.fields = {{"who", shm::FieldType::kString},  {"email", shm::FieldType::kString},
                 {"url", shm::FieldType::kString},  {"text", shm::FieldType::kString},
                 {"error", shm::FieldType::kError}, {"tokens", shm::FieldType::kI64}};
  const std::vector<FieldValue> values = {str("bob"),
                                          str("bob@example.com"),
                                          str("https://example.com:8443/a@b?q=1"),
                                          str("a basic test of the bearer \"quoted\" \xC3\xA9\x01"),
                                          err("IoError", "read failed", "lib.so+0x1 (f+0x2)\nlib.so+0x3"),
                                          int64_t{1234}};
  EXPECT_EQ(format_event(&r, site, values), format_event(nullptr, site, values));
}

// Context fields, span names, attributes and outcomes, and note texts are
// scrubbed like event fields.
TEST(Redaction, ContextSpansAndNotesAreScrubbed) {
  const Redactor r = make({});
  ThreadContext context;
  context.version = 1;
  ContextFrame& outer = context.frames.emplace_back();
  outer.fields.push_back({"upstream", shm::FieldType::kString, str("https://svc:CANARY-ctx-1@upstream/x")});
  outer.fields.push_back({"sessionToken", shm::FieldType::kString, str("CANARY-ctx-2")});
  outer.fields.push_back({"region", shm::FieldType::kString, str("eu")});
  ContextFrame& span = context.frames.emplace_back();
  span.depth = 1;
  span.kind = shm::FrameKind::kSpan;
  span.span_name = "fetch Bearer CANARY-span-0";
  span.trace_id = std::string(32, 'a');
  span.span_id = std::string(16, 'b');
  span.fields.push_back({"cert", shm::FieldType::kString,
                         str("-----BEGIN EC PRIVATE KEY-----\nCANARY-span-1\n-----END EC PRIVATE KEY-----")});
  span.fields.push_back({"clientSecret", shm::FieldType::kString, str("CANARY-span-2")});

  CallSiteInfo site;
  site.valid = true;
  site.level = shm::Level::kInfo;
  site.message = "inside";
  site.fields = {{"n", shm::FieldType::kI64}};
  DecodedEvent event;
  event.callsite = &site;
  event.context = &context;
  event.fields.push_back(DecodedField{site.fields[0].name, site.fields[0].type, int64_t{1}});

  EventJsonFormatter formatter(test_identity(), &r);
  ShapedLines shaped;
  const std::string& out = shaped.text;
  formatter.append_event(shaped, event);
  SpanEdge start;
  start.context = &context;
  start.span_index = 1;
  formatter.append_span(shaped, start, 0);
  SpanEdge end = start;
  end.end = true;
  end.outcome.push_back({"status", shm::FieldType::kString, str("ERROR")});
  end.outcome.push_back({"error", shm::FieldType::kError, err("E", "denied for Basic Q0FOQVJZOm91dGNvbWU=", "")});
  formatter.append_span(shaped, end, 0);
  formatter.append_note(shaped, 0, shm::Level::kError, "ringtail.ring_corrupt",
                        {{"slot", uint64_t{1}}, {"reason", std::string_view("x Bearer CANARY-note-1")}});
  testing::check_shapes(shaped);

  EXPECT_EQ(out.find("CANARY"), std::string::npos) << out;
  EXPECT_EQ(out.find("Q0FOQVJZOm91dGNvbWU"), std::string::npos) << out;
  simdjson::dom::parser parser;
  std::vector<std::string> lines;
  for (size_t at = 0; at < out.size();) {
    const size_t newline = out.find('\n', at);
    ASSERT_NE(newline, std::string::npos);
    lines.push_back(out.substr(at, newline - at));
    at = newline + 1;
  }
  ASSERT_EQ(lines.size(), 4u) << out;
  simdjson::dom::element line;
  ASSERT_EQ(parser.parse(lines[0]).get(line), simdjson::SUCCESS) << lines[0];
  EXPECT_EQ(std::string_view(line["upstream"]), "https://svc:***REDACTED***@upstream/x");
  EXPECT_EQ(std::string_view(line["sessionToken"]), kRedactedText);
  EXPECT_EQ(std::string_view(line["region"]), "eu");
  ASSERT_EQ(parser.parse(lines[1]).get(line), simdjson::SUCCESS) << lines[1];
  EXPECT_EQ(std::string_view(line["span"]), "fetch Bearer ***REDACTED***");
  EXPECT_EQ(std::string_view(line["cert"]), "-----BEGIN EC PRIVATE KEY-----***REDACTED***-----END EC PRIVATE KEY-----");
  EXPECT_EQ(std::string_view(line["clientSecret"]), kRedactedText);
  ASSERT_EQ(parser.parse(lines[2]).get(line), simdjson::SUCCESS) << lines[2];
  EXPECT_EQ(std::string_view(line["error"]["message"]), "denied for Basic ***REDACTED***");
  ASSERT_EQ(parser.parse(lines[3]).get(line), simdjson::SUCCESS) << lines[3];
  EXPECT_EQ(std::string_view(line["reason"]), "x Bearer ***REDACTED***");
}

// Canaries in every kind of field, logged by a real producer, read back
// from every file `ringtail drain` wrote (and from `ringtail tail`).
constexpr const char* kCanaries[] = {"CANARY-pw-7f3a",   "CANARY-tok-91c2",   "CANARY-auth-55de",   "CANARY-key-x0x0",
                                     "CANARY-sec-b00b",  "CANARY-email-c0de", "CANARY-prompt-tail", "CANARY-ctx-3e3e",
                                     "CANARY-span-a11a", "CANARY-err-e770",   "CANARY-outcome-0c0c"};
// Under keys of the default word list in other spellings: camelCase, digits,
// kebab, plain words.
constexpr const char* kSpellingCanaries[] = {
    "CANARY-sp-accessToken", "CANARY-sp-clientSecret",  "CANARY-sp-dbPassword", "CANARY-sp-password2",
    "CANARY-sp-x-api-key",   "CANARY-sp-Cookie",        "CANARY-sp-bearer",     "CANARY-sp-credentials",
    "CANARY-sp-private_key", "CANARY-sp-session_token", "CANARY-sp-APIKey",     "CANARY-sp-set-cookie",
    "CANARY-sp-credential",  "CANARY-sp-auth",          "CANARY-sp-pwd",        "CANARY-sp-jwt"};
// Inside values under keys that are no secret: a Bearer header, Basic
// credentials (base64 of "CANARY-val-basic:pw"), a URL's password, private
// key blocks in an error message, a context field and a span attribute, and
// a secret-keyed value that merely looks like a keyed hash.
constexpr const char* kValueCanaries[] = {
    "CANARY-val-bearer", "Q0FOQVJZLXZhbC1iYXNpYzpwdw==", "CANARY-val-urlpw",     "CANARY-val-pem-err",
    "CANARY-val-ctx",    "CANARY-val-pem-span",          "hmac:c0ffeec0ffee0042"};

int log_canaries() {
  int lost = 0;
  for (int i = 0; i < 3; ++i) {
    lost += !RINGTAIL_INFO("login", kv("user", "bob"), kv("password", kCanaries[0]),
                           kv("access_token", std::string(kCanaries[1])), kv("Authorization", kCanaries[2]),
                           kv("api_key", std::string_view(kCanaries[3])));
    lost += !RINGTAIL_WARN("config", kv("client_secret", kCanaries[4]), kv("secret_pin", int64_t{987654321}),
                           kv("token_ttl", std::chrono::seconds(31337)), kv("secret_ratio", 0.123456789),
                           kv("secret_flag", true));
    lost += !RINGTAIL_ERROR("prompt", kv("user_email", kCanaries[5]),
                            kv("prompt", std::string("hello ") + std::string(200, 'x') + kCanaries[6]));
    const char* const* sp = kSpellingCanaries;
    lost += !RINGTAIL_INFO("spellings", kv("accessToken", sp[0]), kv("clientSecret", sp[1]), kv("dbPassword", sp[2]),
                           kv("password2", sp[3]), kv("x-api-key", sp[4]), kv("Cookie", sp[5]), kv("bearer", sp[6]),
                           kv("credentials", sp[7]), kv("private_key", sp[8]), kv("session_token", sp[9]),
                           kv("APIKey", sp[10]), kv("set-cookie", sp[11]), kv("credential", sp[12]), kv("auth", sp[13]),
                           kv("pwd", sp[14]), kv("jwt", sp[15]), kv("input_tokens", int64_t{4321}));
    lost += !RINGTAIL_WARN("upstream", kv("header", std::string("Authorization: Bearer ") + kValueCanaries[0]),
                           kv("basic", std::string("Basic ") + kValueCanaries[1]),
                           kv("dsn", std::string("postgres://app:") + kValueCanaries[2] + "@db.internal/prod"),
                           kv("api_token", kValueCanaries[6]));
    lost += !RINGTAIL_ERROR(
        "tls", kv("failure", ringtail::error("TlsError", std::string("bad key -----BEGIN RSA PRIVATE KEY-----\n") +
                                                             kValueCanaries[3] + "\n-----END RSA PRIVATE KEY-----")));
    // A thread's context and a span's attributes and outcome (its "error",
    // redacted by --redact error), and an error object under a secret key:
    // redacted like any field.
    const ringtail::ScopedContext context{
        kv("user", "bob"), kv("session_token", kCanaries[7]),
        kv("upstream", std::string("https://svc:") + kValueCanaries[4] + "@upstream.internal/v1")};
    ringtail::Span span("call_tool", kv("authorization", kCanaries[8]),
                        kv("cert", std::string("-----BEGIN PRIVATE KEY-----\n") + kValueCanaries[5]));
    lost += !RINGTAIL_ERROR("failed", kv("secret_error", ringtail::error("AuthError", kCanaries[9], 401)));
    span.fail(ringtail::error("ToolError", kCanaries[10]));
  }
  // The one value trusted to be a keyed hash already: breakglass's token_hash.
  lost += !ringtail::agent::breakglass("oncall", "incident", std::chrono::system_clock::time_point{},
                                       "CANARY-breakglass-token", "v", "BLOCK");
  lost += !RINGTAIL_INFO("canaries.done");
  return lost;
}

std::string read_all(const std::filesystem::path& dir) {
  std::string all;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    const std::string name = entry.path().filename().string();
    if (name.ends_with(".jsonl.zst") || name.ends_with(".jsonl")) {
      all += ringtail::test::read_stored_text(entry.path());
    } else {
      std::ifstream in(entry.path(), std::ios::binary);
      all += std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
  }
  return all;
}

// Whether `number` occurs in `text` as a number of its own, not as digits
// inside a longer one (a timestamp's nanoseconds may hold any five digits).
bool has_number(const std::string& text, const std::string& number) {
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  for (size_t at = text.find(number); at != std::string::npos; at = text.find(number, at + 1)) {
    const size_t end = at + number.size();
    if ((at == 0 || !digit(text[at - 1])) && (end == text.size() || !digit(text[end]))) return true;
  }
  return false;
}

// Keeps what a finished tool printed (stdout, then stderr) in `path`, where
// read_all() looks for canaries too.
void keep_output(const ringtail::test::Tool& tool, const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  out << tool.out() << tool.err();
}

TEST(Redaction, CanariesReachNoOutput) {
  ASSERT_TRUE(ringtail::test::tool_built("ringtail"));
  ringtail::Options options;
  options.service = "canary-" + std::to_string(::getpid());
  ringtail::test::ProducerChild child =
      ringtail::test::ProducerChild::start(options, [](ringtail::test::ProducerChild::Link& link) {
        const int lost = log_canaries();
        link.signal();
        link.wait();
        return lost;
      });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_TRUE(child.wait_signal());
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("ringtail-canary-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string pid = std::to_string(child.pid());

  // tail (peek) while the producer lives: stopped by the timeout's SIGINT equivalent below.
  const std::string tail_out = (dir / "tail.out").string();
  {
    ringtail::test::Tool tail(
        {"tail", "--pid", pid, "--hash", "user_email", "--truncate", "prompt=20", "--redact", "error"});
    // Until tail has shown the producer's last event.
    EXPECT_TRUE(tail.wait_for_out("\"message\":\"canaries.done\"", 60000)) << tail.err();
    ASSERT_TRUE(ringtail::test::wait_until_ready_for(tail.pid(), SIGTERM));
    tail.signal(SIGTERM);
    (void)tail.wait(60000);
    keep_output(tail, tail_out);
  }
  ASSERT_TRUE(child.resume());
  ASSERT_EQ(child.join(), 0);
  const std::string store = (dir / "store").string();
  {
    ringtail::test::Tool drain({"drain", "--once", "--out", store, "--pid", pid, "--hash", "user_email", "--truncate",
                                "prompt=20", "--redact", "error"});
    ASSERT_EQ(drain.wait(), 0) << drain.err();
    keep_output(drain, (dir / "drain.out").string());
  }
  {
    std::ifstream in(tail_out);
    const std::string tailed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_NE(tailed.find("\"user\":\"bob\""), std::string::npos) << "tail showed no event: " << tailed;
  }
  const std::string everything = read_all(dir);
  EXPECT_NE(everything.find("\"user\":\"bob\""), std::string::npos) << "no event reached the output";
  EXPECT_NE(everything.find("hmac:"), std::string::npos);
  EXPECT_NE(everything.find("***REDACTED***"), std::string::npos);
  EXPECT_NE(everything.find("\"input_tokens\":4321"), std::string::npos) << "a count is no secret";
  const size_t token_hash = everything.find("\"token_hash\":\"hmac:");
  ASSERT_NE(token_hash, std::string::npos) << "breakglass's keyed hash passes as it is";
  EXPECT_TRUE(is_keyed_hash(everything.substr(token_hash + 14, 21)));
  EXPECT_EQ(everything.find("CANARY-breakglass-token"), std::string::npos);
  EXPECT_NE(everything.find("Authorization: Bearer ***REDACTED***"), std::string::npos);
  EXPECT_NE(everything.find("postgres://app:***REDACTED***@db.internal/prod"), std::string::npos);
  for (const char* canary : kCanaries) EXPECT_EQ(everything.find(canary), std::string::npos) << canary;
  for (const char* canary : kSpellingCanaries) EXPECT_EQ(everything.find(canary), std::string::npos) << canary;
  for (const char* canary : kValueCanaries) EXPECT_EQ(everything.find(canary), std::string::npos) << canary;
  for (const char* number : {"987654321", "31337", "0.123456789"}) {
    EXPECT_FALSE(has_number(everything, number)) << number;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ringtail::reader
