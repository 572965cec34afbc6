// Decoded records of one segment -> JSONL lines, as docs/FORMAT.md specifies.
//
//   {"timestamp":"2026-11-22T21:00:00.123456789Z","level":"INFO","message":"tool call",
//    "service":"agent","pid":1234,"tid":1240,"seq":17,"step_id":3,"duration_ms":1.5,"tool":"write_file"}
//
// Reserved keys come first (timestamp, level, message, service, pid, tid,
// seq), then the event's fields at top level in call-site order, then the
// fields of the thread's context (docs/FORMAT.md, "Context and spans"); a field
// whose name is reserved (or already taken by an earlier key) is written with
// leading underscores until it is unique. Every line is valid UTF-8 JSON,
// whatever bytes the producer logged (see json_text.hpp).
//
// One formatter per segment; not thread-safe (it caches the formatted second,
// and each call site's level, message and keys as formatted text).
//
// Contract: the CallSiteInfo an event points to must not change, nor be freed
// and another put at its address, while the formatter lives (CallSiteTable's
// entries never are; the formatter lives beside the segment's table). A
// different CallSiteInfo under an id seen before is fine: the cache follows.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ringtail/reader/ingest/decoded_event.hpp"
#include "ringtail/reader/ingest/segment_view.hpp"
#include "ringtail/reader/ingest/timestamp.hpp"
#include "ringtail/reader/output/json_text.hpp"
#include "ringtail/reader/output/redaction.hpp"
#include "ringtail/reader/sinks/event_batch.hpp"
#include "ringtail/shm/layout.hpp"

namespace ringtail::reader {

// A field of a line the reader writes itself (drops, crashes, corruption).
struct NoteField {
  std::string_view key;
  std::variant<bool, int64_t, uint64_t, double, std::string_view> value;
};

class EventJsonFormatter {
 public:
  // With a redactor, field values go through its rules (redaction.hpp), and
  // with its default rules every string written (notes' too) is scrubbed of
  // credentials; it must outlive the formatter.
  explicit EventJsonFormatter(const SegmentIdentity& identity, const Redactor* redactor = nullptr);

  // Wall-clock ns of an event, from the segment's clock calibration.
  int64_t realtime_ns(uint64_t timestamp_raw);

  // Each appends one '\n'-terminated line to `out.text`, and its shape
  // (sinks/event_batch.hpp: kind, time, level, where each key and value is)
  // to `out.lines` and `out.fields`.
  void append_event(ShapedLines& out, const DecodedEvent& event) {
    append_event(out, event, realtime_ns(event.timestamp_raw));
  }
  // The same, with the event's realtime_ns() already at hand.
  void append_event(ShapedLines& out, const DecodedEvent& event, int64_t realtime_ns);
  // {"timestamp":…,"level":"WARN","message":"ringtail.dropped","service":…,"pid":…,"tid":…,
  //  "dropped":N,"first_seq":A,"last_seq":B[,"cause":"overwritten"]}. `realtime_ns` is when the gap
  // was seen: the timestamp of the event after it, or the drain time for
  // drops at the end of a ring.
  void append_gap(ShapedLines& out, const DropGap& gap, int64_t realtime_ns);
  // {"timestamp":…,"level":…,"message":<message>,"service":…,"pid":…, fields…}
  // for what the reader itself reports ("ringtail.crashed", "ringtail.ring_corrupt", …).
  // Field keys follow the event rule, with timestamp, level, message,
  // service, pid, seq and _cut reserved (only events have a "seq").
  void append_note(ShapedLines& out, int64_t realtime_ns, shm::Level level, std::string_view message,
                   std::initializer_list<NoteField> fields) {
    append_note(out, realtime_ns, level, message, std::span<const NoteField>(fields.begin(), fields.size()));
  }
  void append_note(ShapedLines& out, int64_t realtime_ns, shm::Level level, std::string_view message,
                   std::span<const NoteField> fields);
  // {"timestamp":…,"level":"INFO","message":"span.start","service":…,"pid":…,"tid":…,"span":<name>,
  //  "trace_id":…,"span_id":…,"parent_span_id":…, attributes…, context…}, or for an end
  //  "span.end" (WARN when its status is ERROR) with the outcome (status, error) and
  //  "duration_ms" from the span's start in place of the attributes.
  void append_span(ShapedLines& out, const SpanEdge& edge, int64_t realtime_ns);
  // The level append_span writes the edge's line at.
  static shm::Level span_level(const SpanEdge& edge);

