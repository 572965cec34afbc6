// StreamSink: the lines to a stdio stream (stdout for `ringtail tail`).
//
// write() is fwrite(); flush() is fflush(), so after an OK flush the lines
// are in the OS. Errors name the stream and the OS reason; a reader of a pipe
// that went away is EPIPE, returned as an error, provided SIGPIPE is ignored
// (the caller's job: with the default action the process dies first).
// discard() does nothing: what reached the stream cannot be taken back, so
// after an error the lines the engine reads again may appear twice.
//
// Threading: one thread at a time; the stream is not owned (not closed).
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "ringtail/reader/sinks/event_sink.hpp"

namespace ringtail::reader {

class StreamSink : public EventSink {
 public:
  // `name` is for error messages ("stdout").
  explicit StreamSink(std::FILE* stream, std::string name = "stdout");

  absl::Status write(const EventBatch& batch) override;
  absl::Status flush() override;

 private:
  absl::Status error(int errno_value, std::string_view what) const;

  std::FILE* stream_;
  std::string name_;
};

}  // namespace ringtail::reader
