// `ringtail export DIR --format sqlite -o FILE.db` (reader/query/sqlite_export.hpp)
// end to end: a store written by a real producer (a forked child: events,
// nested spans, hostile strings) drained by the real `ringtail drain --once`,
// plus a file written by hand in the store layout (u64 ids beyond int64, a
// host key, hostile keys, a 1 MiB value, a span end without its start and a
// start without its end). The real `ringtail export` makes the database and
// the sqlite3 command-line program (Debian sqlite3; the test fails without
// it) reads it back. Checked against what was stored and against `ringtail
// stats --json` for the same filter: every line once, byte for byte, in
// timestamp order; counts in total, by message and by a json_extract() of
// fields; fields exactly as stored; span rows and their parents; filters;
// the exit codes; and that a failed export leaves no file behind.
#include <unistd.h>

#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "producer_child.hpp"
#include "ringtail/reader/ingest/timestamp.hpp"
#include "ringtail/reader/output/time_text.hpp"
#include "ringtail/reader/storage/store_names.hpp"
#include "ringtail/ringtail.hpp"
#include "stored_files.hpp"
#include "subprocess.hpp"
#include "temp_dir.hpp"

namespace ringtail::reader {
namespace {

using ringtail::test::TempDir;

namespace dom = simdjson::dom;
namespace fs = std::filesystem;
using ringtail::test::ProducerChild;
using ringtail::test::Result;
using ringtail::test::run;

constexpr int64_t kSecond = 1'000'000'000;
constexpr size_t kBigValueBytes = size_t{1} << 20;

// The sqlite3 program on $PATH; empty if there is none.
std::string sqlite3_program() {
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/bin:/bin";
  while (!dirs.empty()) {
    const size_t colon = std::min(dirs.find(':'), dirs.size());
    std::string candidate = std::string(dirs.substr(0, colon)) + "/sqlite3";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    dirs.remove_prefix(std::min(colon + 1, dirs.size()));
  }
  return "";
}

// Runs sqlite3 (read-only) on `db`: `options` (an output mode) then `sql`.
Result sqlite(const std::string& db, const std::string& sql, const std::vector<std::string>& options = {}) {
  std::vector<std::string> args = {"-batch", "-bail", "-readonly"};
  args.insert(args.end(), options.begin(), options.end());
  args.push_back(db);
  args.push_back(sql);
  ringtail::test::Subprocess program(sqlite3_program(), args);
  Result result;
  result.code = program.wait();
  result.out = program.out();
  result.err = program.err();
  return result;
}

// One value (or rows of one column), without the last newline.
std::string scalar(const std::string& db, const std::string& sql) {
  const Result result = sqlite(db, sql);
  EXPECT_EQ(result.code, 0) << sql << ": " << result.err;
  EXPECT_EQ(result.err, "") << sql;
  std::string out = result.out;
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

uint64_t count(const std::string& db, const std::string& sql) { return std::stoull(scalar(db, sql)); }

// Rows whose columns are `kUnit` apart (a byte no stored line holds raw:
// JSON escapes control characters).
constexpr char kUnit = '\x1f';
std::vector<std::vector<std::string>> rows(const std::string& db, const std::string& sql) {
  const Result result = sqlite(db, sql, {"-list", "-separator", std::string(1, kUnit)});
  EXPECT_EQ(result.code, 0) << sql << ": " << result.err;
  std::vector<std::vector<std::string>> out;
  size_t at = 0;
  while (at < result.out.size()) {
    const size_t end = std::min(result.out.find('\n', at), result.out.size());
    std::vector<std::string> row;
    size_t column = at;
    for (;;) {
      const size_t next = std::min(result.out.find(kUnit, column), end);
      row.emplace_back(result.out, column, next - column);
      if (next == end) break;
      column = next + 1;
    }
    out.push_back(std::move(row));
    at = end + 1;
  }
  return out;
}

std::string hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : bytes) {
    out.push_back(kDigits[static_cast<unsigned char>(c) >> 4]);
    out.push_back(kDigits[static_cast<unsigned char>(c) & 0xf]);
  }
  return out;
}

// `ringtail stats DIR --json` (with `args`), parsed.
dom::element stats(dom::parser& parser, const std::vector<std::string>& args) {
  std::vector<std::string> all = {"stats"};
  all.insert(all.end(), args.begin(), args.end());
  all.emplace_back("--json");
  const Result result = run(all);
  EXPECT_EQ(result.code, 0) << result.err;
  dom::element document;
  EXPECT_EQ(parser.parse(result.out).get(document), simdjson::SUCCESS) << result.out;
  return document;
}

uint64_t stats_total(const std::vector<std::string>& args) {
  dom::parser parser;
  uint64_t total = 0;
  EXPECT_EQ(stats(parser, args)["total"].get(total), simdjson::SUCCESS);
  return total;
}

// Writes `lines` as a closed info file of `service`'s process `pid` under
// `dir`, named and placed as drain names and places it.
void write_stored_file(const std::string& dir, std::string_view service, uint32_t pid,
                       const std::vector<std::string>& lines) {
  ASSERT_FALSE(lines.empty());
  StoredFileName name;
  name.kind = StoredFileName::Kind::kClosed;
  name.service = safe_service_name(service);
  name.pid = pid;
  name.level_class = LevelClass::kInfo;
  const std::string first(line_timestamp(lines.front()));
  name.first = name_stamp_from_timestamp(first);
  name.last = name_stamp_from_timestamp(line_timestamp(lines.back()));
  const fs::path folder = fs::path(dir) / name.service / first.substr(0, 10);
  fs::create_directories(folder);
  std::ofstream out(folder / name.file_name(), std::ios::binary);
  for (const std::string& text : lines) out << text << '\n';
  ASSERT_TRUE(out.good());
}

// What the hand-written file holds, for the checks.
constexpr std::string_view kOrphanSpanId = "00000000000000bb";
constexpr std::string_view kDanglingSpanId = "00000000000000dd";
constexpr std::string_view kNotASpanId = "00000000000000ee";
constexpr std::string_view kHugeIdsFields =
    R"({"pid":18446744073709551615,"tid":9223372036854775808,"seq":18446744073709551615,"n":1})";
constexpr std::string_view kHostileKeysRest =
    R"("it's \"k\"":"v","'); DROP TABLE meta;--":"'); DROP TABLE events;--","nul\u0000key":"a\u0000b")";
