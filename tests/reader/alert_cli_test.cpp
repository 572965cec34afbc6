// `ringtail drain --alert ... --alert-to ...` (the real tool, with --pid so
// that it drains only the test's producer): a producer logs policy.check
// denials (ringtail::agent::policy_check) and errors; webhooks go to a test
// collector (http_receiver.py), syslog alerts to a Unix datagram socket the
// test binds. Checked: the payload's fields and the redacted event, one
// notification per window, COUNT/WINDOW thresholds, a webhook answering 500
// retried then counted while the store keeps every event, an RFC 5424
// message, the summary, and the usage errors. No wall-clock assertions:
// waits have deadlines only.
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "eventually.hpp"
#include "http_collector.hpp"
#include "producer_child.hpp"
#include "ringtail/ringtail.hpp"
#include "stored_files.hpp"
#include "subprocess.hpp"
#include "syslog_text.hpp"

namespace ringtail::reader {
namespace {

using ringtail::kv;
using ringtail::test::ProducerChild;

constexpr int kDenials = 5;
constexpr int kAllowed = 3;
constexpr int kErrors = 9;
constexpr const char* kSecret = "Bearer s3cr3tT0kenValue";  // the default redaction cuts it out
constexpr const char* kHookPath = "/hooks/T0/B0/s3cr3t-path";

using Collector = ringtail::test::HttpCollector;

// The collector's webhook URL.
std::string url(Collector& collector) { return "http://127.0.0.1:" + std::to_string(collector.port()) + kHookPath; }

// An accepted POST: what the collector saw, and the body's members.
struct Hook {
  std::string path, content_type, authorization, body;
  std::string rule, where, window, first, last, event;
  uint64_t count = 0;
};

std::vector<Hook> accepted(const Collector& collector, size_t* refused = nullptr) {
  std::vector<Hook> out;
  simdjson::dom::parser inner;
  const size_t refusals = collector.each_accepted([&](simdjson::dom::element entry) {
    Hook hook;
    std::string_view s;
    if (entry["path"].get(s) == simdjson::SUCCESS) hook.path = s;
    if (entry["content_type"].get(s) == simdjson::SUCCESS) hook.content_type = s;
    if (entry["authorization"].get(s) == simdjson::SUCCESS) hook.authorization = s;
    if (entry["body"].get(s) == simdjson::SUCCESS) hook.body = s;
    simdjson::dom::element body;
    if (inner.parse(hook.body).get(body) != simdjson::SUCCESS) {
      ADD_FAILURE() << "a webhook body is not JSON: " << hook.body;
      return;
    }
    if (body["rule"].get(s) == simdjson::SUCCESS) hook.rule = s;
    if (body["where"].get(s) == simdjson::SUCCESS) hook.where = s;
    if (body["window"].get(s) == simdjson::SUCCESS) hook.window = s;
    if (body["first"].get(s) == simdjson::SUCCESS) hook.first = s;
    if (body["last"].get(s) == simdjson::SUCCESS) hook.last = s;
    if (body["count"].get(hook.count) != simdjson::SUCCESS) hook.count = 0;
    simdjson::dom::element event;
    if (body["event"].get(event) == simdjson::SUCCESS) hook.event = simdjson::minify(event);
    out.push_back(std::move(hook));
  });
  if (refused != nullptr) *refused += refusals;
  return out;
}

// A stored line as simdjson writes it back (so that it compares with a payload's event).
std::string minified(const std::string& line) {
  simdjson::dom::parser parser;
  simdjson::dom::element element;
  EXPECT_EQ(parser.parse(line).get(element), simdjson::SUCCESS) << line;
  return simdjson::minify(element);
}

// The string value of `key` in a stored line ("" if none).
std::string field(const std::string& line, const char* key) {
  simdjson::dom::parser parser;
  simdjson::dom::element element;
  std::string_view value;
  if (parser.parse(line).get(element) != simdjson::SUCCESS || element[key].get(value) != simdjson::SUCCESS) return {};
  return std::string(value);
}

class AlertCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/ringtail-alert-cli-XXXXXX";
    ASSERT_NE(::mkdtemp(templ), nullptr);
    dir_ = templ;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A finished producer: kDenials denials (their reason holding a secret),
  // kAllowed allowed checks, kErrors errors and some INFO steps.
  static ProducerChild producer() {
    ringtail::Options options;
    options.service = "alert-agent";
    return ProducerChild::start(options, [](ProducerChild::Link&) {
      using ringtail::agent::Decision;
      int lost = 0;
      const auto count = [&lost](bool committed) {
        if (!committed) ++lost;
      };
      for (int i = 0; i < 20; ++i) count(RINGTAIL_INFO("step", kv("i", i)));
      for (int i = 0; i < kDenials; ++i) {
        count(ringtail::agent::policy_check("fs.workspace_only", "path_validator", Decision::kBlock,
                                            std::string("token ") + kSecret + " outside the workspace"));
        if (i < kAllowed) {
          count(ringtail::agent::policy_check("fs.workspace_only", "path_validator", Decision::kAllow, "ok"));
        }
      }
      for (int i = 0; i < kErrors; ++i) count(RINGTAIL_ERROR("tool failed", kv("attempt", i)));
      return lost;
    });
  }