 private:
  // A key written on the current line: its escaped text (without the
  // quotes) at out[offset, offset + size).
  struct KeySpan {
    size_t offset;
    size_t size;
  };
  // A cut string field of the current line, for the trailing "_cut" object.
  struct CutField {
    KeySpan key;
    uint32_t original_bytes;
  };
  // What a call site's lines share, formatted once: valid for the
  // CallSiteInfo at `site` (see the class contract on immutability).
  struct SiteCache {
    const CallSiteInfo* site = nullptr;
    std::vector<const RedactionRule*> rules;    // per field; empty when no field has a rule
    size_t trusted_hash = kNoTrustedHashField;  // the field trusted to hold a keyed hash (redaction.hpp)
    std::string head;                           // ,"level":…,"message":…,"service":…,"pid":…,"tid":
    std::string keys;                           // ,"<key>": of each field (collisions resolved), concatenated
    std::vector<uint32_t> key_ends;             // end of each field's part of `keys`
    uint64_t name_bloom = 0;                    // name_bit() of each field's name
    uint32_t message_size = 0;                  // the escaped message's length, quotes excluded
    uint64_t layout = 0;                        // LineShape::layout of its lines, new at each (re)build
    // What any line of this site needs at most, strings' and errors' text
    // aside: the head, tid, seq, keys, braces, and a number's bound per field.
    size_t fixed_bound = 0;
  };
  // A thread's context as the fields it adds to a line, formatted once per
  // state of the ring's frames (ThreadContext::version).
  struct ContextEntry {
    std::string name;       // the field's name as the producer gave it
    std::string text;       // ,"<key>":<value>, redaction applied, reserved names prefixed with '_'
    uint32_t key_size = 0;  // the key starts at text[2]; the value follows it and its '"' and ':'
  };
  struct ContextCache {
    uint64_t version = 0;
    std::vector<ContextEntry> entries;  // outermost frame first; a name appears once (the innermost)
    std::string all;                    // every entry's text, concatenated
    uint64_t name_bloom = 0;
  };

