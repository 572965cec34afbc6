// The producer's view of its own segment: creation and typed access.
//
// Cold path only. The hot path reaches the segment through each thread's
// RingWriter and the control-word pointer; this is for init, ring claims,
// call-site registration and fork.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "clock.hpp"
#include "ringtail/options.hpp"
#include "ringtail/shm/geometry.hpp"
#include "ringtail/shm/layout.hpp"
#include "ringtail/shm/segment_file.hpp"

namespace ringtail::detail {

// What the producer knows of one ring slot, kept in its own memory: the
// segment's copy of these words may be rewritten by anyone who can write the
// segment (a reader has to), and the producer never acts on what it reads
// there. Guarded by the runtime's lock.
struct SlotLedger {
  enum class Use : uint8_t { kFree, kActive, kRetired };
  Use use = Use::kFree;
  // The last owner's positions and counts when it retired (RingWriter's mirror).
  uint64_t write_pos = 0;
  uint64_t committed = 0;
  uint64_t dropped = 0;
};

class ProducerSegment {
 public:
  // Creates /dev/shm/ringtail.<pid>.<start> for the calling process, sparse,
  // with its header, directory and first table page reserved. With `inherit`
  // (a fork child), the parent's call-site table is copied so that the ids
  // cached in call sites stay valid.
  static absl::StatusOr<std::unique_ptr<ProducerSegment>> create(const Options& options, const ClockCalibration& clock,
                                                                 const ProducerSegment* inherit);

  shm::SegmentHeader& header() const { return *reinterpret_cast<shm::SegmentHeader*>(file_.data()); }
  shm::RingSlot& slot(uint32_t index) const {
    return *reinterpret_cast<shm::RingSlot*>(file_.data() + geometry_.slot_offset(index));
  }
  std::byte* ring_data(uint32_t index) const { return file_.data() + geometry_.ring_data_offset(index); }
  shm::CallSiteEntry& entry(uint32_t id) const {
    return *reinterpret_cast<shm::CallSiteEntry*>(file_.data() + geometry_.callsite_offset(id));
  }
  const shm::SegmentGeometry& geometry() const { return geometry_; }
  const std::string& name() const { return file_.name(); }
  pid_t pid() const { return pid_; }

  // Entries [0, callsite_count()) are described; the header's count is a
  // copy published for readers, never read back.
  uint32_t callsite_count() const { return callsite_count_; }
  void set_callsite_count(uint32_t count) { callsite_count_ = count; }
  SlotLedger& ledger(uint32_t index) { return ledger_[index]; }

  // Makes sure the table page holding entry `id` is allocated.
  absl::Status reserve_entry(uint32_t id);
  // Allocates the ring data of slot `index` (its first claim).
  absl::Status reserve_ring(uint32_t index);

 private:
  ProducerSegment() = default;

  shm::SegmentFile file_;
  shm::SegmentGeometry geometry_;
  pid_t pid_ = 0;
  uint64_t table_reserved_end_ = 0;  // bytes of the table allocated so far
  uint32_t callsite_count_ = 0;
  std::vector<SlotLedger> ledger_;  // by slot index
};

}  // namespace ringtail::detail
