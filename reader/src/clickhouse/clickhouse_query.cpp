// ClickHouseQuery: the SQL of query, stats and report --cost over ringtail's
// table, and the reading of their RowBinary answers (the header says what
// each computes and where it can differ from a directory's answer).
#include "ringtail/reader/clickhouse/clickhouse_query.hpp"

#include <algorithm>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "clickhouse/json_sql.hpp"
#include "internal/message_text.hpp"
#include "ringtail/reader/clickhouse/clickhouse_where.hpp"
#include "ringtail/reader/query/json_path.hpp"

namespace ringtail::reader {
namespace {

using internal::cat;

// A row longer than this is no line the reader wrote (lines are bounded by
// the records a producer may log): the answer is taken as corrupt.
constexpr uint64_t kMostRowBytes = uint64_t{1} << 30;

// The table's key, after time_ns: the order of lines with equal timestamps.
constexpr std::string_view kLineOrder = "time_ns, host, service, pid, process_start, tid, seq, line_hash";

// --- RowBinary ---------------------------------------------------------------

// Reads RowBinary values from an answer: LEB128-prefixed strings, integers
// and floats little-endian. Every read checks the bounds; a short answer
// fails the read.
class RowReader {
 public:
  explicit RowReader(std::string_view data) : data_(data) {}

  bool at_end() const { return at_ == data_.size(); }
  size_t position() const { return at_; }

  bool string(std::string_view* out) {
    uint64_t size = 0;
    if (!leb128(&size) || size > data_.size() - at_) return false;
    *out = data_.substr(at_, size);
    at_ += size;
    return true;
  }
  bool string(std::string* out) {
    std::string_view view;
    if (!string(&view)) return false;
    out->assign(view);
    return true;
  }
  bool u64(uint64_t* out) {
    if (data_.size() - at_ < 8) return false;
    uint64_t value = 0;
    for (int i = 7; i >= 0; --i) value = value << 8 | static_cast<unsigned char>(data_[at_ + static_cast<size_t>(i)]);
    at_ += 8;
    *out = value;
    return true;
  }
  bool f64(double* out) {
    uint64_t bits = 0;
    if (!u64(&bits)) return false;
    std::memcpy(out, &bits, sizeof(bits));
    return true;
  }
  // The length prefix alone: false when it is not all there yet.
  bool leb128(uint64_t* out) {
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (at_ >= data_.size()) return false;
      const auto byte = static_cast<unsigned char>(data_[at_++]);
      value |= uint64_t{byte & 0x7Fu} << shift;
      if ((byte & 0x80) == 0) {
        *out = value;
        return true;
      }
    }
    return false;
  }

