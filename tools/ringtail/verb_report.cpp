// ringtail report --cost: what the models cost, over the stored events that
// pass a filter, in total or per group.
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
#include "ringtail/reader/output/json_text.hpp"
#include "ringtail/reader/query/catalog.hpp"
#include "ringtail/reader/query/cost.hpp"
#include "ringtail/reader/query/scanner.hpp"
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
    "Exit status: 0 done; 1 DIR cannot be read or ClickHouse failed; 2 usage error.";

struct ReportConfig {
  std::string directory;
  std::string engine;
  FilterFlags filter;
  bool cost = false;
  std::string by;
  bool json = false;
  bool no_progress = false;
};

// Cents; amounts under ten cents that are not whole cents get four decimals
// ("$0.0066"), so that an average of fractions of a cent does not read $0.01.
std::string dollars(const reader::Decimal& d) {
  const reader::Decimal cents = *reader::Decimal::parse(d.to_string(2));
  const bool small = d.units() != 0 && d.units() < reader::Decimal::parse("0.1")->units() &&
                     d.units() > -reader::Decimal::parse("0.1")->units();
  std::string text = d.to_string(small && !(cents == d) ? 4 : 2, true);
  if (!text.empty() && text[0] == '-') return "-$" + text.substr(1);
  return "$" + text;
}

void print_human(const std::vector<std::string>& by, const reader::CostReport& report) {
  std::printf("Total Cost: %s\n", dollars(report.total.cost).c_str());
  std::printf("Total Tokens: %s\n", report.total.tokens.to_string(0, true).c_str());
  std::printf("Requests: %s\n",
              reader::Decimal::parse(absl::StrCat(report.total.requests))->to_string(0, true).c_str());
  std::printf("Average Cost per Request: %s\n", dollars(report.total.average_cost()).c_str());
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
    row.push_back(dollars(g.cost));
    row.push_back(dollars(g.average_cost()));
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

int run_report(const ReportConfig& config) {
  if (!config.cost) usage_error("say which report: --cost (the only one so far)");
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
  CLI::App* report = app.add_subcommand("report", "Reports over stored events (--cost: what the models cost)");
  report->footer(kReportHelp);
  add_store_source(report, config->directory, config->engine);
  add_filter_flags(report, config->filter);
  report->add_flag("--cost", config->cost, "Total cost, tokens, requests and average cost per request");
  report->add_option("--by", config->by, "Per group of these keys (comma-separated), e.g. model")
      ->type_name("KEY[,KEY]");
  report->add_flag("--json", config->json, "One JSON object (exact decimals) instead of text");
  report->add_flag("--no-progress", config->no_progress, kNoProgressHelp);
  report->callback([config] { finish(run_report(*config)); });
}

}  // namespace ringtail::cli
