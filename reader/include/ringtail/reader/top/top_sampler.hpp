// TopSampler: the model behind `ringtail top`, a live view of the producers
// on this host. Each sample() lists the segments (segment_directory.hpp),
// reads every segment's live words and compares them with the previous
// sample: events/s from the change in the rings' `committed` counters, drops
// by cause, audit losses, ring fill, what no reader has consumed yet, the
// lease holder and the producer's state. No terminal code: the view is
// top_view.hpp's, the keys and the screen the verb's (tools/ringtail/verb_top.cpp).
//
// Top messages, cheaply and honestly: the sampler keeps one peeking
// RingCursor per claimed ring (ring_cursor.hpp, kPeek: read_pos is never
// written and no lease is taken, as `tail` and `snapshot` read) and at every
// sample decodes what each ring got since the last one, counting events by
// call site. Which events are new is told by their seq: at each sample the
// sampler notes every slot's committed + dropped_full + dropped_too_big, the
// seq its next event gets, and the next sample counts only events at or past
// that mark (a ring's backlog from before is read over, not counted). The
// work is bounded: at most TopOptions::peek_bytes_per_ring per ring and
// peek_bytes_per_sample in all per sample; a process whose new records were
// not all read (a budget reached, or a consuming drain overtook the cursor)
// is marked `messages_sampled`, and its per-message rates are then estimates
// (the counted shares times its events/s).
//
// Hostile input: every number here comes from untrusted shared memory, read
// without locking (a snapshot of no single instant): sums saturate, deltas of
// counters that went backwards count as 0, pending bytes are clamped to the
// ring's capacity, records are read only through the cursor's validated
// copies (a ring that breaks the protocol is poisoned, counted in
// rings_poisoned and named in the frame's notes, and nothing else is
// affected). Texts (service, message, file) are kept as the segment has
// them: whoever prints them makes them safe (terminal_safe).
//
// Threading: one thread per sampler. A sampler keeps the segments it reads
// mapped until they disappear from the directory.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ringtail/reader/ingest/segment_directory.hpp"
#include "ringtail/shm/level.hpp"

namespace ringtail::reader {

struct TopOptions {
  DiscoveryOptions discovery;
  // Ring bytes decoded per ring and per sample for the top messages.
  uint64_t peek_bytes_per_ring = uint64_t{256} << 10;
  // Ring bytes decoded per sample over all rings; rings past it are not read.
  uint64_t peek_bytes_per_sample = uint64_t{16} << 20;
  // Top messages kept per process.
  size_t messages_per_process = 3;
};

// One call site's share of a process's events since the previous sample.
struct TopMessage {
  uint32_t callsite_id = 0;
  shm::Level level = shm::Level::kInfo;
  std::string message;  // untrusted: as the call-site table has it
  std::string file;     // untrusted
  uint32_t line = 0;
  uint64_t events = 0;    // counted since the previous sample
  double share = 0;       // of the events counted for the process, 0..1
  double per_second = 0;  // share * the process's events/s
};

// Events a producer dropped, totals by cause (each saturating).
struct TopDrops {
  uint64_t ring_full = 0;
  uint64_t too_big = 0;
  uint64_t no_ring = 0;
  uint64_t callsite_table_full = 0;
};

struct TopProcess {
  std::string segment;  // "ringtail.<pid>.<start>"
  pid_t pid = 0;
  std::string service;  // untrusted
  std::string program;  // untrusted
  std::string state;    // "alive", "exited", "crashed"
  bool flight = false;  // flight-recorder rings: the writer ignores read_pos, fill is always near full

  // False on the first sample of a segment that existed before the previous
  // sample: no rates yet. A segment created since the previous sample counts
  // from zero.
  bool has_rates = false;
  double seconds = 0;   // since the previous sample of this segment
  uint64_t events = 0;  // committed since then
  double events_per_second = 0;
  uint64_t drops = 0;  // dropped since then, all causes
  double drops_per_second = 0;

  uint64_t committed = 0;  // totals, as the counters say now
  uint64_t dropped = 0;    // all causes
  TopDrops dropped_by_cause;
  uint64_t audit_lost = 0;   // audit events lost for any cause (also in dropped)
  uint64_t sampled_out = 0;  // left out by sampling rules: not drops

  uint32_t ring_slots = 0;
  uint32_t rings_claimed = 0;  // active or retired
  uint32_t rings_active = 0;
  uint64_t ring_bytes = 0;  // each ring's capacity
  // Over the claimed rings, of (write_pos - read_pos) / capacity, 0..1.
  double fill_max = 0;
  double fill_mean = 0;
  uint64_t pending_bytes = 0;  // written, not consumed yet, over all rings
  std::optional<pid_t> lease;  // the live reader consuming the segment

  std::vector<TopMessage> messages;  // most events first, at most messages_per_process
  uint64_t messages_counted = 0;     // new events counted by call site
  bool messages_sampled = false;     // not all new records were read: shares of a sample
  uint32_t rings_poisoned = 0;
};

struct TopFrame {
  int64_t realtime_ns = 0;            // CLOCK_REALTIME at the start of the sample
  double seconds = 0;                 // since the previous sample (0 on the first)
  std::vector<TopProcess> processes;  // by pid, then segment name
  // One line each: segments left out or unreadable, poisoned rings.
  std::vector<std::string> notes;
  uint64_t peeked_bytes = 0;  // ring bytes decoded for this sample
  uint64_t peek_bytes_per_ring = 0;
};

// The columns `ringtail top` sorts by.
enum class TopSort { kEventRate, kDrops, kRingFill, kLag, kPid };
inline constexpr TopSort kTopSorts[] = {TopSort::kEventRate, TopSort::kDrops, TopSort::kRingFill, TopSort::kLag,
                                        TopSort::kPid};
// "events/s", "drops", "fill", "lag", "pid".
std::string_view top_sort_name(TopSort sort);
// The name's sort; nullopt for another word.
std::optional<TopSort> parse_top_sort(std::string_view name);
// The next column in kTopSorts' order, after the last the first.
TopSort next_top_sort(TopSort sort);
// Orders `processes` by `sort`: rates, drops (per second, then totals), fill
// and pending bytes largest first, pid smallest first; ties by pid.
void sort_top_processes(std::vector<TopProcess>& processes, TopSort sort);

class TopSampler {
 public:
  explicit TopSampler(TopOptions options);
  ~TopSampler();
  TopSampler(TopSampler&&) noexcept;
  TopSampler& operator=(TopSampler&&) noexcept;

  // Takes one sample. An error only when the directory cannot be listed;
  // segments that cannot be read are notes of the frame.
  absl::StatusOr<TopFrame> sample();

  const TopOptions& options() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace ringtail::reader
