#include "ringtail/reader/clickhouse/clickhouse_sink.hpp"

#include <string>
#include <utility>

#include "clickhouse/clickhouse_rows.hpp"
#include "ringtail/reader/clickhouse/clickhouse_table.hpp"
#include "sinks/sink_uri.hpp"

namespace ringtail::reader {

ClickHouseSink::ClickHouseSink(ClickHouseTarget target, std::string host_name)
    : target_(std::move(target)),
      client_(std::make_unique<ClickHouseClient>(target_)),
      encoder_(std::make_unique<internal::ClickHouseRowEncoder>(host_name.empty() ? internal::local_host_name()
                                                                                  : std::move(host_name))) {}

ClickHouseSink::~ClickHouseSink() { finish(); }

absl::Status ClickHouseSink::write(const EventBatch& batch) {
  if (batch.empty()) return absl::OkStatus();
  std::lock_guard lock(work_mutex_);
  // Down: fail at once (FanOutSink counts the lines) until a try is due.
  if (absl::Status due = backoff_.due(); !due.ok()) return due;
  if (row_count_ == 0) oldest_row_ = std::chrono::steady_clock::now();
  const internal::EncodedRows encoded = encoder_->append(batch, rows_);
  row_count_ += encoded.rows;
  if (encoded.skipped > 0) {
    // Lines that do not match their shapes (a reader bug, never data): lost here, counted.
    std::lock_guard counts_lock(counts_mutex_);
    counts_.records_failed += encoded.skipped;
  }
  if (rows_.size() < target_.batch_bytes) return absl::OkStatus();
  return insert_buffer(encoded.rows);
}

absl::Status ClickHouseSink::flush() {
  std::lock_guard lock(work_mutex_);
  if (row_count_ > 0 && std::chrono::steady_clock::now() - oldest_row_ >= target_.batch_age) {
    return insert_buffer(0);
  }
  return backoff_.last();
}

void ClickHouseSink::finish() {
  std::lock_guard lock(work_mutex_);
  (void)insert_buffer(0);  // counted; FanOutSink has nothing more to report
}

NetworkSinkCounts ClickHouseSink::counts() const {
  std::lock_guard lock(counts_mutex_);
  NetworkSinkCounts out = counts_;
  out.requests_sent_again = client_->retries();
  return out;
}

absl::Status ClickHouseSink::create_table() {
  if (table_ready_) return absl::OkStatus();
  if (absl::Status created = client_->create_database(); !created.ok()) return created;
  absl::StatusOr<std::string> answer = client_->execute(create_table_sql(target_));
  if (!answer.ok()) return answer.status();
  table_ready_ = true;
  return absl::OkStatus();
}

absl::Status ClickHouseSink::insert_buffer(uint64_t rows_reported) {
  if (row_count_ == 0) return absl::OkStatus();
  absl::Status status = create_table();
  if (status.ok()) status = client_->insert("RowBinary", rows_);
  const uint64_t rows = row_count_;
  rows_.clear();
  row_count_ = 0;
  std::lock_guard counts_lock(counts_mutex_);
  if (status.ok()) {
    counts_.records_sent += rows;
    counts_.last_error.clear();
    backoff_.succeeded();
    return absl::OkStatus();
  }
  counts_.records_failed += rows - std::min(rows, rows_reported);
  counts_.last_error = std::string{status.message()};
  table_ready_ = false;  // the server may have come back without it
  return backoff_.failed(std::move(status));
}

}  // namespace ringtail::reader
