#include "ringtail/reader/ingest/segment_view.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ringtail/shm/process_identity.hpp"
#include "ringtail/shm/sample_rules.hpp"

namespace ringtail::reader {
namespace {

// The header's identity part: every byte before the first live word.
constexpr size_t kIdentityBytes = offsetof(shm::SegmentHeader, state);

// A snapshot of the identity bytes, read once: later reads come from here,
// so a producer changing the header under us cannot make two checks disagree.
class HeaderSnapshot {
 public:
  explicit HeaderSnapshot(const std::byte* base) { std::memcpy(bytes_.data(), base, bytes_.size()); }

  template <class T>
  T get(size_t offset) const {
    T value;
    std::memcpy(&value, bytes_.data() + offset, sizeof(T));
    return value;
  }
  // The bytes of a fixed-size name field up to the first NUL.
  std::string name(size_t offset, size_t max_bytes) const {
    const char* begin = reinterpret_cast<const char*>(bytes_.data() + offset);
    return std::string(begin, std::find(begin, begin + max_bytes, '\0'));
  }

 private:
  std::array<std::byte, kIdentityBytes> bytes_;
};

#define RT_FIELD(snapshot, field) \
  (snapshot).get<decltype(shm::SegmentHeader::field)>(offsetof(shm::SegmentHeader, field))

std::string prefix(const std::string& name) { return absl::StrCat("segment /dev/shm/", name, ": "); }

absl::Status data_loss(const std::string& name, const std::string& what) {
  return absl::DataLossError(absl::StrCat(prefix(name), what));
}

// The owner rule of open() (segment_view.hpp). Sets owner_checked_live.
absl::Status check_owner(const std::string& name, SegmentIdentity& identity) {
  const uint32_t owner = identity.file_uid;
  const std::optional<shm::SegmentId> id = shm::parse_segment_name(name);
  if (id.has_value()) {
    if (const std::optional<shm::ProcessUids> uids = shm::process_uids(*id); uids.has_value()) {
      identity.owner_checked_live = true;
      if (owner == 0 || owner == uids->effective || owner == uids->filesystem) return absl::OkStatus();
      return absl::PermissionDeniedError(absl::StrCat(prefix(name), "refused: the file is owned by uid ", owner,
                                                      " but pid ", id->pid, " runs as uid ", uids->effective,
                                                      "; only the user a process runs as may write its segment"));
    }
  }
  if (owner == 0 || owner == identity.uid) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(prefix(name), "refused: the file is owned by uid ", owner,
                                                  " but its header names uid ", identity.uid,
                                                  ", and its process is gone, so nothing else can vouch for it"));
}

}  // namespace

absl::StatusOr<SegmentView> SegmentView::open(const std::string& name, Access access) {
  absl::StatusOr<shm::SegmentFile> file = shm::SegmentFile::open(name, access);
  if (!file.ok()) return file.status();
  return adopt(std::move(*file), access);
}

