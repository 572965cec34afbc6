// `ringtail query|stats|report|export --engine clickhouse://...` against a real
// ClickHouse server (Debian's clickhouse-server, clickhouse_server.hpp):
//
//   * the SQL translation, over rows built here from hand-written lines
//     (each line's keys, values and paths as the sink stores them): every
//     --where, level, time and equality condition, and stats and report
//     --cost, compared with what the directory code (Filter::matches,
//     StatsAccumulator, CostAccumulator) answers for the same lines;
//   * hostile values that must stay data, never SQL;
//   * the equality test: a producer workload drained once into both a
//     directory and ClickHouse (`drain --once --out DIR --sink URI`), then the
//     same questions asked of both through the CLI, with byte-equal stdout
//     (query, stats, report --cost, and export in every format);
//   * exit status and message for a server that cannot be reached and a bad
//     URI.
//
// A missing clickhouse-server is a failure (scripts/install-deps.sh installs
// it), as is a missing ringtail binary.
#include <gtest/gtest.h>
#include <simdjson.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "clickhouse_server.hpp"
#include "producer_child.hpp"
#include "ringtail/agent.hpp"
#include "ringtail/reader/clickhouse/clickhouse_client.hpp"
#include "ringtail/reader/clickhouse/clickhouse_query.hpp"
#include "ringtail/reader/clickhouse/clickhouse_table.hpp"
#include "ringtail/reader/clickhouse/clickhouse_where.hpp"
#include "ringtail/reader/output/json_text.hpp"
#include "ringtail/reader/output/time_text.hpp"
#include "ringtail/reader/query/cost.hpp"
#include "ringtail/reader/query/filter.hpp"
#include "ringtail/reader/query/json_value.hpp"
#include "ringtail/reader/query/parsed_line.hpp"
#include "ringtail/reader/query/stats.hpp"
#include "ringtail/reader/storage/store_names.hpp"
#include "ringtail/ringtail.hpp"
#include "subprocess.hpp"

namespace ringtail::reader {
namespace {

namespace fs = std::filesystem;
using ringtail::test::ClickHouseServer;
using ringtail::test::ProducerChild;
using ringtail::test::Result;
using ringtail::test::run;

// --- Rows as the sink stores them --------------------------------------------------

// The end of the JSON value at `pos` in a compact, valid JSON text.
size_t value_end(std::string_view text, size_t pos) {
  if (text[pos] == '"') {
    for (size_t i = pos + 1;; ++i) {
      if (text[i] == '\\') {
        ++i;
      } else if (text[i] == '"') {
        return i + 1;
      }
    }
  }
  if (text[pos] == '{' || text[pos] == '[') {
    int depth = 0;
    for (size_t i = pos;; ++i) {
      if (text[i] == '"') {
        i = value_end(text, i) - 1;
      } else if (text[i] == '{' || text[i] == '[') {
        ++depth;
      } else if ((text[i] == '}' || text[i] == ']') && --depth == 0) {
        return i + 1;
      }
    }
  }
  size_t i = pos;
  while (i < text.size() && text[i] != ',' && text[i] != '}' && text[i] != ']') ++i;
  return i;
}

// The members of a compact JSON object text: (key as written, value as written).
std::vector<std::pair<std::string, std::string>> members(std::string_view object) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t pos = 1;
  while (pos < object.size() && object[pos] != '}') {
    const size_t key_end = value_end(object, pos);
    std::string key(object.substr(pos + 1, key_end - pos - 2));
    const size_t value_start = key_end + 1;  // after ':'
    const size_t end = value_end(object, value_start);
    out.emplace_back(std::move(key), std::string(object.substr(value_start, end - value_start)));
    pos = end + (end < object.size() && object[end] == ',' ? 1 : 0);
  }
  return out;
}

void collect_paths(const std::string& prefix, std::string_view object, int depth,
                   std::vector<std::pair<std::string, std::string>>& paths) {
  for (const auto& [key, value] : members(object)) {
    if (key.find('.') != std::string::npos) continue;
    std::string path = prefix;
    path += ".";
    path += key;
    paths.emplace_back(path, value);
    if (value.front() == '{' && depth < 16) collect_paths(path, value, depth + 1, paths);
  }
}

void append_string_array(std::string& out, const std::vector<std::string>& items) {
  out.push_back('[');
  for (size_t i = 0; i < items.size(); ++i) {
    if (i != 0) out.push_back(',');
    append_json_string(out, items[i]);
  }
  out.push_back(']');
}

// One JSONEachRow row of the table for a canonical line (the columns of
// clickhouse_table.hpp, filled as clickhouse_rows.cpp fills them).
std::string table_row(const std::string& line, const std::string& host) {
  simdjson::dom::parser parser;
  const simdjson::dom::element element = parser.parse(line).value();
  std::vector<std::string> keys;
  std::vector<std::string> values;
  std::vector<std::pair<std::string, std::string>> paths;
  for (const auto& [key, value] : members(line)) {
    keys.push_back(key);
    values.push_back(value);
    if (value.front() == '{' && key.find('.') == std::string::npos) collect_paths(key, value, 1, paths);
  }
  const std::string_view timestamp = element["timestamp"].get_string().value();
  const int64_t time_ns = timestamp_ns(timestamp).value();
  const std::string_view level = element["level"].get_string().value();
  const bool has_seq = element["seq"].error() == simdjson::SUCCESS;
  const bool has_tid = element["tid"].error() == simdjson::SUCCESS;
  const char* classes[] = {"debug", "info", "warn", "error"};
  std::string row = "{\"time\":" + std::to_string(time_ns / 1000000000) + ",\"time_ns\":" + std::to_string(time_ns);
  row += ",\"level\":";
  append_json_string(row, level);
  row += ",\"level_class\":\"";
  row += classes[static_cast<int>(level_class_of(level))];
  row += "\",\"kind\":\"";
  row += has_seq ? "event" : "note";
  row += "\",\"message\":";
  append_json_string(row, element["message"].get_string().value());
  row += ",\"service\":";
  append_json_string(row, element["service"].get_string().value());
  row += ",\"host\":";
  append_json_string(row, host);
  row += ",\"pid\":" + std::to_string(element["pid"].get_uint64().value());
  row += ",\"process_start\":1";
  row += ",\"tid\":" + std::to_string(has_tid ? element["tid"].get_uint64().value() : 0);
  row += ",\"seq\":" + std::to_string(has_seq ? element["seq"].get_uint64().value() : 0);
  row += ",\"line_hash\":" + std::to_string(has_seq ? 0 : line_hash(line));
  row += ",\"trace_id\":\"\",\"span_id\":\"\",\"keys\":";
  append_string_array(row, keys);
  row += ",\"values\":";
  append_string_array(row, values);
  std::vector<std::string> path_names;
  std::vector<std::string> path_values;
  for (const auto& [path, value] : paths) {
    path_names.push_back(path);
    path_values.push_back(value);
  }
  row += ",\"paths\":";
  append_string_array(row, path_names);
  row += ",\"path_values\":";
  append_string_array(row, path_values);
  row += "}";
  return row;
}

// A canonical line of the corpus: head keys, then `fields` (JSON members).
std::string corpus_line(int i, std::string_view level, std::string_view message, std::string_view fields,
                        std::string_view service = "svc", int pid = 42, bool event = true) {
  std::string line = "{\"timestamp\":";
  append_json_string(line, format_timestamp(int64_t{1795899600} * 1000000000 + int64_t{i} * 1000000123));
  line += ",\"level\":";
  append_json_string(line, level);
  line += ",\"message\":";
  append_json_string(line, message);
  line += ",\"service\":";
  append_json_string(line, service);
  line += ",\"pid\":" + std::to_string(pid) + ",\"tid\":7";
  if (event) line += ",\"seq\":" + std::to_string(i + 1);
  if (!fields.empty()) line += "," + std::string(fields);
  line += "}";
  return line;
}

// Lines with every kind of value the operators meet (some number texts are
// not canonical on purpose: numbers compare by value whatever their text).
std::vector<std::string> where_corpus() {
  const std::vector<std::string_view> fields = {
      R"("n":42)",
      R"("n":42.0)",
      R"("n":4.2e1)",
      R"("n":"42")",
      R"("n":9007199254740993)",
      R"("n":9007199254740992)",
      R"("n":9007199254740993.0)",
      R"("n":18446744073709551615)",
      R"("n":-9223372036854775808)",
      R"("n":0.1)",
      R"("n":0.30000000000000004)",
      R"("n":0.3)",
      R"("n":-0)",
      R"("n":5e-324)",
      R"("n":1.7976931348623157e+308)",
      R"("n":2.5,"s":"quote\" back\\ nl\n ctl\u0001 tab\t café")",
      R"("n":null,"s":"café")",
      R"("n":true,"s":"")",
      R"("n":{"a":1},"s":"a.b")",
      R"("n":[1,2],"s":"line1\nline2")",
      R"("a.b":1,"a":{"b":2,"c":{"d":"deep"}})",
      R"("a":{"b":3},"error":{"type":"Timeout","message":"no answer","code":504})",
      R"("\"q\"":1,"we'ird":"x'; DROP TABLE rt.events; --","café":1)",
      R"("s":"'; DROP TABLE rt.events; --","status":"SUCCESS","duration_ms":12.5)",
      R"("status":"FAILURE","duration_ms":3,"allow":true)",
      R"("allow":false,"decision":"ALLOW","duration_ms":0.25)",
      R"("decision":"BLOCK","status":"WEIRD","duration_ms":1000)",
      R"("decision":"WARN","duration_ms":-1.5,"n":1e+16)",
      R"("n":10000000000000000,"s":"back\\slash'quote")",
      R"("n":1.5e-7,"x'y":1)",
      R"("z":"a\u0000b","k\u0001":1,"n":-1.5e-7)",
  };
  std::vector<std::string> lines;
  for (size_t i = 0; i < fields.size(); ++i) {
    const char* levels[] = {"INFO", "DEBUG", "WARN", "ERROR", "TRACE", "CRITICAL"};
    lines.push_back(corpus_line(static_cast<int>(i), levels[i % 6], i % 4 == 0 ? "tool" : "m'sg \"x\"", fields[i],
                                i % 3 == 0 ? "other" : "svc", i % 5 == 0 ? 43 : 42));
  }
  const int next = static_cast<int>(lines.size());
  lines.push_back(
      corpus_line(next, "WARN", "ringtail.dropped", R"("dropped":3,"first_seq":1,"last_seq":3)", "svc", 42, false));
  lines.push_back(corpus_line(next + 1, "OFF", "tool", R"("n":7)"));
  lines.push_back(corpus_line(next + 2, "INFO", "tool", R"("host":"line-host","n":8)"));
  return lines;
}

