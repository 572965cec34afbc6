// TraceWaterfalls: the spans of a few chosen traces, gathered from their
// lines, for the report's waterfalls.
//
// A span is made of its span.start line (name, parent, start, attributes),
// its span.end line (status, error, duration) and the events that carry its
// span_id (counted; their tool, model, tokens and cost_usd, summed exactly,
// are the span's). A span without span.end is UNENDED (lost, or still
// running); without span.start, it starts at its end minus its duration.
// Spans are listed parents first, siblings by start; a span whose parent is
// not among the trace's spans is at depth 0.
//
// Bounded: at most kMaxSpans spans per trace (the others are counted as
// left out); lines of traces not chosen are ignored.
//
// Threading: one thread per TraceWaterfalls.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ringtail/reader/query/scanner.hpp"
#include "simdjson.h"

namespace ringtail::reader {

class TraceWaterfalls {
 public:
  static constexpr size_t kMaxSpans = 1000;

  explicit TraceWaterfalls(const std::vector<std::string>& trace_ids);
  ~TraceWaterfalls();
  TraceWaterfalls(const TraceWaterfalls&) = delete;
  TraceWaterfalls& operator=(const TraceWaterfalls&) = delete;

  // A stored line (`raw` its text, `line` its parse); ignored unless its
  // trace_id is one of the chosen.
  void add(std::string_view raw, simdjson::dom::element line);

  // Appends the trace's object of the report's data ("Trace" in docs/QUERY.md);
  // false (nothing appended) when no line of it was seen.
  bool append_json(std::string& out, std::string_view trace_id) const;

 private:
  struct Trace;
  struct State;
  std::unique_ptr<State> state_;
};

// Whether `id` has a stored trace id's shape: 32 lowercase hex digits.
bool is_trace_id(std::string_view id);

// A Scanner prefilter for the lines of these traces: it passes a line whose
// text holds "trace_id":"<id>" for one of them, so that a scan for their
// spans parses only those. Empty (no prefilter) when an id is not 32
// lowercase hex digits, the one form written without escapes.
LinePrefilter trace_line_prefilter(std::vector<std::string> trace_ids);

}  // namespace ringtail::reader
