// Exports of stored events (docs/STORAGE.md) for other tools: the library
// under `ringtail export`. The lines a Scanner hands on (those that pass a
// Filter, in timestamp order) become one JSON document, written as it is
// produced: a writer holds one output buffer (flushed to its sink every
// kExportFlushBytes) and, for a trace, the step starts still waiting for their
// end; never the whole export.
//
// json: the stored lines, as stored (byte for byte), in one object:
//
//   {"events":[
//   {"timestamp":"2026-11-22T21:00:00.123456789Z","level":"INFO",...},
//   ...
//   ],"total_events":2,"exported_at":"2026-11-23T08:00:00.000000000Z"}
//
//   one event per line; "total_events" counts them; "exported_at" is when the
//   export was made, RFC 3339 UTC with nanoseconds like every timestamp.
//   Zero events give {"events":[],...}.
//
// chrome-trace: the Trace Event Format's object form, which Perfetto UI
// (ui.perfetto.dev) and chrome://tracing open:
//
//   {"traceEvents":[
//   {"name":"process_name","ph":"M","pid":1234,"args":{"name":"agent"}},
//   {"name":"policy.check","cat":"INFO","ph":"i","s":"t","ts":1795381200123456,"pid":1234,"tid":1240,"args":{...}},
//   {"name":"write_file","cat":"INFO","ph":"X","ts":1795381200123400,"dur":1520,"pid":1234,"tid":1240,"args":{...}},
//   ...
//   ],"displayTimeUnit":"ms"}
//
//   * Every line becomes an instant event: "ph":"i", "s":"t" (thread scope;
//     "s":"p", process scope, for a line without a tid, such as a reader note),
//     "name" the message, "cat" the level, "pid" and "tid" the line's, and
//     "args" every other field (all but timestamp, level, message, pid and
//     tid: service and seq stay, in args).
//   * "ts" is whole microseconds since the Unix epoch: the RFC 3339
//     timestamp read as integer nanoseconds and truncated (floor_micros), so
//     "ts" is the timestamp's first six fractional digits
//     (2026-11-22T21:00:00.123456789Z is 1795381200123456). Integers, not a
//     fraction for the nanoseconds, because both viewers keep times in
//     doubles: a fractional "ts" around 1.8e15 us is held to 0.25 us, and
//     Perfetto turns it into ns by a double multiplication that is off by up
//     to 128 ns, while it multiplies an integer exactly. Rounded separately
//     like that, a step that ends 100 ns before the next one begins on the
//     same thread can come out overlapping it, and Perfetto does not draw
//     such slices side by side. Truncation is monotonic: events keep their
//     order, and slices that nest or follow each other still do. (The json
//     format keeps the nanoseconds.)
//   * Step pairs become complete events, "ph":"X", with "ts" the start's and
//     "dur" = floor_micros(end) - floor_micros(start) (0 if the end's
//     timestamp is before the start's), so that "ts" + "dur" is exactly the
//     end's "ts": see Pairing. The X event's "name" is the pair's "tool"
//     field (its text if not a string) if there is one, else the message
//     prefix ("step"); "cat"
//     the end's level (the outcome); "pid" and "tid" the start's; "args" the
//     start's fields merged with the end's, the end's value winning for a key
//     both have (start's keys first, in their order, then the end's others).
//   * Each process is named once, by a metadata event ("ph":"M",
//     "name":"process_name", "args":{"name":<service>}) written before its
//     first event: the service of the first line of that pid that has one (a
//     pid reused by another service later keeps the first name).
//   * A line without a readable timestamp cannot be placed on a timeline: it
//     is left out and counted (ExportStats::no_timestamp).
//   * Events are written as their lines are read, in timestamp order, except
//     X events, which are written when their end is read: the format does not
//     require order, and both viewers sort.
//
// Pairing. A line whose message is P + ".start" (P not empty) opens a pair;
// it is closed by a later line whose message is P + ".end" and that has the
// same pairing key:
//
//   key = (pid, P, identity), where identity is the first that applies:
//     1. the line has "span_id":  (trace_id, span_id)   (a missing trace_id
//        counts as null): spans, "span.start"/"span.end" (issue 5), pair by
//        their ids whatever thread ends them;
//     2. the line has "run_id" or "step_id":  (run_id, step_id)  (a missing
//        one counts as null): steps as examples/agent_sim logs them;
//     3. otherwise:  (tid)  the same thread.
//
//   Values compare as JSON values in ringtail's canonical text, so 3 and 3.0
//   are the same id, "3" and 3 are not. Open starts with the same key form a
//   stack: an end closes the most recent one (so nested pairs of one thread
//   nest). An end that finds no open start, and a start that is never closed,
//   stay instant events (the latter written at the end of the trace). Open
//   starts are held (a copy of the line) until their end; at most
//   max_open_starts at a time: beyond that the oldest is given up and written
//   as an instant event.
//
//   Perfetto draws the X events of one thread as a stack and expects them to
//   nest; pairs that overlap without nesting on one thread (possible with
//   identities 1 and 2, whose pairs need not be on one thread) are drawn as
//   well as the format allows.
//
// Threading: a writer, and export_events, run on one thread; writers are
// independent.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ringtail/reader/query/catalog.hpp"
#include "ringtail/reader/query/filter.hpp"
#include "ringtail/reader/query/scanner.hpp"
#include "simdjson.h"

