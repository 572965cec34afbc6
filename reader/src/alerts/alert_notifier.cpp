#include "ringtail/reader/alerts/alert_notifier.hpp"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <optional>

#include "internal/message_text.hpp"
#include "sinks/http_poster.hpp"
#include "sinks/sink_uri.hpp"

namespace ringtail::reader {
namespace {

using internal::cat;
using Clock = std::chrono::steady_clock;

// The sinks' URI errors say "--sink URI: why"; here the option is --alert-to.
absl::Status as_alert_to(const absl::Status& status) {
  std::string_view message(status.message().data(), status.message().size());
  constexpr std::string_view kSink = "--sink";
  if (message.starts_with(kSink)) message.remove_prefix(kSink.size());
  return absl::InvalidArgumentError(cat("--alert-to", message));
}

}  // namespace

std::string alert_target_name(const AlertTarget& target) {
  if (target.kind != AlertTarget::Kind::kWebhook) return internal::printable(target.uri);
  return cat(internal::http_origin(target.http), target.http.path == "/" ? "/" : "/...");
}

bool is_alert_target_uri(std::string_view uri) { return is_http_uri(uri) || is_syslog_uri(uri); }

absl::StatusOr<AlertTarget> parse_alert_target(std::string_view uri,
                                               const std::vector<std::pair<std::string, std::string>>& http_headers) {
  AlertTarget target;
  target.uri = std::string(uri);
  if (is_http_uri(uri)) {
    absl::StatusOr<HttpTarget> http = parse_http_uri(uri);
    if (!http.ok()) return as_alert_to(http.status());
    target.kind = AlertTarget::Kind::kWebhook;
    target.http = *std::move(http);
    target.http.headers = http_headers;
    return target;
  }
  if (is_syslog_uri(uri)) {
    absl::StatusOr<SyslogTarget> syslog = parse_syslog_uri(uri);
    if (!syslog.ok()) return as_alert_to(syslog.status());
    target.kind = AlertTarget::Kind::kSyslog;
    target.syslog = *std::move(syslog);
    return target;
  }
  return absl::InvalidArgumentError(
      cat("--alert-to ", internal::printable(uri),
          ": not an alert target (http://, https://, syslog+udp://, syslog+tcp:// or syslog+unix://)"));
}

// A target and its delivery state: the delivery thread's alone.
struct AlertNotifier::Target {
  AlertTarget spec;
  std::string name;  // in reports: a webhook by its origin (its path may be a secret, as Slack's are)
  std::unique_ptr<internal::HttpPoster> poster;  // kWebhook
  std::optional<SyslogSink> syslog;              // kSyslog: made again for each try after a failure
  Clock::time_point retry_at{};                  // backing off until then
  std::chrono::milliseconds backoff{0};
  bool failing = false;  // said so; say when it works again
};

AlertNotifier::AlertNotifier(std::vector<AlertTarget> targets, size_t rules, AlertNotifierOptions options)
    : options_(std::move(options)), counters_(std::make_unique<Counters[]>(rules)), rules_(rules) {
  self_.service = "ringtail";
  self_.program = "ringtail";
  self_.pid = static_cast<uint32_t>(::getpid());
  for (AlertTarget& spec : targets) {
    auto target = std::make_unique<Target>();
    target->spec = std::move(spec);
    target->name = internal::printable(target->spec.uri);
    if (target->spec.kind == AlertTarget::Kind::kWebhook) {
      target->name = alert_target_name(target->spec);
      target->poster = std::make_unique<internal::HttpPoster>(target->spec.http);
    } else if (target->spec.kind == AlertTarget::Kind::kSyslog) {
      target->syslog.emplace(target->spec.syslog);
    }
    targets_.push_back(std::move(target));
  }
  thread_ = std::thread([this] {
    ::pthread_setname_np(::pthread_self(), "rt-alert");  // for top -H, perf and gdb
    loop();
  });
}

AlertNotifier::~AlertNotifier() {
  finish();
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

bool AlertNotifier::offer(AlertNotification notification) {
  const size_t rule = notification.rule;
  const uint64_t bytes = notification.line.text.size();
  bool say_dropping = false;
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= options_.max_queued ||
        (queued_bytes_ != 0 && queued_bytes_ + bytes > options_.max_queued_bytes)) {
      if (rule < rules_) counters_[rule].dropped.fetch_add(1, std::memory_order_relaxed);
      say_dropping = !std::exchange(dropping_, true);
    } else {
      dropping_ = false;
      queued_bytes_ += bytes;
      ++pending_;
      queue_.push_back(std::move(notification));
    }
  }
  if (say_dropping) {
    say("alerts: the notification queue is full: notifications are dropped (counted per rule)");
    return false;
  }
  changed_.notify_all();
  return true;
}

