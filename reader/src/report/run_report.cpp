#include "ringtail/reader/report/run_report.hpp"

#include <algorithm>
#include <array>
#include <iterator>
#include <map>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "report/report_json.hpp"
#include "ringtail/reader/output/time_text.hpp"
#include "ringtail/reader/query/cost.hpp"
#include "ringtail/reader/query/json_value.hpp"
#include "ringtail/reader/query/stats.hpp"
#include "ringtail/reader/report/time_buckets.hpp"
#include "ringtail/reader/report/trace_waterfall.hpp"

namespace ringtail::reader {
namespace {

using report_json::key;

// Upper edges of the tool latency histogram, in ms: about three per decade.
constexpr std::array<double, 18> kLatencyEdgesMs = {0.1, 0.2, 0.5, 1,    2,    5,    10,    20,    50,
                                                    100, 200, 500, 1000, 2000, 5000, 10000, 30000, 60000};

constexpr size_t kServiceSeries = 8;  // the largest 7 and "(other)" beyond 8
constexpr size_t kModelSeries = 6;
constexpr std::string_view kOther = "(other)";

// Series names in the one TimeBuckets: a prefix per chart, so that all
// charts share their buckets.
constexpr std::string_view kLevelSeries = "L";
constexpr std::string_view kServiceSeriesPrefix = "S";
constexpr std::string_view kCostSeries = "C";

uint64_t unsigned_of(simdjson::dom::element line, std::string_view name) {
  uint64_t value = 0;
  int64_t signed_value = 0;
  if (line[name].get(value) == simdjson::SUCCESS) return value;
  if (line[name].get(signed_value) == simdjson::SUCCESS && signed_value > 0) return static_cast<uint64_t>(signed_value);
  return 0;
}

// A row kept among the most recent: its time and its JSON object.
struct RecentRow {
  std::string timestamp;
  std::string json;
};

// The most recent `keep` rows, newest first; amortized O(1) per row.
class RecentRows {
 public:
  explicit RecentRows(size_t keep) : keep_(keep) {}
  void add(std::string timestamp, std::string json) {
    rows_.push_back({std::move(timestamp), std::move(json)});
    if (rows_.size() >= 2 * keep_) trim();
  }
  const std::vector<RecentRow>& finish() {
    trim();
    return rows_;
  }

 private:
  void trim() {
    std::stable_sort(rows_.begin(), rows_.end(),
                     [](const RecentRow& a, const RecentRow& b) { return a.timestamp > b.timestamp; });
    if (rows_.size() > keep_) rows_.resize(keep_);
  }
  size_t keep_;
  std::vector<RecentRow> rows_;
};

// Counts per text, at most kDistinctTexts distinct; later texts count as
// "(other)".
class TextCounts {
 public:
  void add(std::string_view text, uint64_t n = 1) {
    auto found = counts_.find(absl::string_view(text.data(), text.size()));
    if (found == counts_.end()) {
      if (counts_.size() >= RunReport::kDistinctTexts) {
        other_ += n;
        return;
      }
      found = counts_.emplace(std::string(text), 0).first;
    }
    found->second += n;
  }
  // Largest first (ties: by text), at most `top`; the rest in `left_out`.
  std::vector<std::pair<std::string, uint64_t>> largest(size_t top, uint64_t* left_out = nullptr) const {
    std::vector<std::pair<std::string, uint64_t>> all(counts_.begin(), counts_.end());
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    if (left_out != nullptr) *left_out = all.size() > top ? all.size() - top : 0;
    if (all.size() > top) all.resize(top);
    if (other_ != 0) all.emplace_back(std::string(kOther), other_);
    return all;
  }

