#include "ringtail/reader/live/live_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "httplib.h"
#include "ringtail/reader/ingest/segment_listing.hpp"
#include "ringtail/reader/output/json_text.hpp"
#include "ringtail/shm/errno_text.hpp"
#include "sinks/sink_uri.hpp"

namespace ringtail::reader {
namespace {

bool host_name_like(std::string_view host) {
  return !host.empty() && host.size() <= 253 && std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
  });
}

// The segments the drain reads, summed per service (bounded like every family).
struct ServiceSegments {
  uint64_t pending_bytes = 0;
  uint64_t audit_lost = 0;
  std::map<std::string, uint64_t> dropped;  // by cause
  std::map<std::string, uint64_t> states;   // segments by state
};

uint64_t saturating_add(uint64_t a, uint64_t b) { return b > UINT64_MAX - a ? UINT64_MAX : a + b; }

std::vector<SegmentRow> list_rows(const DiscoveryOptions& discovery) {
  std::vector<SegmentRow> rows;
  const Discovery found = discover_segments(discovery);
  if (!found.status.ok()) return rows;
  for (const DiscoveredSegment& segment : found.segments) {
    SegmentRow row = inspect_segment(segment);
    if (!row.vanished) rows.push_back(std::move(row));
  }
  return rows;
}

void append_segment_metrics(std::string& out, const LiveSources& sources) {
  LabelTable services(1, sources.max_label_sets);
  std::vector<ServiceSegments> sums;
  for (const SegmentRow& row : list_rows(sources.discovery)) {
    bool overflowed = false;
    const std::string label = row.valid ? utf8_label_value(row.service) : std::string();
    const uint32_t index = services.find_or_add({label}, &overflowed);
    if (index >= sums.size()) sums.resize(index + 1);
    ServiceSegments& sum = sums[index];
    ++sum.states[row.valid ? row.state : row.refused ? "refused" : "invalid"];
    if (!row.valid) continue;
    const SegmentSummary& s = row.summary;
    sum.pending_bytes = saturating_add(sum.pending_bytes, s.pending_bytes);
    sum.audit_lost = saturating_add(sum.audit_lost, s.audit_lost);
    for (const auto& [cause, n] : {std::pair<const char*, uint64_t>{"ring_full", s.dropped_full},
                                   {"too_big", s.dropped_too_big},
                                   {"no_ring", s.lost_no_ring},
                                   {"callsite_table_full", s.lost_callsite_table_full}}) {
      sum.dropped[cause] = saturating_add(sum.dropped[cause], n);
    }
  }
  PrometheusWriter writer(out);
  const std::vector<std::string_view> service_label = {"service"};
  writer.family("ringtail_segments", "Segments in /dev/shm the drain reads, by producer state", "gauge");
  for (uint32_t i = 0; i < sums.size(); ++i) {
    for (const auto& [state, n] : sums[i].states) {
      writer.sample("ringtail_segments", {"service", "state"}, {services.value(i, 0), state}, static_cast<double>(n));
    }
  }
  writer.family("ringtail_pending_bytes",
                "Bytes producers wrote that the drain has not consumed yet, over the segments' rings now", "gauge");
  for (uint32_t i = 0; i < sums.size(); ++i) {
    writer.sample("ringtail_pending_bytes", service_label, {services.value(i, 0)},
                  static_cast<double>(sums[i].pending_bytes));
  }
  writer.family("ringtail_segment_dropped_events",
                "Events dropped as the segments in /dev/shm count them now (ringtail ls DROPPED, by cause); falls "
                "when a segment is removed: use ringtail_dropped_events_total for rates",
                "gauge");
  for (uint32_t i = 0; i < sums.size(); ++i) {
    for (const auto& [cause, n] : sums[i].dropped) {
      writer.sample("ringtail_segment_dropped_events", {"service", "cause"}, {services.value(i, 0), cause},
                    static_cast<double>(n));
    }
  }
  writer.family("ringtail_segment_audit_lost", "Audit events lost as the segments in /dev/shm count them now", "gauge");
  for (uint32_t i = 0; i < sums.size(); ++i) {
    writer.sample("ringtail_segment_audit_lost", service_label, {services.value(i, 0)},
                  static_cast<double>(sums[i].audit_lost));
  }
}

