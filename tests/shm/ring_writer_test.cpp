// The producer half of the ring protocol (shm::RingWriter) on a heap ring,
// with the reader side simulated by walking the records and advancing
// RingSlot::read_pos.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "ringtail/shm/layout.hpp"
#include "ringtail/shm/ring_writer.hpp"

namespace ringtail::shm {
namespace {

constexpr uint32_t kEventId = 7;
constexpr size_t kGuardBytes = 256;
constexpr std::byte kGuard{0xA5};

std::byte pattern(uint64_t seq, size_t i) { return static_cast<std::byte>((seq * 31 + i * 7 + 1) & 0xFF); }

// A ring of `capacity` bytes on the heap, with guard bytes on both sides,
// and a RingWriter attached to it.
class TestRing {
 public:
  explicit TestRing(uint64_t capacity, uint64_t start_pos = 0)
      : capacity_(capacity), storage_(capacity + 2 * kGuardBytes, kGuard), slot_(new RingSlot{}) {
    slot_->capacity = capacity;
    slot_->write_pos.store(start_pos);
    slot_->read_pos.store(start_pos);
    writer.attach(slot_.get(), data(), {capacity, static_cast<uint32_t>(capacity / 2), start_pos, 0, 0});
  }

  std::byte* data() { return storage_.data() + kGuardBytes; }
  RingSlot& slot() { return *slot_; }
  uint64_t capacity() const { return capacity_; }
  uint64_t offset_of(const std::byte* p) { return static_cast<uint64_t>(p - data()); }

  // Writes an event record of `size` bytes, its payload a pattern of its
  // seq. On a full ring the event is dropped and counted, as emit() does.
  bool write(uint32_t size) {
    const RingWriter::Reservation r = writer.reserve(size);
    if (r.at == nullptr) {
      writer.drop_full();
      return false;
    }
    EXPECT_GE(r.at, data());
    EXPECT_LE(r.at + size, data() + capacity_) << "record straddles the end of the ring";
    const RecordHeader header{size, kEventId, writer.next_seq(), 0};
    std::memcpy(r.at, &header, sizeof(header));
    for (size_t i = sizeof(header); i < size; ++i) r.at[i] = pattern(header.seq, i);
    writer.commit(r, writer.slot, writer.committed + 1);
    return true;
  }

  struct Seen {
    uint64_t pos;
    uint32_t size;
    uint64_t seq;
  };

  // The reader: consumes up to `max_records` event records (padding is
  // consumed on the way), checking framing and payloads, and releases the
  // bytes by advancing read_pos.
  std::vector<Seen> drain(size_t max_records = SIZE_MAX) {
    std::vector<Seen> seen;
    uint64_t pos = slot_->read_pos.load(std::memory_order_relaxed);
    const uint64_t end = slot_->write_pos.load(std::memory_order_acquire);
    EXPECT_LE(end - pos, capacity_) << "the writer overran the reader";
    while (pos < end && seen.size() < max_records) {
      const uint64_t offset = pos & (capacity_ - 1);
      EXPECT_EQ(offset % 8, 0U);
      uint32_t prefix[2];
      std::memcpy(prefix, data() + offset, sizeof(prefix));
      const uint32_t size = prefix[0];
      if (size < kRecordPrefixBytes || size % 8 != 0 || offset + size > capacity_ || pos + size > end) {
        ADD_FAILURE() << "bad record size " << size << " at position " << pos << " (offset " << offset << ")";
        break;
      }
      if (prefix[1] == kPaddingId) {
        EXPECT_EQ(offset + size, capacity_) << "padding must run exactly to the end of the ring";
        ++paddings_seen;
        pos += size;
        continue;
      }
      EXPECT_EQ(prefix[1], kEventId);
      RecordHeader header;
      std::memcpy(&header, data() + offset, sizeof(header));
      for (size_t i = sizeof(header); i < size; ++i) {
        if (data()[offset + i] != pattern(header.seq, i)) {
          ADD_FAILURE() << "payload of seq " << header.seq << " corrupted at byte " << i;
          break;
        }
      }
      seen.push_back({pos, size, header.seq});
      pos += size;
    }
    // Padding next in line is consumed with the records before it.
    while (pos < end) {
      uint32_t prefix[2];
      std::memcpy(prefix, data() + (pos & (capacity_ - 1)), sizeof(prefix));
      if (prefix[1] != kPaddingId) break;
      EXPECT_EQ((pos & (capacity_ - 1)) + prefix[0], capacity_) << "padding must run exactly to the end of the ring";
      ++paddings_seen;
      pos += prefix[0];
    }
    slot_->read_pos.store(pos, std::memory_order_release);
    return seen;
  }

