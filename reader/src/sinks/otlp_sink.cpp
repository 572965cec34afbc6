#include "ringtail/reader/sinks/otlp_sink.hpp"

#include <pthread.h>

#include <utility>

#include "internal/message_text.hpp"
#include "sinks/http_poster.hpp"
#include "sinks/sink_uri.hpp"

namespace ringtail::reader {
namespace {

using internal::cat;

constexpr std::string_view kOtlpHttp = "otlp+http://";
constexpr std::string_view kOtlpHttps = "otlp+https://";
constexpr uint16_t kDefaultPort = 4318;  // OTLP/HTTP's registered port
// The pending requests write() lets grow while a request is on the wire.
constexpr size_t kMostPendingBatches = 4;

int64_t now_unix_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

bool is_otlp_uri(std::string_view uri) { return uri.starts_with(kOtlpHttp) || uri.starts_with(kOtlpHttps); }

absl::StatusOr<OtlpTarget> parse_otlp_uri(std::string_view uri) {
  const bool https = uri.starts_with(kOtlpHttps);
  if (!https && !uri.starts_with(kOtlpHttp)) {
    return internal::sink_uri_error(uri, "not an otlp+http:// or otlp+https:// URI");
  }
  std::string_view rest = uri.substr(https ? kOtlpHttps.size() : kOtlpHttp.size());
  OtlpTarget target;
  if (const size_t q = rest.find('?'); q != std::string_view::npos) {
    const std::string_view query = rest.substr(q + 1);
    rest = rest.substr(0, q);
    if (query == "encoding=json") {
      target.encoding = OtlpEncoding::kJson;
    } else if (query != "encoding=protobuf") {
      return internal::sink_uri_error(
          uri, cat("unknown option '", internal::printable(query), "' (encoding=json or encoding=protobuf)"));
    }
  }
  absl::StatusOr<HttpTarget> http = internal::parse_http_target(uri, https, rest, kDefaultPort);
  if (!http.ok()) return http.status();
  target.http = *std::move(http);
  while (!target.http.path.empty() && target.http.path.back() == '/') target.http.path.pop_back();
  return target;
}

OtlpSink::OtlpSink(OtlpTarget target, std::string host_name)
    : target_(std::move(target)),
      logs_path_(target_.http.path + "/v1/logs"),
      traces_path_(target_.http.path + "/v1/traces"),
      poster_(std::make_unique<internal::HttpPoster>(target_.http)),
      encoder_(target_.encoding, host_name.empty() ? internal::local_host_name() : std::move(host_name)) {
  sender_ = std::thread([this] {
    ::pthread_setname_np(::pthread_self(), "rt-otlp");  // for top -H, perf and gdb
    send_loop();
  });
}

OtlpSink::~OtlpSink() {
  finish();
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  sender_.join();
}

absl::Status OtlpSink::write(const EventBatch& batch) {
  if (batch.empty()) return absl::OkStatus();
  const int64_t observed = now_unix_ns();
  std::unique_lock lock(mutex_);
  if (absl::Status due = backoff_.due(); !due.ok()) return due;
  // The sender is behind: wait for it rather than hold unbounded requests.
  changed_.wait(lock,
                [&] { return stop_ || encoder_.pending_bytes() < kMostPendingBatches * target_.max_batch_bytes; });
  if (encoder_.pending_records() == 0) first_pending_ = std::chrono::steady_clock::now();
  encoder_.add(batch, observed);
  const bool full = encoder_.pending_bytes() >= target_.max_batch_bytes;
  lock.unlock();
  if (full) changed_.notify_all();
  return absl::OkStatus();
}

absl::Status OtlpSink::flush() {
  std::lock_guard lock(mutex_);
  return backoff_.last();
}

void OtlpSink::segment_finished(const SegmentIdentity& segment) {
  std::lock_guard lock(mutex_);
  encoder_.segment_finished(segment);
}

void OtlpSink::finish() {
  std::unique_lock lock(mutex_);
  ++send_now_;
  changed_.notify_all();
  changed_.wait(lock, [&] { return stop_ || (encoder_.pending_records() == 0 && !sending_); });
  --send_now_;
}

NetworkSinkCounts OtlpSink::counts() const {
  std::lock_guard lock(mutex_);
  NetworkSinkCounts out = counts_;
  out.requests_sent_again = poster_->retries();
  const OtlpEncoderCounts encoder = encoder_.counts();
  out.spans_without_start = encoder.spans_without_start + encoder.span_starts_not_kept;
  out.last_error = std::string{backoff_.last().message()};
  return out;
}

void OtlpSink::send_loop() {
  std::unique_lock lock(mutex_);
  const auto due = [&] {
    return stop_ || send_now_ > 0 || encoder_.pending_bytes() >= target_.max_batch_bytes ||
           std::chrono::steady_clock::now() >= first_pending_ + target_.max_delay;
  };
  for (;;) {
    if (encoder_.pending_records() == 0) {
      if (stop_) return;
      changed_.wait(lock, [&] { return stop_ || encoder_.pending_records() > 0; });
      continue;
    }
    if (!changed_.wait_until(lock, first_pending_ + target_.max_delay, due)) continue;
    const OtlpRequests requests = encoder_.take();
    const bool down = !backoff_.due().ok();
    sending_ = true;
    lock.unlock();
    changed_.notify_all();  // a writer waiting for room
    if (!down) send(requests);
    lock.lock();
    sending_ = false;
    if (down) counts_.records_failed += requests.log_records + requests.spans;
    changed_.notify_all();  // finish() waits for this
  }
}

// On the sender thread, without the lock.
void OtlpSink::send(const OtlpRequests& requests) {
  const char* type = otlp_content_type(target_.encoding);
  absl::Status status = absl::OkStatus();
  uint64_t sent = 0;
  uint64_t failed = 0;
  if (!requests.logs.empty()) {
    status = poster_->post(logs_path_, requests.logs, type);
    (status.ok() ? sent : failed) += requests.log_records;
  }
  if (!requests.traces.empty()) {
    absl::Status traces = status.ok() ? poster_->post(traces_path_, requests.traces, type) : status;
    (traces.ok() ? sent : failed) += requests.spans;
    if (status.ok()) status = std::move(traces);
  }
  std::lock_guard lock(mutex_);
  counts_.records_sent += sent;
  counts_.records_failed += failed;
  if (status.ok()) {
    backoff_.succeeded();
  } else {
    (void)backoff_.failed(std::move(status));
  }
}

}  // namespace ringtail::reader