 private:
  std::string_view data_;
  size_t at_ = 0;
};

absl::Status corrupt_answer(const ClickHouseTarget& target, std::string_view what) {
  return absl::DataLossError(
      cat("ClickHouse ", target.describe(), ": the answer to ", what, " is cut short or corrupt"));
}

// --- SQL pieces ----------------------------------------------------------------

// FROM the table FINAL, with the filter as PREWHERE (its cheap bounds,
// when it has any) and WHERE. Duplicate rows are equal, so bounds applied
// before FINAL merges them keep or drop every copy alike.
std::string from_final_where(const ClickHouseTarget& target, const Filter& filter) {
  std::string out = cat("FROM ", target.qualified_table(), " FINAL");
  if (const std::string prewhere = clickhouse_prewhere(filter); !prewhere.empty()) {
    out += cat("\nPREWHERE ", prewhere);
  }
  return cat(out, "\nWHERE ", clickhouse_where(filter));
}

// The JSON text a --by key names, "null" when it names nothing (stats.hpp).
std::string group_text(const std::string& key) {
  const internal::SqlValue value = internal::sql_lookup(key, is_json_path(key));
  return cat("if(", value.found, ", ", value.text, ", 'null')");
}

// The decoded timestamp of a line, and whether it is a nonempty string (the
// directory's first/last take only those).
struct SqlTimestamp {
  std::string text;
  std::string usable;
};
SqlTimestamp line_timestamp() {
  const internal::SqlValue value = internal::sql_lookup("timestamp", false);
  std::string decoded = internal::sql_decoded_string(value.text);
  std::string usable = cat("(", internal::sql_is_string(value.text), " AND ", decoded, " != '')");
  return {std::move(decoded), std::move(usable)};
}

// The outcome of a line for the success rate: 1, 0, or -1 for none
// (stats.hpp: the first of status, allow, decision it has).
std::string line_outcome() {
  const std::string status = internal::sql_lookup("status", false).text;
  const std::string allow = internal::sql_lookup("allow", false).text;
  const std::string decision = internal::sql_lookup("decision", false).text;
  return cat("multiIf(", status, " IN ('\"SUCCESS\"', '\"OK\"'), 1, ", status,
             " IN ('\"FAILURE\"', '\"PARTIAL\"', '\"ERROR\"'), 0, ", allow, " = 'true', 1, ", allow, " = 'false', 0, ",
             decision, " = '\"ALLOW\"', 1, ", decision, " = '\"BLOCK\"', 0, -1)");
}

// The 1-based index of stats.cpp's nearest rank p = numerator/denominator
// in a sorted array of `size` values: rank = ceil(p * size), at least 1 and
// at most size. p is computed as that division so that it is the double the
// C++ literal is (ClickHouse 18.16 may read a decimal literal 1 ulp off).
std::string nearest_rank_index(const std::string& size, int numerator, int denominator) {
  const std::string real_size = cat("toFloat64(", size, ")");
  return cat("toUInt64(greatest(toFloat64(1), least(", real_size, ", ceil(", real_size, " * (",
             std::to_string(numerator), " / ", std::to_string(denominator), ")))))");
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

Filter with_cost(const Filter& filter) {
  Filter out = filter;
  out.add(*parse_where("cost_usd exists"));
  return out;
}

}  // namespace

ClickHouseQuery::ClickHouseQuery(ClickHouseTarget target, std::function<void(std::string_view)> report)
    : target_(std::move(target)), report_(std::move(report)), client_(target_) {
  if (!report_) report_ = [](std::string_view) {};
}

ClickHouseQuery::~ClickHouseQuery() = default;

// --- query ---------------------------------------------------------------------------

std::string ClickHouseQuery::scan_sql(const Filter& filter, uint64_t limit) const {
  // The line, byte for byte (clickhouse_table.hpp).
  std::string sql =
      cat("SELECT concat('{', arrayStringConcat(arrayMap((k, v) -> concat('\"', k, '\":', v), keys, "
          "values), ','), '}')\n",
          from_final_where(target_, filter), "\nORDER BY ", kLineOrder);
  if (limit != 0) sql += cat("\nLIMIT ", std::to_string(limit));
  sql += "\nFORMAT RowBinary";
  return sql;
}

absl::Status ClickHouseQuery::scan(const Filter& filter, uint64_t limit, const LineCallback& emit) {
  simdjson::dom::parser parser;
  std::string pending;  // the answer's bytes not yet read as whole rows
  bool stop = false;
  absl::Status failure;
  absl::Status status = client_.execute_streaming(scan_sql(filter, limit), [&](std::string_view piece) {
    pending.append(piece);
    size_t consumed = 0;  // bytes of `pending` read as whole rows
    while (!stop) {
      RowReader row(std::string_view{pending}.substr(consumed));
      uint64_t size = 0;
      if (!row.leb128(&size)) break;  // the length is still coming
      if (size > kMostRowBytes) {
        failure = corrupt_answer(target_, "the query");
        return false;
      }
      const size_t start = consumed + row.position();
      if (pending.size() - start < size) break;  // the rest of the row is still coming
      const std::string_view line(pending.data() + start, size);
      consumed = start + size;
      simdjson::dom::element element;
      if (parser.parse(line.data(), line.size()).get(element) != simdjson::SUCCESS || !element.is_object()) {
        if (bad_lines_++ == 0) {
          report_(cat("ClickHouse ", target_.describe(),
                      ": a stored line that is not a JSON object was skipped (reported once)"));
        }
      } else if (!emit(line, element)) {
        stop = true;
      }
    }
    pending.erase(0, consumed);
    return !stop;
  });
  if (!failure.ok()) return failure;
  if (!status.ok()) return status;
  if (!stop && !pending.empty()) return corrupt_answer(target_, "the query");
  return absl::OkStatus();
}

// --- stats ---------------------------------------------------------------------------

std::string ClickHouseQuery::stats_sql(const Filter& filter, const StatsOptions& options, size_t top) const {
  const SqlTimestamp timestamp = line_timestamp();
  // Inner: per group and value of --most-common, the counts, times,
  // outcomes and durations; outer: per group, the mode and the percentiles.
  std::vector<std::string> keys;
  std::vector<std::string> inner = {};
  for (size_t i = 0; i < options.by.size(); ++i) {
    keys.push_back(cat("rt_key", std::to_string(i)));
    inner.push_back(cat(group_text(options.by[i]), " AS ", keys.back()));
  }
  if (options.most_common_key.empty()) {
    inner.emplace_back("toUInt8(0) AS rt_mc_found");
    inner.emplace_back("'' AS rt_mc_text");
  } else {
    const internal::SqlValue value =
        internal::sql_lookup(options.most_common_key, is_json_path(options.most_common_key));
    inner.push_back(cat("toUInt8(", value.found, ") AS rt_mc_found"));
    inner.push_back(cat(value.text, " AS rt_mc_text"));
  }
  inner.emplace_back("count() AS rt_count");
  inner.push_back(cat("minIf(", timestamp.text, ", ", timestamp.usable, ") AS rt_first"));
  inner.push_back(cat("maxIf(", timestamp.text, ", ", timestamp.usable, ") AS rt_last"));
  const std::string outcome = line_outcome();
  inner.push_back(cat("countIf(", outcome, " >= 0) AS rt_outcomes"));
  inner.push_back(cat("countIf(", outcome, " = 1) AS rt_successes"));
  if (!options.duration_field.empty()) {
    const internal::SqlValue value = internal::sql_lookup(options.duration_field, is_json_path(options.duration_field));
    inner.push_back(cat("groupArrayIf(", value.text, ", ", value.found, " AND ", internal::sql_is_number(value.text),
                        ") AS rt_durations"));
  }
  std::vector<std::string> inner_keys = keys;
  inner_keys.emplace_back("rt_mc_found");
  inner_keys.emplace_back("rt_mc_text");

  // Middle: per group; the answer's columns are picked from it by the outer
  // SELECT (arrays stay inside).
  std::vector<std::string> middle = keys;
  middle.emplace_back("toUInt64(sum(rt_count)) AS rt_total");
  middle.emplace_back("minIf(rt_first, rt_first != '') AS rt_group_first");
  middle.emplace_back("maxIf(rt_last, rt_last != '') AS rt_group_last");
  middle.emplace_back("toUInt64(sum(rt_outcomes)) AS rt_group_outcomes");
  middle.emplace_back("toUInt64(sum(rt_successes)) AS rt_group_successes");
  std::vector<std::string> outer = keys;
  for (const char* column :
       {"rt_total", "rt_group_first", "rt_group_last", "rt_group_outcomes", "rt_group_successes"}) {
    outer.emplace_back(column);
  }
  if (!options.duration_field.empty()) {
    // Sorted by ClickHouse's Float64 reading of each text, which may be one
    // unit in the last place off (exact_decimal.hpp), so neighbours within a
    // few units may come swapped; each nearest-rank value is then picked
    // exactly, as stats.cpp sorts doubles: the values whose reading lies
    // within a relative 1e-12 of the one at the rank (a window far wider
    // than any misreading) are sorted by their exact order keys, and the
    // rank is counted from the values read below the window (truly below
    // every value in it). The exact keys, costly regex work, are computed
    // for those few values only.
    middle.emplace_back("groupArrayArray(rt_durations) AS rt_all");
    middle.emplace_back("arraySort(x -> toFloat64OrZero(x), rt_all) AS rt_sorted");
    middle.emplace_back("arrayMap(x -> toFloat64OrZero(x), rt_sorted) AS rt_floats");
    const auto exact_at = [](const std::string& rank) {
      const std::string value = cat("arrayElement(rt_floats, ", rank, ")");
      const std::string margin = cat("(abs(", value, ") * 1e-12 + 1e-300)");
      return cat("arrayElement(arraySort(x -> ", internal::sql_number_key("x"), ", arrayFilter((x, f) -> abs(f - ",
                 value, ") <= ", margin, ", rt_sorted, rt_floats)), ", rank, " - arrayCount(f -> f < ", value, " - ",
                 margin, ", rt_floats))");
    };
    outer.emplace_back("toUInt64(length(rt_sorted))");
    outer.emplace_back("toFloat64(arraySum(rt_floats))");
    for (const auto& [numerator, denominator] : {std::pair{1, 2}, std::pair{95, 100}, std::pair{99, 100}}) {
      outer.push_back(exact_at(nearest_rank_index("length(rt_sorted)", numerator, denominator)));
    }
    outer.push_back(exact_at("toUInt64(greatest(length(rt_sorted), 1))"));
  }
  if (!options.most_common_key.empty()) {
    middle.emplace_back("groupArrayIf(rt_mc_text, rt_mc_found = 1) AS rt_mc_values");
    middle.emplace_back("groupArrayIf(rt_count, rt_mc_found = 1) AS rt_mc_counts");
    outer.emplace_back("toUInt64(arrayReduce('max', rt_mc_counts))");
    // Ties: the smallest value text (stats.cpp walks a std::map).
    outer.emplace_back(
        "arrayReduce('min', arrayFilter((v, c) -> c = arrayReduce('max', rt_mc_counts), rt_mc_values, rt_mc_counts))");
  }
  std::string sql =
      cat("SELECT ", joined(outer), "\nFROM (\n  SELECT ", joined(middle), "\n  FROM (\n    SELECT ", joined(inner),
          "\n    ", from_final_where(target_, filter), "\n    GROUP BY ", joined(inner_keys), "\n  )");
  if (!keys.empty()) sql += cat("\n  GROUP BY ", joined(keys));
  sql += "\n)";
  // Largest first, ties by the keys' texts (byte order, as std::string's).
  std::vector<std::string> order = {"rt_total DESC"};
  order.insert(order.end(), keys.begin(), keys.end());
  sql += cat("\nORDER BY ", joined(order));
  if (top != 0) sql += cat("\nLIMIT ", std::to_string(top));
  sql += "\nFORMAT RowBinary";
  return sql;
}

std::string ClickHouseQuery::stats_totals_sql(const Filter& filter) const {
  const SqlTimestamp timestamp = line_timestamp();
  return cat("SELECT toUInt64(count()), minIf(", timestamp.text, ", ", timestamp.usable, "), maxIf(", timestamp.text,
             ", ", timestamp.usable, ")\n", from_final_where(target_, filter), "\nFORMAT RowBinary");
}

absl::StatusOr<StatsResult> ClickHouseQuery::stats(const Filter& filter, const StatsOptions& options, size_t top) {
  absl::StatusOr<std::string> answer = client_.execute(stats_sql(filter, options, top));
  if (!answer.ok()) return answer.status();
  StatsResult result;
  simdjson::dom::parser parser;
  // A nearest-rank value's text, read as stats.cpp reads the line's value.
  const auto number = [&parser](std::string_view text, double* out) {
    simdjson::dom::element element;
    return parser.parse(text.data(), text.size()).get(element) == simdjson::SUCCESS &&
           element.get(*out) == simdjson::SUCCESS;
  };
  RowReader rows(*answer);
  while (!rows.at_end()) {
    GroupStats group;
    group.key.resize(options.by.size());
    for (std::string& key : group.key) {
      if (!rows.string(&key)) return corrupt_answer(target_, "stats");
    }
    if (!rows.u64(&group.count) || !rows.string(&group.first_timestamp) || !rows.string(&group.last_timestamp) ||
        !rows.u64(&group.outcomes) || !rows.u64(&group.successes)) {
      return corrupt_answer(target_, "stats");
    }
    if (!options.duration_field.empty()) {
      double sum = 0;
      std::string_view p50;
      std::string_view p95;
      std::string_view p99;
      std::string_view max;
      if (!rows.u64(&group.duration_count) || !rows.f64(&sum) || !rows.string(&p50) || !rows.string(&p95) ||
          !rows.string(&p99) || !rows.string(&max)) {
        return corrupt_answer(target_, "stats");
      }
      if (group.duration_count != 0) {
        if (!number(p50, &group.duration_p50) || !number(p95, &group.duration_p95) ||
            !number(p99, &group.duration_p99) || !number(max, &group.duration_max)) {
          return corrupt_answer(target_, "stats");
        }
        group.duration_avg = sum / static_cast<double>(group.duration_count);
      }
    }
    if (!options.most_common_key.empty()) {
      if (!rows.u64(&group.most_common_count) || !rows.string(&group.most_common)) {
        return corrupt_answer(target_, "stats");
      }
      if (group.most_common_count == 0) group.most_common.clear();
    }
    if (group.count == 0) continue;  // no --by over no line: the one empty row
    if (group.outcomes != 0) {
      group.success_rate = static_cast<double>(group.successes) / static_cast<double>(group.outcomes);
    }
    result.groups.push_back(std::move(group));
  }
  // Totals: over every group, which the answer holds unless --top cut it.
  if (top == 0) {
    for (const GroupStats& group : result.groups) {
      result.total += group.count;
      if (!group.first_timestamp.empty() &&
          (result.first_timestamp.empty() || group.first_timestamp < result.first_timestamp)) {
        result.first_timestamp = group.first_timestamp;
      }
      if (!group.last_timestamp.empty() &&
          (result.last_timestamp.empty() || group.last_timestamp > result.last_timestamp)) {
        result.last_timestamp = group.last_timestamp;
      }
    }
  } else {
    absl::StatusOr<std::string> totals = client_.execute(stats_totals_sql(filter));
    if (!totals.ok()) return totals.status();
    RowReader row(*totals);
    if (!row.u64(&result.total) || !row.string(&result.first_timestamp) || !row.string(&result.last_timestamp)) {
      return corrupt_answer(target_, "stats");
    }
  }
  // The rest as StatsAccumulator::finish computes it.
  double span_s = 0;
  if (options.span_ns) {
    span_s = static_cast<double>(*options.span_ns) / 1e9;
  } else {
    const std::optional<int64_t> first = timestamp_ns(result.first_timestamp);
    const std::optional<int64_t> last = timestamp_ns(result.last_timestamp);
    if (first && last) span_s = static_cast<double>(*last - *first) / 1e9;
  }
  result.span_s = std::max(span_s, 1.0);
  for (GroupStats& group : result.groups) {
    group.share = result.total == 0 ? 0 : static_cast<double>(group.count) / static_cast<double>(result.total);
    group.rate_per_s = static_cast<double>(group.count) / result.span_s;
  }
  std::stable_sort(result.groups.begin(), result.groups.end(), [](const GroupStats& a, const GroupStats& b) {
    return a.count != b.count ? a.count > b.count : a.key < b.key;
  });
  if (top != 0 && result.groups.size() > top) result.groups.resize(top);
  return result;
}

// --- report --cost ---------------------------------------------------------------------

std::string ClickHouseQuery::cost_sql(const Filter& filter, const std::vector<std::string>& by) const {
  // Inner: per line, the group keys and the numbers as decimals (step by
  // step, sql_decimal18); outer: the sums per group.
  std::vector<std::string> keys;
  std::vector<std::string> inner;
  for (size_t i = 0; i < by.size(); ++i) {
    keys.push_back(cat("rt_key", std::to_string(i)));
    inner.push_back(cat(group_text(by[i]), " AS ", keys.back()));
  }
  // cost.cpp: the top-level cost_usd, tokens, input_tokens, output_tokens,
  // each taken only when Decimal::parse takes its number text.
  const internal::SqlDecimal cost = internal::sql_decimal18(internal::sql_lookup("cost_usd", false).text, "rt_cost");
  const internal::SqlDecimal tokens = internal::sql_decimal18(internal::sql_lookup("tokens", false).text, "rt_tokens");
  const internal::SqlDecimal input =
      internal::sql_decimal18(internal::sql_lookup("input_tokens", false).text, "rt_input");
  const internal::SqlDecimal output =
      internal::sql_decimal18(internal::sql_lookup("output_tokens", false).text, "rt_output");
  for (const internal::SqlDecimal* number : {&cost, &tokens, &input, &output}) {
    inner.insert(inner.end(), number->columns.begin(), number->columns.end());
  }
  // A line without a readable tokens counts input_tokens + output_tokens.
  inner.push_back(cat("(", tokens.readable, " OR ", input.readable, " OR ", output.readable, ") AS rt_has_tokens"));
  inner.push_back(
      cat("if(", tokens.readable, ", ", tokens.value, ", ", input.value, " + ", output.value, ") AS rt_line_tokens"));
  std::vector<std::string> outer = keys;
  outer.push_back(cat("toUInt64(countIf(", cost.readable, "))"));
  outer.push_back(cat("toString(sumIf(", cost.value, ", ", cost.readable, "))"));
  outer.push_back(cat("toString(sumIf(rt_line_tokens, ", cost.readable, " AND rt_has_tokens))"));
  outer.push_back(cat("toUInt64(countIf(NOT ", cost.readable, "))"));
  std::string sql = cat("SELECT ", joined(outer), "\nFROM (\n  SELECT ", joined(inner), "\n  ",
                        from_final_where(target_, with_cost(filter)), "\n)");
  if (!keys.empty()) sql += cat("\nGROUP BY ", joined(keys));
  sql += "\nFORMAT RowBinary";
  return sql;
}

absl::StatusOr<CostReport> ClickHouseQuery::cost(const Filter& filter, const std::vector<std::string>& by) {
  absl::StatusOr<std::string> answer = client_.execute(cost_sql(filter, by));
  if (!answer.ok()) return answer.status();
  CostReport report;
  RowReader rows(*answer);
  while (!rows.at_end()) {
    CostGroup group;
    group.key.resize(by.size());
    for (std::string& key : group.key) {
      if (!rows.string(&key)) return corrupt_answer(target_, "report --cost");
    }
    std::string_view cost_text;
    std::string_view tokens_text;
    uint64_t unreadable = 0;
    if (!rows.u64(&group.requests) || !rows.string(&cost_text) || !rows.string(&tokens_text) ||
        !rows.u64(&unreadable)) {
      return corrupt_answer(target_, "report --cost");
    }
    const std::optional<Decimal> cost = Decimal::parse(cost_text);
    const std::optional<Decimal> tokens = Decimal::parse(tokens_text);
    if (!cost || !tokens) return corrupt_answer(target_, "report --cost");
    group.cost = *cost;
    group.tokens = *tokens;
    report.unreadable += unreadable;
    if (group.requests == 0) continue;  // only lines with an unreadable cost: no group (cost.cpp)
    report.total.requests += group.requests;
    report.total.cost += group.cost;
    report.total.tokens += group.tokens;
    report.groups.push_back(std::move(group));
  }
  // cost.cpp: groups in key order, then by cost, largest first (stable).
  std::sort(report.groups.begin(), report.groups.end(),
            [](const CostGroup& a, const CostGroup& b) { return a.key < b.key; });
  std::stable_sort(report.groups.begin(), report.groups.end(),
                   [](const CostGroup& a, const CostGroup& b) { return a.cost.units() > b.cost.units(); });
  return report;
}

}  // namespace ringtail::reader
