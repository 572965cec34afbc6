#include "ringtail/reader/query/sqlite_export.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ringtail/reader/ingest/timestamp.hpp"
#include "ringtail/reader/output/json_text.hpp"
#include "ringtail/reader/output/time_text.hpp"
#include "ringtail/reader/query/json_value.hpp"
#include "ringtail/reader/query/stats.hpp"

namespace ringtail::reader {
namespace {

namespace dom = simdjson::dom;

// The schema (docs/QUERY.md, "SQLite export"). The temporary file is renamed
// over the destination only once it is complete and closed, and removed on
// any error: nothing ever reads a half-written file, so it needs no rollback
// journal and no fsync per commit (journal_mode=OFF, synchronous=OFF). One
// fsync of the finished file comes before the rename. The page cache is
// bounded (16 MiB). The span_id index is made first: each span.end looks up
// its start with it. The others are made after the inserts, which is faster
// than keeping them up to date row by row.
constexpr const char* kCreateSql =
    "PRAGMA journal_mode=OFF;"
    "PRAGMA synchronous=OFF;"
    "PRAGMA locking_mode=EXCLUSIVE;"
    "PRAGMA cache_size=-16384;"
    "PRAGMA user_version=1;"
    "BEGIN;"
    "CREATE TABLE events("
    "id INTEGER PRIMARY KEY, timestamp TEXT, time_ns INTEGER, level TEXT, message TEXT, service TEXT, host TEXT, "
    "pid INTEGER, tid INTEGER, seq INTEGER, trace_id TEXT, span_id TEXT, fields TEXT, line TEXT);"
    "CREATE TABLE spans("
    "id INTEGER PRIMARY KEY, trace_id TEXT, span_id TEXT, parent_span_id TEXT, name TEXT, service TEXT, "
    "pid INTEGER, tid INTEGER, start_time TEXT, start_ns INTEGER, end_time TEXT, end_ns INTEGER, duration_ms REAL, "
    "status TEXT, error TEXT, attributes TEXT, start_event INTEGER, end_event INTEGER);"
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value);"
    "CREATE INDEX spans_span_id ON spans(span_id);";
static_assert(kSqliteExportFormatVersion == 1, "kCreateSql sets PRAGMA user_version=1");

constexpr const char* kIndexSql =
    "CREATE INDEX events_time_ns ON events(time_ns);"
    "CREATE INDEX events_trace_id ON events(trace_id);"
    "CREATE INDEX events_message_time_ns ON events(message, time_ns);"
    "CREATE INDEX spans_trace_id ON spans(trace_id);"
    "CREATE INDEX spans_parent_span_id ON spans(parent_span_id);"
    "COMMIT;";

constexpr const char* kInsertEventSql =
    "INSERT INTO events(id, timestamp, time_ns, level, message, service, host, pid, tid, seq, trace_id, span_id, "
    "fields, line) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";

constexpr const char* kInsertSpanSql =
    "INSERT INTO spans(trace_id, span_id, parent_span_id, name, service, pid, tid, start_time, start_ns, end_time, "
    "end_ns, duration_ms, status, error, attributes, start_event, end_event) "
    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)";

// The most recent start of the same (pid, trace_id, span_id) still open. A
// missing trace_id or pid (NULL) matches a missing one.
constexpr const char* kEndSpanSql =
    "UPDATE spans SET end_time = ?1, end_ns = ?2, duration_ms = ?3, status = ?4, error = ?5, end_event = ?6 "
    "WHERE id = (SELECT id FROM spans WHERE span_id = ?7 AND trace_id IS ?8 AND pid IS ?9 "
    "AND start_event IS NOT NULL AND end_event IS NULL ORDER BY id DESC LIMIT 1)";

constexpr const char* kInsertMetaSql = "INSERT INTO meta(key, value) VALUES(?1, ?2)";

// What a column takes; a value of another type stays in the JSON of the
// other keys.
enum class Fit : uint8_t {
  kString,  // a JSON string, as its text
  kInt64,   // a JSON integer within int64
  kNumber,  // any JSON number, as a double
  kAny,     // any JSON value, as its JSON text
};

struct Column {
  std::string_view key;
  Fit fit;
};

