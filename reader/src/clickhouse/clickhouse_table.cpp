#include "ringtail/reader/clickhouse/clickhouse_table.hpp"

#include <string>
#include <string_view>

#include "internal/message_text.hpp"

namespace ringtail::reader {

std::string create_table_sql(const ClickHouseTarget& target) {
  return internal::cat("CREATE TABLE IF NOT EXISTS ", target.qualified_table(),
                       " (\n"
                       "  time DateTime,\n"
                       "  time_ns Int64,\n"
                       "  level Enum8('TRACE' = 0, 'DEBUG' = 1, 'INFO' = 2, 'WARN' = 3, 'ERROR' = 4, 'CRITICAL' = 5, "
                       "'OFF' = 6),\n"
                       "  level_class Enum8('debug' = 0, 'info' = 1, 'warn' = 2, 'error' = 3),\n"
                       "  kind Enum8('event' = 0, 'span_start' = 1, 'span_end' = 2, 'gap' = 3, 'note' = 4),\n"
                       "  message String,\n"
                       "  service String,\n"
                       "  host String,\n"
                       "  pid UInt32,\n"
                       "  process_start UInt64,\n"
                       "  tid UInt32,\n"
                       "  seq UInt64,\n"
                       "  line_hash UInt64,\n"
                       "  trace_id String,\n"
                       "  span_id String,\n"
                       "  keys Array(String),\n"
                       "  values Array(String),\n"
                       "  paths Array(String),\n"
                       "  path_values Array(String)\n"
                       ") ENGINE = ReplacingMergeTree()\n"
                       "PARTITION BY (toYYYYMMDD(time), level_class)\n"
                       "ORDER BY (host, service, pid, process_start, tid, seq, line_hash)\n");
}

uint64_t line_hash(std::string_view line) {
  uint64_t hash = 14695981039346656037ULL;
  for (const char c : line) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  return hash;
}

}  // namespace ringtail::reader
