// HttpPoster: the POST with retries that the HTTP-based sinks share (the
// NDJSON sink, the OTLP sink). A request that fails to connect or answers 429
// or 5xx is sent again after a wait (first_retry, doubling, or the answer's
// Retry-After in seconds when longer, at most 30 s), up to `tries` times in
// all; any other answer but 2xx fails at once (the collector refused the
// body: sending it again would not help). Each request times out after
// `timeout` (connect, send and answer each). Headers are sent with every
// request and never appear in an error.
//
// Internal to the reader's sources (not installed). Threading: one thread at
// a time; retries() from any thread.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ringtail/reader/sinks/http_sink.hpp"  // HttpTarget

namespace ringtail::reader::internal {

// "SCHEME://HOST:PORT", an IPv6 address in brackets: for messages.
std::string http_origin(const HttpTarget& target);

// The HOST[:PORT][/PATH] after an http(s) scheme (`https` says which), with
// `default_port` when none is given; errors name `uri` (the whole --sink
// URI) and never repeat a password.
absl::StatusOr<HttpTarget> parse_http_target(std::string_view uri, bool https, std::string_view rest,
                                             uint16_t default_port);

// The connection, read and write timeouts of `client`, each `timeout`.
void set_http_timeouts(httplib::Client& client, std::chrono::milliseconds timeout);

class HttpPoster {
 public:
  // Posts to target's origin (its path is the caller's business).
  explicit HttpPoster(const HttpTarget& target);

  // OK once a try answered 2xx; else why the last try failed ("POST
  // ORIGIN/PATH: ..."): Unavailable after the tries ran out,
  // FailedPrecondition for an answer that is not retried.
  absl::Status post(const std::string& path, std::string_view body, const char* content_type);

  // Requests sent again after a failed try, since construction.
  uint64_t retries() const { return retries_.load(std::memory_order_relaxed); }
  const std::string& origin() const { return origin_; }

 private:
  httplib::Client client_;
  httplib::Headers headers_;
  std::string origin_;
  int tries_;
  std::chrono::milliseconds first_retry_;
  std::atomic<uint64_t> retries_{0};
};

}  // namespace ringtail::reader::internal
