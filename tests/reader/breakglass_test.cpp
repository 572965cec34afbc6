// The breakglass event (ringtail::agent::breakglass) through a real producer
// and the reader's drain: the token never reaches the output, only
// token_hash, which is HMAC-SHA256 of the token's JSON text under the
// producer's key (Options::hash_key, RINGTAIL_HASH_KEY_FILE) and equals what
// the reader's `hash` redaction rule writes for the same token and key.
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "drain_test_support.hpp"
#include "producer_child.hpp"
#include "ringtail/reader/drain/drain_engine.hpp"
#include "ringtail/reader/output/json_text.hpp"
#include "ringtail/reader/output/redaction.hpp"
#include "ringtail/ringtail.hpp"

namespace ringtail::reader {
namespace {

using ringtail::test::ProducerChild;
using testing::Line;
using testing::MemorySink;
using testing::parse_lines;
using testing::with_message;
namespace agent = ringtail::agent;

// Any bytes make a key: a NUL and 0xff included.
constexpr std::string_view kKey("breakglass-test-key\x00\xff-0123456789", 32);

// Quotes, a backslash, controls with and without a short escape, UTF-8: the
// JSON text differs from the bytes in every way the reader escapes.
const std::string kTokenA = "sk-BREAKGLASS-ALPHA-\"q\"\\p\n\x01\x1f\x7f-\xc3\xa9\xe2\x82\xac";
const std::string kTokenB = "sk-BREAKGLASS-BRAVO-0042";

// 2026-11-30T18:00:00.123456Z: written with milliseconds, rounded down.
std::chrono::system_clock::time_point expiry() {
  using namespace std::chrono;
  return sys_days{year{2026} / 11 / 30} + hours{18} + microseconds{123'456};
}

// "hmac:" and the first 8 bytes of HMAC-SHA256(key, text), in lowercase hex.
std::string expected_hash(std::string_view key, std::string_view json_text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  ::HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(json_text.data()), json_text.size(), digest, &length);
  std::string out = "hmac:";
  char hex[3];
  for (unsigned i = 0; i < 8 && i < length; ++i) {
    std::snprintf(hex, sizeof(hex), "%02x", digest[i]);
    out += hex;
  }
  return out;
}

// The reader's JSON text of a string, quotes included.
std::string reader_json(std::string_view bytes) {
  std::string text;
  append_json_string(text, bytes);
  return text;
}

// Every top-level string field of a JSONL line.
std::map<std::string, std::string> string_fields(const std::string& raw) {
  std::map<std::string, std::string> fields;
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  if (parser.parse(raw).get(object) != simdjson::SUCCESS) {
    ADD_FAILURE() << "not a JSON object: " << raw;
    return fields;
  }
  for (simdjson::dom::key_value_pair kv : object) {
    std::string_view value;
    if (kv.value.get(value) == simdjson::SUCCESS) fields[std::string(kv.key)] = std::string(value);
  }
  return fields;
}

// Drains the (exited) child's segment through the reader library.
std::string drain(const ProducerChild& child, std::shared_ptr<const Redactor> redactor = nullptr) {
  MemorySink sink;
  DrainOptions options;
  options.discovery.pids = {child.pid()};
  options.redactor = std::move(redactor);
  DrainEngine engine(options, sink, nullptr);
  EXPECT_TRUE(engine.drain_once().ok());
  return sink.text;
}

// Runs a producer that logs one breakglass event per token, and drains it.
std::vector<std::map<std::string, std::string>> breakglass_events(const Options& options,
                                                                  const std::vector<std::string>& tokens) {
  ProducerChild child = ProducerChild::start(options, [&tokens](ProducerChild::Link&) {
    int lost = 0;
    for (const std::string& token : tokens) {
      lost += !agent::breakglass("oncall@example.com", "incident 42", expiry(), token, "path_validator,egress",
                                 "BLOCK,WARN");
    }
    return lost;
  });
  EXPECT_TRUE(child.ok()) << child.error();
  EXPECT_EQ(child.join(), 0);
  const std::string text = drain(child);
  std::vector<std::map<std::string, std::string>> events;
  for (const Line& line : with_message(parse_lines(text), "breakglass")) events.push_back(string_fields(line.raw));
  EXPECT_EQ(events.size(), tokens.size()) << text;
  return events;
}

TEST(Breakglass, WritesTheTokenOnlyAsItsKeyedHash) {
  Options options;
  options.service = "breakglass";
  options.max_threads = 2;
  options.hash_key = std::string(kKey);
  ProducerChild child = ProducerChild::start(options, [](ProducerChild::Link&) {
    int lost = 0;
    lost += !agent::breakglass("oncall@example.com", "incident 42: validator false positive", expiry(), kTokenA,
                               "path_validator,egress", "BLOCK,WARN");
    lost += !agent::breakglass("lead@example.com", "still incident 42", expiry(), kTokenA, "path_validator", "BLOCK");
    lost += !agent::breakglass("oncall@example.com", "another activation", expiry(), kTokenB, "", "");
    return lost;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 0);
  const std::string text = drain(child);
  const std::vector<Line> lines = parse_lines(text);
  ASSERT_EQ(lines.size(), 3u) << text;

  // Neither token, in any form, is anywhere in the output.
  for (const std::string& token : {kTokenA, kTokenB}) {
    EXPECT_EQ(text.find(token), std::string::npos);
    const std::string json = reader_json(token);
    EXPECT_EQ(text.find(json.substr(1, json.size() - 2)), std::string::npos);
  }
  EXPECT_EQ(text.find("BREAKGLASS-ALPHA"), std::string::npos) << text;
  EXPECT_EQ(text.find("BREAKGLASS-BRAVO"), std::string::npos) << text;

  std::vector<std::map<std::string, std::string>> fields;
  for (const Line& line : lines) {
    EXPECT_EQ(line.message, "breakglass");
    EXPECT_EQ(line.level, "WARN");
    fields.push_back(string_fields(line.raw));
  }
  EXPECT_EQ(fields[0]["enabled_by"], "oncall@example.com");
  EXPECT_EQ(fields[0]["reason"], "incident 42: validator false positive");
  EXPECT_EQ(fields[0]["expires_at"], "2026-11-30T18:00:00.123Z");
  EXPECT_EQ(fields[0]["affected_validators"], "path_validator,egress");
  EXPECT_EQ(fields[0]["affected_decisions"], "BLOCK,WARN");
  EXPECT_EQ(fields[1]["enabled_by"], "lead@example.com");
  EXPECT_EQ(fields[1]["reason"], "still incident 42");
  EXPECT_EQ(fields[1]["affected_validators"], "path_validator");
  EXPECT_EQ(fields[1]["affected_decisions"], "BLOCK");
  EXPECT_EQ(fields[2]["affected_validators"], "");
  EXPECT_EQ(fields[2]["affected_decisions"], "");
  for (const auto& f : fields) EXPECT_EQ(f.count("token"), 0u);

  // The hash: over the JSON text of the token, as the reader writes it.
  const std::string hash_a = expected_hash(kKey, reader_json(kTokenA));
  const std::string hash_b = expected_hash(kKey, reader_json(kTokenB));
  EXPECT_EQ(hash_a.size(), 21u);
  EXPECT_EQ(fields[0]["token_hash"], hash_a);
  EXPECT_EQ(fields[1]["token_hash"], hash_a);
  EXPECT_EQ(fields[2]["token_hash"], hash_b);
  EXPECT_NE(hash_a, hash_b);
  // Spelled out once, independently of the reader's writer.
  EXPECT_EQ(fields[0]["token_hash"],
            expected_hash(kKey, "\"sk-BREAKGLASS-ALPHA-\\\"q\\\"\\\\p\\n\\u0001\\u001f\x7f-\xc3\xa9\xe2\x82\xac\""));
}

// A token logged as a plain field and hashed by the reader's `hash` rule, with
// the same key, comes out as the producer's token_hash of it.
TEST(Breakglass, HashEqualsTheReadersHashRedaction) {
  const std::vector<std::string> tokens = {kTokenA, kTokenB, "", "plain", "tab\there", "\xf0\x9f\x94\x91-key"};
  Options options;
  options.service = "breakglass";
  options.max_threads = 2;
  options.hash_key = std::string(kKey);
  ProducerChild child = ProducerChild::start(options, [&tokens](ProducerChild::Link&) {
    int lost = 0;
    for (const std::string& token : tokens) {
      lost += !agent::breakglass("oncall", "why", expiry(), token, "v", "BLOCK");
      lost += !RINGTAIL_INFO("presented", ringtail::kv("token", token));
    }
    return lost;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 0);
  const std::string key(kKey);
  auto hmac = [key](std::string_view text) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    ::HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(text.data()),
           text.size(), digest, &length);
    return std::string(reinterpret_cast<const char*>(digest), length);
  };
  absl::StatusOr<RedactionRule> rule = parse_redaction_rule("hash token");
  ASSERT_TRUE(rule.ok());
  auto redactor = std::make_shared<const Redactor>(std::vector<RedactionRule>{*rule}, false, hmac);
  const std::string text = drain(child, redactor);
  const std::vector<Line> breakglass = with_message(parse_lines(text), "breakglass");
  const std::vector<Line> presented = with_message(parse_lines(text), "presented");
  ASSERT_EQ(breakglass.size(), tokens.size()) << text;
  ASSERT_EQ(presented.size(), tokens.size()) << text;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const std::string producer = string_fields(breakglass[i].raw)["token_hash"];
    const std::string reader = string_fields(presented[i].raw)["token"];
    EXPECT_EQ(producer, reader) << "token " << i;
    EXPECT_EQ(producer.rfind("hmac:", 0), 0u) << producer;
  }
}

TEST(Breakglass, WithoutAKeyEachProcessHashesWithItsOwn) {
  Options options;
  options.max_threads = 2;
  const auto first = breakglass_events(options, {kTokenB, kTokenB});
  const auto second = breakglass_events(options, {kTokenB});
  ASSERT_EQ(first.size(), 2u);
  ASSERT_EQ(second.size(), 1u);
  const std::string hash = first[0].at("token_hash");
  EXPECT_EQ(hash.size(), 21u);
  EXPECT_EQ(hash.rfind("hmac:", 0), 0u);
  EXPECT_EQ(first[1].at("token_hash"), hash);   // one key within a process
  EXPECT_NE(second[0].at("token_hash"), hash);  // a random key per process
}

class HashKeyFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/ringtail-hash-key-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
  }
  void TearDown() override {
    ::unsetenv("RINGTAIL_HASH_KEY_FILE");
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string write(const std::string& name, std::string_view bytes) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return path;
  }
  std::string dir_;
};

