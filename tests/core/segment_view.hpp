// A test's minimal reader of a producer segment, straight from layout.hpp:
// header, slots, call-site entries and the records of each ring. It does not
// use the reader library; it checks the record framing as it walks a ring
// and reports malformed data as a gtest failure.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "fork_child.hpp"
#include "ringtail/shm/layout.hpp"
#include "ringtail/shm/segment_file.hpp"

namespace ringtail::test {

struct Record {
  uint64_t pos = 0;  // ring position of the record
  uint32_t size = 0;
  uint32_t callsite_id = 0;
  uint64_t seq = 0;
  uint64_t timestamp = 0;
  // Thread start records.
  uint32_t os_tid = 0;
  std::string thread_name;
  // Event records: the bytes after the RecordHeader.
  std::vector<std::byte> payload;

  bool is_thread_start() const { return callsite_id == shm::kThreadStartId; }
  bool is_event() const { return callsite_id < shm::kControlIdBase; }
};

struct FieldValue {
  shm::FieldType type{};
  uint64_t word = 0;  // scalars
  std::string text;   // strings: the stored bytes
  uint32_t original_bytes = 0;
  bool padding_zero = true;  // strings: the pad bytes after the text are zero

  int64_t as_i64() const { return static_cast<int64_t>(word); }
  double as_f64() const {
    double d = 0;
    std::memcpy(&d, &word, sizeof(d));
    return d;
  }
};

struct SiteText {
  std::string message;
  std::string file;
  std::string function;
  std::vector<std::string> field_names;
};

class SegmentView {
 public:
  // Maps /dev/shm/<name> read-write (a reader writes the control word).
  static std::optional<SegmentView> open(const std::string& name) {
    absl::StatusOr<shm::SegmentFile> file = shm::SegmentFile::open(name, shm::SegmentFile::Access::kReadWrite);
    if (!file.ok()) {
      ADD_FAILURE() << "cannot open segment " << name << ": " << file.status();
      return std::nullopt;
    }
    SegmentView view;
    view.file_ = std::move(*file);
    if (view.file_.size() < sizeof(shm::SegmentHeader) || view.header().magic != shm::kMagic ||
        view.file_.size() != view.header().segment_bytes) {
      ADD_FAILURE() << "segment " << name << " has no valid header";
      return std::nullopt;
    }
    return view;
  }

  // The one segment of `pid` in /dev/shm, opened.
  static std::optional<SegmentView> open_only_segment_of(pid_t pid) {
    const std::vector<std::string> names = segments_of(pid);
    if (names.size() != 1) {
      ADD_FAILURE() << "process " << pid << " has " << names.size() << " segments in /dev/shm, expected 1";
      return std::nullopt;
    }
    return open(names[0]);
  }

  // Waits for `child` to exit, expects it ended well (as EXPECT_CHILD_OK does)
  // and opens the segment it left behind.
  static std::optional<SegmentView> open_after_exit(ForkedChild& child) {
    const ChildOutcome out = child.finish();
    EXPECT_CHILD_OK(out);
    return open(child.expected_segment());
  }

  const std::string& name() const { return file_.name(); }
  uint64_t size() const { return file_.size(); }
  shm::SegmentHeader& header() const { return *reinterpret_cast<shm::SegmentHeader*>(file_.data()); }
  uint32_t slot_count() const { return header().ring_slot_count; }
  shm::RingSlot& slot(uint32_t index) const {
    return *reinterpret_cast<shm::RingSlot*>(file_.data() + header().directory_offset +
                                             uint64_t{index} * shm::kRingSlotBytes);
  }
  const shm::CallSiteEntry& entry(uint32_t id) const {
    return *reinterpret_cast<const shm::CallSiteEntry*>(file_.data() + header().callsite_table_offset +
                                                        uint64_t{id} * shm::kCallSiteEntryBytes);
  }
  const std::byte* ring(uint32_t index) const {
    return file_.data() + header().rings_offset + uint64_t{index} * header().ring_capacity;
  }
  uint32_t callsite_count() const { return header().callsite_count.load(std::memory_order_acquire); }
  shm::SegmentState state() const {
    return static_cast<shm::SegmentState>(header().state.load(std::memory_order_acquire));
  }

  std::string header_text(const char (&field)[shm::kNameBytes]) const {
    return std::string(field, strnlen(field, sizeof(field)));
  }

  SiteText site_text(uint32_t id) const {
    const shm::CallSiteEntry& e = entry(id);
    SiteText text;
    size_t at = 0;
    auto next = [&](std::string* out) {
      uint16_t length = 0;
      if (at + 2 > e.text_bytes) {
        ADD_FAILURE() << "call site " << id << ": text runs past text_bytes";
        return;
      }
      std::memcpy(&length, e.text + at, 2);
      if (at + 2 + length > e.text_bytes) {
        ADD_FAILURE() << "call site " << id << ": string runs past text_bytes";
        return;
      }
      out->assign(reinterpret_cast<const char*>(e.text + at + 2), length);
      at += 2 + length;
    };
    next(&text.message);
    next(&text.file);
    next(&text.function);
    text.field_names.resize(e.field_count);
    for (std::string& name : text.field_names) next(&name);
    EXPECT_EQ(at, e.text_bytes) << "call site " << id << ": unused text bytes";
    return text;
  }