bool fits(dom::element value, Fit fit) {
  switch (fit) {
    case Fit::kString:
      return value.is_string();
    case Fit::kInt64:
      return value.type() == dom::element_type::INT64;
    case Fit::kNumber:
      return value.is_number();
    case Fit::kAny:
      return true;
  }
  return false;
}

// The keys of events' columns, in this order.
enum EventKey : uint8_t { kTimestamp, kLevel, kMessage, kService, kHost, kPid, kTid, kSeq, kTraceId, kSpanId };
constexpr std::array<Column, 10> kEventColumns = {{
    {"timestamp", Fit::kString},
    {"level", Fit::kString},
    {"message", Fit::kString},
    {"service", Fit::kString},
    {"host", Fit::kString},
    {"pid", Fit::kInt64},
    {"tid", Fit::kInt64},
    {"seq", Fit::kInt64},
    {"trace_id", Fit::kString},
    {"span_id", Fit::kString},
}};

// The keys a span line puts in spans' columns. The reserved keys are not the
// span's attributes either, so they are taken too. A start's other keys are
// its attributes; an end takes the first 13.
enum SpanKey : uint8_t {
  kSpanTimestamp,
  kSpanLevel,
  kSpanMessage,
  kSpanService,
  kSpanPid,
  kSpanTid,
  kSpanName,
  kSpanTraceId,
  kSpanSpanId,
  kSpanParent,
  kSpanStatus,
  kSpanDuration,
  kSpanError,
};
constexpr std::array<Column, 13> kSpanEndColumns = {{
    {"timestamp", Fit::kString},
    {"level", Fit::kString},
    {"message", Fit::kString},
    {"service", Fit::kString},
    {"pid", Fit::kInt64},
    {"tid", Fit::kInt64},
    {"span", Fit::kString},
    {"trace_id", Fit::kString},
    {"span_id", Fit::kString},
    {"parent_span_id", Fit::kString},
    {"status", Fit::kString},
    {"duration_ms", Fit::kNumber},
    {"error", Fit::kAny},
}};
constexpr size_t kSpanStartColumnCount = kSpanStatus;

template <size_t N>
using Taken = std::array<std::optional<dom::element>, N>;

// Puts the first member named by each of the first `count` `columns`, if its
// value fits, into `taken`; every other member goes, as stored (ringtail's
// canonical JSON text, which is how the reader stores values), into `rest`
// as a JSON object in the line's order. Returns how many members named a
// column but did not fit (or came again).
template <size_t N>
uint64_t split_members(dom::object object, const std::array<Column, N>& columns, size_t count, Taken<N>& taken,
                       std::string& rest) {
  uint64_t unfit = 0;
  rest.clear();
  rest.push_back('{');
  for (auto [key, value] : object) {
    size_t column = 0;
    while (column < count && columns[column].key != key) ++column;
    if (column < count) {
      if (!taken[column] && fits(value, columns[column].fit)) {
        taken[column] = value;
        continue;
      }
      ++unfit;
    }
    if (rest.size() > 1) rest.push_back(',');
    append_json_string(rest, key);
    rest.push_back(':');
    append_json_value(rest, value);
  }
  rest.push_back('}');
  return unfit;
}

std::optional<std::string_view> string_of(const std::optional<dom::element>& value) {
  if (!value) return std::nullopt;
  std::string_view text;
  if (value->get(text) != simdjson::SUCCESS) return std::nullopt;
  return text;
}

std::optional<int64_t> int64_of(const std::optional<dom::element>& value) {
  int64_t number = 0;
  if (!value || value->get(number) != simdjson::SUCCESS) return std::nullopt;
  return number;
}

std::optional<int64_t> time_of(const std::optional<dom::element>& timestamp) {
  const std::optional<std::string_view> text = string_of(timestamp);
  return text ? timestamp_ns(*text) : std::nullopt;
}

// An SQLite result code as a status: "cannot <doing>: <detail>".
absl::Status sqlite_status(int code, std::string_view doing, std::string_view detail) {
  std::string message = "cannot ";
  message.append(doing).append(": ").append(detail);
  switch (code & 0xff) {  // the primary code of an extended one
    case SQLITE_FULL:
      return absl::ResourceExhaustedError(message);
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
      return absl::UnavailableError(message);
    default:
      return absl::InternalError(message);
  }
}

// The same with the connection's message for its last failed call.
absl::Status sqlite_status(sqlite3* db, int code, std::string_view doing) {
  return sqlite_status(code, doing, db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code));
}

