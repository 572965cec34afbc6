// Malicious_*: a real producer's segment, corrupted in place, must always give
// a clear error or a poisoned ring (that ring only), never a crash or a hang.
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include "absl/strings/str_cat.h"

#include "ingest_test_support.hpp"
#include "producer_child.hpp"
#include "ringtail/ringtail.hpp"
#include "ringtail/shm/layout.hpp"
#include "ringtail/shm/segment_file.hpp"

namespace ringtail::reader {
namespace {

using ringtail::kv;
using ringtail::test::ProducerChild;
using testing::Drainer;
using ::testing::HasSubstr;
using testing::RingResult;

constexpr uint32_t kMaxString = 64;
constexpr uint32_t kMainEvents = 20;
constexpr uint32_t kWorkerEvents = 10;

// Ring 0: the child's main thread, 20 "main" events. Ring 1: a worker, 10 "worker" events.
int base_child(ProducerChild::Link&) {
  auto log_main = [](uint64_t i) {
    return RINGTAIL_INFO("main", kv("i", i), kv("s", std::string(i % 13, 'm')), kv("f", i * 1.5), kv("b", i % 2 == 0),
                         kv("n", static_cast<int8_t>(-static_cast<int>(i))));
  };
  bool ok = true;
  for (uint64_t i = 0; i < kMainEvents / 2; ++i) ok &= log_main(i);
  std::thread([&ok] {
    for (int i = 0; i < static_cast<int>(kWorkerEvents); ++i)
      ok &= RINGTAIL_WARN("worker", kv("k", i), kv("d", i * 0.25), kv("none", nullptr));
  }).join();
  for (uint64_t i = kMainEvents / 2; i < kMainEvents; ++i) ok &= log_main(i);
  return ok ? 0 : 3;
}

struct RecordRef {
  uint64_t pos;
  uint32_t size;
  uint32_t id;
};

// What reading a (possibly corrupted) segment gave.
struct Outcome {
  absl::Status open;
  absl::Status table;
  uint32_t invalid_entries = 0;
  std::vector<RingResult> rings;
  bool bounded = true;
};

class IngestHostile : public ::testing::Test {
 protected:
  void SetUp() override {
    Options options = ringtail::test::small_producer_options("rt-hostile");
    options.max_string_bytes = kMaxString;
    child_.emplace(ProducerChild::start(options, base_child));
    ASSERT_TRUE(child_->ok()) << child_->error();
    ASSERT_EQ(child_->join(), 0);
    absl::StatusOr<shm::SegmentFile> file = shm::SegmentFile::open(name(), shm::SegmentFile::Access::kReadWrite);
    ASSERT_TRUE(file.ok()) << file.status();
    file_ = std::move(*file);
    pristine_.assign(file_.data(), file_.data() + file_.size());
    ASSERT_EQ(header().ring_capacity, 4096u);
    ASSERT_EQ(header().callsite_count.load(), 2u);
  }
  void TearDown() override { child_.reset(); }  // removes the segment

  const std::string& name() const { return child_->segment_name(); }
  shm::SegmentHeader& header() { return *reinterpret_cast<shm::SegmentHeader*>(file_.data()); }
  shm::RingSlot& slot(uint32_t i) {
    return *reinterpret_cast<shm::RingSlot*>(file_.data() + header().directory_offset + i * shm::kRingSlotBytes);
  }
  std::byte* ring(uint32_t i) { return file_.data() + header().rings_offset + i * header().ring_capacity; }
  shm::CallSiteEntry& entry(uint32_t id) {
    return *reinterpret_cast<shm::CallSiteEntry*>(file_.data() + header().callsite_table_offset +
                                                  id * shm::kCallSiteEntryBytes);
  }
  void restore() { std::memcpy(file_.data(), pristine_.data(), pristine_.size()); }

