// ringtail export: the stored events that pass a filter, in timestamp order,
// as one JSON document (json) or a Chrome trace (chrome-trace), streamed to
// stdout or -o FILE, or as an SQLite database (sqlite, -o FILE only). The
// formats are reader/query/export.hpp's and reader/query/sqlite_export.hpp's.
#include <stdio_ext.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common.hpp"
#include "filter_flags.hpp"
#include "ringtail/reader/clickhouse/clickhouse_query.hpp"
#include "ringtail/reader/output/json_text.hpp"
#include "ringtail/reader/query/catalog.hpp"
#include "ringtail/reader/query/export.hpp"
#include "ringtail/reader/query/sqlite_export.hpp"
#include "ringtail/shm/errno_text.hpp"
#include "store_verbs.hpp"
#include "verbs.hpp"

namespace ringtail::cli {
namespace {

constexpr const char* kExportHelp =
    "Reads what `ringtail drain` stored under DIR (plain and compressed files; files whose index shows they "
    "cannot match are skipped) and writes the events that pass every filter, oldest first, as one JSON document, "
    "streamed to stdout or -o FILE, or as an SQLite database (-o FILE).\n"
    "Formats:\n"
    "  json          {\"events\":[...],\"total_events\":N,\"exported_at\":\"<RFC 3339 UTC>\"}: the stored lines as "
    "they are, one per line.\n"
    "  chrome-trace  the Trace Event Format, {\"traceEvents\":[...],\"displayTimeUnit\":\"ms\"}, for "
    "https://ui.perfetto.dev and chrome://tracing. Each event is an instant event on its process and thread "
    "(name: message, cat: level, ts: whole microseconds since the epoch, args: the other fields); each process is "
    "named after its service. A line P.start and the later P.end of the same pid and the same span_id, else the "
    "same run_id and step_id, else the same tid, become one slice (ts: the start, dur: end - start, name: their "
    "tool field else P, args: both lines' fields, the end's winning). A start never ended and an end without a "
    "start stay instant events.\n"
    "  sqlite        an SQLite database file (needs -o FILE): table events (one row per event: timestamp, time_ns, "
    "level, message, service, host, pid, tid, seq, trace_id, span_id, fields: the other keys as a JSON object, "
    "line: the stored line), table spans (one row per span from its span.start and span.end lines: ids, name, "
    "start and end times, duration_ms, status, attributes) and table meta. See docs/QUERY.md, \"SQLite export\".\n"
    "Examples:\n"
    "  ringtail export DIR --format chrome-trace --since -1h -o trace.json   (then open trace.json in "
    "ui.perfetto.dev)\n"
    "  ringtail export DIR --service agent --where status=FAILURE > failures.json\n"
    "  ringtail export DIR --format sqlite --since -1d -o events.db   (then sqlite3 events.db \"SELECT message, "
    "count(*) FROM events GROUP BY message\")\n"
    "With --engine clickhouse://HOST[:PORT]/DATABASE instead of DIR, the lines come from ClickHouse (the table "
    "drain --sink clickhouse:// fills), filtered and ordered in SQL; every format is the same.\n"
    "On an error a partial FILE is removed (sqlite writes a temporary file beside FILE and renames it over FILE "
    "only when complete: an error leaves FILE as it was).\n"
    "Progress (files and bytes read of DIR, rate, time left) is shown on stderr when it is a terminal and the "
    "export takes over a second, and erased when it ends; not while the export goes to stdout on a terminal, "
    "never with --engine; --no-progress turns it off.\n"
    "Exit status: 0 done (also when nothing matched); 1 DIR "
    "cannot be read "
    "(or ClickHouse failed) or FILE cannot be written; 2 usage error.";

struct ExportConfig {
  std::string directory;
  std::string engine;
  FilterFlags filter;
  std::string format = "json";
  std::string output;
  bool no_index = false;
  bool no_progress = false;
};

// The filter flags as given, as a JSON object (meta "filter" of an SQLite export).
std::string filter_text(const FilterFlags& flags) {
  std::string out = "{";
  const auto add = [&out](std::string_view key, const std::string& value) {
    if (value.empty()) return;
    if (out.size() > 1) out.push_back(',');
    reader::append_json_string(out, key);
    out.push_back(':');
    reader::append_json_string(out, value);
  };
  add("since", flags.since);
  add("until", flags.until);
  add("level", flags.level);
  add("message", flags.message);
  add("pid", flags.pid);
  add("service", flags.service);
  if (!flags.where.empty()) {
    if (out.size() > 1) out.push_back(',');
    out += "\"where\":[";
    for (size_t i = 0; i < flags.where.size(); ++i) {
      if (i != 0) out.push_back(',');
      reader::append_json_string(out, flags.where[i]);
    }
    out.push_back(']');
  }
  out.push_back('}');
  return out;
}

// --format sqlite: the library writes a temporary file beside FILE and renames
// it only once complete, so on any error there is no FILE to remove.
int run_sqlite_export(const ExportConfig& config, const reader::OrderedLines& lines) {
  if (config.output.empty() || config.output == "-") usage_error("--format sqlite needs -o FILE (not stdout)");
  reader::SqliteExportOptions options;
  options.filter = filter_text(config.filter);
  absl::StatusOr<std::unique_ptr<reader::SqliteExportWriter>> writer =
      reader::SqliteExportWriter::create(config.output, std::move(options));
  if (!writer.ok()) {
    print_error(absl::StrCat(config.output, ": ", writer.status().message()));
    return kExitRuntime;
  }
  absl::Status status;
  const absl::Status read = lines([&](std::string_view raw, simdjson::dom::element line) {
    status = (*writer)->add(raw, line);
    return status.ok();
  });
  if (status.ok()) status = read;
  if (status.ok()) status = (*writer)->finish().status();
  if (status.ok()) return kExitOk;
  print_error(absl::StrCat(config.output, ": ", status.message()));
  return kExitRuntime;
}

int run_export(const ExportConfig& config) {
  const std::optional<reader::ClickHouseTarget> engine = engine_target(config.directory, config.engine);
  const reader::Filter filter = build_filter(config.filter);
  const auto report = [](std::string_view line) { report_line(line); };
  // The lines: DIR's files, listed before any output is made (a DIR that
  // cannot be read leaves no file behind), or the --engine table.
  std::vector<reader::StoredFile> files;
  if (!engine) {
    std::optional<std::vector<reader::StoredFile>> listed = list_store(config.directory, !config.no_index);
    if (!listed) return kExitRuntime;
    files = std::move(*listed);
  }
  // Progress over DIR's files (none with --engine); the JSON formats stream
  // to stdout unless -o FILE is given.
  const bool to_stdout = config.format != "sqlite" && (config.output.empty() || config.output == "-");
  const ProgressChoice progress{.no_progress = config.no_progress, .stdout_during_work = to_stdout};
  const reader::OrderedLines lines = [&](const reader::LineCallback& emit) {
    if (engine) return reader::ClickHouseQuery(*engine, report).scan(filter, /*limit=*/0, emit);
    reader::Scanner scanner(filter, report);
    const std::unique_ptr<ProgressMeter> meter = start_progress(progress, ProgressUnit::kBytes);
    if (meter) scanner.set_progress(scan_progress(*meter));
    absl::Status status = scanner.scan_ordered(files, emit);
    if (meter) meter->finish();
    return status;
  };
  if (config.format == "sqlite") return run_sqlite_export(config, lines);
  reader::ExportOptions options;
  options.format = *reader::parse_export_format(config.format);  // CLI::IsMember checked it
  options.report = report;

  const bool to_file = !config.output.empty() && config.output != "-";
  std::FILE* out = stdout;
  if (to_file) {
    out = std::fopen(config.output.c_str(), "w");
    if (out == nullptr) {
      print_error(absl::StrCat("cannot open ", config.output, ": ", shm::errno_text(errno)));
      return kExitRuntime;
    }
  }
  int write_errno = 0;
  const reader::ExportSink sink = [&](std::string_view bytes) {
    if (bytes.empty()) return absl::OkStatus();
    errno = 0;
    if (std::fwrite(bytes.data(), 1, bytes.size(), out) == bytes.size()) return absl::OkStatus();
    write_errno = errno != 0 ? errno : EIO;
    return absl::ErrnoToStatus(write_errno, "cannot write the export");
  };
  absl::StatusOr<reader::ExportStats> stats = reader::export_lines(lines, options, sink);
  absl::Status status = stats.status();
  if (to_file) {
    // The last bytes reach the file here: a full disk may only show now.
    errno = 0;
    int close_errno = std::fflush(out) == 0 ? 0 : (errno != 0 ? errno : EIO);
    if (std::fclose(out) != 0 && close_errno == 0) close_errno = errno != 0 ? errno : EIO;
    if (status.ok() && close_errno != 0) status = absl::ErrnoToStatus(close_errno, "cannot write the export");
  }
  if (status.ok()) return kExitOk;
  // Whoever read stdout went away (`ringtail export DIR | head`): not an error of ours.
  if (!to_file && write_errno == EPIPE) return kExitOk;
  if (to_file) {
    struct stat st {};
    if (::stat(config.output.c_str(), &st) == 0 && S_ISREG(st.st_mode) && std::remove(config.output.c_str()) == 0) {
      print_error(absl::StrCat(config.output, ": ", status.message(), "; the partial file was removed"));
      return kExitRuntime;
    }
    print_error(absl::StrCat(config.output, ": ", status.message()));
    return kExitRuntime;
  }
  print_error(std::string{status.message()});
  // Drop what stdout still buffers: finish() would only fail on it again and
  // print a second line for the same error.
  ::__fpurge(stdout);
  std::clearerr(stdout);
  return kExitRuntime;
}

}  // namespace

void add_export(CLI::App& app) {
  auto config = std::make_shared<ExportConfig>();
  CLI::App* verb =
      app.add_subcommand("export", "Export stored events as JSON, a Chrome trace (Perfetto) or an SQLite database");
  verb->footer(kExportHelp);
  add_store_source(verb, config->directory, config->engine);
  add_filter_flags(verb, config->filter);
  verb->add_option("--format", config->format, "json, chrome-trace or sqlite (needs -o FILE)")
      ->capture_default_str()
      ->check(CLI::IsMember({"json", "chrome-trace", "sqlite"}));
  verb->add_option("-o,--output", config->output, "Write to FILE instead of stdout")->type_name("FILE");
  verb->add_flag("--no-index", config->no_index, "Read every file (ignore and do not build indexes)");
  verb->add_flag("--no-progress", config->no_progress, kNoProgressHelp);
  verb->callback([config] { finish(run_export(*config)); });
}

}  // namespace ringtail::cli