void append_sink_metrics(std::string& out, const std::vector<SinkStats>& sinks) {
  PrometheusWriter writer(out);
  struct Figure {
    const char* name;
    const char* help;
    const char* type;
    uint64_t SinkStats::*field;
  };
  static constexpr Figure kFigures[] = {
      {"ringtail_sink_queued_bytes", "Bytes of batches queued for the sink now (best effort sinks)", "gauge",
       &SinkStats::queued_bytes},
      {"ringtail_sink_batches_total", "Batches the sink wrote", "counter", &SinkStats::batches},
      {"ringtail_sink_lines_total", "Lines of the batches the sink wrote", "counter", &SinkStats::lines},
      {"ringtail_sink_failed_lines_total", "Lines of batches whose write failed", "counter", &SinkStats::failed_lines},
      {"ringtail_sink_dropped_lines_total", "Lines of batches the sink's full queue turned away", "counter",
       &SinkStats::dropped_lines},
      {"ringtail_sink_errors_total", "Failed writes and flushes of the sink", "counter", &SinkStats::errors},
  };
  for (const Figure& figure : kFigures) {
    writer.family(figure.name, figure.help, figure.type);
    for (const SinkStats& sink : sinks) {
      writer.sample(figure.name, {"sink", "delivery"},
                    {sink.name, sink.delivery == Delivery::kDurable ? "durable" : "best_effort"},
                    static_cast<double>(sink.*figure.field));
    }
  }
}

void append_drain_metrics(std::string& out, const DrainStats& s) {
  PrometheusWriter writer(out);
  const std::pair<const char*, std::pair<const char*, uint64_t>> counters[] = {
      {"ringtail_drain_bytes_total", {"Bytes of lines the drain handed its sinks", s.bytes}},
      {"ringtail_drain_passes_total", {"Passes of the drain over its segments", s.passes}},
      {"ringtail_drain_segments_seen_total", {"Segments the drain opened", s.segments_seen}},
      {"ringtail_drain_segments_removed_total", {"Dead producers' segments drained and removed", s.segments_removed}},
      {"ringtail_drain_segments_invalid_total", {"Segments that failed to open or validate", s.segments_invalid}},
      {"ringtail_drain_late_events_total", {"Events written later than the reorder window", s.late_events}},
      {"ringtail_drain_output_errors_total", {"Failed tries of the drain's output (store)", s.sink_errors}},
      {"ringtail_drain_output_stalls_total", {"Times the drain's output began failing", s.output_stalls}},
  };
  for (const auto& [name, help_value] : counters) {
    writer.family(name, help_value.first, "counter");
    writer.sample(name, {}, {}, static_cast<double>(help_value.second));
  }
}

void append_key(std::string& out, const char* key) {
  if (out.back() != '{') out.push_back(',');
  append_json_string(out, key);
  out.push_back(':');
}

// What only some network sinks count (network_sink.hpp), each family with a
// sample for every --sink, so that a rate is 0 rather than absent.
void append_network_sink_metrics(std::string& out,
                                 const std::vector<std::pair<std::string, NetworkSinkCounts>>& sinks) {
  PrometheusWriter writer(out);
  writer.family("ringtail_sink_records_total",
                "OTLP log records and spans, and ClickHouse rows, by whether the server took their request", "counter");
  for (const auto& [name, counts] : sinks) {
    writer.sample("ringtail_sink_records_total", {"sink", "result"}, {name, "delivered"},
                  static_cast<double>(counts.records_sent));
    writer.sample("ringtail_sink_records_total", {"sink", "result"}, {name, "failed"},
                  static_cast<double>(counts.records_failed));
  }
  writer.family("ringtail_sink_requests_retried_total",
                "HTTP, OTLP and ClickHouse requests sent again after a failed try", "counter");
  for (const auto& [name, counts] : sinks) {
    writer.sample("ringtail_sink_requests_retried_total", {"sink"}, {name},
                  static_cast<double>(counts.requests_sent_again));
  }
  writer.family("ringtail_sink_messages_cut_total", "Syslog messages over UDP cut to a datagram", "counter");
  for (const auto& [name, counts] : sinks) {
    writer.sample("ringtail_sink_messages_cut_total", {"sink"}, {name}, static_cast<double>(counts.cut_messages));
  }
}

