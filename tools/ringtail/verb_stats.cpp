// ringtail stats: counts, shares, rates, success rate and a duration field's
// distribution over the stored events that pass a filter, per group.
#include <time.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common.hpp"
#include "filter_flags.hpp"
#include "ringtail/reader/clickhouse/clickhouse_query.hpp"
#include "ringtail/reader/output/json_text.hpp"
#include "ringtail/reader/query/catalog.hpp"
#include "ringtail/reader/query/scanner.hpp"
#include "ringtail/reader/query/stats.hpp"
#include "store_verbs.hpp"
#include "verbs.hpp"

namespace ringtail::cli {
namespace {

constexpr const char* kStatsHelp =
    "Per group of --by keys (one group without): count, share of the total, rate per second, first and last "
    "time, success rate, and with --duration the field's avg, p50, p95, p99 and max.\n"
    "Success: the first of status (SUCCESS; FAILURE, PARTIAL), allow (true; false), decision (ALLOW; BLOCK) a "
    "line has; lines with none do not count. Rate: count over --until minus --since when both are given, else "
    "over the time from the first to the last event (at least 1 s). Percentiles are nearest-rank.\n"
    "Examples:\n"
    "  ringtail stats DIR --where allow=false                          denied requests\n"
    "  ringtail stats DIR --by agent_id                                calls per agent\n"
    "  ringtail stats DIR --message step.end --by tool --duration duration_ms\n"
    "  ringtail stats DIR --message memory.op --by user_id --most-common operation\n"
    "  ringtail stats DIR --message llm.call --by model --duration duration_ms   LLM calls per model, latency "
    "(tokens and cost: report --cost)\n"
    "  ringtail stats DIR --level ERROR --by error_code                errors by code\n"
    "  ringtail stats DIR --message memory.op --where operation=RECALL --where status=FAILURE --where user_id=u42 "
    "--since -24h\n"
    "With --engine clickhouse://HOST[:PORT]/DATABASE instead of DIR, ClickHouse computes the same statistics in "
    "SQL over the table drain --sink clickhouse:// fills (docs/QUERY.md).\n"
    "Progress (files and bytes read of DIR, rate, time left) is shown on stderr when it is a terminal and the "
    "scan takes over a second, and erased when it ends; --no-progress turns it off (none with --engine).\n"
    "Exit status: 0 done; 1 DIR cannot be read or ClickHouse failed; 2 usage error.";

struct StatsConfig {
  std::string directory;
  std::string engine;
  FilterFlags filter;
  std::string by;
  std::string duration;
  std::string most_common;
  size_t top = 0;
  bool json = false;
  bool no_progress = false;
};

std::string percent(double share) { return absl::StrFormat("%.1f%%", share * 100); }
std::string number(double value) { return absl::StrFormat("%.6g", value); }

void print_stats_table(const StatsConfig& config, const std::vector<std::string>& by,
                       const reader::StatsResult& result) {
  std::vector<std::string> header = by;
  if (header.empty()) header.push_back("group");
  for (const char* column : {"count", "share", "rate/s", "first", "last", "success"}) header.push_back(column);
  if (!config.duration.empty()) {
    for (const char* column : {"avg", "p50", "p95", "p99", "max"})
      header.push_back(absl::StrCat(config.duration, " ", column));
  }
  if (!config.most_common.empty()) header.push_back(absl::StrCat("most common ", config.most_common));
  std::vector<std::vector<std::string>> rows = {header};
  for (const reader::GroupStats& g : result.groups) {
    std::vector<std::string> row;
    for (const std::string& k : g.key) {
      row.push_back(unquoted(k));  // --json keeps the JSON
    }
    if (row.empty()) row.push_back("all");
    row.push_back(absl::StrCat(g.count));
    row.push_back(percent(g.share));
    row.push_back(number(g.rate_per_s));
    row.push_back(g.first_timestamp);
    row.push_back(g.last_timestamp);
    row.push_back(g.success_rate ? percent(*g.success_rate) : "-");
    if (!config.duration.empty()) {
      if (g.duration_count == 0) {
        for (int i = 0; i < 5; ++i) row.push_back("-");
      } else {
        for (double v : {g.duration_avg, g.duration_p50, g.duration_p95, g.duration_p99, g.duration_max}) {
          row.push_back(number(v));
        }
      }
    }
    if (!config.most_common.empty()) {
      row.push_back(g.most_common_count == 0 ? "-"
                                             : absl::StrCat(unquoted(g.most_common), " (", g.most_common_count, ")"));
    }
    rows.push_back(std::move(row));
  }
  print_table(rows);
  std::printf("total %llu events over %s s\n", static_cast<unsigned long long>(result.total),
              number(result.span_s).c_str());
}

void print_json(const StatsConfig& config, const std::vector<std::string>& by, const reader::StatsResult& result) {
  std::string out = absl::StrCat("{\"total\":", result.total, ",\"span_s\":", number(result.span_s), ",\"first\":");
  reader::append_json_string(out, result.first_timestamp);
  out += ",\"last\":";
  reader::append_json_string(out, result.last_timestamp);
  out += ",\"groups\":[";
  for (size_t i = 0; i < result.groups.size(); ++i) {
    const reader::GroupStats& g = result.groups[i];
    if (i != 0) out.push_back(',');
    out += "{\"key\":{";
    for (size_t k = 0; k < by.size(); ++k) {
      if (k != 0) out.push_back(',');
      reader::append_json_string(out, by[k]);
      out += ":" + g.key[k];  // already compact JSON
    }
    out += absl::StrCat("},\"count\":", g.count, ",\"share\":", number(g.share),
                        ",\"rate_per_s\":", number(g.rate_per_s), ",\"first\":");
    reader::append_json_string(out, g.first_timestamp);
    out += ",\"last\":";
    reader::append_json_string(out, g.last_timestamp);
    out += ",\"success_rate\":";
    out += g.success_rate ? number(*g.success_rate) : "null";
    if (!config.duration.empty()) {
      out += ",\"duration\":{\"field\":";
      reader::append_json_string(out, config.duration);
      out += absl::StrCat(",\"count\":", g.duration_count);
      if (g.duration_count != 0) {
        out += absl::StrCat(",\"avg\":", number(g.duration_avg), ",\"p50\":", number(g.duration_p50),
                            ",\"p95\":", number(g.duration_p95), ",\"p99\":", number(g.duration_p99),
                            ",\"max\":", number(g.duration_max));
      }
      out += "}";
    }
    if (!config.most_common.empty() && g.most_common_count != 0) {
      out += ",\"most_common\":{\"key\":";
      reader::append_json_string(out, config.most_common);
      out += absl::StrCat(",\"value\":", g.most_common, ",\"count\":", g.most_common_count, "}");
    }
    out += "}";
  }
  out += "]}\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
}

int run_stats(const StatsConfig& config) {
  const reader::Filter filter = build_filter(config.filter);
  reader::StatsOptions options;
  if (!config.by.empty()) options.by = absl::StrSplit(config.by, ',');
  for (const std::string& key : options.by) {
    if (key.empty()) usage_error(absl::StrCat("--by '", config.by, "': an empty key"));
  }
  options.duration_field = config.duration;
  options.most_common_key = config.most_common;
  if (filter.since() && filter.until()) options.span_ns = *filter.until() - *filter.since();
  reader::StatsResult result;
  if (const std::optional<reader::ClickHouseTarget> target = engine_target(config.directory, config.engine)) {
    reader::ClickHouseQuery engine(*target);
    absl::StatusOr<reader::StatsResult> answer = engine.stats(filter, options, config.top);
    if (!answer.ok()) {
      print_error(std::string{answer.status().message()});
      return kExitRuntime;
    }
    result = *std::move(answer);
  } else {
    reader::StatsAccumulator stats(options);
    const int status = scan_store(
        config.directory, filter, /*ordered=*/false, /*use_indexes=*/true,
        [&](std::string_view, simdjson::dom::element line) {
          stats.add(line);
          return true;
        },
        ProgressChoice{.no_progress = config.no_progress, .stdout_during_work = false});
    if (status != kExitOk) return status;
    result = stats.finish(config.top);
  }
  if (config.json) {
    print_json(config, options.by, result);
  } else {
    print_stats_table(config, options.by, result);
  }
  return kExitOk;
}

}  // namespace

void add_stats(CLI::App& app) {
  auto config = std::make_shared<StatsConfig>();
  CLI::App* stats = app.add_subcommand("stats", "Statistics over the stored events that pass a filter");
  stats->footer(kStatsHelp);
  add_store_source(stats, config->directory, config->engine);
  add_filter_flags(stats, config->filter);
  stats->add_option("--by", config->by, "Group by these keys (comma-separated; a.b reaches into objects)")
      ->type_name("KEY[,KEY]");
  stats->add_option("--duration", config->duration, "A numeric field: its avg, p50, p95, p99 and max per group")
      ->type_name("FIELD");
  stats->add_option("--most-common", config->most_common, "Per group, the most frequent value of this key")
      ->type_name("KEY");
  stats->add_option("--top", config->top, "Only the N largest groups (0: all)")->capture_default_str();
  stats->add_flag("--json", config->json, "One JSON object instead of a table");
  stats->add_flag("--no-progress", config->no_progress, kNoProgressHelp);
  stats->callback([config] { finish(run_stats(*config)); });
}

}  // namespace ringtail::cli