absl::StatusOr<SegmentView> SegmentView::adopt(shm::SegmentFile file, Access access) {
  const std::string name = file.name();
  if (!file.valid()) return absl::InvalidArgumentError(absl::StrCat(prefix(name), "not mapped"));
  const uint64_t file_bytes = file.size();
  const std::byte* base = file.data();
  // Before the first byte is read: the file may be cut at any moment.
  absl::StatusOr<MappingGuard> guard = MappingGuard::guard(base, file_bytes);
  if (!guard.ok()) return absl::ResourceExhaustedError(absl::StrCat(prefix(name), guard.status().message()));

  if (file_bytes < shm::kHeaderBytes) {
    uint64_t magic = 0;
    if (file_bytes >= sizeof(magic)) std::memcpy(&magic, base, sizeof(magic));
    if (file_bytes >= sizeof(magic) && magic != shm::kMagic) {
      return absl::InvalidArgumentError(absl::StrCat(prefix(name), "not a ringtail segment (", file_bytes, " bytes)"));
    }
    return data_loss(name, absl::StrCat("truncated: the file has ", file_bytes, " bytes, less than the ",
                                        shm::kHeaderBytes, "-byte header"));
  }

  // acquire: pairs with the producer's release of kRunning, which follows
  // every identity and geometry field.
  const shm::SegmentHeader* header = reinterpret_cast<const shm::SegmentHeader*>(base);
  const uint32_t state_untrusted = header->state.load(std::memory_order_acquire);
  const HeaderSnapshot h(base);

  const uint64_t magic = RT_FIELD(h, magic);
  if (magic == 0 && state_untrusted == static_cast<uint32_t>(shm::SegmentState::kInitializing)) {
    return absl::UnavailableError(absl::StrCat(prefix(name), "still being initialised by its producer"));
  }
  if (magic == __builtin_bswap64(shm::kMagic)) {
    return absl::UnimplementedError(
        absl::StrCat(prefix(name), "written in the other byte order, which this reader cannot read"));
  }
  if (magic != shm::kMagic) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix(name), absl::StrFormat("not a ringtail segment (magic 0x%016x)", magic)));
  }
  const uint32_t abi_version = RT_FIELD(h, abi_version);
  if (abi_version < shm::kMinAbiVersion || abi_version > shm::kAbiVersion) {
    return absl::UnimplementedError(absl::StrCat(prefix(name), "ABI version ", abi_version,
                                                 " is not supported: this reader reads versions ", shm::kMinAbiVersion,
                                                 " to ", shm::kAbiVersion));
  }
  const uint32_t endian_tag = RT_FIELD(h, endian_tag);
  if (endian_tag == __builtin_bswap32(shm::kEndianTag)) {
    return absl::UnimplementedError(
        absl::StrCat(prefix(name), "written in the other byte order, which this reader cannot read"));
  }
  if (endian_tag != shm::kEndianTag) {
    return data_loss(name, absl::StrFormat("bad endian tag 0x%08x", endian_tag));
  }
  if (state_untrusted == static_cast<uint32_t>(shm::SegmentState::kInitializing)) {
    return absl::UnavailableError(absl::StrCat(prefix(name), "still being initialised by its producer"));
  }
  if (state_untrusted > static_cast<uint32_t>(shm::SegmentState::kFinished)) {
    return data_loss(name, absl::StrCat("unknown state ", state_untrusted));
  }
  const uint32_t header_bytes = RT_FIELD(h, header_bytes);
  if (header_bytes != shm::kHeaderBytes) {
    return data_loss(name, absl::StrCat("header_bytes is ", header_bytes, ", expected ", shm::kHeaderBytes));
  }
  const uint32_t flags = RT_FIELD(h, flags);
  if ((flags & ~shm::kFlagRealtimeTimestamps) != 0) {
    return absl::UnimplementedError(absl::StrCat(
        prefix(name), absl::StrFormat("unknown header flags 0x%x", flags & ~shm::kFlagRealtimeTimestamps)));
  }

  // Geometry: recomputed from three numbers; every stored value must agree.
  const uint64_t ring_capacity = RT_FIELD(h, ring_capacity);
  const uint32_t ring_slot_count = RT_FIELD(h, ring_slot_count);
  const uint32_t callsite_capacity = RT_FIELD(h, callsite_capacity);
  // Ring mode (v3; reserved zero bytes before, never read there).
  const uint32_t ring_mode = abi_version >= 3 ? RT_FIELD(h, ring_mode) : 0;
  const uint32_t ring_chunk_count = abi_version >= 3 ? RT_FIELD(h, ring_chunk_count) : 0;
  if (ring_mode > static_cast<uint32_t>(shm::RingMode::kFlight)) {
    return data_loss(name, absl::StrCat("unknown ring mode ", ring_mode));
  }
  if ((ring_mode == static_cast<uint32_t>(shm::RingMode::kFlight)) != (ring_chunk_count != 0)) {
    return data_loss(name, absl::StrCat("ring mode ", ring_mode, " with ", ring_chunk_count, " chunks per ring"));
  }
  absl::StatusOr<shm::SegmentGeometry> geometry =
      shm::make_geometry(ring_capacity, ring_slot_count, callsite_capacity, ring_chunk_count);
  if (!geometry.ok()) {
    return data_loss(name, absl::StrCat("bad geometry: ", geometry.status().message()));
  }
  struct Expected {
    const char* field;
    uint64_t stored;
    uint64_t expected;
  };
  const Expected checks[] = {
      {"callsite_table_offset", RT_FIELD(h, callsite_table_offset), geometry->callsite_table_offset},
      {"callsite_entry_bytes", RT_FIELD(h, callsite_entry_bytes), shm::kCallSiteEntryBytes},
      {"directory_offset", RT_FIELD(h, directory_offset), geometry->directory_offset},
      {"ring_slot_bytes", RT_FIELD(h, ring_slot_bytes), shm::kRingSlotBytes},
      {"rings_offset", RT_FIELD(h, rings_offset), geometry->rings_offset},
      {"segment_bytes", RT_FIELD(h, segment_bytes), geometry->segment_bytes},
      {"max_record_bytes", RT_FIELD(h, max_record_bytes), geometry->max_record_bytes()},
  };
  for (const Expected& c : checks) {
    if (c.stored != c.expected) {
      return data_loss(
          name, absl::StrCat(c.field, " is ", c.stored, " but the geometry (ring capacity ", ring_capacity, ", ",
                             ring_slot_count, " slots, ", callsite_capacity, " call sites) puts it at ", c.expected));
    }
  }
  if (file_bytes != geometry->segment_bytes) {
    return data_loss(name, absl::StrCat(file_bytes < geometry->segment_bytes ? "truncated: " : "", "the file has ",
                                        file_bytes, " bytes, the header says ", geometry->segment_bytes));
  }

  SegmentIdentity identity;
  identity.abi_version = abi_version;
  identity.flags = flags;
  identity.segment_bytes = geometry->segment_bytes;
  identity.created_realtime_ns = RT_FIELD(h, created_realtime_ns);
  identity.pid = RT_FIELD(h, pid);
  identity.uid = RT_FIELD(h, uid);
  identity.process_start_ticks = RT_FIELD(h, process_start_ticks);
  identity.clock.realtime = (flags & shm::kFlagRealtimeTimestamps) != 0;
  identity.clock.tsc_hz = RT_FIELD(h, tsc_hz);
  identity.clock.anchor_tsc = RT_FIELD(h, anchor_tsc);
  identity.clock.anchor_realtime_ns = RT_FIELD(h, anchor_realtime_ns);
  identity.max_string_bytes = RT_FIELD(h, max_string_bytes);
  identity.max_record_bytes = RT_FIELD(h, max_record_bytes);
  identity.ring_mode = static_cast<shm::RingMode>(ring_mode);
  identity.service = h.name(offsetof(shm::SegmentHeader, service), shm::kNameBytes);
  identity.program = h.name(offsetof(shm::SegmentHeader, program), shm::kNameBytes);
  identity.hostname = h.name(offsetof(shm::SegmentHeader, hostname), shm::kNameBytes);

  if (!identity.clock.realtime && identity.clock.tsc_hz == 0) {
    return data_loss(name, "TSC timestamps without a TSC frequency (tsc_hz is 0)");
  }
  // A segment named for a process must describe that process.
  if (const std::optional<shm::SegmentId> id = shm::parse_segment_name(name); id.has_value()) {
    if (static_cast<uint32_t>(id->pid) != identity.pid || id->start_ticks != identity.process_start_ticks) {
      return data_loss(name, absl::StrCat("the header describes pid ", identity.pid, " started at tick ",
                                          identity.process_start_ticks, ", not the process in the name"));
    }
  }

  if (guard->cut()) return data_loss(name, "the file was cut short while it was being opened");
  identity.file_uid = file.owner_uid();
  if (absl::Status owner = check_owner(name, identity); !owner.ok()) return owner;

  SegmentView view;
  view.file_ = std::move(file);
  view.guard_ = std::move(*guard);
  view.access_ = access;
  view.identity_ = std::move(identity);
  view.geometry_ = *geometry;
  return view;
}

