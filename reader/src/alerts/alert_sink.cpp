#include "ringtail/reader/alerts/alert_sink.hpp"

#include <unistd.h>

#include <atomic>
#include <deque>
#include <limits>
#include <optional>
#include <utility>

#include "ringtail/reader/output/json_text.hpp"
#include "ringtail/reader/query/shaped_filter.hpp"
#include "ringtail/shm/level.hpp"

namespace ringtail::reader {
namespace {

constexpr std::string_view kAlertMessage = "ringtail.alert";

int64_t saturating_add(int64_t a, int64_t b) {
  int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) return b > 0 ? std::numeric_limits<int64_t>::max() : 0;
  return sum;
}

int64_t saturating_sub(int64_t a, int64_t b) {
  int64_t difference = 0;
  if (__builtin_sub_overflow(a, b, &difference)) return std::numeric_limits<int64_t>::min();
  return difference;
}

// A matching line: its time, and a copy of it for the payload when kept.
struct Match {
  int64_t time_ns = 0;
  std::string line;  // without its '\n'; empty: not kept
};

// A rule's window: what write() changes and discard() takes back.
struct Window {
  std::deque<Match> matches;  // oldest first, at most COUNT, none WINDOW older than the newest
  uint64_t kept_bytes = 0;    // of the lines kept in `matches`
  bool notified = false;
  int64_t quiet_until_ns = 0;  // after a notification: none before this (event time)
};

// Writes one JSON line with its shape into a one-line EventBatch: the head
// as every line has it, then fields whose spans are recorded as written.
class LineWriter {
 public:
  explicit LineWriter(EventBatch& out) : out_(out) {}
  void head(int64_t time_ns, shm::Level level, std::string_view message, std::string_view service, uint32_t pid) {
    LineShape& shape = shape_;
    shape.time_ns = time_ns;
    shape.level = level;
    shape.kind = LineKind::kNote;
    std::string& text = out_.text;
    text = "{\"timestamp\":";
    TimestampFormatter().append(text, time_ns);
    text.append(",\"level\":");
    append_json_string(text, shm::kLevelNames[static_cast<size_t>(level)]);
    text.append(",\"message\":");
    const size_t message_at = text.size() + 1;
    append_json_string(text, message);
    shape.message_offset = static_cast<uint32_t>(message_at);
    shape.message_size = static_cast<uint32_t>(text.size() - 1 - message_at);
    text.append(",\"service\":");
    append_json_string(text, service);
    text.append(",\"pid\":");
    append_json_uint(text, pid);
  }
  // The key (plain ASCII, no escapes needed) and the value's JSON text.
  template <class WriteValue>
  void field(std::string_view key, WriteValue&& write_value) {
    std::string& text = out_.text;
    text.append(",\"");
    FieldSpan span{};
    span.key_offset = static_cast<uint32_t>(text.size());
    span.key_size = static_cast<uint32_t>(key.size());
    text.append(key);
    text.append("\":");
    span.value_offset = static_cast<uint32_t>(text.size());
    write_value(text);
    span.value_size = static_cast<uint32_t>(text.size() - span.value_offset);
    out_.fields.push_back(span);
  }
  void string_field(std::string_view key, std::string_view value) {
    field(key, [&](std::string& text) { append_json_string(text, value); });
  }
  void finish() {
    out_.text.append("}\n");
    shape_.offset = 0;
    shape_.size = static_cast<uint32_t>(out_.text.size());
    shape_.first_field = 0;
    shape_.field_count = static_cast<uint32_t>(out_.fields.size());
    out_.lines.push_back(shape_);
  }

 private:
  EventBatch& out_;
  LineShape shape_;
};

}  // namespace

struct AlertSink::Rule {
  explicit Rule(AlertRule rule) : spec(std::move(rule)), filter(spec.filter) {}

  AlertRule spec;
  ShapedFilter filter;
  Window window;
  std::optional<Window> committed;  // the window as of the last flush, while this pass changed it
  uint64_t pending_matched = 0;
  uint64_t pending_fired = 0;
  uint64_t pending_dropped = 0;  // fired beyond what a pass may queue
  std::atomic<uint64_t> matched{0};
  std::atomic<uint64_t> fired{0};
  std::atomic<uint64_t> dropped{0};
};

AlertSink::AlertSink(std::vector<AlertRule> rules, AlertSinkOptions options)
    : max_pending_(options.notifier.max_queued), pid_(static_cast<uint32_t>(::getpid())) {
  for (AlertRule& rule : rules) rules_.push_back(std::make_unique<Rule>(std::move(rule)));
  notifier_ = std::make_unique<AlertNotifier>(std::move(options.targets), rules_.size(), std::move(options.notifier));
}

AlertSink::~AlertSink() { finish(); }

