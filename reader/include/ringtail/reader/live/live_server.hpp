// LiveServer: the drain's live endpoints (`ringtail drain --listen
// HOST:PORT`), an HTTP server on a thread of its own:
//
//   GET /metrics  Prometheus text format 0.0.4: what the drain stored
//                 (MetricsSink), each sink's counts and queue
//                 (FanOutSink::stats), the engine's counts (DrainStats), and
//                 the segments' pending bytes and loss counters as
//                 `ringtail ls` reads them (docs/OPERATIONS.md, "Metrics").
//   GET /healthz  "ok": the drain runs and serves.
//   GET /stats    JSON: {"segments": [what `ringtail ls --json` shows],
//                 "sinks": [each sink's counts], "drain": {the engine's}}.
//
// No authentication and no TLS: bind it to loopback (a bare ":PORT" means
// 127.0.0.1) or to an interface only trusted scrapers reach. What it serves
// is counts and the names producers gave (services, tools, models), never
// event text.
//
// Life: bind() takes the port before anything drains, so that an address in
// use is an error at start; start() serves with the sources (which must
// outlive the server or its stop()); stop() (and the destructor) stops
// serving and joins the thread. cpp-httplib (Debian's libcpp-httplib)
// serves it from a pool of kServerThreads threads; its socket has
// SO_REUSEADDR but not SO_REUSEPORT, so a second drain on the same port
// fails instead of sharing it.
//
// Threading: the handlers run on the server's threads and call the
// sources from there: MetricsSink::append_prometheus, FanOutSink::stats
// and DrainEngine::stats are safe from any thread; segments are opened
// read-only per request, as `ringtail ls` opens them.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "ringtail/reader/alerts/alert_sink.hpp"
#include "ringtail/reader/drain/drain_engine.hpp"
#include "ringtail/reader/ingest/segment_directory.hpp"
#include "ringtail/reader/live/metrics_sink.hpp"
#include "ringtail/reader/sinks/fan_out_sink.hpp"
#include "ringtail/reader/sinks/network_sink.hpp"

namespace ringtail::reader {

struct ListenAddress {
  std::string host;  // an IPv4 or IPv6 literal (without brackets) or a host name
  uint16_t port = 0;
  // "HOST:PORT", IPv6 in brackets.
  std::string text() const;
};

// "HOST:PORT", "[IPV6]:PORT" or ":PORT" (127.0.0.1); the port 1-65535.
// InvalidArgument, naming what is wrong, for anything else.
absl::StatusOr<ListenAddress> parse_listen_address(std::string_view text);

struct LiveSources {
  const MetricsSink* metrics = nullptr;           // may be null: no stored-line metrics
  std::function<std::vector<SinkStats>()> sinks;  // may be empty: no sink metrics
  // Each --sink's own counts (OTLP records, retried requests, cut messages),
  // by the name its SinkStats has; may be empty.
  std::function<std::vector<std::pair<std::string, NetworkSinkCounts>>()> network_sinks;
  std::function<std::vector<AlertRuleCounts>()> alerts;  // may be empty: no alert rules
  std::function<DrainStats()> drain;                     // may be empty: no engine metrics
  DiscoveryOptions discovery;                            // which segments the drain reads: pids, all users
  size_t max_label_sets = kDefaultMaxLabelSets;          // per family of the segment gauges
};

class LiveServer {
 public:
  static constexpr int kServerThreads = 4;

  // Binds `address` (listening; nothing is answered before start()).
  // Unavailable, naming the address and the reason ("address in use"...),
  // when it cannot.
  static absl::StatusOr<std::unique_ptr<LiveServer>> bind(const ListenAddress& address);
  ~LiveServer();
  LiveServer(const LiveServer&) = delete;
  LiveServer& operator=(const LiveServer&) = delete;

  // Serves with `sources` on the server's thread. Once.
  void start(LiveSources sources);
  // Stops serving and joins the thread; idempotent.
  void stop();

  const ListenAddress& address() const;

  // The bodies of GET /metrics and GET /stats (from start()'s sources).
  std::string metrics_text() const;
  std::string stats_json() const;

 private:
  struct Impl;
  explicit LiveServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ringtail::reader