  struct Drained {
    int status = -1;
    std::string out, err, store;
  };
  // The producer's events drained by `ringtail drain --once` into a store
  // under dir_, with `more` arguments (the --alert and --alert-to).
  Drained drain(const std::vector<std::string>& more) {
    Drained result;
    ProducerChild child = producer();
    EXPECT_TRUE(child.ok()) << child.error();
    EXPECT_EQ(child.join(), 0);
    result.store = (dir_ / "store").string();
    std::vector<std::string> args = {"drain", "--once", "--pid", std::to_string(child.pid()), "--out", result.store};
    args.insert(args.end(), more.begin(), more.end());
    ringtail::test::Tool tool(args);
    result.status = tool.wait();
    result.out = tool.out();
    result.err = tool.err();
    return result;
  }

  std::filesystem::path dir_;
};

TEST_F(AlertCliTest, AWebhookGetsOneNotificationPerWindowWithTheStoredRedactedEvent) {
  Collector collector(dir_, {});
  ASSERT_NE(collector.port(), 0);
  const Drained drained = drain({"--alert", "denied=message=policy.check,allow=false", "--alert-to", url(collector),
                                 "--sink-header", "Authorization: Bearer hook-token"});
  ASSERT_EQ(drained.status, 0) << drained.err;
  const std::vector<std::string> stored = ringtail::test::read_stored_lines(drained.store);
  std::vector<std::string> denials;
  for (const std::string& line : stored) {
    if (field(line, "message") == "policy.check" && field(line, "decision") == "BLOCK") denials.push_back(line);
  }
  ASSERT_EQ(denials.size(), static_cast<size_t>(kDenials));

  // Five denials within a second: one notification, of the first.
  const std::vector<Hook> hooks = accepted(collector);
  ASSERT_EQ(hooks.size(), 1U);
  const Hook& hook = hooks[0];
  EXPECT_EQ(hook.path, kHookPath);
  EXPECT_EQ(hook.content_type, "application/json");
  EXPECT_EQ(hook.authorization, "Bearer hook-token");
  EXPECT_EQ(hook.rule, "denied");
  EXPECT_EQ(hook.where, "message=policy.check,allow=false");
  EXPECT_EQ(hook.count, 1U);
  EXPECT_EQ(hook.window, "1m");
  EXPECT_EQ(hook.first, field(denials[0], "timestamp"));
  EXPECT_EQ(hook.last, field(denials[0], "timestamp"));
  EXPECT_EQ(hook.event, minified(denials[0]));                                    // the line as stored...
  EXPECT_NE(hook.event.find("***REDACTED***"), std::string::npos) << hook.event;  // ... redacted
  EXPECT_EQ(hook.body.find("s3cr3tT0ken"), std::string::npos) << hook.body;

  EXPECT_NE(drained.out.find("alert denied: " + std::to_string(kDenials) + " lines matched, 1 fired, 1 sent\n"),
            std::string::npos)
      << drained.out;
  for (const std::string& text : {drained.out, drained.err}) {
    EXPECT_EQ(text.find("hook-token"), std::string::npos) << text;
    EXPECT_EQ(text.find("s3cr3t"), std::string::npos) << text;
  }
}

TEST_F(AlertCliTest, ARuleFiresOnlyWhenCountMatchesFallWithinItsWindow) {
  Collector collector(dir_, {});
  ASSERT_NE(collector.port(), 0);
  const Drained drained = drain({"--alert", "ten=level>=ERROR@10/1m", "--alert", "nine=level>=error@9/1m", "--alert",
                                 "three=level>=ERROR,message=tool failed@3/1h", "--alert-to", url(collector)});
  ASSERT_EQ(drained.status, 0) << drained.err;
  std::vector<std::string> errors;
  for (const std::string& line : ringtail::test::read_stored_lines(drained.store)) {
    if (field(line, "level") == "ERROR") errors.push_back(line);
  }
  ASSERT_EQ(errors.size(), static_cast<size_t>(kErrors));
  const std::vector<Hook> hooks = accepted(collector);
  ASSERT_EQ(hooks.size(), 2U);  // not "ten": nine errors only
  for (const Hook& hook : hooks) {
    ASSERT_TRUE(hook.rule == "nine" || hook.rule == "three") << hook.rule;
    const size_t count = hook.rule == "nine" ? 9 : 3;
    EXPECT_EQ(hook.count, count) << hook.rule;
    EXPECT_EQ(hook.first, field(errors[0], "timestamp")) << hook.rule;
    EXPECT_EQ(hook.last, field(errors[count - 1], "timestamp")) << hook.rule;
    EXPECT_EQ(hook.event, minified(errors[0])) << hook.rule;
  }
  EXPECT_NE(drained.out.find("alert ten: 9 lines matched, 0 fired, 0 sent\n"), std::string::npos) << drained.out;
  EXPECT_NE(drained.out.find("alert nine: 9 lines matched, 1 fired, 1 sent\n"), std::string::npos) << drained.out;
  EXPECT_NE(drained.out.find("alert three: 9 lines matched, 1 fired, 1 sent\n"), std::string::npos) << drained.out;
}

TEST_F(AlertCliTest, AWebhookAnswering500IsRetriedThenCountedWhileTheStoreKeepsEveryEvent) {
  Collector collector(dir_, {"--fail", "1000", "--status", "500"});
  ASSERT_NE(collector.port(), 0);
  const Drained drained = drain({"--alert", "denied=message=policy.check,allow=false", "--alert-to", url(collector)});
  ASSERT_EQ(drained.status, 0) << drained.err;
  EXPECT_EQ(ringtail::test::read_stored_lines(drained.store).size(),
            static_cast<size_t>(20 + kDenials + kAllowed + kErrors));
  size_t refused = 0;
  EXPECT_TRUE(accepted(collector, &refused).empty());
  EXPECT_EQ(refused, 4U);  // HttpPoster's four tries
  EXPECT_NE(drained.out.find("alert denied: " + std::to_string(kDenials) + " lines matched, 1 fired, 0 sent, 1 failed"),
            std::string::npos)
      << drained.out;
  // Said once on stderr, naming the webhook without its path.
  const std::string origin = "http://127.0.0.1:" + std::to_string(collector.port());
  EXPECT_NE(drained.err.find("alert to " + origin + "/... failed"), std::string::npos) << drained.err;
  EXPECT_NE(drained.err.find("HTTP 500"), std::string::npos) << drained.err;
  EXPECT_EQ(drained.err.find(kHookPath), std::string::npos) << drained.err;
  EXPECT_EQ(drained.out.find(kHookPath), std::string::npos) << drained.out;
}

TEST_F(AlertCliTest, ASyslogAlertArrivesAsAnRfc5424Message) {
  const std::string path = (dir_ / "alert.sock").string();
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0) << "errno " << errno;
  timeval timeout{20, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));

  const Drained drained = drain(
      {"--alert", "denied=message=policy.check,allow=false", "--alert-to", "syslog+unix://" + path + "?facility=auth"});
  ASSERT_EQ(drained.status, 0) << drained.err;
  std::vector<char> buffer(1 << 16);
  const ssize_t got = ::recv(fd, buffer.data(), buffer.size(), 0);
  ASSERT_GT(got, 0) << "errno " << errno;
  const testing::ParsedSyslog parsed = testing::parse_syslog(std::string(buffer.data(), static_cast<size_t>(got)));
  ASSERT_TRUE(parsed.ok) << parsed.error;
  EXPECT_EQ(parsed.pri, 4 * 8 + 4);  // auth, warning
  EXPECT_EQ(parsed.app_name, "ringtail");
  EXPECT_EQ(parsed.msgid, "ringtail.alert");
  EXPECT_EQ(parsed.sd_id, "ringtail@32473");
  ASSERT_GE(parsed.params.size(), 7U);
  EXPECT_EQ(parsed.params[0], (std::pair<std::string, std::string>("rule", "denied")));
  EXPECT_EQ(parsed.params[2], (std::pair<std::string, std::string>("count", "1")));
  std::string first_denial;
  for (const std::string& line : ringtail::test::read_stored_lines(drained.store)) {
    if (first_denial.empty() && field(line, "decision") == "BLOCK") first_denial = line;
  }
  EXPECT_EQ(parsed.params[6].first, "event");
  EXPECT_EQ(parsed.params[6].second, first_denial);
  EXPECT_EQ(field(parsed.msg, "rule"), "denied");
  // One notification: nothing else arrives.
  timeval short_timeout{0, 200000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &short_timeout, sizeof(short_timeout));
  EXPECT_LT(::recv(fd, buffer.data(), buffer.size(), 0), 0);
  ::close(fd);
  EXPECT_NE(drained.out.find("alert denied: " + std::to_string(kDenials) + " lines matched, 1 fired, 1 sent\n"),
            std::string::npos)
      << drained.out;
}

