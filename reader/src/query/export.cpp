#include "ringtail/reader/query/export.hpp"
#include "ringtail/reader/query/json_value.hpp"

#include <cerrno>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ringtail/reader/ingest/timestamp.hpp"
#include "ringtail/reader/output/json_text.hpp"
#include "ringtail/reader/output/time_text.hpp"
#include "ringtail/reader/query/parsed_line.hpp"

namespace ringtail::reader {
namespace {

constexpr std::string_view kStartSuffix = ".start";
constexpr std::string_view kEndSuffix = ".end";

// The keys a trace event carries itself; every other field goes into args.
bool is_event_key(std::string_view key) {
  return key == "timestamp" || key == "level" || key == "message" || key == "pid" || key == "tid";
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// A field's value, if the line has it.
std::optional<simdjson::dom::element> field(simdjson::dom::element line, std::string_view key) {
  simdjson::dom::element value;
  if (line[key].get(value) != simdjson::SUCCESS) return std::nullopt;
  return value;
}

std::string_view string_field(simdjson::dom::element line, std::string_view key) {
  std::string_view text;
  return line[key].get(text) == simdjson::SUCCESS ? text : std::string_view();
}

// A non-negative integer field (pid, tid).
std::optional<uint64_t> uint_field(simdjson::dom::element line, std::string_view key) {
  uint64_t value = 0;
  if (line[key].get(value) != simdjson::SUCCESS) return std::nullopt;
  return value;
}

// The field's canonical JSON text, or null when the line does not have it.
void append_field_or_null(std::string& out, simdjson::dom::element line, std::string_view key) {
  if (const std::optional<simdjson::dom::element> value = field(line, key)) {
    append_json_value(out, *value);
  } else {
    out += "null";
  }
}

}  // namespace

std::optional<ExportFormat> parse_export_format(std::string_view name) {
  if (name == "json") return ExportFormat::kJson;
  if (name == "chrome-trace") return ExportFormat::kChromeTrace;
  return std::nullopt;
}

std::string_view export_format_name(ExportFormat format) {
  return format == ExportFormat::kJson ? "json" : "chrome-trace";
}

ExportSink string_sink(std::string& out) {
  return [&out](std::string_view bytes) {
    out.append(bytes);
    return absl::OkStatus();
  };
}

ExportSink file_sink(std::FILE* out) {
  return [out](std::string_view bytes) {
    if (bytes.empty()) return absl::OkStatus();
    errno = 0;
    if (std::fwrite(bytes.data(), 1, bytes.size(), out) == bytes.size()) return absl::OkStatus();
    const int error = errno;
    if (error == 0) return absl::UnknownError("cannot write the export");
    return absl::ErrnoToStatus(error, "cannot write the export");
  };
}

// ---------------------------------------------------------------------------
// Values and times

std::optional<int64_t> line_timestamp_ns(simdjson::dom::element line) {
  const std::string_view text = string_field(line, "timestamp");
  absl::StatusOr<int64_t> ns = parse_rfc3339(text);
  if (!ns.ok()) return std::nullopt;
  return *ns;
}

std::optional<PairMarker> pair_marker(simdjson::dom::element line) {
  std::string_view message;
  if (line["message"].get(message) != simdjson::SUCCESS) return std::nullopt;
  PairMarker marker;
  if (ends_with(message, kStartSuffix) && message.size() > kStartSuffix.size()) {
    marker.start = true;
    marker.prefix = std::string(message.substr(0, message.size() - kStartSuffix.size()));
  } else if (ends_with(message, kEndSuffix) && message.size() > kEndSuffix.size()) {
    marker.prefix = std::string(message.substr(0, message.size() - kEndSuffix.size()));
  } else {
    return std::nullopt;
  }
  // Parts in canonical JSON text, which holds no raw '\n': the separator
  // cannot occur inside a part, so distinct keys never collide.
  std::string& key = marker.key;
  append_field_or_null(key, line, "pid");
  key.push_back('\n');
  append_json_string(key, marker.prefix);
  key.push_back('\n');
  if (field(line, "span_id")) {
    key += "span\n";
    append_field_or_null(key, line, "trace_id");
    key.push_back('\n');
    append_field_or_null(key, line, "span_id");
  } else if (field(line, "run_id") || field(line, "step_id")) {
    key += "step\n";
    append_field_or_null(key, line, "run_id");
    key.push_back('\n');
    append_field_or_null(key, line, "step_id");
  } else {
    key += "tid\n";
    append_field_or_null(key, line, "tid");
  }
  return marker;
}

// ---------------------------------------------------------------------------
// ExportWriter

ExportWriter::ExportWriter(ExportSink sink) : sink_(std::move(sink)) { out_.reserve(kExportFlushBytes + 4096); }

absl::Status ExportWriter::maybe_flush() {
  if (!error_.ok()) return error_;
  if (out_.size() < kExportFlushBytes) return absl::OkStatus();
  return flush();
}

absl::Status ExportWriter::flush() {
  if (!error_.ok()) return error_;
  if (!out_.empty()) error_ = sink_(out_);
  out_.clear();
  return error_;
}

// ---------------------------------------------------------------------------
// json

JsonExportWriter::JsonExportWriter(ExportSink sink, int64_t exported_at_ns)
    : ExportWriter(std::move(sink)), exported_at_ns_(exported_at_ns) {
  out_ += "{\"events\":[";
}

absl::Status JsonExportWriter::add(std::string_view raw, simdjson::dom::element /*line*/) {
  if (absl::Status status = maybe_flush(); !status.ok()) return status;
  ++stats_.lines;
  out_ += stats_.events == 0 ? "\n" : ",\n";
  out_.append(raw);
  ++stats_.events;
  return maybe_flush();
}

absl::Status JsonExportWriter::finish() {
  if (absl::Status status = maybe_flush(); !status.ok()) return status;
  out_ += stats_.events == 0 ? "]" : "\n]";
  out_ += ",\"total_events\":";
  append_json_uint(out_, stats_.events);
  out_ += ",\"exported_at\":";
  TimestampFormatter().append(out_, exported_at_ns_);  // quotes included
  out_ += "}\n";
  return flush();
}

// ---------------------------------------------------------------------------
// chrome-trace

ChromeTraceWriter::ChromeTraceWriter(ExportSink sink, size_t max_open_starts)
    : ExportWriter(std::move(sink)), max_open_starts_(max_open_starts) {
  out_ += "{\"traceEvents\":[";
}

absl::Status ChromeTraceWriter::add(std::string_view raw, simdjson::dom::element line) {
  if (absl::Status status = maybe_flush(); !status.ok()) return status;
  ++stats_.lines;
  const std::optional<int64_t> ns = line_timestamp_ns(line);
  if (!ns) {
    ++stats_.no_timestamp;
    return absl::OkStatus();
  }
  note_process(line);
  std::optional<PairMarker> marker = pair_marker(line);
  if (!marker) {
    write_instant(line, *ns);
  } else if (marker->start) {
    const uint64_t arrival = next_arrival_++;
    open_by_key_[marker->key].push_back(arrival);
    open_.emplace(arrival, OpenStart{std::move(marker->key), simdjson::padded_string(raw), *ns});
    while (open_.size() > max_open_starts_) give_up_oldest();
  } else if (auto it = open_by_key_.find(marker->key); it != open_by_key_.end()) {
    // The most recent open start of this key: nested pairs nest.
    const uint64_t arrival = it->second.back();
    it->second.pop_back();
    if (it->second.empty()) open_by_key_.erase(it);
    auto node = open_.extract(arrival);
    simdjson::dom::element start;
    if (start_parser_.parse(node.mapped().raw).get(start) == simdjson::SUCCESS) {
      write_complete(start, node.mapped().ns, line, *ns);
    } else {  // cannot happen: the same bytes parsed when they were read
      ++stats_.unmatched_ends;
      write_instant(line, *ns);
    }
  } else {
    ++stats_.unmatched_ends;
    write_instant(line, *ns);
  }
  return maybe_flush();
}

absl::Status ChromeTraceWriter::finish() {
  if (absl::Status status = maybe_flush(); !status.ok()) return status;
  // Starts that never ended, in the order they came.
  while (!open_.empty()) {
    give_up_oldest();
    if (absl::Status status = maybe_flush(); !status.ok()) return status;
  }
  out_ += written_ == 0 ? "]" : "\n]";
  out_ += ",\"displayTimeUnit\":\"ms\"}\n";
  return flush();
}

void ChromeTraceWriter::give_up_oldest() {
  auto node = open_.extract(open_.begin());
  if (auto it = open_by_key_.find(node.mapped().key); it != open_by_key_.end()) {
    // Arrivals of one key are in increasing order: the oldest is the first.
    it->second.erase(it->second.begin());
    if (it->second.empty()) open_by_key_.erase(it);
  }
  ++stats_.unmatched_starts;
  simdjson::dom::element start;
  if (start_parser_.parse(node.mapped().raw).get(start) == simdjson::SUCCESS) write_instant(start, node.mapped().ns);
}

void ChromeTraceWriter::begin_event() { out_ += written_++ == 0 ? "\n" : ",\n"; }

void ChromeTraceWriter::note_process(simdjson::dom::element line) {
  const uint64_t pid = uint_field(line, "pid").value_or(0);
  std::string_view service;
  if (named_pids_.count(pid) != 0 || line["service"].get(service) != simdjson::SUCCESS) return;
  named_pids_.insert(pid);
  ++stats_.processes;
  begin_event();
  out_ += "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":";
  append_json_uint(out_, pid);
  out_ += ",\"args\":{\"name\":";
  append_json_string(out_, service);
  out_ += "}}";
}

void ChromeTraceWriter::write_instant(simdjson::dom::element line, int64_t ns) {
  ++stats_.instant_events;
  const std::optional<uint64_t> tid = uint_field(line, "tid");
  begin_event();
  out_ += "{\"name\":";
  append_json_string(out_, string_field(line, "message"));
  out_ += ",\"cat\":";
  append_json_string(out_, string_field(line, "level"));
  // A line without a tid (a reader note) is about its process.
  out_ += tid ? ",\"ph\":\"i\",\"s\":\"t\",\"ts\":" : ",\"ph\":\"i\",\"s\":\"p\",\"ts\":";
  append_json_int(out_, floor_micros(ns));
  out_ += ",\"pid\":";
  append_json_uint(out_, uint_field(line, "pid").value_or(0));
  if (tid) {
    out_ += ",\"tid\":";
    append_json_uint(out_, *tid);
  }
  out_ += ",\"args\":{";
  bool first = true;
  simdjson::dom::object object;
  if (line.get(object) == simdjson::SUCCESS) {
    for (const simdjson::dom::key_value_pair member : object) {
      if (is_event_key(member.key)) continue;
      if (!first) out_.push_back(',');
      first = false;
      append_json_string(out_, member.key);
      out_.push_back(':');
      append_json_value(out_, member.value);
    }
  }
  out_ += "}}";
}

void ChromeTraceWriter::write_complete(simdjson::dom::element start, int64_t start_ns, simdjson::dom::element end,
                                       int64_t end_ns) {
  ++stats_.complete_events;
  begin_event();
  out_ += "{\"name\":";
  std::optional<simdjson::dom::element> tool = field(end, "tool");
  if (!tool) tool = field(start, "tool");
  std::string_view tool_text;
  if (tool && tool->get(tool_text) == simdjson::SUCCESS) {
    append_json_string(out_, tool_text);
  } else if (tool) {
    std::string text;
    append_json_value(text, *tool);
    append_json_string(out_, text);
  } else {
    const std::string_view message = string_field(start, "message");
    append_json_string(out_, message.substr(0, message.size() - kStartSuffix.size()));
  }
  out_ += ",\"cat\":";
  append_json_string(out_, string_field(end, "level"));
  // ts + dur is exactly the end's ts; truncation keeps the order of times,
  // so slices that followed each other still do.
  const int64_t begins = floor_micros(start_ns);
  const int64_t ends = floor_micros(end_ns);
  out_ += ",\"ph\":\"X\",\"ts\":";
  append_json_int(out_, begins);
  out_ += ",\"dur\":";
  append_json_int(out_, ends > begins ? ends - begins : 0);  // µs: no overflow
  out_ += ",\"pid\":";
  append_json_uint(out_, uint_field(start, "pid").value_or(0));
  if (const std::optional<uint64_t> tid = uint_field(start, "tid")) {
    out_ += ",\"tid\":";
    append_json_uint(out_, *tid);
  }
  out_ += ",\"args\":{";
  bool first = true;
  const auto member = [&](std::string_view key, simdjson::dom::element value) {
    if (!first) out_.push_back(',');
    first = false;
    append_json_string(out_, key);
    out_.push_back(':');
    append_json_value(out_, value);
  };
  simdjson::dom::object start_object;
  simdjson::dom::object end_object;
  if (start.get(start_object) == simdjson::SUCCESS && end.get(end_object) == simdjson::SUCCESS) {
    for (const simdjson::dom::key_value_pair pair : start_object) {
      if (is_event_key(pair.key)) continue;
      simdjson::dom::element value;
      member(pair.key, end_object.at_key(pair.key).get(value) == simdjson::SUCCESS ? value : pair.value);
    }
    for (const simdjson::dom::key_value_pair pair : end_object) {
      simdjson::dom::element ignored;
      if (is_event_key(pair.key) || start_object.at_key(pair.key).get(ignored) == simdjson::SUCCESS) continue;
      member(pair.key, pair.value);
    }
  }
  out_ += "}}";
}

// ---------------------------------------------------------------------------
// export_events

absl::StatusOr<ExportStats> export_lines(const OrderedLines& lines, const ExportOptions& options,
                                         const ExportSink& sink) {
  std::unique_ptr<ExportWriter> writer;
  if (options.format == ExportFormat::kJson) {
    writer = std::make_unique<JsonExportWriter>(sink, options.exported_at_ns.value_or(realtime_now_ns()));
  } else {
    writer = std::make_unique<ChromeTraceWriter>(sink, options.max_open_starts);
  }
  absl::Status written;
  const absl::Status read = lines([&](std::string_view raw, simdjson::dom::element line) {
    written = writer->add(raw, line);
    return written.ok();
  });
  if (!written.ok()) return written;
  if (!read.ok()) return read;
  if (absl::Status status = writer->finish(); !status.ok()) return status;
  ExportStats stats = writer->stats();
  if (stats.no_timestamp != 0 && options.report) {
    options.report(
        absl::StrCat(stats.no_timestamp, " line(s) without a readable timestamp were left out of the trace"));
  }
  return stats;
}

absl::StatusOr<ExportStats> export_events(const std::vector<StoredFile>& files, const Filter& filter,
                                          const ExportOptions& options, const ExportSink& sink) {
  Scanner scanner(filter, options.report);
  absl::StatusOr<ExportStats> stats =
      export_lines([&](const LineCallback& emit) { return scanner.scan_ordered(files, emit); }, options, sink);
  if (stats.ok()) stats->scan = scanner.stats();
  return stats;
}

}  // namespace ringtail::reader