  bool guards_intact() const {
    for (size_t i = 0; i < kGuardBytes; ++i) {
      if (storage_[i] != kGuard || storage_[kGuardBytes + capacity_ + i] != kGuard) return false;
    }
    return true;
  }

  RingWriter writer;
  uint64_t paddings_seen = 0;

 private:
  uint64_t capacity_;
  std::vector<std::byte> storage_;
  std::unique_ptr<RingSlot> slot_;
};

TEST(RingWriterTest, AcceptsRecordsUpToExactlyCapacityThenRefuses) {
  TestRing ring(4096);
  // Sizes that add up to exactly 4096.
  const uint32_t sizes[] = {2048, 1024, 512, 256, 128, 64, 40, 24};
  uint64_t total = 0;
  for (uint32_t size : sizes) {
    ASSERT_TRUE(ring.write(size)) << "record of " << size << " after " << total << " bytes";
    total += size;
  }
  ASSERT_EQ(total, 4096U);
  EXPECT_EQ(ring.writer.write_pos, 4096U);
  EXPECT_EQ(ring.slot().write_pos.load(), 4096U);
  EXPECT_EQ(ring.slot().committed.load(), std::size(sizes));

  // Full: even the smallest record is refused, and nothing moves.
  EXPECT_EQ(ring.writer.reserve(8).at, nullptr);
  EXPECT_FALSE(ring.write(24));
  EXPECT_EQ(ring.writer.write_pos, 4096U);
  EXPECT_EQ(ring.slot().write_pos.load(), 4096U);
  EXPECT_EQ(ring.slot().committed.load(), std::size(sizes));
  EXPECT_EQ(ring.slot().dropped_full.load(), 1U);

  const std::vector<TestRing::Seen> seen = ring.drain();
  ASSERT_EQ(seen.size(), std::size(sizes));
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].size, sizes[i]);
    EXPECT_EQ(seen[i].seq, i);
  }
  EXPECT_EQ(ring.paddings_seen, 0U);
  EXPECT_TRUE(ring.guards_intact());
}

TEST(RingWriterTest, SameSizeRecordsFillTheRingExactly) {
  TestRing ring(4096);
  for (int i = 0; i < 64; ++i) ASSERT_TRUE(ring.write(64)) << i;
  EXPECT_FALSE(ring.write(64));
  EXPECT_EQ(ring.writer.write_pos, 4096U);
  EXPECT_EQ(ring.writer.committed, 64U);
}

TEST(RingWriterTest, FullRingDropsAreCountedAndShowAsSeqGap) {
  TestRing ring(4096);
  for (int i = 0; i < 64; ++i) ASSERT_TRUE(ring.write(64));
  EXPECT_EQ(ring.writer.next_seq(), 64U);

  constexpr int kDrops = 5;
  for (int i = 0; i < kDrops; ++i) EXPECT_FALSE(ring.write(64));
  EXPECT_EQ(ring.slot().dropped_full.load(), uint64_t{kDrops});
  EXPECT_EQ(ring.slot().dropped_too_big.load(), 0U);
  EXPECT_EQ(ring.slot().committed.load(), 64U);
  EXPECT_EQ(ring.writer.dropped, uint64_t{kDrops});
  EXPECT_EQ(ring.writer.next_seq(), 64U + kDrops);

  // A record too big is counted apart, and spends a seq too.
  ring.writer.drop_too_big();
  EXPECT_EQ(ring.slot().dropped_too_big.load(), 1U);
  EXPECT_EQ(ring.writer.next_seq(), 64U + kDrops + 1);

  std::vector<TestRing::Seen> seen = ring.drain();
  ASSERT_EQ(seen.size(), 64U);
  const uint64_t last_before = seen.back().seq;
  ASSERT_TRUE(ring.write(64));
  seen = ring.drain();
  ASSERT_EQ(seen.size(), 1U);
  // The gap in seq is exactly the events dropped in between.
  EXPECT_EQ(seen[0].seq - last_before - 1, uint64_t{kDrops + 1});
  EXPECT_EQ(ring.slot().committed.load() + ring.slot().dropped_full.load() + ring.slot().dropped_too_big.load(),
            seen[0].seq + 1);
}