// Creates an empty file beside `path` that no one else has, with the mode a
// new `path` would get (0666 less the umask).
absl::StatusOr<std::string> create_temp_beside(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  constexpr int kAttempts = 100;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    std::string temp = absl::StrCat(path, ".tmp-", ::getpid(), "-", counter.fetch_add(1, std::memory_order_relaxed));
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) {
      ::close(fd);
      return temp;
    }
    if (errno != EEXIST) return absl::ErrnoToStatus(errno, absl::StrCat("cannot create ", temp));
  }
  return absl::AlreadyExistsError(absl::StrCat("cannot create a temporary file beside ", path));
}

absl::Status sync_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot open ", path));
  const int result = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (result != 0) return absl::ErrnoToStatus(error, absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

}  // namespace

// One prepared statement: bind, run, and it is reset for the next row.
class SqliteExportWriter::Statement {
 public:
  static absl::StatusOr<std::unique_ptr<Statement>> prepare(sqlite3* db, const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    const int code = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (code != SQLITE_OK) {
      sqlite3_finalize(stmt);
      return sqlite_status(db, code, "prepare a statement");
    }
    return std::unique_ptr<Statement>(new Statement(db, stmt));
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // The bytes must stay valid until run() (SQLITE_STATIC: not copied).
  void text(int index, std::string_view value) {
    // A null pointer would bind NULL, not an empty text.
    const char* data = value.empty() ? "" : value.data();
    note(sqlite3_bind_text64(stmt_, index, data, value.size(), SQLITE_STATIC, SQLITE_UTF8));
  }
  void text(int index, const std::optional<std::string_view>& value) {
    if (value) {
      text(index, *value);
    } else {
      null(index);
    }
  }
  void integer(int index, const std::optional<int64_t>& value) {
    note(value ? sqlite3_bind_int64(stmt_, index, *value) : sqlite3_bind_null(stmt_, index));
  }
  void real(int index, const std::optional<double>& value) {
    note(value ? sqlite3_bind_double(stmt_, index, *value) : sqlite3_bind_null(stmt_, index));
  }
  void null(int index) { note(sqlite3_bind_null(stmt_, index)); }

  // Steps the statement to its end, then resets it and clears its bindings.
  absl::Status run() {
    const int code = bind_error_ != SQLITE_OK ? bind_error_ : sqlite3_step(stmt_);
    absl::Status status;
    if (code != SQLITE_DONE) status = sqlite_status(db_, code, "write the SQLite export");
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    bind_error_ = SQLITE_OK;
    return status;
  }

 private:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  void note(int code) {
    if (code != SQLITE_OK && bind_error_ == SQLITE_OK) bind_error_ = code;
  }

  sqlite3* db_;
  sqlite3_stmt* stmt_;
  int bind_error_ = SQLITE_OK;
};

absl::StatusOr<std::unique_ptr<SqliteExportWriter>> SqliteExportWriter::create(const std::string& path,
                                                                               SqliteExportOptions options) {
  if (path.empty()) return absl::InvalidArgumentError("the SQLite export needs a file name");
  absl::StatusOr<std::string> temp = create_temp_beside(path);
  if (!temp.ok()) return temp.status();
  std::unique_ptr<SqliteExportWriter> writer(new SqliteExportWriter(path, std::move(*temp), std::move(options)));
  if (absl::Status status = writer->open(); !status.ok()) return status;  // the destructor removes the file
  return writer;
}

SqliteExportWriter::SqliteExportWriter(std::string path, std::string temp_path, SqliteExportOptions options)
    : path_(std::move(path)), temp_path_(std::move(temp_path)), options_(std::move(options)) {}

SqliteExportWriter::~SqliteExportWriter() {
  if (!finished_) discard();
}

absl::Status SqliteExportWriter::open() {
  const int code = sqlite3_open_v2(temp_path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (code != SQLITE_OK) return fail(sqlite_status(db_, code, absl::StrCat("open ", temp_path_)));
  if (absl::Status status = exec(kCreateSql); !status.ok()) return status;
  absl::StatusOr<std::unique_ptr<Statement>> statement = Statement::prepare(db_, kInsertEventSql);
  if (!statement.ok()) return fail(statement.status());
  insert_event_ = std::move(*statement);
  statement = Statement::prepare(db_, kInsertSpanSql);
  if (!statement.ok()) return fail(statement.status());
  insert_span_ = std::move(*statement);
  statement = Statement::prepare(db_, kEndSpanSql);
  if (!statement.ok()) return fail(statement.status());
  end_span_ = std::move(*statement);
  return absl::OkStatus();
}

absl::Status SqliteExportWriter::exec(const char* sql) {
  char* message = nullptr;
  const int code = sqlite3_exec(db_, sql, nullptr, nullptr, &message);
  if (code == SQLITE_OK) return absl::OkStatus();
  absl::Status status =
      sqlite_status(code, "write the SQLite export", message != nullptr ? message : sqlite3_errstr(code));
  sqlite3_free(message);
  return fail(std::move(status));
}

absl::Status SqliteExportWriter::fail(absl::Status status) {
  if (error_.ok()) error_ = std::move(status);
  return error_;
}

absl::Status SqliteExportWriter::add(std::string_view raw_line, simdjson::dom::element line) {
  if (!error_.ok()) return error_;
  if (finished_) return absl::FailedPreconditionError("the SQLite export is finished");
  const auto id = static_cast<int64_t>(stats_.events + 1);
  Statement& insert = *insert_event_;
  insert.integer(1, id);
  insert.text(14, raw_line);
  dom::object object;
  if (line.get(object) != simdjson::SUCCESS) {
    // Not an object (a Scanner hands on none such): the line alone.
    if (absl::Status status = insert.run(); !status.ok()) return fail(std::move(status));
    ++stats_.events;
    return absl::OkStatus();
  }
  Taken<kEventColumns.size()> taken;
  stats_.unfit_values += split_members(object, kEventColumns, kEventColumns.size(), taken, fields_);
  insert.text(2, string_of(taken[kTimestamp]));
  insert.integer(3, time_of(taken[kTimestamp]));
  insert.text(4, string_of(taken[kLevel]));
  insert.text(5, string_of(taken[kMessage]));
  insert.text(6, string_of(taken[kService]));
  insert.text(7, string_of(taken[kHost]));
  insert.integer(8, int64_of(taken[kPid]));
  insert.integer(9, int64_of(taken[kTid]));
  insert.integer(10, int64_of(taken[kSeq]));
  insert.text(11, string_of(taken[kTraceId]));
  insert.text(12, string_of(taken[kSpanId]));
  insert.text(13, std::string_view{fields_});
  if (absl::Status status = insert.run(); !status.ok()) return fail(std::move(status));
  ++stats_.events;

  // A span line (docs/FORMAT.md, "Context and spans"): span.start or span.end
  // with a span_id, and no seq (an event of that message has one).
  const std::optional<std::string_view> message = string_of(taken[kMessage]);
  if (!message || (*message != "span.start" && *message != "span.end") || !taken[kSpanId]) return absl::OkStatus();
  if (object.at_key("seq").error() != simdjson::NO_SUCH_FIELD) return absl::OkStatus();
  return add_span(object, *message == "span.start", id);
}

absl::Status SqliteExportWriter::add_span(simdjson::dom::object line, bool start, int64_t event_id) {
  Taken<kSpanEndColumns.size()> taken;
  split_members(line, kSpanEndColumns, start ? kSpanStartColumnCount : kSpanEndColumns.size(), taken, fields_);
  const std::optional<std::string_view> time = string_of(taken[kSpanTimestamp]);
  const std::optional<int64_t> ns = time_of(taken[kSpanTimestamp]);
  const std::optional<int64_t> pid = int64_of(taken[kSpanPid]);
  const std::optional<int64_t> tid = int64_of(taken[kSpanTid]);
  std::optional<double> duration;
  if (double value = 0; taken[kSpanDuration] && taken[kSpanDuration]->get(value) == simdjson::SUCCESS) {
    duration = value;
  }
  // The error object's text; bound as NULL when the line has none.
  const bool has_error = taken[kSpanError].has_value();
  const std::string error = has_error ? json_value_text(*taken[kSpanError]) : std::string();

  if (!start) {
    Statement& end = *end_span_;
    end.text(1, time);
    end.integer(2, ns);
    end.real(3, duration);
    end.text(4, string_of(taken[kSpanStatus]));
    if (has_error) {
      end.text(5, std::string_view{error});
    } else {
      end.null(5);
    }
    end.integer(6, event_id);
    end.text(7, string_of(taken[kSpanSpanId]));
    end.text(8, string_of(taken[kSpanTraceId]));
    end.integer(9, pid);
    if (absl::Status status = end.run(); !status.ok()) return fail(std::move(status));
    if (sqlite3_changes(db_) != 0) {
      ++matched_ends_;
      return absl::OkStatus();
    }
  }

  // A start, or an end that found none: a row of its own.
  Statement& insert = *insert_span_;
  insert.text(1, string_of(taken[kSpanTraceId]));
  insert.text(2, string_of(taken[kSpanSpanId]));
  insert.text(3, string_of(taken[kSpanParent]));
  insert.text(4, string_of(taken[kSpanName]));
  insert.text(5, string_of(taken[kSpanService]));
  insert.integer(6, pid);
  insert.integer(7, tid);
  const int time_column = start ? 8 : 10;  // start_time, start_ns or end_time, end_ns
  insert.text(time_column, time);
  insert.integer(time_column + 1, ns);
  if (start) {
    insert.text(15, std::string_view{fields_});
    insert.integer(16, event_id);
  } else {
    insert.real(12, duration);
    insert.text(13, string_of(taken[kSpanStatus]));
    if (has_error) {
      insert.text(14, std::string_view{error});
    } else {
      insert.null(14);
    }
    insert.integer(17, event_id);
  }
  if (absl::Status status = insert.run(); !status.ok()) return fail(std::move(status));
  ++stats_.spans;
  if (start) {
    ++span_starts_;
  } else {
    ++stats_.ends_without_start;
  }
  return absl::OkStatus();
}

absl::StatusOr<SqliteExportStats> SqliteExportWriter::finish() {
  if (!error_.ok()) return error_;
  if (finished_) return absl::FailedPreconditionError("the SQLite export is finished");
  stats_.spans_without_end = span_starts_ - matched_ends_;

  absl::StatusOr<std::unique_ptr<Statement>> prepared = Statement::prepare(db_, kInsertMetaSql);
  if (!prepared.ok()) return fail(prepared.status());
  Statement& meta = **prepared;
  const std::string exported_at = format_timestamp(options_.exported_at_ns.value_or(realtime_now_ns()));
  const std::array<std::pair<std::string_view, std::optional<std::string_view>>, 2> texts = {{
      {"exported_at", exported_at},
      {"filter", options_.filter.empty() ? std::nullopt : std::optional<std::string_view>(options_.filter)},
  }};
  const std::array<std::pair<std::string_view, uint64_t>, 6> counts = {{
      {"format_version", kSqliteExportFormatVersion},
      {"events", stats_.events},
      {"spans", stats_.spans},
      {"spans_without_end", stats_.spans_without_end},
      {"ends_without_start", stats_.ends_without_start},
      {"unfit_values", stats_.unfit_values},
  }};
  for (const auto& [key, value] : counts) {
    meta.text(1, key);
    meta.integer(2, static_cast<int64_t>(value));
    if (absl::Status status = meta.run(); !status.ok()) return fail(std::move(status));
  }
  for (const auto& [key, value] : texts) {
    if (!value) continue;
    meta.text(1, key);
    meta.text(2, *value);
    if (absl::Status status = meta.run(); !status.ok()) return fail(std::move(status));
  }
  prepared->reset();
  if (absl::Status status = exec(kIndexSql); !status.ok()) return status;

  insert_event_.reset();
  insert_span_.reset();
  end_span_.reset();
  const int code = sqlite3_close(db_);
  if (code != SQLITE_OK) return fail(sqlite_status(db_, code, "close the SQLite export"));
  db_ = nullptr;
  if (absl::Status status = sync_file(temp_path_); !status.ok()) return fail(std::move(status));
  if (std::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    return fail(absl::ErrnoToStatus(errno, absl::StrCat("cannot rename ", temp_path_, " to ", path_)));
  }
  finished_ = true;
  return stats_;
}

void SqliteExportWriter::discard() {
  insert_event_.reset();
  insert_span_.reset();
  end_span_.reset();
  if (db_ != nullptr) sqlite3_close_v2(db_);
  db_ = nullptr;
  if (!temp_path_.empty()) ::unlink(temp_path_.c_str());
}

}  // namespace ringtail::reader