 private:
  absl::flat_hash_map<std::string, uint64_t> counts_;
  uint64_t other_ = 0;
};

struct ErrorGroup {
  std::string type;
  std::string code;  // compact JSON text, "null" when none
  uint64_t count = 0;
  std::string example_timestamp;
  std::string example_json;  // the example object
};

std::string string_or_null_text(const std::optional<std::string>& text) {
  std::string out;
  report_json::string_or_null(out, text);
  return out;
}

}  // namespace

struct RunReport::State {
  explicit State(RunReportOptions opts)
      : options(std::move(opts)),
        levels(StatsOptions{.by = {"level"}, .duration_field = {}, .most_common_key = {}, .span_ns = options.span_ns}),
        services(
            StatsOptions{.by = {"service"}, .duration_field = {}, .most_common_key = {}, .span_ns = options.span_ns}),
        tools(StatsOptions{
            .by = {"tool"}, .duration_field = "duration_ms", .most_common_key = {}, .span_ns = options.span_ns}),
        cost({"model"}) {}

  RunReportOptions options;
  StatsAccumulator levels, services, tools;
  CostAccumulator cost;
  TimeBuckets timeline;
  StoredTimestampReader clock;
  uint64_t errors = 0;

  // Drops and losses.
  uint64_t dropped = 0, overwritten = 0, lost_no_ring = 0, lost_table_full = 0, too_big = 0, audit_lost = 0,
           crashes = 0, corrupt_rings = 0;

  // Tools: histogram per tool, keyed by the tool's compact JSON text as
  // StatsAccumulator keys its groups.
  absl::flat_hash_map<std::string, std::array<uint64_t, kLatencyEdgesMs.size() + 1>> latency;
  uint64_t tool_calls = 0;

  // Policy.
  uint64_t policy_checks = 0, denied_total = 0;
  std::map<std::pair<std::string, std::string>, uint64_t> decisions;  // (policy, decision) as JSON texts
  TextCounts denied_reasons;
  RecentRows denied{kRecentRows};
  RecentRows breakglass{kRecentRows};

  // Errors, by (type, code).
  std::map<std::pair<std::string, std::string>, ErrorGroup> error_groups;
  uint64_t error_lines = 0, error_other = 0;

  // Traces.
  uint64_t roots = 0, failed_spans = 0;
  std::vector<std::pair<double, std::string>> slowest;      // (root duration, trace id), a min-heap
  std::vector<std::pair<std::string, std::string>> failed;  // (latest failed span's end, trace id)
  std::unique_ptr<TraceWaterfalls> waterfalls;

  std::string scratch;