// Each --alert rule's counts (alert_sink.hpp). Rule names are the
// operator's (at most 64 rules), not producers': no label bound needed.
void append_alert_metrics(std::string& out, const std::vector<AlertRuleCounts>& rules) {
  PrometheusWriter writer(out);
  writer.family("ringtail_alert_lines_matched_total", "Stored lines that matched the alert rule", "counter");
  for (const AlertRuleCounts& rule : rules) {
    writer.sample("ringtail_alert_lines_matched_total", {"rule"}, {rule.name}, static_cast<double>(rule.matched));
  }
  writer.family("ringtail_alerts_fired_total", "Notifications the alert rule made (at most one per window)", "counter");
  for (const AlertRuleCounts& rule : rules) {
    writer.sample("ringtail_alerts_fired_total", {"rule"}, {rule.name}, static_cast<double>(rule.fired));
  }
  writer.family("ringtail_alert_notifications_total",
                "Deliveries of the rule's notifications per target: sent, failed after their tries, or dropped by "
                "a full queue",
                "counter");
  for (const AlertRuleCounts& rule : rules) {
    writer.sample("ringtail_alert_notifications_total", {"rule", "result"}, {rule.name, "sent"},
                  static_cast<double>(rule.sent));
    writer.sample("ringtail_alert_notifications_total", {"rule", "result"}, {rule.name, "failed"},
                  static_cast<double>(rule.failed));
    writer.sample("ringtail_alert_notifications_total", {"rule", "result"}, {rule.name, "dropped"},
                  static_cast<double>(rule.dropped));
  }
}

}  // namespace

std::string ListenAddress::text() const { return internal::host_port_text(host, port); }

absl::StatusOr<ListenAddress> parse_listen_address(std::string_view text) {
  const auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("--listen '", std::string(text), "': ", std::string(why)));
  };
  // ":PORT" is loopback: the endpoints have no authentication.
  const std::string spelled = text.starts_with(':') ? absl::StrCat("127.0.0.1", std::string(text)) : std::string(text);
  const absl::StatusOr<internal::HostPort> parsed = internal::parse_host_port(spelled, 0);
  if (!parsed.ok()) return bad(std::string{parsed.status().message()});
  if (parsed->port == 0) return bad("give HOST:PORT or :PORT");
  ListenAddress address{parsed->host, parsed->port};
  const std::string& host = address.host;
  if (spelled.starts_with('[')) {
    in6_addr v6{};
    if (::inet_pton(AF_INET6, host.c_str(), &v6) != 1) return bad(absl::StrCat("'", host, "' is not an IPv6 address"));
    return address;
  }
  const bool numeric = std::all_of(host.begin(), host.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
  in_addr v4{};
  if (numeric ? ::inet_pton(AF_INET, host.c_str(), &v4) != 1 : !host_name_like(host)) {
    return bad(absl::StrCat("'", host, "' is not an IPv4 address or a host name"));
  }
  return address;
}

// httplib::Server closes its socket only when it stops listening; one bound
// and never started (the drain failed to start) closes it here.
class BoundServer : public httplib::Server {
 public:
  void close_unstarted() {
    const socket_t socket = svr_sock_.exchange(INVALID_SOCKET);
    if (socket != INVALID_SOCKET) ::close(socket);
  }
};

struct LiveServer::Impl {
  ListenAddress address;
  BoundServer server;
  std::thread thread;
  std::mutex mutex;  // start() and stop() against each other
  bool started ABSL_GUARDED_BY(mutex) = false;
  bool stopped ABSL_GUARDED_BY(mutex) = false;
  std::atomic<bool> done{false};  // the thread has stopped listening
  // Set once by start() before the thread runs, read-only after.
  LiveSources sources;
};

LiveServer::LiveServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

LiveServer::~LiveServer() { stop(); }

