// Helpers for the ingest tests: a sink that keeps everything, a drainer that
// reads every ring of a segment, and value comparison that treats floating
// point values by their bit patterns.
#pragma once

#include <bit>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ringtail/reader/ingest/callsite_table.hpp"
#include "ringtail/reader/ingest/decoded_event.hpp"
#include "ringtail/reader/ingest/ring_cursor.hpp"
#include "ringtail/reader/ingest/segment_view.hpp"

namespace ringtail::reader::testing {

using Item = std::variant<DecodedEvent, DropGap, ThreadStart>;

class CollectingSink : public RecordSink {
 public:
  void on_event(const DecodedEvent& event) override { items.emplace_back(event); }
  void on_gap(const DropGap& gap) override { items.emplace_back(gap); }
  void on_thread_start(const ThreadStart& start) override { items.emplace_back(start); }

  std::vector<Item> items;
};

inline std::vector<const DecodedEvent*> events_of(const std::vector<Item>& items) {
  std::vector<const DecodedEvent*> out;
  for (const Item& item : items) {
    if (const auto* e = std::get_if<DecodedEvent>(&item)) out.push_back(e);
  }
  return out;
}

inline std::vector<DropGap> gaps_of(const std::vector<Item>& items) {
  std::vector<DropGap> out;
  for (const Item& item : items) {
    if (const auto* g = std::get_if<DropGap>(&item)) out.push_back(*g);
  }
  return out;
}

struct RingResult {
  std::vector<Item> items;
  absl::Status status;  // the poisoning error, if any
  BatchStats totals;
  uint64_t batches = 0;
};

// A table and one cursor per ring; drain() reads each ring until it is
// caught up or poisoned (bounded: a cursor that neither advances nor stops
// is a test failure, not a hang), committing after each batch.
class Drainer {
 public:
  static absl::StatusOr<Drainer> create(const SegmentView& view, RingCursorOptions options = {}) {
    Drainer d(view);
    for (uint32_t i = 0; i < view.slot_count(); ++i) {
      absl::StatusOr<RingCursor> cursor = RingCursor::create(view, i, options);
      if (!cursor.ok()) return cursor.status();
      d.cursors_.push_back(std::move(*cursor));
    }
    d.rings_.resize(view.slot_count());
    return d;
  }

  // Returns false if some cursor failed to make progress within the bound.
  bool drain(uint64_t max_batches_per_ring = 1'000'000) {
    table_status_ = table_.refresh();
    bool bounded = true;
    for (size_t i = 0; i < cursors_.size(); ++i) {
      RingResult& ring = rings_[i];
      CollectingSink sink;
      for (uint64_t n = 0;; ++n) {
        if (n >= max_batches_per_ring) {
          bounded = false;
          break;
        }
        BatchStats stats;
        const absl::Status s = cursors_[i].read_batch(table_, sink, &stats);
        ++ring.batches;
        add(ring.totals, stats);
        cursors_[i].commit();
        if (!s.ok()) {
          ring.status = s;
          break;
        }
        if (stats.caught_up && stats.peek_resyncs == 0) break;
      }
      for (Item& item : sink.items) ring.items.push_back(std::move(item));
    }
    return bounded;
  }

  std::vector<RingResult>& rings() { return rings_; }
  std::vector<RingCursor>& cursors() { return cursors_; }
  CallSiteTable& table() { return table_; }
  const absl::Status& table_status() const { return table_status_; }

 private:
  explicit Drainer(const SegmentView& view) : table_(view) {}

  static void add(BatchStats& total, const BatchStats& s) {
    total.bytes += s.bytes;
    total.records += s.records;
    total.events += s.events;
    total.padding += s.padding;
    total.thread_starts += s.thread_starts;
    total.unknown_control += s.unknown_control;
    total.gaps += s.gaps;
    total.dropped += s.dropped;
    total.peek_resyncs += s.peek_resyncs;
  }

  CallSiteTable table_;
  absl::Status table_status_;
  std::vector<RingCursor> cursors_;
  std::vector<RingResult> rings_;
};

// Field values equal, floating point by bit pattern.
inline bool same_value(const FieldValue& a, const FieldValue& b) {
  if (a.index() != b.index()) return false;
  if (const float* x = std::get_if<float>(&a))
    return std::bit_cast<uint32_t>(*x) == std::bit_cast<uint32_t>(std::get<float>(b));
  if (const double* x = std::get_if<double>(&a)) {
    return std::bit_cast<uint64_t>(*x) == std::bit_cast<uint64_t>(std::get<double>(b));
  }
  return a == b;
}

inline std::string describe(const FieldValue& v) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, bool>) {
          return x ? "bool true" : "bool false";
        } else if constexpr (std::is_same_v<T, int64_t>) {
          return "int64 " + std::to_string(x);
        } else if constexpr (std::is_same_v<T, uint64_t>) {
          return "uint64 " + std::to_string(x);
        } else if constexpr (std::is_same_v<T, float>) {
          return "float bits " + std::to_string(std::bit_cast<uint32_t>(x));
        } else if constexpr (std::is_same_v<T, double>) {
          return "double bits " + std::to_string(std::bit_cast<uint64_t>(x));
        } else if constexpr (std::is_same_v<T, StringValue>) {
          return "string[" + std::to_string(x.bytes.size()) + "/" + std::to_string(x.original_bytes) +
                 (x.cut ? " cut" : "") + "] \"" + x.bytes.substr(0, 40) + "\"";
        } else if constexpr (std::is_same_v<T, ErrorValue>) {
          return "error " + x.type.bytes + " \"" + x.message.bytes.substr(0, 40) + "\"" +
                 (x.has_code ? " code " + std::to_string(x.code) : std::string());
        } else if constexpr (std::is_same_v<T, NullValue>) {
          return "null";
        } else {
          return "duration " + std::to_string(x.ns) + " ns";
        }
      },
      v);
}

// A varied payload for event i: its length (0 to 300 bytes) changes from
// event to event, so that records end anywhere in a ring, a lap or a chunk.
inline std::string varied_payload(uint64_t i) {
  const size_t length = (i * 37) % 301;
  std::string s(length, '\0');
  for (size_t k = 0; k < length; ++k) s[k] = static_cast<char>('a' + (i + k) % 26);
  return s;
}

}  // namespace ringtail::reader::testing
