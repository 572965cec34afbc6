// What the ingest layer hands on: decoded events, drop gaps, thread starts.
//
// A RingCursor calls a RecordSink once per item, in ring order. The objects
// passed to the sink are owned by the cursor and reused from one record to the
// next (so that a steady stream decodes without allocating): they are valid
// only during the call. Copy what you keep; a copied DecodedEvent is
// self-contained except for `callsite` and the field names, which point into
// the CallSiteTable and stay valid for that table's life.
//
// Sequence numbers (RecordHeader::seq) are per ring and count every event the
// ring's writers handled, committed or dropped, across all the threads that
// owned the ring in turn. The cursor expects each event's seq to be the
// previous one's + 1; when it is larger, a DropGap reports the missing seqs
// before the event (the events were dropped: ring full or record too big).
// A seq that goes backwards is a corrupt ring.
//
// Threading: plain values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ringtail/reader/ingest/callsite_table.hpp"
#include "ringtail/shm/layout.hpp"

namespace ringtail::reader {

struct StringValue {
  std::string bytes;            // as stored: at most the producer's max_string_bytes
  uint32_t original_bytes = 0;  // the value's length before it was cut (saturated at UINT32_MAX)
  bool cut = false;             // original_bytes > bytes.size()
  bool operator==(const StringValue&) const = default;
};

struct DurationValue {
  int64_t ns = 0;
  bool operator==(const DurationValue&) const = default;
};

// A kError value (shm ErrorHeader and three strings), as stored: `type` is
// still mangled when type_mangled (the JSON writer demangles it), and
// `stack` holds the captured frames separated by '\n' (empty: none).
struct ErrorValue {
  StringValue type;
  StringValue message;
  StringValue stack;
  int64_t code = 0;  // meaningful with has_code
  bool has_code = false;
  bool type_mangled = false;
  // Whether any of the three strings was cut at max_string_bytes.
  bool cut() const { return type.cut || message.cut || stack.cut; }
  bool operator==(const ErrorValue&) const = default;
};

// A kNull value: no value (JSON null), stored as a zero word.
struct NullValue {
  bool operator==(const NullValue&) const = default;
};

// By FieldType: kBool -> bool; kI8..kI64 -> int64_t; kU8..kU64 -> uint64_t;
// kF32 -> float; kF64 -> double; kString -> StringValue; kDurationNs -> DurationValue;
// kError -> ErrorValue; kNull -> NullValue. New alternatives go last: the
// JSON writer switches on the index.
using FieldValue =
    std::variant<bool, int64_t, uint64_t, float, double, StringValue, DurationValue, ErrorValue, NullValue>;

struct DecodedField {
  std::string_view name;  // points into the CallSiteInfo
  shm::FieldType type = shm::FieldType::kBool;
  FieldValue value;
};

// One frame of a thread's context (shm FrameHeader): a ScopedContext's
// fields, or a Span's ids, name and attributes.
struct ContextField {
  std::string name;
  shm::FieldType type = shm::FieldType::kBool;
  FieldValue value;
};
struct ContextFrame {
  uint32_t depth = 0;  // its index in the producer thread's stack
  shm::FrameKind kind = shm::FrameKind::kContext;
  uint64_t timestamp_raw = 0;  // when it was bound
  std::vector<ContextField> fields;
  // kSpan only: the name, and the ids as lowercase hex.
  std::string span_name;
  std::string trace_id;        // 32 hex digits
  std::string span_id;         // 16 hex digits
  std::string parent_span_id;  // 16 hex digits; empty for a root span
  uint8_t trace_flags = 0;
};
// The frames bound on a ring's thread, outermost first, as of the record
// being delivered. `version` changes whenever they do (and differs between
// rings), so a consumer may cache what it derives from them.
struct ThreadContext {
  std::vector<ContextFrame> frames;
  uint64_t version = 0;
};

struct DecodedEvent {
  uint32_t slot_index = 0;
  // Owner of the ring when the record was written, from the last
  // ThreadStartRecord. owner_known is false for records a resumed cursor
  // meets before any ThreadStartRecord: tid and thread_name then come from
  // the ring's directory slot, which names its current owner (correct unless
  // the ring changed hands since those records were written).
  uint32_t tid = 0;
  std::string thread_name;
  bool owner_known = false;
  uint64_t seq = 0;
  uint64_t timestamp_raw = 0;  // see timestamp.hpp for wall-clock time
  uint32_t callsite_id = 0;
  const CallSiteInfo* callsite = nullptr;  // never null, always valid, for a delivered event
  std::vector<DecodedField> fields;        // callsite->fields.size() entries, in order
  // The thread's frames when the event was written (never null for a
  // delivered event; usually empty). Owned by the cursor: valid during the call.
  const ThreadContext* context = nullptr;
};

// A span began (a kSpan frame was pushed) or ended (popped), on ring
// `slot_index`. Resent frames (after a loss) are not reported.
struct SpanEdge {
  bool end = false;
  uint32_t slot_index = 0;
  uint32_t tid = 0;
  std::string thread_name;
  uint64_t timestamp_raw = 0;              // of the push (start) or the pop (end)
  const ThreadContext* context = nullptr;  // the thread's frames: the span's own and those outside it
  size_t span_index = 0;                   // the span's frame: context->frames[span_index]
  std::vector<ContextField> outcome;       // end: the pop's fields (status, error)
};

// Events [first_seq, last_seq] of ring `slot_index` were dropped by its
// writer (tid, as the owner was known at the time), count = last - first + 1.
struct DropGap {
  // Why the events are missing. kOverwritten: a flight-mode ring overwrote
  // them before this reader copied them (the writer does not wait for it).
  enum class Cause : uint8_t { kDropped, kOverwritten };
  Cause cause = Cause::kDropped;
  uint32_t slot_index = 0;
  uint32_t tid = 0;
  std::string thread_name;
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;
  uint64_t count = 0;
};

// A thread (re)claimed ring `slot_index`; its first event will carry `seq`.
struct ThreadStart {
  uint32_t slot_index = 0;
  uint32_t tid = 0;
  std::string thread_name;
  uint64_t seq = 0;
};

// A record the reader did not decode because it is larger than the reader
// copies (reader_limits.hpp): an event (its seq is accounted for, so no gap
// follows) or a frame pop.
struct SkippedRecord {
  uint32_t tid = 0;
  uint32_t callsite_id = 0;  // or the control id
  uint64_t seq = 0;
  uint64_t timestamp_raw = 0;
  uint64_t bytes = 0;
};

class RecordSink {
 public:
  virtual ~RecordSink() = default;
  virtual void on_event(const DecodedEvent& event) = 0;
  virtual void on_gap(const DropGap& gap) = 0;
  virtual void on_thread_start(const ThreadStart&) {}
  virtual void on_span(const SpanEdge&) {}
  virtual void on_skipped(const SkippedRecord&) {}
};

}  // namespace ringtail::reader
