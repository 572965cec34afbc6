// ClickHouse over its HTTP interface: where a server is (ClickHouseTarget,
// from a clickhouse:// URI) and the two requests ringtail makes of it
// (ClickHouseClient): a statement whose answer is read back (queries, DDL),
// and an INSERT whose rows are the request body (the sink's batches).
//
//   clickhouse://HOST[:PORT]/DATABASE[?OPTION=VALUE&...]      (port 8123)
//   clickhouse+https://HOST[:PORT]/DATABASE[?...]             (port 8443)
//
// Options: table=NAME (default events), user=NAME (default: the server's
// default user), password_file=PATH (the password is the file's first line;
// never in a URI, a message or a process listing), timeout=AGE (each
// request; default 10s for the sink, 10m for queries), and for the sink
// batch_bytes=SIZE (default 4M), batch_age=AGE (default 1s). DATABASE and NAME are identifiers
// ([A-Za-z_][A-Za-z0-9_]*), so they are written into SQL as they are; every
// value that comes from data is a literal made by sql_string_literal().
//
// Requests carry the user and password as HTTP Basic authentication. A
// request that fails to connect or answers 5xx is sent again (0.5 s
// doubling, `tries` in all): the sink's inserts are idempotent in effect
// (clickhouse_table.hpp), so a retry after a timeout that did insert leaves
// no duplicate a query sees. A failure's message names the server and
// carries the first line of ClickHouse's answer ("Code: 60, ... Table ...
// doesn't exist"), made printable and cut to 300 bytes.
//
// Threading: a ClickHouseClient is used by one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ringtail::reader {

inline constexpr std::chrono::milliseconds kSinkTimeout{10000};
inline constexpr std::chrono::milliseconds kQueryTimeout{600000};

struct ClickHouseTarget {
  bool https = false;
  std::string host;
  uint16_t port = 0;
  std::string database;
  std::string table = "events";
  std::string user;      // empty: the server's default user
  std::string password;  // from password_file
  uint64_t batch_bytes = uint64_t{4} << 20;
  std::chrono::milliseconds batch_age{1000};
  // Each request; unless the URI says (timeout=), kSinkTimeout for the
  // sink and kQueryTimeout for --engine, whose answers come only once the
  // whole query ran (a stats over billions of rows takes a while).
  std::chrono::milliseconds timeout{kSinkTimeout};
  int tries = 4;
  std::chrono::milliseconds first_retry{500};

  // "DATABASE.TABLE", for SQL.
  std::string qualified_table() const { return database + "." + table; }
  // "http(s)://HOST:PORT/DATABASE.TABLE", for messages (no user, no password).
  std::string describe() const;
};

// True for clickhouse:// and clickhouse+https://.
bool is_clickhouse_uri(std::string_view uri);

// `what` names the option in errors ("--sink", "--engine"); errors never
// repeat a password and say which part is wrong. `default_timeout`: the
// timeout when the URI gives none.
absl::StatusOr<ClickHouseTarget> parse_clickhouse_uri(std::string_view uri, std::string_view what,
                                                      std::chrono::milliseconds default_timeout = kSinkTimeout);

// A ClickHouse string literal: 'text' with \ and ' escaped, and every byte
// below 0x20 or 0x7F as \xHH, so any bytes (untrusted values) are safe in SQL.
std::string sql_string_literal(std::string_view text);

class ClickHouseClient {
 public:
  explicit ClickHouseClient(const ClickHouseTarget& target);
  ~ClickHouseClient();
  ClickHouseClient(const ClickHouseClient&) = delete;
  ClickHouseClient& operator=(const ClickHouseClient&) = delete;

  // Runs one statement (the request body) in the target's database and
  // returns its answer as the server wrote it (with FORMAT in `sql`, that
  // format). Not retried: a query that failed says why at once.
  absl::StatusOr<std::string> execute(std::string_view sql);

  // execute(), with the answer handed to `receive` piece by piece as it
  // arrives (return false to stop reading: then OK). The request sets
  // wait_end_of_query=1: ClickHouse sends the status only once the query
  // is done (buffering the answer on its side), so an error in the middle
  // of a long answer is an error status, never text after rows.
  absl::Status execute_streaming(std::string_view sql, const std::function<bool(std::string_view)>& receive);

  // CREATE DATABASE IF NOT EXISTS for the target's database, sent without
  // it as the session's database (which a server refuses while it does not
  // exist). Not retried.
  absl::Status create_database();

  // INSERT INTO the target's table with `format` (e.g. "RowBinary"); `rows`
  // is the body. Retried as the file comment says.
  absl::Status insert(std::string_view format, std::string_view rows);

  // Inserts sent again after a failed try, since construction.
  uint64_t retries() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ringtail::reader
