// The ClickHouse sink (`ringtail drain --sink clickhouse://...`) against a
// real clickhouse-server (tests/support/clickhouse_server.hpp), read back
// with clickhouse-client, never with the code under test:
//   - every stored line is a row whose keys and values give the line back
//     byte for byte, with typed columns that agree with it, for every kind of
//     line and for hostile strings; nested objects' members are paths;
//   - exactly once in effect: a batch inserted twice, and a drain SIGKILLed
//     mid-run and started again, leave one row per line through FINAL;
//   - a server that is down or hung never holds back the store, its lost
//     lines are counted, and later lines arrive once it is back;
//   - two drains (--host-name a, b) share one table; users and passwords
//     (never printed); URI usage errors; hostile shapes and objects.
// A missing clickhouse-server is a failure, not a skip.
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "clickhouse_server.hpp"
#include "eventually.hpp"
#include "every_kind_of_line.hpp"
#include "loopback.hpp"
#include "producer_child.hpp"
#include "ringtail/reader/clickhouse/clickhouse_client.hpp"
#include "ringtail/reader/clickhouse/clickhouse_sink.hpp"
#include "ringtail/reader/output/time_text.hpp"
#include "ringtail/reader/storage/store_names.hpp"
#include "ringtail/ringtail.hpp"
#include "shaped_text.hpp"
#include "signal_ready.hpp"
#include "stored_files.hpp"
#include "subprocess.hpp"
#include "temp_dir.hpp"

namespace ringtail::reader {
namespace {

using ringtail::test::TempDir;

using ringtail::kv;
using ringtail::test::ClickHouseServer;
using ringtail::test::ProducerChild;
using ringtail::test::Tool;

// --- Helpers ---

std::string unhex(std::string_view hex) {
  auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'A' + 10; };
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
  return out;
}

std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> parts;
  size_t at = 0;
  while (at <= text.size()) {
    const size_t end = std::min(text.find(separator, at), text.size());
    parts.emplace_back(text.substr(at, end - at));
    at = end + 1;
  }
  return parts;
}

// TSV rows of an answer (no trailing empty row).
std::vector<std::vector<std::string>> rows_of(const std::string& answer) {
  std::vector<std::vector<std::string>> rows;
  for (std::string& line : split(answer, '\n')) {
    if (!line.empty()) rows.push_back(split(line, '\t'));
  }
  return rows;
}

// The hex of the line a row gives back: '{' + join('"' + key + '":' + value) + '}'.
constexpr const char* kLineSql =
    "hex(concat('{', arrayStringConcat(arrayMap((k, v) -> concat('\"', k, '\":', v), keys, values), ','), '}'))";

uint64_t number(const std::optional<std::string>& answer) { return answer ? std::stoull(*answer) : ~uint64_t{0}; }

std::multiset<std::string> as_multiset(const std::vector<std::string>& lines) { return {lines.begin(), lines.end()}; }

// What a drain's summary line says of sink `uri`.
struct SinkSummary {
  bool found = false;
  uint64_t sent = 0;      // lines written (buffered or inserted)
  uint64_t dropped = 0;   // queue full
  uint64_t failed = 0;    // in failed writes
  uint64_t inserted = 0;  // rows inserted
  uint64_t failed_rows = 0;
  std::string line;
  uint64_t lost() const { return dropped + failed + failed_rows; }
};

SinkSummary sink_summary(const std::string& out, const std::string& uri) {
  SinkSummary s;
  const std::string head = "sink " + uri + ": ";
  for (const std::string& line : split(out, '\n')) {
    if (line.rfind(head, 0) != 0) continue;
    s.found = true;
    s.line = line;
    auto grab = [&](const char* pattern) -> uint64_t {
      std::smatch m;
      return std::regex_search(line, m, std::regex(pattern)) ? std::stoull(m[1]) : 0;
    };
    s.sent = grab(R"(: (\d+) lines sent)");
    s.dropped = grab(R"((\d+) dropped \(queue full\))");
    s.failed = grab(R"((\d+) in failed writes)");
    s.inserted = grab(R"((\d+) rows inserted)");
    s.failed_rows = grab(R"((\d+) in failed requests)");
  }
  return s;
}

ProducerChild counting_producer(const std::string& service, int events, std::chrono::microseconds pause = {}) {
  Options options;
  options.service = service;
  return ProducerChild::start(options, [events, pause](ProducerChild::Link&) {
    int lost = 0;
    for (int i = 0; i < events; ++i) {
      if (!RINGTAIL_INFO("tick", kv("i", i), kv("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736"))) ++lost;
      if (pause.count() > 0) std::this_thread::sleep_for(pause);
    }
    return lost;
  });
}

