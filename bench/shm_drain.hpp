// A well-behaved reader of this process's own segment, on a background
// thread, so that the rings drain while the benchmarks emit.
//
// It maps the segment a second time (as a reader in another process would),
// and per pass, for every active or retired ring: reads write_pos once
// (acquire), walks the records up to it by their 8-byte size prefix (touching
// each, no decoding), then publishes read_pos = that write_pos once
// (release). A pass that found nothing in any ring sleeps ~20 us; it never
// spins on write_pos.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "ringtail/shm/layout.hpp"
#include "ringtail/shm/segment_file.hpp"

namespace ringtail_bench {

class ShmDrain {
 public:
  struct Stats {
    uint64_t events = 0;      // event records consumed
    uint64_t bytes = 0;       // bytes consumed, padding and control records included
    uint64_t batches = 0;     // passes that consumed something
    uint64_t sleeps = 0;      // passes that found nothing
    uint64_t max_gap_ns = 0;  // longest time between the starts of two passes (sleeps and preemption included)
  };

  // Maps the segment read-write (the reader owns read_pos).
  static absl::StatusOr<std::unique_ptr<ShmDrain>> open(const std::string& segment_name);
  ~ShmDrain();

  void start();
  void stop();  // drains once more, then joins
  // One pass over every ring; returns the bytes consumed.
  uint64_t drain_once();
  Stats stats() const;

 private:
  ShmDrain() = default;
  void run();

  ringtail::shm::SegmentFile file_;
  std::byte* base_ = nullptr;
  ringtail::shm::RingSlot* directory_ = nullptr;
  uint32_t slot_count_ = 0;
  uint64_t capacity_ = 0;
  std::vector<uint64_t> read_pos_;  // this reader's position per slot (it alone writes read_pos)
  std::vector<bool> seen_;

  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::atomic<uint64_t> events_{0}, bytes_{0}, batches_{0}, sleeps_{0}, max_gap_ns_{0};
  uint64_t checksum_ = 0;
};

}  // namespace ringtail_bench