absl::StatusOr<std::unique_ptr<LiveServer>> LiveServer::bind(const ListenAddress& address) {
  auto impl = std::make_unique<Impl>();
  impl->address = address;
  httplib::Server& server = impl->server;
  // Not SO_REUSEPORT (httplib's default sets it): two drains on one port
  // would share it, and scrapes would reach either.
  server.set_socket_options([](socket_t socket) {
    int yes = 1;
    ::setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  server.new_task_queue = [] { return new httplib::ThreadPool(kServerThreads); };
  server.set_payload_max_length(4096);  // GETs only: no request body is read
  server.set_read_timeout(5);
  server.set_write_timeout(5);
  errno = 0;
  if (!server.bind_to_port(address.host, address.port)) {
    const int error = errno;
    std::string why = error == EADDRINUSE      ? "address in use (another drain, or another server?)"
                      : error == EADDRNOTAVAIL ? "no such address on this host"
                      : error == EACCES        ? "permission denied"
                      : error != 0             ? shm::errno_text(error)
                                               : "the address does not resolve or cannot be bound";
    return absl::UnavailableError(absl::StrCat("cannot listen on ", address.text(), ": ", why));
  }
  return std::unique_ptr<LiveServer>(new LiveServer(std::move(impl)));
}

void LiveServer::start(LiveSources sources) {
  std::lock_guard lock(impl_->mutex);
  if (impl_->started || impl_->stopped) return;
  impl_->started = true;
  impl_->sources = std::move(sources);
  httplib::Server& server = impl_->server;
  server.Get("/metrics", [this](const httplib::Request&, httplib::Response& response) {
    response.set_content(metrics_text(), "text/plain; version=0.0.4; charset=utf-8");
  });
  server.Get("/healthz", [](const httplib::Request&, httplib::Response& response) {
    response.set_content("ok\n", "text/plain; charset=utf-8");
  });
  server.Get("/stats", [this](const httplib::Request&, httplib::Response& response) {
    response.set_content(stats_json(), "application/json");
  });
  server.set_exception_handler([](const httplib::Request&, httplib::Response& response, const std::exception_ptr&) {
    response.status = 500;
    response.set_content("internal error\n", "text/plain");
  });
  impl_->thread = std::thread([&server, &done = impl_->done] {
    ::pthread_setname_np(::pthread_self(), "rt-live");  // for top -H, perf and gdb
    server.listen_after_bind();
    done.store(true, std::memory_order_release);  // stop() joins after this
  });
}

void LiveServer::stop() {
  std::lock_guard lock(impl_->mutex);
  if (impl_->stopped) return;
  impl_->stopped = true;
  if (!impl_->started) {
    impl_->server.close_unstarted();
    return;
  }
  // httplib's stop() does nothing until the thread has begun listening:
  // asked again until the thread is done, so a stop right after start()
  // cannot leave it listening for ever.
  while (!impl_->done.load(std::memory_order_acquire)) {  // the thread's exit
    impl_->server.stop();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  impl_->thread.join();
}

const ListenAddress& LiveServer::address() const { return impl_->address; }

std::string LiveServer::metrics_text() const {
  const LiveSources& sources = impl_->sources;
  std::string out;
  if (sources.metrics != nullptr) sources.metrics->append_prometheus(out);
  append_segment_metrics(out, sources);
  if (sources.sinks) append_sink_metrics(out, sources.sinks());
  if (sources.network_sinks) append_network_sink_metrics(out, sources.network_sinks());
  if (sources.alerts) append_alert_metrics(out, sources.alerts());
  if (sources.drain) append_drain_metrics(out, sources.drain());
  return out;
}

std::string LiveServer::stats_json() const {
  const LiveSources& sources = impl_->sources;
  std::string out = "{\"segments\":[";
  bool first = true;
  for (const SegmentRow& row : list_rows(sources.discovery)) {
    if (!first) out.push_back(',');
    first = false;
    out += segment_row_json(row);
  }
  out += "],\"sinks\":[";
  if (sources.sinks) {
    first = true;
    for (const SinkStats& sink : sources.sinks()) {
      if (!first) out.push_back(',');
      first = false;
      out.push_back('{');
      append_key(out, "name");
      append_json_string(out, sink.name);
      append_key(out, "delivery");
      append_json_string(out, sink.delivery == Delivery::kDurable ? "durable" : "best_effort");
      const std::pair<const char*, uint64_t> figures[] = {{"batches", sink.batches},
                                                          {"lines", sink.lines},
                                                          {"failed_lines", sink.failed_lines},
                                                          {"dropped_lines", sink.dropped_lines},
                                                          {"errors", sink.errors},
                                                          {"queued_bytes", sink.queued_bytes}};
      for (const auto& [key, value] : figures) {
        append_key(out, key);
        append_json_uint(out, value);
      }
      out.push_back('}');
    }
  }
  out += "],\"drain\":{";
  if (sources.drain) {
    const DrainStats s = sources.drain();
    const std::pair<const char*, uint64_t> figures[] = {
        {"events", s.events},
        {"lines", s.lines},
        {"bytes", s.bytes},
        {"gaps", s.gaps},
        {"dropped", s.dropped},
        {"overwritten", s.overwritten},
        {"audit_lost", s.audit_lost},
        {"segments_seen", s.segments_seen},
        {"segments_removed", s.segments_removed},
        {"segments_invalid", s.segments_invalid},
        {"segments_busy", s.segments_busy},
        {"producers_crashed", s.producers_crashed},
        {"late_events", s.late_events},
        {"passes", s.passes},
        {"output_errors", s.sink_errors},
        {"output_stalls", s.output_stalls},
    };
    for (const auto& [key, value] : figures) {
      append_key(out, key);
      append_json_uint(out, value);
    }
  }
  out += "}}\n";
  return out;
}

}  // namespace ringtail::reader
