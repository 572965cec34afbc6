// CallSiteTable: the reader's own validated copy of a segment's call-site table.
//
// The producer appends entries under its lock and publishes them with a
// release store of SegmentHeader::callsite_count; an entry never changes after
// that. refresh() acquire-loads the count (clamped to the capacity) and copies
// out only the entries it has not copied yet, so a live producer's new call
// sites are picked up cheaply. Each entry is copied out of shared memory
// before it is parsed, then validated: id equal to its index, level at most
// kOff, field_count at most kMaxFields, every field type code known,
// text_bytes within the text area, and the 3 + field_count length-prefixed
// strings (message, file, function, field names) all inside text_bytes. An
// entry that fails is kept, marked invalid with a reason: records that use it
// are invalid (the cursor poisons their ring), nothing else is affected.
//
// Ordering: a record can name a call site only after that site's entry was
// published, so a table refreshed after a ring's write_pos was acquire-loaded
// knows every site the records before write_pos use. RingCursor refreshes on
// demand when it meets an id it does not know yet.
//
// Threading: not thread-safe; one thread (or external locking) per table.
// CallSiteInfo objects never move once created (pointers stay valid for the
// table's life, across refreshes). The table points into the view's mapping:
// the SegmentView (moved or not) must outlive it.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "ringtail/reader/ingest/segment_view.hpp"
#include "ringtail/shm/layout.hpp"

namespace ringtail::reader {

struct FieldInfo {
  std::string name;
  shm::FieldType type = shm::FieldType::kBool;
};

struct CallSiteInfo {
  uint32_t id = 0;
  bool valid = false;
  std::string invalid_reason;  // empty when valid
  // The following are meaningful only when valid.
  shm::Level level = shm::Level::kOff;
  uint32_t line = 0;
  std::string message;
  std::string file;
  std::string function;
  std::vector<FieldInfo> fields;  // in record order
};

// Parses and validates one entry (already copied out of shared memory) that
// sits at `index` in its table. Never fails: a bad entry comes back invalid.
CallSiteInfo decode_callsite_entry(const shm::CallSiteEntry& entry_copy, uint32_t index);

class CallSiteTable {
 public:
  explicit CallSiteTable(const SegmentView& view);

  // Copies out the entries published since the last refresh. DataLossError
  // (naming the segment) when the producer's count exceeds the capacity: the
  // entries up to the capacity are read all the same. Invalid entries do not
  // make it fail.
  absl::Status refresh();

  // The entry with this id, or nullptr if the table (as last refreshed) does
  // not hold it. A returned entry may be invalid: check `valid`.
  const CallSiteInfo* find(uint32_t id) const { return id < entries_.size() ? &entries_[id] : nullptr; }
  uint32_t size() const { return static_cast<uint32_t>(entries_.size()); }
  uint32_t capacity() const { return capacity_; }
  uint32_t invalid_count() const { return invalid_count_; }

 private:
  const std::byte* base_;  // the mapping
  std::string segment_name_;
  shm::SegmentGeometry geometry_;
  uint32_t capacity_;
  uint32_t invalid_count_ = 0;
  std::deque<CallSiteInfo> entries_;
};

}  // namespace ringtail::reader