TEST_F(HashKeyFile, IsTheKeyOfTheHash) {
  ::setenv("RINGTAIL_HASH_KEY_FILE", write("key", kKey).c_str(), 1);
  absl::StatusOr<Options> options = options_from_env();
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->hash_key, kKey);  // every byte, NUL and 0xff included
  options->max_threads = 2;
  const auto events = breakglass_events(*options, {kTokenA});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].at("token_hash"), expected_hash(kKey, reader_json(kTokenA)));
}

TEST_F(HashKeyFile, EmptyOrMissingIsAnErrorNamingTheVariable) {
  for (const std::string& path : {write("empty", ""), dir_ + "/missing"}) {
    ::setenv("RINGTAIL_HASH_KEY_FILE", path.c_str(), 1);
    absl::StatusOr<Options> options = options_from_env();
    ASSERT_FALSE(options.ok()) << path;
    EXPECT_EQ(options.status().code(), absl::StatusCode::kInvalidArgument) << options.status();
    EXPECT_NE(options.status().message().find("RINGTAIL_HASH_KEY_FILE"), std::string_view::npos) << options.status();
  }
}

// This test process never calls init(): there is no key to hash with.
TEST(Breakglass, TokenHashIsUnavailableBeforeInit) {
  char out[ringtail::detail::kTokenHashChars];
  EXPECT_EQ(ringtail::detail::token_hash(kTokenA, out), "hmac:unavailable");
}

TEST(Breakglass, ExpiryIsRfc3339UtcWithMilliseconds) {
  using namespace std::chrono;
  auto text = [](system_clock::time_point time) {
    char out[ringtail::detail::kUtcMillisChars];
    ringtail::detail::format_utc_millis(time, out);
    return std::string(out, sizeof(out));
  };
  EXPECT_EQ(text(system_clock::time_point{}), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(text(expiry()), "2026-11-30T18:00:00.123Z");
  EXPECT_EQ(text(sys_days{year{2024} / 2 / 29} + hours{23} + minutes{59} + seconds{59} + milliseconds{999}),
            "2024-02-29T23:59:59.999Z");
  // Before 1970: rounded down to the millisecond it falls in.
  EXPECT_EQ(text(system_clock::time_point{} - microseconds{1}), "1969-12-31T23:59:59.999Z");
}

}  // namespace
}  // namespace ringtail::reader