// Hostile strings in every place a producer puts them, nested objects (an
// error, one under a key with '.'), trace and span ids, a cut string.
ProducerChild hostile_producer() {
  Options options;
  options.service = "hostile 'svc' \"q\" \\ \x01";
  options.max_string_bytes = 8192;
  return ProducerChild::start(options, [](ProducerChild::Link&) {
    const std::string controls = std::string("\x01\x02\n\t\r\x1f\x7f") + '\0' + "end";
    const std::string invalid_utf8 = "\xff\xfe\xc3(\xed\xa0\x80 ok";
    for (int i = 0; i < 3; ++i) {
      RINGTAIL_INFO("hostile \"quoted\" \\ '); DROP TABLE events; --", kv("sql", "'); DROP TABLE events; --"),
                    kv("quotes", "\"'\"'`"), kv("backslashes", "\\\\\\n\\"), kv("controls", controls),
                    kv("invalid", invalid_utf8), kv("unicode", "\xc3\xa9\xf0\x9f\x98\x80"), kv("a.b", i),
                    kv("long", std::string(6000, 'L')), kv("cut", std::string(10000, 'C')),
                    kv("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736"), kv("span_id", "00f067aa0ba902b7"));
      RINGTAIL_ERROR("failed", kv("error", std::runtime_error("boom \"x\" \\ \n")),
                     kv("err.dotted", std::runtime_error("under a dotted key")),
                     kv("io", ringtail::error("Timeout", "no answer", 504)), kv("message", "a field named message"),
                     kv("key\"with\tescapes", true), kv("big", ~uint64_t{0}), kv("ratio", 0.1), kv("neg", -7));
    }
    return 0;
  });
}

// One row of the table as clickhouse-client gives it, its strings in hex.
struct Row {
  std::string line;
  int64_t time_ns = 0;
  uint32_t time = 0;
  std::string level;
  std::string level_class;
  std::string kind;
  std::string message;
  std::string service;
  std::string host;
  uint32_t pid = 0;
  uint64_t process_start = 0;
  uint32_t tid = 0;
  uint64_t seq = 0;
  uint64_t line_hash = 0;
  std::string trace_id;
  std::string span_id;
  std::vector<std::string> paths;
  std::vector<std::string> path_values;
};

std::vector<std::string> unhex_list(const std::string& joined) {
  std::vector<std::string> out;
  if (joined.empty()) return out;
  for (const std::string& part : split(joined, ',')) out.push_back(unhex(part));
  return out;
}

std::optional<std::vector<Row>> fetch_rows(ClickHouseServer& server, const std::string& table,
                                           const std::string& where = "") {
  const std::optional<std::string> answer = server.query(
      std::string("SELECT ") + kLineSql +
      ", time_ns, toUInt32(time), level, level_class, kind, hex(message), hex(service), hex(host), pid, "
      "process_start, tid, seq, line_hash, hex(trace_id), hex(span_id), "
      "arrayStringConcat(arrayMap(x -> hex(x), paths), ','), arrayStringConcat(arrayMap(x -> hex(x), path_values), "
      "',') FROM " +
      table + " FINAL " + where);
  if (!answer) return std::nullopt;
  std::vector<Row> rows;
  for (const std::vector<std::string>& f : rows_of(*answer)) {
    if (f.size() != 18) return std::nullopt;
    Row r;
    r.line = unhex(f[0]);
    r.time_ns = std::stoll(f[1]);
    r.time = static_cast<uint32_t>(std::stoul(f[2]));
    r.level = f[3];
    r.level_class = f[4];
    r.kind = f[5];
    r.message = unhex(f[6]);
    r.service = unhex(f[7]);
    r.host = unhex(f[8]);
    r.pid = static_cast<uint32_t>(std::stoul(f[9]));
    r.process_start = std::stoull(f[10]);
    r.tid = static_cast<uint32_t>(std::stoul(f[11]));
    r.seq = std::stoull(f[12]);
    r.line_hash = std::stoull(f[13]);
    r.trace_id = unhex(f[14]);
    r.span_id = unhex(f[15]);
    r.paths = unhex_list(f[16]);
    r.path_values = unhex_list(f[17]);
    rows.push_back(std::move(r));
  }
  return rows;
}

std::vector<std::string> fetch_lines(ClickHouseServer& server, const std::string& table, bool final = true) {
  const std::optional<std::string> answer =
      server.query(std::string("SELECT ") + kLineSql + " FROM " + table + (final ? " FINAL" : ""));
  EXPECT_TRUE(answer) << server.last_error();
  std::vector<std::string> lines;
  if (answer) {
    for (const std::vector<std::string>& f : rows_of(*answer)) lines.push_back(unhex(f[0]));
  }
  return lines;
}

std::string string_or_empty(simdjson::dom::element line, const char* key) {
  std::string_view text;
  return line[key].get(text) == simdjson::SUCCESS ? std::string(text) : std::string();
}

// The members of `object` by dotted path (keys as parsed: the test's nested
// keys need no escapes), skipping keys with '.'; values minified.
void expected_paths(simdjson::dom::object object, const std::string& prefix, std::map<std::string, std::string>& out) {
  for (const simdjson::dom::key_value_pair member : object) {
    const std::string key(member.key);
    if (key.find('.') != std::string::npos) continue;
    std::string path = prefix;
    path += '.';
    path += key;
    out[path] = simdjson::minify(member.value);
    simdjson::dom::object child;
    if (member.value.get_object().get(child) == simdjson::SUCCESS) expected_paths(child, path, out);
  }
}

