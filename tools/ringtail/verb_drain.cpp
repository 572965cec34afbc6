// ringtail drain: consumes producers' events into a storage directory
// (reader/storage/store_names.hpp) through the reader library's DrainEngine, with
// a StoreSink for the files and a StoreMaintainer for compression, indexes
// and retention in the background, and into --sink destinations
// (make_network_sink), each a best-effort sink of a FanOutSink; with
// --listen, a MetricsSink counts what is stored and a LiveServer serves it
// (reader/live/).
#include <sys/types.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common.hpp"
#include "progress.hpp"
#include "redaction_flags.hpp"
#include "retention_flags.hpp"
#include "ringtail/reader/alerts/alert_sink.hpp"
#include "ringtail/reader/clickhouse/clickhouse_client.hpp"  // is_clickhouse_uri
#include "ringtail/reader/drain/drain_engine.hpp"
#include "ringtail/reader/live/live_server.hpp"
#include "ringtail/reader/live/metrics_sink.hpp"
#include "ringtail/reader/sinks/fan_out_sink.hpp"
#include "ringtail/reader/sinks/http_sink.hpp"  // parse_http_header, is_http_uri
#include "ringtail/reader/sinks/network_sink.hpp"
#include "ringtail/reader/sinks/otlp_sink.hpp"  // is_otlp_uri
#include "ringtail/reader/sinks/store_sink.hpp"
#include "ringtail/reader/storage/store_maintainer.hpp"
#include "stop_signals.hpp"
#include "verbs.hpp"