// --- The fixture: one server for the suite ---------------------------------------

class ClickHouseEngineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char dir_template[] = "/tmp/ringtail-ch-engine-XXXXXX";
    ASSERT_NE(::mkdtemp(dir_template), nullptr);
    dir_ = new fs::path(dir_template);
    server_ = new ClickHouseServer(*dir_ / "clickhouse");
    std::string error;
    ASSERT_TRUE(server_->start(&error)) << error;
    ASSERT_TRUE(server_->query("CREATE DATABASE IF NOT EXISTS rt")) << server_->last_error();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    std::error_code ec;
    if (dir_ != nullptr) fs::remove_all(*dir_, ec);
    delete dir_;
    dir_ = nullptr;
  }

  void SetUp() override { ASSERT_NE(server_, nullptr); }

  static ClickHouseTarget target(const std::string& table) {
    ClickHouseTarget t = parse_clickhouse_uri(server_->uri("rt", "?table=" + table), "--engine").value();
    return t;
  }

  // A fresh table holding `lines` (host column "h1").
  static void fill(const std::string& table, const std::vector<std::string>& lines) {
    ASSERT_TRUE(server_->query("DROP TABLE IF EXISTS rt." + table)) << server_->last_error();
    ASSERT_TRUE(server_->query(create_table_sql(target(table)))) << server_->last_error();
    // In statements of at most 64 KiB: one argument of clickhouse-client may
    // hold no more than 128 KiB (MAX_ARG_STRLEN).
    std::string rows;
    for (size_t i = 0; i < lines.size(); ++i) {
      rows += table_row(lines[i], "h1") + "\n";
      if (rows.size() < (64 << 10) && i + 1 < lines.size()) continue;
      ASSERT_TRUE(server_->query("INSERT INTO rt." + table + " FORMAT JSONEachRow " + rows)) << server_->last_error();
      rows.clear();
    }
  }

  // The lines ClickHouse gives for `filter`.
  static std::vector<std::string> engine_lines(const std::string& table, const Filter& filter, uint64_t limit = 0) {
    ClickHouseQuery query(target(table));
    std::vector<std::string> out;
    const absl::Status status = query.scan(filter, limit, [&](std::string_view raw, simdjson::dom::element) {
      out.emplace_back(raw);
      return true;
    });
    EXPECT_TRUE(status.ok()) << status.message() << "\n" << query.scan_sql(filter, limit);
    return out;
  }

  // The lines the directory's filter keeps, in order.
  static std::vector<std::string> directory_lines(const std::vector<std::string>& lines, const Filter& filter) {
    simdjson::dom::parser parser;
    std::vector<std::string> out;
    for (const std::string& line : lines) {
      if (filter.matches(parser.parse(line).value())) out.push_back(line);
    }
    return out;
  }

  static fs::path* dir_;
  static ClickHouseServer* server_;
};

fs::path* ClickHouseEngineTest::dir_ = nullptr;
ClickHouseServer* ClickHouseEngineTest::server_ = nullptr;

Filter filter_of(const std::vector<std::string>& wheres) {
  Filter filter;
  for (const std::string& where : wheres) filter.add(parse_where(where).value());
  return filter;
}

// --- --where ------------------------------------------------------------------------------

