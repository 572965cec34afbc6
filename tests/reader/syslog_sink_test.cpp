// The syslog sink's parts: RFC 5424 messages from shaped lines
// (sinks/syslog_message.hpp), its URIs, and SyslogSink over real loopback
// UDP and TCP sockets and a Unix datagram socket, received here. The real
// receiver (rsyslogd) is syslog_rsyslog_test.cpp's.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "loopback.hpp"
#include "ringtail/reader/sinks/syslog_message.hpp"
#include "ringtail/reader/sinks/syslog_sink.hpp"
#include "shaped_text.hpp"
#include "syslog_text.hpp"

namespace ringtail::reader {
namespace {

using testing::batch_of;
using testing::parse_syslog;
using testing::ParsedSyslog;

SegmentIdentity segment_of(std::string service, uint32_t pid) {
  SegmentIdentity segment;
  segment.service = std::move(service);
  segment.pid = pid;
  return segment;
}

std::vector<std::string> messages_of(SyslogMessageWriter& writer, const SegmentIdentity& segment,
                                     std::string_view jsonl) {
  const EventBatch batch = batch_of(segment, jsonl);
  std::vector<std::string> out;
  for (const LineShape& shape : batch.lines) {
    std::string message;
    writer.append(message, segment, batch, shape);
    out.push_back(std::move(message));
  }
  return out;
}

TEST(SyslogMessage, HeaderStructuredDataAndTheLineAsMessage) {
  const SegmentIdentity segment = segment_of("agent", 4242);
  SyslogMessageWriter writer(16, "host-1");
  const std::string line =
      R"({"timestamp":"2026-12-06T10:00:01.123456789Z","level":"WARN","message":"policy.check","service":"agent",)"
      R"("pid":4242,"tid":7,"seq":3,"allow":false,"cost":1.5,"tool":"write_file","none":null})";
  const std::vector<std::string> messages = messages_of(writer, segment, line + "\n");
  ASSERT_EQ(messages.size(), 1U);
  EXPECT_EQ(messages[0],
            "<132>1 2026-12-06T10:00:01.123456Z host-1 agent 4242 policy.check [ringtail@32473 "
            "tid=\"7\" seq=\"3\" allow=\"false\" cost=\"1.5\" tool=\"write_file\" none=\"null\"] " +
                line);
}

TEST(SyslogMessage, SeverityFollowsTheLevelAndFacilityScalesIt) {
  EXPECT_EQ(syslog_severity(shm::Level::kTrace), 7);
  EXPECT_EQ(syslog_severity(shm::Level::kDebug), 7);
  EXPECT_EQ(syslog_severity(shm::Level::kInfo), 6);
  EXPECT_EQ(syslog_severity(shm::Level::kWarn), 4);
  EXPECT_EQ(syslog_severity(shm::Level::kError), 3);
  EXPECT_EQ(syslog_severity(shm::Level::kCritical), 2);
  const SegmentIdentity segment = segment_of("s", 1);
  const std::array<std::pair<std::string_view, int>, 6> levels = {
      {{"TRACE", 7}, {"DEBUG", 7}, {"INFO", 6}, {"WARN", 4}, {"ERROR", 3}, {"CRITICAL", 2}}};
  for (const int facility : {0, 3, 16, 23}) {
    SyslogMessageWriter writer(facility, "h");
    for (const auto& [level, severity] : levels) {
      const std::string line = R"({"timestamp":"2026-12-06T10:00:00Z","level":")" + std::string(level) +
                               R"(","message":"m","service":"s","pid":1})" + "\n";
      const ParsedSyslog parsed = parse_syslog(messages_of(writer, segment, line).at(0));
      ASSERT_TRUE(parsed.ok) << parsed.error;
      EXPECT_EQ(parsed.pri, facility * 8 + severity) << level;
    }
  }
}

