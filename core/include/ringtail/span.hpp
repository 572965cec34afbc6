// Span: a timed operation in a W3C-compatible trace.
//
//   {
//     ringtail::Span span("process_query", ringtail::kv("query_id", id));
//     RINGTAIL_INFO("tool call", ...);        // the line carries trace_id and span_id
//     if (!ok) span.set_status(ringtail::SpanStatus::kError);
//   }                                         // ends the span: the reader writes span.end with duration_ms
//
// A span is a frame (see context.hpp): beginning one writes a frame record
// with its ids, name and attributes, and the reader writes a "span.start"
// line; every event of the thread until it ends carries its trace_id and
// span_id; ending it writes a pop record, and the reader writes "span.end"
// with status and duration_ms (the two records' timestamps). Its parent is
// the thread's current span, if any; otherwise it starts a new trace, or
// joins a remote one given a TraceParent (parse_traceparent() of an incoming
// header). traceparent() formats the header to pass on to another service.
//
// Cost: two random ids (no syscall), the record encoded into the thread's
// frame stack and copied into the ring, then one pop record at the end (see
// bench/README.md). A span must end on the thread that began it; it is
// neither copyable nor movable.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ringtail/detail/frame_encoding.hpp"
#include "ringtail/field.hpp"
#include "ringtail/trace_context.hpp"

namespace ringtail {

enum class SpanStatus : uint8_t { kOk, kError };

namespace detail {
// The innermost span bound on the calling thread: its trace and span id
// (both zero when none).
struct CurrentSpan {
  TraceId trace_id;
  uint64_t span_id = 0;
  uint8_t trace_flags = 0;
};
CurrentSpan current_span() noexcept;
// The sampling draw of a trace: every event of the trace gets the same one.
uint32_t trace_draw(const TraceId& trace_id) noexcept;
}  // namespace detail

class Span {
 public:
  // A child of the thread's current span, or the root of a new trace.
  template <class... V>
  explicit Span(std::string_view name, const Field<V>&... attributes) noexcept : owner_(&detail::t_thread_state) {
    const detail::CurrentSpan parent = detail::current_span();
    if (parent.trace_id.valid()) {
      begin(name, parent.trace_id, parent.span_id, parent.trace_flags, attributes...);
    } else {
      begin(name, new_trace_id(), 0, kSampledFlag, attributes...);
    }
  }
  // Joins a trace that came from elsewhere (e.g. an incoming traceparent).
  template <class... V>
  Span(std::string_view name, const TraceParent& remote_parent, const Field<V>&... attributes) noexcept
      : owner_(&detail::t_thread_state) {
    if (remote_parent.trace_id.valid()) {
      begin(name, remote_parent.trace_id, remote_parent.parent_span_id, remote_parent.trace_flags, attributes...);
    } else {
      begin(name, new_trace_id(), 0, kSampledFlag, attributes...);
    }
  }
  ~Span() { end(); }

  Span(const Span&) = delete;
  Span& operator=(const Span&) = delete;

  void set_status(SpanStatus status) noexcept { status_ = status; }

  // Ends the span now with status ERROR and the error (anything kv("error",
  // …) takes: ringtail::Error, an exception) in its span.end line.
  template <class E>
  void fail(const E& error) noexcept {
    status_ = SpanStatus::kError;
    finish(kv("error", error));
  }

  // Ends the span (once; later calls and the destructor do nothing).
  void end() noexcept { finish(); }

  const TraceId& trace_id() const noexcept { return trace_id_; }
  uint64_t span_id() const noexcept { return span_id_; }
  // "00-<trace_id>-<span_id>-<flags>", for the next hop's traceparent header.
  std::string traceparent() const { return format_traceparent(trace_id_, span_id_, trace_flags_); }

 private:
  static constexpr uint8_t kSampledFlag = 1;

  template <class... V>
  void begin(std::string_view name, const TraceId& trace_id, uint64_t parent_span_id, uint8_t trace_flags,
             const Field<V>&... attributes) noexcept {
    static_assert(sizeof...(V) <= shm::kMaxFields, "a span has at most 32 attributes");
    trace_id_ = trace_id;
    span_id_ = new_span_id();
    trace_flags_ = trace_flags;
    const uint32_t max_string = detail::frame_string_cap();
    const uint32_t size = sizeof(shm::FrameHeader) + sizeof(shm::SpanIds) + detail::encoded_bytes(name, max_string) +
                          (uint32_t{0} + ... + detail::inline_field_bytes(attributes, max_string));
    std::byte* out = detail::begin_push(size, shm::FrameKind::kSpan, sizeof...(V));
    if (out == nullptr) return;
    const shm::SpanIds ids{trace_id.high, trace_id.low, span_id_, parent_span_id, trace_flags, {}};
    std::memcpy(out, &ids, sizeof(ids));
    out = detail::encode(out + sizeof(ids), name, max_string);
    ((out = detail::encode_inline_field(out, attributes, max_string)), ...);
    depth_ = detail::finish_push(out, /*is_span=*/true, detail::trace_draw(trace_id));
  }

  template <class... V>
  void finish(const Field<V>&... outcome) noexcept {
    if (depth_ < 0 || owner_ != &detail::t_thread_state) return;
    const int depth = depth_;
    depth_ = -1;
    const std::string_view status = status_ == SpanStatus::kOk ? "OK" : "ERROR";
    const Field<std::string_view> status_field{"status", status};
    const uint32_t max_string = detail::frame_string_cap();
    const uint32_t size = sizeof(shm::FrameHeader) + detail::inline_field_bytes(status_field, max_string) +
                          (uint32_t{0} + ... + detail::inline_field_bytes(outcome, max_string));
    const detail::PopWrite pop = detail::begin_pop(depth, size, shm::FrameKind::kSpan, 1 + sizeof...(V));
    if (pop.at == nullptr) return;
    std::byte* out = detail::encode_inline_field(pop.at, status_field, max_string);
    ((out = detail::encode_inline_field(out, outcome, max_string)), ...);
    (void)out;  // the encoders fill exactly the reserved size
    detail::finish_pop(pop);
  }

  detail::ThreadState* owner_;
  TraceId trace_id_;
  uint64_t span_id_ = 0;
  int depth_ = -1;
  uint8_t trace_flags_ = 0;
  SpanStatus status_ = SpanStatus::kOk;
};

}  // namespace ringtail
