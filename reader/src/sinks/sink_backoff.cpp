#include "ringtail/reader/sinks/sink_backoff.hpp"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace ringtail::reader {

absl::Status SinkBackoff::failed(absl::Status error) {
  backoff_ = std::min(std::max(backoff_ * 2, kFirst), kMost);
  retry_at_ = std::chrono::steady_clock::now() + backoff_;
  last_error_ = std::string{error.message()};
  return error;
}

void SinkBackoff::succeeded() {
  backoff_ = std::chrono::seconds(0);
  last_error_.clear();
}

absl::Status SinkBackoff::due() const {
  if (last_error_.empty() || std::chrono::steady_clock::now() >= retry_at_) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat(last_error_, " (tried again after ", backoff_.count(), " s)"));
}

absl::Status SinkBackoff::last() const {
  if (last_error_.empty()) return absl::OkStatus();
  return absl::UnavailableError(last_error_);
}

}  // namespace ringtail::reader