  // The records of ring i in the honest segment.
  std::vector<RecordRef> records(uint32_t i) {
    std::vector<RecordRef> out;
    const uint64_t end = slot(i).write_pos.load();
    for (uint64_t pos = 0; pos < end;) {
      uint32_t prefix[2];
      std::memcpy(prefix, ring(i) + (pos & 4095), sizeof(prefix));
      out.push_back({pos, prefix[0], prefix[1]});
      pos += prefix[0];
    }
    return out;
  }
  // Pointer to record k of ring i.
  std::byte* record(uint32_t i, size_t k) { return ring(i) + (records(i).at(k).pos & 4095); }
  template <class T>
  void poke(std::byte* at, T value) {
    std::memcpy(at, &value, sizeof(value));
  }

  // Opens the (possibly corrupted) segment and reads every ring. With
  // `rewind`, puts read_pos back afterwards so that the rings can be read again.
  Outcome read_all(RingCursorOptions::Mode mode = RingCursorOptions::Mode::kConsume, bool rewind = true) {
    Outcome out;
    absl::StatusOr<SegmentView> view = SegmentView::open(name(), SegmentView::Access::kReadWrite);
    out.open = view.status();
    if (!view.ok()) return out;
    RingCursorOptions options;
    options.mode = mode;
    absl::StatusOr<Drainer> drainer = Drainer::create(*view, options);
    EXPECT_TRUE(drainer.ok()) << drainer.status();
    if (!drainer.ok()) return out;
    out.bounded = drainer->drain(/*max_batches_per_ring=*/10'000);
    out.table = drainer->table_status();
    out.invalid_entries = drainer->table().invalid_count();
    out.rings = std::move(drainer->rings());
    if (rewind) {
      for (uint32_t i = 0; i < 2; ++i) {
        const auto* honest = reinterpret_cast<const shm::RingSlot*>(pristine_.data() + header().directory_offset +
                                                                    i * shm::kRingSlotBytes);
        slot(i).read_pos.store(honest->read_pos.load());
      }
    }
    return out;
  }

  // Ring i is poisoned after exactly `good_events` events; the other ring is intact.
  void expect_poisoned(uint32_t i, size_t good_events, const std::string& reason_part) {
    const Outcome o = read_all();
    ASSERT_TRUE(o.open.ok()) << o.open;
    ASSERT_TRUE(o.bounded);
    const RingResult& bad = o.rings[i];
    EXPECT_EQ(bad.status.code(), absl::StatusCode::kDataLoss) << bad.status;
    EXPECT_THAT(std::string(bad.status.message()), HasSubstr(reason_part));
    EXPECT_THAT(std::string(bad.status.message()), HasSubstr(name()));
    EXPECT_THAT(std::string(bad.status.message()), HasSubstr("ring " + std::to_string(i)));
    EXPECT_EQ(testing::events_of(bad.items).size(), good_events);
    const RingResult& other = o.rings[1 - i];
    EXPECT_TRUE(other.status.ok()) << other.status;
    EXPECT_EQ(testing::events_of(other.items).size(), i == 0 ? kWorkerEvents : kMainEvents);
  }

  absl::Status open_status() { return SegmentView::open(name(), SegmentView::Access::kReadOnly).status(); }

  std::optional<ProducerChild> child_;
  shm::SegmentFile file_;
  std::vector<std::byte> pristine_;
};

void expect_error(const absl::Status& s, absl::StatusCode code, const std::string& part, const std::string& name) {
  EXPECT_EQ(s.code(), code) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr(part));
  EXPECT_THAT(std::string(s.message()), HasSubstr(name));
  EXPECT_EQ(std::string(s.message()).find('\n'), std::string::npos);
}

TEST_F(IngestHostile, Malicious_HonestBaselineDecodes) {
  const Outcome o = read_all();
  ASSERT_TRUE(o.open.ok()) << o.open;
  EXPECT_TRUE(o.table.ok());
  EXPECT_EQ(o.invalid_entries, 0u);
  EXPECT_TRUE(o.rings[0].status.ok());
  EXPECT_TRUE(o.rings[1].status.ok());
  EXPECT_EQ(testing::events_of(o.rings[0].items).size(), kMainEvents);
  EXPECT_EQ(testing::events_of(o.rings[1].items).size(), kWorkerEvents);
}

TEST_F(IngestHostile, Malicious_BadMagic) {
  header().magic ^= 0xFF;
  expect_error(open_status(), absl::StatusCode::kInvalidArgument, "not a ringtail segment", name());
  header().magic = __builtin_bswap64(shm::kMagic);
  expect_error(open_status(), absl::StatusCode::kUnimplemented, "byte order", name());
  header().magic = 0;
  header().state.store(0);
  expect_error(open_status(), absl::StatusCode::kUnavailable, "initialised", name());
}

TEST_F(IngestHostile, Malicious_UnknownAbiVersion) {
  header().abi_version = shm::kAbiVersion + 1;
  expect_error(open_status(), absl::StatusCode::kUnimplemented, absl::StrCat("ABI version ", shm::kAbiVersion + 1),
               name());
  header().abi_version = 0;
  expect_error(open_status(), absl::StatusCode::kUnimplemented, "ABI version 0", name());
  header().abi_version = 0xFFFFFFFF;
  expect_error(open_status(), absl::StatusCode::kUnimplemented, "ABI version 4294967295", name());
}

TEST_F(IngestHostile, Malicious_ByteOrder) {
  header().endian_tag = __builtin_bswap32(shm::kEndianTag);
  expect_error(open_status(), absl::StatusCode::kUnimplemented, "byte order", name());
  header().endian_tag = 0x12345678;
  expect_error(open_status(), absl::StatusCode::kDataLoss, "endian", name());
}

TEST_F(IngestHostile, Malicious_TruncatedFile) {
  const uint64_t size = file_.size();
  const int fd = ::open(("/dev/shm/" + name()).c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  // From here on the test's own mapping must not be touched past the new end.
  ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(size + 4096)), 0);
  expect_error(open_status(), absl::StatusCode::kDataLoss, "the header says", name());
  for (const uint64_t cut : {size - 4096, size - 8, uint64_t{5000}, uint64_t{4096}, uint64_t{4095}, uint64_t{100}}) {
    SCOPED_TRACE(cut);
    ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(cut)), 0);
    expect_error(open_status(), absl::StatusCode::kDataLoss, "truncated", name());
  }
  ASSERT_EQ(::ftruncate(fd, 0), 0);
  EXPECT_EQ(open_status().code(), absl::StatusCode::kDataLoss);
  ::close(fd);
}

