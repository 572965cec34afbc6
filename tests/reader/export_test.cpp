// ringtail export (ringtail/reader/query/export.hpp): storage directories
// written by hand (plain and zstd-compressed files named as drain names them),
// exported as json and chrome-trace through the library, the output parsed
// back with simdjson: every event once and in order, filters, exact
// microseconds, step pairs (threads and runs interleaved, unmatched starts and
// ends, tids, nesting, span ids), process names, streaming. Then the real
// `ringtail export` for its exit codes ($RINGTAIL_TEST_BIN_DIR/tools/ringtail;
// skipped if not built).
#include "ringtail/reader/query/export.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ringtail/reader/output/time_text.hpp"
#include "ringtail/reader/query/catalog.hpp"
#include "ringtail/reader/query/filter.hpp"
#include "ringtail/reader/storage/compress_file.hpp"
#include "ringtail/reader/storage/jsonl_reader.hpp"
#include "ringtail/reader/storage/store_names.hpp"
#include "subprocess.hpp"
#include "temp_dir.hpp"

namespace ringtail::reader {
namespace {

using ringtail::test::TempDir;

namespace dom = simdjson::dom;
namespace fs = std::filesystem;

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kBase = int64_t{1795381200} * kSecond;        // 2026-11-22T21:00:00Z (date -u +%s)
constexpr int64_t kExportedAt = int64_t{1795420800} * kSecond;  // 2026-11-23T08:00:00Z

// One line as the reader writes it (docs/FORMAT.md): reserved keys first, then
// `fields` (JSON members, without braces). tid < 0: no tid (a reader note).
std::string line(int64_t ns, std::string_view level, std::string_view message, int pid, int tid, int seq,
                 std::string_view fields = "", std::string_view service = "agent") {
  std::string out = "{\"timestamp\":\"";
  out.append(format_timestamp(ns)).append("\",\"level\":\"").append(level);
  out.append("\",\"message\":\"").append(message).append("\",\"service\":\"").append(service);
  out.append("\",\"pid\":").append(std::to_string(pid));
  if (tid >= 0) out.append(",\"tid\":").append(std::to_string(tid)).append(",\"seq\":").append(std::to_string(seq));
  if (!fields.empty()) out.append(",").append(fields);
  return out.append("}");
}

// Writes `lines` as a closed file of `service`'s process `pid` and `level_class`
// under `dir`, named as drain names it; compressed: as a .jsonl.zst instead.
void write_stored_file(const std::string& dir, std::string_view service, uint32_t pid, LevelClass level_class,
                       const std::vector<std::string>& lines, bool compressed = false) {
  ASSERT_FALSE(lines.empty());
  StoredFileName name;
  name.kind = StoredFileName::Kind::kClosed;
  name.service = safe_service_name(service);
  name.pid = pid;
  name.level_class = level_class;
  const std::string first(line_timestamp(lines.front()));
  const std::string last(line_timestamp(lines.back()));
  name.first = name_stamp_from_timestamp(first);
  name.last = name_stamp_from_timestamp(last);
  const fs::path folder = fs::path(dir) / name.service / first.substr(0, 10);
  fs::create_directories(folder);
  const fs::path plain = folder / name.file_name();
  {
    std::ofstream out(plain, std::ios::binary);
    for (const std::string& text : lines) out << text << '\n';
    ASSERT_TRUE(out.good());
  }
  if (compressed) {
    name.kind = StoredFileName::Kind::kCompressed;
    const absl::Status status = compress_file(plain.string(), (folder / name.file_name()).string());
    ASSERT_TRUE(status.ok()) << status;
    fs::remove(plain);
  }
}

struct Exported {
  std::string text;
  ExportStats stats;
};

Exported export_dir(const std::string& dir, ExportFormat format, const Filter& filter = Filter(),
                    size_t max_open_starts = kDefaultMaxOpenStarts) {
  Exported result;
  std::vector<std::string> reports;
  CatalogOptions catalog;
  catalog.report = [&](std::string_view text) { reports.emplace_back(text); };
  absl::StatusOr<std::vector<StoredFile>> files = list_stored_files(dir, catalog);
  EXPECT_TRUE(files.ok()) << files.status();
  if (!files.ok()) return result;
  ExportOptions options;
  options.format = format;
  options.exported_at_ns = kExportedAt;
  options.max_open_starts = max_open_starts;
  options.report = catalog.report;
  absl::StatusOr<ExportStats> stats = export_events(*files, filter, options, string_sink(result.text));
  EXPECT_TRUE(stats.ok()) << stats.status();
  if (stats.ok()) result.stats = *stats;
  EXPECT_TRUE(reports.empty()) << reports.front();
  return result;
}

dom::element parse_document(dom::parser& parser, const std::string& text) {
  dom::element document;
  EXPECT_EQ(parser.parse(text).get(document), simdjson::SUCCESS) << text;
  return document;
}

std::string_view str(dom::element element, std::string_view key) {
  std::string_view text;
  EXPECT_EQ(element[key].get(text), simdjson::SUCCESS) << key << " in " << simdjson::minify(element);
  return text;
}

uint64_t uint(dom::element element, std::string_view key) {
  uint64_t value = 0;
  EXPECT_EQ(element[key].get(value), simdjson::SUCCESS) << key << " in " << simdjson::minify(element);
  return value;
}

double number(dom::element element, std::string_view key) {
  double value = 0;
  EXPECT_EQ(element[key].get(value), simdjson::SUCCESS) << key << " in " << simdjson::minify(element);
  return value;
}

bool has(dom::element element, std::string_view key) {
  dom::element ignored;
  return element[key].get(ignored) == simdjson::SUCCESS;
}

// A "ts" or "dur" as a viewer reads it (a double): the whole µs, exactly.
void expect_micros(double value, int64_t micros) { EXPECT_EQ(value, static_cast<double>(micros)) << micros; }

std::vector<dom::element> trace_events(dom::element document) {
  std::vector<dom::element> events;
  dom::array array;
  EXPECT_EQ(document["traceEvents"].get(array), simdjson::SUCCESS);
  for (dom::element event : array) events.push_back(event);
  EXPECT_EQ(str(document, "displayTimeUnit"), "ms");
  return events;
}

std::vector<dom::element> with_phase(const std::vector<dom::element>& events, std::string_view phase) {
  std::vector<dom::element> out;
  for (dom::element event : events) {
    if (str(event, "ph") == phase) out.push_back(event);
  }
  return out;
}

// ---------------------------------------------------------------------------
// json

// Two processes, three level classes, one file compressed, interleaved times.
std::vector<std::string> write_mixed_store(const std::string& dir) {
  const std::vector<std::string> agent_info = {
      line(kBase + 1'000, "INFO", "step.start", 100, 101, 1, R"("run_id":"run-a","step_id":1,"tool":"web_search")"),
      line(kBase + 2'500, "INFO", "tool call", 100, 102, 1, R"("tool":"write_file","duration_ms":1.5)"),
      line(kBase + 7'000, "INFO", "step.end", 100, 101, 3,
           R"("run_id":"run-a","step_id":1,"tool":"web_search","status":"SUCCESS","duration_ms":0.006)"),
      line(kBase + 9'999, "INFO", "cost", 100, 102, 2, R"("model":"gpt-4o","tokens":1200,"cost_usd":0.006)"),
  };
  const std::vector<std::string> agent_warn = {
      line(kBase + 3'000, "WARN", "policy.check", 100, 101, 2, R"("policy":"fs.workspace_only","decision":"BLOCK")"),
      line(kBase + 8'000, "WARN", "ringtail.dropped", 100, 102, 0, R"("dropped":3)"),
  };
  const std::vector<std::string> worker_info = {
      line(kBase + 500, "INFO", "job.start", 200, 201, 1, R"("job":"j1")", "worker"),
      line(kBase + 4'000, "INFO", "job.progress", 200, 201, 2, R"("done":0.5,"big":18446744073709551615)", "worker"),
      line(kBase + 12'000, "INFO", "job.end", 200, 201, 3, R"("job":"j1")", "worker"),
  };
  const std::vector<std::string> worker_error = {
      line(kBase + 6'000, "ERROR", "tool.error", 200, 202, 1,
           R"("error_code":"TIMEOUT","message_":"a \"quoted\"\ttab")", "worker"),
  };
  write_stored_file(dir, "agent", 100, LevelClass::kInfo, agent_info);
  write_stored_file(dir, "agent", 100, LevelClass::kWarn, agent_warn);
  write_stored_file(dir, "worker", 200, LevelClass::kInfo, worker_info, /*compressed=*/true);
  write_stored_file(dir, "worker", 200, LevelClass::kError, worker_error);
  std::vector<std::string> all;
  for (const auto* lines : {&agent_info, &agent_warn, &worker_info, &worker_error}) {
    all.insert(all.end(), lines->begin(), lines->end());
  }
  std::sort(all.begin(), all.end(),
            [](const std::string& a, const std::string& b) { return line_timestamp(a) < line_timestamp(b); });
  return all;
}

TEST(JsonExportTest, EveryEventOnceInTimestampOrderAsStored) {
  TempDir dir{"export-test"};
  const std::vector<std::string> expected = write_mixed_store(dir.path());
  const Exported exported = export_dir(dir.path(), ExportFormat::kJson);

  std::string text = "{\"events\":[\n";
  for (size_t i = 0; i < expected.size(); ++i) text += expected[i] + (i + 1 < expected.size() ? ",\n" : "\n");
  text += "],\"total_events\":10,\"exported_at\":\"2026-11-23T08:00:00.000000000Z\"}\n";
  EXPECT_EQ(exported.text, text);
  EXPECT_EQ(exported.stats.events, 10u);
  EXPECT_EQ(exported.stats.scan.files_read, 4u);

  dom::parser parser;
  const dom::element document = parse_document(parser, exported.text);
  dom::array events;
  ASSERT_EQ(document["events"].get(events), simdjson::SUCCESS);
  EXPECT_EQ(events.size(), expected.size());
  EXPECT_EQ(uint(document, "total_events"), expected.size());
  EXPECT_EQ(str(document, "exported_at"), "2026-11-23T08:00:00.000000000Z");
  std::string_view previous;
  for (dom::element event : events) {
    EXPECT_LT(previous, str(event, "timestamp"));
    previous = str(event, "timestamp");
  }
  uint64_t big = 0;
  ASSERT_EQ(events.at(4)["big"].get(big), simdjson::SUCCESS);  // job.progress, kBase + 4000
  EXPECT_EQ(big, UINT64_MAX);
}

TEST(JsonExportTest, RespectsTheFilter) {
  TempDir dir{"export-test"};
  write_mixed_store(dir.path());
  dom::parser parser;
  const auto messages = [&](const Exported& exported) {
    std::vector<std::string> out;
    const dom::element document = parse_document(parser, exported.text);
    dom::array events;
    EXPECT_EQ(document["events"].get(events), simdjson::SUCCESS);
    for (dom::element event : events) out.emplace_back(str(event, "message"));
    EXPECT_EQ(uint(document, "total_events"), out.size());
    EXPECT_EQ(exported.stats.events, out.size());
    return out;
  };

  Filter worker;
  worker.add(WhereClause::equals("service", std::string("worker")));
  EXPECT_EQ(messages(export_dir(dir.path(), ExportFormat::kJson, worker)),
            (std::vector<std::string>{"job.start", "job.progress", "tool.error", "job.end"}));

  Filter warn;
  warn.set_min_level(shm::Level::kWarn);
  EXPECT_EQ(messages(export_dir(dir.path(), ExportFormat::kJson, warn)),
            (std::vector<std::string>{"policy.check", "tool.error", "ringtail.dropped"}));

  Filter where;
  absl::StatusOr<WhereClause> clause = parse_where("tool=web_search");
  ASSERT_TRUE(clause.ok()) << clause.status();
  where.add(*clause);
  where.set_until(kBase + 5'000);
  EXPECT_EQ(messages(export_dir(dir.path(), ExportFormat::kJson, where)), (std::vector<std::string>{"step.start"}));

  Filter none;
  none.add(WhereClause::equals("message", std::string("no such message")));
  EXPECT_TRUE(messages(export_dir(dir.path(), ExportFormat::kJson, none)).empty());
}

TEST(JsonExportTest, ZeroEventsIsValidJson) {
  TempDir dir{"export-test"};
  const Exported exported = export_dir(dir.path(), ExportFormat::kJson);
  EXPECT_EQ(exported.text, "{\"events\":[],\"total_events\":0,\"exported_at\":\"2026-11-23T08:00:00.000000000Z\"}\n");
  dom::parser parser;
  parse_document(parser, exported.text);
}

TEST(JsonExportTest, StreamsInBoundedPieces) {
  TempDir dir{"export-test"};
  std::vector<std::string> lines;
  const std::string padding(200, 'x');
  for (int i = 0; i < 5000; ++i) {
    lines.push_back(line(kBase + int64_t{i} * 1000, "INFO", "tick", 100, 101, i, "\"pad\":\"" + padding + "\""));
  }
  write_stored_file(dir.path(), "agent", 100, LevelClass::kInfo, lines);
  absl::StatusOr<std::vector<StoredFile>> files = list_stored_files(dir.path());
  ASSERT_TRUE(files.ok()) << files.status();

  for (const ExportFormat format : {ExportFormat::kJson, ExportFormat::kChromeTrace}) {
    std::string text;
    size_t pieces = 0;
    size_t largest = 0;
    ExportOptions options;
    options.format = format;
    absl::StatusOr<ExportStats> stats = export_events(*files, Filter(), options, [&](std::string_view bytes) {
      ++pieces;
      largest = std::max(largest, bytes.size());
      text.append(bytes);
      return absl::OkStatus();
    });
    ASSERT_TRUE(stats.ok()) << stats.status();
    EXPECT_GT(text.size(), 1'000'000u);
    EXPECT_GT(pieces, 10u) << export_format_name(format);
    EXPECT_LT(largest, kExportFlushBytes + 2048) << export_format_name(format);
    dom::parser parser;
    const dom::element document = parse_document(parser, text);
    dom::array events;
    ASSERT_EQ(document[format == ExportFormat::kJson ? "events" : "traceEvents"].get(events), simdjson::SUCCESS);
    EXPECT_EQ(events.size(), format == ExportFormat::kJson ? 5000u : 5001u);  // + process_name
  }
}

TEST(JsonExportTest, ASinkErrorStopsTheExport) {
  TempDir dir{"export-test"};
  write_mixed_store(dir.path());
  absl::StatusOr<std::vector<StoredFile>> files = list_stored_files(dir.path());
  ASSERT_TRUE(files.ok()) << files.status();
  for (const ExportFormat format : {ExportFormat::kJson, ExportFormat::kChromeTrace}) {
    int calls = 0;
    ExportOptions options;
    options.format = format;
    absl::StatusOr<ExportStats> stats = export_events(*files, Filter(), options, [&](std::string_view) {
      ++calls;
      return absl::ResourceExhaustedError("cannot write the export: No space left on device");
    });
    ASSERT_FALSE(stats.ok());
    EXPECT_EQ(stats.status().code(), absl::StatusCode::kResourceExhausted);
    EXPECT_EQ(calls, 1);
  }
}

TEST(JsonExportTest, FileSinkWritesToAFile) {
  TempDir dir{"export-test"};
  write_mixed_store(dir.path());
  absl::StatusOr<std::vector<StoredFile>> files = list_stored_files(dir.path());
  ASSERT_TRUE(files.ok()) << files.status();
  std::FILE* file = std::tmpfile();
  ASSERT_NE(file, nullptr);
  ExportOptions options;
  options.exported_at_ns = kExportedAt;
  absl::StatusOr<ExportStats> stats = export_events(*files, Filter(), options, file_sink(file));
  ASSERT_TRUE(stats.ok()) << stats.status();
  std::rewind(file);
  std::string text;
  char buffer[4096];
  for (size_t n; (n = std::fread(buffer, 1, sizeof(buffer), file)) > 0;) text.append(buffer, n);
  std::fclose(file);
  std::string expected;
  export_events(*files, Filter(), options, string_sink(expected)).IgnoreError();
  EXPECT_EQ(text, expected);
  EXPECT_EQ(stats->events, 10u);
}

// ---------------------------------------------------------------------------
// chrome-trace

// Lines with a parsed DOM, fed to a writer directly.
class WriterFeed {
 public:
  absl::Status add(ExportWriter& writer, const std::string& text) {
    dom::element element;
    EXPECT_EQ(parser_.parse(text).get(element), simdjson::SUCCESS) << text;
    return writer.add(text, element);
  }

 private:
  dom::parser parser_;
};

// A writer's output, the lines fed in order.
std::string chrome_trace(const std::vector<std::string>& lines, size_t max_open_starts = kDefaultMaxOpenStarts,
                         ExportStats* stats = nullptr) {
  std::string text;
  ChromeTraceWriter writer(string_sink(text), max_open_starts);
  WriterFeed feed;
  for (const std::string& text_line : lines) EXPECT_TRUE(feed.add(writer, text_line).ok());
  EXPECT_TRUE(writer.finish().ok());
  EXPECT_EQ(writer.open_starts(), 0u);
  if (stats != nullptr) *stats = writer.stats();
  return text;
}

TEST(ChromeTraceTest, TimesAreTruncatedToWholeMicroseconds) {
  EXPECT_EQ(floor_micros(0), 0);
  EXPECT_EQ(floor_micros(999), 0);
  EXPECT_EQ(floor_micros(1'000), 1);
  EXPECT_EQ(floor_micros(kBase + 123'456'789), 1795381200123456);
  EXPECT_EQ(floor_micros(-1), -1);  // before 1970: toward the past too
  EXPECT_EQ(floor_micros(-1'000), -1);
  EXPECT_EQ(floor_micros(-1'001), -2);
  EXPECT_EQ(floor_micros(INT64_MAX), 9223372036854775);
  EXPECT_EQ(floor_micros(INT64_MIN), -9223372036854776);
}

// A step that ends 100 ns before the next begins on the same thread (seen in
// agent_sim's output): read as doubles, the slices must not overlap.
TEST(ChromeTraceTest, AdjacentStepsStayApartForDoubleReaders) {
  const int64_t t = kBase + 52'623'640;
  const std::vector<std::string> lines = {
      line(t, "INFO", "step.start", 100, 101, 1, R"("run_id":"r","step_id":2)"),
      line(t + 380, "INFO", "step.end", 100, 101, 2, R"("run_id":"r","step_id":2)"),
      line(t + 481, "INFO", "step.start", 100, 101, 3, R"("run_id":"r","step_id":3)"),
      line(t + 469'368, "INFO", "step.end", 100, 101, 4, R"("run_id":"r","step_id":3)"),
  };
  const std::string text = chrome_trace(lines);
  dom::parser parser;
  const std::vector<dom::element> slices = with_phase(trace_events(parse_document(parser, text)), "X");
  ASSERT_EQ(slices.size(), 2u);
  // Integers: Perfetto multiplies them by 1000 exactly; doubles add them exactly.
  EXPECT_LE(uint(slices[0], "ts") + uint(slices[0], "dur"), uint(slices[1], "ts")) << text;
  EXPECT_LE(number(slices[0], "ts") + number(slices[0], "dur"), number(slices[1], "ts")) << text;
  EXPECT_NE(text.find(R"("ph":"X","ts":1795381200052623,"dur":1,)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("ph":"X","ts":1795381200052624,"dur":469,)"), std::string::npos) << text;
}

TEST(ChromeTraceTest, InstantEvents) {
  TempDir dir{"export-test"};
  write_mixed_store(dir.path());
  const Exported exported = export_dir(dir.path(), ExportFormat::kChromeTrace);
  dom::parser parser;
  const std::vector<dom::element> events = trace_events(parse_document(parser, exported.text));
  const std::vector<dom::element> instants = with_phase(events, "i");
  // step.start/step.end of run-a pair by their ids, job.start/job.end (no
  // ids) by their tid: the other six lines are instant events.
  EXPECT_EQ(with_phase(events, "X").size(), 2u);
  ASSERT_EQ(instants.size(), 6u);
  EXPECT_EQ(exported.stats.instant_events, 6u);

  // tool call: kBase + 2500 ns.
  const dom::element call = instants[0];
  EXPECT_EQ(str(call, "name"), "tool call");
  EXPECT_EQ(str(call, "cat"), "INFO");
  EXPECT_EQ(str(call, "s"), "t");
  EXPECT_EQ(uint(call, "pid"), 100u);
  EXPECT_EQ(uint(call, "tid"), 102u);
  expect_micros(number(call, "ts"), 1795381200000002);
  EXPECT_EQ(simdjson::minify(call["args"]), R"({"service":"agent","seq":1,"tool":"write_file","duration_ms":1.5})");
  EXPECT_NE(exported.text.find(R"("ph":"i","s":"t","ts":1795381200000002,"pid":100,"tid":102,)"), std::string::npos);

  // Hostile strings and a u64 keep their value in args.
  const dom::element error = instants[3];
  EXPECT_EQ(str(error, "name"), "tool.error");
  EXPECT_EQ(str(error, "cat"), "ERROR");
  EXPECT_EQ(str(error["args"], "message_"), "a \"quoted\"\ttab");
  const dom::element progress = instants[2];
  EXPECT_EQ(uint(progress["args"], "big"), UINT64_MAX);
  EXPECT_EQ(str(progress["args"], "service"), "worker");
  for (dom::element event : instants) {
    for (const std::string_view key : {"timestamp", "level", "message", "pid", "tid"}) {
      EXPECT_FALSE(has(event["args"], key)) << key << " in " << simdjson::minify(event);
    }
    EXPECT_TRUE(has(event["args"], "seq"));
  }
}

TEST(ChromeTraceTest, ProcessNamesOncePerPidBeforeItsEvents) {
  TempDir dir{"export-test"};
  write_mixed_store(dir.path());
  const Exported exported = export_dir(dir.path(), ExportFormat::kChromeTrace);
  dom::parser parser;
  const std::vector<dom::element> events = trace_events(parse_document(parser, exported.text));
  std::map<uint64_t, std::string> names;
  std::map<uint64_t, size_t> first_event;
  for (size_t i = 0; i < events.size(); ++i) {
    const uint64_t pid = uint(events[i], "pid");
    if (str(events[i], "ph") == "M") {
      EXPECT_EQ(str(events[i], "name"), "process_name");
      EXPECT_EQ(names.count(pid), 0u) << "pid " << pid << " named twice";
      names[pid] = std::string(str(events[i]["args"], "name"));
      EXPECT_EQ(first_event.count(pid), 0u) << "pid " << pid << " named after its first event";
    } else {
      first_event.emplace(pid, i);
    }
  }
  EXPECT_EQ(names, (std::map<uint64_t, std::string>{{100, "agent"}, {200, "worker"}}));
  EXPECT_EQ(exported.stats.processes, 2u);
}

// Steps as examples/agent_sim logs them: two threads, two runs with the same
// step ids, interleaved; an unmatched start, unmatched ends.
TEST(ChromeTraceTest, StepPairsBecomeCompleteEvents) {
  TempDir dir{"export-test"};
  const int64_t t = kBase + kSecond;
  const auto step = [](std::string_view run, int id, std::string_view tool, std::string_view rest = "") {
    return "\"run_id\":\"" + std::string(run) + "\",\"step_id\":" + std::to_string(id) + ",\"tool\":\"" +
           std::string(tool) + "\"" + std::string(rest);
  };
  const std::vector<std::string> info = {
      line(t + 123'456, "INFO", "step.start", 100, 101, 1, step("run-a", 1, "web_search")),
      line(t + 500'000, "INFO", "step.start", 100, 102, 1, step("run-b", 1, "read_file")),
      line(t + 2'345'678, "INFO", "step.end", 100, 101, 3,
           step("run-a", 1, "web_search", R"(,"status":"SUCCESS","duration_ms":2.2)")),
      line(t + 2'400'000, "INFO", "step.start", 100, 101, 4, step("run-a", 2, "write_file")),
      line(t + 3'000'000, "INFO", "step.end", 100, 102, 2,
           step("run-b", 1, "read_file", R"(,"status":"PARTIAL","duration_ms":2.5)")),
      line(t + 3'000'100, "INFO", "step.start", 100, 102, 3, step("run-b", 2, "run_code")),
      line(t + 4'000'200, "INFO", "step.end", 100, 101, 5,
           step("run-a", 2, "write_file", R"(,"status":"SUCCESS","duration_ms":1.6)")),
      line(t + 6'000'000, "INFO", "step.start", 100, 101, 6, step("run-a", 3, "vector_recall")),
      line(t + 7'000'000, "INFO", "step.end", 100, 102, 5, step("run-c", 1, "web_search", R"(,"status":"SUCCESS")")),
      line(t + 8'000'000, "INFO", "step.end", 100, 101, 7, step("run-a", 4, "web_search", R"(,"status":"SUCCESS")")),
  };
  const std::vector<std::string> warn = {
      line(t + 1'000'001, "WARN", "policy.check", 100, 101, 2, R"("policy":"fs.workspace_only","decision":"ALLOW")"),
  };
  const std::vector<std::string> error = {
      line(t + 5'000'000, "ERROR", "step.end", 100, 102, 4,
           step("run-b", 2, "run_code", R"(,"status":"FAILURE","duration_ms":1.9999)")),
  };
  write_stored_file(dir.path(), "agent", 100, LevelClass::kInfo, info);
  write_stored_file(dir.path(), "agent", 100, LevelClass::kWarn, warn);
  write_stored_file(dir.path(), "agent", 100, LevelClass::kError, error, /*compressed=*/true);
  const Exported exported = export_dir(dir.path(), ExportFormat::kChromeTrace);

  EXPECT_EQ(exported.stats.lines, 12u);
  EXPECT_EQ(exported.stats.complete_events, 4u);
  EXPECT_EQ(exported.stats.unmatched_starts, 1u);
  EXPECT_EQ(exported.stats.unmatched_ends, 2u);
  EXPECT_EQ(exported.stats.instant_events, 4u);  // policy.check, run-a 3, run-c 1, run-a 4

  // Exact text: ts = the start, dur = end - start, in whole µs (truncated).
  for (const std::string_view expected : {
           R"({"name":"web_search","cat":"INFO","ph":"X","ts":1795381201000123,"dur":2222,"pid":100,"tid":101,)"
           R"("args":{"service":"agent","seq":3,"run_id":"run-a","step_id":1,"tool":"web_search","status":"SUCCESS",)"
           R"("duration_ms":2.2}})",
           R"({"name":"read_file","cat":"INFO","ph":"X","ts":1795381201000500,"dur":2500,"pid":100,"tid":102,)",
           R"({"name":"write_file","cat":"INFO","ph":"X","ts":1795381201002400,"dur":1600,"pid":100,"tid":101,)",
           R"({"name":"run_code","cat":"ERROR","ph":"X","ts":1795381201003000,"dur":2000,"pid":100,"tid":102,)",
       }) {
    EXPECT_NE(exported.text.find(expected), std::string::npos) << expected << "\nin\n" << exported.text;
  }

  dom::parser parser;
  const std::vector<dom::element> events = trace_events(parse_document(parser, exported.text));
  std::map<std::pair<std::string, uint64_t>, dom::element> slices;
  for (dom::element event : with_phase(events, "X")) {
    slices.emplace(std::make_pair(std::string(str(event["args"], "run_id")), uint(event["args"], "step_id")), event);
  }
  ASSERT_EQ(slices.size(), 4u);
  const struct {
    const char* run;
    uint64_t step;
    int64_t start;
    int64_t end;
    uint64_t tid;
    const char* status;
  } pairs[] = {
      {"run-a", 1, t + 123'456, t + 2'345'678, 101, "SUCCESS"},
      {"run-b", 1, t + 500'000, t + 3'000'000, 102, "PARTIAL"},
      {"run-a", 2, t + 2'400'000, t + 4'000'200, 101, "SUCCESS"},
      {"run-b", 2, t + 3'000'100, t + 5'000'000, 102, "FAILURE"},
  };
  for (const auto& pair : pairs) {
    const auto it = slices.find({pair.run, pair.step});
    ASSERT_NE(it, slices.end()) << pair.run << " " << pair.step;
    expect_micros(number(it->second, "ts"), floor_micros(pair.start));
    expect_micros(number(it->second, "dur"), floor_micros(pair.end) - floor_micros(pair.start));
    EXPECT_EQ(uint(it->second, "tid"), pair.tid);
    EXPECT_EQ(str(it->second["args"], "status"), pair.status);
  }

  // The unmatched start and ends stay instant events, with their own fields.
  std::vector<std::string> instants;
  for (dom::element event : with_phase(events, "i")) {
    std::string text(str(event, "name"));
    if (has(event["args"], "run_id")) text.append(" ").append(str(event["args"], "run_id"));
    if (has(event["args"], "step_id")) text.append("/").append(std::to_string(uint(event["args"], "step_id")));
    instants.push_back(text);
  }
  std::sort(instants.begin(), instants.end());
  EXPECT_EQ(instants,
            (std::vector<std::string>{"policy.check", "step.end run-a/4", "step.end run-c/1", "step.start run-a/3"}));
}

TEST(ChromeTraceTest, WithoutIdsPairsByThreadAndNests) {
  const std::vector<std::string> lines = {
      line(kBase + 1'000, "INFO", "db.query.start", 100, 101, 1, R"("sql":"select 1")"),
      line(kBase + 2'000, "INFO", "db.query.start", 100, 102, 1, R"("sql":"select 2")"),
      line(kBase + 3'000, "INFO", "call.start", 100, 101, 2),
      line(kBase + 4'000, "INFO", "call.start", 100, 101, 3),
      line(kBase + 5'000, "INFO", "db.query.end", 100, 102, 2, R"("rows":2)"),
      line(kBase + 6'000, "INFO", "call.end", 100, 101, 4),
      line(kBase + 7'000, "INFO", "call.end", 100, 101, 5),
      line(kBase + 8'000, "INFO", "db.query.end", 100, 101, 6, R"("rows":1)"),
      line(kBase + 9'000, "INFO", "db.query.end", 100, 103, 1),  // another thread: no start
  };
  ExportStats stats;
  const std::string text = chrome_trace(lines, kDefaultMaxOpenStarts, &stats);
  EXPECT_EQ(stats.complete_events, 4u);
  EXPECT_EQ(stats.unmatched_ends, 1u);
  dom::parser parser;
  const std::vector<dom::element> events = trace_events(parse_document(parser, text));
  std::vector<std::string> slices;
  for (dom::element event : with_phase(events, "X")) {
    std::string described(str(event, "name"));
    described.append(" tid ").append(std::to_string(uint(event, "tid")));
    described.append(" ").append(std::to_string(uint(event, "ts") - kBase / 1000));
    described.append("+").append(std::to_string(uint(event, "dur")));
    if (has(event["args"], "sql")) described.append(" ").append(str(event["args"], "sql"));
    if (has(event["args"], "rows")) described.append(" rows ").append(std::to_string(uint(event["args"], "rows")));
    slices.push_back(described);
  }
  EXPECT_EQ(slices, (std::vector<std::string>{
                        "db.query tid 102 2+3 select 2 rows 2",
                        "call tid 101 4+2",  // the inner call ends first
                        "call tid 101 3+4",
                        "db.query tid 101 1+7 select 1 rows 1",
                    }));
}

TEST(ChromeTraceTest, SpanIdsPairAcrossThreadsAndWinOverRunIds) {
  const std::vector<std::string> lines = {
      line(kBase + 1'000, "INFO", "span.start", 100, 101, 1, R"("trace_id":"t1","span_id":"s1","run_id":"r")"),
      line(kBase + 2'000, "INFO", "span.start", 100, 101, 2, R"("trace_id":"t1","span_id":"s2","run_id":"r")"),
      line(kBase + 3'000, "INFO", "span.end", 100, 102, 1, R"("trace_id":"t1","span_id":"s1","run_id":"r")"),
      line(kBase + 4'000, "INFO", "span.end", 100, 101, 3, R"("trace_id":"t2","span_id":"s2","run_id":"r")"),
      line(kBase + 5'000, "INFO", "span.end", 100, 101, 4, R"("trace_id":"t1","span_id":"s2","run_id":"r")"),
  };
  ExportStats stats;
  const std::string text = chrome_trace(lines, kDefaultMaxOpenStarts, &stats);
  EXPECT_EQ(stats.complete_events, 2u);
  EXPECT_EQ(stats.unmatched_ends, 1u);  // s2 of another trace
  EXPECT_NE(text.find(R"({"name":"span","cat":"INFO","ph":"X","ts":1795381200000001,"dur":2,"pid":100,"tid":101,)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"({"name":"span","cat":"INFO","ph":"X","ts":1795381200000002,"dur":3,"pid":100,"tid":101,)"),
            std::string::npos)
      << text;

  dom::parser parser;
  const auto key = [&](const std::string& text_line) {
    dom::element element;
    EXPECT_EQ(parser.parse(text_line).get(element), simdjson::SUCCESS);
    std::optional<PairMarker> marker = pair_marker(element);
    EXPECT_TRUE(marker.has_value()) << text_line;
    return marker ? marker->key : std::string();
  };
  EXPECT_EQ(key(lines[0]), key(lines[2]));
  EXPECT_NE(key(lines[1]), key(lines[3]));
  // Ids compare as JSON values: 3 and 3.0 are one id, "3" is another.
  EXPECT_EQ(key(line(kBase, "INFO", "step.start", 1, 1, 1, R"("step_id":3)")),
            key(line(kBase, "INFO", "step.end", 1, 2, 2, R"("step_id":3.0)")));
  EXPECT_NE(key(line(kBase, "INFO", "step.start", 1, 1, 1, R"("step_id":3)")),
            key(line(kBase, "INFO", "step.end", 1, 1, 2, R"("step_id":"3")")));
  // Another pid never pairs.
  EXPECT_NE(key(line(kBase, "INFO", "x.start", 1, 1, 1)), key(line(kBase, "INFO", "x.end", 2, 1, 1)));
  dom::element element;
  ASSERT_EQ(parser.parse(line(kBase, "INFO", ".start", 1, 1, 1)).get(element), simdjson::SUCCESS);
  EXPECT_FALSE(pair_marker(element).has_value());
  ASSERT_EQ(parser.parse(line(kBase, "INFO", "restart", 1, 1, 1)).get(element), simdjson::SUCCESS);
  EXPECT_FALSE(pair_marker(element).has_value());
}

TEST(ChromeTraceTest, OpenStartsAreBounded) {
  const std::vector<std::string> lines = {
      line(kBase + 1'000, "INFO", "a.start", 100, 101, 1),
      line(kBase + 2'000, "INFO", "b.start", 100, 101, 2),  // gives a.start up
      line(kBase + 3'000, "INFO", "b.end", 100, 101, 3),
      line(kBase + 4'000, "INFO", "a.end", 100, 101, 4),
  };
  ExportStats stats;
  const std::string text = chrome_trace(lines, 1, &stats);
  EXPECT_EQ(stats.complete_events, 1u);
  EXPECT_EQ(stats.unmatched_starts, 1u);
  EXPECT_EQ(stats.unmatched_ends, 1u);
  EXPECT_NE(text.find(R"("name":"b","cat":"INFO","ph":"X","ts":1795381200000002,"dur":1,)"), std::string::npos);
  EXPECT_NE(text.find(R"("name":"a.start","cat":"INFO","ph":"i","s":"t","ts":1795381200000001,)"), std::string::npos);
}

TEST(ChromeTraceTest, OddLines) {
  const std::vector<std::string> lines = {
      R"({"level":"INFO","message":"no time","service":"agent","pid":100,"tid":101,"seq":1})",
      line(kBase + 1'000, "ERROR", "ringtail.crashed", 100, -1, 0, R"("lost_no_ring":12)"),
      // An end stamped before its start: a zero duration, not a negative one.
      line(kBase + 9'000, "INFO", "late.start", 100, 101, 2),
      line(kBase + 8'000, "INFO", "late.end", 100, 101, 3),
      // Offsets and fewer digits are RFC 3339 too.
      R"({"timestamp":"2026-11-22T22:00:00.5+01:00","level":"INFO","message":"m","pid":100,"tid":101})",
  };
  ExportStats stats;
  const std::string text = chrome_trace(lines, kDefaultMaxOpenStarts, &stats);
  EXPECT_EQ(stats.no_timestamp, 1u);
  EXPECT_EQ(stats.lines, 5u);
  EXPECT_NE(text.find(R"({"name":"ringtail.crashed","cat":"ERROR","ph":"i","s":"p","ts":1795381200000001,"pid":100,)"
                      R"("args":{"service":"agent","lost_no_ring":12}})"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"("name":"late","cat":"INFO","ph":"X","ts":1795381200000009,"dur":0,)"), std::string::npos);
  EXPECT_NE(text.find(R"("name":"m","cat":"INFO","ph":"i","s":"t","ts":1795381200500000,)"), std::string::npos);
  // Sub-µs digits are dropped, not rounded.
  EXPECT_NE(chrome_trace({line(kBase + 1'999, "INFO", "x", 1, 1, 1)}).find(R"("ts":1795381200000001,)"),
            std::string::npos);
  dom::parser parser;
  trace_events(parse_document(parser, text));
}

TEST(ChromeTraceTest, ZeroEventsIsValidJson) {
  TempDir dir{"export-test"};
  const Exported exported = export_dir(dir.path(), ExportFormat::kChromeTrace);
  EXPECT_EQ(exported.text, "{\"traceEvents\":[],\"displayTimeUnit\":\"ms\"}\n");
  dom::parser parser;
  EXPECT_TRUE(trace_events(parse_document(parser, exported.text)).empty());
}

TEST(ExportFormatTest, Names) {
  EXPECT_EQ(parse_export_format("json"), ExportFormat::kJson);
  EXPECT_EQ(parse_export_format("chrome-trace"), ExportFormat::kChromeTrace);
  EXPECT_EQ(parse_export_format("JSON"), std::nullopt);
  EXPECT_EQ(export_format_name(ExportFormat::kChromeTrace), "chrome-trace");
}

// ---------------------------------------------------------------------------
// The tool

using ringtail::test::Result;
using ringtail::test::run;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(ExportToolTest, ExitCodesAndOutputFile) {
  ASSERT_TRUE(ringtail::test::tool_built("ringtail"));
  TempDir store{"export-test"};
  TempDir scratch{"export-test"};
  write_mixed_store(store.path());
  const std::string file = scratch.path() + "/export.json";
  const auto one_error_line = [](const Result& result) {
    EXPECT_EQ(result.err.rfind("ringtail: ", 0), 0u) << result.err;
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  };

  Result r = run({"export", store.path(), "--format", "xml"});
  EXPECT_EQ(r.code, 2) << r.err;
  one_error_line(r);
  r = run({"export"});
  EXPECT_EQ(r.code, 2) << r.err;
  one_error_line(r);
  r = run({"export", store.path() + "/missing"});
  EXPECT_EQ(r.code, 2) << r.err;
  r = run({"export", store.path(), "--where", "tool>>3"});
  EXPECT_EQ(r.code, 2) << r.err;
  one_error_line(r);
  r = run({"export", store.path(), "-o", scratch.path() + "/no/such/dir/x.json"});
  EXPECT_EQ(r.code, 1) << r.err;
  one_error_line(r);

  r = run({"export", "--help"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("chrome-trace"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Examples:"), std::string::npos) << r.out;

  dom::parser parser;
  r = run({"export", store.path(), "--format", "chrome-trace", "-o", file});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "");
  std::string text = read_file(file);
  EXPECT_EQ(trace_events(parse_document(parser, text)).size(), 10u);  // 2 names, 6 instants, 2 slices

  r = run({"export", store.path(), "--service", "worker", "--output", file});
  EXPECT_EQ(r.code, 0) << r.err;
  text = read_file(file);
  dom::element document = parse_document(parser, text);
  EXPECT_EQ(uint(document, "total_events"), 4u);

  r = run({"export", store.path(), "--level", "warn"});
  EXPECT_EQ(r.code, 0) << r.err;
  document = parse_document(parser, r.out);
  EXPECT_EQ(uint(document, "total_events"), 3u);
  EXPECT_TRUE(is_canonical_timestamp(str(document, "exported_at"))) << r.out;
}

}  // namespace
}  // namespace ringtail::reader