namespace ringtail::reader {

enum class ExportFormat : uint8_t {
  kJson,         // "json"
  kChromeTrace,  // "chrome-trace"
};

// "json" or "chrome-trace" (exactly); nullopt for anything else.
std::optional<ExportFormat> parse_export_format(std::string_view name);
std::string_view export_format_name(ExportFormat format);

// Where an export's text goes, in order, in pieces of any size. An error stops
// the export and is returned from it as it is.
using ExportSink = std::function<absl::Status(std::string_view bytes)>;

// Appends to `out` (never fails).
ExportSink string_sink(std::string& out);
// fwrite()s to `out` (not flushed or closed here); a short write is an error
// with the errno's code and text, "cannot write the export: <strerror>".
ExportSink file_sink(std::FILE* out);

// A writer hands its buffer to its sink once it holds this many bytes.
inline constexpr size_t kExportFlushBytes = size_t{64} << 10;
// The default bound on open starts (ChromeTraceWriter).
inline constexpr size_t kDefaultMaxOpenStarts = 100'000;

struct ExportStats {
  uint64_t lines = 0;             // lines given to the writer
  uint64_t events = 0;            // json: events written (total_events)
  uint64_t instant_events = 0;    // chrome-trace "i", unmatched starts and ends included
  uint64_t complete_events = 0;   // chrome-trace "X", two lines each
  uint64_t processes = 0;         // chrome-trace "process_name" metadata events
  uint64_t unmatched_starts = 0;  // starts written as instant events (never ended, or given up)
  uint64_t unmatched_ends = 0;    // ends written as instant events (no open start)
  uint64_t no_timestamp = 0;      // chrome-trace: lines left out, no readable timestamp
  ScanStats scan;                 // export_events: the scanner's
};

// What the formats share: the buffer, the sink and its first error.
class ExportWriter {
 public:
  virtual ~ExportWriter() = default;
  ExportWriter(const ExportWriter&) = delete;
  ExportWriter& operator=(const ExportWriter&) = delete;

  // Adds one line: its text (without '\n'), which must be the JSON object
  // `line` was parsed from. Lines come in the order they are to be exported
  // (timestamp order). After a sink error, every call returns that error.
  virtual absl::Status add(std::string_view raw, simdjson::dom::element line) = 0;
  // Writes what is pending and the end of the document; call once, last.
  virtual absl::Status finish() = 0;

  const ExportStats& stats() const { return stats_; }

 protected:
  explicit ExportWriter(ExportSink sink);
  // Flushes the buffer to the sink once it holds kExportFlushBytes.
  absl::Status maybe_flush();
  absl::Status flush();

  std::string out_;
  ExportStats stats_;