TEST(SyslogMessage, HeaderFieldsArePrintableAndBounded) {
  // A service with a space and a control byte, a 60-byte service, a message
  // with non-ASCII text and a 40-byte message, an empty message.
  SyslogMessageWriter writer(16, "bad host\x01");
  const SegmentIdentity odd = segment_of("my svc\x02", 9);
  const std::string line1 =
      R"({"timestamp":"2026-12-06T10:00:00Z","level":"INFO","message":"t\u00fcr auf","service":"x","pid":9})"
      "\n";
  ParsedSyslog parsed = parse_syslog(messages_of(writer, odd, line1).at(0));
  ASSERT_TRUE(parsed.ok) << parsed.error;
  EXPECT_EQ(parsed.hostname, "bad_host_");
  EXPECT_EQ(parsed.app_name, "my_svc_");
  EXPECT_EQ(parsed.procid, "9");
  EXPECT_EQ(parsed.msgid, "t__r_auf");  // U+00FC is two bytes outside PRINTUSASCII
  const SegmentIdentity long_service = segment_of(std::string(60, 's'), 1);
  const std::string line2 = R"({"timestamp":"2026-12-06T10:00:00Z","level":"INFO","message":")" + std::string(40, 'm') +
                            R"(","service":"x","pid":1})" + "\n";
  parsed = parse_syslog(messages_of(writer, long_service, line2).at(0));
  ASSERT_TRUE(parsed.ok) << parsed.error;
  EXPECT_EQ(parsed.app_name, std::string(48, 's'));
  EXPECT_EQ(parsed.msgid, std::string(32, 'm'));
  const SegmentIdentity empty = segment_of("", 1);
  const std::string line3 = R"({"timestamp":"2026-12-06T10:00:00Z","level":"INFO","message":"","service":"","pid":1})"
                            "\n";
  parsed = parse_syslog(messages_of(writer, empty, line3).at(0));
  ASSERT_TRUE(parsed.ok) << parsed.error;
  EXPECT_EQ(parsed.app_name, "-");
  EXPECT_EQ(parsed.msgid, "-");
}

TEST(SyslogMessage, HostileValuesAndKeysReadBackExactly) {
  SyslogMessageWriter writer(16, "h");
  const SegmentIdentity segment = segment_of("s", 1);
  // Keys with '=', ' ', ']' and '"'; values with every character RFC 5424
  // escapes, a backslash before 'u', control characters, non-ASCII text; an
  // object value (the error field) keeps its JSON text.
  const std::string line = R"({"timestamp":"2026-12-06T10:00:00Z","level":"ERROR","message":"m","service":"s","pid":1,)"
                           R"("a=b c]d\"e":"q\"uo]te\\back\\u0001","ctl":"nl\nt\tnul\u0000del\u007f","utf":"ü漢😀",)"
                           R"("error":{"type":"E","message":"x]y"},"n":-12})";
  const ParsedSyslog parsed = parse_syslog(messages_of(writer, segment, line + "\n").at(0));
  ASSERT_TRUE(parsed.ok) << parsed.error;
  ASSERT_EQ(parsed.params.size(), 5U);
  EXPECT_EQ(parsed.params[0].first, "a_b_c_d_e");
  EXPECT_EQ(parsed.params[0].second, "q\"uo]te\\back\\u0001");
  EXPECT_EQ(parsed.params[1].first, "ctl");
  EXPECT_EQ(parsed.params[1].second, std::string("nl\nt\tnul\0del\x7f", 13));
  EXPECT_EQ(parsed.params[2].second, "\xC3\xBC\xE6\xBC\xA2\xF0\x9F\x98\x80");
  EXPECT_EQ(parsed.params[3].first, "error");
  EXPECT_EQ(parsed.params[3].second, R"({"type":"E","message":"x]y"})");
  EXPECT_EQ(parsed.params[4].second, "-12");
  EXPECT_EQ(parsed.msg, line);
  // No raw control byte anywhere in the message.
  const std::string message = messages_of(writer, segment, line + "\n").at(0);
  for (const char c : message) ASSERT_FALSE(static_cast<unsigned char>(c) < 0x20 || c == 0x7f) << message;
}