#undef RT_FIELD

absl::StatusOr<shm::SegmentState> SegmentView::state() const {
  // acquire: kFinished publishes everything written before shutdown().
  const uint32_t state_untrusted = header()->state.load(std::memory_order_acquire);
  if (state_untrusted < static_cast<uint32_t>(shm::SegmentState::kRunning) ||
      state_untrusted > static_cast<uint32_t>(shm::SegmentState::kFinished)) {
    return data_loss(name(), absl::StrCat("state word changed to ", state_untrusted));
  }
  return static_cast<shm::SegmentState>(state_untrusted);
}

SegmentLossCounters SegmentView::loss_counters() const {
  const shm::SegmentHeader* h = header();
  SegmentLossCounters c;
  c.lost_no_ring = h->lost_no_ring.load(std::memory_order_relaxed);
  c.lost_callsite_table_full = h->lost_callsite_table_full.load(std::memory_order_relaxed);
  c.threads_started = h->threads_started.load(std::memory_order_relaxed);
  c.audit_lost_outside_rings = h->audit_lost_outside_rings.load(std::memory_order_relaxed);
  return c;
}

uint32_t SegmentView::callsite_count_untrusted() const {
  // acquire: entries [0, count) are complete.
  return header()->callsite_count.load(std::memory_order_acquire);
}

