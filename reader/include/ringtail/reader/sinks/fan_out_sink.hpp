// FanOutSink: one EventSink in front of several, so that every batch the
// drain hands on reaches every sink, in the same order. docs/ARCHITECTURE.md
// ("The event pipeline") gives the policy and why.
//
// Durable sinks (the store; a network sink that spools to disk) hold what
// the engine commits: they are called in turn on the caller's thread (the
// drain's writer), and the engine's own bounded queue in front of it is
// their queue. flush_with() is OK only once every durable sink's is, so read
// positions are published only when all of them have the data; an error of
// one fails the pass, and discard() goes to each. The first durable sink
// answers resume_point(): a restart is exactly once for it (if it stores
// checkpoints) and at least once for the others.
//
// Best-effort sinks (stdout, a network sink without a spool) never hold the
// drain back: each has a thread of its own and a queue bounded in bytes.
// Batches are shared between their queues, not copied per sink. When a
// queue is full the batch is dropped for that sink and its lines counted
// (SinkStats::dropped_lines; reported once per sink until it catches up).
// Their write and flush errors are counted (with the lines of a batch whose
// write failed: SinkStats::failed_lines) and reported, never returned;
// the sink keeps getting batches and may recover. They see a flush after
// each of the engine's flushes but the engine never waits for them. Lines
// the engine reads again after a discard reach them again.
//
// Threading: the EventSink calls from one thread at a time (the engine's
// writer); stats() from any thread. The destructor lets each best-effort
// sink finish its queue (and flush), then joins its thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "ringtail/reader/sinks/event_sink.hpp"

namespace ringtail::reader {

enum class Delivery {
  kDurable,     // the engine commits only what it holds; its errors fail the pass
  kBestEffort,  // own thread and bounded queue; drops and errors counted, never blocking
};

struct SinkStats {
  std::string name;
  Delivery delivery = Delivery::kDurable;
  uint64_t batches = 0;        // written (write() returned OK)
  uint64_t lines = 0;          // in those batches
  uint64_t dropped_lines = 0;  // best effort: lines of batches its full queue turned away
  uint64_t failed_lines = 0;   // best effort: lines of batches whose write failed (some may have arrived)
  uint64_t errors = 0;         // failed writes and flushes (best effort: not returned)
  uint64_t queued_bytes = 0;   // best effort: text bytes of the batches in its queue now (the one being written too)
};

class FanOutSink final : public EventSink {
 public:
  // report: one-line diagnostics (a best-effort sink failing or dropping,
  // and recovering); may be empty.
  explicit FanOutSink(std::function<void(std::string_view)> report = {});
  ~FanOutSink() override;
  FanOutSink(const FanOutSink&) = delete;
  FanOutSink& operator=(const FanOutSink&) = delete;

  // Adds a sink (before the first write; it must outlive this). `name` is
  // for reports and stats. max_queued_bytes bounds a best-effort sink's
  // queue (batches' text bytes, the one being written included; a batch
  // larger than the bound is taken when the queue is empty).
  void add(EventSink& sink, std::string name, Delivery delivery, uint64_t max_queued_bytes = uint64_t{64} << 20);

  absl::Status write(const EventBatch& batch) override;
  absl::Status flush() override { return flush_with({}); }
  absl::Status flush_with(const std::vector<SegmentCheckpoint>& checkpoints) override;
  std::optional<std::string> resume_point(const SegmentIdentity& segment) override;
  void discard() override;
  void segment_finished(const SegmentIdentity& segment) override;

  // A snapshot of each sink's counters: the durable ones, then the best-effort
  // ones, each in the order added.
  std::vector<SinkStats> stats() const;
  // Waits until every best-effort sink has written (or dropped) everything
  // queued so far and flushed it (tests, shutdown).
  void wait_best_effort_idle();

 private:
  struct Durable;
  class BestEffort;

  std::function<void(std::string_view)> report_;
  std::vector<std::unique_ptr<Durable>> durable_;
  std::vector<std::unique_ptr<BestEffort>> best_effort_;
};

}  // namespace ringtail::reader