// Each typed column agrees with the line it holds.
void check_row(const Row& row, const std::string& host) {
  SCOPED_TRACE(row.line);
  simdjson::dom::parser parser;
  simdjson::dom::element line;
  ASSERT_EQ(parser.parse(row.line).get(line), simdjson::SUCCESS);
  const absl::StatusOr<int64_t> ns = parse_rfc3339(string_or_empty(line, "timestamp"));
  ASSERT_TRUE(ns.ok());
  EXPECT_EQ(row.time_ns, *ns);
  EXPECT_EQ(row.time, static_cast<uint32_t>(*ns / 1000000000));
  const std::string level = string_or_empty(line, "level");
  EXPECT_EQ(row.level, level);
  EXPECT_EQ(row.level_class, level_class_name(level_class_of(level)));
  const std::string message = string_or_empty(line, "message");
  EXPECT_EQ(row.message, message);
  EXPECT_EQ(row.service, string_or_empty(line, "service"));
  EXPECT_EQ(row.host, host);
  uint64_t pid = 0;
  ASSERT_EQ(line["pid"].get(pid), simdjson::SUCCESS);
  EXPECT_EQ(row.pid, pid);
  uint64_t seq = 0;
  const bool has_seq = line["seq"].get(seq) == simdjson::SUCCESS;
  const bool own_tid = has_seq || message == "span.start" || message == "span.end" || message == "ringtail.dropped";
  const std::string kind = has_seq                         ? "event"
                           : message == "span.start"       ? "span_start"
                           : message == "span.end"         ? "span_end"
                           : message == "ringtail.dropped" ? "gap"
                                                           : "note";
  EXPECT_EQ(row.kind, kind);
  uint64_t tid = 0;
  if (own_tid) {
    ASSERT_EQ(line["tid"].get(tid), simdjson::SUCCESS);
  }
  EXPECT_EQ(row.tid, tid);
  EXPECT_EQ(row.seq, has_seq ? seq : 0);
  EXPECT_EQ(row.line_hash == 0, has_seq);
  EXPECT_EQ(row.trace_id, string_or_empty(line, "trace_id"));
  EXPECT_EQ(row.span_id, string_or_empty(line, "span_id"));
  std::map<std::string, std::string> expected;
  simdjson::dom::object top;
  ASSERT_EQ(line.get_object().get(top), simdjson::SUCCESS);
  for (const simdjson::dom::key_value_pair field : top) {
    simdjson::dom::object object;
    if (std::string_view(field.key).find('.') == std::string_view::npos &&
        field.value.get_object().get(object) == simdjson::SUCCESS) {
      expected_paths(object, std::string(field.key), expected);
    }
  }
  ASSERT_EQ(row.paths.size(), row.path_values.size());
  std::map<std::string, std::string> got;
  for (size_t i = 0; i < row.paths.size(); ++i) {
    simdjson::dom::parser value_parser;
    simdjson::dom::element value;
    ASSERT_EQ(value_parser.parse(row.path_values[i]).get(value), simdjson::SUCCESS) << row.path_values[i];
    // As written: the value's text is a piece of the line.
    EXPECT_NE(row.line.find(row.path_values[i]), std::string::npos) << row.paths[i];
    got[row.paths[i]] = simdjson::minify(value);
  }
  EXPECT_EQ(got, expected);
}

class ClickHouseSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ringtail::test::tool_built("ringtail"));
    server_.emplace(dir_ / "clickhouse");
    std::string error;
    ASSERT_TRUE(server_->start(&error)) << error;
  }
  void TearDown() override {
    if (server_) server_->stop();
  }

  ClickHouseServer& server() { return *server_; }
  std::string query(const std::string& sql) {
    const std::optional<std::string> answer = server_->query(sql);
    EXPECT_TRUE(answer) << sql << ": " << server_->last_error();
    return answer.value_or("");
  }

  // `drain --once` of `pid` into `store` and `uri`.
  static ringtail::test::Result drain_once(pid_t pid, const std::string& store, const std::string& uri,
                                           const std::vector<std::string>& more = {}) {
    std::vector<std::string> args = {"drain", "--once", "--pid", std::to_string(pid), "--out", store, "--sink", uri};
    args.insert(args.end(), more.begin(), more.end());
    return ringtail::test::run(args);
  }

  TempDir dir_{"clickhouse-sink"};
  std::optional<ClickHouseServer> server_;
};

// --- Every line, byte for byte, with typed columns ---