uint32_t SegmentView::control_min_level_untrusted() const {
  return header()->control_min_level.load(std::memory_order_relaxed);
}

absl::StatusOr<const shm::RingSlot*> SegmentView::slot(uint32_t index) const {
  if (index >= geometry_.ring_slot_count) {
    return absl::OutOfRangeError(
        absl::StrCat(prefix(name()), "ring slot ", index, " is past the ", geometry_.ring_slot_count, " slots"));
  }
  return slot_at(index);
}

absl::StatusOr<RingSlotSnapshot> SegmentView::slot_snapshot(uint32_t index) const {
  absl::StatusOr<const shm::RingSlot*> s = slot(index);
  if (!s.ok()) return s.status();
  const shm::RingSlot& r = **s;
  RingSlotSnapshot out;
  // acquire: the owner fields come before the state that announces them.
  out.state_untrusted = r.state.load(std::memory_order_acquire);
  out.os_tid_untrusted = r.os_tid.load(std::memory_order_relaxed);
  out.generation_untrusted = r.generation.load(std::memory_order_relaxed);
  std::memcpy(&out.data_offset_untrusted, reinterpret_cast<const std::byte*>(&r) + offsetof(shm::RingSlot, data_offset),
              sizeof(uint64_t));
  std::memcpy(&out.capacity_untrusted, reinterpret_cast<const std::byte*>(&r) + offsetof(shm::RingSlot, capacity),
              sizeof(uint64_t));
  const uint64_t words[2] = {r.thread_name[0].load(std::memory_order_relaxed),
                             r.thread_name[1].load(std::memory_order_relaxed)};
  const char* chars = reinterpret_cast<const char*>(words);
  out.thread_name.assign(chars, std::find(chars, chars + sizeof(words), '\0'));
  out.write_pos_untrusted = r.write_pos.load(std::memory_order_acquire);
  out.committed_untrusted = r.committed.load(std::memory_order_relaxed);
  out.dropped_full_untrusted = r.dropped_full.load(std::memory_order_relaxed);
  out.dropped_too_big_untrusted = r.dropped_too_big.load(std::memory_order_relaxed);
  out.audit_lost_untrusted = r.audit_lost.load(std::memory_order_relaxed);
  out.read_pos_untrusted = r.read_pos.load(std::memory_order_relaxed);
  return out;
}

absl::StatusOr<const std::byte*> SegmentView::ring_data(uint32_t index) const {
  if (index >= geometry_.ring_slot_count) {
    return absl::OutOfRangeError(
        absl::StrCat(prefix(name()), "ring ", index, " is past the ", geometry_.ring_slot_count, " rings"));
  }
  return file_.data() + geometry_.ring_data_offset(index);
}

absl::StatusOr<RingBytesSource> SegmentView::ring_bytes_source(uint32_t index) const {
  if (index >= geometry_.ring_slot_count) {
    return absl::OutOfRangeError(
        absl::StrCat(prefix(name()), "ring ", index, " is past the ", geometry_.ring_slot_count, " rings"));
  }
  return RingBytesSource{file_.fd(), geometry_.ring_data_offset(index), geometry_.ring_capacity, guard_.slot()};
}