TEST_F(IngestHostile, Malicious_HeaderGeometryAltered) {
  struct Mutation {
    const char* what;
    std::function<void(shm::SegmentHeader&)> apply;
    const char* message;
  };
  const std::vector<Mutation> mutations = {
      {"callsite_table_offset", [](auto& h) { h.callsite_table_offset += 8; }, "callsite_table_offset"},
      {"directory_offset", [](auto& h) { h.directory_offset += 4096; }, "directory_offset"},
      {"rings_offset", [](auto& h) { h.rings_offset -= 4096; }, "rings_offset"},
      {"segment_bytes", [](auto& h) { h.segment_bytes += 4096; }, "segment_bytes"},
      {"max_record_bytes", [](auto& h) { h.max_record_bytes = 4096; }, "max_record_bytes"},
      {"callsite_entry_bytes", [](auto& h) { h.callsite_entry_bytes = 512; }, "callsite_entry_bytes"},
      {"ring_slot_bytes", [](auto& h) { h.ring_slot_bytes = 128; }, "ring_slot_bytes"},
      {"header_bytes", [](auto& h) { h.header_bytes = 8192; }, "header_bytes"},
      {"ring_capacity odd", [](auto& h) { h.ring_capacity = 5000; }, "bad geometry"},
      {"ring_capacity larger", [](auto& h) { h.ring_capacity = 8192; }, "segment_bytes"},
      {"ring_capacity huge", [](auto& h) { h.ring_capacity = uint64_t{1} << 62; }, "bad geometry"},
      {"no slots", [](auto& h) { h.ring_slot_count = 0; }, "bad geometry"},
      {"many slots", [](auto& h) { h.ring_slot_count = 100000; }, "bad geometry"},
      {"more slots", [](auto& h) { h.ring_slot_count = 3; }, "segment_bytes"},
      {"huge table", [](auto& h) { h.callsite_capacity = 1u << 20; }, "bad geometry"},
      {"bigger table", [](auto& h) { h.callsite_capacity = 32; }, "directory_offset"},
  };
  for (const Mutation& m : mutations) {
    SCOPED_TRACE(m.what);
    restore();
    m.apply(header());
    expect_error(open_status(), absl::StatusCode::kDataLoss, m.message, name());
  }
}