TEST(AlertCli, UsageErrorsSayWhatIsWrong) {
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"--alert", "denied=allow=false"}, "--alert needs an --alert-to URI"},
      {{"--alert-to", "syslog+udp://127.0.0.1:9"}, "--alert-to needs an --alert RULE"},
      {{"--alert", "denied", "--alert-to", "syslog+udp://127.0.0.1:9"}, "expected NAME=EXPR"},
      {{"--alert", "d=level>=LOUD", "--alert-to", "syslog+udp://127.0.0.1:9"}, "level>=LOUD: expected one of"},
      {{"--alert", "d=x=1@5/1w", "--alert-to", "syslog+udp://127.0.0.1:9"}, "WINDOW '1w'"},
      {{"--alert", "d=x=1", "--alert", "d=y=2", "--alert-to", "syslog+udp://127.0.0.1:9"}, "another rule is named"},
      {{"--alert", "d=x=1", "--alert-to", "ftp://127.0.0.1/"}, "not an alert target"},
      {{"--alert", "d=x=1", "--alert-to", "http://u:pw123@127.0.0.1/"}, "--alert-to: a user or password"},
      {{"--alert", "d=x=1", "--alert-to", "syslog+udp://127.0.0.1:9", "--sink-header", "A: b"},
       "--sink-header applies"},
  };
  for (const Case& c : cases) {
    // --pid of no producer: should one be taken, it drains nothing of anyone's.
    std::vector<std::string> args = {"drain", "--once", "--pid", "2147483646", "--out", "/nonexistent/ringtail"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    ringtail::test::Tool drain(args);
    EXPECT_EQ(drain.wait(), 2) << c.says;
    EXPECT_NE(drain.err().find(c.says), std::string::npos) << drain.err();
    EXPECT_EQ(drain.err().find("pw123"), std::string::npos) << drain.err();
  }
  ringtail::test::Tool help({"drain", "--help"});
  EXPECT_EQ(help.wait(), 0);
  EXPECT_NE(help.out().find("--alert NAME=EXPR[,EXPR...][@COUNT/WINDOW]"), std::string::npos) << help.out();
  EXPECT_NE(help.out().find("--alert-to URI"), std::string::npos) << help.out();
  EXPECT_NE(help.out().find("--alert 'errors=level>=ERROR@10/1m'"), std::string::npos) << help.out();
}

}  // namespace
}  // namespace ringtail::reader