absl::Status AlertSink::write(const EventBatch& batch) {
  for (const LineShape& shape : batch.lines) {
    for (size_t index = 0; index < rules_.size(); ++index) {
      Rule& rule = *rules_[index];
      if (!rule.filter.matches(batch, shape)) continue;
      if (!rule.committed) rule.committed = rule.window;  // the first change of this pass
      ++rule.pending_matched;
      Window& window = rule.window;
      // In time order: a line of another thread may come a little late.
      auto at = window.matches.end();
      while (at != window.matches.begin() && std::prev(at)->time_ns > shape.time_ns) --at;
      Match& match = *window.matches.insert(at, Match{.time_ns = shape.time_ns, .line = {}});
      const std::string_view line = batch.line(shape).substr(0, shape.size - 1);  // without its '\n'
      if (line.size() <= kMaxEventBytes && window.kept_bytes + line.size() <= kMaxKeptBytesPerRule) {
        match.line = std::string(line);
        window.kept_bytes += line.size();
      }
      const int64_t newest = window.matches.back().time_ns;
      const int64_t oldest_kept = saturating_sub(newest, rule.spec.window_ns);  // older than this: out
      while (!window.matches.empty() &&
             (window.matches.size() > rule.spec.count || window.matches.front().time_ns <= oldest_kept)) {
        window.kept_bytes -= window.matches.front().line.size();
        window.matches.pop_front();
      }
      if (window.matches.size() == rule.spec.count && (!window.notified || newest >= window.quiet_until_ns)) {
        fire(index, rule);
      }
    }
  }
  return absl::OkStatus();
}

void AlertSink::fire(size_t index, Rule& rule) {
  Window& window = rule.window;
  const int64_t first = window.matches.front().time_ns;
  const int64_t last = window.matches.back().time_ns;
  window.notified = true;
  window.quiet_until_ns = saturating_add(last, rule.spec.window_ns);
  ++rule.pending_fired;
  if (pending_.size() >= max_pending_) {
    ++rule.pending_dropped;
    return;
  }
  AlertNotification& notification = pending_.emplace_back();
  notification.rule = index;
  LineWriter line(notification.line);
  line.head(last, shm::Level::kWarn, kAlertMessage, "ringtail", pid_);
  line.string_field("rule", rule.spec.name);
  line.string_field("where", rule.spec.condition);
  line.field("count", [&](std::string& text) { append_json_uint(text, window.matches.size()); });
  line.string_field("window", rule.spec.window_text);
  line.field("first", [&](std::string& text) { TimestampFormatter().append(text, first); });
  line.field("last", [&](std::string& text) { TimestampFormatter().append(text, last); });
  const Match* event = nullptr;
  for (const Match& match : window.matches) {
    if (!match.line.empty()) {
      event = &match;
      break;
    }
  }
  std::string_view event_json = "null";
  if (event != nullptr) event_json = event->line;
  line.field("event", [&](std::string& text) { text.append(event_json); });
  if (event != &window.matches.front()) {
    line.string_field("event_note", event != nullptr
                                        ? "the window's first line was not kept (over 16 KiB, or past the rule's "
                                          "256 KiB of kept lines): this is the first one kept"
                                        : "no line of the window was kept (over 16 KiB, or past the rule's 256 KiB "
                                          "of kept lines)");
  }
  line.finish();
}

absl::Status AlertSink::flush() {
  for (const std::unique_ptr<Rule>& rule : rules_) {
    if (!rule->committed) continue;
    rule->committed.reset();
    rule->matched.fetch_add(std::exchange(rule->pending_matched, 0), std::memory_order_relaxed);
    rule->fired.fetch_add(std::exchange(rule->pending_fired, 0), std::memory_order_relaxed);
    rule->dropped.fetch_add(std::exchange(rule->pending_dropped, 0), std::memory_order_relaxed);
  }
  for (AlertNotification& notification : pending_) (void)notifier_->offer(std::move(notification));
  pending_.clear();
  return absl::OkStatus();
}

void AlertSink::discard() {
  for (const std::unique_ptr<Rule>& rule : rules_) {
    if (!rule->committed) continue;
    rule->window = *std::move(rule->committed);
    rule->committed.reset();
    rule->pending_matched = 0;
    rule->pending_fired = 0;
    rule->pending_dropped = 0;
  }
  pending_.clear();
}

void AlertSink::finish() { notifier_->finish(); }

std::vector<AlertRuleCounts> AlertSink::counts() const {
  std::vector<AlertRuleCounts> out;
  out.reserve(rules_.size());
  for (size_t index = 0; index < rules_.size(); ++index) {
    const Rule& rule = *rules_[index];
    const AlertDeliveryCounts delivery = notifier_->counts(index);
    out.push_back(AlertRuleCounts{.name = rule.spec.name,
                                  .matched = rule.matched.load(std::memory_order_relaxed),
                                  .fired = rule.fired.load(std::memory_order_relaxed),
                                  .sent = delivery.sent,
                                  .failed = delivery.failed,
                                  .dropped = delivery.dropped + rule.dropped.load(std::memory_order_relaxed)});
  }
  return out;
}

}  // namespace ringtail::reader
