#include "ringtail/reader/top/top_sampler.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "ringtail/reader/ingest/callsite_table.hpp"
#include "ringtail/reader/ingest/consumer_lease.hpp"
#include "ringtail/reader/ingest/decoded_event.hpp"
#include "ringtail/reader/ingest/ring_cursor.hpp"
#include "ringtail/reader/ingest/segment_summary.hpp"
#include "ringtail/reader/ingest/segment_view.hpp"
#include "ringtail/reader/ingest/timestamp.hpp"
#include "ringtail/shm/layout.hpp"

namespace ringtail::reader {
namespace {

using Clock = std::chrono::steady_clock;

// Counters are producer-written: a hostile or wrapped value must not wrap a
// sum back to a small number.
uint64_t saturating_add(uint64_t a, uint64_t b) { return b > UINT64_MAX - a ? UINT64_MAX : a + b; }
// A counter's growth; one that went backwards (hostile, or a reused name) grew by 0.
uint64_t growth(uint64_t now, uint64_t before) { return now > before ? now - before : 0; }

// The status message without the "segment /dev/shm/<name>: " prefix.
std::string error_text(std::string_view name, const absl::Status& status) {
  std::string_view message(status.message().data(), status.message().size());
  const std::string prefix = absl::StrCat("segment /dev/shm/", std::string(name), ": ");
  if (message.substr(0, prefix.size()) == prefix) message.remove_prefix(prefix.size());
  return std::string(message);
}

// Counts a ring's events by call site, those at or past `from_seq` only.
class CountingSink final : public RecordSink {
 public:
  CountingSink(uint64_t from_seq, absl::flat_hash_map<uint32_t, uint64_t>& counts)
      : from_seq_(from_seq), counts_(counts) {}
  void on_event(const DecodedEvent& event) override {
    if (event.seq < from_seq_) return;  // written before the previous sample
    ++counts_[event.callsite_id];
    ++counted_;
  }
  void on_gap(const DropGap& /*gap*/) override {}
  uint64_t counted() const { return counted_; }

 private:
  uint64_t from_seq_;
  absl::flat_hash_map<uint32_t, uint64_t>& counts_;
  uint64_t counted_ = 0;
};

// The seq a slot's next event gets, as its counters say (untrusted, wrapping).
uint64_t next_seq(const RingSlotSnapshot& slot) {
  return slot.committed_untrusted + slot.dropped_full_untrusted + slot.dropped_too_big_untrusted;
}

bool claimed(uint32_t state_untrusted) {
  return state_untrusted == static_cast<uint32_t>(shm::SlotState::kActive) ||
         state_untrusted == static_cast<uint32_t>(shm::SlotState::kRetired);
}

struct RingState {
  std::optional<RingCursor> cursor;  // created when the slot is first seen claimed
  bool has_mark = false;
  uint64_t mark = 0;  // next_seq() at the previous sample
  bool poisoned = false;
};

// The totals a rate is computed from.
struct Totals {
  uint64_t committed = 0;
  uint64_t dropped = 0;
};

// One segment the sampler reads. Heap-allocated and never moved: the table
// and the cursors point into the view's mapping.
struct SegmentState {
  explicit SegmentState(SegmentView v) : view(std::move(v)), table(view) {}
  SegmentView view;
  CallSiteTable table;
  std::vector<RingState> rings;
  bool has_previous = false;
  Clock::time_point previous_at;
  Totals previous;
};

}  // namespace

struct TopSampler::State {
  TopOptions options;
  std::map<std::string, std::unique_ptr<SegmentState>> segments;  // by name
  bool sampled_before = false;
  Clock::time_point previous_at;
  int64_t previous_realtime_ns = 0;