absl::Status copy_ring_bytes(const RingBytesSource& source, uint64_t offset, void* out, size_t bytes) {
  if (offset > source.capacity || bytes > source.capacity - offset) {
    return absl::OutOfRangeError(
        absl::StrCat("ring bytes [", offset, ", +", bytes, ") are past the ring's ", source.capacity));
  }
  auto* to = static_cast<char*>(out);
  uint64_t at = source.file_offset + offset;
  while (bytes > 0) {
    const ssize_t n = ::pread(source.fd, to, bytes, static_cast<off_t>(at));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot read ring bytes at file offset ", at));
    if (n == 0) {
      // The mapping would have raised SIGBUS here: the same outcome.
      MappingGuard::mark_cut(source.guard_slot);
      return absl::DataLossError(absl::StrCat("the segment file ends before its offset ", at, ": cut short"));
    }
    to += n;
    at += static_cast<uint64_t>(n);
    bytes -= static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::StatusOr<const shm::CallSiteEntry*> SegmentView::callsite_entry(uint32_t id) const { return entry_at(id); }

absl::Status SegmentView::store_read_pos(uint32_t index, uint64_t read_pos) const {
  if (!writable()) return absl::FailedPreconditionError(absl::StrCat(prefix(name()), "opened read-only"));
  if (index >= geometry_.ring_slot_count) {
    return absl::OutOfRangeError(
        absl::StrCat(prefix(name()), "ring slot ", index, " is past the ", geometry_.ring_slot_count, " slots"));
  }
  // release: every byte before read_pos has been copied out; the producer may reuse it.
  slot_at(index)->read_pos.store(read_pos, std::memory_order_release);
  return absl::OkStatus();
}

absl::Status SegmentView::set_control_min_level(shm::Level level) const {
  if (!writable()) return absl::FailedPreconditionError(absl::StrCat(prefix(name()), "opened read-only"));
  if (level > shm::Level::kOff) return absl::InvalidArgumentError("not a level");
  header()->control_min_level.store(static_cast<uint32_t>(level), std::memory_order_relaxed);
  return absl::OkStatus();
}

absl::StatusOr<shm::CallSiteEntry*> SegmentView::entry_at(uint32_t id) const {
  if (id >= geometry_.callsite_capacity) {
    return absl::OutOfRangeError(absl::StrCat(prefix(name()), "call-site id ", id, " is past the table's ",
                                              geometry_.callsite_capacity, " entries"));
  }
  return reinterpret_cast<shm::CallSiteEntry*>(file_.data() + geometry_.callsite_offset(id));
}

absl::StatusOr<std::string> SegmentView::sample_rules_untrusted() const {
  return shm::load_sample_rules_text(*header());
}

absl::Status SegmentView::store_sample_rules(std::string_view text) const {
  if (!writable()) return absl::FailedPreconditionError(absl::StrCat(prefix(name()), "opened read-only"));
  return shm::store_sample_rules_text(*header(), text);
}

absl::StatusOr<uint32_t> SegmentView::sample_keep_untrusted(uint32_t id) const {
  absl::StatusOr<shm::CallSiteEntry*> entry = entry_at(id);
  if (!entry.ok()) return entry.status();
  // The word is shared with the producer: atomic_ref (a relaxed load writes
  // nothing, so this is fine on a read-only mapping too).
  return std::atomic_ref<uint32_t>((*entry)->sample_keep).load(std::memory_order_relaxed);
}

absl::Status SegmentView::store_sample_keep(uint32_t id, uint32_t keep) const {
  if (!writable()) return absl::FailedPreconditionError(absl::StrCat(prefix(name()), "opened read-only"));
  absl::StatusOr<shm::CallSiteEntry*> entry = entry_at(id);
  if (!entry.ok()) return entry.status();
  std::atomic_ref<uint32_t>((*entry)->sample_keep).store(keep, std::memory_order_relaxed);
  return absl::OkStatus();
}

}  // namespace ringtail::reader