TEST(RingWriterTest, WrapsAroundWithPaddingAndNeverStraddlesTheEnd) {
  constexpr uint64_t kCapacity = 4096;
  TestRing ring(kCapacity);
  std::mt19937 rng(12345);
  std::uniform_int_distribution<uint32_t> small(3, 40);     // 24..320 bytes
  std::uniform_int_distribution<uint32_t> large(3, 256);    // up to max_record_bytes
  std::uniform_int_distribution<size_t> drain_count(0, 2);  // about as fast as the writer
  uint64_t written = 0, drops = 0, padded_writes = 0;
  std::vector<uint64_t> seqs;

  for (int i = 0; i < 20000; ++i) {
    const uint32_t size = 8 * (i % 10 == 0 ? large(rng) : small(rng));
    const uint64_t before = ring.writer.write_pos;
    const uint64_t tail = kCapacity - (before & (kCapacity - 1));
    if (ring.write(size)) {
      ++written;
      if (size > tail) {
        // The tail was filled with one padding record and the record starts the ring.
        ++padded_writes;
        uint32_t prefix[2];
        std::memcpy(prefix, ring.data() + (before & (kCapacity - 1)), sizeof(prefix));
        EXPECT_EQ(prefix[0], tail);
        EXPECT_EQ(prefix[1], kPaddingId);
        EXPECT_EQ(ring.writer.write_pos, before + tail + size);
      } else {
        EXPECT_EQ(ring.writer.write_pos, before + size);
      }
    } else {
      ++drops;
      EXPECT_EQ(ring.writer.write_pos, before) << "a refused record moved write_pos";
    }
    for (const TestRing::Seen& s : ring.drain(drain_count(rng))) seqs.push_back(s.seq);
  }
  for (const TestRing::Seen& s : ring.drain()) seqs.push_back(s.seq);

  EXPECT_GT(ring.writer.write_pos, 50 * kCapacity) << "the ring did not wrap often";
  EXPECT_GT(padded_writes, 10U);
  EXPECT_GT(drops, 0U) << "the reader never fell behind; the test lost its point";
  EXPECT_EQ(ring.paddings_seen, padded_writes);
  ASSERT_EQ(seqs.size(), written);
  // Seqs rise, and their gaps add up to the drops.
  uint64_t gaps = seqs.front();
  for (size_t i = 1; i < seqs.size(); ++i) {
    ASSERT_GT(seqs[i], seqs[i - 1]);
    gaps += seqs[i] - seqs[i - 1] - 1;
  }
  EXPECT_EQ(gaps, drops - (ring.writer.next_seq() - 1 - seqs.back()));
  EXPECT_EQ(ring.slot().dropped_full.load(), drops);
  EXPECT_EQ(ring.slot().committed.load(), written);
  EXPECT_TRUE(ring.guards_intact());
}

TEST(RingWriterTest, MaxRecordFitsAnEmptyRingAtEveryStartOffset) {
  constexpr uint64_t kCapacity = 4096;
  constexpr uint32_t kMax = kCapacity / 2;
  for (uint64_t lap : {uint64_t{0}, uint64_t{7}}) {
    for (uint64_t offset = 0; offset < kCapacity; offset += 8) {
      const uint64_t start = lap * kCapacity + offset;
      TestRing ring(kCapacity, start);
      ASSERT_EQ(ring.writer.max_record_bytes, kMax);
      const RingWriter::Reservation r = ring.writer.reserve(kMax);
      ASSERT_NE(r.at, nullptr) << "max record refused by an empty ring at position " << start;
      const uint64_t at = ring.offset_of(r.at);
      EXPECT_LE(at + kMax, kCapacity) << "straddles the end, start " << start;
      const uint64_t tail = kCapacity - offset;
      if (tail >= kMax) {
        EXPECT_EQ(at, offset);
        EXPECT_EQ(r.end, start + kMax);
      } else {
        EXPECT_EQ(at, 0U) << "start " << start;
        EXPECT_EQ(r.end, start + tail + kMax);
        uint32_t prefix[2];
        std::memcpy(prefix, ring.data() + offset, sizeof(prefix));
        EXPECT_EQ(prefix[0], tail);
        EXPECT_EQ(prefix[1], kPaddingId);
      }
      EXPECT_TRUE(ring.guards_intact()) << "start " << start;
      if (HasFailure()) return;
    }
  }
}

