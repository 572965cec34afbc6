// AlertNotifier: delivers the notifications of `ringtail drain --alert`
// rules (alert_sink.hpp) to every `--alert-to` target, from a thread of its
// own, so that a slow or dead receiver never holds back the drain.
//
//   http://HOST[:PORT]/PATH, https://...   a webhook: one POST per notification,
//                                           Content-Type application/json, the
//                                           body the notification's JSON line
//                                           (without its newline), with the
//                                           --sink-header headers
//   syslog+udp://, syslog+tcp://,          one RFC 5424 message per notification
//   syslog+unix:///PATH (?facility=NAME)   (SyslogSink: the line as a one-line batch)
//
// Delivery: each target is tried in the order given. A webhook is posted by
// HttpPoster (a failed connection, 429 or 5xx is sent again: 0.5 s
// doubling, or Retry-After, 4 tries in all; another answer refuses it at
// once); a syslog message is sent again by the notifier, with the same waits
// and tries, over a fresh connection each time. A notification whose tries
// all failed is counted failed for that target (the next target still gets
// it) and the target backs off: 1 s after the first failure, doubling to
// 30 s. While the drain runs, the next notification for a target that is
// backing off waits for it (the queue absorbs the wait); once finish() is
// called it fails at once, so a receiver that is down costs the drain's exit
// at most one round of tries.
//
// Bounds: the queue holds at most max_queued notifications and
// max_queued_bytes of their text; offer() turns away (and the rule counts as
// dropped) what does not fit. It never blocks.
//
// Counts per rule (counts(rule)): sent and failed per target (a notification
// to two targets counts twice), dropped per notification.
//
// Threading: offer() and finish() from one thread at a time (the drain's
// writer, then its main thread once the drain is done); counts() from any
// thread; the delivery thread shares only the queue with them (one mutex)
// and the counters (atomics). `report` is called from the delivery thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ringtail/reader/sinks/event_batch.hpp"
#include "ringtail/reader/sinks/http_sink.hpp"
#include "ringtail/reader/sinks/syslog_sink.hpp"

namespace ringtail::reader {

// Where notifications go (`--alert-to URI`), or a function of the embedding
// program's (then `uri` only names it in reports).
struct AlertTarget {
  enum class Kind { kWebhook, kSyslog, kFunction };
  Kind kind = Kind::kWebhook;
  std::string uri;
  HttpTarget http;      // kWebhook
  SyslogTarget syslog;  // kSyslog
  // kFunction: called on the delivery thread with the notification's
  // one-line batch; OK when delivered.
  std::function<absl::Status(const EventBatch&)> deliver;
};

// True for the URIs --alert-to takes (http, https, syslog+udp/tcp/unix).
bool is_alert_target_uri(std::string_view uri);
// An --alert-to URI; a webhook gets `http_headers`. Errors ("--alert-to URI:
// why") never repeat a password.
absl::StatusOr<AlertTarget> parse_alert_target(std::string_view uri,
                                               const std::vector<std::pair<std::string, std::string>>& http_headers);

// How reports and the drain's summary name a target: a webhook by its
// origin and "/..." for its path (a webhook's path is often its secret, as
// Slack's are), any other by its URI.
std::string alert_target_name(const AlertTarget& target);

// A rule's notification: its JSON line (with its shape, for syslog; the
// batch's segment is the notifier's own) and the index of its rule.
struct AlertNotification {
  size_t rule = 0;
  EventBatch line;
};

struct AlertDeliveryCounts {
  uint64_t sent = 0;     // deliveries that worked (per target)
  uint64_t failed = 0;   // deliveries whose tries all failed (per target)
  uint64_t dropped = 0;  // notifications the full queue turned away
};

struct AlertNotifierOptions {
  size_t max_queued = 256;
  uint64_t max_queued_bytes = uint64_t{8} << 20;
  // Syslog targets and functions: tries per notification and the first wait
  // (doubling). Webhooks take theirs from their HttpTarget.
  int tries = 4;
  std::chrono::milliseconds first_retry{500};
  // A target whose notification failed is tried again after this, doubling up to backoff_max.
  std::chrono::milliseconds backoff_first{1000};
  std::chrono::milliseconds backoff_max{30000};
  // One-line diagnostics: a target failing (once until it works again), recovering.
  std::function<void(std::string_view)> report;
};

class AlertNotifier {
 public:
  // `rules`: how many rules count (indexes 0 to rules-1).
  AlertNotifier(std::vector<AlertTarget> targets, size_t rules, AlertNotifierOptions options = {});
  // finish(), then stops the thread.
  ~AlertNotifier();
  AlertNotifier(const AlertNotifier&) = delete;
  AlertNotifier& operator=(const AlertNotifier&) = delete;

  // Queues the notification; false (counted as dropped for its rule) when
  // the queue is full.
  bool offer(AlertNotification notification);
  // Returns once everything queued is delivered or failed; from now on a
  // target that is backing off fails at once instead of being waited for.
  void finish();

  AlertDeliveryCounts counts(size_t rule) const;

 private:
  struct Target;
  struct Counters {
    std::atomic<uint64_t> sent{0};
    std::atomic<uint64_t> failed{0};
    std::atomic<uint64_t> dropped{0};
  };

  void loop();
  // Delivers to one target (tries, backoff); on the delivery thread.
  absl::Status deliver(Target& target, const EventBatch& line);
  void say(std::string_view line) const;

  const AlertNotifierOptions options_;
  std::vector<std::unique_ptr<Target>> targets_;  // the delivery thread's alone
  std::unique_ptr<Counters[]> counters_;
  size_t rules_;
  SegmentIdentity self_;  // the batches' segment: APP-NAME "ringtail", PROCID the drain's pid

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<AlertNotification> queue_ ABSL_GUARDED_BY(mutex_);
  uint64_t queued_bytes_ ABSL_GUARDED_BY(mutex_) = 0;
  size_t pending_ ABSL_GUARDED_BY(mutex_) = 0;     // queued or being delivered
  bool dropping_ ABSL_GUARDED_BY(mutex_) = false;  // said once until the queue takes one again
  bool finishing_ ABSL_GUARDED_BY(mutex_) = false;
  bool stop_ ABSL_GUARDED_BY(mutex_) = false;
  std::thread thread_;
};

}  // namespace ringtail::reader
