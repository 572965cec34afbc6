// ClickHouseSink: every line the drain hands its sinks, as a row of a
// ClickHouse table (`drain --sink clickhouse://HOST[:PORT]/DATABASE[?...]`;
// the URI and its options: clickhouse_client.hpp; the table: clickhouse_table.hpp).
//
// Batching: write() encodes a batch's lines as RowBinary rows
// (clickhouse_rows.hpp) into a buffer, and the buffer is inserted (one
// INSERT ... FORMAT RowBinary over HTTP) when it holds batch_bytes, by a
// flush() once its oldest row is batch_age old, and by finish(). Before its
// first insert, and again after any failure, the sink creates the database
// and the table (IF NOT EXISTS): a server that lost them, or came back
// empty, gets them again.
//
// Exactly once in effect: an insert the client retried after a timeout, or
// lines a drain reads again after a discard or a restart, give rows with the
// same (host, service, pid, process_start, tid, seq, line_hash), which a
// query `FROM table FINAL` sees once (clickhouse_table.hpp). Rows a failed
// insert held are lost for this sink, not spooled: it is a best-effort sink
// of a FanOutSink (its own thread and bounded queue), and may block on the
// network in write(), flush() and finish().
//
// Failures: an insert that fails (after the client's retries: connection
// failures and 5xx, 4 tries) loses its rows, and the sink tries again only
// after SinkBackoff (1 s doubling to 30 s); meanwhile write() fails at once.
// A write() or flush() whose insert failed returns the error (FanOutSink
// reports it, and counts a failed write's batch in its failed lines). Every
// line is counted once: records_sent (rows the server took), records_failed
// (rows of failed inserts, less those of the batch whose write() returned
// the error, which FanOutSink counts; and any line that did not match its
// shape, never encoded), FanOutSink's failed and dropped lines.
// requests_sent_again: the client's retries; last_error: the last failure's
// message ("" once an insert worked again), which names the server and
// never a password.
//
// Threading: the EventSink calls and finish() from one thread at a time;
// counts() from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "ringtail/reader/clickhouse/clickhouse_client.hpp"
#include "ringtail/reader/sinks/network_sink.hpp"
#include "ringtail/reader/sinks/sink_backoff.hpp"

namespace ringtail::reader {
namespace internal {
class ClickHouseRowEncoder;
}

class ClickHouseSink final : public NetworkSink {
 public:
  // host_name: the rows' host column (default: this machine's name).
  explicit ClickHouseSink(ClickHouseTarget target, std::string host_name = {});
  // finish().
  ~ClickHouseSink() override;
  ClickHouseSink(const ClickHouseSink&) = delete;
  ClickHouseSink& operator=(const ClickHouseSink&) = delete;

  absl::Status write(const EventBatch& batch) override;
  // Inserts the buffer once its oldest row is batch_age old; the error of
  // that insert, else OK unless the last try failed (FanOutSink then
  // reports a recovery once).
  absl::Status flush() override;
  // Inserts what the buffer holds: counts() are then final.
  void finish() override;
  NetworkSinkCounts counts() const override;

 private:
  // Inserts the buffer (creating the table first when needed). On failure
  // the rows are lost: counted in records_failed, less `rows_reported` (the
  // rows of a batch whose write() returns the error).
  absl::Status insert_buffer(uint64_t rows_reported) ABSL_EXCLUSIVE_LOCKS_REQUIRED(work_mutex_);
  absl::Status create_table() ABSL_EXCLUSIVE_LOCKS_REQUIRED(work_mutex_);

  const ClickHouseTarget target_;

  // Used under work_mutex_, but for counts()' read of its retries (atomic).
  const std::unique_ptr<ClickHouseClient> client_;

  std::mutex work_mutex_;  // the EventSink calls and finish()
  std::unique_ptr<internal::ClickHouseRowEncoder> encoder_ ABSL_GUARDED_BY(work_mutex_);
  std::string rows_ ABSL_GUARDED_BY(work_mutex_);  // RowBinary, not yet inserted
  uint64_t row_count_ ABSL_GUARDED_BY(work_mutex_) = 0;
  std::chrono::steady_clock::time_point oldest_row_ ABSL_GUARDED_BY(work_mutex_);
  bool table_ready_ ABSL_GUARDED_BY(work_mutex_) = false;
  SinkBackoff backoff_ ABSL_GUARDED_BY(work_mutex_);

  mutable std::mutex counts_mutex_;  // counts() from any thread
  NetworkSinkCounts counts_ ABSL_GUARDED_BY(counts_mutex_);
};

}  // namespace ringtail::reader
