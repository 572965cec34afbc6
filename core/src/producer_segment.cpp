#include "producer_segment.hpp"

#include <errno.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "ringtail/detail/producer_state.hpp"
#include "ringtail/shm/process_identity.hpp"
#include "sampling.hpp"

namespace ringtail::detail {
namespace {

void copy_name(char (&out)[shm::kNameBytes], std::string_view value) {
  std::memset(out, 0, sizeof(out));
  std::memcpy(out, value.data(), std::min(value.size(), sizeof(out)));
}

std::string program_name() { return program_invocation_short_name != nullptr ? program_invocation_short_name : ""; }

// The owner of /dev/shm/<name>, not following a link; nullopt if it is gone.
std::optional<uid_t> owner_of(const std::string& name) {
  struct stat st {};
  if (::fstatat(AT_FDCWD, absl::StrCat("/dev/shm/", name).c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return std::nullopt;
  return st.st_uid;
}

// Creates this process's segment file. The name is the process's own,
// unless another user already holds it (anyone may create files in
// /dev/shm, and only the owner may remove them): then one with a random tag
// the squatter cannot have guessed. Readers accept a segment only from the
// user its process runs as, so the squatter's file is refused either way.
absl::StatusOr<shm::SegmentFile> create_file(pid_t pid, uint64_t start_ticks, uint64_t bytes, uint32_t mode) {
  const std::string plain = shm::segment_name(pid, start_ticks);
  absl::StatusOr<shm::SegmentFile> file = shm::SegmentFile::create(plain, bytes, mode);
  if (file.ok() || !absl::IsAlreadyExists(file.status())) return file;
  const uid_t me = ::geteuid();
  const std::optional<uid_t> squatter = owner_of(plain);
  if (!squatter.has_value() || *squatter == me) return file;  // gone since, or ours: nothing to route around
  constexpr int kAttempts = 4;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    uint64_t tag = 0;
    if (::getrandom(&tag, sizeof(tag), 0) != static_cast<ssize_t>(sizeof(tag))) break;
    file = shm::SegmentFile::create(shm::segment_name(pid, start_ticks, tag), bytes, mode);
    if (file.ok()) {
      std::fprintf(stderr,
                   "ringtail: /dev/shm/%s is held by uid %u, not by this process (uid %u); this process's segment "
                   "is /dev/shm/%s\n",
                   plain.c_str(), static_cast<unsigned>(*squatter), static_cast<unsigned>(me), file->name().c_str());
      return file;
    }
    if (!absl::IsAlreadyExists(file.status())) return file;
  }
  return absl::AlreadyExistsError(absl::StrCat("/dev/shm/", plain, " is held by uid ", *squatter,
                                               ", not by this process (uid ", me,
                                               "), and no other name for its segment could be created"));
}

std::string host_name() {
  char buffer[256] = {};
  if (::gethostname(buffer, sizeof(buffer) - 1) != 0) return "";
  return buffer;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ProducerSegment>> ProducerSegment::create(const Options& options,
                                                                         const ClockCalibration& clock,
                                                                         const ProducerSegment* inherit) {
  absl::StatusOr<shm::SegmentGeometry> geometry =
      shm::make_geometry(options.ring_bytes, options.max_threads, options.max_callsites,
                         options.mode == RingMode::kFlight ? shm::flight_chunk_count(options.ring_bytes) : 0);
  if (!geometry.ok()) return geometry.status();
  if (inherit != nullptr && inherit->geometry_.callsite_capacity > geometry->callsite_capacity) {
    return absl::InvalidArgumentError("max_callsites is smaller than the parent process's table");
  }

  const pid_t pid = ::getpid();
  const std::optional<uint64_t> start_ticks = shm::process_start_ticks(pid);
  if (!start_ticks) return absl::InternalError("cannot read this process's start time from /proc/self/stat");

  std::unique_ptr<ProducerSegment> segment(new ProducerSegment());
  segment->pid_ = pid;
  segment->geometry_ = *geometry;
  absl::StatusOr<shm::SegmentFile> file = create_file(pid, *start_ticks, geometry->segment_bytes, options.shm_mode);
  if (!file.ok()) return file.status();
  segment->file_ = std::move(*file);

  // Header, directory and the first table page now; the rest of the table and
  // each ring's data as they are first used.
  absl::Status reserved = segment->file_.reserve(0, shm::kHeaderBytes + shm::kPageBytes);
  if (reserved.ok()) {
    reserved = segment->file_.reserve(geometry->directory_offset, geometry->rings_offset - geometry->directory_offset);
  }
  if (!reserved.ok()) {
    shm::SegmentFile::remove(segment->name());
    return reserved;
  }
  segment->table_reserved_end_ = geometry->callsite_table_offset + shm::kPageBytes;

  shm::SegmentHeader& h = segment->header();
  h.magic = shm::kMagic;
  // Version 3 only where it matters: older readers keep reading normal segments.
  h.abi_version = geometry->flight() ? shm::kAbiVersion : shm::kNormalAbiVersion;
  h.endian_tag = shm::kEndianTag;
  h.header_bytes = shm::kHeaderBytes;
  h.flags = clock.realtime ? shm::kFlagRealtimeTimestamps : 0;
  h.segment_bytes = geometry->segment_bytes;
  h.created_realtime_ns = realtime_ns();
  h.pid = static_cast<uint32_t>(pid);
  h.uid = ::geteuid();  // the file's owner, which a reader compares it with
  h.process_start_ticks = *start_ticks;
  h.tsc_hz = clock.tsc_hz;
  h.anchor_tsc = clock.anchor_tsc;
  h.anchor_realtime_ns = clock.anchor_realtime_ns;
  h.callsite_table_offset = geometry->callsite_table_offset;
  h.callsite_capacity = geometry->callsite_capacity;
  h.callsite_entry_bytes = shm::kCallSiteEntryBytes;
  h.directory_offset = geometry->directory_offset;
  h.ring_slot_count = geometry->ring_slot_count;
  h.ring_slot_bytes = shm::kRingSlotBytes;
  h.rings_offset = geometry->rings_offset;
  h.ring_capacity = geometry->ring_capacity;
  h.max_string_bytes = options.max_string_bytes;
  h.max_record_bytes = geometry->max_record_bytes();
  h.ring_mode = static_cast<uint32_t>(geometry->flight() ? shm::RingMode::kFlight : shm::RingMode::kNormal);
  h.ring_chunk_count = geometry->ring_chunk_count;
  const std::string program = program_name();
  copy_name(h.service, options.service.empty() ? program : options.service);
  copy_name(h.program, program);
  copy_name(h.hostname, host_name());
  h.control_min_level.store(static_cast<uint32_t>(options.min_level), std::memory_order_relaxed);

  for (uint32_t i = 0; i < geometry->ring_slot_count; ++i) {
    shm::RingSlot& s = segment->slot(i);
    s.data_offset = geometry->ring_data_offset(i);
    s.capacity = geometry->ring_capacity;
  }

  segment->ledger_.resize(geometry->ring_slot_count);
  if (inherit != nullptr) {
    // The parent's own count, not the one in its segment: that word is
    // readable and writable by others, and ids past it were never handed out.
    const uint32_t count = inherit->callsite_count_;
    for (uint32_t id = 0; id < count; ++id) {
      if (absl::Status s = segment->reserve_entry(id); !s.ok()) {
        shm::SegmentFile::remove(segment->name());
        return s;
      }
      std::memcpy(&segment->entry(id), &inherit->entry(id), sizeof(shm::CallSiteEntry));
    }
    h.callsite_count.store(count, std::memory_order_relaxed);
    segment->callsite_count_ = count;
  }

  write_sample_rules(h, options.sample, inherit != nullptr ? &inherit->header() : nullptr);
  // release: publishes the whole header (and copied table) to readers.
  h.state.store(static_cast<uint32_t>(shm::SegmentState::kRunning), std::memory_order_release);
  return segment;
}

absl::Status ProducerSegment::reserve_entry(uint32_t id) {
  const uint64_t end = geometry_.callsite_offset(id) + shm::kCallSiteEntryBytes;
  if (end <= table_reserved_end_) return absl::OkStatus();
  // A page at a time: 4 entries.
  const uint64_t new_end = (end + shm::kPageBytes - 1) / shm::kPageBytes * shm::kPageBytes;
  absl::Status s = file_.reserve(table_reserved_end_, new_end - table_reserved_end_);
  if (s.ok()) table_reserved_end_ = new_end;
  return s;
}

absl::Status ProducerSegment::reserve_ring(uint32_t index) {
  return file_.reserve(geometry_.ring_data_offset(index), geometry_.ring_capacity);
}

}  // namespace ringtail::detail