TEST_F(ClickHouseSinkTest, EveryStoredLineIsARowThatGivesItBackWithTypedColumnsThatAgree) {
  ProducerChild every = testing::start_every_kind_of_line();
  ASSERT_TRUE(every.ok()) << every.error();
  ASSERT_EQ(every.join(), 128 + SIGKILL);
  ProducerChild hostile = hostile_producer();
  ASSERT_TRUE(hostile.ok()) << hostile.error();
  ASSERT_EQ(hostile.join(), 0);
  const std::string store = dir_ / "store";
  const std::string uri = server().uri("lines");
  for (const pid_t pid : {every.pid(), hostile.pid()}) {
    const ringtail::test::Result drain = drain_once(pid, store, uri, {"--host-name", "host 'one'"});
    ASSERT_EQ(drain.code, 0) << drain.err;
    const SinkSummary summary = sink_summary(drain.out, uri);
    ASSERT_TRUE(summary.found) << drain.out;
    EXPECT_EQ(summary.lost(), 0u) << summary.line;
    EXPECT_GT(summary.inserted, 0u) << summary.line;
  }
  const std::vector<std::string> stored = ringtail::test::read_stored_lines(store);
  ASSERT_GT(stored.size(), 20u);
  // Every kind of line is there.
  std::set<std::string> kinds;
  for (const std::string& kind : split(query("SELECT DISTINCT kind FROM lines.events"), '\n')) {
    if (!kind.empty()) kinds.insert(kind);
  }
  EXPECT_EQ(kinds, (std::set<std::string>{"event", "span_start", "span_end", "gap", "note"}));

  EXPECT_EQ(as_multiset(fetch_lines(server(), "lines.events")), as_multiset(stored));
  const std::optional<std::vector<Row>> rows = fetch_rows(server(), "lines.events");
  ASSERT_TRUE(rows) << server().last_error();
  ASSERT_EQ(rows->size(), stored.size());
  size_t errors_with_type = 0;
  size_t hostile_rows = 0;
  for (const Row& row : *rows) {
    ASSERT_NO_FATAL_FAILURE(check_row(row, "host 'one'"));
    const auto type = std::find(row.paths.begin(), row.paths.end(), "error.type");
    if (type != row.paths.end() && row.path_values[type - row.paths.begin()] == "\"std::runtime_error\"") {
      ++errors_with_type;
    }
    if (row.message.find("'); DROP TABLE") != std::string::npos) {
      ++hostile_rows;
      EXPECT_EQ(row.service, "hostile 'svc' \"q\" \\ \x01");
      EXPECT_EQ(row.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
      EXPECT_EQ(row.span_id, "00f067aa0ba902b7");
      EXPECT_EQ(row.pid, static_cast<uint32_t>(hostile.pid()));
      EXPECT_NE(row.process_start, 0u);
    }
    // The key with '.' holds an object: none of its members is a path.
    for (const std::string& path : row.paths) EXPECT_EQ(path.rfind("err.dotted", 0), std::string::npos) << path;
  }
  EXPECT_EQ(hostile_rows, 3u);
  EXPECT_GE(errors_with_type, 4u);  // every kind: ERROR and span.end; hostile: 3
  // The SQL in the values went in as data.
  EXPECT_EQ(query("EXISTS TABLE lines.events"), "1\n");
  EXPECT_EQ(query("SELECT count() FROM lines.events FINAL WHERE has(paths, 'error.type') AND "
                  "has(path_values, '\"Timeout\"') AND has(paths, 'io.code')"),
            "3\n");
}

// --- Exactly once in effect ---

std::string event_line(int seq, const std::string& message = "m", const std::string& fields = "") {
  return R"({"timestamp":"2026-11-22T21:00:0)" + std::to_string(seq % 10) +
         R"(.123456789Z","level":"INFO","message":")" + message + R"(","service":"svc","pid":4242,"tid":7,"seq":)" +
         std::to_string(seq) + fields + "}\n";
}

SegmentIdentity test_segment() {
  SegmentIdentity segment;
  segment.pid = 4242;
  segment.process_start_ticks = 99;
  segment.service = "svc";
  return segment;
}

ClickHouseTarget target_of(const ClickHouseServer& server, const std::string& database) {
  absl::StatusOr<ClickHouseTarget> target = parse_clickhouse_uri(server.uri(database), "--sink");
  EXPECT_TRUE(target.ok()) << target.status();
  return target.value_or(ClickHouseTarget{});
}

TEST_F(ClickHouseSinkTest, TheSameBatchInsertedTwiceIsOneRowPerLineThroughFinal) {
  const SegmentIdentity segment = test_segment();
  std::string text;
  for (int seq = 0; seq < 50; ++seq) text += event_line(seq);
  // Notes (no seq) are told apart by their text's hash.
  text +=
      R"({"timestamp":"2026-11-22T21:00:00.000000000Z","level":"WARN","message":"ringtail.lost","service":"svc","pid":4242,"n":1})"
      "\n";
  text +=
      R"({"timestamp":"2026-11-22T21:00:00.000000000Z","level":"WARN","message":"ringtail.lost","service":"svc","pid":4242,"n":2})"
      "\n";
  const EventBatch batch = testing::batch_of(segment, text);
  for (int time = 0; time < 2; ++time) {
    ClickHouseSink sink(target_of(server(), "twice"), "h");
    ASSERT_TRUE(sink.write(batch).ok());
    sink.finish();
    const NetworkSinkCounts counts = sink.counts();
    EXPECT_EQ(counts.records_sent, 52u);
    EXPECT_EQ(counts.records_failed, 0u);
    EXPECT_EQ(counts.last_error, "");
  }
  EXPECT_EQ(query("SELECT count() FROM twice.events FINAL"), "52\n");
  EXPECT_GE(std::stoull(query("SELECT count() FROM twice.events")), 52u);  // 104 until a merge
  EXPECT_EQ(query("SELECT count() FROM twice.events FINAL WHERE line_hash != 0"), "2\n");
  EXPECT_EQ(query("SELECT DISTINCT process_start FROM twice.events"), "99\n");
  std::multiset<std::string> expected;
  for (const std::string& line : split(text, '\n')) {
    if (!line.empty()) expected.insert(line);
  }
  EXPECT_EQ(as_multiset(fetch_lines(server(), "twice.events")), expected);
}