 private:
  ExportSink sink_;
  absl::Status error_;
};

// The json format. `exported_at_ns`: ns since the Unix epoch for "exported_at".
class JsonExportWriter final : public ExportWriter {
 public:
  JsonExportWriter(ExportSink sink, int64_t exported_at_ns);
  absl::Status add(std::string_view raw, simdjson::dom::element line) override;
  absl::Status finish() override;

 private:
  int64_t exported_at_ns_;
};

// The chrome-trace format.
class ChromeTraceWriter final : public ExportWriter {
 public:
  explicit ChromeTraceWriter(ExportSink sink, size_t max_open_starts = kDefaultMaxOpenStarts);
  absl::Status add(std::string_view raw, simdjson::dom::element line) override;
  absl::Status finish() override;

  // Starts waiting for their end now.
  size_t open_starts() const { return open_.size(); }

 private:
  struct OpenStart {
    std::string key;
    simdjson::padded_string raw;  // the line, parsed again when it is written
    int64_t ns = 0;
  };

  // Starts the next element of traceEvents.
  void begin_event();
  void note_process(simdjson::dom::element line);
  void write_instant(simdjson::dom::element line, int64_t ns);
  void write_complete(simdjson::dom::element start, int64_t start_ns, simdjson::dom::element end, int64_t end_ns);
  // Writes the oldest open start as an instant event and forgets it.
  void give_up_oldest();

  size_t max_open_starts_;
  std::map<uint64_t, OpenStart> open_;                                  // by arrival
  std::unordered_map<std::string, std::vector<uint64_t>> open_by_key_;  // arrivals, oldest first
  uint64_t next_arrival_ = 0;
  uint64_t written_ = 0;  // trace events written
  std::unordered_set<uint64_t> named_pids_;
  simdjson::dom::parser start_parser_;  // open starts, parsed again
};

// A line's place in a step pair: what ChromeTraceWriter pairs on.
struct PairMarker {
  bool start = false;  // P.start; false: P.end
  std::string prefix;  // P
  std::string key;     // the pairing key (file comment), as opaque bytes
};
// nullopt when the line's message is not a string ending in ".start" or
// ".end" after a non-empty prefix.
std::optional<PairMarker> pair_marker(simdjson::dom::element line);

// A line's "timestamp" (RFC 3339, as parse_rfc3339 reads it) in ns since
// the Unix epoch; nullopt when it is missing, not a string, or unreadable.
std::optional<int64_t> line_timestamp_ns(simdjson::dom::element line);

// `ns` in whole microseconds, rounded down (toward the past, also before
// 1970): what "ts" holds.
constexpr int64_t floor_micros(int64_t ns) { return ns / 1000 - (ns % 1000 < 0 ? 1 : 0); }

struct ExportOptions {
  ExportFormat format = ExportFormat::kJson;
  // json "exported_at"; nullopt: now (CLOCK_REALTIME).
  std::optional<int64_t> exported_at_ns;
  size_t max_open_starts = kDefaultMaxOpenStarts;
  // The scanner's notes (unreadable files, bad lines) and the exporter's
  // (lines left out of a trace), one line each.
  std::function<void(std::string_view)> report;
};

// Scans `files` (list_stored_files) in timestamp order, keeps the lines that
// pass `filter`, and writes them to `sink` in `options.format`. The error is
// the sink's (the document is then incomplete); damaged files and bad lines
// are reported, not errors.
absl::StatusOr<ExportStats> export_events(const std::vector<StoredFile>& files, const Filter& filter,
                                          const ExportOptions& options, const ExportSink& sink);

// Lines for an export from anywhere (a Scanner over files, a ClickHouse
// table): hands each line, in timestamp order, to `emit` until it returns
// false; the error is the source's (it could not read).
using OrderedLines = std::function<absl::Status(const LineCallback& emit)>;

// export_events() with the lines `lines` gives, already filtered. The error
// is the sink's, else the source's; ExportStats::scan stays empty.
absl::StatusOr<ExportStats> export_lines(const OrderedLines& lines, const ExportOptions& options,
                                         const ExportSink& sink);

}  // namespace ringtail::reader