TEST_F(IngestHostile, Malicious_StateFlagsAndIdentity) {
  header().state.store(0);
  expect_error(open_status(), absl::StatusCode::kUnavailable, "initialised", name());
  header().state.store(3);
  expect_error(open_status(), absl::StatusCode::kDataLoss, "unknown state 3", name());
  restore();
  header().flags |= 0x10;
  expect_error(open_status(), absl::StatusCode::kUnimplemented, "flags", name());
  restore();
  header().flags = 0;
  header().tsc_hz = 0;
  expect_error(open_status(), absl::StatusCode::kDataLoss, "tsc_hz", name());
  restore();
  header().pid ^= 1;
  expect_error(open_status(), absl::StatusCode::kDataLoss, "pid", name());
  restore();
  header().process_start_ticks += 1;
  expect_error(open_status(), absl::StatusCode::kDataLoss, "pid", name());

  // Names without a NUL are cut at their field's end.
  restore();
  std::memset(header().service, 'x', sizeof(header().service));
  std::memset(header().hostname, 0xFF, sizeof(header().hostname));
  absl::StatusOr<SegmentView> view = SegmentView::open(name(), SegmentView::Access::kReadOnly);
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ(view->identity().service, std::string(shm::kNameBytes, 'x'));
  EXPECT_EQ(view->identity().hostname.size(), shm::kNameBytes);
  EXPECT_EQ(view->slot(2).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(view->ring_data(2).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(view->callsite_entry(16).status().code(), absl::StatusCode::kOutOfRange);

  // The live state word changing after open is reported, not trusted.
  header().state.store(9);
  EXPECT_EQ(view->state().status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(IngestHostile, Malicious_CallsiteCountBeyondCapacity) {
  for (const uint32_t count : {17u, 0xFFFFFFFFu}) {
    SCOPED_TRACE(count);
    restore();
    header().callsite_count.store(count);
    const Outcome o = read_all();
    ASSERT_TRUE(o.open.ok()) << o.open;
    expect_error(o.table, absl::StatusCode::kDataLoss, "exceeds the table's capacity", name());
    EXPECT_EQ(o.invalid_entries, 16u - 2u);  // the zeroed entries past the real two
    EXPECT_TRUE(o.rings[0].status.ok()) << o.rings[0].status;
    EXPECT_TRUE(o.rings[1].status.ok()) << o.rings[1].status;
    EXPECT_EQ(testing::events_of(o.rings[0].items).size(), kMainEvents);
  }
}

TEST_F(IngestHostile, Malicious_CallsiteEntryCorrupt) {
  const uint32_t main_id = records(0).at(1).id;
  struct Mutation {
    const char* what;
    std::function<void(shm::CallSiteEntry&)> apply;
    const char* reason;
  };
  const std::vector<Mutation> mutations = {
      {"id", [](auto& e) { e.id += 1; }, "holds id"},
      {"level", [](auto& e) { e.level = 7; }, "bad level"},
      {"field_count", [](auto& e) { e.field_count = 33; }, "more than 32"},
      {"type 0", [](auto& e) { e.field_types[1] = 0; }, "unknown type code 0"},
      {"type 16", [](auto& e) { e.field_types[4] = shm::kMaxFieldType + 1; }, "unknown type code 16"},
      {"text_bytes too big", [](auto& e) { e.text_bytes = 2000; }, "text area"},
      {"text_bytes too small", [](auto& e) { e.text_bytes = 5; }, "past text_bytes"},
      {"text_bytes cuts a name", [](auto& e) { e.text_bytes -= 1; }, "past text_bytes"},
      {"string length", [](auto& e) { e.text[0] = 0xFF, e.text[1] = 0x03; }, "past text_bytes"},
      {"more fields than names",
       [](auto& e) {
         e.field_types[e.field_count] = 1;
         e.field_count += 1;
       },
       "field name"},
  };
  for (const Mutation& m : mutations) {
    SCOPED_TRACE(m.what);
    restore();
    m.apply(entry(main_id));
    expect_poisoned(0, 0, "invalid call-site entry");
    expect_poisoned(0, 0, m.reason);
    const Outcome o = read_all();
    EXPECT_EQ(o.invalid_entries, 1u);
  }
}

TEST_F(IngestHostile, Malicious_RecordSize) {
  // Record 3 of ring 0 is its third event: two events come before it.
  struct Mutation {
    const char* what;
    uint32_t size;
    const char* reason;
  };
  const RecordRef target = records(0).at(3);
  const uint64_t to_write_pos = slot(0).write_pos.load() - target.pos;
  const std::vector<Mutation> mutations = {
      {"zero", 0, "not a positive multiple of 8"},
      {"unaligned", 12, "not a positive multiple of 8"},
      {"unaligned big", target.size + 3, "not a positive multiple of 8"},
      {"huge", 0xFFFFFFF8u, "past the end of the ring"},
      {"past write_pos", static_cast<uint32_t>(to_write_pos + 8), "past write_pos"},
      {"one word more", target.size + 8, "fields end at byte"},
      {"one word less", target.size - 8, "past the end of the"},
      {"header only", 24, "past the end of the"},
      {"shorter than a header", 16, "shorter than its header"},
  };
  for (const Mutation& m : mutations) {
    SCOPED_TRACE(m.what);
    restore();
    poke<uint32_t>(record(0, 3), m.size);
    expect_poisoned(0, 2, m.reason);
  }
  // Larger than max_record_bytes (2048) but inside the ring and before write_pos.
  restore();
  poke<uint32_t>(record(0, 3), 2056);
  slot(0).write_pos.store(target.pos + 2056 + 8);
  expect_poisoned(0, 2, "exceeds max_record_bytes");
}

TEST_F(IngestHostile, Malicious_PoisonKeepsGoodPrefixCommitted) {
  const RecordRef target = records(0).at(3);
  poke<uint32_t>(record(0, 3), 0);
  const Outcome o = read_all(RingCursorOptions::Mode::kConsume, /*rewind=*/false);
  ASSERT_TRUE(o.open.ok());
  EXPECT_TRUE(o.rings[0].status.code() == absl::StatusCode::kDataLoss);
  // The drainer commits after every batch: read_pos stops at the bad record.
  EXPECT_EQ(slot(0).read_pos.load(), target.pos);
  EXPECT_EQ(slot(1).read_pos.load(), slot(1).write_pos.load());
}

TEST_F(IngestHostile, Malicious_CallsiteIdOutOfRange) {
  for (const uint32_t id : {16u, 15u, 2u, shm::kControlIdBase - 1}) {
    SCOPED_TRACE(id);
    restore();
    poke<uint32_t>(record(0, 3) + 4, id);
    expect_poisoned(0, 2, id < 16 ? "not in the table" : "past the table's capacity");
  }
  // An id of another valid site whose fields do not match the record.
  restore();
  poke<uint32_t>(record(0, 3) + 4, records(1).at(1).id);
  expect_poisoned(0, 2, "event of call site");
}

TEST_F(IngestHostile, Malicious_StringField) {
  // "main" records: header(24) i(8) s(StringHeader + bytes) f b n. Record 5 holds a 5-byte string.
  std::byte* string_header = record(0, 6) + 32;
  shm::StringHeader h;
  std::memcpy(&h, string_header, sizeof(h));
  ASSERT_EQ(h.stored_bytes, 5u);
  struct Mutation {
    const char* what;
    shm::StringHeader header;
    const char* reason;
  };
  const std::vector<Mutation> mutations = {
      {"beyond record", {kMaxString, kMaxString}, "runs past the end"},
      {"far beyond record", {1000, 1000}, "more than max_string_bytes"},
      {"huge", {0xFFFFFFF0u, 0xFFFFFFF0u}, "more than max_string_bytes"},
      {"stored above original", {5, 4}, "bytes of a 4-byte value"},
      {"above max_string_bytes", {kMaxString + 8, kMaxString + 8}, "more than max_string_bytes"},
      {"shorter, next field misread", {0, 0}, ""},
  };
  for (const Mutation& m : mutations) {
    SCOPED_TRACE(m.what);
    restore();
    poke(string_header, m.header);
    expect_poisoned(0, 5, m.reason);
  }
  restore();
  poke<uint8_t>(string_header + 8 + 6, 0x41);  // a padding byte
  expect_poisoned(0, 5, "padding byte");
}

TEST_F(IngestHostile, Malicious_FieldEncoding) {
  // "main" record 2 (event 1, i = 1): s is 1 byte -> StringHeader + 8; then f at 48, b at 56, n at 64.
  std::byte* r = record(0, 2);
  ASSERT_EQ(records(0).at(2).size, 72u);
  poke<uint64_t>(r + 56, 2);
  expect_poisoned(0, 1, "is not a bool");
  restore();
  poke<uint64_t>(r + 64, 0x80);  // int8 not sign-extended
  expect_poisoned(0, 1, "sign-extended");
  restore();
  // Bytes of text where a bool belongs: the reason (a ring_corrupt note's)
  // names the word's place, not its bytes.
  poke<uint64_t>(r + 56, 0x2121544552434553ULL);  // "SECRET!!"
  expect_poisoned(0, 1, "the word at byte 56 is not a bool");
  const std::string reason(read_all().rings[0].status.message());
  EXPECT_THAT(reason, ::testing::Not(HasSubstr("2121544552434553")));
  EXPECT_THAT(reason, ::testing::Not(HasSubstr("SECRET")));
  restore();
  poke<uint64_t>(r + 8, 0);  // seq backwards (the event before has seq 0)
  expect_poisoned(0, 1, "below the expected");
}

TEST_F(IngestHostile, Malicious_NullWordNotZero) {
  // "worker" record 2 (event 1): header(24) k(8) d(8), then the null's word at 40.
  std::byte* r = record(1, 2);
  ASSERT_EQ(records(1).at(2).size, 48u);
  uint64_t word = 1;
  std::memcpy(&word, r + 40, sizeof(word));
  ASSERT_EQ(word, 0u);
  poke<uint64_t>(r + 40, 1);
  expect_poisoned(1, 1, "field 2 (none): the word at byte 40 is not zero");
  restore();
  poke<uint64_t>(r + 40, 0x2121544552434553ULL);  // "SECRET!!"
  expect_poisoned(1, 1, "the word at byte 40 is not zero");
  const std::string reason(read_all().rings[1].status.message());
  EXPECT_THAT(reason, ::testing::Not(HasSubstr("2121544552434553")));
  EXPECT_THAT(reason, ::testing::Not(HasSubstr("SECRET")));
}

TEST_F(IngestHostile, Malicious_WriteAndReadPositions) {
  const uint64_t write_pos = slot(0).write_pos.load();
  slot(0).write_pos.store(write_pos + 4096 + 8);
  expect_poisoned(0, 0, "more than the capacity");
  restore();
  slot(0).write_pos.store(UINT64_MAX - 7);
  expect_poisoned(0, 0, "more than the capacity");
  restore();
  slot(0).read_pos.store(write_pos + 8);
  expect_poisoned(0, 0, "behind the read position");
  restore();
  slot(0).write_pos.store(write_pos - 4);
  expect_poisoned(0, 0, "not a multiple of 8");
  restore();
  slot(0).read_pos.store(4);
  expect_poisoned(0, 0, "read_pos 4");
  restore();
  slot(0).capacity = 8192;
  expect_poisoned(0, 0, "the slot places its ring");
  restore();
  slot(0).data_offset += 4096;
  expect_poisoned(0, 0, "the slot places its ring");
  // write_pos inside a record: the record runs past it.
  restore();
  slot(0).write_pos.store(records(0).at(3).pos + 8);
  expect_poisoned(0, 2, "past write_pos");
}

TEST_F(IngestHostile, Malicious_ControlRecords) {
  // Padding that does not run to the end of the ring.
  poke<uint32_t>(record(0, 3) + 4, shm::kPaddingId);
  expect_poisoned(0, 2, "does not reach the end of the ring");
  // A control record this reader does not know is skipped by its size: the
  // event it replaced shows as a one-event gap.
  restore();
  poke<uint32_t>(record(0, 3) + 4, shm::kControlIdBase + 0x10);
  Outcome o = read_all();
  ASSERT_TRUE(o.rings[0].status.ok()) << o.rings[0].status;
  EXPECT_EQ(testing::events_of(o.rings[0].items).size(), kMainEvents - 1);
  EXPECT_EQ(o.rings[0].totals.unknown_control, 1u);
  std::vector<DropGap> gaps = testing::gaps_of(o.rings[0].items);
  ASSERT_EQ(gaps.size(), 1u);
  EXPECT_EQ(gaps[0].first_seq, 2u);
  EXPECT_EQ(gaps[0].count, 1u);
  // A thread start record of the wrong size, or with a seq going backwards.
  restore();
  poke<uint32_t>(record(0, 0), 40);
  expect_poisoned(0, 0, "thread start record of 40 bytes");
  restore();
  poke<uint32_t>(record(0, 3) + 4, shm::kThreadStartId);  // a 72-byte "thread start"
  expect_poisoned(0, 2, "thread start record of");
  // A forward seq jump on the last event is a gap, not an error.
  restore();
  const size_t last = records(0).size() - 1;
  poke<uint64_t>(record(0, last) + 8, kMainEvents - 1 + 5);
  o = read_all();
  ASSERT_TRUE(o.rings[0].status.ok()) << o.rings[0].status;
  gaps = testing::gaps_of(o.rings[0].items);
  ASSERT_EQ(gaps.size(), 1u);
  EXPECT_EQ(gaps[0].first_seq, kMainEvents - 1);
  EXPECT_EQ(gaps[0].count, 5u);
}

// --- Seeded random corruption ---------------------------------------------------

class Fuzzer {
 public:
  explicit Fuzzer(uint64_t seed) : rng_(seed) {}
  uint64_t below(uint64_t n) { return n == 0 ? 0 : std::uniform_int_distribution<uint64_t>(0, n - 1)(rng_); }
  uint64_t bits() { return rng_(); }
  // A plausible-looking word: small multiples of 8, ids near the real ones, or random.
  uint32_t word32() {
    switch (below(5)) {
      case 0:
        return static_cast<uint32_t>(below(512) * 8);
      case 1:
        return static_cast<uint32_t>(below(20));
      case 2:
        return shm::kControlIdBase + static_cast<uint32_t>(below(256));
      case 3:
        return static_cast<uint32_t>(below(4096));
      default:
        return static_cast<uint32_t>(bits());
    }
  }
  void scribble(std::byte* base, uint64_t span) {
    const uint64_t edits = 1 + below(8);
    for (uint64_t e = 0; e < edits; ++e) {
      const uint64_t at = below(span);
      if (below(2) == 0 && at + 4 <= span && at % 4 == 0) {
        const uint32_t w = word32();
        std::memcpy(base + at, &w, sizeof(w));
      } else {
        base[at] = static_cast<std::byte>(bits());
      }
    }
  }

 private:
  std::mt19937_64 rng_;
};

// The result must be an error or poisoned rings, and reading must terminate.
void expect_sane(const Outcome& o, const std::string& trial) {
  SCOPED_TRACE(trial);
  EXPECT_TRUE(o.bounded);
  if (!o.open.ok()) return;
  EXPECT_TRUE(o.table.ok() || o.table.code() == absl::StatusCode::kDataLoss) << o.table;
  for (const RingResult& r : o.rings) {
    EXPECT_TRUE(r.status.ok() || r.status.code() == absl::StatusCode::kDataLoss) << r.status;
  }
}

TEST_F(IngestHostile, Malicious_RandomRingBytes) {
  Fuzzer fuzz(0x5eed0001);
  const Outcome baseline = read_all();
  for (int trial = 0; trial < 200; ++trial) {
    restore();
    const uint32_t r = static_cast<uint32_t>(fuzz.below(2));
    const uint64_t used = slot(r).write_pos.load();
    if (fuzz.below(10) == 0) {
      slot(r).write_pos.store(fuzz.below(3) == 0 ? fuzz.bits() : fuzz.below(3 * 4096) & ~uint64_t{7});
    } else {
      fuzz.scribble(ring(r), fuzz.below(4) == 0 ? 4096 : used);
    }
    const RingCursorOptions::Mode mode =
        trial % 3 == 0 ? RingCursorOptions::Mode::kPeek : RingCursorOptions::Mode::kConsume;
    const Outcome o = read_all(mode);
    const std::string what = "trial " + std::to_string(trial) + " ring " + std::to_string(r);
    expect_sane(o, what);
    ASSERT_TRUE(o.open.ok()) << o.open;
    // The other ring is untouched by the corruption.
    EXPECT_TRUE(o.rings[1 - r].status.ok()) << what;
    EXPECT_EQ(testing::events_of(o.rings[1 - r].items).size(), testing::events_of(baseline.rings[1 - r].items).size())
        << what;
  }
}

TEST_F(IngestHostile, Malicious_RandomTableBytes) {
  Fuzzer fuzz(0x5eed0002);
  const uint64_t table_offset = header().callsite_table_offset;
  for (int trial = 0; trial < 150; ++trial) {
    restore();
    if (fuzz.below(8) == 0) header().callsite_count.store(static_cast<uint32_t>(fuzz.word32()));
    fuzz.scribble(file_.data() + table_offset, 2 * shm::kCallSiteEntryBytes + fuzz.below(2) * shm::kCallSiteEntryBytes);
    const Outcome o = read_all(trial % 2 == 0 ? RingCursorOptions::Mode::kPeek : RingCursorOptions::Mode::kConsume);
    expect_sane(o, "trial " + std::to_string(trial));
    ASSERT_TRUE(o.open.ok()) << o.open;
  }
}

TEST_F(IngestHostile, Malicious_RandomBytesAnywhere) {
  Fuzzer fuzz(0x5eed0003);
  const uint64_t directory = header().directory_offset;
  const uint64_t rings = header().rings_offset;
  for (int trial = 0; trial < 150; ++trial) {
    restore();
    switch (fuzz.below(3)) {
      case 0:  // header identity and live words
        fuzz.scribble(file_.data(), 576);
        break;
      case 1:  // ring directory
        fuzz.scribble(file_.data() + directory, 2 * shm::kRingSlotBytes);
        break;
      default:  // everything
        fuzz.scribble(file_.data(), file_.size());
        fuzz.scribble(file_.data() + rings, 2 * 4096);
        break;
    }
    expect_sane(read_all(trial % 2 == 0 ? RingCursorOptions::Mode::kPeek : RingCursorOptions::Mode::kConsume),
                "trial " + std::to_string(trial));
  }
}

}  // namespace
}  // namespace ringtail::reader