// Lines that keep coming from a producer; the drain SIGKILLed mid-run (after
// ClickHouse has rows) and started again over the same store: ClickHouse
// shows no line twice through FINAL, holds only lines of the store, and
// every line stored after the restart.
TEST_F(ClickHouseSinkTest, ADrainKilledMidRunAndStartedAgainLeavesNoDuplicateThroughFinal) {
  constexpr int kEvents = 3000;
  ProducerChild child = counting_producer("steady", kEvents, std::chrono::microseconds(1000));
  ASSERT_TRUE(child.ok()) << child.error();
  const std::string store = dir_ / "store";
  const std::string uri = server().uri("killed", "?batch_bytes=8K&batch_age=1s");
  const std::vector<std::string> args = {
      "drain", "--follow", "--pid", std::to_string(child.pid()), "--out", store, "--sink", uri, "--host-name", "h"};
  std::vector<std::string> before_restart;
  {
    Tool first(args);
    ASSERT_GT(first.pid(), 0);
    ASSERT_TRUE(ringtail::test::eventually(
        [&] {
          const std::optional<std::string> n = server().query("EXISTS TABLE killed.events").value_or("") == "1\n"
                                                   ? server().query("SELECT count() FROM killed.events")
                                                   : std::nullopt;
          return n && std::stoull(*n) >= 200;
        },
        std::chrono::seconds(60), std::chrono::milliseconds(50)))
        << first.err();
    ASSERT_FALSE(child.exited()) << "the producer finished before the kill: make it log longer";
    first.signal(SIGKILL);
    EXPECT_EQ(first.wait(), 128 + SIGKILL) << first.err();
    // What the killed drain left (some of it may be cut by the restart, and
    // written again).
    before_restart = ringtail::test::read_stored_lines(store);
  }
  Tool second(args);
  ASSERT_GT(second.pid(), 0);
  ASSERT_EQ(child.join(60000), 0);
  ASSERT_TRUE(ringtail::test::eventually([&] { return !std::filesystem::exists("/dev/shm/" + child.segment_name()); },
                                         std::chrono::seconds(60)))
      << "the drain never finished the producer's segment: " << second.err();
  ASSERT_TRUE(ringtail::test::wait_until_ready_for(second.pid(), SIGINT));
  second.signal(SIGINT);
  ASSERT_EQ(second.wait(), 0) << second.err();

  const std::vector<std::string> stored = ringtail::test::read_stored_lines(store);
  EXPECT_EQ(stored.size(), static_cast<size_t>(kEvents));
  const std::set<std::string> stored_set(stored.begin(), stored.end());
  const std::vector<std::string> rows = fetch_lines(server(), "killed.events");
  // No duplicate visible through FINAL.
  EXPECT_EQ(rows.size(), std::set<std::string>(rows.begin(), rows.end()).size());
  EXPECT_EQ(query("SELECT count() FROM killed.events FINAL"),
            query("SELECT count() FROM (SELECT DISTINCT host, service, pid, process_start, tid, seq, line_hash FROM "
                  "killed.events)"));
  // Only lines of the store.
  for (const std::string& row : rows) EXPECT_EQ(stored_set.count(row), 1u) << row;
  // Every line stored after the restart.
  const std::set<std::string> row_set(rows.begin(), rows.end());
  const std::set<std::string> earlier(before_restart.begin(), before_restart.end());
  size_t after_restart = 0;
  for (const std::string& line : stored) {
    if (earlier.count(line) != 0) continue;
    ++after_restart;
    EXPECT_EQ(row_set.count(line), 1u) << line;
  }
  EXPECT_GT(after_restart, 0u);
  const uint64_t all_rows = number(server().query("SELECT count() FROM killed.events"));
  RecordProperty("rows_through_final", static_cast<int>(rows.size()));
  RecordProperty("rows_without_final", static_cast<int>(all_rows));
  RecordProperty("stored_before_kill", static_cast<int>(before_restart.size()));
  std::printf("stored %zu lines (%zu before the kill); ClickHouse: %zu rows through FINAL, %llu without\n",
              stored.size(), before_restart.size(), rows.size(), static_cast<unsigned long long>(all_rows));
}

// --- A server that is down or hung ---

TEST_F(ClickHouseSinkTest, AServerThatIsDownNeverHoldsBackTheStoreAndLaterLinesArriveOnceItIsBack) {
  const std::string uri = server().uri("down", "?timeout=1s");
  server().stop();
  constexpr int kEvents = 200;
  ProducerChild child = counting_producer("down", kEvents);
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 0);
  const std::string store = dir_ / "store";
  const ringtail::test::Result drain = drain_once(child.pid(), store, uri);
  ASSERT_EQ(drain.code, 0) << drain.err;
  EXPECT_EQ(ringtail::test::read_stored_lines(store).size(), static_cast<size_t>(kEvents));
  const SinkSummary summary = sink_summary(drain.out, uri);
  ASSERT_TRUE(summary.found) << drain.out;
  EXPECT_EQ(summary.inserted, 0u) << summary.line;
  EXPECT_EQ(summary.lost(), static_cast<uint64_t>(kEvents)) << summary.line;
  EXPECT_NE(summary.line.find("last error: ClickHouse http://127.0.0.1:"), std::string::npos) << summary.line;

  std::string error;
  ASSERT_TRUE(server().start(&error)) << error;
  ProducerChild later = counting_producer("down", kEvents);
  ASSERT_TRUE(later.ok()) << later.error();
  ASSERT_EQ(later.join(), 0);
  const ringtail::test::Result again = drain_once(later.pid(), store, uri);
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(sink_summary(again.out, uri).inserted, static_cast<uint64_t>(kEvents)) << again.out;
  EXPECT_EQ(query("SELECT pid, count() FROM down.events FINAL GROUP BY pid"),
            std::to_string(later.pid()) + "\t" + std::to_string(kEvents) + "\n");
}

