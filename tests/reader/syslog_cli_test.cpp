// `ringtail drain --sink` (the real tool): a syslog sink without a store,
// a receiver that is down beside the store (the store keeps every event, the
// sink's losses are counted in the summary), and the usage errors of --sink
// and --sink-header.
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "loopback.hpp"
#include "producer_child.hpp"
#include "ringtail/ringtail.hpp"
#include "stored_files.hpp"
#include "subprocess.hpp"
#include "syslog_text.hpp"

namespace ringtail::reader {
namespace {

using ringtail::kv;
using ringtail::test::ProducerChild;
using testing::parse_syslog;
using testing::ParsedSyslog;

constexpr int kEvents = 50;

ProducerChild log_events(const char* service) {
  ringtail::Options options;
  options.service = service;
  return ProducerChild::start(options, [](ProducerChild::Link&) {
    int lost = 0;
    for (int i = 0; i < kEvents; ++i) lost += !RINGTAIL_INFO("step", kv("i", i));
    return lost;
  });
}

TEST(SyslogCli, ASinkWithoutAStoreGetsEveryEventAndTheSegmentIsConsumed) {
  uint16_t port = 0;
  const int fd = ringtail::test::bound_loopback_socket(SOCK_DGRAM, &port);
  ASSERT_GE(fd, 0);
  ProducerChild child = log_events("syslog-only");
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 0);
  ringtail::test::Tool drain({"drain", "--once", "--pid", std::to_string(child.pid()), "--sink",
                              "syslog+udp://127.0.0.1:" + std::to_string(port)});
  ASSERT_EQ(drain.wait(), 0) << drain.err();
  EXPECT_NE(drain.out().find("into the sinks"), std::string::npos) << drain.out();
  std::set<std::string> seen;
  for (int n = 0; n < kEvents; ++n) {
    char buffer[4096];
    const ssize_t got = ::recv(fd, buffer, sizeof(buffer), 0);
    ASSERT_GT(got, 0) << "after " << n << " messages";
    const ParsedSyslog parsed = parse_syslog(std::string(buffer, static_cast<size_t>(got)));
    ASSERT_TRUE(parsed.ok) << parsed.error;
    EXPECT_EQ(parsed.app_name, "syslog-only");
    EXPECT_EQ(parsed.msgid, "step");
    ASSERT_EQ(parsed.params.size(), 3U);  // tid, seq, i
    seen.insert(parsed.params[2].second);
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kEvents));
  ::close(fd);
  // Consumed: the dead producer's segment is gone.
  EXPECT_FALSE(std::filesystem::exists("/dev/shm/" + child.segment_name()));
}

TEST(SyslogCli, AReceiverThatIsDownCostsTheStoreNothingAndIsCounted) {
  const uint16_t port = ringtail::test::free_loopback_port(SOCK_STREAM);  // nothing listens there
  ASSERT_NE(port, 0);
  char templ[] = "/tmp/ringtail-syslog-cli-XXXXXX";
  ASSERT_NE(::mkdtemp(templ), nullptr);
  const std::string store = std::string(templ) + "/store";
  ProducerChild child = log_events("syslog-down");
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 0);
  ringtail::test::Tool drain({"drain", "--once", "--pid", std::to_string(child.pid()), "--out", store, "--sink",
                              "syslog+tcp://127.0.0.1:" + std::to_string(port)});
  ASSERT_EQ(drain.wait(), 0) << drain.err();
  size_t lines = 0;
  for (const std::string& text : ringtail::test::read_stored_texts(store)) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) ++lines;
  }
  EXPECT_EQ(lines, static_cast<size_t>(kEvents));
  // The summary counts what the sink lost; stderr says why, once.
  EXPECT_NE(drain.out().find("sink syslog+tcp://127.0.0.1:" + std::to_string(port) + ": 0 lines sent"),
            std::string::npos)
      << drain.out();
  EXPECT_NE(drain.out().find(std::to_string(kEvents) + " in failed writes"), std::string::npos) << drain.out();
  EXPECT_NE(drain.err().find("connect"), std::string::npos) << drain.err();
  std::filesystem::remove_all(templ);
}

TEST(SyslogCli, UsageErrorsSayWhatIsWrong) {
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  // Each with --pid of no producer: should one be taken, it drains nothing of anyone's.
  const std::vector<Case> cases = {
      {{"drain", "--once"}, "give --out DIR, --sink URI, or both"},
      {{"drain", "--once", "--sink", "ftp://127.0.0.1:9"}, "not a sink URI"},
      {{"drain", "--once", "--sink", "syslog+udp://127.0.0.1:99999"}, "port '99999' is not 1-65535"},
      {{"drain", "--once", "--sink", "syslog+udp://127.0.0.1:514?facility=local9"}, "facility 'local9'"},
      {{"drain", "--once", "--sink", "http://127.0.0.1:9/", "--sink-header", "Bad Name: x"}, "is not a name"},
      {{"drain", "--once", "--sink", "syslog+udp://127.0.0.1:9", "--sink-header", "A: b"}, "--sink-header applies"},
  };
  for (Case c : cases) {
    c.args.insert(c.args.begin() + 1, {"--pid", "2147483646"});
    ringtail::test::Tool drain(c.args);
    EXPECT_EQ(drain.wait(), 2) << c.args.back();
    EXPECT_NE(drain.err().find(c.says), std::string::npos) << drain.err();
  }
}

}  // namespace
}  // namespace ringtail::reader