TEST_F(ClickHouseEngineTest, EveryWhereClauseKeepsWhatTheDirectoryKeeps) {
  const std::vector<std::string> lines = where_corpus();
  fill("where_corpus", lines);
  const std::vector<std::string> wheres = {
      // Numbers by value: 42, 42.0 and 4.2e1 are one number, never the string "42".
      "n=42", "n=42.0", "n=4.2e1", "n=\"42\"", "n!=42", "n>41", "n>=42", "n<42", "n<=42", "n>42",
      // Past 2^53: integers exact; a double text is the double it reads as.
      "n=9007199254740993", "n=9007199254740992", "n=9007199254740993.0", "n>9007199254740992", "n<9007199254740993",
      "n>=9007199254740993", "n=18446744073709551615", "n>18446744073709551614", "n<-9223372036854775807",
      "n=-9223372036854775808", "n=1e16", "n=10000000000000000", "n>9999999999999999",
      // Doubles: neighbours apart, zero's signs, the extremes.
      "n=0.1", "n>0.1", "n<0.3", "n<=0.3", "n>0.3", "n=0.30000000000000004", "n>=0.30000000000000004", "n=0", "n=-0",
      "n<0", "n>=0", "n<=-0.0", "n=5e-324", "n>0", "n<1e-323", "n=1.7976931348623157e308", "n>1e308", "n<-1e308",
      "n=2.5", "n>2", "n<3", "n=1.5e-7", "n>1.4999999999999999e-7", "n<0.00000015000000000000001",
      // null, booleans, presence.
      "n=null", "n!=null", "n=true", "n=false", "n!=true", "n exists", "missing=null", "missing!=1", "missing exists",
      "missing!=null",
      // Strings: escapes, byte order, RE2 (unanchored; '.' does not match '\n').
      "s=café", R"(s="quote\" back\\ nl\n ctl\u0001 tab\t café")", R"(s<"b")", R"(s>="quote")", "s~é",
      "s~^quote.*café$", "s~(?s)^quote.*café$", R"(s~"\\\\")", R"(s~"\n")", "s~^$", R"(s="")", "s~line2", "s~^line1$",
      "s~(?m)^line2$", R"(s>"")", R"(s<="a.b")", "n~4",
      // Dotted keys: the top-level key first, then the path; quoted keys are top-level only.
      "a.b=1", "a.b=2", "a.b=3", "a.b exists", R"("a.b"=2)", R"("a.b"=1)", "a.c.d=deep", "a.c.d~ee", "a.c exists",
      "error.code=504", "error.code>500", "error.type=Timeout", "error exists", "error.stack exists",
      // Keys and values that are SQL's delimiters.
      R"("\"q\""=1)", R"("we'ird"="x'; DROP TABLE rt.events; --")", "we'ird~DROP", R"(s="'; DROP TABLE rt.events; --")",
      R"x(s~"'\\)")x", R"("x'y"=1)", "s='", R"(s="back\\slash'quote")", R"(s~"\\\\slash'")", R"("caf\u00e9"=1)",
      "café=1", R"(z="a\u0000b")", R"(z<"a\u0001")", R"(z>"a")", "z~b$", R"(z~"a\\x00b")", R"("k\u0001"=1)",
      "n>-1.5e-7", "n>=-1.5e-7", "n<-1.4e-7",
      // Escapes ClickHouse's literal prefilter misreads; alternatives keep (?-s).
      R"(s~"\\x41|caf\\xc3\\xa9")", R"(s~"b\\x61ck")", R"(s~"\\143af")", R"(s~"\\Qa.b")", R"(s~"^line1.line2|x.y")",
      R"(s~"(?i)CAF")", R"(s~"\\pL\\x00")", R"(message~"\\x27sg")",
      // The agent keys, the head keys.
      "status=SUCCESS", "status!=SUCCESS", "duration_ms>=3", "duration_ms<0", "duration_ms=1000", "allow=false",
      "allow=\"false\"", "decision~^(ALLOW|BLOCK)$", "message=ringtail.dropped", R"(message~^ringtail\.)", "message~'",
      R"(message="m'sg \"x\"")", "level=WARN", R"(level>"E")", R"(timestamp>="2026-11-28T17:00:10")", "pid=43",
      "pid>42", "pid=43.0", "seq<3", "seq exists", "tid=7", "service=other", "service~^o", R"(service!="svc")",
      "dropped>=3"};
  size_t kept_some = 0;
  for (const std::string& where : wheres) {
    const Filter filter = filter_of({where});
    const std::vector<std::string> expected = directory_lines(lines, filter);
    EXPECT_EQ(engine_lines("where_corpus", filter), expected) << "--where " << where << "\n"
                                                              << clickhouse_where(filter);
    if (!expected.empty() && expected.size() < lines.size()) ++kept_some;
  }
  // Not vacuous: most clauses keep some lines and drop others.
  EXPECT_GT(kept_some, wheres.size() * 2 / 3);
  // A hostile value is data: the table is still there, whole.
  EXPECT_EQ(server_->query("SELECT count() FROM rt.where_corpus FINAL"), std::to_string(lines.size()) + "\n");
}

TEST_F(ClickHouseEngineTest, LevelTimeAndEqualityFlagsKeepWhatTheDirectoryKeeps) {
  const std::vector<std::string> lines = where_corpus();
  fill("flags_corpus", lines);
  const int64_t base = int64_t{1795899600} * 1000000000;
  std::vector<std::pair<std::string, Filter>> filters;
  for (const shm::Level level : {shm::Level::kTrace, shm::Level::kInfo, shm::Level::kWarn, shm::Level::kCritical}) {
    Filter filter;
    filter.set_min_level(level);
    filters.emplace_back("--level " + std::string(shm::kLevelNames[static_cast<size_t>(level)]), filter);
  }
  {
    Filter filter;
    filter.set_since(base + int64_t{5} * 1000000123);   // a line's own time: inclusive
    filter.set_until(base + int64_t{12} * 1000000123);  // exclusive
    filters.emplace_back("--since/--until at line times", filter);
  }
  {
    Filter filter;
    filter.set_since(base + int64_t{5} * 1000000123 + 1);
    filters.emplace_back("--since 1 ns after a line", filter);
  }
  {
    Filter filter;
    filter.set_until(base - 1);
    filters.emplace_back("--until before everything", filter);
  }
  {
    Filter filter;
    filter.add(WhereClause::equals("message", std::string("m'sg \"x\"")));
    filter.add(WhereClause::equals("service", std::string("svc")));
    filter.add(WhereClause::equals("pid", uint64_t{42}));
    filter.set_min_level(shm::Level::kDebug);
    filters.emplace_back("--message --service --pid --level", filter);
  }
  {
    Filter filter;
    filter.add(WhereClause::equals("pid", uint64_t{1} << 40));
    filters.emplace_back("--pid beyond UInt32", filter);
  }
  {
    Filter filter;
    filter.add(WhereClause::equals("service", std::string("sv\xff")));  // not UTF-8: no line has it
    filters.emplace_back("--service not UTF-8", filter);
  }
  for (const auto& [what, filter] : filters) {
    EXPECT_EQ(engine_lines("flags_corpus", filter), directory_lines(lines, filter)) << what << "\n"
                                                                                    << clickhouse_where(filter);
  }
  EXPECT_EQ(engine_lines("flags_corpus", Filter(), 3), std::vector<std::string>(lines.begin(), lines.begin() + 3));
}

TEST_F(ClickHouseEngineTest, HostNamesTheColumnWhenTheLineHasNoHostKey) {
  const std::vector<std::string> lines = where_corpus();
  fill("host_corpus", lines);
  // Every line but the one with its own "host" key is on host h1.
  EXPECT_EQ(engine_lines("host_corpus", filter_of({"host=h1"})).size(), lines.size() - 1);
  EXPECT_EQ(engine_lines("host_corpus", filter_of({"host=line-host"})), std::vector<std::string>{lines.back()});
  EXPECT_EQ(engine_lines("host_corpus", filter_of({"host exists"})).size(), lines.size());
  ClickHouseQuery query(target("host_corpus"));
  StatsOptions options;
  options.by = {"host"};
  const StatsResult stats = query.stats(Filter(), options).value();
  ASSERT_EQ(stats.groups.size(), 2u);
  EXPECT_EQ(stats.groups[0].key, std::vector<std::string>{"\"h1\""});
  EXPECT_EQ(stats.groups[1].key, std::vector<std::string>{"\"line-host\""});
}

