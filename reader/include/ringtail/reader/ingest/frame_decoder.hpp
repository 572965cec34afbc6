// Decodes frame records (shm FrameHeader: kFramePushId, kFramePopId), the
// records of a producer thread's ScopedContext and Span scopes.
//
// Input is the reader's private copy of the record, as for events. Checked:
// a known kind, only known flag bits, depth below kMaxFrameDepth, at most
// kMaxFields fields, each with a known type, a key of at most
// kMaxInlineKeyBytes with zero padding and a value as decode_value() checks
// it; a span push's SpanIds and name; no bytes left over. Anything else is an
// error describing the first problem, and `out` must not be used.
//
// Threading: a pure function of its arguments.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "ringtail/reader/ingest/decoded_event.hpp"
#include "ringtail/shm/layout.hpp"

namespace ringtail::reader {

struct DecodedFrame {
  bool push = true;  // kFramePushId; false for kFramePopId
  bool resent = false;
  // The frame: for a push, everything; for a pop, its depth, kind and
  // timestamp, with the pop's fields (a span's outcome) in `fields`.
  ContextFrame frame;
};

absl::Status decode_frame(const std::byte* record, uint32_t size, uint32_t max_string_bytes, DecodedFrame& out);

}  // namespace ringtail::reader