  // The shape of the line being written (sinks/event_batch.hpp): begin_line()
  // before its first byte, a field_span() per key and value written after the
  // head, end_line() after its '\n'.
  void begin_line(ShapedLines& out, LineKind kind);
  void head_shape(int64_t realtime_ns, shm::Level level, size_t message_offset, size_t message_size);
  void field_span(size_t key_offset, size_t key_size, size_t value_offset, size_t value_end);
  void end_line();
  // The cache for this event's call site (built or rebuilt if needed), or
  // nullptr when the event cannot use one (no call site, implausible id).
  const SiteCache* site_cache(const DecodedEvent& event);
  // The fast path for an event whose call site has a cache: an upper bound
  // of its line's length (SIZE_MAX when a value must be scrubbed of
  // credentials: the piecewise path does that), then the line written
  // through one reservation.
  size_t reserved_line_bound(const SiteCache& cache, const DecodedEvent& event) const;
  void write_cached_line(std::string& out, const SiteCache& cache, const DecodedEvent& event, int64_t ns, size_t bound);
  // The event's line without its context.
  void append_event_fields(std::string& out, const SiteCache* cache, const DecodedEvent& event, int64_t ns);
  // Starts a line: {"timestamp":…,"level":…,"message":…,"service":…,"pid":…
  void append_head(std::string& out, int64_t realtime_ns, shm::Level level, std::string_view message);
  // Appends ,"<key>": for a field, with leading underscores until the key is
  // neither in `reserved` nor one already written on this line (keys_).
  KeySpan append_key(std::string& out, std::string_view name, const std::string_view* reserved, size_t reserved_count);
  // A field's value as a line shows it, rendered one way for both paths
  // (defined in event_json.cpp).
  struct ShownValue;
  // The value as logged, its strings scrubbed of credentials when `scrub`
  // (in scratch_: valid until the next call).
  ShownValue shown_value(const FieldValue& value, bool scrub);
  // Lists the value in "_cut" when the producer cut it.
  void note_cut(const FieldValue& value, KeySpan key);
  // The redaction rule of a field named `name`; nullptr without a redactor.
  const RedactionRule* rule_for(std::string_view name) const;
  // A field's value under `rule`: append_redacted, or (nullptr) append_value
  // with the formatter's scrubbing.
  void append_field_value(std::string& out, const RedactionRule* rule, const FieldValue& value, KeySpan key,
                          bool trusted_hash);
  // A field's value as it is (its strings scrubbed of credentials when
  // `scrub`), or as its redaction rule says. `trusted_hash`: the field is
  // the one of its call site trusted to hold a keyed hash already.
  void append_value(std::string& out, const FieldValue& value, KeySpan key, bool scrub);
  void append_redacted(std::string& out, const RedactionRule& rule, const FieldValue& value, KeySpan key,
                       bool trusted_hash);
  // A string or an error value as the line shows it: scrubbed of
  // credentials when `scrub`, the result in scratch_ (valid until the next call).
  std::string_view shown_string(std::string_view text, bool scrub, size_t scratch);
  JsonError shown_error(const ErrorValue& error, bool scrub);
  // Ends a line: the "_cut" object if any field was cut, then "}\n".
  void finish_line(std::string& out);
  // Writes the "_cut" object of cuts_ at `p` (keys read from the line that
  // starts at `line`); returns the end. The one writer of "_cut".
  char* write_cut_object(char* p, const char* line) const;
  // The context fields for the frames [0, frame_count) of `context` of ring `slot`.
  const ContextCache& context_cache(uint32_t slot, const ThreadContext& context, size_t frame_count);
  // Appends the context's fields that the line's own fields (`names`, with
  // their bloom) do not already have.
  template <class Names>
  void append_context(std::string& out, const ContextCache& cache, const Names& names, uint64_t name_bloom);

  SegmentIdentity identity_;
  std::string service_json_;  // the escaped, quoted service name
  std::string service_pid_;   // ,"service":<service_json_>,"pid":<pid>
  TimestampFormatter timestamps_;
  // The last tid written, as text: a thread's lines come in runs, and its
  // tid is then copied rather than converted again.
  uint64_t tid_ = 0;
  uint8_t tid_size_ = 0;  // 0: none yet
  char tid_text_[24] = {};
  char* write_tid(char* p, uint64_t tid);
  // The last seq written, as text: in a run of a thread's lines each seq is
  // the one before plus one, mostly a change of the last digit alone.
  uint64_t seq_ = 0;
  uint8_t seq_size_ = 0;  // 0: none yet
  char seq_text_[24] = {};
  char* write_seq(char* p, uint64_t seq);
  RealtimeConverter clock_;
  const Redactor* redactor_ = nullptr;
  bool scrub_ = false;                  // the redactor scrubs credentials out of string values
  std::string scratch_[3];              // scrubbed strings of the current value (capacity reused)
  std::vector<KeySpan> keys_;           // field keys written on the current line (capacity reused)
  std::vector<CutField> cuts_;          // cut fields of the current line (capacity reused)
  std::vector<SiteCache> sites_;        // in order of first use
  std::vector<uint32_t> site_index_;    // by call-site id: index in sites_ + 1, 0 when none
  std::vector<ContextCache> contexts_;  // by ring slot
  ContextCache span_context_;           // for span lines (not cached across lines)
  ShapedLines* shaped_ = nullptr;       // where the current line goes (between begin_line and end_line)
  LineShape shape_;                     // the current line's shape (offset, size and fields set by end_line)
  size_t first_field_ = 0;              // shaped_->fields.size() at begin_line
};

}  // namespace ringtail::reader