constexpr std::string_view kBigTail = R"( '"\ end)";

class SqliteExportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    store_ = new TempDir("sqlite-export-test");
    now_ns_ = realtime_now_ns();
    // The producer: events, two nested spans (the inner one failed) and
    // hostile strings in values and in a message.
    Options options = ringtail::test::small_producer_options("sqlite-export");
    options.ring_bytes = uint64_t{1} << 20;
    options.max_callsites = 64;
    ProducerChild child = ProducerChild::start(options, [](ProducerChild::Link&) {
      for (int i = 0; i < 12; ++i) {
        RINGTAIL_INFO("tool.call", kv("tool", i % 3 == 0 ? "grep" : "write_file"), kv("n", i));
      }
      RINGTAIL_WARN("policy.check", kv("decision", "BLOCK"));
      {
        Span plan("plan", kv("query_id", 7));
        RINGTAIL_INFO("planning", kv("tool", "grep"));
        {
          Span act("act", kv("tool", "grep"));
          RINGTAIL_INFO("acting", kv("n", 1));
          act.set_status(SpanStatus::kError);
        }
      }
      const std::string long_value(4000, 'x');
      RINGTAIL_INFO("hostile", kv("quote", R"(it's "quoted" \ back)"), kv("sql", "'); DROP TABLE events;--"),
                    kv("nul", std::string_view("a\0b", 3)), kv("bad_utf8", std::string_view("\xff\xfe ok \xc3", 7)),
                    kv("long", std::string_view(long_value)));
      RINGTAIL_INFO("'); DROP TABLE spans;--", kv("n", 99));
      return 0;
    });
    ASSERT_TRUE(child.ok()) << child.error();
    ASSERT_EQ(child.join(), 0);
    const Result drain = run({"drain", "--once", "--out", store_->path(), "--pid", std::to_string(child.pid())});
    ASSERT_EQ(drain.code, 0) << drain.err;

    // The hand-written file: a day before the producer's lines.
    const int64_t base = now_ns_ - int64_t{24} * 3600 * kSecond;
    const auto at = [base](int n) { return format_timestamp(base + n * kSecond); };
    first_handmade_ns_ = base + kSecond;
    const std::string head = R"(,"service":"handmade","pid":4242,"tid":4242)";
    std::string big(kBigValueBytes, 'y');
    big += kBigTail;
    std::string big_json = big;
    big_json.replace(big_json.size() - kBigTail.size(), kBigTail.size(), R"( '\"\\ end)");
    const std::vector<std::string> lines = {
        R"({"timestamp":")" + at(1) + R"(","level":"INFO","message":"boot")" + head +
            R"(,"seq":1,"host":"db-1","tool":"grep"})",
        R"({"timestamp":")" + at(2) +
            R"(","level":"INFO","message":"huge ids","service":"handmade","pid":18446744073709551615,)"
            R"("tid":9223372036854775808,"seq":18446744073709551615,"n":1})",
        R"({"timestamp":")" + at(3) +
            R"(","level":"INFO","message":"max ids","service":"handmade","pid":9223372036854775807,)"
            R"("tid":-9223372036854775808,"seq":2,"trace_id":123})",
        R"({"timestamp":")" + at(4) + R"(","level":"INFO","message":"hostile keys")" + head + R"(,"seq":3,)" +
            std::string(kHostileKeysRest) + R"(,"big":")" + big_json + R"("})",
        R"({"timestamp":")" + at(5) + R"(","level":"WARN","message":"span.end")" + head +
            R"(,"span":"orphan","trace_id":"000000000000000000000000000000aa","span_id":")" +
            std::string(kOrphanSpanId) + R"(","status":"ERROR","error":{"type":"E","message":"m"},"duration_ms":2.5})",
        R"({"timestamp":")" + at(6) + R"(","level":"INFO","message":"span.start")" + head +
            R"(,"span":"dangling","trace_id":"000000000000000000000000000000aa","span_id":")" +
            std::string(kDanglingSpanId) + R"(","parent_span_id":")" + std::string(kOrphanSpanId) + R"(","k":1})",
        R"({"timestamp":")" + at(7) + R"(","level":"INFO","message":"span.start")" + head + R"(,"seq":4,"span_id":")" +
            std::string(kNotASpanId) + R"("})",
    };
    write_stored_file(store_->path(), "handmade", 4242, lines);
    big_value_ = new std::string(std::move(big));
    stored_lines_ = new std::vector<std::string>(ringtail::test::read_stored_lines(store_->path()));
  }
  static void TearDownTestSuite() {
    delete store_;
    delete stored_lines_;
    delete big_value_;
  }

  void SetUp() override {
    ASSERT_FALSE(sqlite3_program().empty()) << "the sqlite3 program (Debian package sqlite3) is not installed";
    ASSERT_TRUE(ringtail::test::tool_built("ringtail"));
    ASSERT_FALSE(HasFatalFailure());
  }

  // `ringtail export DIR --format sqlite -o FILE args...`, which must succeed
  // and print nothing.
  std::string export_db(const std::string& name, const std::vector<std::string>& args = {}) {
    std::string db = scratch_.path() + "/" + name;
    std::vector<std::string> all = {"export", store_->path(), "--format", "sqlite", "-o", db};
    all.insert(all.end(), args.begin(), args.end());
    const Result result = run(all);
    EXPECT_EQ(result.code, 0) << result.err;
    EXPECT_EQ(result.out, "");
    EXPECT_EQ(result.err, "");
    EXPECT_EQ(scalar(db, "PRAGMA integrity_check"), "ok");
    return db;
  }

  static const std::string& store() { return store_->path(); }

  static TempDir* store_;
  static std::vector<std::string>* stored_lines_;
  static std::string* big_value_;
  static int64_t now_ns_;
  static int64_t first_handmade_ns_;
  TempDir scratch_{"sqlite-export-test"};
};