TEST_F(ClickHouseSinkTest, AHungServerNeverHoldsBackTheStoreAndLaterLinesArriveOnceItAnswers) {
  const std::string uri = server().uri("hung", "?timeout=1s");
  constexpr int kEvents = 200;
  ProducerChild child = counting_producer("hung", kEvents);
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 0);
  const std::string store = dir_ / "store";
  server().pause();
  const auto start = std::chrono::steady_clock::now();
  const ringtail::test::Result drain = drain_once(child.pid(), store, uri);
  const auto took = std::chrono::steady_clock::now() - start;
  server().resume();
  ASSERT_EQ(drain.code, 0) << drain.err;
  EXPECT_LT(took, std::chrono::seconds(30));
  EXPECT_EQ(ringtail::test::read_stored_lines(store).size(), static_cast<size_t>(kEvents));
  const SinkSummary summary = sink_summary(drain.out, uri);
  ASSERT_TRUE(summary.found) << drain.out;
  EXPECT_EQ(summary.inserted, 0u) << summary.line;
  EXPECT_EQ(summary.lost(), static_cast<uint64_t>(kEvents)) << summary.line;
  EXPECT_NE(summary.line.find("no answer within 1000 ms"), std::string::npos) << summary.line;

  ProducerChild later = counting_producer("hung", kEvents);
  ASSERT_TRUE(later.ok()) << later.error();
  ASSERT_EQ(later.join(), 0);
  const ringtail::test::Result again = drain_once(later.pid(), store, uri);
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(sink_summary(again.out, uri).inserted, static_cast<uint64_t>(kEvents)) << again.out;
  EXPECT_EQ(query("SELECT count() FROM hung.events FINAL WHERE pid = " + std::to_string(later.pid())),
            std::to_string(kEvents) + "\n");
}

// A table that goes away (dropped, or a server that came back empty): the
// insert fails and is counted, and the next try, after the backoff, makes
// the table again.
TEST_F(ClickHouseSinkTest, ATableThatWentAwayIsMadeAgainAfterTheBackoff) {
  const SegmentIdentity segment = test_segment();
  ClickHouseSink sink(target_of(server(), "again"), "h");
  ASSERT_TRUE(sink.write(testing::batch_of(segment, event_line(1))).ok());
  ASSERT_TRUE(sink.write(testing::batch_of(segment, event_line(2))).ok());
  sink.finish();
  EXPECT_EQ(query("SELECT count() FROM again.events FINAL"), "2\n");
  query("DROP TABLE again.events");
  ASSERT_TRUE(sink.write(testing::batch_of(segment, event_line(3))).ok());
  sink.finish();
  NetworkSinkCounts counts = sink.counts();
  EXPECT_EQ(counts.records_sent, 2u);
  EXPECT_EQ(counts.records_failed, 1u);
  EXPECT_NE(counts.last_error.find("again.events"), std::string::npos) << counts.last_error;
  // In the backoff: writes fail at once (FanOutSink counts their lines).
  EXPECT_FALSE(sink.write(testing::batch_of(segment, event_line(4))).ok());
  EXPECT_FALSE(sink.flush().ok());
  // Once the backoff has passed, a write goes through (refused writes until
  // then insert nothing and count nothing of the sink's own).
  ASSERT_TRUE(ringtail::test::eventually([&] { return sink.write(testing::batch_of(segment, event_line(5))).ok(); },
                                         SinkBackoff::kFirst * 10, std::chrono::milliseconds(50)));
  sink.finish();
  counts = sink.counts();
  EXPECT_EQ(counts.records_sent, 3u);
  EXPECT_EQ(counts.last_error, "");
  EXPECT_TRUE(sink.flush().ok());
  EXPECT_EQ(query("SELECT seq FROM again.events FINAL"), "5\n");
}

// --- Fleet: two hosts into one table ---