TEST_F(ClickHouseEngineTest, ScanStopsWhenTheCallbackSaysSo) {
  const std::vector<std::string> lines = where_corpus();
  fill("stop_corpus", lines);
  ClickHouseQuery query(target("stop_corpus"));
  std::vector<std::string> seen;
  const absl::Status status = query.scan(Filter(), 0, [&](std::string_view raw, simdjson::dom::element) {
    seen.emplace_back(raw);
    return seen.size() < 4;
  });
  EXPECT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(seen, std::vector<std::string>(lines.begin(), lines.begin() + 4));
}

// --- stats -----------------------------------------------------------------------------------

void expect_same_stats(const StatsResult& engine, const StatsResult& directory, const std::string& what) {
  EXPECT_EQ(engine.total, directory.total) << what;
  EXPECT_EQ(engine.span_s, directory.span_s) << what;
  EXPECT_EQ(engine.first_timestamp, directory.first_timestamp) << what;
  EXPECT_EQ(engine.last_timestamp, directory.last_timestamp) << what;
  ASSERT_EQ(engine.groups.size(), directory.groups.size()) << what;
  for (size_t i = 0; i < engine.groups.size(); ++i) {
    const GroupStats& e = engine.groups[i];
    const GroupStats& d = directory.groups[i];
    const std::string where = what + ", group " + std::to_string(i);
    EXPECT_EQ(e.key, d.key) << where;
    EXPECT_EQ(e.count, d.count) << where;
    EXPECT_EQ(e.share, d.share) << where;
    EXPECT_EQ(e.rate_per_s, d.rate_per_s) << where;
    EXPECT_EQ(e.first_timestamp, d.first_timestamp) << where;
    EXPECT_EQ(e.last_timestamp, d.last_timestamp) << where;
    EXPECT_EQ(e.outcomes, d.outcomes) << where;
    EXPECT_EQ(e.successes, d.successes) << where;
    EXPECT_EQ(e.success_rate, d.success_rate) << where;
    EXPECT_EQ(e.duration_count, d.duration_count) << where;
    // The values here are exact in any decimal reader: the average is too.
    EXPECT_EQ(e.duration_avg, d.duration_avg) << where;
    EXPECT_EQ(e.duration_p50, d.duration_p50) << where;
    EXPECT_EQ(e.duration_p95, d.duration_p95) << where;
    EXPECT_EQ(e.duration_p99, d.duration_p99) << where;
    EXPECT_EQ(e.duration_max, d.duration_max) << where;
    EXPECT_EQ(e.most_common, d.most_common) << where;
    EXPECT_EQ(e.most_common_count, d.most_common_count) << where;
  }
}

// Whether `line` is in the reader's canonical form: the directory's stats
// keys are values written again in that form (json_value.hpp), the table's
// the stored texts; they are the same text only for canonical lines (which
// are all the reader writes).
bool is_canonical(const std::string& line) {
  simdjson::dom::parser parser;
  return json_value_text(parser.parse(line).value()) == line;
}

std::vector<std::string> stats_corpus() {
  std::vector<std::string> lines;
  for (std::string& line : where_corpus()) {
    if (is_canonical(line)) lines.push_back(std::move(line));
  }
  // Durations for the percentiles: 1..40 ms and some doubles, in three tools.
  for (int i = 0; i < 60; ++i) {
    std::string fields = R"("tool":")" +
                         std::string(i % 3 == 0   ? "read"
                                     : i % 3 == 1 ? "write"
                                                  : "run") +
                         R"(","duration_ms":)" + (i % 7 == 0 ? std::to_string(i) + ".5" : std::to_string(i % 41)) +
                         R"(,"status":")" + (i % 5 == 0 ? "FAILURE" : "SUCCESS") + R"(","user":"u)" +
                         std::to_string(i % 4) + R"(","nested":{"k":)" + std::to_string(i % 2) + "}";
    lines.push_back(corpus_line(100 + i, "INFO", "step.end", fields, i % 2 == 0 ? "svc" : "other", 42 + i % 3));
  }
  return lines;
}

TEST_F(ClickHouseEngineTest, StatsEqualTheAccumulators) {
  const std::vector<std::string> lines = stats_corpus();
  fill("stats_corpus", lines);
  struct Question {
    std::vector<std::string> by;
    std::string duration;
    std::string most_common;
    size_t top = 0;
    std::vector<std::string> where;
  };
  const std::vector<Question> questions = {
      {{}, "", "", 0, {}},
      {{"tool"}, "duration_ms", "user", 0, {}},
      {{"tool", "status"}, "duration_ms", "", 0, {}},
      {{"n"}, "", "s", 0, {}},
      {{"nested.k"}, "duration_ms", "tool", 0, {}},
      {{"a.b"}, "", "", 0, {}},
      {{"service", "pid"}, "duration_ms", "status", 2, {}},
      {{"tool"}, "duration_ms", "user", 1, {"duration_ms>10"}},
      {{"user"}, "", "", 0, {"tool=nothing"}},
      {{}, "duration_ms", "tool", 0, {"message=step.end"}},
  };
  for (const Question& q : questions) {
    StatsOptions options;
    options.by = q.by;
    options.duration_field = q.duration;
    options.most_common_key = q.most_common;
    const Filter filter = filter_of(q.where);
    StatsAccumulator accumulator(options);
    simdjson::dom::parser parser;
    for (const std::string& line : lines) {
      const simdjson::dom::element element = parser.parse(line).value();
      if (filter.matches(element)) accumulator.add(element);
    }
    ClickHouseQuery query(target("stats_corpus"));
    absl::StatusOr<StatsResult> engine = query.stats(filter, options, q.top);
    ASSERT_TRUE(engine.ok()) << engine.status().message() << "\n" << query.stats_sql(filter, options, q.top);
    std::string what = "--by";
    for (const std::string& by : q.by) what += " " + by;
    expect_same_stats(*engine, accumulator.finish(q.top),
                      what + " --duration " + q.duration + " --top " + std::to_string(q.top));
  }
}

// --- report --cost -----------------------------------------------------------------------

