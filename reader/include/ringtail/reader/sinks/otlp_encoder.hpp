// OtlpEncoder: the drain's shaped lines (event_batch.hpp) as OpenTelemetry
// OTLP/HTTP export requests, protobuf or JSON, for OtlpSink. docs/FORMAT.md
// ("OpenTelemetry export") gives the mapping; in short:
//
//   - every line but a span's own becomes a LogRecord: its time, the time it
//     was added (observed), severity from the level, body and event name the
//     message, trace and span ids from the line's context, attributes from
//     tid, seq and every field;
//   - a span.end becomes a Span, with the attributes of its span.start when
//     that was seen (kept until the end, within a bound);
//   - the agent vocabulary maps onto the GenAI semantic conventions: a
//     step.end is also an "execute_tool {tool}" span, an llm.call a
//     "chat {model}" span, a memory.op a memory operation span;
//   - lines are grouped by producer process, one Resource each
//     (service.name, process.pid, host.name).
//
// Nothing of a line is trusted: a "trace_id" that is not 32 hex digits is an
// attribute like any other, and the spans kept open are bounded in count and
// bytes (what does not fit is counted, never an unbounded table).
//
// Threading: one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "ringtail/reader/ingest/segment_view.hpp"
#include "ringtail/reader/sinks/event_batch.hpp"

namespace ringtail::reader {

enum class OtlpEncoding : uint8_t { kProtobuf, kJson };

// The Content-Type of a request body in `encoding`.
constexpr const char* otlp_content_type(OtlpEncoding encoding) {
  return encoding == OtlpEncoding::kJson ? "application/json" : "application/x-protobuf";
}

// The requests for everything added since the last take(); a body is empty
// when it has no record.
struct OtlpRequests {
  std::string logs;    // opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest
  std::string traces;  // opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest
  uint64_t log_records = 0;
  uint64_t spans = 0;
};

struct OtlpEncoderCounts {
  // span.end lines whose span.start was not kept (lost, or the open-span
  // bound was reached): exported with start = end - duration_ms and only the
  // end's attributes.
  uint64_t spans_without_start = 0;
  // span.start lines not kept because the open-span bound was reached.
  uint64_t span_starts_not_kept = 0;
};

class OtlpEncoder {
 public:
  // Open spans kept for their ends: at most this many, of at most this many
  // bytes of attributes in all.
  static constexpr size_t kMaxOpenSpans = 65536;
  static constexpr size_t kMaxOpenSpanBytes = size_t{32} << 20;

  OtlpEncoder(OtlpEncoding encoding, std::string_view host_name);
  ~OtlpEncoder();
  OtlpEncoder(const OtlpEncoder&) = delete;
  OtlpEncoder& operator=(const OtlpEncoder&) = delete;

  // Adds every line of the batch; observed_ns is when the reader got them.
  void add(const EventBatch& batch, int64_t observed_ns);

  // What take() would return, in encoded bytes and records.
  size_t pending_bytes() const;
  uint64_t pending_records() const;

  OtlpRequests take();

  // The producer is gone: its open spans will not end.
  void segment_finished(const SegmentIdentity& segment);

  OtlpEncoderCounts counts() const;

 private:
  class Impl;
  template <class Writer>
  class EncoderFor;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ringtail::reader