TEST_F(ClickHouseSinkTest, TwoDrainsWithTheirHostNamesShareOneTable) {
  ProducerChild a = counting_producer("fleet", 120);
  ProducerChild b = counting_producer("fleet", 80);
  ASSERT_TRUE(a.ok() && b.ok()) << a.error() << b.error();
  ASSERT_EQ(a.join(), 0);
  ASSERT_EQ(b.join(), 0);
  const std::string uri = server().uri("fleet");
  Tool drain_a(
      {"drain", "--once", "--pid", std::to_string(a.pid()), "--out", dir_ / "a", "--sink", uri, "--host-name", "a"});
  Tool drain_b(
      {"drain", "--once", "--pid", std::to_string(b.pid()), "--out", dir_ / "b", "--sink", uri, "--host-name", "b"});
  ASSERT_EQ(drain_a.wait(), 0) << drain_a.err();
  ASSERT_EQ(drain_b.wait(), 0) << drain_b.err();
  const size_t stored_a = ringtail::test::read_stored_lines(dir_ / "a").size();
  const size_t stored_b = ringtail::test::read_stored_lines(dir_ / "b").size();
  EXPECT_EQ(stored_a, 120u);
  EXPECT_EQ(stored_b, 80u);
  EXPECT_EQ(query("SELECT host, count() FROM fleet.events FINAL GROUP BY host ORDER BY host"),
            "a\t" + std::to_string(stored_a) + "\nb\t" + std::to_string(stored_b) + "\n");

  // The same questions through ringtail, across both hosts: per host, and
  // one filter over both (each producer logged i = 0, 1, ...).
  const ringtail::test::Result by_host = ringtail::test::run({"stats", "--engine", uri, "--by", "host", "--json"});
  ASSERT_EQ(by_host.code, 0) << by_host.err;
  EXPECT_NE(by_host.out.find(R"({"key":{"host":"a"},"count":120,)"), std::string::npos) << by_host.out;
  EXPECT_NE(by_host.out.find(R"({"key":{"host":"b"},"count":80,)"), std::string::npos) << by_host.out;
  const ringtail::test::Result late =
      ringtail::test::run({"stats", "--engine", uri, "--where", "i>=60", "--by", "host", "--json"});
  ASSERT_EQ(late.code, 0) << late.err;
  EXPECT_NE(late.out.find(R"("total":80,)"), std::string::npos) << late.out;
  EXPECT_NE(late.out.find(R"({"key":{"host":"a"},"count":60,)"), std::string::npos) << late.out;
  EXPECT_NE(late.out.find(R"({"key":{"host":"b"},"count":20,)"), std::string::npos) << late.out;
  const ringtail::test::Result only_b = ringtail::test::run({"query", "--engine", uri, "--where", "host=b"});
  ASSERT_EQ(only_b.code, 0) << only_b.err;
  EXPECT_EQ(std::count(only_b.out.begin(), only_b.out.end(), '\n'), 80);
}

// --- Users and passwords ---

TEST_F(ClickHouseSinkTest, AUserWithAPasswordFileWorksAndAWrongPasswordIsCountedAndNeverPrinted) {
  const std::string right = dir_ / "right";
  const std::string wrong = dir_ / "wrong";
  std::ofstream(right) << "secret-pw\n";
  std::ofstream(wrong) << "not-the-password-81723\n";
  ProducerChild child = counting_producer("users", 50);
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 0);
  const std::string good_uri = server().uri("users", "?user=reader&password_file=" + right);
  const ringtail::test::Result good = drain_once(child.pid(), dir_ / "store", good_uri);
  ASSERT_EQ(good.code, 0) << good.err;
  EXPECT_EQ(sink_summary(good.out, good_uri).inserted, 50u) << good.out;
  EXPECT_EQ(query("SELECT count() FROM users.events FINAL"), "50\n");
  for (const std::string& text : {good.out, good.err}) EXPECT_EQ(text.find("secret-pw"), std::string::npos) << text;

  ProducerChild later = counting_producer("users", 50);
  ASSERT_TRUE(later.ok()) << later.error();
  ASSERT_EQ(later.join(), 0);
  const std::string bad_uri = server().uri("users", "?user=reader&password_file=" + wrong);
  const ringtail::test::Result bad = drain_once(later.pid(), dir_ / "store", bad_uri);
  ASSERT_EQ(bad.code, 0) << bad.err;
  const SinkSummary summary = sink_summary(bad.out, bad_uri);
  ASSERT_TRUE(summary.found) << bad.out;
  EXPECT_EQ(summary.lost(), 50u) << summary.line;
  EXPECT_NE(summary.line.find("Wrong password"), std::string::npos) << summary.line;
  for (const std::string& text : {bad.out, bad.err}) {
    EXPECT_EQ(text.find("not-the-password-81723"), std::string::npos) << text;
  }
  EXPECT_EQ(query("SELECT count() FROM users.events FINAL"), "50\n");
}

// --host-name reaches the other sinks that name the host: syslog's HOSTNAME.
TEST(ClickHouseSinkHostName, NamesTheHostToTheSyslogSinkToo) {
  uint16_t port = 0;
  const int fd = ringtail::test::bound_loopback_socket(SOCK_DGRAM, &port);
  ASSERT_GE(fd, 0);
  ProducerChild child = counting_producer("named", 1);
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 0);
  const ringtail::test::Result drain =
      ringtail::test::run({"drain", "--once", "--pid", std::to_string(child.pid()), "--sink",
                           "syslog+udp://127.0.0.1:" + std::to_string(port), "--host-name", "fleet-a"});
  ASSERT_EQ(drain.code, 0) << drain.err;
  char buffer[4096];
  const ssize_t got = ::recv(fd, buffer, sizeof(buffer), 0);
  ::close(fd);
  ASSERT_GT(got, 0);
  // <PRI>1 TIMESTAMP HOSTNAME APP-NAME ...
  const std::vector<std::string> parts = split(std::string(buffer, static_cast<size_t>(got)), ' ');
  ASSERT_GT(parts.size(), 3u);
  EXPECT_EQ(parts[2], "fleet-a");
}