TEST(RingWriterTest, PaddingWhenOnlyThePrefixFitsAndNoneWhenTheRecordEndsTheRing) {
  {
    TestRing ring(4096, 4096 - 8);
    ASSERT_TRUE(ring.write(24));
    EXPECT_EQ(ring.writer.write_pos, 4096U - 8 + 8 + 24);
    uint32_t prefix[2];
    std::memcpy(prefix, ring.data() + 4096 - 8, sizeof(prefix));
    EXPECT_EQ(prefix[0], 8U);
    EXPECT_EQ(prefix[1], kPaddingId);
    const std::vector<TestRing::Seen> seen = ring.drain();
    ASSERT_EQ(seen.size(), 1U);
    EXPECT_EQ(seen[0].pos, 4096U);
    EXPECT_EQ(ring.paddings_seen, 1U);
  }
  {
    TestRing ring(4096, 4096 - 24);
    ASSERT_TRUE(ring.write(24));
    EXPECT_EQ(ring.writer.write_pos, 4096U);
    const std::vector<TestRing::Seen> seen = ring.drain();
    ASSERT_EQ(seen.size(), 1U);
    EXPECT_EQ(seen[0].pos, 4096U - 24);
    EXPECT_EQ(ring.paddings_seen, 0U);
  }
}

TEST(RingWriterTest, PaddingCountsAgainstTheRoom) {
  // 40 bytes left before the end, 24 free bytes after it: a 48-byte record
  // needs 40 + 48 bytes and must be refused even though 64 bytes are free.
  TestRing ring(4096, 4096 - 40);
  ring.slot().read_pos.store(4096 - 40 + 64 - 4096);  // only 64 bytes free
  EXPECT_EQ(ring.writer.reserve(48).at, nullptr);
  // A record that fits the tail needs no padding and fits.
  ASSERT_TRUE(ring.write(40));
  EXPECT_EQ(ring.writer.write_pos, 4096U);
  ASSERT_TRUE(ring.write(24));
  EXPECT_FALSE(ring.write(24));
  EXPECT_TRUE(ring.guards_intact());
}

TEST(RingWriterTest, AReservationLeftUncommittedLeavesTheNextOneCorrect) {
  // 40 bytes before the end: a 48-byte record needs padding. Reserved and
  // never committed (an event that is then not written), it must not let the
  // next reservation skip its own padding and straddle the end.
  TestRing ring(4096, 4096 - 40);
  ASSERT_NE(ring.writer.reserve(48).at, nullptr);
  EXPECT_EQ(ring.writer.write_pos, 4096U - 40);
  ASSERT_TRUE(ring.write(48));  // padded again, then at the start of the ring
  ASSERT_TRUE(ring.write(24));
  const std::vector<TestRing::Seen> seen = ring.drain();
  ASSERT_EQ(seen.size(), 2U);
  EXPECT_EQ(seen[0].pos, 4096U);
  EXPECT_EQ(seen[1].pos, 4096U + 48);
  EXPECT_EQ(ring.paddings_seen, 1U);
  EXPECT_TRUE(ring.guards_intact());
}

TEST(RingWriterTest, RecordsThatFillTheLapExactlyNeedNoPadding) {
  TestRing ring(4096);
  for (int i = 0; i < 64; ++i) ASSERT_TRUE(ring.write(64)) << i;
  EXPECT_EQ(ring.writer.write_pos, 4096U);
  EXPECT_FALSE(ring.write(8)) << "full: the reader has freed nothing";
  ASSERT_EQ(ring.drain().size(), 64U);
  ASSERT_TRUE(ring.write(64));
  const std::vector<TestRing::Seen> seen = ring.drain();
  ASSERT_EQ(seen.size(), 1U);
  EXPECT_EQ(seen[0].pos, 4096U);
  EXPECT_EQ(ring.paddings_seen, 0U);
  EXPECT_TRUE(ring.guards_intact());
}

TEST(RingWriterTest, CachesTheWriteLimitAndSeesTheReadersProgressWhenItLooksFull) {
  TestRing ring(4096);
  EXPECT_EQ(ring.writer.write_limit, 0U);  // attach forces a read on the first reserve
  for (int i = 0; i < 32; ++i) ASSERT_TRUE(ring.write(64));
  EXPECT_EQ(ring.writer.write_limit, 4096U);

  ASSERT_EQ(ring.drain().size(), 32U);
  EXPECT_EQ(ring.slot().read_pos.load(), 2048U);
  // While the ring has room by the cached limit, read_pos is not reread.
  for (int i = 0; i < 32; ++i) ASSERT_TRUE(ring.write(64));
  EXPECT_EQ(ring.writer.write_pos, 4096U);
  EXPECT_EQ(ring.writer.write_limit, 4096U) << "read_pos was reread although the ring had room";
  // The next record passes the cached limit: the writer rereads read_pos
  // and sees the 2048 bytes the reader freed.
  for (int i = 0; i < 32; ++i) ASSERT_TRUE(ring.write(64)) << i;
  EXPECT_EQ(ring.writer.write_limit, 2048U + 4096U);
  EXPECT_FALSE(ring.write(64));
  EXPECT_EQ(ring.slot().dropped_full.load(), 1U);

  // The reader frees 64 bytes: exactly one more record fits.
  ASSERT_EQ(ring.drain(1).size(), 1U);
  EXPECT_TRUE(ring.write(64));
  EXPECT_FALSE(ring.write(64));
  EXPECT_EQ(ring.slot().dropped_full.load(), 2U);
  EXPECT_EQ(ring.drain().size(), 64U);
  EXPECT_TRUE(ring.guards_intact());
}