  // Trace ids of `pairs` ((key, id), a trace once) by key, largest first.
  template <typename Key>
  static std::vector<std::string> ids_by_key(std::vector<std::pair<Key, std::string>> pairs) {
    std::stable_sort(pairs.begin(), pairs.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    std::vector<std::string> ids;
    ids.reserve(pairs.size());
    for (auto& [k, id] : pairs) {
      if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(std::move(id));
    }
    return ids;
  }
  std::vector<std::string> slowest_first() const { return ids_by_key(slowest); }
  std::vector<std::string> failed_newest_first() const { return ids_by_key(failed); }

  bool asked_for(std::string_view trace_id) const {
    return std::find(options.traces.begin(), options.traces.end(), trace_id) != options.traces.end();
  }
  void add_tool(simdjson::dom::element line);
  void add_policy(std::string_view message, std::string_view timestamp, simdjson::dom::element line);
  void add_error(std::string_view timestamp, simdjson::dom::element line, simdjson::dom::element error);
  void add_span_end(std::string_view timestamp, simdjson::dom::element line);
  void add_note(std::string_view message, simdjson::dom::element line);
};

RunReport::RunReport(RunReportOptions options) : state_(std::make_unique<State>(std::move(options))) {}
RunReport::~RunReport() = default;

void RunReport::add(std::string_view raw, simdjson::dom::element line) {
  State& s = *state_;
  s.levels.add(line);
  s.services.add(line);
  std::string_view level, message, timestamp, service;
  if (line["level"].get(level) != simdjson::SUCCESS) level = {};
  if (line["message"].get(message) != simdjson::SUCCESS) message = {};
  if (line["timestamp"].get(timestamp) != simdjson::SUCCESS) timestamp = {};
  if (line["service"].get(service) != simdjson::SUCCESS) service = {};
  if (level == "ERROR" || level == "CRITICAL") ++s.errors;
  const std::optional<int64_t> time_ns = s.clock.ns(timestamp);
  if (time_ns) {
    s.scratch.assign(kLevelSeries);
    s.scratch += level;
    s.timeline.add(s.scratch, *time_ns, 1);
    s.scratch.assign(kServiceSeriesPrefix);
    s.scratch += service;
    s.timeline.add(s.scratch, *time_ns, 1);
  }
  // The reader's notes have no seq; a producer's event of the same name is an event.
  simdjson::dom::element seq;
  if (message.starts_with("ringtail.") && line["seq"].get(seq) != simdjson::SUCCESS) {
    s.add_note(message, line);
    return;
  }
  simdjson::dom::element value;
  if (line["cost_usd"].get(value) == simdjson::SUCCESS) {
    s.cost.add(raw, line);
    if (time_ns && value.is_number()) {
      double usd = 0;
      if (value.get(usd) != simdjson::SUCCESS) usd = 0;
      s.scratch.assign(kCostSeries);
      s.scratch += report_json::text_of(line, "model").value_or("null");
      s.timeline.add(s.scratch, *time_ns, usd);
    }
  }
  if (line["error"].get(value) == simdjson::SUCCESS && value.is_object()) s.add_error(timestamp, line, value);
  if (message == "step.end") {
    s.add_tool(line);
  } else if (message == "policy.check" || message == "audit.decision" || message == "breakglass") {
    s.add_policy(message, timestamp, line);
  } else if (message == "span.end") {
    s.add_span_end(timestamp, line);
  }
}

void RunReport::State::add_note(std::string_view message, simdjson::dom::element line) {
  if (message == "ringtail.dropped") {
    const uint64_t n = unsigned_of(line, "dropped");
    dropped += n;
    std::string_view cause;
    if (line["cause"].get(cause) == simdjson::SUCCESS && cause == "overwritten") overwritten += n;
  } else if (message == "ringtail.lost") {
    lost_no_ring += unsigned_of(line, "lost_no_ring");
    lost_table_full += unsigned_of(line, "lost_callsite_table_full");
  } else if (message == "ringtail.too_big") {
    ++too_big;
  } else if (message == "ringtail.audit_lost") {
    audit_lost += unsigned_of(line, "audit_lost");
  } else if (message == "ringtail.crashed") {
    ++crashes;
  } else if (message == "ringtail.ring_corrupt") {
    ++corrupt_rings;
  }
}

void RunReport::State::add_tool(simdjson::dom::element line) {
  tools.add(line);
  ++tool_calls;
  scratch.clear();
  simdjson::dom::element value;
  if (line["tool"].get(value) == simdjson::SUCCESS) {
    append_json_value(scratch, value);
  } else {
    scratch = "null";
  }
  const std::optional<double> ms = report_json::number_of(line, "duration_ms");
  if (!ms) return;
  auto found = latency.find(scratch);
  if (found == latency.end()) {
    if (latency.size() >= kDistinctTexts) return;
    found = latency.emplace(scratch, std::array<uint64_t, kLatencyEdgesMs.size() + 1>{}).first;
  }
  const size_t bucket = static_cast<size_t>(std::lower_bound(kLatencyEdgesMs.begin(), kLatencyEdgesMs.end(), *ms) -
                                            kLatencyEdgesMs.begin());
  ++found->second[bucket];
}

void RunReport::State::add_policy(std::string_view message, std::string_view timestamp, simdjson::dom::element line) {
  std::string row = "{";
  key(row, "timestamp", true);
  append_json_string(row, timestamp);
  key(row, "service");
  row += string_or_null_text(report_json::text_of(line, "service"));
  if (message == "breakglass") {
    for (const char* name :
         {"enabled_by", "reason", "expires_at", "token_hash", "affected_validators", "affected_decisions"}) {
      key(row, name);
      row += string_or_null_text(report_json::text_of(line, name));
    }
    breakglass.add(std::string(timestamp), row + "}");
    return;
  }
  bool denied_row = false;
  if (message == "policy.check") {
    ++policy_checks;
    simdjson::dom::element value;
    std::string policy = "null", decision = "null";
    if (line["policy"].get(value) == simdjson::SUCCESS) policy = json_value_text(value);
    if (line["decision"].get(value) == simdjson::SUCCESS) decision = json_value_text(value);
    ++decisions[{policy, decision}];
    std::string_view text;
    denied_row = line["decision"].get(text) == simdjson::SUCCESS && text == "BLOCK";
  } else {  // audit.decision
    bool allow = true;
    denied_row = line["allow"].get(allow) == simdjson::SUCCESS && !allow;
  }
  if (!denied_row) return;
  ++denied_total;
  const std::optional<std::string> reason = report_json::text_of(line, "reason");
  denied_reasons.add(reason.value_or(""));
  key(row, "kind");
  append_json_string(row, message);
  for (const char* name : {"policy", "validator", "agent_id", "tool", "reason"}) {
    key(row, name);
    row += string_or_null_text(report_json::text_of(line, name));
  }
  denied.add(std::string(timestamp), row + "}");
}

void RunReport::State::add_error(std::string_view timestamp, simdjson::dom::element line,
                                 simdjson::dom::element error) {
  ++error_lines;
  std::string type = report_json::text_of(error, "type").value_or("");
  simdjson::dom::element code_value;
  std::string code = error["code"].get(code_value) == simdjson::SUCCESS ? json_value_text(code_value) : "null";
  auto found = error_groups.find({type, code});
  if (found == error_groups.end()) {
    if (error_groups.size() >= kDistinctTexts) {
      ++error_other;
      return;
    }
    found = error_groups
                .emplace(std::make_pair(type, code),
                         ErrorGroup{.type = type, .code = code, .example_timestamp = {}, .example_json = {}})
                .first;
  }
  ErrorGroup& group = found->second;
  ++group.count;
  // The example is the earliest line of the group.
  if (!group.example_json.empty() && timestamp >= group.example_timestamp) return;
  group.example_timestamp.assign(timestamp);
  std::string example = "{";
  key(example, "timestamp", true);
  append_json_string(example, timestamp);
  key(example, "service");
  example += string_or_null_text(report_json::text_of(line, "service"));
  key(example, "message");
  example += string_or_null_text(report_json::text_of(line, "message"));
  key(example, "error_message");
  example += string_or_null_text(report_json::text_of(error, "message"));
  group.example_json = example + "}";
}

void RunReport::State::add_span_end(std::string_view timestamp, simdjson::dom::element line) {
  simdjson::dom::element parent;
  const bool root = line["parent_span_id"].get(parent) != simdjson::SUCCESS;
  roots += root ? 1 : 0;
  std::string_view status;
  const bool failed_span = line["status"].get(status) == simdjson::SUCCESS && status == "ERROR";
  failed_spans += failed_span ? 1 : 0;
  // Traces asked for are drawn anyway: they take no place among these.
  std::string_view trace_id;
  if (line["trace_id"].get(trace_id) != simdjson::SUCCESS || asked_for(trace_id)) return;
  if (root) {
    const auto heap_order = [](const auto& a, const auto& b) { return a.first > b.first; };  // min-heap
    const double ms = report_json::number_of(line, "duration_ms").value_or(0);
    // A trace takes one place (its root's end may be stored twice, or it may have two roots).
    const auto same = std::find_if(slowest.begin(), slowest.end(), [&](const auto& e) { return e.second == trace_id; });
    if (same != slowest.end()) {
      if (ms > same->first) {
        same->first = ms;
        std::make_heap(slowest.begin(), slowest.end(), heap_order);
      }
    } else if (slowest.size() < kSlowestTraces) {
      slowest.emplace_back(ms, std::string(trace_id));
      std::push_heap(slowest.begin(), slowest.end(), heap_order);
    } else if (ms > slowest.front().first) {
      std::pop_heap(slowest.begin(), slowest.end(), heap_order);
      slowest.back() = {ms, std::string(trace_id)};
      std::push_heap(slowest.begin(), slowest.end(), heap_order);
    }
  }
  if (!failed_span) return;
  // The kFailedTraces traces with the most recent failure.
  for (auto& [when, id] : failed) {
    if (id == trace_id) {
      if (timestamp > when) when.assign(timestamp);
      return;
    }
  }
  if (failed.size() < kFailedTraces) {
    failed.emplace_back(std::string(timestamp), std::string(trace_id));
    return;
  }
  auto oldest = std::min_element(failed.begin(), failed.end());
  if (timestamp > oldest->first) *oldest = {std::string(timestamp), std::string(trace_id)};
}

std::vector<std::string> RunReport::chosen_traces() const {
  const State& s = *state_;
  std::vector<std::string> ids = s.options.traces;
  for (std::string& id : s.slowest_first()) ids.push_back(std::move(id));
  for (std::string& id : s.failed_newest_first()) ids.push_back(std::move(id));
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

void RunReport::add_trace_line(std::string_view raw, simdjson::dom::element line) {
  if (!state_->waterfalls) state_->waterfalls = std::make_unique<TraceWaterfalls>(chosen_traces());
  state_->waterfalls->add(raw, line);
}

namespace {

void append_count_list(std::string& out, const StatsResult& result) {
  out += '[';
  for (size_t i = 0; i < result.groups.size(); ++i) {
    if (i != 0) out += ',';
    out += '{';
    key(out, "key", true);
    out += string_or_null_text(report_json::readable(result.groups[i].key[0]));
    key(out, "count");
    append_json_uint(out, result.groups[i].count);
    out += '}';
  }
  out += ']';
}

void append_series(std::string& out, const TimeBuckets& timeline, std::string_view prefix, size_t max_series) {
  std::vector<std::string> names;
  for (const std::string& name : timeline.series_by_total()) {
    if (name.starts_with(prefix)) names.push_back(name);
  }
  std::vector<double> other;
  if (names.size() > max_series) {
    other.assign(timeline.bucket_count(), 0.0);
    for (size_t i = max_series - 1; i < names.size(); ++i) {
      const std::vector<double> values = timeline.values(names[i]);
      for (size_t b = 0; b < values.size(); ++b) other[b] += values[b];
    }
    names.resize(max_series - 1);
  }
  out += '{';
  bool first = true;
  const auto series = [&](std::string_view name, const std::vector<double>& values) {
    key(out, name, first);
    first = false;
    out += '[';
    for (size_t b = 0; b < values.size(); ++b) {
      if (b != 0) out += ',';
      append_json_double(out, values[b]);
    }
    out += ']';
  };
  for (const std::string& name : names) {
    const std::string_view shown = name;
    series(shown.substr(prefix.size()), timeline.values(name));
  }
  if (!other.empty()) series(kOther, other);
  out += '}';
}

void append_timeline_head(std::string& out, const TimeBuckets& timeline) {
  key(out, "start", true);
  append_json_double(out, static_cast<double>(timeline.start_ms()) / 1e3);
  key(out, "bucket_s");
  append_json_double(out, static_cast<double>(timeline.width_ms()) / 1e3);
}

void append_amounts(std::string& out, std::string_view name, const Decimal& amount, bool money) {
  key(out, name);
  append_json_string(out, amount.exact());
  key(out, std::string(name.substr(0, name.find('_'))) + "_text");
  append_json_string(out, money ? dollars_text(amount) : amount.to_string(0, true));
}

}  // namespace

std::string RunReport::finish_json() {
  State& s = *state_;
  std::string out = "{";
  key(out, "version", true);
  out += '1';
  key(out, "generated_at");
  append_json_string(out, s.options.generated_at);
  key(out, "source");
  append_json_string(out, s.options.source);
  key(out, "filter");
  append_json_string(out, s.options.filter_text);

  // Overview.
  const StatsResult levels = s.levels.finish();
  const StatsResult services = s.services.finish();
  key(out, "overview");
  out += '{';
  key(out, "events", true);
  append_json_uint(out, levels.total);
  key(out, "first");
  out += levels.total == 0 ? "null" : string_or_null_text(levels.first_timestamp);
  key(out, "last");
  out += levels.total == 0 ? "null" : string_or_null_text(levels.last_timestamp);
  key(out, "span_s");
  append_json_double(out, levels.span_s);
  key(out, "errors");
  append_json_uint(out, s.errors);
  key(out, "error_rate");
  append_json_double(out, levels.total == 0 ? 0 : static_cast<double>(s.errors) / static_cast<double>(levels.total));
  key(out, "by_level");
  append_count_list(out, levels);
  key(out, "by_service");
  append_count_list(out, services);
  key(out, "drops");
  out += '{';
  const std::pair<const char*, uint64_t> drops[] = {
      {"dropped", s.dropped},           {"overwritten", s.overwritten},
      {"lost_no_ring", s.lost_no_ring}, {"lost_callsite_table_full", s.lost_table_full},
      {"too_big", s.too_big},           {"audit_lost", s.audit_lost},
      {"crashes", s.crashes},           {"corrupt_rings", s.corrupt_rings}};
  for (size_t i = 0; i < std::size(drops); ++i) {
    key(out, drops[i].first, i == 0);
    append_json_uint(out, drops[i].second);
  }
  out += '}';
  key(out, "timeline");
  out += '{';
  append_timeline_head(out, s.timeline);
  key(out, "levels");
  append_series(out, s.timeline, kLevelSeries, SIZE_MAX);
  key(out, "services");
  append_series(out, s.timeline, kServiceSeriesPrefix, kServiceSeries);
  out += "}}";

  // Tools.
  const StatsResult tools = s.tools.finish();
  key(out, "tools");
  out += '{';
  key(out, "calls", true);
  append_json_uint(out, s.tool_calls);
  key(out, "histogram_edges_ms");
  out += '[';
  for (size_t i = 0; i < kLatencyEdgesMs.size(); ++i) {
    if (i != 0) out += ',';
    append_json_double(out, kLatencyEdgesMs[i]);
  }
  out += ']';
  key(out, "rows");
  out += '[';
  for (size_t i = 0; i < tools.groups.size(); ++i) {
    const GroupStats& g = tools.groups[i];
    if (i != 0) out += ',';
    out += '{';
    key(out, "tool", true);
    out += string_or_null_text(report_json::readable(g.key[0]));
    key(out, "calls");
    append_json_uint(out, g.count);
    key(out, "outcomes");
    append_json_uint(out, g.outcomes);
    key(out, "successes");
    append_json_uint(out, g.successes);
    key(out, "success_rate");
    report_json::number_or_null(out, g.success_rate);
    const bool timed = g.duration_count != 0;
    const std::pair<const char*, double> figures[] = {{"avg_ms", g.duration_avg},
                                                      {"p50_ms", g.duration_p50},
                                                      {"p95_ms", g.duration_p95},
                                                      {"p99_ms", g.duration_p99},
                                                      {"max_ms", g.duration_max}};
    for (const auto& [name, value] : figures) {
      key(out, name);
      report_json::number_or_null(out, timed ? std::optional<double>(value) : std::nullopt);
    }
    key(out, "histogram");
    out += '[';
    const auto histogram = s.latency.find(g.key[0]);
    for (size_t b = 0; b <= kLatencyEdgesMs.size(); ++b) {
      if (b != 0) out += ',';
      append_json_uint(out, histogram == s.latency.end() ? 0 : histogram->second[b]);
    }
    out += "]}";
  }
  out += "]}";

  // Traces: pass 2 may not have run (no chosen trace, or no line of one).
  key(out, "traces");
  out += '{';
  key(out, "roots", true);
  append_json_uint(out, s.roots);
  key(out, "failed_spans");
  append_json_uint(out, s.failed_spans);
  const auto trace_list = [&](const std::vector<std::string>& ids) {
    out += '[';
    bool first = true;
    for (const std::string& id : ids) {
      std::string one;
      if (!s.waterfalls || !s.waterfalls->append_json(one, id)) continue;
      if (!first) out += ',';
      first = false;
      out += one;
    }
    out += ']';
  };
  key(out, "slowest");
  trace_list(s.slowest_first());
  key(out, "failed");
  trace_list(s.failed_newest_first());
  key(out, "requested");
  trace_list(s.options.traces);
  out += '}';

  // Policy.
  key(out, "policy");
  out += '{';
  key(out, "checks", true);
  append_json_uint(out, s.policy_checks);
  key(out, "decisions");
  std::vector<std::pair<uint64_t, std::pair<std::string, std::string>>> decisions;
  for (const auto& [k, n] : s.decisions) decisions.emplace_back(n, k);
  std::stable_sort(decisions.begin(), decisions.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  out += '[';
  for (size_t i = 0; i < decisions.size(); ++i) {
    if (i != 0) out += ',';
    out += '{';
    key(out, "policy", true);
    out += string_or_null_text(report_json::readable(decisions[i].second.first));
    key(out, "decision");
    out += string_or_null_text(report_json::readable(decisions[i].second.second));
    key(out, "count");
    append_json_uint(out, decisions[i].first);
    out += '}';
  }
  out += ']';
  key(out, "denied_total");
  append_json_uint(out, s.denied_total);
  key(out, "denied_reasons");
  out += '[';
  const auto reasons = s.denied_reasons.largest(kDeniedReasons);
  for (size_t i = 0; i < reasons.size(); ++i) {
    if (i != 0) out += ',';
    out += '{';
    key(out, "reason", true);
    append_json_string(out, reasons[i].first);
    key(out, "count");
    append_json_uint(out, reasons[i].second);
    out += '}';
  }
  out += ']';
  for (auto [name, rows] : {std::pair{"denied", &s.denied}, std::pair{"breakglass", &s.breakglass}}) {
    key(out, name);
    out += '[';
    const std::vector<RecentRow>& kept = rows->finish();
    for (size_t i = 0; i < kept.size(); ++i) {
      if (i != 0) out += ',';
      out += kept[i].json;
    }
    out += ']';
  }
  out += '}';

  // Cost.
  const CostReport cost = s.cost.finish();
  key(out, "cost");
  out += '{';
  key(out, "requests", true);
  append_json_uint(out, cost.total.requests);
  append_amounts(out, "cost_usd", cost.total.cost, true);
  append_amounts(out, "tokens", cost.total.tokens, false);
  append_amounts(out, "average_usd", cost.total.average_cost(), true);
  key(out, "by_model");
  out += '[';
  for (size_t i = 0; i < cost.groups.size(); ++i) {
    const CostGroup& g = cost.groups[i];
    if (i != 0) out += ',';
    out += '{';
    key(out, "model", true);
    out += string_or_null_text(report_json::readable(g.key[0]));
    key(out, "requests");
    append_json_uint(out, g.requests);
    append_amounts(out, "cost_usd", g.cost, true);
    append_amounts(out, "tokens", g.tokens, false);
    append_amounts(out, "average_usd", g.average_cost(), true);
    key(out, "share");
    append_json_double(out, cost.total.cost.units() == 0
                                ? 0
                                : static_cast<double>(g.cost.units()) / static_cast<double>(cost.total.cost.units()));
    out += '}';
  }
  out += ']';
  key(out, "timeline");
  out += '{';
  append_timeline_head(out, s.timeline);
  key(out, "models");
  append_series(out, s.timeline, kCostSeries, kModelSeries);
  out += "}}";

  // Errors.
  key(out, "errors");
  out += '{';
  key(out, "total", true);
  append_json_uint(out, s.error_lines);
  std::vector<const ErrorGroup*> groups;
  for (const auto& [k, group] : s.error_groups) groups.push_back(&group);
  std::stable_sort(groups.begin(), groups.end(),
                   [](const ErrorGroup* a, const ErrorGroup* b) { return a->count > b->count; });
  const size_t shown = std::min(groups.size(), kErrorGroups);
  key(out, "groups");
  out += '[';
  for (size_t i = 0; i < shown; ++i) {
    if (i != 0) out += ',';
    out += '{';
    key(out, "type", true);
    append_json_string(out, groups[i]->type);
    key(out, "code");
    out += groups[i]->code;
    key(out, "count");
    append_json_uint(out, groups[i]->count);
    key(out, "example");
    out += groups[i]->example_json;
    out += '}';
  }
  out += ']';
  key(out, "other_groups");
  append_json_uint(out, groups.size() - shown + (s.error_other != 0 ? 1 : 0));
  out += "}}";
  return out;
}

}  // namespace ringtail::reader