TempDir* SqliteExportTest::store_ = nullptr;
std::vector<std::string>* SqliteExportTest::stored_lines_ = nullptr;
std::string* SqliteExportTest::big_value_ = nullptr;
int64_t SqliteExportTest::now_ns_ = 0;
int64_t SqliteExportTest::first_handmade_ns_ = 0;

TEST_F(SqliteExportTest, EveryLineOnceAsStoredInTimestampOrder) {
  const std::string db = export_db("all.db");
  ASSERT_GT(stored_lines_->size(), 20u);
  EXPECT_EQ(count(db, "SELECT count(*) FROM events"), stats_total({store()}));
  EXPECT_EQ(count(db, "SELECT count(*) FROM events"), stored_lines_->size());

  std::vector<std::string> exported;
  for (const auto& row : rows(db, "SELECT line FROM events ORDER BY id")) exported.push_back(row.at(0));
  std::vector<std::string> stored = *stored_lines_;
  std::sort(exported.begin(), exported.end());
  std::sort(stored.begin(), stored.end());
  EXPECT_TRUE(exported == stored) << "the line column is not the stored lines, byte for byte";

  EXPECT_EQ(count(db, "SELECT count(*) FROM events a JOIN events b ON b.id = a.id + 1 WHERE b.time_ns < a.time_ns"),
            0u);
  EXPECT_EQ(count(db, "SELECT min(id) FROM events"), 1u);
  EXPECT_EQ(count(db, "SELECT max(id) FROM events"), stored_lines_->size());
  EXPECT_EQ(count(db, "SELECT count(*) FROM events WHERE time_ns IS NULL OR timestamp IS NULL"), 0u);
  EXPECT_EQ(scalar(db, "SELECT time_ns, timestamp FROM events WHERE id = 1"),
            std::to_string(first_handmade_ns_) + "|" + format_timestamp(first_handmade_ns_));
  // The hostile message and values did not run as SQL.
  EXPECT_EQ(scalar(db,
                   "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master WHERE type = 'table' "
                   "ORDER BY name)"),
            "events,meta,spans");
  EXPECT_EQ(count(db, "SELECT count(*) FROM events WHERE message = '''); DROP TABLE spans;--'"), 1u);

  EXPECT_EQ(scalar(db, "SELECT value FROM meta WHERE key = 'format_version'"), "1");
  EXPECT_EQ(scalar(db, "PRAGMA user_version"), "1");
  EXPECT_EQ(count(db, "SELECT value FROM meta WHERE key = 'events'"), stored_lines_->size());
  EXPECT_EQ(scalar(db, "SELECT value FROM meta WHERE key = 'filter'"), "{}");
  EXPECT_TRUE(is_canonical_timestamp(scalar(db, "SELECT value FROM meta WHERE key = 'exported_at'")));
}

