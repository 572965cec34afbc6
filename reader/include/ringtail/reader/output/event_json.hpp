// Decoded records of one segment -> JSONL lines, as docs/FORMAT.md specifies.
//
//   {"timestamp":"2026-11-22T21:00:00.123456789Z","level":"INFO","message":"tool call",
//    "service":"agent","pid":1234,"tid":1240,"seq":17,"step_id":3,"duration_ms":1.5,"tool":"write_file"}
//
// Reserved keys come first (timestamp, level, message, service, pid, tid,
// seq), then the event's fields at top level in call-site order; a field
// whose name is reserved (or already taken by an earlier key) is written with
// leading underscores until it is unique. Every line is valid UTF-8 JSON,
// whatever bytes the producer logged (see json_text.hpp).
//
// One formatter per segment; not thread-safe (it caches the formatted second).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

#include "ringtail/reader/ingest/decoded_event.hpp"
#include "ringtail/reader/ingest/segment_view.hpp"
#include "ringtail/reader/output/json_text.hpp"
#include "ringtail/shm/layout.hpp"

namespace ringtail::reader {

// A field of a line the reader writes itself (drops, crashes, corruption).
struct NoteField {
  std::string_view key;
  std::variant<bool, int64_t, uint64_t, double, std::string_view> value;
};

class EventJsonFormatter {
 public:
  explicit EventJsonFormatter(const SegmentIdentity& identity);

  // Wall-clock ns of an event, from the segment's clock calibration.
  int64_t realtime_ns(uint64_t timestamp_raw) const;

  // Each appends one '\n'-terminated line to `out`.
  void append_event(std::string& out, const DecodedEvent& event);
  // {"timestamp":…,"level":"WARN","message":"ringtail.dropped","service":…,"pid":…,"tid":…,
  //  "dropped":N,"first_seq":A,"last_seq":B}. `realtime_ns` is when the gap
  // was seen: the timestamp of the event after it, or the drain time for
  // drops at the end of a ring.
  void append_gap(std::string& out, const DropGap& gap, int64_t realtime_ns);
  // {"timestamp":…,"level":…,"message":<message>,"service":…,"pid":…, fields…}
  // for what the reader itself reports ("ringtail.crashed", "ringtail.ring_corrupt", …).
  void append_note(std::string& out, int64_t realtime_ns, shm::Level level, std::string_view message,
                   std::initializer_list<NoteField> fields);

 private:
  SegmentIdentity identity_;
  std::string service_json_;  // the escaped, quoted service name
  TimestampFormatter timestamps_;
};

}  // namespace ringtail::reader
