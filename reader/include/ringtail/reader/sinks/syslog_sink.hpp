// SyslogSink: every line as an RFC 5424 message (syslog_message.hpp) to a
// syslog receiver, over UDP (RFC 5426: one message per datagram), TCP
// (RFC 6587 octet counting: "LEN SP MSG") or a Unix datagram socket such as
// /dev/log.
//
//   syslog+udp://HOST:PORT  syslog+tcp://HOST:PORT  syslog+unix:///PATH
//   ...?facility=NAME       (default local0)
//
// It keeps no spool: in a FanOutSink it is a best-effort sink (its own
// thread and bounded queue; docs/ARCHITECTURE.md, "The event pipeline").
// write() connects when not connected, sends every line and returns the
// first error. After an error the connection is closed, and writes fail at
// once until it is tried again (SinkBackoff: after 1 s, doubling up to 30 s
// while it keeps failing). The lines of a batch whose write failed are lost
// for this sink, and FanOutSink counts them. A datagram holds at most
// kMaxSyslogDatagram bytes: a longer message is cut there (counted in
// counts()). A TCP send waits at most 5 s for a receiver that stops reading,
// so a stuck receiver fails writes rather than hanging the drain's shutdown.
//
// Threading: one thread at a time; counts() from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ringtail/reader/sinks/network_sink.hpp"
#include "ringtail/reader/sinks/sink_backoff.hpp"
#include "ringtail/reader/sinks/syslog_message.hpp"

namespace ringtail::reader {

// The most a UDP datagram over IPv4 carries.
inline constexpr size_t kMaxSyslogDatagram = 65507;

struct SyslogTarget {
  enum class Transport { kUdp, kTcp, kUnix };
  Transport transport = Transport::kUdp;
  std::string host;  // UDP, TCP: a name or address ("[...]" for IPv6 in the URI)
  uint16_t port = 0;
  std::string path;   // Unix
  int facility = 16;  // local0
};

// True for the URI schemes SyslogSink takes (syslog+udp, syslog+tcp, syslog+unix).
bool is_syslog_uri(std::string_view uri);
// A syslog URI (above); errors say what is wrong with it.
absl::StatusOr<SyslogTarget> parse_syslog_uri(std::string_view uri);

class SyslogSink final : public NetworkSink {
 public:
  // hostname: the messages' HOSTNAME; empty: this host's name (gethostname).
  explicit SyslogSink(SyslogTarget target, std::string_view hostname = {});
  ~SyslogSink() override;
  SyslogSink(const SyslogSink&) = delete;
  SyslogSink& operator=(const SyslogSink&) = delete;

  absl::Status write(const EventBatch& batch) override;
  // write() sends everything: OK unless the last write failed (so that
  // FanOutSink reports a recovery only once a write has worked again).
  absl::Status flush() override;

  NetworkSinkCounts counts() const override {
    NetworkSinkCounts out;
    out.cut_messages = cut_messages_.load(std::memory_order_relaxed);
    return out;
  }

 private:
  absl::Status connect();
  absl::Status send_all(std::string_view bytes);
  absl::Status send_datagrams();  // stream_'s messages, each ending at ends_[i]
  void close();
  std::string describe() const;

  // After an error: closed, and writes fail at once until the backoff passes.
  absl::Status failed(absl::Status error);

  SyslogTarget target_;
  SyslogMessageWriter writer_;
  int fd_ = -1;
  SinkBackoff backoff_;
  std::string message_;
  std::string stream_;        // a batch's messages (TCP: framed), sent together
  std::vector<size_t> ends_;  // datagrams: where each message of stream_ ends
  std::atomic<uint64_t> cut_messages_{0};
};

}  // namespace ringtail::reader