TEST_F(SqliteExportTest, CountsByMessageMatchStats) {
  const std::string db = export_db("by_message.db");
  dom::parser stats_parser;
  dom::array groups;
  ASSERT_EQ(stats(stats_parser, {store(), "--by", "message"})["groups"].get(groups), simdjson::SUCCESS);
  std::map<std::string, uint64_t> expected;
  for (dom::element group : groups) {
    std::string_view message;
    uint64_t n = 0;
    ASSERT_EQ(group["key"]["message"].get(message), simdjson::SUCCESS);
    ASSERT_EQ(group["count"].get(n), simdjson::SUCCESS);
    expected[std::string(message)] = n;
  }
  const Result result = sqlite(db, "SELECT message, count(*) AS n FROM events GROUP BY message", {"-json"});
  ASSERT_EQ(result.code, 0) << result.err;
  dom::parser parser;
  dom::array answer;
  ASSERT_EQ(parser.parse(result.out).get(answer), simdjson::SUCCESS) << result.out;
  std::map<std::string, uint64_t> got;
  for (dom::element row : answer) {
    std::string_view message;
    uint64_t n = 0;
    ASSERT_EQ(row["message"].get(message), simdjson::SUCCESS);
    ASSERT_EQ(row["n"].get(n), simdjson::SUCCESS);
    got[std::string(message)] = n;
  }
  EXPECT_EQ(got, expected);
  EXPECT_EQ(got["tool.call"], 12u);
  EXPECT_EQ(got["span.start"], 4u);  // plan, act, the hand-written start and the event of that message
}