  absl::StatusOr<TopFrame> sample();
  void read_segment(SegmentState& segment, Clock::time_point now, TopFrame& frame, uint64_t& peek_left) const;
};

std::string_view top_sort_name(TopSort sort) {
  switch (sort) {
    case TopSort::kEventRate:
      return "events/s";
    case TopSort::kDrops:
      return "drops";
    case TopSort::kRingFill:
      return "fill";
    case TopSort::kLag:
      return "lag";
    case TopSort::kPid:
      return "pid";
  }
  return "events/s";
}

std::optional<TopSort> parse_top_sort(std::string_view name) {
  for (const TopSort sort : kTopSorts) {
    if (top_sort_name(sort) == name) return sort;
  }
  return std::nullopt;
}

TopSort next_top_sort(TopSort sort) {
  constexpr size_t kCount = std::size(kTopSorts);
  for (size_t i = 0; i < kCount; ++i) {
    if (kTopSorts[i] == sort) return kTopSorts[(i + 1) % kCount];
  }
  return kTopSorts[0];
}

void sort_top_processes(std::vector<TopProcess>& processes, TopSort sort) {
  auto rate = [](const TopProcess& p, double value) { return p.has_rates ? value : -1.0; };
  std::stable_sort(processes.begin(), processes.end(), [&](const TopProcess& a, const TopProcess& b) {
    switch (sort) {
      case TopSort::kEventRate:
        if (rate(a, a.events_per_second) != rate(b, b.events_per_second)) {
          return rate(a, a.events_per_second) > rate(b, b.events_per_second);
        }
        break;
      case TopSort::kDrops:
        if (rate(a, a.drops_per_second) != rate(b, b.drops_per_second)) {
          return rate(a, a.drops_per_second) > rate(b, b.drops_per_second);
        }
        if (a.dropped != b.dropped) return a.dropped > b.dropped;
        break;
      case TopSort::kRingFill:
        if (a.fill_max != b.fill_max) return a.fill_max > b.fill_max;
        break;
      case TopSort::kLag:
        if (a.pending_bytes != b.pending_bytes) return a.pending_bytes > b.pending_bytes;
        break;
      case TopSort::kPid:
        break;
    }
    if (a.pid != b.pid) return a.pid < b.pid;
    return a.segment < b.segment;
  });
}

TopSampler::TopSampler(TopOptions options) : state_(std::make_unique<State>()) { state_->options = std::move(options); }
TopSampler::~TopSampler() = default;
TopSampler::TopSampler(TopSampler&&) noexcept = default;
TopSampler& TopSampler::operator=(TopSampler&&) noexcept = default;

const TopOptions& TopSampler::options() const { return state_->options; }

absl::StatusOr<TopFrame> TopSampler::sample() { return state_->sample(); }

absl::StatusOr<TopFrame> TopSampler::State::sample() {
  TopFrame frame;
  frame.realtime_ns = realtime_now_ns();
  frame.peek_bytes_per_ring = options.peek_bytes_per_ring;
  const Clock::time_point now = Clock::now();
  if (sampled_before) frame.seconds = std::chrono::duration<double>(now - previous_at).count();

  const Discovery discovery = discover_segments(options.discovery);
  if (!discovery.status.ok()) return discovery.status;
  frame.notes = discovery.skipped;

  // Segments no longer listed are forgotten (their mapping goes with them).
  std::map<std::string, std::unique_ptr<SegmentState>> kept;
  uint64_t peek_left = options.peek_bytes_per_sample;
  for (const DiscoveredSegment& found : discovery.segments) {
    auto it = segments.find(found.name);
    if (it != segments.end() && it->second->view.cut()) {
      frame.notes.push_back(absl::StrCat(found.name, ": the file was cut short while it was read"));
      segments.erase(it);
      continue;
    }
    if (it == segments.end()) {
      absl::StatusOr<SegmentView> view = SegmentView::open(found.name, SegmentView::Access::kReadOnly);
      if (!view.ok()) {
        const absl::StatusCode code = view.status().code();
        // Gone since listed, or still being set up by its producer: nothing to show yet.
        if (code != absl::StatusCode::kNotFound && code != absl::StatusCode::kUnavailable) {
          frame.notes.push_back(absl::StrCat(found.name, ": ", error_text(found.name, view.status())));
        }
        continue;
      }
      auto segment = std::make_unique<SegmentState>(std::move(*view));
      // Created since the previous sample (as its header says): every count
      // it holds is new since then.
      const uint64_t created = segment->view.identity().created_realtime_ns;
      if (sampled_before && previous_realtime_ns > 0 && created >= static_cast<uint64_t>(previous_realtime_ns)) {
        segment->has_previous = true;
        segment->previous_at = previous_at;
        segment->rings.resize(segment->view.slot_count());
        for (RingState& ring : segment->rings) ring.has_mark = true;  // mark 0
      }
      it = segments.emplace(found.name, std::move(segment)).first;
    }
    read_segment(*it->second, now, frame, peek_left);
    kept.emplace(it->first, std::move(it->second));
  }
  segments = std::move(kept);
  sampled_before = true;
  previous_at = now;
  previous_realtime_ns = frame.realtime_ns;
  frame.peeked_bytes = options.peek_bytes_per_sample - peek_left;
  return frame;
}

void TopSampler::State::read_segment(SegmentState& segment, Clock::time_point now, TopFrame& frame,
                                     uint64_t& peek_left) const {
  const SegmentView& view = segment.view;
  const SegmentIdentity& id = view.identity();
  TopProcess p;
  p.segment = view.name();
  p.pid = static_cast<pid_t>(id.pid);
  p.service = id.service;
  p.program = id.program;
  const ProducerState state = producer_state(view);
  p.state = std::string(producer_state_name(state));
  p.flight = view.geometry().flight();
  p.lease = lease_holder(view);
  p.ring_slots = view.slot_count();
  p.ring_bytes = view.ring_capacity();

  const SegmentSummary summary = summarize(view);
  p.dropped = summary.dropped_events;
  p.dropped_by_cause = {summary.dropped_full, summary.dropped_too_big, summary.lost_no_ring,
                        summary.lost_callsite_table_full};
  p.audit_lost = summary.audit_lost;
  p.pending_bytes = summary.pending_bytes;
  p.rings_active = summary.active;

  // The slots' own words, once: totals, fill, and the marks of this sample.
  if (segment.rings.size() != view.slot_count()) segment.rings.resize(view.slot_count());
  std::vector<uint64_t> marks(view.slot_count(), 0);
  std::vector<bool> is_claimed(view.slot_count(), false);
  const uint64_t capacity = view.ring_capacity();
  double fill_sum = 0;
  for (uint32_t i = 0; i < view.slot_count(); ++i) {
    const absl::StatusOr<RingSlotSnapshot> slot = view.slot_snapshot(i);
    if (!slot.ok()) continue;  // cannot happen: i < slot_count
    const absl::StatusOr<const shm::RingSlot*> words = view.slot(i);
    if (words.ok())
      p.sampled_out = saturating_add(p.sampled_out, (*words)->sampled_out.load(std::memory_order_relaxed));
    p.committed = saturating_add(p.committed, slot->committed_untrusted);
    marks[i] = next_seq(*slot);
    if (!claimed(slot->state_untrusted)) continue;
    is_claimed[i] = true;
    ++p.rings_claimed;
    const uint64_t w = slot->write_pos_untrusted;
    const uint64_t r = slot->read_pos_untrusted;
    const uint64_t pending = w > r ? std::min(w - r, capacity) : 0;
    const double fill = capacity == 0 ? 0.0 : static_cast<double>(pending) / static_cast<double>(capacity);
    p.fill_max = std::max(p.fill_max, fill);
    fill_sum += fill;
  }
  if (p.rings_claimed > 0) p.fill_mean = fill_sum / p.rings_claimed;

  const Totals totals{p.committed, p.dropped};
  if (segment.has_previous) {
    p.has_rates = true;
    p.seconds = std::chrono::duration<double>(now - segment.previous_at).count();
    p.events = growth(totals.committed, segment.previous.committed);
    p.drops = growth(totals.dropped, segment.previous.dropped);
    if (p.seconds > 0) {
      p.events_per_second = static_cast<double>(p.events) / p.seconds;
      p.drops_per_second = static_cast<double>(p.drops) / p.seconds;
    }
  }

  // Top messages: what each claimed ring got since the previous sample. A
  // dead producer writes nothing new; its rings are not read.
  absl::flat_hash_map<uint32_t, uint64_t> counts;
  const bool alive = state == ProducerState::kAlive;
  for (uint32_t i = 0; alive && i < view.slot_count(); ++i) {
    RingState& ring = segment.rings[i];
    if (!is_claimed[i] || ring.poisoned) continue;
    if (peek_left < options.peek_bytes_per_ring) {
      p.messages_sampled = true;  // over this sample's budget: not read
      continue;
    }
    if (!ring.cursor) {
      RingCursorOptions cursor_options;
      cursor_options.mode = RingCursorOptions::Mode::kPeek;
      cursor_options.max_batch_bytes = std::max<uint64_t>(options.peek_bytes_per_ring, shm::kRecordPrefixBytes);
      absl::StatusOr<RingCursor> cursor = RingCursor::create(view, i, cursor_options);
      if (!cursor.ok()) continue;  // cannot happen: i < slot_count, peek on a read-only view
      ring.cursor.emplace(std::move(*cursor));
    }
    // Without a mark (the first sample of a ring seen before), nothing read now is new.
    CountingSink sink(ring.has_mark ? ring.mark : UINT64_MAX, counts);
    BatchStats stats;
    const absl::Status status = ring.cursor->read_batch(segment.table, sink, &stats);
    peek_left -= std::min(peek_left, stats.bytes);
    if (!status.ok()) {
      ring.poisoned = true;
      frame.notes.push_back(error_text(view.name(), status));
    }
    p.messages_counted += sink.counted();
    if (!stats.caught_up || stats.peek_resyncs > 0) p.messages_sampled = true;
  }
  for (uint32_t i = 0; i < view.slot_count(); ++i) {
    segment.rings[i].has_mark = true;
    segment.rings[i].mark = marks[i];
    if (segment.rings[i].poisoned) ++p.rings_poisoned;
  }

  // The call sites with the most events, most first (ties: smaller id first).
  std::vector<std::pair<uint32_t, uint64_t>> ranked(counts.begin(), counts.end());
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (ranked.size() > options.messages_per_process) ranked.resize(options.messages_per_process);
  for (const auto& [callsite_id, events] : ranked) {
    TopMessage m;
    m.callsite_id = callsite_id;
    m.events = events;
    m.share = p.messages_counted == 0 ? 0.0 : static_cast<double>(events) / static_cast<double>(p.messages_counted);
    m.per_second = m.share * p.events_per_second;
    // Delivered events' sites are in the table, valid (ring_cursor.hpp).
    if (const CallSiteInfo* site = segment.table.find(callsite_id); site != nullptr && site->valid) {
      m.level = site->level;
      m.message = site->message;
      m.file = site->file;
      m.line = site->line;
    }
    p.messages.push_back(std::move(m));
  }

  segment.has_previous = true;
  segment.previous_at = now;
  segment.previous = totals;
  frame.processes.push_back(std::move(p));
}

}  // namespace ringtail::reader