void AlertNotifier::finish() {
  std::unique_lock lock(mutex_);
  finishing_ = true;
  changed_.notify_all();  // a delivery waiting for a backoff gives up
  changed_.wait(lock, [&] { return pending_ == 0; });
}

AlertDeliveryCounts AlertNotifier::counts(size_t rule) const {
  if (rule >= rules_) return {};
  const Counters& c = counters_[rule];
  return AlertDeliveryCounts{.sent = c.sent.load(std::memory_order_relaxed),
                             .failed = c.failed.load(std::memory_order_relaxed),
                             .dropped = c.dropped.load(std::memory_order_relaxed)};
}

void AlertNotifier::say(std::string_view line) const {
  if (options_.report) options_.report(line);
}

void AlertNotifier::loop() {
  for (;;) {
    AlertNotification item;
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return !queue_.empty() || stop_; });
      if (queue_.empty()) return;  // stop_, and nothing left (finish() ran first)
      item = std::move(queue_.front());
      queue_.pop_front();
    }
    item.line.segment = &self_;
    for (const std::unique_ptr<Target>& target : targets_) {
      const absl::Status status = deliver(*target, item.line);
      if (item.rule < rules_) {
        (status.ok() ? counters_[item.rule].sent : counters_[item.rule].failed).fetch_add(1, std::memory_order_relaxed);
      }
    }
    {
      std::lock_guard lock(mutex_);
      queued_bytes_ -= item.line.text.size();
      --pending_;
    }
    changed_.notify_all();
  }
}

absl::Status AlertNotifier::deliver(Target& target, const EventBatch& line) {
  {
    // A target that failed is tried again once its backoff passes; until
    // finish(), the delivery waits for it (offer() goes on queueing).
    std::unique_lock lock(mutex_);
    while (!finishing_ && Clock::now() < target.retry_at) changed_.wait_until(lock, target.retry_at);
    if (Clock::now() < target.retry_at) {
      return absl::UnavailableError(cat("alert to ", target.name, ": not tried (it failed a moment ago)"));
    }
  }
  absl::Status status;
  if (target.spec.kind == AlertTarget::Kind::kWebhook) {
    std::string_view body = line.text;
    if (!body.empty() && body.back() == '\n') body.remove_suffix(1);
    status = target.poster->post(target.spec.http.path, body, "application/json");  // retries itself
    if (!status.ok() && target.spec.http.path != "/") {
      // Its errors name the path, which is not to be printed.
      std::string message(status.message().data(), status.message().size());
      for (size_t at = 0; (at = message.find(target.spec.http.path, at)) != std::string::npos;) {
        message.replace(at, target.spec.http.path.size(), "/...");
        at += 4;
      }
      status = absl::Status(status.code(), message);
    }
  } else {
    std::chrono::milliseconds wait = options_.first_retry;
    const int tries = std::max(1, options_.tries);
    for (int attempt = 0; attempt < tries; ++attempt) {
      if (target.spec.kind == AlertTarget::Kind::kSyslog) {
        // After a failure, a fresh sink: a new connection, without the
        // failed one's own backoff (this one is the notifier's).
        if (attempt > 0 || target.failing) target.syslog.emplace(target.spec.syslog);
        status = target.syslog->write(line);
      } else {
        status = target.spec.deliver ? target.spec.deliver(line) : absl::InternalError("no delivery function");
      }
      if (status.ok()) break;
      if (attempt + 1 < tries) {
        std::this_thread::sleep_for(wait);
        wait = std::min(wait * 2, options_.backoff_max);
      }
    }
  }
  if (status.ok()) {
    target.backoff = std::chrono::milliseconds(0);
    target.retry_at = {};
    if (std::exchange(target.failing, false)) say(cat("alert to ", target.name, " works again"));
    return status;
  }
  target.backoff =
      target.backoff.count() == 0 ? options_.backoff_first : std::min(target.backoff * 2, options_.backoff_max);
  target.retry_at = Clock::now() + target.backoff;
  if (!std::exchange(target.failing, true)) {
    say(cat("alert to ", target.name, " failed: ", std::string_view(status.message().data(), status.message().size()),
            " (counted; tried again)"));
  }
  return status;
}

}  // namespace ringtail::reader
