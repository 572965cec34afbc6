// SinkBackoff: when a best-effort network sink (syslog, HTTP) tries its
// destination again after a failure: 1 s after the first, doubling up to 30 s
// while tries keep failing. In between, the sink fails its writes at once
// with the last error, so a destination that is down costs one wait per
// backoff rather than one per batch, and a sink's queue drains (counted as
// failed) instead of stalling the drain's exit.
//
// Threading: the owning sink's thread only.
#pragma once

#include <chrono>
#include <string>

#include "absl/status/status.h"

namespace ringtail::reader {

class SinkBackoff {
 public:
  static constexpr std::chrono::seconds kFirst{1};
  static constexpr std::chrono::seconds kMost{30};

  // A try failed: the next is due after the backoff. Returns `error`.
  absl::Status failed(absl::Status error);
  // A try worked: the next failure starts again at kFirst.
  void succeeded();
  // OK when a try is due; else the last error, saying when it is tried again.
  absl::Status due() const;
  // OK unless the last try failed (a sink's flush(): FanOutSink reports a
  // recovery once a try has worked again).
  absl::Status last() const;

 private:
  std::chrono::steady_clock::time_point retry_at_{};
  std::chrono::seconds backoff_{0};
  std::string last_error_;  // empty: the last try worked
};

}  // namespace ringtail::reader
