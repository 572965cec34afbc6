// The ClickHouse table ringtail writes (`drain --sink clickhouse://`) and
// reads (`--engine clickhouse://`): one row per stored line. docs/FLEET.md
// shows the DDL and the reasons; this is its one home in code.
//
// Columns, in RowBinary order:
//   time           DateTime   the line's timestamp, whole seconds (partitions)
//   time_ns        Int64      the same in ns since the epoch (full precision)
//   level          Enum8      TRACE=0 ... CRITICAL=5, OFF=6
//   level_class    Enum8      debug=0 info=1 warn=2 error=3 (level_class_of):
//                             partitions, so retention drops a class's days
//   kind           Enum8      event=0 span_start=1 span_end=2 gap=3 note=4
//   message        String     decoded
//   service        String     decoded
//   host           String     the drain's --host-name (not a key of the line)
//   pid            UInt32
//   process_start  UInt64     the producer's start time (clock ticks since
//                             boot, from its segment): pid reuse stays apart
//   tid, seq       UInt32, UInt64   0 for lines without them
//   line_hash      UInt64     0 for events; for the other lines (no seq) a
//                             hash of the line's text (line_hash())
//   trace_id, span_id  String the line's top-level string fields of those
//                             names, decoded ("" without)
//   keys           Array(String)  every key of the line in order, as written
//                             (JSON-escaped, without quotes), head keys too
//   values         Array(String)  each key's value as written (JSON text)
//   paths          Array(String)  every member of a top-level object value,
//                             at any depth, by its dotted path of keys as
//                             written ("error.type"), when no key on the way
//                             holds '.' (so a path names one member, as
//                             json_path.hpp walks it)
//   path_values    Array(String)  their values as written
//
// The stored line is exactly '{' + join('"' + keys[i] + '":' + values[i], ',')
// + '}': queries give back the line byte for byte.
//
// Exactly once in effect: ReplacingMergeTree ordered (and so deduplicated) by
// (host, service, pid, process_start, tid, seq, line_hash). An event is named
// by its process, thread and sequence number, so an insert retried after a
// timeout, or lines read again by a drain restarted after SIGKILL, are
// duplicates of rows already there; queries read `FROM table FINAL`, which
// merges them away at query time, before ClickHouse's background merges do.
//
// The SQL is what ClickHouse 18.16 (Debian 12) and current releases both
// take: no DateTime64, no TTL clause, no JSON functions.
//
// Threading: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ringtail/reader/clickhouse/clickhouse_client.hpp"

namespace ringtail::reader {

// CREATE TABLE IF NOT EXISTS for target's database and table.
std::string create_table_sql(const ClickHouseTarget& target);

// The line_hash of a line without seq: 64-bit FNV-1a of its text (stable
// across builds and machines, unlike std::hash).
uint64_t line_hash(std::string_view line);

}  // namespace ringtail::reader
