#include "ringtail/reader/drain/segment_resume.hpp"

#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "ringtail/reader/ingest/byte_fields.hpp"
#include "ringtail/reader/ingest/reader_limits.hpp"
#include "ringtail/shm/layout.hpp"

namespace ringtail::reader {
namespace {

constexpr char kMagic[8] = {'R', 'T', 'R', 'E', 'S', 'U', 'M', '1'};

constexpr uint32_t kHasExpectedSeq = 1;
constexpr uint32_t kOwnerKnown = 2;
constexpr uint32_t kLapPending = 4;  // RingResume::lap_pending

}  // namespace

std::string encode(const SegmentResume& resume) {
  std::string out(kMagic, sizeof(kMagic));
  put_u32(out, resume.pid);
  put_u32(out, resume.crash_noted ? 1 : 0);
  put_u64(out, resume.start_ticks);
  put_u64(out, resume.lost_no_ring_noted);
  put_u64(out, resume.lost_callsite_table_full_noted);
  put_u64(out, resume.audit_lost_outside_rings_noted);
  put_u32(out, static_cast<uint32_t>(resume.rings.size()));
  for (const SegmentResume::Ring& ring : resume.rings) {
    const RingResume& r = ring.resume;
    put_u32(out, ring.slot);
    put_u32(out, (r.has_expected_seq ? kHasExpectedSeq : 0U) | (r.owner_known ? kOwnerKnown : 0U) |
                     (r.lap_pending ? kLapPending : 0U));
    put_u64(out, r.position);
    put_u64(out, r.expected_seq);
    put_u64(out, ring.audit_lost_noted);
    put_u32(out, r.owner_tid);
    put_bytes(out, r.owner_name);
    put_u32(out, static_cast<uint32_t>(r.frames.size()));
    for (const std::string& frame : r.frames) put_bytes(out, frame);
  }
  return out;
}

absl::StatusOr<SegmentResume> decode_segment_resume(std::string_view bytes) {
  auto invalid = [](const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat("resume point: ", what));
  };
  if (bytes.size() > kMaxResumeBytes) return invalid("too large");
  if (bytes.size() < sizeof(kMagic) || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    return invalid("no RTRESUM1 magic");
  }
  ByteReader in(bytes.substr(sizeof(kMagic)));
  SegmentResume resume;
  resume.pid = in.u32();
  const uint32_t crash_noted = in.u32();
  resume.start_ticks = in.u64();
  resume.lost_no_ring_noted = in.u64();
  resume.lost_callsite_table_full_noted = in.u64();
  resume.audit_lost_outside_rings_noted = in.u64();
  const uint32_t rings = in.u32();
  if (in.failed()) return invalid("truncated header");
  if (crash_noted > 1) return invalid("bad crash flag");
  if (rings > kMaxResumeRings) return invalid(absl::StrCat(rings, " rings"));
  resume.crash_noted = crash_noted == 1;
  resume.rings.reserve(rings);
  for (uint32_t i = 0; i < rings; ++i) {
    SegmentResume::Ring ring;
    RingResume& r = ring.resume;
    ring.slot = in.u32();
    const uint32_t flags = in.u32();
    r.position = in.u64();
    r.expected_seq = in.u64();
    ring.audit_lost_noted = in.u64();
    r.owner_tid = in.u32();
    r.owner_name = std::string(in.bytes(shm::kThreadNameBytes));
    const uint32_t frames = in.u32();
    if (in.failed()) return invalid(absl::StrCat("truncated ring ", i));
    if ((flags & ~(kHasExpectedSeq | kOwnerKnown | kLapPending)) != 0) return invalid("unknown ring flags");
    if (!resume.rings.empty() && ring.slot <= resume.rings.back().slot) return invalid("rings out of order");
    if (frames > shm::kMaxFrameDepth) return invalid(absl::StrCat(frames, " frames"));
    r.has_expected_seq = (flags & kHasExpectedSeq) != 0;
    r.owner_known = (flags & kOwnerKnown) != 0;
    r.lap_pending = (flags & kLapPending) != 0;
    size_t frame_bytes = 0;
    for (uint32_t f = 0; f < frames; ++f) {
      std::string_view frame = in.bytes(kMaxFrameBytesPerThread);
      frame_bytes += frame.size();
      if (in.failed() || frame_bytes > kMaxFrameBytesPerThread) return invalid("frames too large or truncated");
      r.frames.emplace_back(frame);
    }
    resume.rings.push_back(std::move(ring));
  }
  if (!in.done()) return invalid("bytes left over");
  return resume;
}

}  // namespace ringtail::reader
