#include "ringtail/reader/sinks/stream_sink.hpp"

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"

namespace ringtail::reader {

StreamSink::StreamSink(std::FILE* stream, std::string name) : stream_(stream), name_(std::move(name)) {}

absl::Status StreamSink::error(int errno_value, std::string_view what) const {
  if (errno_value == 0) errno_value = EIO;
  return absl::ErrnoToStatus(errno_value, absl::StrCat("cannot ", std::string(what), " ", name_));
}

absl::Status StreamSink::write(const EventBatch& batch) {
  const std::string_view lines = batch.text;
  if (lines.empty()) return absl::OkStatus();
  errno = 0;
  if (std::fwrite(lines.data(), 1, lines.size(), stream_) != lines.size()) return error(errno, "write to");
  return absl::OkStatus();
}

absl::Status StreamSink::flush() {
  errno = 0;
  if (std::fflush(stream_) != 0) return error(errno, "flush");
  return absl::OkStatus();
}

}  // namespace ringtail::reader
