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
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "bin_dir.hpp"
#include "fork_child.hpp"
#include "producer_child.hpp"
#include "ringtail/reader/output/event_json.hpp"
#include "ringtail/ringtail.hpp"
#include "stored_files.hpp"

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

// A value that already is a keyed hash (a breakglass token_hash) passes the
// default rule and hash rules as it is; an explicit redact rule still applies.
TEST(Redaction, KeyedHashValuesPassDefaultsAndHashRules) {
  EXPECT_TRUE(is_keyed_hash("hmac:0123456789abcdef"));
  EXPECT_FALSE(is_keyed_hash("hmac:0123456789ABCDEF"));
  EXPECT_FALSE(is_keyed_hash("hmac:0123456789abcde"));
  EXPECT_FALSE(is_keyed_hash("hmac:0123456789abcdefa"));
  EXPECT_FALSE(is_keyed_hash("hunter2"));
  SegmentIdentity identity;
  identity.service = "svc";
  identity.clock.realtime = true;
  CallSiteInfo site;
  site.valid = true;
  site.level = shm::Level::kWarn;
  site.message = "breakglass";
  site.fields = {{"token_hash", shm::FieldType::kString},
                 {"user_token", shm::FieldType::kString},
                 {"secret", shm::FieldType::kString}};
  DecodedEvent event;
  event.callsite = &site;
  const std::string values[] = {"hmac:00ff00ff00ff00ff", "hmac:1234", "hmac:aaaabbbbccccdddd"};
  for (size_t i = 0; i < site.fields.size(); ++i) {
    StringValue v;
    v.bytes = values[i];
    v.original_bytes = static_cast<uint32_t>(values[i].size());
    // The name points into the call site, which outlives the event.
    event.fields.push_back(DecodedField{site.fields[i].name, site.fields[i].type, v});
  }
  for (const bool explicit_redact : {false, true}) {
    SCOPED_TRACE(explicit_redact);
    const Redactor r = make(explicit_redact ? std::vector<std::string>{"redact secret"} : std::vector<std::string>{});
    EventJsonFormatter formatter(identity, &r);
    std::string out;
    formatter.append_event(out, event);
    simdjson::dom::parser parser;
    simdjson::dom::element line;
    ASSERT_EQ(parser.parse(out).get(line), simdjson::SUCCESS) << out;
    EXPECT_EQ(std::string_view(line["token_hash"]), "hmac:00ff00ff00ff00ff");
    EXPECT_EQ(std::string_view(line["user_token"]), kRedactedText) << "not a whole keyed hash";
    EXPECT_EQ(std::string_view(line["secret"]), explicit_redact ? kRedactedText : "hmac:aaaabbbbccccdddd");
  }
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
  std::string a, b;
  cached.append_event(a, event);
  DecodedEvent plain = event;
  plain.callsite_id = UINT32_MAX;
  uncached.append_event(b, plain);
  EXPECT_EQ(a, b);
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
    // A thread's context and a span's attributes and outcome (its "error",
    // redacted by --redact error), and an error object under a secret key:
    // redacted like any field.
    const ringtail::ScopedContext context{kv("user", "bob"), kv("session_token", kCanaries[7])};
    ringtail::Span span("call_tool", kv("authorization", kCanaries[8]));
    lost += !RINGTAIL_ERROR("failed", kv("secret_error", ringtail::error("AuthError", kCanaries[9], 401)));
    span.fail(ringtail::error("ToolError", kCanaries[10]));
  }
  lost += !RINGTAIL_INFO("canaries.done");
  return lost;
}

// Waits until the file at `path` holds `text` (true), or `timeout` passes.
bool wait_for_text(const std::string& path, std::string_view text, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::ifstream in(path);
    const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (all.find(text) != std::string::npos) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
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

int run_tool(const std::vector<std::string>& args, const std::string& out_path) {
  const std::string path = ringtail::test::tool_path("ringtail");
  ringtail::test::ForkedChild child = ringtail::test::ForkedChild::start([&](ringtail::test::ChildChannel&) {
    const int fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    std::vector<std::string> all = {path};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(path.c_str(), argv.data());
    return 127;
  });
  return child.finish(120000).exit_code();
}

TEST(Redaction, CanariesReachNoOutput) {
  if (!std::filesystem::exists(ringtail::test::tool_path("ringtail"))) GTEST_SKIP() << "ringtail is not built";
  ringtail::Options options;
  options.service = "canary-" + std::to_string(::getpid());
  ringtail::testing::ProducerChild child =
      ringtail::testing::ProducerChild::start(options, [](ringtail::testing::ProducerChild::Link& link) {
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
    ringtail::test::ForkedChild tail = ringtail::test::ForkedChild::start([&](ringtail::test::ChildChannel&) {
      const int fd = ::open(tail_out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      const std::string path = ringtail::test::tool_path("ringtail");
      std::vector<std::string> all = {path,         "tail",       "--pid",     pid,        "--hash",
                                      "user_email", "--truncate", "prompt=20", "--redact", "error"};
      std::vector<char*> argv;
      for (std::string& a : all) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(path.c_str(), argv.data());
      return 127;
    });
    // Until tail has shown the producer's last event.
    EXPECT_TRUE(wait_for_text(tail_out, "\"message\":\"canaries.done\"", std::chrono::seconds(60)));
    ::kill(tail.pid(), SIGTERM);
    (void)tail.finish(60000);
  }
  ASSERT_TRUE(child.resume());
  ASSERT_EQ(child.join(), 0);
  const std::string store = (dir / "store").string();
  ASSERT_EQ(run_tool({"drain", "--once", "--out", store, "--pid", pid, "--hash", "user_email", "--truncate",
                      "prompt=20", "--redact", "error"},
                     (dir / "drain.out").string()),
            0);
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
  for (const char* canary : kCanaries) EXPECT_EQ(everything.find(canary), std::string::npos) << canary;
  for (const char* canary : kSpellingCanaries) EXPECT_EQ(everything.find(canary), std::string::npos) << canary;
  for (const char* number : {"987654321", "31337", "0.123456789"}) {
    EXPECT_EQ(everything.find(number), std::string::npos) << number;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ringtail::reader
