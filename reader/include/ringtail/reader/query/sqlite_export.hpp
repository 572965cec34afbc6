// The SQLite export (`ringtail export DIR --format sqlite -o FILE.db`): the
// stored lines a Scanner hands on become rows of one SQLite database file,
// for analysis on one machine with SQL. The schema is docs/QUERY.md's
// "SQLite export" (format version 1):
//
//   events  one row per line, in the order given: the reserved keys, host,
//           trace_id and span_id in columns, every other key in `fields` (a
//           JSON object), the line itself in `line`;
//   spans   one row per span, from its span.start and span.end lines paired
//           by (pid, trace_id, span_id); an end without a start, and a start
//           without an end, still get a row (the other half NULL);
//   meta    key/value: the format version, exported_at, the filter, counts.
//
// Contract:
//   * Nothing exists at `path` until finish() succeeds: rows go to a
//     temporary file beside it, renamed over `path` (replacing a file there)
//     only when complete. A writer destroyed before that, or a failed
//     finish(), removes the temporary file.
//   * Memory is bounded whatever the input: a span.start is written as a row
//     at once and its end completes that row, found in SQLite by an index;
//     nothing waits in memory for its pair.
//   * Values are untrusted: every value is bound as a parameter, never put
//     into SQL text. A reserved key whose value does not fit its column (not
//     a string, or an integer beyond int64 such as a u64 above INT64_MAX)
//     leaves the column NULL and stays, exactly as stored, in `fields`.
//   * After an error, every call returns that error.
//
// Threading: one thread per writer; writers are independent.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "simdjson.h"

struct sqlite3;

namespace ringtail::reader {

// The format version, in meta ("format_version") and PRAGMA user_version.
inline constexpr int kSqliteExportFormatVersion = 1;

struct SqliteExportOptions {
  // meta "exported_at"; nullopt: now (CLOCK_REALTIME).
  std::optional<int64_t> exported_at_ns;
  // meta "filter": how the lines were chosen, as the caller states it (the
  // CLI: its filter flags as a JSON object); empty: no such row.
  std::string filter;
};

struct SqliteExportStats {
  uint64_t events = 0;              // rows of events: every line given to add()
  uint64_t spans = 0;               // rows of spans
  uint64_t spans_without_end = 0;   // span.start rows no span.end completed
  uint64_t ends_without_start = 0;  // span.end rows with no start before them
  uint64_t unfit_values = 0;        // reserved keys left in fields (wrong type, beyond int64)
};

class SqliteExportWriter {
 public:
  // Creates the temporary file beside `path` and the tables, and begins the
  // one transaction. An error if the file cannot be created (a missing
  // directory, no permission).
  static absl::StatusOr<std::unique_ptr<SqliteExportWriter>> create(const std::string& path,
                                                                    SqliteExportOptions options = {});
  // Removes the temporary file unless finish() succeeded.
  ~SqliteExportWriter();
  SqliteExportWriter(const SqliteExportWriter&) = delete;
  SqliteExportWriter& operator=(const SqliteExportWriter&) = delete;

  // Adds one stored line: its text (without '\n') and the JSON object parsed
  // from it, in export order (timestamp order, as Scanner::scan_ordered gives
  // them: a span's start comes before its end).
  absl::Status add(std::string_view raw_line, simdjson::dom::element line);

  // Writes meta, creates the indexes, commits, closes, syncs the file to disk
  // and renames it over `path`. Call once, last.
  absl::StatusOr<SqliteExportStats> finish();

  const std::string& path() const { return path_; }

 private:
  class Statement;

  SqliteExportWriter(std::string path, std::string temp_path, SqliteExportOptions options);
  absl::Status open();
  absl::Status add_span(simdjson::dom::object line, bool start, int64_t event_id);
  // Runs SQL text of the writer's own (never data).
  absl::Status exec(const char* sql);
  // Records `status` as the writer's error (the first one wins) and returns it.
  absl::Status fail(absl::Status status);
  // Closes the database and removes the temporary file.
  void discard();

  std::string path_;
  std::string temp_path_;
  SqliteExportOptions options_;
  sqlite3* db_ = nullptr;
  std::unique_ptr<Statement> insert_event_;
  std::unique_ptr<Statement> insert_span_;
  std::unique_ptr<Statement> end_span_;
  SqliteExportStats stats_;
  uint64_t span_starts_ = 0;
  uint64_t matched_ends_ = 0;
  std::string fields_;  // scratch: a row's JSON object of the other keys
  absl::Status error_;
  bool finished_ = false;
};

}  // namespace ringtail::reader
