// SegmentView: a producer's segment, opened and validated as hostile input.
//
// open() maps /dev/shm/<name> (read-only, or read-write for a consuming
// reader) and accepts it only if the header is complete (state word released
// as kRunning or kFinished) and self-consistent: magic, ABI version, byte
// order, header size, the file's mapped size equal to segment_bytes (so no
// access through this view can run past the end of the file), and every
// stored offset and size equal to what shm::make_geometry computes from
// (ring_capacity, ring_slot_count, callsite_capacity). Identity fields and
// names are copied out once at open; later changes to them in the segment are
// never seen. Errors are one line naming the segment.
//
// Who may speak for a process: a segment named for a process is accepted
// only from the user that process runs as. The file's owner (from the OS,
// not from the segment) must be the live process's effective or filesystem
// uid; for a process that is gone, the uid in the header. A file owned by
// root is accepted too (only root can create one, and root can write any
// segment anyway; a daemon that dropped root after init keeps its segment).
// Anything else is PermissionDenied, naming both uids: another user's file
// under the process's name, forging its lines.
//
// What stays live, and therefore still untrusted after open: the state word,
// the header counters, the call-site count and entries, and everything in the
// ring directory and ring data. Those are read through the *_untrusted
// accessors below (or CallSiteTable / RingCursor, which validate them).
//
// Writes: a read-write view writes only reader-owned words of the ABI
// (RingSlot::read_pos, control_min_level; the reader lease and its holder's
// stall words are left to the code that implements its protocol); a read-only
// view refuses to.
//
// Threading: immutable after open; any number of threads may use one view
// concurrently. Moving a view keeps its mapping at the same address, so
// CallSiteTable and RingCursor, which keep raw pointers into the mapping,
// stay valid as long as the view (moved or not) is alive.
//
// A file cut short after open (its owner's ftruncate) does not kill the
// reader: the mapping is guarded (mapping_guard.hpp), an access past the new
// end reads zeros, and cut() turns true. A cut view is abandoned: nothing
// read from it after the cut is trusted.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ringtail/reader/ingest/mapping_guard.hpp"
#include "ringtail/reader/ingest/timestamp.hpp"
#include "ringtail/shm/geometry.hpp"
#include "ringtail/shm/layout.hpp"
#include "ringtail/shm/segment_file.hpp"

namespace ringtail::reader {

// Header identity, copied out and validated at open.
struct SegmentIdentity {
  uint32_t abi_version = 0;
  uint32_t flags = 0;
  uint64_t segment_bytes = 0;
  uint64_t created_realtime_ns = 0;
  uint32_t pid = 0;
  uint32_t uid = 0;  // as the header says (the creator's effective uid)
  uint64_t process_start_ticks = 0;
  // The file's owner, from the OS (fstat of the open file).
  uint32_t file_uid = 0;
  // True when the owner was checked against the live process the name
  // names; false when that process was already gone at open, and only the
  // header's uid could be compared (see open()).
  bool owner_checked_live = false;
  ClockCalibration clock;
  uint32_t max_string_bytes = 0;
  uint32_t max_record_bytes = 0;
  // v3: kFlight rings overwrite their oldest chunk (geometry().ring_chunk_count chunks).
  shm::RingMode ring_mode = shm::RingMode::kNormal;
  // Bytes up to the first NUL (at most kNameBytes); not checked for UTF-8.
  std::string service;
  std::string program;
  std::string hostname;
};

// Header counters of events that never reached a ring (live, relaxed reads).
struct SegmentLossCounters {
  uint64_t lost_no_ring = 0;
  uint64_t lost_callsite_table_full = 0;
  uint64_t threads_started = 0;
  uint64_t audit_lost_outside_rings = 0;  // audit events among the above two causes
};

// A ring slot's directory words (live, untrusted: for display and for the
// cursor's sanity checks; the cursor trusts only the ring's records).
struct RingSlotSnapshot {
  uint32_t state_untrusted = 0;  // a shm::SlotState value if the producer is honest
  uint32_t os_tid_untrusted = 0;
  uint64_t generation_untrusted = 0;
  uint64_t data_offset_untrusted = 0;
  uint64_t capacity_untrusted = 0;
  std::string thread_name;  // up to the first NUL, at most kThreadNameBytes
  uint64_t write_pos_untrusted = 0;
  uint64_t committed_untrusted = 0;
  uint64_t dropped_full_untrusted = 0;
  uint64_t dropped_too_big_untrusted = 0;
  uint64_t audit_lost_untrusted = 0;  // RINGTAIL_AUDIT events dropped after their wait (in dropped_full too)
  uint64_t read_pos_untrusted = 0;
};

// Where a ring's bytes are copied from: the segment's descriptor, at the
// ring's place in the file. The reader copies ring data with pread() rather
// than through the mapping, so ring bytes never enter its page tables: its
// resident memory does not grow with ring size or backlog, and no read takes
// a page fault (docs/ARCHITECTURE.md, "Reader memory"). Plain numbers, valid
// while the view (moved or not) is alive.
struct RingBytesSource {
  int fd = -1;
  uint64_t file_offset = 0;  // of the ring's first byte
  uint64_t capacity = 0;
  int guard_slot = -1;  // the view's MappingGuard registration
};

// Copies bytes [offset, offset + bytes) of the ring into `out`; the range
// must lie within the ring (OutOfRange otherwise). A file that ends first
// was cut short: the view is marked cut() and DataLoss is returned; another
// OS error is returned as such. The copy is private: nothing the producer
// does later changes it.
absl::Status copy_ring_bytes(const RingBytesSource& source, uint64_t offset, void* out, size_t bytes);

class SegmentView {
 public:
  using Access = shm::SegmentFile::Access;