// Percentiles where the values' Float64 readings cannot order them: each
// group holds clusters of values a few units in the last place apart
// (neighbouring doubles, which ClickHouse 18.16 may misread by one unit,
// and distinct integers above 2^53 that all read as one double), stored in
// descending order, so that every rank lands in such a cluster and its
// value must come from the exact ordering inside it (and the right count of
// the values below it). The nearest-rank values must be the directory's.
TEST_F(ClickHouseEngineTest, PercentilesAreExactWhereFloat64CannotOrderTheValues) {
  std::vector<std::string> lines;
  uint64_t state = 12345;
  const auto next_random = [&state] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return state >> 11;
  };
  int i = 0;
  for (int group = 0; group < 40; ++group) {
    for (int cluster = 0; cluster < 12; ++cluster) {
      std::vector<std::string> texts;
      if (cluster % 2 == 0) {
        const uint64_t base = (uint64_t{1} << 60) + (next_random() % 1000000) * 1024;
        for (uint64_t j = 5; j-- > 0;) texts.push_back(std::to_string(base + j));  // one double for all five
      } else {
        const double v = 1 + static_cast<double>(next_random() % 1000000000) / 1000.0;
        const double above = std::nextafter(v, 1e9);
        const double below = std::nextafter(v, 0.0);
        for (const double d : {std::nextafter(above, 1e9), above, v, below, std::nextafter(below, 0.0)}) {
          char text[32];
          const std::to_chars_result end = std::to_chars(text, text + sizeof text, d);  // shortest round trip
          texts.emplace_back(text, end.ptr);
        }
      }
      for (const std::string& text : texts) {
        lines.push_back(
            corpus_line(i++, "INFO", "step.end", R"("group":)" + std::to_string(group) + R"(,"duration_ms":)" + text));
      }
    }
  }
  fill("misread", lines);
  StatsOptions options;
  options.by = {"group"};
  options.duration_field = "duration_ms";
  StatsAccumulator accumulator(options);
  simdjson::dom::parser parser;
  for (const std::string& line : lines) accumulator.add(parser.parse(line).value());
  const StatsResult directory = accumulator.finish();

  ClickHouseQuery query(target("misread"));
  absl::StatusOr<StatsResult> engine = query.stats(Filter(), options);
  ASSERT_TRUE(engine.ok()) << engine.status().message();
  ASSERT_EQ(engine->groups.size(), directory.groups.size());
  for (size_t g = 0; g < directory.groups.size(); ++g) {
    const GroupStats& e = engine->groups[g];
    const GroupStats& d = directory.groups[g];
    EXPECT_EQ(e.key, d.key);
    EXPECT_EQ(e.duration_count, d.duration_count);
    EXPECT_EQ(e.duration_p50, d.duration_p50) << "group " << d.key[0];
    EXPECT_EQ(e.duration_p95, d.duration_p95) << "group " << d.key[0];
    EXPECT_EQ(e.duration_p99, d.duration_p99) << "group " << d.key[0];
    EXPECT_EQ(e.duration_max, d.duration_max) << "group " << d.key[0];
  }
}

TEST_F(ClickHouseEngineTest, CostEqualsTheAccumulatorDigitForDigit) {
  // cost_usd texts at Decimal::parse's edges: exponents, rounding half to
  // even at the 18th digit, the 37-digit bound, values that are no number.
  const std::vector<std::string> costs = {"0.015394999999999999",
                                          "0.1",
                                          "1e-05",
                                          "1.5E+2",
                                          "0.0000000000000000005",
                                          "0.0000000000000000015",
                                          "0.0000000000000000025",
                                          "0.00000000000000000251",
                                          "-0.5",
                                          "123456789012345678.5",
                                          "1e+19",
                                          "1e+18",
                                          "\"0.5\"",
                                          "null",
                                          "true",
                                          "0",
                                          "-0",
                                          "5e-324",
                                          "1e-1001",
                                          "3.0000000000000000004999",
                                          "7.0000000000000000015",
                                          "2.9999999999999999995",
                                          "-2.9999999999999999995",
                                          "99999999999999999999.5",
                                          "1234567890123456789",
                                          "0.000000000000000000999"};
  const std::vector<std::string> tokens = {R"("tokens":1000)",
                                           R"("tokens":"many","input_tokens":10,"output_tokens":5)",
                                           R"("input_tokens":7)",
                                           R"("tokens":1.5)",
                                           "",
                                           R"("output_tokens":2e3)"};
  std::vector<std::string> lines;
  for (size_t i = 0; i < costs.size(); ++i) {
    std::string fields = (i % 4 == 3 ? std::string()
                                     : R"("model":")" +
                                           std::string(i % 4 == 0   ? "gpt"
                                                       : i % 4 == 1 ? "claude"
                                                                    : "llama") +
                                           R"(",)") +
                         R"("cost_usd":)" + costs[i];
    if (!tokens[i % tokens.size()].empty()) fields += "," + tokens[i % tokens.size()];
    lines.push_back(corpus_line(static_cast<int>(i), "INFO", "llm.call", fields));
  }
  lines.push_back(corpus_line(90, "INFO", "no cost", R"("model":"gpt","tokens":5)"));
  fill("cost_corpus", lines);
  for (const std::vector<std::string>& by :
       {std::vector<std::string>{}, std::vector<std::string>{"model"}, std::vector<std::string>{"model", "tokens"}}) {
    CostAccumulator accumulator(by);
    simdjson::dom::parser parser;
    const Filter with_cost = filter_of({"cost_usd exists"});
    for (const std::string& line : lines) {
      const simdjson::dom::element element = parser.parse(line).value();
      if (with_cost.matches(element)) accumulator.add(line, element);
    }
    const CostReport expected = accumulator.finish();
    ClickHouseQuery query(target("cost_corpus"));
    absl::StatusOr<CostReport> engine = query.cost(Filter(), by);
    ASSERT_TRUE(engine.ok()) << engine.status().message() << "\n" << query.cost_sql(Filter(), by);
    EXPECT_EQ(engine->unreadable, expected.unreadable);
    EXPECT_EQ(engine->total.requests, expected.total.requests);
    EXPECT_EQ(engine->total.cost.exact(), expected.total.cost.exact());
    EXPECT_EQ(engine->total.tokens.exact(), expected.total.tokens.exact());
    ASSERT_EQ(engine->groups.size(), expected.groups.size());
    for (size_t i = 0; i < expected.groups.size(); ++i) {
      EXPECT_EQ(engine->groups[i].key, expected.groups[i].key) << i;
      EXPECT_EQ(engine->groups[i].requests, expected.groups[i].requests) << i;
      EXPECT_EQ(engine->groups[i].cost.exact(), expected.groups[i].cost.exact()) << i;
      EXPECT_EQ(engine->groups[i].tokens.exact(), expected.groups[i].tokens.exact()) << i;
    }
  }
  // Each cost alone, so that no sum hides a digit.
  for (size_t i = 0; i < costs.size(); ++i) {
    Filter one = filter_of({"seq=" + std::to_string(i + 1)});
    CostAccumulator accumulator({});
    simdjson::dom::parser parser;
    const simdjson::dom::element element = parser.parse(lines[i]).value();
    accumulator.add(lines[i], element);
    const CostReport expected = accumulator.finish();
    const CostReport engine = ClickHouseQuery(target("cost_corpus")).cost(one, {}).value();
    EXPECT_EQ(engine.total.cost.exact(), expected.total.cost.exact()) << costs[i];
    EXPECT_EQ(engine.total.tokens.exact(), expected.total.tokens.exact()) << costs[i];
    EXPECT_EQ(engine.unreadable, expected.unreadable) << costs[i];
  }
}

// --- The CLI: errors ----------------------------------------------------------------------