  // The records of ring `index` from read_pos to write_pos, in order;
  // padding is checked and skipped.
  std::vector<Record> records(uint32_t index) const {
    std::vector<Record> out;
    const shm::RingSlot& s = slot(index);
    const uint64_t capacity = header().ring_capacity;
    const uint64_t end = s.write_pos.load(std::memory_order_acquire);
    uint64_t pos = s.read_pos.load(std::memory_order_relaxed);
    if (end - pos > capacity) {
      ADD_FAILURE() << "ring " << index << ": write_pos " << end << " is more than a ring ahead of read_pos " << pos;
      return out;
    }
    const std::byte* data = ring(index);
    while (pos < end) {
      const uint64_t offset = pos & (capacity - 1);
      uint32_t prefix[2];
      std::memcpy(prefix, data + offset, sizeof(prefix));
      const uint32_t size = prefix[0];
      if (size < shm::kRecordPrefixBytes || size % 8 != 0 || offset + size > capacity || pos + size > end) {
        ADD_FAILURE() << "ring " << index << ": bad record size " << size << " at position " << pos;
        return out;
      }
      if (prefix[1] == shm::kPaddingId) {
        EXPECT_EQ(offset + size, capacity) << "ring " << index << ": padding does not run to the end";
        pos += size;
        continue;
      }
      Record r;
      r.pos = pos;
      r.size = size;
      r.callsite_id = prefix[1];
      if (size < sizeof(shm::RecordHeader)) {
        ADD_FAILURE() << "ring " << index << ": record of " << size << " bytes at " << pos;
        return out;
      }
      shm::RecordHeader h;
      std::memcpy(&h, data + offset, sizeof(h));
      r.seq = h.seq;
      r.timestamp = h.timestamp;
      if (r.is_thread_start()) {
        EXPECT_EQ(size, sizeof(shm::ThreadStartRecord));
        shm::ThreadStartRecord start;
        std::memcpy(&start, data + offset, sizeof(start));
        r.os_tid = start.os_tid;
        r.thread_name.assign(start.thread_name, strnlen(start.thread_name, sizeof(start.thread_name)));
      } else {
        r.payload.assign(data + offset + sizeof(shm::RecordHeader), data + offset + size);
      }
      out.push_back(std::move(r));
      pos += size;
    }
    return out;
  }

  // Every record of every ring.
  std::vector<Record> all_records() const {
    std::vector<Record> out;
    for (uint32_t i = 0; i < slot_count(); ++i) {
      std::vector<Record> ring_records = records(i);
      out.insert(out.end(), ring_records.begin(), ring_records.end());
    }
    return out;
  }

  // Decodes an event's fields with its call site's types.
  std::vector<FieldValue> fields(const Record& r) const {
    std::vector<FieldValue> values;
    if (!r.is_event() || r.callsite_id >= callsite_count()) {
      ADD_FAILURE() << "record with call-site id " << r.callsite_id << " is not a described event";
      return values;
    }
    const shm::CallSiteEntry& e = entry(r.callsite_id);
    size_t at = 0;
    for (uint32_t i = 0; i < e.field_count; ++i) {
      FieldValue v;
      v.type = static_cast<shm::FieldType>(e.field_types[i]);
      if (v.type == shm::FieldType::kString) {
        shm::StringHeader sh;
        if (at + sizeof(sh) > r.payload.size()) break;
        std::memcpy(&sh, r.payload.data() + at, sizeof(sh));
        at += sizeof(sh);
        const size_t padded = (sh.stored_bytes + 7U) & ~size_t{7};
        if (at + padded > r.payload.size()) break;
        v.text.assign(reinterpret_cast<const char*>(r.payload.data() + at), sh.stored_bytes);
        v.original_bytes = sh.original_bytes;
        for (size_t p = sh.stored_bytes; p < padded; ++p) {
          if (r.payload[at + p] != std::byte{0}) v.padding_zero = false;
        }
        at += padded;
      } else {
        if (at + 8 > r.payload.size()) break;
        std::memcpy(&v.word, r.payload.data() + at, 8);
        at += 8;
      }
      values.push_back(std::move(v));
    }
    EXPECT_EQ(values.size(), e.field_count) << "event at " << r.pos << " is shorter than its fields";
    EXPECT_EQ(at, r.payload.size()) << "event at " << r.pos << " has bytes after its fields";
    return values;
  }

 private:
  shm::SegmentFile file_;
};

}  // namespace ringtail::test