  SegmentView(SegmentView&&) noexcept = default;
  SegmentView& operator=(SegmentView&&) noexcept = default;

  // Opens /dev/shm/<name> and validates it. UnavailableError while the
  // producer is still initialising it (retry later); UnimplementedError for
  // another ABI version or byte order; DataLossError for a truncated or
  // inconsistent segment; InvalidArgumentError for a file that is not a
  // ringtail segment; the OS error (NotFound, PermissionDenied...) otherwise.
  static absl::StatusOr<SegmentView> open(const std::string& name, Access access);
  // Validates an already mapped file (e.g. one a caller opened itself).
  static absl::StatusOr<SegmentView> adopt(shm::SegmentFile file, Access access);

  const std::string& name() const { return file_.name(); }
  bool writable() const { return access_ == Access::kReadWrite; }
  const SegmentIdentity& identity() const { return identity_; }
  const ClockCalibration& clock() const { return identity_.clock; }
  const shm::SegmentGeometry& geometry() const { return geometry_; }
  uint32_t slot_count() const { return geometry_.ring_slot_count; }
  uint32_t callsite_capacity() const { return geometry_.callsite_capacity; }
  uint64_t ring_capacity() const { return geometry_.ring_capacity; }

  // Live state word (acquire load: a kFinished state makes everything the
  // producer wrote before shutdown() visible). DataLossError if the producer
  // wrote a value that is not a SegmentState.
  absl::StatusOr<shm::SegmentState> state() const;
  SegmentLossCounters loss_counters() const;
  // Producer's call-site count, acquire-loaded and NOT clamped to capacity.
  uint32_t callsite_count_untrusted() const;
  uint32_t control_min_level_untrusted() const;

  // Typed, bounds-checked access into the mapping. OutOfRangeError for an
  // index past the geometry. The pointed-to memory is shared and untrusted.
  absl::StatusOr<const shm::RingSlot*> slot(uint32_t index) const;
  absl::StatusOr<RingSlotSnapshot> slot_snapshot(uint32_t index) const;
  // Start of ring `index`'s data: geometry().ring_capacity bytes.
  absl::StatusOr<const std::byte*> ring_data(uint32_t index) const;
  // How to copy ring `index`'s data (copy_ring_bytes). OutOfRange past the rings.
  absl::StatusOr<RingBytesSource> ring_bytes_source(uint32_t index) const;
  absl::StatusOr<const shm::CallSiteEntry*> callsite_entry(uint32_t id) const;

  // Reader-owned words. FailedPreconditionError on a read-only view.
  absl::Status store_read_pos(uint32_t index, uint64_t read_pos) const;  // release
  absl::Status set_control_min_level(shm::Level level) const;            // relaxed, as the producer's own setter

  // Sampling, which a reader may change live (docs/FORMAT.md, "Sampling").
  // The rules text as the seqlock gives it (shm/sample_rules.hpp: DataLoss
  // for a length past the area, Unavailable if no stable copy was read).
  absl::StatusOr<std::string> sample_rules_untrusted() const;
  // Replaces the rules text (which the producer applies to the sites it
  // registers from then on). FailedPrecondition on a read-only view;
  // InvalidArgument for a text longer than the header holds. Not parsed here.
  absl::Status store_sample_rules(std::string_view text) const;
  // A call site's sample_keep word (relaxed). OutOfRange past the table.
  absl::StatusOr<uint32_t> sample_keep_untrusted(uint32_t id) const;
  absl::Status store_sample_keep(uint32_t id, uint32_t keep) const;
  // The reader lease word (SegmentHeader::reader_lease), for ConsumerLease
  // (consumer_lease.hpp), which implements its protocol. Only loads are
  // allowed through a read-only view: its mapping is read-only.
  std::atomic<uint64_t>* reader_lease_word() const { return &header()->reader_lease; }
  // The lease holder's output-stall words (SegmentHeader::reader_stalled_since_ns,
  // reader_stall_errno), for ConsumerLease too; read-only views may only load.
  std::atomic<uint64_t>* reader_stalled_since_word() const { return &header()->reader_stalled_since_ns; }
  std::atomic<uint32_t>* reader_stall_errno_word() const { return &header()->reader_stall_errno; }

  // True once an access found the file cut short under the mapping (the
  // pages past its new end read as zeros): abandon the view.
  bool cut() const { return guard_.cut(); }

  // Raw mapping, for code that validates what it reads itself.
  const std::byte* data() const { return file_.data(); }
  uint64_t size() const { return file_.size(); }

 private:
  SegmentView() = default;
  shm::SegmentHeader* header() const { return reinterpret_cast<shm::SegmentHeader*>(file_.data()); }
  // Bounds-checked; OutOfRange past the table.
  absl::StatusOr<shm::CallSiteEntry*> entry_at(uint32_t id) const;
  shm::RingSlot* slot_at(uint32_t index) const {
    return reinterpret_cast<shm::RingSlot*>(file_.data() + geometry_.slot_offset(index));
  }

  shm::SegmentFile file_;
  MappingGuard guard_;  // declared after file_: unregistered before the mapping goes
  Access access_ = Access::kReadOnly;
  SegmentIdentity identity_;
  shm::SegmentGeometry geometry_;
};

}  // namespace ringtail::reader
