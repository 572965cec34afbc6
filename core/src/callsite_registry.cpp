// Describes a call site in the segment's call-site table on its first use.
//
// Entries are appended under the runtime lock and published by the release
// store of callsite_count; the reader needs nothing else to decode a record.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "ringtail/detail/producer_state.hpp"
#include "runtime.hpp"
#include "sampling.hpp"

namespace ringtail::detail {
namespace {

// Caps on the text of one entry; they keep the worst case (32 fields) within
// the entry. A cut file name keeps its tail, the part that tells files apart.
constexpr size_t kMaxMessage = 200;
constexpr size_t kMaxFile = 160;
constexpr size_t kMaxFunction = 120;

class TextWriter {
 public:
  explicit TextWriter(shm::CallSiteEntry& entry) : entry_(entry) {}

  void append(std::string_view text, size_t cap, bool keep_tail = false) {
    const size_t room = sizeof(entry_.text) - used_;
    size_t n = std::min({text.size(), cap, room < 2 ? size_t{0} : room - 2});
    if (keep_tail) text = text.substr(text.size() - n);
    const uint16_t length = static_cast<uint16_t>(n);
    if (room >= 2) {
      std::memcpy(entry_.text + used_, &length, sizeof(length));
      std::memcpy(entry_.text + used_ + 2, text.data(), n);
      used_ += 2 + n;
    }
  }
  size_t room() const { return sizeof(entry_.text) - used_; }
  uint16_t used() const { return static_cast<uint16_t>(used_); }

 private:
  shm::CallSiteEntry& entry_;
  size_t used_ = 0;
};

}  // namespace

uint32_t register_site(CallSite& site, const char* function, const shm::FieldType* types, const char* const* names,
                       uint32_t field_count) noexcept {
  Runtime& rt = runtime();
  std::lock_guard lock(rt.mu);
  const uint32_t known = site.id.load(std::memory_order_relaxed);
  // Only a thread with a ring of this process's segment gets here.
  shm::SegmentHeader& header = rt.segment->header();
  if (known < kSiteRejected) return known;  // another thread described it first
  if (known == kSiteRejected) {
    header.lost_callsite_table_full.fetch_add(1, std::memory_order_relaxed);
    return kSiteRejected;
  }

  // The count and capacity the producer keeps itself: the header's copies
  // are for readers, and anyone who can write the segment could change them.
  const uint32_t id = rt.segment->callsite_count();
  absl::Status reserved =
      id < rt.segment->geometry().callsite_capacity
          ? rt.segment->reserve_entry(id)
          : absl::ResourceExhaustedError("the call-site table is full (raise RINGTAIL_MAX_CALLSITES)");
  if (!reserved.ok()) {
    site.id.store(kSiteRejected, std::memory_order_relaxed);
    header.lost_callsite_table_full.fetch_add(1, std::memory_order_relaxed);
    if (!rt.warned_table_full) {
      rt.warned_table_full = true;
      std::fprintf(stderr, "ringtail: events of %s:%u are dropped and counted: %s\n", site.file, site.line,
                   reserved.ToString().c_str());
    }
    return kSiteRejected;
  }

  shm::CallSiteEntry& entry = rt.segment->entry(id);
  std::memset(&entry, 0, sizeof(entry));
  entry.id = id;
  entry.level = static_cast<uint8_t>(site.level);
  entry.field_count = static_cast<uint8_t>(field_count);
  entry.line = site.line;
  std::memcpy(entry.field_types, types, field_count);
  TextWriter text(entry);
  text.append(site.message, kMaxMessage);
  text.append(site.file, kMaxFile, /*keep_tail=*/true);
  text.append(function, kMaxFunction);
  for (uint32_t i = 0; i < field_count; ++i) {
    // Share what is left fairly between the remaining names.
    const size_t share = text.room() / (field_count - i);
    text.append(names[i], share > 2 ? share - 2 : 0);
  }
  entry.text_bytes = text.used();
  // The live sampling rules (a reader may have replaced them) for this site.
  std::atomic_ref<uint32_t>(entry.sample_keep)
      .store(sample_keep_for_new_site(header, site.level, site.message, site.file, site.line),
             std::memory_order_relaxed);
  // release: the entry is complete before the count that makes it visible.
  rt.segment->set_callsite_count(id + 1);
  header.callsite_count.store(id + 1, std::memory_order_release);
  site.id.store(id, std::memory_order_relaxed);
  return id;
}

}  // namespace ringtail::detail