TEST(SyslogUri, ParsesTransportsHostsPortsAndFacility) {
  absl::StatusOr<SyslogTarget> t = parse_syslog_uri("syslog+udp://127.0.0.1:5514");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->transport, SyslogTarget::Transport::kUdp);
  EXPECT_EQ(t->host, "127.0.0.1");
  EXPECT_EQ(t->port, 5514);
  EXPECT_EQ(t->facility, 16);
  t = parse_syslog_uri("syslog+tcp://[::1]:601?facility=daemon");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->transport, SyslogTarget::Transport::kTcp);
  EXPECT_EQ(t->host, "::1");
  EXPECT_EQ(t->port, 601);
  EXPECT_EQ(t->facility, 3);
  t = parse_syslog_uri("syslog+tcp://logs.example");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->port, 514);
  t = parse_syslog_uri("syslog+unix:///dev/log?facility=23");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->transport, SyslogTarget::Transport::kUnix);
  EXPECT_EQ(t->path, "/dev/log");
  EXPECT_EQ(t->facility, 23);
  EXPECT_TRUE(is_syslog_uri("syslog+udp://x"));
  EXPECT_FALSE(is_syslog_uri("http://x"));
  for (const char* bad :
       {"syslog://h:1", "syslog+udp://", "syslog+udp://h:0", "syslog+udp://h:65536", "syslog+udp://h:x",
        "syslog+udp://h:1?facility=local8", "syslog+udp://h:1?facility=24", "syslog+udp://h:1?level=info",
        "syslog+tcp://[::1", "syslog+unix://dev/log", "syslog+udp://h/path:1"}) {
    const absl::StatusOr<SyslogTarget> rejected = parse_syslog_uri(bad);
    ASSERT_FALSE(rejected.ok()) << bad;
    EXPECT_EQ(rejected.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(rejected.status().message().find("--sink"), std::string_view::npos) << rejected.status();
  }
  EXPECT_EQ(parse_syslog_facility("local7"), 23);
  EXPECT_EQ(parse_syslog_facility("kern"), 0);
  EXPECT_FALSE(parse_syslog_facility("").has_value());
}

std::string three_lines() {
  std::string text;
  for (int i = 0; i < 3; ++i) {
    text += R"({"timestamp":"2026-12-06T10:00:00Z","level":"INFO","message":"m","service":"s","pid":1,"i":)" +
            std::to_string(i) + "}\n";
  }
  return text;
}

TEST(SyslogSink, UdpSendsOneDatagramPerLine) {
  uint16_t port = 0;
  const int fd = ringtail::test::bound_loopback_socket(SOCK_DGRAM, &port);
  ASSERT_GE(fd, 0);
  const SegmentIdentity segment = segment_of("s", 1);
  SyslogSink sink(*parse_syslog_uri("syslog+udp://127.0.0.1:" + std::to_string(port)), "h");
  ASSERT_TRUE(sink.write(batch_of(segment, three_lines())).ok());
  for (int i = 0; i < 3; ++i) {
    char buffer[4096];
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    ASSERT_GT(n, 0) << i;
    const ParsedSyslog parsed = parse_syslog(std::string(buffer, static_cast<size_t>(n)));
    ASSERT_TRUE(parsed.ok) << parsed.error;
    ASSERT_EQ(parsed.params.size(), 1U);
    EXPECT_EQ(parsed.params[0], std::make_pair(std::string("i"), std::to_string(i)));
  }
  ::close(fd);
}

TEST(SyslogSink, UdpCutsAMessageLongerThanADatagram) {
  uint16_t port = 0;
  const int fd = ringtail::test::bound_loopback_socket(SOCK_DGRAM, &port);
  ASSERT_GE(fd, 0);
  int size = 1 << 20;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
  const SegmentIdentity segment = segment_of("s", 1);
  SyslogSink sink(*parse_syslog_uri("syslog+udp://127.0.0.1:" + std::to_string(port)), "h");
  const std::string line = R"({"timestamp":"2026-12-06T10:00:00Z","level":"INFO","message":"m","service":"s",)"
                           R"("pid":1,"big":")" +
                           std::string(70000, 'x') + "\"}\n";
  ASSERT_TRUE(sink.write(batch_of(segment, line)).ok());
  std::string buffer(100000, '\0');
  const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
  EXPECT_EQ(n, static_cast<ssize_t>(kMaxSyslogDatagram));
  EXPECT_EQ(sink.counts().cut_messages, 1U);
  ::close(fd);
}

