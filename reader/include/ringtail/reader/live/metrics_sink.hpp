// MetricsSink: counts what the drain stores, for `GET /metrics`
// (live/live_server.hpp; the metrics and their labels are listed in
// docs/OPERATIONS.md, "Metrics").
//
// An EventSink that writes nothing: it reads each line's shape
// (sinks/event_batch.hpp) and counts. Per line that is a few increments:
// event lines by service and level, lines by kind, the newest event time;
// the agent vocabulary's step.end, cost, llm.call and policy.check lines
// also by their tool, status, model, policy and decision, with step.end's
// duration_ms in a histogram; drop records and the reader's loss notes by
// cause. It never parses JSON: a line's message and keys are compared as
// written, the field index that holds each key it wants is worked out once
// per LineShape::layout (lines with context or "_cut" have no layout and
// are looked at per line, and only if their message is one of the four),
// and only the few values it needs are read (a string's text, a number
// with std::from_chars).
//
// Counts follow the engine's commit: write() adds to pending counts,
// flush() publishes them, discard() drops them. So the published counters
// equal what the durable sinks before it committed (the store), also when
// the output fails and the engine reads lines again; used as a durable
// sink after the store in a FanOutSink, it never fails (write() and flush()
// return OK) and so never fails a pass.
//
// Bounds (untrusted producers): each family has at most
// MetricsOptions::max_label_sets label sets (LabelTable, prometheus_text.hpp);
// a line whose labels would make another is counted under "_other" and in
// ringtail_metrics_label_overflow_total{family}. Label values are cut to
// max_label_value_bytes. The per-layout cache holds at most kMaxLayouts
// entries (cleared when full) and the per-service cache at most
// kMaxServices; reader memory for metrics is thus bounded whatever the
// producers log.
//
// Threading: the EventSink calls come from one thread at a time (the
// engine's writer); append_prometheus() from any thread. One mutex guards
// the counters: write() takes it once per batch (not per line), flush() and
// discard() once, append_prometheus() while it renders (a few thousand
// series at most: well under a millisecond).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "ringtail/reader/live/prometheus_text.hpp"
#include "ringtail/reader/sinks/event_sink.hpp"

namespace ringtail::reader {

struct MetricsOptions {
  size_t max_label_sets = kDefaultMaxLabelSets;               // per family
  size_t max_label_value_bytes = kDefaultMaxLabelValueBytes;  // longer values are cut
  // Upper bounds of ringtail_agent_step_duration_seconds' buckets (+Inf is
  // added), ascending: from a fast local tool to a long LLM-backed step.
  std::vector<double> step_duration_buckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300};
};

class MetricsSink final : public EventSink {
 public:
  static constexpr size_t kMaxLayouts = 65536;
  static constexpr size_t kMaxServices = 4096;

  explicit MetricsSink(MetricsOptions options = {});
  ~MetricsSink() override;
  MetricsSink(const MetricsSink&) = delete;
  MetricsSink& operator=(const MetricsSink&) = delete;

  // Counts the batch's lines as pending. Always OK.
  absl::Status write(const EventBatch& batch) override;
  // Publishes the pending counts. Always OK.
  absl::Status flush() override;
  // Drops the pending counts: the engine reads those lines again.
  void discard() override;

  // Appends every family, published counts only, in the text format 0.0.4.
  void append_prometheus(std::string& out) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace ringtail::reader