TEST_F(ClickHouseEngineTest, UnreachableServerAndBadUriAreOneLineErrors) {
  ASSERT_TRUE(ringtail::test::tool_built("ringtail"));
  // A port nothing listens on (the server's TCP port speaks no HTTP either,
  // so take a fresh one).
  const uint16_t closed = ringtail::test::free_loopback_port(SOCK_STREAM);
  const std::string unreachable = "clickhouse://127.0.0.1:" + std::to_string(closed) + "/rt";
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"query", "--engine", unreachable},
        std::vector<std::string>{"stats", "--engine", unreachable, "--by", "tool"},
        std::vector<std::string>{"report", "--engine", unreachable, "--cost"}}) {
    const Result r = run(args);
    EXPECT_EQ(r.code, 1) << args[0] << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find("ringtail: ClickHouse http://127.0.0.1:" + std::to_string(closed) + "/rt.events"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(r.out, "");
  }
  // A SQL error (no such table) is exit 1 with ClickHouse's first line.
  const Result missing = run({"stats", "--engine", server_->uri("rt", "?table=no_such_table")});
  EXPECT_EQ(missing.code, 1) << missing.err;
  EXPECT_NE(missing.err.find("no_such_table"), std::string::npos) << missing.err;
  EXPECT_EQ(std::count(missing.err.begin(), missing.err.end(), '\n'), 1) << missing.err;

  const std::string store = (*dir_ / "empty-store").string();
  fs::create_directories(store);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"query", "--engine", "clickhouse://127.0.0.1/"},
        std::vector<std::string>{"stats", "--engine", "http://127.0.0.1/rt"},
        std::vector<std::string>{"report", "--cost", "--engine", "clickhouse://127.0.0.1/rt?table=a;b"},
        std::vector<std::string>{"query", "--engine", "clickhouse://u:p@127.0.0.1/rt"},
        std::vector<std::string>{"query", store, "--engine", server_->uri("rt")}, std::vector<std::string>{"stats"}}) {
    const Result r = run(args);
    EXPECT_EQ(r.code, 2) << args[0] << " " << args.back() << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.err.find("p@"), std::string::npos) << "no password in messages: " << r.err;
  }
  for (const char* verb : {"query", "stats", "report"}) {
    const Result help = run({verb, "--help"});
    EXPECT_EQ(help.code, 0);
    EXPECT_NE(help.out.find("--engine"), std::string::npos) << verb;
  }
}

// --- The equality test ---------------------------------------------------------------------

// What a producer of the workload logs: agent steps with tools, statuses and
// durations, policy checks, LLM calls and costs, memory operations, errors
// with nested objects, spans, and values at the edges of JSON.
int log_workload(int seed) {
  constexpr std::string_view kTools[] = {"web_search", "read_file", "write_file", "run_code", "vector_recall"};
  constexpr std::string_view kModels[] = {"gpt-4o", "claude-sonnet", "llama-3-70b"};
  constexpr double kPrices[] = {0.005, 0.003, 0.0009};
  uint64_t state = 0x9E3779B97F4A7C15ULL * static_cast<uint64_t>(seed + 1);
  const auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  const std::string run_id = "run-" + std::to_string(seed);
  for (int i = 0; i < 120; ++i) {
    const size_t pick = next() % 5;
    const std::string_view tool = kTools[pick];
    const ringtail::ScopedContext context{ringtail::kv("user_id", "user-" + std::to_string(next() % 7))};
    ringtail::Span span("step", ringtail::kv("tool", tool));
    agent::step_start(run_id, i, tool);
    if (pick == 2 || pick == 3) {
      const uint64_t roll = next() % 10;
      const agent::Decision decision = roll == 0   ? agent::Decision::kBlock
                                       : roll == 1 ? agent::Decision::kWarn
                                                   : agent::Decision::kAllow;
      agent::policy_check(pick == 2 ? "fs.workspace_only" : "sandbox.no_network", "validator", decision,
                          decision == agent::Decision::kBlock ? "path \"outside\" the workspace" : "within policy");
    }
    const uint64_t roll = next() % 20;
    const agent::Status status = roll == 0   ? agent::Status::kFailure
                                 : roll == 1 ? agent::Status::kPartial
                                             : agent::Status::kSuccess;
    // Durations with long shortest texts (0.1 + 1/7 ...), and whole ones.
    const double duration =
        i % 9 == 0 ? static_cast<double>(next() % 50) : 0.1 + static_cast<double>(next() % 4000) / 7.0;
    agent::step_end(run_id, i, tool, status, duration);
    if (status == agent::Status::kFailure) span.set_status(ringtail::SpanStatus::kError);
    const size_t model = next() % 3;
    if (i % 3 == 0) {
      const int64_t input = static_cast<int64_t>(100 + next() % 3000);
      const int64_t output = static_cast<int64_t>(10 + next() % 900);
      agent::llm_call(kModels[model], input, output, static_cast<double>(input + output) * kPrices[model] / 1000,
                      0.5 + static_cast<double>(next() % 10000) / 13.0, model == 1 ? "anthropic" : "openai");
    }
    if (i % 4 == 1) {
      const int64_t tokens = static_cast<int64_t>(200 + next() % 4000);
      agent::cost(kModels[model], tokens, static_cast<double>(tokens) * kPrices[model] / 1000);
    }
    if (i % 5 == 2) {
      agent::memory_op(next() % 2 == 0 ? agent::MemoryOp::kRecall : agent::MemoryOp::kStore,
                       "user-" + std::to_string(next() % 7), "sess-" + std::to_string(seed), "e1,e2",
                       next() % 6 == 0 ? agent::Status::kFailure : agent::Status::kSuccess,
                       static_cast<double>(next() % 900) / 11.0);
    }
    if (i % 11 == 4) {
      RINGTAIL_ERROR("tool.error", ringtail::kv("tool", tool),
                     ringtail::kv("error", ringtail::error("Timeout", "no answer in 30 s", 504)));
    }
    if (i % 13 == 6) {
      RINGTAIL_WARN("odd values", ringtail::kv("note", "quote\" back\\ nl\n ctl\x01 café"),
                    ringtail::kv("bytes", std::numeric_limits<uint64_t>::max()), ringtail::kv("delta", int64_t{-3}),
                    ringtail::kv("ratio", 0.1f), ringtail::kv("zero", -0.0), ringtail::kv("big", 1e300));
    }
  }
  return 0;
}