TEST(RingWriterTest, NoReadPosValueMakesItWriteOutsideTheRing) {
  const uint64_t hostile[] = {UINT64_MAX, UINT64_MAX - 100, uint64_t{1} << 62, 12345, 3 * 4096 + 8, 1};
  std::mt19937 rng(7);
  std::uniform_int_distribution<uint32_t> words(3, 256);
  for (uint64_t read_pos : hostile) {
    TestRing ring(4096, 100 * 4096 + 1000);
    ring.slot().read_pos.store(read_pos);
    for (int i = 0; i < 200; ++i) {
      const uint32_t size = 8 * words(rng);
      const RingWriter::Reservation r = ring.writer.reserve(size);
      if (r.at == nullptr) continue;
      ASSERT_GE(r.at, ring.data());
      ASSERT_LE(r.at + size, ring.data() + 4096) << "read_pos " << read_pos;
      std::memset(r.at, 0x11, size);
      ring.writer.commit(r, ring.writer.slot, ring.writer.committed + 1);
    }
    EXPECT_TRUE(ring.guards_intact()) << "read_pos " << read_pos;
  }
}

TEST(RingWriterTest, ControlRecordsTakeNoSeq) {
  TestRing ring(4096);
  ASSERT_TRUE(ring.write(32));
  const RingWriter::Reservation r = ring.writer.reserve(sizeof(ThreadStartRecord));
  ASSERT_NE(r.at, nullptr);
  ThreadStartRecord start{};
  start.header = {sizeof(ThreadStartRecord), kThreadStartId, ring.writer.next_seq(), 0};
  std::memcpy(r.at, &start, sizeof(start));
  ring.writer.commit_control(r);
  EXPECT_EQ(ring.slot().write_pos.load(), 32U + sizeof(ThreadStartRecord));
  EXPECT_EQ(ring.slot().committed.load(), 1U);
  EXPECT_EQ(ring.writer.next_seq(), 1U);
  ASSERT_TRUE(ring.write(32));
  EXPECT_EQ(ring.slot().committed.load(), 2U);
}

TEST(RingWriterTest, AttachContinuesTheGivenPositionsAndCountersNotTheSlots) {
  RingSlot slot{};
  std::vector<std::byte> data(4096);
  // What the slot says in shared memory is not what the writer goes by:
  // anyone who can write the segment could have put these there.
  slot.capacity = uint64_t{1} << 40;
  slot.write_pos.store(12345);
  slot.committed.store(999);
  slot.dropped_full.store(999);
  slot.read_pos.store(5 * 4096 + 1000);
  RingWriter writer;
  writer.attach(&slot, data.data(), {4096, 2048, 5 * 4096 + 1000, 10, 5});
  EXPECT_EQ(writer.mask, 4095U);
  EXPECT_EQ(writer.next_seq(), 15U);
  const RingWriter::Reservation r = writer.reserve(24);
  ASSERT_NE(r.at, nullptr);
  EXPECT_EQ(r.at, data.data() + 1000);
  writer.commit(r, &slot, writer.committed + 1);
  EXPECT_EQ(slot.committed.load(), 11U);
  EXPECT_EQ(slot.write_pos.load(), 5U * 4096 + 1024);
  writer.drop_full();
  EXPECT_EQ(writer.next_seq(), 17U);
}

TEST(RingWriterTest, StringFieldBytesPadToEight) {
  EXPECT_EQ(string_field_bytes(0), 8U);
  EXPECT_EQ(string_field_bytes(1), 16U);
  EXPECT_EQ(string_field_bytes(8), 16U);
  EXPECT_EQ(string_field_bytes(9), 24U);
  EXPECT_EQ(string_field_bytes(4096), 8U + 4096U);
}

}  // namespace
}  // namespace ringtail::shm