namespace ringtail::cli {
namespace {

constexpr const char* kDrainHelp =
    "Consumes the events of every producer's segment (or only those of --pid) into JSONL files,\n"
    "  DIR/<service>/<YYYY-MM-DD>/<service>-<pid>-<class>-<first>-<last>.jsonl.zst\n"
    "one file per process and level class (debug, info, warn, error), one line per event, in timestamp order "
    "within a short reordering window, plus lines for drops and crashes. Files rotate at --max-file-bytes, "
    "--max-file-age and midnight UTC; a closed file is indexed and compressed in the background, and retention "
    "runs every minute (see `ringtail retain --help`; --no-retention turns it off).\n"
    "Values of keys with a word such as password, secret, token, apiKey, auth, cookie or credential are written as "
    "\"***REDACTED***\", and Bearer and Basic credentials, URL passwords and private key blocks are cut out of "
    "every string (--no-default-redaction turns both off); --redact, --hash, --truncate, --keep-ends and "
    "--redaction-rules add rules (docs/FORMAT.md, Redaction).\n"
    "Consuming means the producer may reuse the bytes: one drain per segment at a time (a segment another "
    "running drain consumes is reported and skipped). Exactly once: with the lines of each pass the drain writes a "
    "checkpoint into DIR/.checkpoints, then publishes the read positions; a drain killed at any moment and started "
    "again cuts what was written after the checkpoint and resumes there, with each thread's context, so nothing is "
    "lost or stored twice.\n"
    "--sink URI (repeatable) also sends every event, redacted and in the store's order, to a destination: "
    "syslog+udp://HOST[:PORT], syslog+tcp://HOST[:PORT] (RFC 6587 octet counting) or syslog+unix:///dev/log, "
    "as RFC 5424 messages (PRI from the level, facility local0 unless ?facility=NAME; APP-NAME the service, PROCID "
    "the pid, MSGID the message, every field in [ringtail@32473 ...], MSG the JSON line). A sink has its own "
    "thread and a 64 MiB queue: one that is slow or down never holds back the drain or the store; what it "
    "misses is counted and shown in the summary. With --sink, --out may be left out (then read positions are "
    "published once a batch is queued for the sinks: nothing is kept for a restart).\n"
    "--sink http(s)://HOST[:PORT]/PATH POSTs each batch of lines as NDJSON (application/x-ndjson) with the "
    "--sink-header headers; a failed connection, 429 or 5xx is retried (0.5 s doubling, or Retry-After, at most 30 "
    "s; 4 tries), another answer refuses the batch; a collector that stays down is tried again after 1 s, "
    "doubling up to 30 s.\n"
    "--sink otlp+http(s)://HOST[:PORT][/PREFIX] sends OpenTelemetry (OTLP/HTTP, port 4318 by default): every event "
    "as a log record to PREFIX/v1/logs, every span (span.start/span.end pair) and the agent vocabulary's step.end, "
    "llm.call and memory.op as spans (GenAI semantic conventions) to PREFIX/v1/traces; protobuf, or JSON with "
    "?encoding=json; batched up to 1 MiB or 1 s; retried like http(s) sinks, and --sink-header applies "
    "(docs/FORMAT.md, OpenTelemetry export).\n"
    "--sink clickhouse://HOST[:PORT]/DATABASE[?OPTIONS] (clickhouse+https:// for TLS; ports 8123 and 8443) inserts "
    "every line as a row of a ClickHouse table over its HTTP interface, in RowBinary batches: it creates the "
    "database and the table (IF NOT EXISTS) itself, with the line's keys and values (the line comes back byte for "
    "byte), typed columns (time, level, message, service, --host-name, pid, tid, seq, trace_id, span_id) and the "
    "dotted paths of nested objects (error.type). Exactly once in effect: rows are keyed by host, process, thread "
    "and seq (a ReplacingMergeTree), so lines sent again after a retry or a restart are seen once by queries FROM "
    "the table FINAL. Options: table=NAME (default events), user=NAME, password_file=PATH (its first line; never "
    "in the URI), batch_bytes=SIZE (default 4M), batch_age=AGE (default 1s), timeout=AGE (each request; default "
    "10s). An insert that cannot connect or gets a 5xx is sent again (0.5 s doubling, 4 tries); one that still fails "
    "loses its rows for this sink (the summary counts them and says why), and the server is tried again after 1 s, "
    "doubling up to 30 s (docs/FLEET.md).\n"
    "--host-name NAME names this machine to the clickhouse, otlp and syslog sinks (default: its host name).\n"
    "--listen HOST:PORT serves GET /metrics (Prometheus text format: events stored by service and level, "
    "drops, pending bytes, each sink's queue and failures, agent steps, costs, tokens and policy decisions; "
    "docs/OPERATIONS.md, Metrics), GET /healthz and GET /stats (JSON: the segments as `ringtail ls --json` "
    "shows them, each sink's counts, the drain's). The endpoint has NO AUTHENTICATION and no TLS: :PORT "
    "binds 127.0.0.1; bind another address only where every client that can reach it may read these counts "
    "and the service, tool and model names in them. An address in use is an error before anything is "
    "drained.\n"
    "--alert 'NAME=EXPR[,EXPR...][@COUNT/WINDOW]' (repeatable) notifies the --alert-to targets when COUNT stored "
    "lines that pass every EXPR (the syntax of `ringtail query --where`; level>=LEVEL is a level floor) fall within "
    "WINDOW (s, m or h, by the lines' own timestamps; default @1/1m), at most once per rule per window. NAME: a "
    "letter, then letters, digits, _ or -; a comma or @ inside a value is written \\, or \\@. --alert-to URI "
    "(repeatable): an http(s):// webhook gets a JSON POST (rule, where, count, window, first and last timestamps, "
    "and the window's first matching line as stored, redacted) with the --sink-header headers; "
    "syslog+udp|tcp|unix:// gets it as an RFC 5424 message (MSGID ringtail.alert). Notifications have their own "
    "thread and queue and never hold back the drain; one that fails is retried (4 tries) and counted, and the "
    "summary says per rule what matched, fired, was sent, failed or dropped (docs/OPERATIONS.md, Alerts).\n"
    "Segments of producers that are gone are drained to their end and removed.\n"
    "--once drains what is there and exits (on stderr, when it is a terminal and the drain takes over a second: "
    "segments done of those found, bytes written and the rate, erased at the end; --no-progress turns it off); "
    "--follow keeps draining, picks up new producers, and on SIGINT or "
    "SIGTERM drains what is left and exits (a second signal exits at once).\n"
    "When the output cannot be written (disk full, a symbolic link planted in DIR...), nothing is committed: "
    "what was written since the last commit is taken back and the producers' events stay in their rings, "
    "which fill; a full ring drops and counts (an audit event waits its bound first), and the drops are stored "
    "as \"ringtail.dropped\" lines later. --once then exits 1. --follow keeps running: it says so on stderr at "
    "once and then at most once a minute, marks the segments it leases (`ringtail ls` shows them \"stalled\"), "
    "tries again after 1 s, doubling up to every 30 s, applies retention at once when the disk is full and a "
    "retention policy is set, and carries on by itself when the output works again (one line says so).\n"
    "Examples:\n"
    "  ringtail drain --follow --out /var/lib/ringtail --sink syslog+unix:///dev/log\n"
    "  ringtail drain --follow --out DIR --sink 'clickhouse://ch.internal/telemetry?user=ringtail&password_file=/etc/"
    "ringtail/ch-password'\n"
    "  ringtail drain --follow --out DIR --alert 'denied=message=policy.check,allow=false' \\\n"
    "      --alert-to https://hooks.example/ringtail --sink-header 'Authorization: Bearer ...'\n"
    "  ringtail drain --follow --out DIR --alert 'errors=level>=ERROR@10/1m' --alert-to syslog+unix:///dev/log\n"
    "Exit status: 0 done; 1 the output could not be written (--once, or the final drain of --follow); 2 usage "
    "error (exactly one of --once and --follow is required).";

struct DrainConfig {
  std::string out;
  std::vector<std::string> sinks;
  std::vector<std::string> sink_headers;
  std::string host_name;              // --host-name
  std::vector<std::string> alerts;    // --alert rules
  std::vector<std::string> alert_to;  // their targets
  std::string listen;
  std::vector<pid_t> pids;
  bool once = false;
  bool follow = false;
  bool all_users = false;
  bool fsync = false;
  unsigned reorder_window_ms = 100;
  unsigned decode_threads = 0;
  std::string max_file_bytes = "64M";
  std::string max_file_age = "1h";
  int compression_level = reader::StoreMaintainerOptions{}.compression_level;
  RetentionFlags retention;
  bool no_retention = false;
  RedactionFlags redaction;
  bool no_progress = false;
};

// Reports come from the engine, its decoders, the writer, the maintainer and
// the sinks' threads: each erases --once's progress line first.
void report(std::string_view line) {
  erase_progress_then([line] { print_error(line); });
}

void print_summary(const reader::DrainStats& s, const std::string& out) {
  std::printf("drained %llu events (%llu lines, %llu bytes) into %s; %llu segments seen, %llu removed",
              static_cast<unsigned long long>(s.events), static_cast<unsigned long long>(s.lines),
              static_cast<unsigned long long>(s.bytes), out.c_str(), static_cast<unsigned long long>(s.segments_seen),
              static_cast<unsigned long long>(s.segments_removed));
  if (s.dropped > 0) std::printf(", %llu events dropped by producers", static_cast<unsigned long long>(s.dropped));
  if (s.overwritten > 0) {
    std::printf(" (%llu of them overwritten in flight-recorder rings)", static_cast<unsigned long long>(s.overwritten));
  }
  if (s.audit_lost > 0) std::printf(", %llu AUDIT EVENTS LOST", static_cast<unsigned long long>(s.audit_lost));
  if (s.segments_invalid > 0) std::printf(", %llu invalid", static_cast<unsigned long long>(s.segments_invalid));
  if (s.segments_busy > 0) std::printf(", %llu busy", static_cast<unsigned long long>(s.segments_busy));
  if (s.output_stalls > 0) {
    std::printf(", output stalled %llu times (%llu failed tries)", static_cast<unsigned long long>(s.output_stalls),
                static_cast<unsigned long long>(s.sink_errors));
  }
  std::printf("\n");
}

// The best-effort sinks' stats are in the order added: the --sink order.
void print_sink_summary(const std::vector<reader::SinkStats>& stats,
                        const std::vector<std::unique_ptr<reader::NetworkSink>>& sinks) {
  size_t index = 0;
  for (const reader::SinkStats& sink : stats) {
    if (sink.delivery != reader::Delivery::kBestEffort || index >= sinks.size()) continue;
    const reader::NetworkSinkCounts counts = sinks[index++]->counts();
    std::printf("sink %s: %llu lines sent", sink.name.c_str(), static_cast<unsigned long long>(sink.lines));
    if (sink.dropped_lines > 0) {
      std::printf(", %llu dropped (queue full)", static_cast<unsigned long long>(sink.dropped_lines));
    }
    if (sink.failed_lines > 0) {
      std::printf(", %llu in failed writes (%llu errors)", static_cast<unsigned long long>(sink.failed_lines),
                  static_cast<unsigned long long>(sink.errors));
    }
    if (counts.cut_messages > 0) {
      std::printf(", %llu cut to a datagram", static_cast<unsigned long long>(counts.cut_messages));
    }
    if (counts.records_sent > 0 || counts.records_failed > 0) {
      std::printf(reader::is_clickhouse_uri(sink.name) ? ", %llu rows inserted" : ", %llu OTLP records delivered",
                  static_cast<unsigned long long>(counts.records_sent));
    }
    if (counts.records_failed > 0) {
      std::printf(", %llu in failed requests", static_cast<unsigned long long>(counts.records_failed));
    }
    if (counts.spans_without_start > 0) {
      std::printf(", %llu spans without their start", static_cast<unsigned long long>(counts.spans_without_start));
    }
    if (counts.requests_sent_again > 0) {
      std::printf(", %llu requests sent again", static_cast<unsigned long long>(counts.requests_sent_again));
    }
    if (!counts.last_error.empty()) std::printf("; last error: %s", counts.last_error.c_str());
    std::printf("\n");
  }
}

// One line per --alert rule, in the order given.
void print_alert_summary(const std::vector<reader::AlertRuleCounts>& counts) {
  for (const reader::AlertRuleCounts& rule : counts) {
    std::printf("alert %s: %llu lines matched, %llu fired, %llu sent", rule.name.c_str(),
                static_cast<unsigned long long>(rule.matched), static_cast<unsigned long long>(rule.fired),
                static_cast<unsigned long long>(rule.sent));
    if (rule.failed > 0) std::printf(", %llu failed", static_cast<unsigned long long>(rule.failed));
    if (rule.dropped > 0) std::printf(", %llu dropped (queue full)", static_cast<unsigned long long>(rule.dropped));
    std::printf("\n");
  }
}

int run_drain(const DrainConfig& config) {
  if (config.once == config.follow) usage_error("exactly one of --once and --follow is required");
  if (config.out.empty() && config.sinks.empty()) usage_error("give --out DIR, --sink URI, or both");
  reader::NetworkSinkOptions network_options;
  network_options.host_name = config.host_name;
  for (const std::string& text : config.sink_headers) {
    absl::StatusOr<std::pair<std::string, std::string>> header = reader::parse_http_header(text);
    if (!header.ok()) usage_error(std::string{header.status().message()});
    network_options.http_headers.push_back(*std::move(header));
  }
  if (!config.sink_headers.empty() &&
      std::none_of(config.alert_to.begin(), config.alert_to.end(),
                   [](const auto& uri) { return reader::is_http_uri(uri); }) &&
      std::none_of(config.sinks.begin(), config.sinks.end(),
                   [](const auto& uri) { return reader::is_http_uri(uri) || reader::is_otlp_uri(uri); })) {
    usage_error("--sink-header applies to http(s):// and otlp+http(s):// sinks or --alert-to webhooks: give one");
  }
  // Made before any thread starts, so that a bad URI is a usage error.
  std::vector<std::unique_ptr<reader::NetworkSink>> sinks;
  for (const std::string& uri : config.sinks) {
    absl::StatusOr<std::unique_ptr<reader::NetworkSink>> sink = reader::make_network_sink(uri, network_options);
    if (!sink.ok()) usage_error(std::string{sink.status().message()});
    sinks.push_back(*std::move(sink));
  }
  // Bound before anything is drained, so that an address in use stops the
  // drain at once; it serves once the engine exists.
  std::unique_ptr<reader::LiveServer> live;
  if (!config.listen.empty()) {
    absl::StatusOr<reader::ListenAddress> address = reader::parse_listen_address(config.listen);
    if (!address.ok()) usage_error(std::string{address.status().message()});
    absl::StatusOr<std::unique_ptr<reader::LiveServer>> server = reader::LiveServer::bind(*address);
    if (!server.ok()) {
      print_error(std::string{server.status().message()});
      return kExitRuntime;
    }
    live = *std::move(server);
  }
  // Alert rules and targets: a usage error before anything starts.
  std::vector<reader::AlertRule> alert_rules;
  reader::AlertSinkOptions alert_options;
  if (config.alerts.empty() != config.alert_to.empty()) {
    usage_error(config.alerts.empty() ? "--alert-to needs an --alert RULE" : "--alert needs an --alert-to URI");
  }
  if (!config.alerts.empty()) {
    absl::StatusOr<std::vector<reader::AlertRule>> rules = reader::parse_alert_rules(config.alerts);
    if (!rules.ok()) usage_error(std::string{rules.status().message()});
    alert_rules = *std::move(rules);
    for (const std::string& uri : config.alert_to) {
      absl::StatusOr<reader::AlertTarget> target = reader::parse_alert_target(uri, network_options.http_headers);
      if (!target.ok()) usage_error(std::string{target.status().message()});
      alert_options.targets.push_back(*std::move(target));
    }
    alert_options.notifier.report = report;
  }
  // Before the maintainer and the engine start their threads.
  const std::atomic<bool>* stop = config.follow ? &watch_stop_signals() : nullptr;

  reader::DrainOptions options;
  options.mode = reader::DrainOptions::Mode::kConsume;
  options.discovery.pids = config.pids;
  options.discovery.all_users = config.all_users;
  options.reorder_window = std::chrono::milliseconds(config.reorder_window_ms);
  options.remove_drained_dead_segments = true;
  options.decode_threads = config.decode_threads;
  options.redactor = make_redactor(config.redaction, config.out);
  // A daemon outlives a full disk: try again, less and less often.
  options.sink_error_backoff = std::chrono::seconds(1);
  options.sink_error_backoff_max = std::chrono::seconds(30);

  reader::StoreSinkOptions sink_options;
  sink_options.directory = config.out;
  sink_options.fsync = config.fsync;
  sink_options.report = report;
  absl::StatusOr<uint64_t> max_bytes = reader::parse_size(config.max_file_bytes);
  if (!max_bytes.ok() || *max_bytes == 0) usage_error("--max-file-bytes: give a size such as 64M");
  sink_options.max_file_bytes = *max_bytes;
  absl::StatusOr<std::chrono::seconds> max_age = reader::parse_age(config.max_file_age);
  if (!max_age.ok() || max_age->count() == 0) usage_error("--max-file-age: give an age such as 1h");
  sink_options.max_file_age = *max_age;

  // Declared before the store's sink: the sink hands it the files it closes,
  // also when it goes away, and the maintainer finishes them before it does.
  std::optional<reader::StoreMaintainer> maintainer;
  std::optional<reader::StoreSink> store;
  if (!config.out.empty()) {
    reader::StoreMaintainerOptions maintainer_options;
    maintainer_options.directory = config.out;
    maintainer_options.compression_level = config.compression_level;
    if (!config.no_retention) maintainer_options.retention = retention_policy(config.retention);
    maintainer_options.archive_directory = config.retention.archive;
    maintainer_options.report = report;
    reader::StoreMaintainer& m = maintainer.emplace(maintainer_options);
    sink_options.on_closed = [&m](const std::string& path, std::optional<reader::FileIndex> index) {
      m.file_closed(path, std::move(index));
    };
    store.emplace(sink_options);
    // Out of space: retention, if set, frees what it may at once rather than
    // at its next minute (once per try: the engine calls this per failed try).
    options.on_sink_error = [&m](const absl::Status& error) {
      if (error.code() == absl::StatusCode::kResourceExhausted) (void)m.retain_now();
    };
  }
  // The sinks outlive the fan-out, which lets them finish their queues when it goes.
  std::optional<reader::MetricsSink> metrics;
  if (live) metrics.emplace();
  // Durable, after the store (alert_sink.hpp says why): it must see every
  // line the store commits, once; it never fails a pass, and delivers from
  // its own thread.
  std::optional<reader::AlertSink> alerts;
  if (!alert_rules.empty()) alerts.emplace(std::move(alert_rules), std::move(alert_options));
  std::optional<reader::FanOutSink> fan_out;
  reader::EventSink* sink = store ? &*store : nullptr;
  if (!sinks.empty() || metrics || alerts) {
    fan_out.emplace(report);
    if (store) fan_out->add(*store, "store", reader::Delivery::kDurable);
    // Durable, after the store: it counts inline what the store committed
    // (pending until the flush, dropped by a discard, so a pass read again
    // is not counted twice), costs a few increments per line and never
    // fails. As a best-effort sink it would copy every batch to a queue of
    // its own and undercount whenever that queue was full.
    if (metrics) fan_out->add(*metrics, "metrics", reader::Delivery::kDurable);
    if (alerts) fan_out->add(*alerts, "alerts", reader::Delivery::kDurable);
    for (size_t i = 0; i < sinks.size(); ++i) fan_out->add(*sinks[i], config.sinks[i], reader::Delivery::kBestEffort);
    sink = &*fan_out;
  }
  // --once: segments done of those found and the bytes written so far, after
  // each pass (no time left: what the rings still hold is not summed up).
  // The summary goes to stdout only at the end.
  std::unique_ptr<ProgressMeter> meter;
  if (config.once) {
    meter = start_progress(ProgressChoice{.no_progress = config.no_progress, .stdout_during_work = false},
                           ProgressUnit::kBytes);
  }
  if (meter) {
    options.on_progress = [&meter](const reader::DrainProgress& drained) {
      ProgressCounts counts;
      counts.done = drained.bytes;
      counts.items_done = drained.segments_done;
      counts.items_total = drained.segments;
      counts.items_noun = "segments";
      counts.done_word = "written";
      meter->update(counts);
    };
  }
  const std::string where = config.out.empty() ? std::string("the sinks") : config.out;
  int status = kExitOk;
  {
    reader::DrainEngine engine(options, *sink, report);
    if (live) {
      reader::LiveSources sources;
      sources.metrics = &*metrics;
      sources.sinks = [&fan_out] { return fan_out->stats(); };
      if (alerts) sources.alerts = [&alerts] { return alerts->counts(); };
      sources.network_sinks = [&sinks, &config] {
        std::vector<std::pair<std::string, reader::NetworkSinkCounts>> out;
        for (size_t i = 0; i < sinks.size(); ++i) out.emplace_back(config.sinks[i], sinks[i]->counts());
        return out;
      };
      sources.drain = [&engine] { return engine.stats(); };
      sources.discovery = options.discovery;
      live->start(std::move(sources));
      print_error(absl::StrCat("serving /metrics, /healthz and /stats on http://", live->address().text(),
                               " (no authentication)"));
    }
    if (config.once) {
      absl::Status s = engine.drain_once();
      if (meter) meter->finish();
      if (!s.ok()) {
        print_error(absl::StrCat("output failed, nothing after the last flush was committed: ", s.message()));
        status = kExitRuntime;
      }
    } else {
      engine.run(*stop);
      if (!engine.last_error().ok()) status = kExitRuntime;  // the engine reported it
    }
    if (live) live->stop();  // its sources go with this scope
    if (status == kExitOk) print_summary(engine.stats(), where);
  }
  if (fan_out) {
    fan_out->wait_best_effort_idle();                     // every sink's queue written or failed
    for (const auto& network : sinks) network->finish();  // and what a sink held back for a batch: final counts
    print_sink_summary(fan_out->stats(), sinks);
  }
  if (alerts) {
    alerts->finish();  // every notification delivered or failed: the counts are final
    print_alert_summary(alerts->counts());
  }
  return status;
}

}  // namespace

void add_drain(CLI::App& app) {
  auto config = std::make_shared<DrainConfig>();
  CLI::App* drain = app.add_subcommand("drain", "Consume events into JSONL files and sinks (one drain per segment)");
  drain->footer(kDrainHelp);
  drain->add_option("--out,-o", config->out, "Directory of the JSONL files (created if missing)");
  drain
      ->add_option("--sink", config->sinks,
                   "Also send every event to URI: syslog+udp://HOST[:PORT], syslog+tcp://HOST[:PORT], "
                   "syslog+unix:///PATH (each with ?facility=NAME), http(s)://HOST[:PORT]/PATH, "
                   "otlp+http(s)://HOST[:PORT][/PREFIX][?encoding=json], "
                   "clickhouse://HOST[:PORT]/DATABASE[?table=NAME&user=NAME&password_file=PATH&batch_bytes=SIZE&"
                   "batch_age=AGE&timeout=AGE] (repeatable)")
      ->type_name("URI");
  drain
      ->add_option("--host-name", config->host_name,
                   "This machine's name for the clickhouse (host column), otlp (host.name) and syslog (HOSTNAME) "
                   "sinks (default: its host name)")
      ->type_name("NAME");
  drain
      ->add_option("--sink-header", config->sink_headers,
                   "'NAME: VALUE' sent with every request of the http(s) sinks, e.g. an Authorization token "
                   "(never printed; repeatable)")
      ->type_name("HEADER");
  drain
      ->add_option("--listen", config->listen,
                   "Serve GET /metrics (Prometheus), /healthz and /stats on HOST:PORT (:PORT means 127.0.0.1:PORT). "
                   "No authentication: keep it on loopback or a trusted network")
      ->type_name("HOST:PORT");
  drain
      ->add_option("--alert", config->alerts,
                   "Notify the --alert-to targets when COUNT lines passing every EXPR (query --where syntax; "
                   "level>=LEVEL) fall within WINDOW (s/m/h; default 1/1m), at most once per window, e.g. "
                   "'denied=message=policy.check,allow=false' or 'errors=level>=ERROR@10/1m' (repeatable)")
      ->type_name("NAME=EXPR[,EXPR...][@COUNT/WINDOW]");
  drain
      ->add_option("--alert-to", config->alert_to,
                   "Where --alert notifications go: http(s)://HOST[:PORT]/PATH (a JSON POST, with the --sink-header "
                   "headers), syslog+udp://HOST[:PORT], syslog+tcp://HOST[:PORT], syslog+unix:///PATH (repeatable)")
      ->type_name("URI");
  drain->add_option("--pid", config->pids, "Only this producer's segments (repeatable)")
      ->type_name("PID")
      ->transform(pid_validator());
  CLI::Option* once = drain->add_flag("--once", config->once, "Drain what is pending now, then exit");
  CLI::Option* follow = drain->add_flag("--follow,-f", config->follow, "Keep draining until SIGINT or SIGTERM");
  once->excludes(follow);
  drain->add_flag("--all-users", config->all_users, "Also drain other users' segments");
  drain->add_flag("--fsync", config->fsync, "fdatasync the files before publishing read positions");
  drain
      ->add_option("--reorder-window", config->reorder_window_ms,
                   "Milliseconds a line may wait for earlier lines of other threads")
      ->capture_default_str()
      ->check(CLI::Range(0u, 60000u));
  drain
      ->add_option("--decode-threads", config->decode_threads,
                   "Threads decoding segments in parallel (0: min(4, cores); one segment per thread at a time)")
      ->capture_default_str()
      ->check(CLI::Range(0u, 64u));
  drain->add_option("--max-file-bytes", config->max_file_bytes, "Rotate a file once it holds this much")
      ->capture_default_str()
      ->type_name("SIZE");
  drain->add_option("--max-file-age", config->max_file_age, "Rotate a file open this long")
      ->capture_default_str()
      ->type_name("AGE");
  drain->add_option("--compression-level", config->compression_level, "zstd level of closed files")
      ->capture_default_str()
      ->check(CLI::Range(1, 19));
  add_retention_flags(drain, config->retention);
  add_redaction_flags(drain, config->redaction);
  drain->add_flag("--no-retention", config->no_retention, "Keep every file (no retention while draining)");
  drain->add_flag("--no-progress", config->no_progress, kNoProgressHelp);
  drain->callback([config] { finish(run_drain(*config)); });
}

}  // namespace ringtail::cli