TEST_F(ClickHouseEngineTest, EngineAnswersEqualTheDirectorysAnswers) {
  ASSERT_TRUE(ringtail::test::tool_built("ringtail"));
  const std::string store = (*dir_ / "equality-store").string();
  const std::string uri = server_->uri("rt", "?table=drained");
  ringtail::Options options = ringtail::test::small_producer_options("agent-a");
  options.ring_bytes = 1 << 20;
  options.max_callsites = 64;
  std::vector<std::unique_ptr<ProducerChild>> children;
  for (const char* service : {"agent-a", "agent-b", "tools \"x\""}) {
    options.service = service;
    const int seed = static_cast<int>(children.size());
    children.push_back(std::make_unique<ProducerChild>(
        ProducerChild::start(options, [seed](ProducerChild::Link&) { return log_workload(seed); })));
    ASSERT_TRUE(children.back()->ok()) << children.back()->error();
    ASSERT_EQ(children.back()->join(), 0);
  }
  std::vector<std::string> drain = {"drain", "--once", "--out", store, "--sink", uri, "--host-name", "test-host"};
  for (const auto& child : children) {
    drain.push_back("--pid");
    drain.push_back(std::to_string(child->pid()));
  }
  const Result drained = run(drain);
  ASSERT_EQ(drained.code, 0) << drained.err;

  // Both hold every line: the directory's count is ClickHouse's.
  const Result all = run({"query", store});
  ASSERT_EQ(all.code, 0) << all.err;
  const size_t line_count = static_cast<size_t>(std::count(all.out.begin(), all.out.end(), '\n'));
  ASSERT_GT(line_count, 1000u);
  EXPECT_EQ(server_->query("SELECT count() FROM rt.drained FINAL"), std::to_string(line_count) + "\n");

  // Times inside the data for --since / --until (and the pid of one child).
  std::vector<std::string> timestamps;
  {
    const Result times = run({"query", store, "--fields", "timestamp", "--format", "csv"});
    std::string_view rest = times.out;
    while (!rest.empty()) {
      const size_t end = rest.find("\r\n");
      timestamps.emplace_back(rest.substr(0, end));
      rest.remove_prefix(end + 2);
    }
  }
  ASSERT_GT(timestamps.size(), 100u);
  const std::string early = timestamps[timestamps.size() / 5];
  const std::string late = timestamps[timestamps.size() * 3 / 5];
  const std::string pid = std::to_string(children[1]->pid());

  using Args = std::vector<std::string>;
  const std::vector<std::pair<std::string, Args>> questions = {
      // query: filters, order, fields, formats, limits.
      {"query", {}},
      {"query", {"--where", "tool=write_file"}},
      {"query", {"--where", "duration_ms>50"}},
      {"query", {"--where", "duration_ms<=10.5", "--where", "duration_ms>=0.1"}},
      {"query", {"--where", "duration_ms<3"}},
      {"query", {"--where", "status!=SUCCESS"}},
      {"query", {"--where", "allow=false"}},
      {"query", {"--where", "decision~^(ALLOW|WARN)$"}},
      {"query", {"--where", "error.code=504"}},
      {"query", {"--where", "error exists", "--fields", "timestamp,error"}},
      {"query", {"--where", "cost_usd>=0.01"}},
      {"query", {"--where", "input_tokens<500"}},
      {"query", {"--where", R"(note~"\\\\")"}},
      {"query", {"--where", R"(note="quote\" back\\ nl\n ctl\u0001 café")"}},
      {"query", {"--where", "bytes=18446744073709551615"}},
      {"query", {"--where", "ratio=0.1"}},
      {"query", {"--where", "zero=0", "--where", "big>1e299"}},
      {"query", {"--where", "provider=null", "--where", "cost_usd exists"}},
      {"query", {"--where", "user_id~^user-[0-3]$", "--where", "span exists"}},
      {"query", {"--where", "reason~outside"}},
      {"query", {"--level", "WARN"}},
      {"query", {"--level", "error", "--format", "table"}},
      {"query", {"--message", "step.end", "--service", "agent-b"}},
      {"query", {"--service", "tools \"x\"", "--limit", "25"}},
      {"query", {"--pid", pid, "--where", "tool~file"}},
      {"query", {"--since", early, "--until", late}},
      {"query", {"--since", early, "--message", "cost"}},
      {"query", {"--fields", "timestamp,tool,duration_ms,status", "--format", "csv", "--where", "duration_ms>100"}},
      {"query", {"--format", "csv", "--limit", "30"}},
      {"query", {"--format", "table", "--limit", "20", "--message", "memory.op"}},
      {"query", {"--limit", "7", "--where", "tool=read_file"}},
      {"query", {"--fields", "message,service,pid,missing"}},
      // stats.
      {"stats", {}},
      {"stats", {"--by", "tool"}},
      {"stats", {"--by", "tool,status"}},
      {"stats", {"--message", "step.end", "--by", "tool", "--duration", "duration_ms"}},
      {"stats", {"--message", "llm.call", "--by", "model", "--duration", "duration_ms", "--most-common", "provider"}},
      {"stats", {"--message", "memory.op", "--by", "user_id", "--most-common", "operation"}},
      {"stats", {"--by", "service", "--top", "2"}},
      {"stats", {"--by", "service,pid", "--duration", "duration_ms", "--top", "2", "--most-common", "message"}},
      {"stats", {"--by", "error.type", "--most-common", "error.code"}},
      {"stats", {"--json", "--by", "tool", "--duration", "duration_ms", "--most-common", "status"}},
      {"stats", {"--since", early, "--until", late, "--by", "message"}},
      {"stats", {"--since", early, "--by", "message", "--json"}},
      {"stats", {"--level", "WARN", "--by", "message"}},
      {"stats", {"--where", "duration_ms>100", "--duration", "duration_ms", "--by", "service"}},
      {"stats", {"--by", "decision", "--where", "decision exists"}},
      {"stats", {"--message", "span.end", "--by", "span", "--duration", "duration_ms"}},
      {"stats", {"--by", "missing_key", "--duration", "missing_key"}},
      // report --cost.
      {"report", {"--cost"}},
      {"report", {"--cost", "--by", "model"}},
      {"report", {"--cost", "--by", "model", "--json"}},
      {"report", {"--cost", "--by", "service,model", "--since", early}},
      {"report", {"--cost", "--by", "message", "--json", "--where", "cost_usd<0.005"}},
  };
  size_t answered = 0;
  for (const auto& [verb, args] : questions) {
    Args over_directory = {verb, store};
    Args over_engine = {verb, "--engine", uri};
    over_directory.insert(over_directory.end(), args.begin(), args.end());
    over_engine.insert(over_engine.end(), args.begin(), args.end());
    const Result directory = run(over_directory);
    const Result engine = run(over_engine);
    std::string what = verb;
    for (const std::string& arg : args) what += " '" + arg + "'";
    ASSERT_EQ(directory.code, 0) << what << ": " << directory.err;
    EXPECT_EQ(engine.code, 0) << what << ": " << engine.err;
    EXPECT_EQ(engine.out, directory.out) << what;
    EXPECT_EQ(engine.err, directory.err) << what;
    if (std::count(directory.out.begin(), directory.out.end(), '\n') > 2) ++answered;
  }
  // The questions are not vacuous: most have answers of several lines.
  EXPECT_GT(answered, questions.size() * 3 / 4);

  // export: the same documents from both (json's exported_at aside: when
  // the export ran), and the same SQLite tables.
  const auto without_exported_at = [](std::string text) {
    const size_t at = text.rfind("\"exported_at\":\"");
    if (at != std::string::npos) text.erase(at, text.find('"', at + 15) + 1 - at);
    return text;
  };
  for (const Args& args : {Args{"--format", "json"}, Args{"--format", "json", "--where", "tool~file"},
                           Args{"--format", "chrome-trace"}, Args{"--format", "chrome-trace", "--since", early}}) {
    Args over_directory = {"export", store};
    Args over_engine = {"export", "--engine", uri};
    over_directory.insert(over_directory.end(), args.begin(), args.end());
    over_engine.insert(over_engine.end(), args.begin(), args.end());
    const Result directory = run(over_directory);
    const Result engine = run(over_engine);
    ASSERT_EQ(directory.code, 0) << args[1] << ": " << directory.err;
    EXPECT_EQ(engine.code, 0) << args[1] << ": " << engine.err;
    EXPECT_GT(directory.out.size(), 1000u) << args[1];
    EXPECT_EQ(without_exported_at(engine.out), without_exported_at(directory.out)) << args[1];
  }
  // report --html: the same figures from both. Lines arrive in another
  // order (the directory reads file after file), so what depends on it is
  // left out: sums of doubles (a tool's average, the cost per bucket) may
  // differ in their last bits, and equal timestamps may pick another example.
  const auto report_data = [&](const Args& source) {
    Args args = {"report"};
    args.insert(args.end(), source.begin(), source.end());
    for (const char* arg : {"--html", "-o", "-"}) args.emplace_back(arg);
    const Result page = run(args);
    EXPECT_EQ(page.code, 0) << page.err;
    const std::string open = "id=\"ringtail-data\">";
    const size_t begin = page.out.find(open);
    const size_t end = page.out.find("</script>", begin);
    EXPECT_NE(begin, std::string::npos);
    return begin == std::string::npos ? std::string() : page.out.substr(begin + open.size(), end - begin - open.size());
  };
  const std::string directory_report = report_data({store});
  const std::string engine_report = report_data({"--engine", uri});
  simdjson::dom::parser directory_parser, engine_parser;
  simdjson::dom::element directory_data, engine_data;
  ASSERT_EQ(directory_parser.parse(directory_report).get(directory_data), simdjson::SUCCESS) << directory_report;
  ASSERT_EQ(engine_parser.parse(engine_report).get(engine_data), simdjson::SUCCESS) << engine_report;
  EXPECT_EQ(directory_data["overview"]["events"].get_uint64().value_unsafe(), line_count);
  for (const char* pointer : {"/overview/events",
                              "/overview/first",
                              "/overview/last",
                              "/overview/errors",
                              "/overview/by_level",
                              "/overview/by_service",
                              "/overview/drops",
                              "/overview/timeline/start",
                              "/overview/timeline/bucket_s",
                              "/overview/timeline/levels",
                              "/overview/timeline/services",
                              "/tools/calls",
                              "/traces/roots",
                              "/traces/failed_spans",
                              "/policy/checks",
                              "/policy/decisions",
                              "/policy/denied_total",
                              "/policy/denied_reasons",
                              "/cost",
                              "/errors/total"}) {
    simdjson::dom::element in_directory, in_engine;
    ASSERT_EQ(directory_data.at_pointer(pointer).get(in_directory), simdjson::SUCCESS) << pointer;
    ASSERT_EQ(engine_data.at_pointer(pointer).get(in_engine), simdjson::SUCCESS) << pointer;
    std::string directory_text = simdjson::minify(in_directory);
    std::string engine_text = simdjson::minify(in_engine);
    if (std::string_view(pointer) == "/cost") {  // its timeline sums doubles
      directory_text.erase(directory_text.find(",\"timeline\""));
      engine_text.erase(engine_text.find(",\"timeline\""));
    }
    EXPECT_EQ(engine_text, directory_text) << pointer;
  }
  simdjson::dom::array directory_tools, engine_tools;
  ASSERT_EQ(directory_data.at_pointer("/tools/rows").get(directory_tools), simdjson::SUCCESS);
  ASSERT_EQ(engine_data.at_pointer("/tools/rows").get(engine_tools), simdjson::SUCCESS);
  ASSERT_EQ(engine_tools.size(), directory_tools.size());
  ASSERT_GT(directory_tools.size(), 2u);
  for (size_t i = 0; i < directory_tools.size(); ++i) {
    for (const char* key : {"tool", "calls", "success_rate", "p50_ms", "p95_ms", "p99_ms", "max_ms", "histogram"}) {
      EXPECT_EQ(simdjson::minify(engine_tools.at(i)[key]), simdjson::minify(directory_tools.at(i)[key])) << key;
    }
  }

  const std::string directory_db = (*dir_ / "directory.db").string();
  const std::string engine_db = (*dir_ / "engine.db").string();
  const Result directory_export = run({"export", store, "--format", "sqlite", "-o", directory_db});
  ASSERT_EQ(directory_export.code, 0) << directory_export.err;
  const Result engine_export = run({"export", "--engine", uri, "--format", "sqlite", "-o", engine_db});
  ASSERT_EQ(engine_export.code, 0) << engine_export.err;
  for (const char* sql : {"SELECT count(*) FROM events", "SELECT id, line FROM events ORDER BY id",
                          "SELECT trace_id, span_id, parent_span_id, name, start_ns, end_ns, status FROM spans "
                          "ORDER BY id"}) {
    ringtail::test::Subprocess on_directory("/usr/bin/sqlite3", {directory_db, sql});
    ringtail::test::Subprocess on_engine("/usr/bin/sqlite3", {engine_db, sql});
    ASSERT_EQ(on_directory.wait(), 0) << sql << ": " << on_directory.err();
    ASSERT_EQ(on_engine.wait(), 0) << sql << ": " << on_engine.err();
    EXPECT_FALSE(on_directory.out().empty()) << sql;
    EXPECT_EQ(on_engine.out(), on_directory.out()) << sql;
  }
}

// The one answer that differs: lines with equal timestamps. A flight-mode
// ring that wrapped starts with a ringtail.dropped line (cause overwritten)
// carrying the timestamp of the first event the drain kept; the drain writes
// it after that event, the table's order (time_ns, then host, service, pid,
// process start, tid, seq: the gap has no seq) puts it before, where a gap
// line sits for a ring that dropped (docs/FORMAT.md). Everything else about
// the two answers is equal.
TEST_F(ClickHouseEngineTest, AFlightRingsFirstGapLineIsTheOneOrderThatDiffers) {
  ASSERT_TRUE(ringtail::test::tool_built("ringtail"));
  const std::string store = (*dir_ / "flight-store").string();
  const std::string uri = server_->uri("rt", "?table=flight");
  ringtail::Options flood = ringtail::test::small_producer_options("flood");
  flood.mode = ringtail::RingMode::kFlight;
  flood.ring_bytes = 8192;
  ProducerChild child = ProducerChild::start(flood, [](ProducerChild::Link&) {
    for (int i = 0; i < 3000; ++i) RINGTAIL_INFO("flood", ringtail::kv("i", i), ringtail::kv("duration_ms", i % 97));
    return 0;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 0);
  const Result drained = run({"drain", "--once", "--out", store, "--sink", uri, "--pid", std::to_string(child.pid())});
  ASSERT_EQ(drained.code, 0) << drained.err;

  const Result directory = run({"query", store});
  const Result engine = run({"query", "--engine", uri});
  ASSERT_EQ(directory.code, 0) << directory.err;
  ASSERT_EQ(engine.code, 0) << engine.err;
  const auto lines_of = [](const std::string& text) {
    std::vector<std::string> lines;
    for (size_t at = 0; at < text.size();) {
      const size_t end = text.find('\n', at);
      lines.push_back(text.substr(at, end - at));
      at = end + 1;
    }
    return lines;
  };
  std::vector<std::string> expected = lines_of(directory.out);
  // The directory's order with the gap line moved before the event it shares
  // a timestamp with is the table's order.
  const auto gap = std::find_if(expected.begin(), expected.end(), [](const std::string& line) {
    return line.find(R"("message":"ringtail.dropped")") != std::string::npos;
  });
  ASSERT_NE(gap, expected.end()) << "the flight ring did not wrap";
  ASSERT_NE(gap, expected.begin());
  ASSERT_EQ(gap->substr(0, 45), (gap - 1)->substr(0, 45)) << "the gap line and the event before it share a time";
  std::iter_swap(gap, gap - 1);
  EXPECT_EQ(lines_of(engine.out), expected);
  // Answers that do not depend on order are equal.
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"stats", "--by", "message", "--duration", "duration_ms", "--most-common", "dropped"},
        std::vector<std::string>{"query", "--message", "ringtail.dropped"}}) {
    std::vector<std::string> over_directory = {args[0], store};
    std::vector<std::string> over_engine = {args[0], "--engine", uri};
    over_directory.insert(over_directory.end(), args.begin() + 1, args.end());
    over_engine.insert(over_engine.end(), args.begin() + 1, args.end());
    EXPECT_EQ(run(over_engine).out, run(over_directory).out) << args[0] << " " << args[1];
  }
}

}  // namespace
}  // namespace ringtail::reader
