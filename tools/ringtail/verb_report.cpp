// ringtail report: --cost, what the models cost over the stored events that
// pass a filter, in total or per group; --html, the run report as one
// self-contained HTML file (reader/report/).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common.hpp"
#include "filter_flags.hpp"
#include "ringtail/reader/clickhouse/clickhouse_query.hpp"
#include "ringtail/reader/ingest/timestamp.hpp"
#include "ringtail/reader/output/json_text.hpp"
#include "ringtail/reader/output/time_text.hpp"
#include "ringtail/reader/query/catalog.hpp"
#include "ringtail/reader/query/cost.hpp"
#include "ringtail/reader/query/scanner.hpp"
#include "ringtail/reader/report/html_page.hpp"
#include "ringtail/reader/report/run_report.hpp"
#include "ringtail/reader/report/trace_waterfall.hpp"
#include "ringtail/reader/storage/store_dir.hpp"
#include "store_verbs.hpp"
#include "verbs.hpp"

namespace ringtail::cli {
namespace {

constexpr const char* kReportHelp =
    "--cost: over the events that carry a numeric cost_usd (each one a request): total cost, total tokens "
    "(the tokens field), requests and average cost per request, in total and with --by per group.\n"
    "Money is summed exactly: each cost_usd is read from the number's text in decimal with 18 fractional "
    "digits, never added as binary floating point; people get cents, --json gets every digit.\n"
    "Example: ringtail report DIR --cost --by model --since -7d\n"
    "With --engine clickhouse://HOST[:PORT]/DATABASE instead of DIR, ClickHouse sums the same report in SQL "
    "(Decimal128 with 18 fractional digits, from the numbers' text) over the table drain --sink clickhouse:// "
    "fills (docs/QUERY.md).\n"
    "Progress (files and bytes read of DIR, rate, time left) is shown on stderr when it is a terminal and the "
    "scan takes over a second, and erased when it ends; --no-progress turns it off (none with --engine).\n"
    "--html -o FILE: the run report, one HTML file that opens offline in any browser (scripts, styles and data "
    "inline): overview (events by level and service over time, drops, audit losses, error rate), tools (calls, "
    "success rate, latency histogram, p50/p95/p99), traces (the slowest and the failed as span waterfalls, and each "
    "--trace ID), policy (decisions, denied requests with reasons, breakglass), cost (by model and over time) and "
    "errors (by type and code, with an example). It aggregates: its size does not grow with the events. The "
    "figures are those of ringtail stats and report --cost over the same lines. -o - writes it to stdout; a FILE "
    "is written whole or not at all. With --engine, the lines come from the ClickHouse table (as query --engine "
    "reads them) and are aggregated here.\n"
    "Example: ringtail report DIR --html -o run.html --since -1h\n"
    "Exit status: 0 done; 1 DIR cannot be read, ClickHouse failed or FILE cannot be written; 2 usage error.";

struct ReportConfig {
  std::string directory;
  std::string engine;
  FilterFlags filter;
  bool cost = false;
  bool html = false;
  std::string output;
  std::vector<std::string> traces;
  std::string by;
  bool json = false;
  bool no_progress = false;
};

void print_human(const std::vector<std::string>& by, const reader::CostReport& report) {
  std::printf("Total Cost: %s\n", reader::dollars_text(report.total.cost).c_str());
  std::printf("Total Tokens: %s\n", report.total.tokens.to_string(0, true).c_str());
  std::printf("Requests: %s\n",
              reader::Decimal::parse(absl::StrCat(report.total.requests))->to_string(0, true).c_str());
  std::printf("Average Cost per Request: %s\n", reader::dollars_text(report.total.average_cost()).c_str());
  if (by.empty()) return;
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header = by;
  for (const char* column : {"requests", "tokens", "cost", "avg cost/request", "share of cost"})
    header.push_back(column);
  rows.push_back(header);
  for (const reader::CostGroup& g : report.groups) {
    std::vector<std::string> row;
    for (const std::string& k : g.key) row.push_back(unquoted(k));
    row.push_back(absl::StrCat(g.requests));
    row.push_back(g.tokens.to_string(0, true));
    row.push_back(reader::dollars_text(g.cost));
    row.push_back(reader::dollars_text(g.average_cost()));
    const double share = report.total.cost.units() == 0
                             ? 0
                             : static_cast<double>(g.cost.units()) / static_cast<double>(report.total.cost.units());
    row.push_back(absl::StrCat(static_cast<double>(std::lround(share * 1000)) / 10.0, "%"));
    rows.push_back(std::move(row));
  }
  print_table(rows);
}

void append_group(std::string& out, const reader::CostGroup& g) {
  out += absl::StrCat("\"requests\":", g.requests, ",\"tokens\":", g.tokens.exact(), ",\"cost_usd\":", g.cost.exact(),
                      ",\"average_cost_usd\":", g.average_cost().exact());
}

void print_json(const std::vector<std::string>& by, const reader::CostReport& report) {
  std::string out = "{";
  append_group(out, report.total);
  out += ",\"groups\":[";
  for (size_t i = 0; i < report.groups.size(); ++i) {
    if (i != 0) out.push_back(',');
    out += "{\"key\":{";
    for (size_t k = 0; k < by.size(); ++k) {
      if (k != 0) out.push_back(',');
      reader::append_json_string(out, by[k]);
      out += ":" + report.groups[i].key[k];
    }
    out += "},";
    append_group(out, report.groups[i]);
    out += "}";
  }
  out += absl::StrCat("],\"unreadable_cost_lines\":", report.unreadable, "}\n");
  std::fwrite(out.data(), 1, out.size(), stdout);
}

// Every stored line that passes `filter`, from DIR or the --engine table;
// over DIR, `prefilter` skips lines by their text before they are parsed.
int scan_source(const ReportConfig& config, const reader::Filter& filter, bool use_indexes,
                const reader::LineCallback& emit, const reader::LinePrefilter& prefilter = {}) {
  if (const std::optional<reader::ClickHouseTarget> target = engine_target(config.directory, config.engine)) {
    reader::ClickHouseQuery engine(*target, report_line);
    const absl::Status status = engine.scan(filter, 0, emit);
    if (!status.ok()) {
      print_error(std::string{status.message()});
      return kExitRuntime;
    }
    return kExitOk;
  }
  return scan_store(config.directory, filter, /*ordered=*/false, use_indexes, emit,
                    ProgressChoice{.no_progress = config.no_progress, .stdout_during_work = config.output == "-"},
                    prefilter);
}

// Writes `text` to `path` whole or not at all (replace_file: a temporary
// beside it, renamed over it once written); "-" is stdout.
bool write_whole_file(const std::string& path, const std::string& text) {
  if (path == "-") return std::fwrite(text.data(), 1, text.size(), stdout) == text.size() && std::fflush(stdout) == 0;
  absl::StatusOr<reader::StoreDir> dir = reader::StoreDir::open_parent(path);
  absl::Status written =
      dir.ok() ? reader::replace_file(*dir, reader::file_name_of(path), text, 0644, /*sync=*/false) : dir.status();
  if (!written.ok()) {
    print_error(absl::StrCat("cannot write ", path, ": ", std::string{written.message()}));
    return false;
  }
  return true;
}

int run_html_report(const ReportConfig& config) {
  if (config.output.empty()) usage_error("--html needs -o FILE (or -o - for stdout)");
  if (!config.by.empty() || config.json) usage_error("--by and --json go with --cost, not --html");
  for (const std::string& id : config.traces) {
    if (!reader::is_trace_id(id)) {
      usage_error(absl::StrCat("--trace '", id, "': a trace id is 32 lowercase hex digits"));
    }
  }
  const reader::Filter filter = build_filter(config.filter);
  std::string filter_text = describe_filter(config.filter);
  for (const std::string& id : config.traces)
    absl::StrAppend(&filter_text, filter_text.empty() ? "" : " ", "--trace ", id);
  reader::RunReportOptions options{
      .source = config.engine.empty() ? config.directory : config.engine,
      .filter_text = filter_text,
      .generated_at = reader::format_timestamp(reader::realtime_now_ns()),
      .traces = config.traces,
      .span_ns = std::nullopt,
  };
  if (filter.since() && filter.until()) options.span_ns = *filter.until() - *filter.since();
  reader::RunReport report(options);
  // --trace keeps the lines of those traces (any of them).
  const auto in_traces = [&config](simdjson::dom::element line) {
    if (config.traces.empty()) return true;
    std::string_view id;
    return line["trace_id"].get(id) == simdjson::SUCCESS &&
           std::find(config.traces.begin(), config.traces.end(), id) != config.traces.end();
  };
  int status =
      scan_source(config, filter, /*use_indexes=*/true, [&](std::string_view raw, simdjson::dom::element line) {
        if (in_traces(line)) report.add(raw, line);
        return true;
      });
  if (status != kExitOk) return status;
  // The chosen traces' spans: only lines with a trace_id (the index skips
  // files without), and of those only the lines naming a chosen trace are
  // parsed.
  if (const std::vector<std::string> chosen = report.chosen_traces(); !chosen.empty()) {
    reader::Filter with_trace = filter;
    with_trace.add(*reader::parse_where("trace_id exists"));
    status = scan_source(
        config, with_trace, /*use_indexes=*/true,
        [&](std::string_view raw, simdjson::dom::element line) {
          if (in_traces(line)) report.add_trace_line(raw, line);
          return true;
        },
        reader::trace_line_prefilter(chosen));
    if (status != kExitOk) return status;
  }
  const std::string page = reader::html_report_page(report.finish_json());
  if (!write_whole_file(config.output, page)) return kExitRuntime;
  if (config.output != "-") std::printf("%s\n", config.output.c_str());
  return kExitOk;
}

int run_report(const ReportConfig& config) {
  if (config.cost == config.html) usage_error("say which report: --cost or --html");
  if (config.html) return run_html_report(config);
  if (!config.output.empty() || !config.traces.empty()) usage_error("-o and --trace go with --html, not --cost");
  const reader::Filter filter = build_filter(config.filter);
  std::vector<std::string> by;
  if (!config.by.empty()) by = absl::StrSplit(config.by, ',');
  for (const std::string& key : by) {
    if (key.empty()) usage_error(absl::StrCat("--by '", config.by, "': an empty key"));
  }
  reader::CostReport report;
  if (const std::optional<reader::ClickHouseTarget> target = engine_target(config.directory, config.engine)) {
    reader::ClickHouseQuery engine(*target);
    absl::StatusOr<reader::CostReport> answer = engine.cost(filter, by);
    if (!answer.ok()) {
      print_error(std::string{answer.status().message()});
      return kExitRuntime;
    }
    report = *std::move(answer);
  } else {
    // Only lines with a cost: the index skips files without the key.
    reader::Filter with_cost = filter;
    with_cost.add(*reader::parse_where("cost_usd exists"));
    reader::CostAccumulator cost(by);
    const int status = scan_store(
        config.directory, with_cost, /*ordered=*/false, /*use_indexes=*/true,
        [&](std::string_view raw, simdjson::dom::element line) {
          cost.add(raw, line);
          return true;
        },
        ProgressChoice{.no_progress = config.no_progress, .stdout_during_work = false});
    if (status != kExitOk) return status;
    report = cost.finish();
  }
  if (report.unreadable != 0) {
    print_error(absl::StrCat(report.unreadable, " events had a cost_usd that is not a number (left out)"));
  }
  if (config.json) {
    print_json(by, report);
  } else {
    print_human(by, report);
  }
  return kExitOk;
}

}  // namespace

void add_report(CLI::App& app) {
  auto config = std::make_shared<ReportConfig>();
  CLI::App* report = app.add_subcommand(
      "report", "Reports over stored events: --cost (what the models cost), --html (the run report)");
  report->footer(kReportHelp);
  add_store_source(report, config->directory, config->engine);
  add_filter_flags(report, config->filter);
  report->add_flag("--cost", config->cost, "Total cost, tokens, requests and average cost per request");
  report->add_flag("--html", config->html, "The run report as one self-contained HTML file (-o FILE)");
  report->add_option("-o,--output", config->output, "Where --html writes (- for stdout)")->type_name("FILE");
  report->add_option("--trace", config->traces, "--html: only this trace's lines, drawn as a waterfall (repeatable)")
      ->type_name("ID");
  report->add_option("--by", config->by, "Per group of these keys (comma-separated), e.g. model")
      ->type_name("KEY[,KEY]");
  report->add_flag("--json", config->json, "One JSON object (exact decimals) instead of text");
  report->add_flag("--no-progress", config->no_progress, kNoProgressHelp);
  report->callback([config] { finish(run_report(*config)); });
}

}  // namespace ringtail::cli