TEST(SyslogSink, TcpFramesByOctetCounting) {
  uint16_t port = 0;
  const int listener = ringtail::test::bound_loopback_socket(SOCK_STREAM, &port);
  ASSERT_GE(listener, 0);
  ASSERT_EQ(::listen(listener, 4), 0);
  const SegmentIdentity segment = segment_of("s", 1);
  SyslogSink sink(*parse_syslog_uri("syslog+tcp://127.0.0.1:" + std::to_string(port)), "h");
  ASSERT_TRUE(sink.write(batch_of(segment, three_lines())).ok());
  const int fd = ::accept(listener, nullptr, nullptr);
  ASSERT_GE(fd, 0);
  std::string stream;
  std::vector<std::string> messages;
  while (messages.size() < 3) {
    char buffer[4096];
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    ASSERT_GT(n, 0);
    stream.append(buffer, static_cast<size_t>(n));
    for (;;) {
      const size_t space = stream.find(' ');
      if (space == std::string::npos) break;
      const size_t length = std::stoul(stream.substr(0, space));
      if (stream.size() < space + 1 + length) break;
      messages.push_back(stream.substr(space + 1, length));
      stream.erase(0, space + 1 + length);
    }
  }
  EXPECT_TRUE(stream.empty());
  for (int i = 0; i < 3; ++i) {
    const ParsedSyslog parsed = parse_syslog(messages[static_cast<size_t>(i)]);
    ASSERT_TRUE(parsed.ok) << parsed.error;
    EXPECT_EQ(parsed.params.at(0).second, std::to_string(i));
  }
  ::close(fd);
  ::close(listener);
}

TEST(SyslogSink, UnixDatagramSocket) {
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("ringtail-syslog-test-" + std::to_string(::getpid()));
  std::filesystem::remove(path);
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  const SegmentIdentity segment = segment_of("s", 1);
  SyslogSink sink(*parse_syslog_uri("syslog+unix://" + path.string() + "?facility=user"), "h");
  ASSERT_TRUE(sink.write(batch_of(segment, three_lines())).ok());
  for (int i = 0; i < 3; ++i) {
    char buffer[4096];
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    ASSERT_GT(n, 0);
    const ParsedSyslog parsed = parse_syslog(std::string(buffer, static_cast<size_t>(n)));
    ASSERT_TRUE(parsed.ok) << parsed.error;
    EXPECT_EQ(parsed.pri, 1 * 8 + 6);
  }
  ::close(fd);
  std::filesystem::remove(path);
}

TEST(SyslogSink, AReceiverThatIsDownFailsWritesAtOnceUntilTheRetry) {
  uint16_t port = 0;
  const int listener = ringtail::test::bound_loopback_socket(SOCK_STREAM, &port);
  ASSERT_GE(listener, 0);
  ::close(listener);  // nothing listens on the port now
  const SegmentIdentity segment = segment_of("s", 1);
  SyslogSink sink(*parse_syslog_uri("syslog+tcp://127.0.0.1:" + std::to_string(port)), "h");
  const absl::Status first = sink.write(batch_of(segment, three_lines()));
  ASSERT_FALSE(first.ok());
  EXPECT_NE(first.message().find("connect"), std::string_view::npos) << first;
  // Within the 1 s backoff: no new connection is tried, the error says when.
  const absl::Status second = sink.write(batch_of(segment, three_lines()));
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.message().find("tried again after 1 s"), std::string_view::npos) << second;
}

}  // namespace
}  // namespace ringtail::reader
