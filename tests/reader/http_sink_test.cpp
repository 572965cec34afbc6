// `ringtail drain --sink http://...` (the real tool) against a test collector
// (http_receiver.py, Python's http.server on a free loopback port): every
// stored line arrives once as NDJSON with the --sink-header headers, which
// are never printed; 5xx and 429 answers are retried (Retry-After honoured)
// until the lines arrive; a collector that accepts and never answers costs
// the store nothing and its losses are counted; and the URI and header
// parsers' errors. No wall-clock assertions: waits have deadlines only.
#include <signal.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "eventually.hpp"
#include "http_collector.hpp"
#include "producer_child.hpp"
#include "ringtail/reader/sinks/http_sink.hpp"
#include "ringtail/ringtail.hpp"
#include "stored_files.hpp"
#include "subprocess.hpp"

namespace ringtail::reader {
namespace {

using Collector = ringtail::test::HttpCollector;

using ringtail::kv;
using ringtail::test::ProducerChild;

constexpr int kEvents = 200;
constexpr const char* kToken = "Bearer s3cr3t-t0ken-value";

struct Received {
  std::vector<std::string> lines;  // of every accepted body, in order
  size_t refused = 0;
  bool all_ndjson = true;
  bool all_authorized = true;
  std::string path;
};

Received received(const Collector& collector) {
  Received out;
  out.refused = collector.each_accepted([&](simdjson::dom::element entry) {
    out.all_ndjson = out.all_ndjson && entry["content_type"].get_string().value_unsafe() == "application/x-ndjson";
    out.all_authorized = out.all_authorized && entry["authorization"].get_string().value_unsafe() == kToken;
    out.path = std::string(entry["path"].get_string().value_unsafe());
    std::istringstream body{std::string(entry["body"].get_string().value_unsafe())};
    for (std::string line; std::getline(body, line);) out.lines.push_back(line);
  });
  return out;
}

class HttpSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/ringtail-http-sink-XXXXXX";
    ASSERT_NE(::mkdtemp(templ), nullptr);
    dir_ = templ;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A finished producer of kEvents events (one of them with a secret, which
  // the default redaction takes out before any sink sees it).
  ProducerChild producer() {
    ringtail::Options options;
    options.service = "http-sink";
    return ProducerChild::start(options, [](ProducerChild::Link&) {
      int lost = 0;
      for (int i = 0; i < kEvents; ++i) {
        lost += !RINGTAIL_INFO("step", kv("i", i), kv("text", "q\"uote\\ \xC3\xA9"), kv("api_key", "hunter2"));
      }
      return lost;
    });
  }

  struct Drained {
    int status = -1;
    std::string out, err;
    std::string store;  // the --out directory under `dir`
  };
  // A finished producer's events drained by `ringtail drain --once` into a
  // store under `dir` and to `url`, with `more` arguments.
  Drained drain_to(const std::filesystem::path& dir, const std::string& url, std::vector<std::string> more = {}) {
    Drained result;
    ProducerChild child = producer();
    EXPECT_TRUE(child.ok()) << child.error();
    EXPECT_EQ(child.join(), 0);
    result.store = (dir / "store").string();
    std::vector<std::string> args = {"drain", "--once",     "--pid",  std::to_string(child.pid()),
                                     "--out", result.store, "--sink", url};
    args.insert(args.end(), more.begin(), more.end());
    ringtail::test::Tool drain(args);
    result.status = drain.wait();
    result.out = drain.out();
    result.err = drain.err();
    return result;
  }

  std::filesystem::path dir_;
};

const std::vector<std::string> kAuthorization = {"--sink-header", std::string("Authorization: ") + kToken};

TEST_F(HttpSinkTest, EveryLineArrivesOnceAsNdjsonWithTheHeadersWhichAreNeverPrinted) {
  Collector collector(dir_, {});
  const uint16_t port = collector.port();
  ASSERT_NE(port, 0);
  const Drained drain = drain_to(dir_, "http://127.0.0.1:" + std::to_string(port) + "/v1/ingest", kAuthorization);
  ASSERT_EQ(drain.status, 0) << drain.err;
  const std::vector<std::string> stored = ringtail::test::read_stored_lines(drain.store);
  ASSERT_EQ(stored.size(), static_cast<size_t>(kEvents));
  const Received got = received(collector);
  EXPECT_EQ(got.lines, stored);  // once each, in the store's order
  EXPECT_EQ(got.path, "/v1/ingest");
  EXPECT_TRUE(got.all_ndjson);
  EXPECT_TRUE(got.all_authorized);
  for (const std::string& line : got.lines) ASSERT_EQ(line.find("hunter2"), std::string::npos) << line;
  EXPECT_EQ(drain.out.find("s3cr3t"), std::string::npos) << drain.out;
  EXPECT_EQ(drain.err.find("s3cr3t"), std::string::npos) << drain.err;
  EXPECT_NE(drain.out.find(std::to_string(kEvents) + " lines sent"), std::string::npos) << drain.out;
}

TEST_F(HttpSinkTest, ServerErrorsAndTooManyRequestsAreRetriedUntilTheLinesArrive) {
  for (const std::vector<std::string>& flags :
       {std::vector<std::string>{"--fail", "2", "--status", "503"},
        std::vector<std::string>{"--fail", "1", "--status", "429", "--retry-after", "1"}}) {
    SCOPED_TRACE(flags[3]);
    const std::filesystem::path dir = dir_ / flags[3];
    std::filesystem::create_directories(dir);
    Collector collector(dir, flags);
    const uint16_t port = collector.port();
    ASSERT_NE(port, 0);
    const Drained drain = drain_to(dir, "http://127.0.0.1:" + std::to_string(port) + "/", kAuthorization);
    ASSERT_EQ(drain.status, 0) << drain.err;
    const Received got = received(collector);
    EXPECT_EQ(got.refused, static_cast<size_t>(std::stoi(flags[1])));
    EXPECT_EQ(got.lines, ringtail::test::read_stored_lines(drain.store));
    EXPECT_NE(drain.out.find(flags[1] + " requests sent again"), std::string::npos) << drain.out;
  }
}

TEST_F(HttpSinkTest, ACollectorThatNeverAnswersCostsTheStoreNothingAndIsCounted) {
  Collector collector(dir_, {"--hang"});
  const uint16_t port = collector.port();
  ASSERT_NE(port, 0);
  const Drained drain = drain_to(dir_, "http://127.0.0.1:" + std::to_string(port) + "/");
  ASSERT_EQ(drain.status, 0) << drain.err;
  EXPECT_EQ(ringtail::test::read_stored_lines(drain.store).size(), static_cast<size_t>(kEvents));
  EXPECT_NE(drain.out.find(": 0 lines sent"), std::string::npos) << drain.out;
  EXPECT_NE(drain.out.find(std::to_string(kEvents) + " in failed writes"), std::string::npos) << drain.out;
  EXPECT_NE(drain.err.find("POST http://127.0.0.1:" + std::to_string(port) + "/"), std::string::npos) << drain.err;
}

TEST(HttpSinkParse, UrisAndHeaders) {
  absl::StatusOr<HttpTarget> t = parse_http_uri("https://collector.example:8443/v1/logs");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_TRUE(t->https);
  EXPECT_EQ(t->host, "collector.example");
  EXPECT_EQ(t->port, 8443);
  EXPECT_EQ(t->path, "/v1/logs");
  t = parse_http_uri("http://[::1]");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->host, "::1");
  EXPECT_EQ(t->port, 80);
  EXPECT_EQ(t->path, "/");
  for (const char* bad :
       {"ftp://x/", "http://", "http://h:0/", "http://h:70000/", "http://[::1/", "http://h/with space"}) {
    EXPECT_FALSE(parse_http_uri(bad).ok()) << bad;
  }
  // A password in the URI is refused without being repeated.
  const absl::StatusOr<HttpTarget> with_password = parse_http_uri("http://user:pa55word@h/");
  ASSERT_FALSE(with_password.ok());
  EXPECT_EQ(with_password.status().message().find("pa55word"), std::string_view::npos) << with_password.status();

  const auto header = parse_http_header("X-Api-Key:   abc def ");
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_EQ(header->first, "X-Api-Key");
  EXPECT_EQ(header->second, "abc def");
  for (const char* bad : {"no colon", ": value", "Bad Name: v", "Name: a\r\nInjected: b"}) {
    const auto rejected = parse_http_header(bad);
    ASSERT_FALSE(rejected.ok()) << bad;
    EXPECT_EQ(rejected.status().message().find("Injected: b"), std::string_view::npos) << rejected.status();
  }
}

}  // namespace
}  // namespace ringtail::reader
