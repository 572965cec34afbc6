// OutputStall: DrainEngine::run()'s state while its output fails (private to
// the engine; drain_engine.hpp, "Output errors", describes the behaviour).
//
// A failed pass is one attempt. The first failure starts a stall: it is
// reported at once, and the pause before the next attempt is
// sink_error_backoff, doubled after each failed attempt up to
// sink_error_backoff_max. While it lasts, at most one line per
// sink_error_report_interval says for how long and after how many retries
// the output still fails. Once output works again, one line says after how
// long, and the next failure starts a new stall with the first pause.
//
// Threading: the engine's thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "absl/status/status.h"

namespace ringtail::reader {

// The errno an absl::ErrnoToStatus() status was made from, when its code and
// the end of its message match one ("...: No space left on device" with
// kResourceExhausted is ENOSPC); nullopt otherwise.
std::optional<int> errno_of(const absl::Status& status);

class OutputStall {
 public:
  struct Options {
    std::chrono::milliseconds backoff_first{1000};
    std::chrono::milliseconds backoff_max{30000};
    std::chrono::milliseconds report_interval{60000};
  };
  using Report = std::function<void(std::string_view)>;

  explicit OutputStall(Options options) : options_(options) {}

  // An attempt failed with `error` at (steady, realtime) now: reports as the
  // header says and returns the pause before the next attempt.
  std::chrono::milliseconds failed(const absl::Status& error, std::chrono::steady_clock::time_point now,
                                   int64_t realtime_now_ns, const Report& report);
  // Output works again: reports how long it failed and ends the stall.
  void resumed(std::chrono::steady_clock::time_point now, const Report& report);

  bool active() const { return active_; }
  // CLOCK_REALTIME ns of the stall's first failure (0 when none).
  int64_t since_realtime_ns() const { return since_realtime_ns_; }
  // The errno of the latest failure, 0 when not known.
  uint32_t error_number() const { return error_number_; }

 private:
  Options options_;
  bool active_ = false;
  std::chrono::steady_clock::time_point since_;
  std::chrono::steady_clock::time_point last_report_;
  int64_t since_realtime_ns_ = 0;
  uint32_t error_number_ = 0;
  uint64_t retries_ = 0;  // failed attempts after the first
  std::chrono::milliseconds next_pause_{0};
};

}  // namespace ringtail::reader
