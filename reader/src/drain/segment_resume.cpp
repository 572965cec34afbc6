#include "ringtail/reader/drain/segment_resume.hpp"

#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "ringtail/reader/ingest/reader_limits.hpp"
#include "ringtail/shm/layout.hpp"

namespace ringtail::reader {
namespace {

// Little-endian on every host ringtail builds for (the ABI is checked the same way).
constexpr char kMagic[8] = {'R', 'T', 'R', 'E', 'S', 'U', 'M', '1'};

void put32(std::string& out, uint32_t v) { out.append(reinterpret_cast<const char*>(&v), sizeof(v)); }
void put64(std::string& out, uint64_t v) { out.append(reinterpret_cast<const char*>(&v), sizeof(v)); }
void put_bytes(std::string& out, std::string_view bytes) {
  put32(out, static_cast<uint32_t>(bytes.size()));
  out.append(bytes);
}

// Reads fields off the front of untrusted bytes; any read past the end sets `failed`.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : rest_(bytes) {}
  bool failed() const { return failed_; }
  bool done() const { return rest_.empty(); }
  uint32_t u32() { return take<uint32_t>(); }
  uint64_t u64() { return take<uint64_t>(); }
  std::string_view bytes(size_t limit) {
    const uint32_t size = u32();
    if (failed_ || size > limit || size > rest_.size()) {
      failed_ = true;
      return {};
    }
    std::string_view out = rest_.substr(0, size);
    rest_.remove_prefix(size);
    return out;
  }

 private:
  template <class T>
  T take() {
    T v{};
    if (failed_ || rest_.size() < sizeof(T)) {
      failed_ = true;
      return v;
    }
    std::memcpy(&v, rest_.data(), sizeof(T));
    rest_.remove_prefix(sizeof(T));
    return v;
  }

  std::string_view rest_;
  bool failed_ = false;
};

constexpr uint32_t kHasExpectedSeq = 1;
constexpr uint32_t kOwnerKnown = 2;

}  // namespace

std::string encode(const SegmentResume& resume) {
  std::string out(kMagic, sizeof(kMagic));
  put32(out, resume.pid);
  put32(out, resume.crash_noted ? 1 : 0);
  put64(out, resume.start_ticks);
  put64(out, resume.lost_no_ring_noted);
  put64(out, resume.lost_callsite_table_full_noted);
  put64(out, resume.audit_lost_outside_rings_noted);
  put32(out, static_cast<uint32_t>(resume.rings.size()));
  for (const SegmentResume::Ring& ring : resume.rings) {
    const RingResume& r = ring.resume;
    put32(out, ring.slot);
    put32(out, (r.has_expected_seq ? kHasExpectedSeq : 0U) | (r.owner_known ? kOwnerKnown : 0U));
    put64(out, r.position);
    put64(out, r.expected_seq);
    put64(out, ring.audit_lost_noted);
    put32(out, r.owner_tid);
    put_bytes(out, r.owner_name);
    put32(out, static_cast<uint32_t>(r.frames.size()));
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
  Reader in(bytes.substr(sizeof(kMagic)));
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
    if ((flags & ~(kHasExpectedSeq | kOwnerKnown)) != 0) return invalid("unknown ring flags");
    if (!resume.rings.empty() && ring.slot <= resume.rings.back().slot) return invalid("rings out of order");
    if (frames > shm::kMaxFrameDepth) return invalid(absl::StrCat(frames, " frames"));
    r.has_expected_seq = (flags & kHasExpectedSeq) != 0;
    r.owner_known = (flags & kOwnerKnown) != 0;
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
