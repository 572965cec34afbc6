// RunReport: what `ringtail report --html` shows, aggregated from the stored
// lines that pass a filter, as the report's data object (JSON; its keys are
// documented in docs/QUERY.md, "HTML report").
//
// Two passes over the same lines:
//   1. add() every line: counts by level and service and over time, drops
//      and losses (the reader's ringtail.* notes), tools (step.end), policy
//      (policy.check, audit.decision, breakglass), cost (lines with
//      cost_usd), errors (lines with an "error" object), and which traces
//      to draw: the slowest root spans and the most recent failed ones.
//   2. add_trace_line() the lines of chosen_traces() (a scan with
//      "trace_id exists" is enough): their spans, for the waterfalls.
// finish_json() then writes the object.
//
// The figures are those of the text verbs over the same lines, by
// construction: levels and services are StatsAccumulator's (`ringtail stats
// --by level`), tools are `stats --message step.end --by tool --duration
// duration_ms`, cost is CostAccumulator's (`report --cost --by model`).
//
// Bounded whatever the store holds: the lists keep the most recent 100 (denied
// requests, breakglass activations), the largest groups (50 error groups, 20
// denial reasons; 10,000 distinct texts counted before the rest go to
// "(other)"), 10 slowest and 10 failed traces, and at most
// TimeBuckets::kMaxBuckets buckets per series.
//
// Threading: one thread per RunReport.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "simdjson.h"

namespace ringtail::reader {

struct RunReportOptions {
  std::string source;               // the DIR or the clickhouse:// URI, shown as given
  std::string filter_text;          // the filter flags as given ("" for none)
  std::string generated_at;         // RFC 3339
  std::vector<std::string> traces;  // asked for with --trace: always drawn
  std::optional<int64_t> span_ns;   // --until - --since when both were given
};

class RunReport {
 public:
  static constexpr size_t kSlowestTraces = 10;
  static constexpr size_t kFailedTraces = 10;
  static constexpr size_t kRecentRows = 100;
  static constexpr size_t kErrorGroups = 50;
  static constexpr size_t kDeniedReasons = 20;
  static constexpr size_t kDistinctTexts = 10'000;

  explicit RunReport(RunReportOptions options);
  ~RunReport();
  RunReport(const RunReport&) = delete;
  RunReport& operator=(const RunReport&) = delete;

  // Pass 1: a line that passed the filter (`raw` its text, `line` its parse).
  void add(std::string_view raw, simdjson::dom::element line);

  // The traces to draw: those asked for, then the slowest and the failed.
  std::vector<std::string> chosen_traces() const;

  // Pass 2: a line that passed the filter; kept if it belongs to a chosen trace.
  void add_trace_line(std::string_view raw, simdjson::dom::element line);

  // The data object.
  std::string finish_json();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace ringtail::reader