// --- URI usage errors ---

TEST(ClickHouseSinkUri, UsageErrorsNameTheProblem) {
  struct Case {
    std::string uri;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"clickhouse://127.0.0.1:8123/bad-name", "the database must be a name"},
      {"clickhouse://127.0.0.1:8123/db?colour=red", "unknown option 'colour'"},
      {"clickhouse://ringtail:hunter2@127.0.0.1:8123/db", "a user or password in a clickhouse:// URI is not taken"},
      {"clickhouse://127.0.0.1:8123/", "give the database"},
      {"clickhouse://127.0.0.1:8123/db?password_file=/nonexistent/pw", "password_file"},
      {"clickhouse://127.0.0.1:8123/db?batch_bytes=lots", "batch_bytes="},
      {"clickhouse://127.0.0.1:8123/db?table=a;b", "table= must be a name"},
  };
  for (const Case& c : cases) {
    // --pid of no producer: should one be taken, it drains nothing of anyone's.
    const ringtail::test::Result drain =
        ringtail::test::run({"drain", "--once", "--pid", "2147483646", "--sink", c.uri});
    EXPECT_EQ(drain.code, 2) << c.uri << ": " << drain.err;
    EXPECT_NE(drain.err.find(c.says), std::string::npos) << c.uri << ": " << drain.err;
    EXPECT_EQ(drain.err.find("hunter2"), std::string::npos) << drain.err;
  }
}

// --- Hostile shapes and objects, straight into the sink ---

TEST_F(ClickHouseSinkTest, HostileObjectsAndShapesAreBoundedAndNeverCrash) {
  const SegmentIdentity segment = test_segment();
  // Nested 900 deep (simdjson's limit is 1024), wide, with dotted keys.
  std::string deep;
  for (int i = 0; i < 900; ++i) deep += R"({"d":)";
  deep += "1";
  for (int i = 0; i < 900; ++i) deep += "}";
  std::string wide = "{";
  for (int i = 0; i < 2000; ++i) {
    if (i > 0) wide += ",";
    wide += R"("k)";
    wide += std::to_string(i);
    wide += R"(":[1,{"x":"}"}])";
  }
  wide += "}";
  const std::string text = event_line(1, "deep", R"(,"deep":)" + deep) + event_line(2, "wide", R"(,"wide":)" + wide) +
                           event_line(3, "dotted", R"(,"o":{"a.b":{"c":1},"e":"\"}{","f":{"g":[{"h":1}]}})") +
                           event_line(4, "plain");
  EventBatch batch = testing::batch_of(segment, text);
  ASSERT_EQ(batch.lines.size(), 4u);
  // A shape that does not match its line (a field span off by one) is not
  // encoded, and counted; the others go in.
  EventBatch broken = testing::batch_of(segment, event_line(5, "broken", R"(,"x":1)"));
  ASSERT_EQ(broken.fields.size(), 1u);
  ++broken.fields[0].value_offset;
  --broken.fields[0].value_size;
  {
    ClickHouseSink sink(target_of(server(), "hostile"), "h");
    ASSERT_TRUE(sink.write(batch).ok());
    ASSERT_TRUE(sink.write(broken).ok());
    sink.finish();
    const NetworkSinkCounts counts = sink.counts();
    EXPECT_EQ(counts.records_sent, 4u);
    EXPECT_EQ(counts.records_failed, 1u);
  }
  std::multiset<std::string> expected;
  for (const std::string& line : split(text, '\n')) {
    if (!line.empty()) expected.insert(line);
  }
  EXPECT_EQ(as_multiset(fetch_lines(server(), "hostile.events")), expected);
  // Deep: paths stop at 16 levels; and every line's paths stay within its budget.
  EXPECT_EQ(query("SELECT length(paths) BETWEEN 1 AND 16 FROM hostile.events WHERE message = 'deep'"), "1\n");
  EXPECT_EQ(query("SELECT countIf(arraySum(arrayMap(x -> length(x), paths)) + arraySum(arrayMap(x -> length(x), "
                  "path_values)) > 2 * length(concat('{', arrayStringConcat(arrayMap((k, v) -> concat('\"', k, "
                  "'\":', v), keys, values), ','), '}')) + 1024) FROM hostile.events"),
            "0\n");
  EXPECT_EQ(query("SELECT length(paths) FROM hostile.events WHERE message = 'wide'"), "2000\n");
  // Dotted keys are left out with what is under them; the rest at any depth.
  EXPECT_EQ(query("SELECT arrayStringConcat(paths, ' ') FROM hostile.events WHERE message = 'dotted'"),
            "o.e o.f o.f.g\n");
  EXPECT_EQ(query("SELECT path_values[2] FROM hostile.events WHERE message = 'dotted'"), R"({"g":[{"h":1}]})"
                                                                                         "\n");
}

}  // namespace
}  // namespace ringtail::reader
