// NetworkSink: a sink that sends lines to another program (`drain --sink
// URI`), and make_network_sink(), which makes the one a URI names:
//
//   syslog+udp://, syslog+tcp://, syslog+unix://   SyslogSink (syslog_sink.hpp)
//   http://, https://                              HttpSink (http_sink.hpp)
//   otlp+http://, otlp+https://                    OtlpSink (otlp_sink.hpp)
//   clickhouse://, clickhouse+https://             ClickHouseSink (clickhouse/clickhouse_sink.hpp)
//
// Each is a best-effort sink of a FanOutSink. Beside what FanOutSink counts
// for every sink (lines sent, dropped, in failed writes), a network sink
// counts what only some kinds have: counts().
//
// Threading: the EventSink calls from one thread at a time; counts() from any.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "ringtail/reader/sinks/event_sink.hpp"

namespace ringtail::reader {

struct NetworkSinkCounts {
  uint64_t cut_messages = 0;         // syslog over UDP: messages cut to a datagram
  uint64_t requests_sent_again = 0;  // HTTP, OTLP, ClickHouse: requests repeated after a failure
  uint64_t records_sent = 0;         // OTLP: log records and spans the collector took; ClickHouse: rows inserted
  uint64_t records_failed = 0;       // OTLP: log records and spans in requests that failed; ClickHouse: rows
                                     // of failed inserts (clickhouse_sink.hpp)
  uint64_t spans_without_start = 0;  // OTLP: spans sent without their start's attributes
  std::string last_error;            // OTLP, ClickHouse: why the last request failed ("" after one that worked)
};

class NetworkSink : public EventSink {
 public:
  virtual NetworkSinkCounts counts() const = 0;
  // Sends what the sink holds back for a batch (OTLP) and returns once it is
  // sent or failed: counts() are then final for what was written. Default:
  // nothing is held back.
  virtual void finish() {}
};

struct NetworkSinkOptions {
  // Sent with every request of an http(s) sink ("NAME", "VALUE").
  std::vector<std::pair<std::string, std::string>> http_headers;
  // The name the sinks give this host (ClickHouse's host column, OTLP's
  // host.name, syslog's HOSTNAME); empty: this machine's name.
  std::string host_name;
};

// The sink `uri` names; InvalidArgument ("--sink URI: why") for a URI that
// names none or is malformed. Nothing is connected yet.
absl::StatusOr<std::unique_ptr<NetworkSink>> make_network_sink(std::string_view uri, const NetworkSinkOptions& options);

}  // namespace ringtail::reader
