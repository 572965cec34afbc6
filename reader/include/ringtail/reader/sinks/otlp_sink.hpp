// OtlpSink: events to an OpenTelemetry collector over OTLP/HTTP.
//
//   otlp+http://HOST[:PORT][/PREFIX][?encoding=json]    (otlp+https://; port 4318)
//
// Log records go to PREFIX/v1/logs, spans to PREFIX/v1/traces, protobuf by
// default (Content-Type application/x-protobuf), JSON with ?encoding=json.
// OtlpEncoder (otlp_encoder.hpp) makes the requests; docs/FORMAT.md gives
// the mapping.
//
// Batching: write() encodes a batch into the pending requests; a sender
// thread posts them once they hold max_batch_bytes, or max_delay after the
// first record in them, or when finish() asks, so that the drain's thread
// encodes the next batch while a request is on the wire. A request is
// retried as HttpPoster says (429 and 5xx, honouring Retry-After). While the
// sender is busy and the pending requests grow to 4 x max_batch_bytes,
// write() waits: the sink's FanOutSink queue then fills and drops, counted.
// After a request fails, the collector is tried again after SinkBackoff
// (1 s doubling to 30 s); meanwhile write() fails at once (FanOutSink
// counts the lines) and what was pending is counted as failed, not sent.
//
// Threading: the EventSink calls from one thread at a time; counts() from
// any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ringtail/reader/sinks/http_sink.hpp"  // HttpTarget
#include "ringtail/reader/sinks/network_sink.hpp"
#include "ringtail/reader/sinks/otlp_encoder.hpp"
#include "ringtail/reader/sinks/sink_backoff.hpp"

namespace ringtail::reader {
namespace internal {
class HttpPoster;
}

struct OtlpTarget {
  HttpTarget http;  // path: the prefix, "" or "/PREFIX" without a trailing '/'
  OtlpEncoding encoding = OtlpEncoding::kProtobuf;
  size_t max_batch_bytes = size_t{1} << 20;
  std::chrono::milliseconds max_delay{1000};
};

// True for the URI schemes OtlpSink takes (otlp+http://, otlp+https://).
bool is_otlp_uri(std::string_view uri);
// An otlp+http(s) URI; errors say what is wrong without repeating a password.
absl::StatusOr<OtlpTarget> parse_otlp_uri(std::string_view uri);

class OtlpSink final : public NetworkSink {
 public:
  // host_name: the resource's host.name (default: this machine's name).
  explicit OtlpSink(OtlpTarget target, std::string host_name = {});
  // finish(), then stops the sender.
  ~OtlpSink() override;
  OtlpSink(const OtlpSink&) = delete;
  OtlpSink& operator=(const OtlpSink&) = delete;

  absl::Status write(const EventBatch& batch) override;
  // OK unless the last request failed (FanOutSink then reports a recovery once).
  absl::Status flush() override;
  void segment_finished(const SegmentIdentity& segment) override;
  void finish() override;
  NetworkSinkCounts counts() const override;

 private:
  void send_loop();
  void send(const OtlpRequests& requests);

  const OtlpTarget target_;
  const std::string logs_path_;
  const std::string traces_path_;
  std::unique_ptr<internal::HttpPoster> poster_;  // the sender's

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  OtlpEncoder encoder_ ABSL_GUARDED_BY(mutex_);
  std::chrono::steady_clock::time_point first_pending_ ABSL_GUARDED_BY(mutex_);
  SinkBackoff backoff_ ABSL_GUARDED_BY(mutex_);
  bool sending_ ABSL_GUARDED_BY(mutex_) = false;
  uint64_t send_now_ ABSL_GUARDED_BY(mutex_) = 0;  // finish() calls waiting
  bool stop_ ABSL_GUARDED_BY(mutex_) = false;
  NetworkSinkCounts counts_ ABSL_GUARDED_BY(mutex_);
  std::thread sender_;
};

}  // namespace ringtail::reader
