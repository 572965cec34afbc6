#include "output_stall.hpp"

#include <string.h>

#include <algorithm>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ringtail/shm/errno_text.hpp"

namespace ringtail::reader {
namespace {

// Seconds for a report line: whole seconds, or a fraction below ten.
std::string seconds_text(std::chrono::nanoseconds duration) {
  const double seconds = std::chrono::duration<double>(duration).count();
  if (seconds >= 10) return absl::StrCat(static_cast<int64_t>(seconds), " s");
  return absl::StrCat(static_cast<double>(static_cast<int64_t>(seconds * 10)) / 10, " s");
}

}  // namespace

std::optional<int> errno_of(const absl::Status& status) {
  if (status.ok()) return std::nullopt;
  // errno values are small; Linux's end below 140.
  constexpr int kLastErrno = 200;
  for (int e = 1; e < kLastErrno; ++e) {
    if (absl::ErrnoToStatusCode(e) != status.code()) continue;
    if (absl::EndsWith(status.message(), absl::StrCat(": ", shm::errno_text(e)))) return e;
  }
  return std::nullopt;
}

std::chrono::milliseconds OutputStall::failed(const absl::Status& error, std::chrono::steady_clock::time_point now,
                                              int64_t realtime_now_ns, const Report& report) {
  error_number_ = static_cast<uint32_t>(errno_of(error).value_or(0));
  if (!active_) {
    active_ = true;
    since_ = last_report_ = now;
    since_realtime_ns_ = realtime_now_ns;
    retries_ = 0;
    next_pause_ = std::max(options_.backoff_first, std::chrono::milliseconds(1));
    report(absl::StrCat("output failed, nothing after the last flush was committed: ", error.ToString(),
                        "; retrying in ", seconds_text(next_pause_), ", then less and less often (up to every ",
                        seconds_text(options_.backoff_max),
                        "): until it works nothing is committed, producers' rings fill and they count drops"));
  } else {
    ++retries_;
    next_pause_ = std::min(next_pause_ * 2, std::max(options_.backoff_max, options_.backoff_first));
    if (now - last_report_ >= options_.report_interval) {
      last_report_ = now;
      report(absl::StrCat("output still failing for ", seconds_text(now - since_), " (", retries_,
                          retries_ == 1 ? " retry" : " retries", "): ", error.ToString(),
                          "; nothing is committed, producers' rings fill and they count drops"));
    }
  }
  return next_pause_;
}

void OutputStall::resumed(std::chrono::steady_clock::time_point now, const Report& report) {
  if (!active_) return;
  report(absl::StrCat("output resumed after ", seconds_text(now - since_), " (", retries_,
                      retries_ == 1 ? " retry" : " retries", "); reading on from where the stored output ends"));
  active_ = false;
  since_realtime_ns_ = 0;
  error_number_ = 0;
  retries_ = 0;
}

}  // namespace ringtail::reader
