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

// By FieldType: kBool -> bool; kI8..kI64 -> int64_t; kU8..kU64 -> uint64_t;
// kF32 -> float; kF64 -> double; kString -> StringValue; kDurationNs -> DurationValue.
using FieldValue = std::variant<bool, int64_t, uint64_t, float, double, StringValue, DurationValue>;

struct DecodedField {
  std::string_view name;  // points into the CallSiteInfo
  shm::FieldType type = shm::FieldType::kBool;
  FieldValue value;
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
};

// Events [first_seq, last_seq] of ring `slot_index` were dropped by its
// writer (tid, as the owner was known at the time), count = last - first + 1.
struct DropGap {
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

class RecordSink {
 public:
  virtual ~RecordSink() = default;
  virtual void on_event(const DecodedEvent& event) = 0;
  virtual void on_gap(const DropGap& gap) = 0;
  virtual void on_thread_start(const ThreadStart&) {}
};

}  // namespace ringtail::reader
