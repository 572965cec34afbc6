// ringtail query: the stored events that pass a filter, in timestamp order,
// as JSONL, a table or CSV.
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common.hpp"
#include "filter_flags.hpp"
#include "ringtail/reader/clickhouse/clickhouse_query.hpp"
#include "ringtail/reader/output/json_text.hpp"
#include "ringtail/reader/query/catalog.hpp"
#include "ringtail/reader/query/json_value.hpp"
#include "ringtail/reader/query/scanner.hpp"
#include "store_verbs.hpp"
#include "verbs.hpp"

namespace ringtail::cli {
namespace {

constexpr const char* kQueryHelp =
    "Reads what `ringtail drain` stored under DIR (plain and compressed files; files whose index shows they "
    "cannot match are skipped) and prints the events that pass every filter, oldest first.\n"
    "Formats: jsonl (the stored lines, or with --fields objects of those keys), table and csv (columns: --fields, "
    "else timestamp, level, message and the other fields).\n"
    "Examples:\n"
    "  ringtail query DIR --where allow=false --since -1h\n"
    "  ringtail query DIR --message tool.call --where 'duration_ms>100' --fields timestamp,tool,duration_ms\n"
    "With --engine clickhouse://HOST[:PORT]/DATABASE instead of DIR, ClickHouse answers (the table drain --sink "
    "clickhouse:// fills): the same filters and output, filtered, ordered and limited in SQL (docs/QUERY.md).\n"
    "Progress (files and bytes read of DIR, rate, time left) is shown on stderr when it is a terminal and the "
    "scan takes over a second, and erased when it ends; not while jsonl or csv lines go to stdout on a terminal, "
    "never with --engine; --no-progress turns it off.\n"
    "Exit status: 0 done (also when nothing matched); 1 DIR cannot be read or ClickHouse failed; 2 usage error.";

struct QueryConfig {
  std::string directory;
  std::string engine;
  FilterFlags filter;
  std::string fields;
  uint64_t limit = 0;
  std::string format = "jsonl";
  bool no_index = false;
  bool no_progress = false;
};

// A value as a table or CSV cell: strings as their text, anything else as JSON.
std::string cell(simdjson::dom::element value) {
  std::string_view text;
  if (value.get(text) == simdjson::SUCCESS) return std::string(text);
  return reader::json_value_text(value);
}

// RFC 4180: quoted when it holds a comma, quote, CR or LF.
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

class Output {
 public:
  Output(std::string format, std::vector<std::string> fields)
      : format_(std::move(format)), fields_(std::move(fields)) {}

  void add(std::string_view raw, simdjson::dom::element line) {
    if (format_ == "jsonl") {
      if (fields_.empty()) {
        std::fwrite(raw.data(), 1, raw.size(), stdout);
        std::fputc('\n', stdout);
        return;
      }
      std::string out = "{";
      for (const std::string& field : fields_) {
        simdjson::dom::element value;
        if (line[field].get(value) != simdjson::SUCCESS) continue;
        if (out.size() > 1) out.push_back(',');
        reader::append_json_string(out, field);
        out.push_back(':');
        out += reader::json_value_text(value);
      }
      out += "}\n";
      std::fwrite(out.data(), 1, out.size(), stdout);
      return;
    }
    std::vector<std::string> row;
    if (!fields_.empty()) {
      for (const std::string& field : fields_) {
        simdjson::dom::element value;
        row.push_back(line[field].get(value) == simdjson::SUCCESS ? cell(value) : std::string());
      }
    } else {
      std::string rest;
      for (const std::string_view key : {"timestamp", "level", "message"}) {
        simdjson::dom::element value;
        row.push_back(line[key].get(value) == simdjson::SUCCESS ? cell(value) : std::string());
      }
      simdjson::dom::object object;
      if (line.get(object) == simdjson::SUCCESS) {
        for (auto [key, value] : object) {
          if (key == "timestamp" || key == "level" || key == "message") continue;
          if (!rest.empty()) rest.push_back(' ');
          rest += absl::StrCat(std::string(key), "=", reader::json_value_text(value));
        }
      }
      row.push_back(std::move(rest));
    }
    if (format_ == "csv") {
      if (!header_done_) {
        header_done_ = true;
        print_csv(header());
      }
      print_csv(row);
    } else {
      rows_.push_back(std::move(row));
    }
  }

  void finish() {
    if (format_ == "csv" && !header_done_) print_csv(header());
    if (format_ != "table") return;
    std::vector<std::vector<std::string>> all = {header()};
    all.insert(all.end(), rows_.begin(), rows_.end());
    print_table(all);
  }

 private:
  std::vector<std::string> header() const {
    if (!fields_.empty()) return fields_;
    return {"timestamp", "level", "message", "fields"};
  }
  static void print_csv(const std::vector<std::string>& row) {
    std::string out;
    for (size_t i = 0; i < row.size(); ++i) {
      if (i != 0) out.push_back(',');
      out += csv_field(row[i]);
    }
    out += "\r\n";
    std::fwrite(out.data(), 1, out.size(), stdout);
  }

  std::string format_;
  std::vector<std::string> fields_;
  std::vector<std::vector<std::string>> rows_;
  bool header_done_ = false;
};

int run_query(const QueryConfig& config) {
  const reader::Filter filter = build_filter(config.filter);
  std::vector<std::string> fields;
  if (!config.fields.empty()) {
    fields = absl::StrSplit(config.fields, ',');
    for (const std::string& field : fields) {
      if (field.empty()) usage_error(absl::StrCat("--fields '", config.fields, "': an empty field name"));
    }
  }
  Output output(config.format, fields);
  if (const std::optional<reader::ClickHouseTarget> target = engine_target(config.directory, config.engine)) {
    reader::ClickHouseQuery engine(*target, [](std::string_view line) { print_error(line); });
    const absl::Status status =
        engine.scan(filter, config.limit, [&](std::string_view raw, simdjson::dom::element line) {
          output.add(raw, line);
          return true;
        });
    output.finish();
    std::fflush(stdout);
    if (!status.ok()) {
      print_error(std::string{status.message()});
      return kExitRuntime;
    }
    return kExitOk;
  }
  uint64_t printed = 0;
  // jsonl and csv are printed as they are found; a table only at the end.
  const ProgressChoice progress{.no_progress = config.no_progress, .stdout_during_work = config.format != "table"};
  const int status = scan_store(
      config.directory, filter, /*ordered=*/true, !config.no_index,
      [&](std::string_view raw, simdjson::dom::element line) {
        output.add(raw, line);
        return config.limit == 0 || ++printed < config.limit;
      },
      progress);
  output.finish();
  std::fflush(stdout);
  return status;
}

}  // namespace

void add_query(CLI::App& app) {
  auto config = std::make_shared<QueryConfig>();
  CLI::App* query = app.add_subcommand("query", "Print the stored events that pass a filter");
  query->footer(kQueryHelp);
  add_store_source(query, config->directory, config->engine);
  add_filter_flags(query, config->filter);
  query->add_option("--fields", config->fields, "Only these keys, in this order (comma-separated)")
      ->type_name("A,B,...");
  query->add_option("--limit", config->limit, "At most this many events (0: all)")->capture_default_str();
  query->add_option("--format", config->format, "jsonl, table or csv")
      ->capture_default_str()
      ->check(CLI::IsMember({"jsonl", "table", "csv"}));
  query->add_flag("--no-index", config->no_index, "Read every file (ignore and do not build indexes)");
  query->add_flag("--no-progress", config->no_progress, kNoProgressHelp);
  query->callback([config] { finish(run_query(*config)); });
}

}  // namespace ringtail::cli
