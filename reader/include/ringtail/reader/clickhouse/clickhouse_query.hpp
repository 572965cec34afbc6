// ClickHouseQuery: `ringtail query|stats|report|export --engine clickhouse://...`:
// the questions the directory verbs answer (query/scanner.hpp,
// query/stats.hpp, query/cost.hpp), asked of ringtail's ClickHouse table
// (clickhouse_table.hpp) and computed there by SQL, with the same answers.
//
//   scan()    the lines that pass a Filter, oldest first, each rebuilt from
//             keys/values (the stored bytes, exactly), parsed with simdjson
//             and handed to the LineCallback the directory scan calls, so a
//             verb prints them with its own code. The filter is the WHERE
//             (clickhouse_where.hpp), the order ORDER BY time_ns and then the
//             table's key, a limit LIMIT. The answer (RowBinary) is read row
//             by row as it arrives, never held whole; it is asked with
//             wait_end_of_query=1, so that ClickHouse (which then buffers the
//             answer, spilling to disk) reports an error as an error status
//             rather than as text after rows already sent.
//   stats()   a StatsResult from one aggregating query (two with --top, the
//             second for the totals over every group).
//   cost()    a CostReport from one aggregating query, money summed as
//             Decimal128(18) from the numbers' text (never as Float64).
//
// Every query reads `FROM db.table FINAL`: the table is a
// ReplacingMergeTree, and FINAL merges the duplicates a retried insert or a
// restarted drain left before ClickHouse's background merges do.
//
// Where the answer is the directory's, and where it cannot be:
//   * Equal timestamps: the directory merges files by timestamp and keeps
//     each file's line order (the drain's); here lines with equal time_ns
//     follow the table's key (host, service, pid, process start, tid, seq,
//     line hash): a thread's lines keep their order, a gap line (no seq, 0
//     in the table) comes before an event of its thread with the same time,
//     as a ring's drop record does in a file; the first gap line of a
//     flight-mode ring, which the drain writes after the event whose time it
//     carries, is the one such pair that comes swapped. Lines of different
//     processes at the same nanosecond may come in another order.
//   * stats: percentiles and max are the nearest-rank values themselves
//     (their text, read by simdjson as the directory reads them): equal.
//     The average is the sum of the values read by ClickHouse as Float64,
//     in ascending order: on ClickHouse 18.16, whose decimal reader may be
//     one unit in the last place off (exact_decimal.hpp), the sum may differ
//     in its last bits, which %.6g never shows.
//   * Paths into nested objects deeper than 16 levels, or past the sink's
//     per-line budget (clickhouse_rows.hpp), are not in the table.
//   * `host` names the host column (as a string) when a line has no `host`
//     key; over a directory there is no host.
//
// Errors (a server that cannot be reached, a SQL error) are Unavailable or
// FailedPrecondition with ClickHouseClient's one-line message.
//
// Threading: one thread at a time per ClickHouseQuery.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ringtail/reader/clickhouse/clickhouse_client.hpp"
#include "ringtail/reader/query/cost.hpp"
#include "ringtail/reader/query/filter.hpp"
#include "ringtail/reader/query/scanner.hpp"
#include "ringtail/reader/query/stats.hpp"

namespace ringtail::reader {

class ClickHouseQuery {
 public:
  // `report` gets one line per problem that does not stop the answer (a
  // stored line that is not a JSON object); may be empty.
  explicit ClickHouseQuery(ClickHouseTarget target, std::function<void(std::string_view)> report = {});
  ~ClickHouseQuery();
  ClickHouseQuery(const ClickHouseQuery&) = delete;
  ClickHouseQuery& operator=(const ClickHouseQuery&) = delete;

  // The lines that pass `filter`, oldest first, at most `limit` (0: all),
  // each to `emit` (raw text without '\n', and its parse); `emit` returning
  // false ends the scan (the request is dropped).
  absl::Status scan(const Filter& filter, uint64_t limit, const LineCallback& emit);

  // stats over the lines that pass `filter` (StatsAccumulator's answer);
  // `top` as StatsAccumulator::finish takes it.
  absl::StatusOr<StatsResult> stats(const Filter& filter, const StatsOptions& options, size_t top = 0);

  // The cost report over the lines that pass `filter` and have a cost_usd
  // (CostAccumulator's answer), per group of `by`.
  absl::StatusOr<CostReport> cost(const Filter& filter, const std::vector<std::string>& by);

  // The SQL each sends (FORMAT RowBinary), for tests and for people.
  std::string scan_sql(const Filter& filter, uint64_t limit) const;
  std::string stats_sql(const Filter& filter, const StatsOptions& options, size_t top) const;
  std::string stats_totals_sql(const Filter& filter) const;
  std::string cost_sql(const Filter& filter, const std::vector<std::string>& by) const;

  // Stored lines scan() skipped because they did not parse as JSON objects.
  uint64_t bad_lines() const { return bad_lines_; }

 private:
  ClickHouseTarget target_;
  std::function<void(std::string_view)> report_;
  ClickHouseClient client_;
  uint64_t bad_lines_ = 0;
};

}  // namespace ringtail::reader