TEST_F(SqliteExportTest, JsonExtractOfFieldsCountsLikeWhere) {
  const std::string db = export_db("fields.db");
  const uint64_t grep = stats_total({store(), "--where", "tool=grep"});
  EXPECT_EQ(grep, 7u);  // 4 tool calls, planning, the act span's start, the hand-written boot line
  EXPECT_EQ(count(db, "SELECT count(*) FROM events WHERE json_extract(fields, '$.tool') = 'grep'"), grep);
  EXPECT_EQ(count(db, "SELECT count(*) FROM events WHERE json_extract(fields, '$.n') = 1"),
            stats_total({store(), "--where", "n=1"}));
  EXPECT_EQ(count(db, "SELECT count(*) FROM events WHERE json_extract(fields, '$.decision') = 'BLOCK'"),
            stats_total({store(), "--where", "decision=BLOCK"}));
}

TEST_F(SqliteExportTest, FieldsHoldTheOtherKeysAsStored) {
  const std::string db = export_db("exact.db");
  // Lines whose keys past "seq" are all fields: `fields` is the rest of the line.
  size_t checked = 0;
  for (const auto& row : rows(db,
                              "SELECT fields, line FROM events WHERE seq IS NOT NULL AND trace_id IS NULL "
                              "AND span_id IS NULL AND host IS NULL ORDER BY id")) {
    ASSERT_EQ(row.size(), 2u);
    const std::string& line = row[1];
    const size_t seq = line.find(",\"seq\":");
    ASSERT_NE(seq, std::string::npos) << line;
    const size_t rest = line.find(',', seq + 1);
    const std::string expected = rest == std::string::npos ? "{}" : "{" + line.substr(rest + 1);
    EXPECT_EQ(hex(row[0]), hex(expected)) << line.substr(0, 300);
    ++checked;
  }
  EXPECT_GE(checked, 16u);

  // Hostile values: as stored in fields, and json_extract gives the strings back.
  EXPECT_EQ(scalar(db, "SELECT hex(json_extract(fields, '$.sql')) FROM events WHERE message = 'hostile'"),
            hex("'); DROP TABLE events;--"));
  EXPECT_EQ(scalar(db, "SELECT hex(json_extract(fields, '$.quote')) FROM events WHERE message = 'hostile'"),
            hex(R"(it's "quoted" \ back)"));
  EXPECT_EQ(scalar(db, "SELECT hex(json_extract(fields, '$.bad_utf8')) FROM events WHERE message = 'hostile'"),
            hex("\xEF\xBF\xBD\xEF\xBF\xBD ok \xEF\xBF\xBD"));  // as the reader stored it: U+FFFD
  EXPECT_EQ(scalar(db, "SELECT length(json_extract(fields, '$.long')) FROM events WHERE message = 'hostile'"), "4000");
  EXPECT_NE(scalar(db, "SELECT fields FROM events WHERE message = 'hostile'").find(R"("nul":"a\u0000b")"),
            std::string::npos);
  EXPECT_EQ(
      scalar(db, "SELECT hex(fields) FROM events WHERE message = 'hostile keys'"),
      hex("{" + std::string(kHostileKeysRest) + R"(,"big":")" + std::string(kBigValueBytes, 'y') + R"( '\"\\ end"})"));
  EXPECT_EQ(scalar(db, "SELECT hex(json_extract(fields, '$.big')) FROM events WHERE message = 'hostile keys'"),
            hex(*big_value_));

  // The host key; pid, tid and seq beyond int64: NULL, and kept exactly in fields.
  EXPECT_EQ(scalar(db, "SELECT host, pid, tid, seq FROM events WHERE message = 'boot'"), "db-1|4242|4242|1");
  EXPECT_EQ(count(db, "SELECT count(*) FROM events WHERE host IS NOT NULL"), 1u);
  EXPECT_EQ(scalar(db,
                   "SELECT typeof(pid) || typeof(tid) || typeof(seq), fields FROM events "
                   "WHERE message = 'huge ids'"),
            "nullnullnull|" + std::string(kHugeIdsFields));
  EXPECT_EQ(scalar(db, "SELECT pid, tid, seq, typeof(trace_id), fields FROM events WHERE message = 'max ids'"),
            R"(9223372036854775807|-9223372036854775808|2|null|{"trace_id":123})");
  EXPECT_EQ(scalar(db, "SELECT value FROM meta WHERE key = 'unfit_values'"), "4");
}

TEST_F(SqliteExportTest, SpansPairStartsAndEndsWithTheirParents) {
  const std::string db = export_db("spans.db");
  // The stored span lines, read independently of the exporter.
  struct Seen {
    std::string trace_id, parent, name, start_time, end_time, status;
    double duration_ms = -1;
  };
  std::map<std::string, Seen> spans;  // by span_id
  dom::parser parser;
  for (const std::string& text : *stored_lines_) {
    dom::object line;
    ASSERT_EQ(parser.parse(text).get(line), simdjson::SUCCESS) << text.substr(0, 200);
    std::string_view message, span_id, text_value;
    if (line["message"].get(message) != simdjson::SUCCESS || (message != "span.start" && message != "span.end")) {
      continue;
    }
    if (line.at_key("seq").error() == simdjson::SUCCESS || line["span_id"].get(span_id) != simdjson::SUCCESS) {
      continue;
    }
    Seen& seen = spans[std::string(span_id)];
    if (line["trace_id"].get(text_value) == simdjson::SUCCESS) seen.trace_id = text_value;
    if (line["parent_span_id"].get(text_value) == simdjson::SUCCESS) seen.parent = text_value;
    if (line["span"].get(text_value) == simdjson::SUCCESS) seen.name = text_value;
    std::string_view timestamp;
    ASSERT_EQ(line["timestamp"].get(timestamp), simdjson::SUCCESS);
    (message == "span.start" ? seen.start_time : seen.end_time) = timestamp;
    if (message == "span.end") {
      ASSERT_EQ(line["status"].get(text_value), simdjson::SUCCESS);
      seen.status = text_value;
      ASSERT_EQ(line["duration_ms"].get(seen.duration_ms), simdjson::SUCCESS);
    }
  }
  ASSERT_EQ(spans.size(), 4u);  // plan, act, orphan, dangling

  const Result result = sqlite(db,
                               "SELECT span_id, trace_id, parent_span_id, name, start_time, end_time, status, "
                               "duration_ms, attributes, error FROM spans",
                               {"-json"});
  ASSERT_EQ(result.code, 0) << result.err;
  dom::parser rows_parser;
  dom::array answer;
  ASSERT_EQ(rows_parser.parse(result.out).get(answer), simdjson::SUCCESS) << result.out;
  std::map<std::string, std::string> attributes;
  size_t n = 0;
  for (dom::element row : answer) {
    ++n;
    std::string_view span_id;
    ASSERT_EQ(row["span_id"].get(span_id), simdjson::SUCCESS);
    ASSERT_EQ(spans.count(std::string(span_id)), 1u) << span_id;
    const Seen& seen = spans[std::string(span_id)];
    const auto text = [&](std::string_view key) {
      std::string_view value;
      return row[key].get(value) == simdjson::SUCCESS ? std::string(value) : std::string();
    };
    EXPECT_EQ(text("trace_id"), seen.trace_id);
    EXPECT_EQ(text("parent_span_id"), seen.parent);
    EXPECT_TRUE(row["parent_span_id"].is_null() == seen.parent.empty()) << span_id;
    EXPECT_EQ(text("name"), seen.name);
    EXPECT_EQ(text("start_time"), seen.start_time);
    EXPECT_EQ(text("end_time"), seen.end_time);
    EXPECT_EQ(text("status"), seen.status);
    double duration = -1;
    if (!row["duration_ms"].is_null()) {
      EXPECT_EQ(row["duration_ms"].get(duration), simdjson::SUCCESS);
    }
    EXPECT_NEAR(duration, seen.duration_ms, 1e-9 * std::max(1.0, seen.duration_ms)) << span_id;
    attributes[text("name")] = text("attributes");
  }
  EXPECT_EQ(n, spans.size());
  EXPECT_EQ(attributes["plan"], R"({"query_id":7})");
  EXPECT_EQ(attributes["act"], R"({"tool":"grep"})");
  EXPECT_EQ(attributes["dangling"], R"({"k":1})");
  EXPECT_EQ(attributes["orphan"], "");

  // A nested span's parent is its enclosing span, within one trace.
  EXPECT_EQ(scalar(db,
                   "SELECT c.name || '<' || p.name FROM spans c JOIN spans p "
                   "ON c.parent_span_id = p.span_id AND c.trace_id = p.trace_id ORDER BY c.id"),
            "dangling<orphan\nact<plan");
  EXPECT_EQ(scalar(db, "SELECT status FROM spans WHERE name = 'act'"), "ERROR");
  EXPECT_EQ(scalar(db, "SELECT status FROM spans WHERE name = 'plan'"), "OK");
  EXPECT_EQ(count(db,
                  "SELECT count(*) FROM spans WHERE name IN ('plan', 'act') AND (start_ns IS NULL "
                  "OR end_ns IS NULL OR end_ns < start_ns OR pid IS NULL OR tid IS NULL)"),
            0u);
  // The events of a span carry its ids; the rows point at their lines.
  EXPECT_EQ(scalar(db,
                   "SELECT e.message FROM events e JOIN spans s ON e.span_id = s.span_id "
                   "WHERE s.name = 'act' AND e.message NOT LIKE 'span.%'"),
            "acting");
  EXPECT_EQ(count(db,
                  "SELECT count(*) FROM spans s JOIN events e ON e.id = s.start_event "
                  "WHERE e.message = 'span.start' AND e.span_id = s.span_id"),
            3u);
  EXPECT_EQ(count(db,
                  "SELECT count(*) FROM spans s JOIN events e ON e.id = s.end_event "
                  "WHERE e.message = 'span.end' AND e.span_id = s.span_id"),
            3u);
  // An end without its start, a start without its end.
  EXPECT_EQ(scalar(db,
                   "SELECT typeof(start_time) || typeof(start_ns) || typeof(start_event), end_ns, error "
                   "FROM spans WHERE name = 'orphan'"),
            "nullnullnull|" + std::to_string(first_handmade_ns_ + 4 * kSecond) + R"(|{"type":"E","message":"m"})");
  EXPECT_EQ(scalar(db,
                   "SELECT typeof(end_time) || typeof(end_ns) || typeof(duration_ms) || typeof(status) "
                   "FROM spans WHERE name = 'dangling'"),
            "nullnullnullnull");
  EXPECT_EQ(count(db, "SELECT count(*) FROM spans WHERE span_id = '" + std::string(kNotASpanId) + "'"), 0u);
  EXPECT_EQ(scalar(db,
                   "SELECT group_concat(key || '=' || value, ',') FROM (SELECT * FROM meta WHERE key IN "
                   "('spans', 'spans_without_end', 'ends_without_start') ORDER BY key)"),
            "ends_without_start=1,spans=4,spans_without_end=1");
}

TEST_F(SqliteExportTest, FiltersAreApplied) {
  const std::string grep = export_db("grep.db", {"--where", "tool=grep"});
  EXPECT_EQ(count(grep, "SELECT count(*) FROM events"), stats_total({store(), "--where", "tool=grep"}));
  EXPECT_EQ(count(grep, "SELECT count(*) FROM events WHERE json_extract(fields, '$.tool') IS NOT 'grep'"), 0u);
  EXPECT_EQ(scalar(grep, "SELECT value FROM meta WHERE key = 'filter'"), R"({"where":["tool=grep"]})");

  const std::string since = format_timestamp(now_ns_ - 3600 * kSecond);
  const std::string recent = export_db("recent.db", {"--since", since});
  const uint64_t expected = stats_total({store(), "--since", since});
  EXPECT_EQ(count(recent, "SELECT count(*) FROM events"), expected);
  EXPECT_EQ(expected, stored_lines_->size() - 7);  // the hand-written day-old lines are left out
  EXPECT_EQ(count(recent, "SELECT count(*) FROM events WHERE service = 'handmade' OR timestamp < '" + since + "'"), 0u);
  EXPECT_EQ(count(recent, "SELECT count(*) FROM spans"), 2u);

  const std::string none = export_db("none.db", {"--message", "no such message"});
  EXPECT_EQ(count(none, "SELECT count(*) FROM events"), 0u);
  EXPECT_EQ(count(none, "SELECT count(*) FROM spans"), 0u);
}

TEST_F(SqliteExportTest, ReplacesAnExistingFile) {
  const std::string db = scratch_.path() + "/again.db";
  std::ofstream(db) << "not a database";
  export_db("again.db", {"--service", "handmade"});
  EXPECT_EQ(count(db, "SELECT count(*) FROM events"), 7u);
  export_db("again.db", {"--where", "tool=grep"});
  EXPECT_EQ(count(db, "SELECT count(*) FROM events"), 7u);
  EXPECT_EQ(std::distance(fs::directory_iterator(scratch_.path()), fs::directory_iterator()), 1);
}

TEST_F(SqliteExportTest, ExitCodesAndNoPartialFile) {
  const auto one_error_line = [](const Result& result) {
    EXPECT_EQ(result.err.rfind("ringtail: ", 0), 0u) << result.err;
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
    EXPECT_EQ(result.out, "");
  };
  const auto leftovers = [this] {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(scratch_.path())) names.push_back(entry.path().filename());
    std::sort(names.begin(), names.end());
    return names;
  };

  Result r = run({"export", store(), "--format", "sqlite"});
  EXPECT_EQ(r.code, 2) << r.err;
  one_error_line(r);
  r = run({"export", store(), "--format", "sqlite", "-o", "-"});
  EXPECT_EQ(r.code, 2) << r.err;
  one_error_line(r);
  EXPECT_TRUE(leftovers().empty());

  // The directory of FILE is missing, or is a file.
  r = run({"export", store(), "--format", "sqlite", "-o", scratch_.path() + "/no/such/dir/x.db"});
  EXPECT_EQ(r.code, 1) << r.err;
  one_error_line(r);
  std::ofstream(scratch_.path() + "/plain") << "x";
  r = run({"export", store(), "--format", "sqlite", "-o", scratch_.path() + "/plain/x.db"});
  EXPECT_EQ(r.code, 1) << r.err;
  one_error_line(r);
  EXPECT_EQ(leftovers(), std::vector<std::string>{"plain"});

  // FILE is a directory: the whole export is written, then cannot take its
  // place; the temporary file is removed and the directory left as it was.
  fs::create_directory(scratch_.path() + "/taken.db");
  std::ofstream(scratch_.path() + "/taken.db/inside") << "x";
  r = run({"export", store(), "--format", "sqlite", "-o", scratch_.path() + "/taken.db"});
  EXPECT_EQ(r.code, 1) << r.err;
  one_error_line(r);
  EXPECT_NE(r.err.find("taken.db"), std::string::npos) << r.err;
  EXPECT_EQ(leftovers(), (std::vector<std::string>{"plain", "taken.db"}));
  EXPECT_TRUE(fs::is_directory(scratch_.path() + "/taken.db"));
  EXPECT_TRUE(fs::exists(scratch_.path() + "/taken.db/inside"));

  r = run({"export", "--help"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("sqlite"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("json"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace ringtail::reader
