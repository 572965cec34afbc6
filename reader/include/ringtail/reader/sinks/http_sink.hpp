// HttpSink: batches of lines as NDJSON to an HTTP collector.
//
//   http://HOST[:PORT][/PATH]   https://HOST[:PORT][/PATH]
//
// Each batch is one POST of its lines exactly as stored (Content-Type
// application/x-ndjson), with the configured headers (an Authorization token,
// say: never printed, never in an error). A POST that fails to connect or
// answers 429 or 5xx is sent again after a backoff (0.5 s doubling, or the
// response's Retry-After in seconds, at most 30 s), up to `tries` times; any
// other answer but 2xx fails the batch at once (the collector refused it).
// After a batch fails, writes fail at once until a new try is due
// (SinkBackoff: 1 s doubling to 30 s), so a collector that is down costs one
// wait per backoff, not one per batch. Requests time out after `timeout` (connect, send and
// answer each). The lines of a failed batch are lost for this sink and
// counted by FanOutSink; a retried POST the collector did take may arrive
// twice (at least once).
//
// It keeps no spool: in a FanOutSink it is a best-effort sink (its own
// thread and bounded queue; docs/ARCHITECTURE.md, "The event pipeline").
//
// Threading: one thread at a time; counts() from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ringtail/reader/sinks/network_sink.hpp"
#include "ringtail/reader/sinks/sink_backoff.hpp"

namespace ringtail::reader {
namespace internal {
class HttpPoster;
}

struct HttpTarget {
  bool https = false;
  std::string host;
  uint16_t port = 0;
  std::string path = "/";
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds timeout{5000};
  int tries = 4;
  std::chrono::milliseconds first_retry{500};
};

// True for the URI schemes HttpSink takes (http://, https://).
bool is_http_uri(std::string_view uri);
// An http(s) URI; errors say what is wrong without repeating a password.
absl::StatusOr<HttpTarget> parse_http_uri(std::string_view uri);
// "NAME: VALUE" (--sink-header); errors never repeat the value.
absl::StatusOr<std::pair<std::string, std::string>> parse_http_header(std::string_view text);

class HttpSink final : public NetworkSink {
 public:
  explicit HttpSink(HttpTarget target);
  ~HttpSink() override;
  HttpSink(const HttpSink&) = delete;
  HttpSink& operator=(const HttpSink&) = delete;

  absl::Status write(const EventBatch& batch) override;
  // OK unless the last write failed (FanOutSink then reports a recovery once).
  absl::Status flush() override;

  NetworkSinkCounts counts() const override;

 private:
  HttpTarget target_;
  std::unique_ptr<internal::HttpPoster> poster_;
  SinkBackoff backoff_;
};

}  // namespace ringtail::reader
