// AlertSink: the `ringtail drain --alert` rules (alert_rule.hpp) evaluated
// on every line the drain stores, and their notifications handed to an
// AlertNotifier (alert_notifier.hpp), which delivers them to the --alert-to
// targets from its own thread.
//
// Evaluation: per line and rule, a ShapedFilter (query/shaped_filter.hpp)
// answers from the line's shape, without parsing it. A rule's window runs on
// the lines' own timestamps, not the drain's clock, so a backlog drained late
// fires as it would have live, and a test or a replay is deterministic. Per
// rule the sink keeps the last COUNT matches, oldest first (a late line is
// put in its place), dropping those at least WINDOW older than the newest;
// when COUNT remain, the rule fires: one notification, then none until
// WINDOW has passed (event time) since the line that fired it. So a
// condition that holds notifies once per window, and never more.
//
// The notification is one JSON line (docs/OPERATIONS.md, "Alerts"):
//
//   {"timestamp":LAST,"level":"WARN","message":"ringtail.alert","service":"ringtail","pid":DRAIN_PID,
//    "rule":NAME,"where":CONDITION,"count":COUNT,"window":WINDOW,"first":FIRST,"last":LAST,"event":{...}}
//
// `event` is the first matching line of the window exactly as stored: the
// drain redacted it before any sink saw it, so an alert carries no more than
// the store does.
//
// Delivery class: durable, on the drain's writer thread (a FanOutSink
// member added after the store), not best effort. It must see every line
// the store commits, in order, exactly once: as a best-effort member it
// would get copies of batches through a queue that drops them when full,
// and a dropped batch would silently hide matches and break the count of a
// window. Evaluating inline costs a filter per line and rule and never
// blocks: delivery is the notifier's. It never fails a pass (write() and
// flush() return OK). It follows the engine's commit: write() works on a
// copy of each rule's window it changes and collects notifications;
// flush() keeps them and queues the notifications; discard() goes back to
// the committed windows and drops them, so lines the engine reads again
// after an output error are counted once and notify once.
//
// Bounds (event contents are untrusted): per rule at most COUNT match times
// (COUNT <= kMaxAlertCount) and, for the payload, copies of matching lines of
// at most kMaxEventBytes each and kMaxKeptBytesPerRule in all (a longer or
// further line is not kept: the payload then carries the earliest one kept,
// or none, and says so); at most one notification per rule per window
// between two flushes, and at most the notifier's max_queued of them per
// pass (more are counted as dropped). Memory does not grow with what
// producers log.
//
// Counts (counts(), for the drain's summary and /metrics): per rule, lines
// matched and notifications fired (committed ones only), and the notifier's
// sent, failed and dropped.
//
// Threading: the EventSink calls and finish() from one thread at a time (the
// engine's writer; finish() once the engine is done); counts() from any
// thread. Rule state is the writer's alone; the notifier's thread shares
// only its queue with it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "ringtail/reader/alerts/alert_notifier.hpp"
#include "ringtail/reader/alerts/alert_rule.hpp"
#include "ringtail/reader/sinks/event_sink.hpp"

namespace ringtail::reader {

struct AlertRuleCounts {
  std::string name;
  uint64_t matched = 0;  // lines that matched the rule
  uint64_t fired = 0;    // notifications it made
  uint64_t sent = 0;     // deliveries that worked (per target)
  uint64_t failed = 0;   // deliveries that failed after their tries (per target)
  uint64_t dropped = 0;  // notifications a full queue turned away
};

struct AlertSinkOptions {
  std::vector<AlertTarget> targets;
  AlertNotifierOptions notifier;
};

class AlertSink final : public EventSink {
 public:
  static constexpr size_t kMaxEventBytes = size_t{16} << 10;
  static constexpr size_t kMaxKeptBytesPerRule = size_t{256} << 10;

  AlertSink(std::vector<AlertRule> rules, AlertSinkOptions options);
  // finish(), then stops the notifier.
  ~AlertSink() override;
  AlertSink(const AlertSink&) = delete;
  AlertSink& operator=(const AlertSink&) = delete;

  // Evaluates every rule on every line. Always OK.
  absl::Status write(const EventBatch& batch) override;
  // Commits the windows and queues the notifications. Always OK.
  absl::Status flush() override;
  // Back to the windows of the last flush; the notifications since are dropped.
  void discard() override;

  // Waits until every notification queued is delivered or failed (a target
  // backing off fails at once from now on): the counts are then final.
  void finish();

  // A snapshot per rule, in the order given.
  std::vector<AlertRuleCounts> counts() const;

 private:
  struct Rule;
  void fire(size_t index, Rule& rule);

  std::vector<std::unique_ptr<Rule>> rules_;
  std::vector<AlertNotification> pending_;  // fired since the last flush
  size_t max_pending_;
  uint32_t pid_;
  std::unique_ptr<AlertNotifier> notifier_;
};

}  // namespace ringtail::reader
