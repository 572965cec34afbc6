// ringtail_clickhouse_bench: the ClickHouse sink's encoder alone
// (reader/src/clickhouse/clickhouse_rows.hpp): shaped lines as RowBinary
// rows, on one thread, no network. Google Benchmark; items_per_second is
// lines per second (ns per line = 1e9 / it).
//
//   ringtail_clickhouse_bench [--benchmark_repetitions=5]
//
// Cases: the benchmark's usual event (bench/README.md: step_id, duration_ms,
// tool), and the same with an error object (so the line is parsed once with
// simdjson for its paths). Batches of 1000 lines, as the drain hands them on.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "clickhouse/clickhouse_rows.hpp"
#include "ringtail/reader/sinks/event_batch.hpp"

namespace {

using ringtail::reader::EventBatch;
using ringtail::reader::FieldSpan;
using ringtail::reader::LineShape;

constexpr int kLines = 1000;

// Appends a line as EventJsonFormatter writes it, with its shape.
void add_line(EventBatch& batch, uint64_t seq, bool with_error) {
  LineShape shape;
  shape.offset = batch.text.size();
  shape.time_ns = 1795000000123456789 + static_cast<int64_t>(seq);
  shape.has_tid = true;
  shape.has_seq = true;
  shape.tid = 5678;
  shape.seq = seq;
  shape.first_field = static_cast<uint32_t>(batch.fields.size());
  std::string& t = batch.text;
  t += R"({"timestamp":"2026-11-18T10:13:20.123456789Z","level":"INFO","message":")";
  shape.message_offset = static_cast<uint32_t>(t.size() - shape.offset);
  t += "tool call";
  shape.message_size = 9;
  t += R"(","service":"bench","pid":1234,"tid":5678,"seq":)" + std::to_string(seq);
  auto field = [&](std::string_view key, const std::string& value) {
    t += ",\"";
    const auto key_offset = static_cast<uint32_t>(t.size() - shape.offset);
    t += key;
    t += "\":";
    const auto value_offset = static_cast<uint32_t>(t.size() - shape.offset);
    t += value;
    batch.fields.push_back(
        FieldSpan{key_offset, static_cast<uint32_t>(key.size()), value_offset, static_cast<uint32_t>(value.size())});
    ++shape.field_count;
  };
  field("step_id", std::to_string(seq));
  field("duration_ms", "1.5");
  field("tool", R"("write_file")");
  if (with_error) field("error", R"({"type":"std::system_error","message":"connect: Connection refused","code":111})");
  t += "}\n";
  shape.size = static_cast<uint32_t>(t.size() - shape.offset);
  batch.lines.push_back(shape);
}

void encode(benchmark::State& state, bool with_error) {
  ringtail::reader::SegmentIdentity segment;
  segment.pid = 1234;
  segment.process_start_ticks = 42;
  EventBatch batch;
  batch.segment = &segment;
  for (int i = 0; i < kLines; ++i) add_line(batch, static_cast<uint64_t>(i), with_error);
  ringtail::reader::internal::ClickHouseRowEncoder encoder("bench-host");
  std::string rows;
  for (auto _ : state) {
    rows.clear();
    const ringtail::reader::internal::EncodedRows encoded = encoder.append(batch, rows);
    benchmark::DoNotOptimize(encoded);
    benchmark::DoNotOptimize(rows.data());
  }
  state.SetItemsProcessed(state.iterations() * kLines);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(batch.text.size()));
  state.counters["row_bytes_per_line"] = static_cast<double>(rows.size()) / kLines;
}

void BM_ClickHouseRows_Event(benchmark::State& state) { encode(state, false); }
BENCHMARK(BM_ClickHouseRows_Event);

void BM_ClickHouseRows_EventWithError(benchmark::State& state) { encode(state, true); }
BENCHMARK(BM_ClickHouseRows_EventWithError);

}  // namespace

BENCHMARK_MAIN();
