// Unit tests of the ingest pieces that need no producer: timestamp
// conversion, call-site entry parsing and field decoding of hand-built bytes.
#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ingest_test_support.hpp"
#include "ringtail/reader/ingest/callsite_table.hpp"
#include "ringtail/reader/ingest/record_decoder.hpp"
#include "ringtail/reader/ingest/timestamp.hpp"
#include "ringtail/shm/layout.hpp"

namespace ringtail::reader {
namespace {

TEST(IngestTimestamp, RealtimeStampsPassThrough) {
  ClockCalibration clock;
  clock.realtime = true;
  EXPECT_EQ(to_realtime_ns(clock, 123456789), 123456789u);
  EXPECT_EQ(to_realtime_ns(clock, UINT64_MAX), UINT64_MAX);
}

TEST(IngestTimestamp, TscStampsUseTheAnchor) {
  ClockCalibration clock;
  clock.tsc_hz = 3'000'000'000;  // 3 GHz
  clock.anchor_tsc = 1'000'000;
  clock.anchor_realtime_ns = 1'700'000'000'000'000'000ULL;
  EXPECT_EQ(to_realtime_ns(clock, 1'000'000), clock.anchor_realtime_ns);
  EXPECT_EQ(to_realtime_ns(clock, 1'000'000 + 3'000'000'000ULL), clock.anchor_realtime_ns + 1'000'000'000ULL);
  EXPECT_EQ(to_realtime_ns(clock, 1'000'000 + 3), clock.anchor_realtime_ns + 1);
  // Before the anchor: earlier, not wrapped.
  EXPECT_EQ(to_realtime_ns(clock, 1'000'000 - 3'000), clock.anchor_realtime_ns - 1'000);
  EXPECT_EQ(to_realtime_ns(clock, 0), clock.anchor_realtime_ns - 333'333);
  // Saturation both ways, no overflow for any input.
  clock.anchor_realtime_ns = 10;
  EXPECT_EQ(to_realtime_ns(clock, 0), 0u);
  clock.tsc_hz = 1;
  clock.anchor_tsc = 0;
  EXPECT_EQ(to_realtime_ns(clock, UINT64_MAX), UINT64_MAX);
  clock.tsc_hz = 0;
  EXPECT_EQ(to_realtime_ns(clock, 5), std::nullopt);
}

// The conversion splits the division to stay in 64 bits; it must agree with
// the plain 128-bit formula for every input, near the edges of the split too.
TEST(IngestTimestamp, AgreesWithThe128BitFormula) {
  std::mt19937_64 rng(20261130);
  const uint64_t rates[] = {
      1, 999, 1'000'000'000, 2'999'999'999, 3'000'000'000, (uint64_t{1} << 34) - 1, uint64_t{1} << 34, UINT64_MAX};
  for (uint64_t hz : rates) {
    for (int i = 0; i < 20000; ++i) {
      ClockCalibration clock;
      clock.tsc_hz = hz;
      clock.anchor_tsc = rng() >> (rng() % 64);
      clock.anchor_realtime_ns = rng() >> (rng() % 64);
      const uint64_t raw = i % 4 == 0 ? clock.anchor_tsc + (rng() % (hz < 1000 ? 1000 : hz)) : rng() >> (rng() % 64);
      const __int128 ns = static_cast<__int128>(clock.anchor_realtime_ns) +
                          (static_cast<__int128>(raw) - static_cast<__int128>(clock.anchor_tsc)) * 1'000'000'000 /
                              static_cast<__int128>(hz);
      const uint64_t want = ns < 0                                   ? 0
                            : ns > static_cast<__int128>(UINT64_MAX) ? UINT64_MAX
                                                                     : static_cast<uint64_t>(ns);
      ASSERT_EQ(to_realtime_ns(clock, raw), want) << "hz " << hz << " anchor_tsc " << clock.anchor_tsc << " anchor_ns "
                                                  << clock.anchor_realtime_ns << " raw " << raw;
    }
  }
}

// The per-stream converter must give exactly what to_realtime_ns() gives:
// runs of stamps within a second (its fast path), jumps across seconds and
// backwards, stamps before the anchor, and rates at the edges of its range.
TEST(IngestTimestamp, ConverterMatchesToRealtimeNs) {
  std::mt19937_64 rng(7);
  const uint64_t rates[] = {999'999'999,   1'000'000'001,           2'100'000'000,    3'000'000'000,
                            3'999'999'937, (uint64_t{1} << 34) - 1, uint64_t{1} << 34};
  for (uint64_t hz : rates) {
    for (int trial = 0; trial < 20; ++trial) {
      ClockCalibration clock;
      clock.tsc_hz = hz;
      clock.anchor_tsc = trial == 0 ? 0 : rng() >> (rng() % 64);
      clock.anchor_realtime_ns = trial == 1 ? UINT64_MAX - 5'000'000'000 : rng() >> 2;
      RealtimeConverter convert(clock);
      uint64_t raw = clock.anchor_tsc - std::min<uint64_t>(clock.anchor_tsc, hz);
      for (int i = 0; i < 5000; ++i) {
        switch (rng() % 8) {
          case 0:
            raw = rng();  // anywhere
            break;
          case 1:
            raw -= std::min<uint64_t>(raw, rng() % (2 * hz));  // backwards
            break;
          default:
            raw += rng() % (hz / 64);  // forwards within about a second
        }
        ASSERT_EQ(convert(raw), to_realtime_ns(clock, raw).value())
            << "hz " << hz << " anchor_tsc " << clock.anchor_tsc << " anchor_ns " << clock.anchor_realtime_ns << " raw "
            << raw;
      }
    }
  }
  ClockCalibration realtime;
  realtime.realtime = true;
  RealtimeConverter pass_through(realtime);
  EXPECT_TRUE(pass_through.converts());
  EXPECT_EQ(pass_through(42), 42u);
  ClockCalibration broken;  // TSC stamps without a rate
  RealtimeConverter none(broken);
  EXPECT_FALSE(none.converts());
  EXPECT_EQ(none(42), 0u);
}

// Builds a call-site entry the way the producer does.
shm::CallSiteEntry make_entry(uint32_t id, const std::vector<std::string>& texts, const std::vector<uint8_t>& types) {
  shm::CallSiteEntry e;
  std::memset(&e, 0, sizeof(e));
  e.id = id;
  e.level = static_cast<uint8_t>(shm::Level::kWarn);
  e.line = 42;
  e.field_count = static_cast<uint8_t>(types.size());
  std::memcpy(e.field_types, types.data(), types.size());
  size_t used = 0;
  for (const std::string& t : texts) {
    const uint16_t length = static_cast<uint16_t>(t.size());
    std::memcpy(e.text + used, &length, 2);
    std::memcpy(e.text + used + 2, t.data(), t.size());
    used += 2 + t.size();
  }
  e.text_bytes = static_cast<uint16_t>(used);
  return e;
}

TEST(IngestCallSite, DecodesAnHonestEntry) {
  const shm::CallSiteEntry e = make_entry(3, {"msg", "file.cpp", "fn", "a", "b"}, {5, 12});
  const CallSiteInfo info = decode_callsite_entry(e, 3);
  ASSERT_TRUE(info.valid) << info.invalid_reason;
  EXPECT_EQ(info.id, 3u);
  EXPECT_EQ(info.level, shm::Level::kWarn);
  EXPECT_EQ(info.line, 42u);
  EXPECT_EQ(info.message, "msg");
  EXPECT_EQ(info.file, "file.cpp");
  EXPECT_EQ(info.function, "fn");
  ASSERT_EQ(info.fields.size(), 2u);
  EXPECT_EQ(info.fields[0].name, "a");
  EXPECT_EQ(info.fields[0].type, shm::FieldType::kI64);
  EXPECT_EQ(info.fields[1].name, "b");
  EXPECT_EQ(info.fields[1].type, shm::FieldType::kString);
  EXPECT_FALSE(decode_callsite_entry(e, 4).valid);
}

TEST(IngestCallSite, RandomEntriesNeverCrash) {
  std::mt19937_64 rng(7);
  const shm::CallSiteEntry honest = make_entry(0, {"m", "f", "g", "x", "y", "z"}, {1, 11, 12});
  int valid = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    shm::CallSiteEntry e = honest;
    auto* bytes = reinterpret_cast<uint8_t*>(&e);
    for (int k = 0; k < 1 + trial % 4; ++k) bytes[rng() % 64] = static_cast<uint8_t>(rng());
    const CallSiteInfo info = decode_callsite_entry(e, 0);
    if (info.valid) {
      ++valid;
      EXPECT_LE(info.fields.size(), shm::kMaxFields);
    } else {
      EXPECT_FALSE(info.invalid_reason.empty());
    }
  }
  EXPECT_GT(valid, 0);
}

// A record with the given 8-byte words after its header.
std::vector<uint64_t> record_words(const std::vector<uint64_t>& fields) {
  std::vector<uint64_t> words = {0, 1, 2};  // header: size/id, seq, timestamp
  words.insert(words.end(), fields.begin(), fields.end());
  const uint64_t size = words.size() * 8;
  words[0] = size;  // size in the low half, call-site id 0 in the high half
  return words;
}

CallSiteInfo site_of(const std::vector<shm::FieldType>& types) {
  CallSiteInfo info;
  info.valid = true;
  for (size_t i = 0; i < types.size(); ++i) {
    FieldInfo field;
    field.name = std::to_string(i);
    field.name.insert(field.name.begin(), 'f');
    field.type = types[i];
    info.fields.push_back(std::move(field));
  }
  return info;
}

absl::Status decode(const std::vector<shm::FieldType>& types, const std::vector<uint64_t>& fields, DecodedEvent& out,
                    uint32_t max_string = 64) {
  const std::vector<uint64_t> words = record_words(fields);
  const CallSiteInfo site = site_of(types);
  absl::Status s = decode_event_fields(reinterpret_cast<const std::byte*>(words.data()),
                                       static_cast<uint32_t>(words.size() * 8), site, max_string, out);
  for (DecodedField& f : out.fields) f.name = {};  // `site` is gone
  return s;
}

TEST(IngestFields, ScalarEncodings) {
  using F = shm::FieldType;
  DecodedEvent e;
  ASSERT_TRUE(decode({F::kI8, F::kI16, F::kU32, F::kF32, F::kF64, F::kDurationNs, F::kBool},
                     {static_cast<uint64_t>(-5), 0x7FFF, 0xFFFFFFFF, std::bit_cast<uint32_t>(1.5f),
                      std::bit_cast<uint64_t>(-2.25), static_cast<uint64_t>(-7), 1},
                     e)
                  .ok());
  EXPECT_EQ(std::get<int64_t>(e.fields[0].value), -5);
  EXPECT_EQ(std::get<int64_t>(e.fields[1].value), 0x7FFF);
  EXPECT_EQ(std::get<uint64_t>(e.fields[2].value), 0xFFFFFFFFu);
  EXPECT_EQ(std::get<float>(e.fields[3].value), 1.5f);
  EXPECT_EQ(std::get<double>(e.fields[4].value), -2.25);
  EXPECT_EQ(std::get<DurationValue>(e.fields[5].value).ns, -7);
  EXPECT_EQ(std::get<bool>(e.fields[6].value), true);

  EXPECT_FALSE(decode({F::kI8}, {0x80}, e).ok());
  EXPECT_FALSE(decode({F::kI16}, {0xFFFF}, e).ok());
  EXPECT_FALSE(decode({F::kI32}, {0x80000000}, e).ok());
  EXPECT_FALSE(decode({F::kU8}, {0x100}, e).ok());
  EXPECT_FALSE(decode({F::kU16}, {static_cast<uint64_t>(-1)}, e).ok());
  EXPECT_FALSE(decode({F::kF32}, {uint64_t{1} << 32}, e).ok());
  EXPECT_FALSE(decode({F::kBool}, {2}, e).ok());
  EXPECT_FALSE(decode({F::kI64}, {}, e).ok());      // missing field
  EXPECT_FALSE(decode({F::kI64}, {1, 2}, e).ok());  // trailing word
  EXPECT_FALSE(decode({static_cast<F>(0)}, {1}, e).ok());
}

TEST(IngestFields, StringEncodings) {
  using F = shm::FieldType;
  auto header = [](uint32_t stored, uint32_t original) { return uint64_t{stored} | (uint64_t{original} << 32); };
  uint64_t hello;
  std::memcpy(&hello, "hello\0\0\0", 8);
  DecodedEvent e;
  ASSERT_TRUE(decode({F::kString}, {header(5, 5), hello}, e).ok());
  EXPECT_EQ(std::get<StringValue>(e.fields[0].value), (StringValue{"hello", 5, false}));
  ASSERT_TRUE(decode({F::kString}, {header(5, 900), hello}, e).ok());
  EXPECT_EQ(std::get<StringValue>(e.fields[0].value), (StringValue{"hello", 900, true}));
  ASSERT_TRUE(decode({F::kString, F::kString}, {header(0, 0), header(8, 8), hello}, e).ok());
  EXPECT_EQ(std::get<StringValue>(e.fields[0].value).bytes, "");
  EXPECT_EQ(std::get<StringValue>(e.fields[1].value).bytes, std::string("hello\0\0\0", 8));

  EXPECT_FALSE(decode({F::kString}, {header(9, 9), hello}, e).ok());     // past the record
  EXPECT_FALSE(decode({F::kString}, {header(5, 4), hello}, e).ok());     // stored > original
  EXPECT_FALSE(decode({F::kString}, {header(5, 5), hello}, e, 4).ok());  // > max_string_bytes
  EXPECT_FALSE(decode({F::kString}, {header(4, 4), hello}, e).ok());     // non-zero padding
  EXPECT_FALSE(decode({F::kString}, {header(0xFFFFFFFF, 0xFFFFFFFF)}, e, UINT32_MAX).ok());
}

TEST(IngestFields, RandomRecordsNeverCrash) {
  using F = shm::FieldType;
  std::mt19937_64 rng(11);
  DecodedEvent e;
  for (int trial = 0; trial < 5000; ++trial) {
    std::vector<F> types;
    for (uint64_t k = 0; k < rng() % 6; ++k) types.push_back(static_cast<F>(1 + rng() % shm::kMaxFieldType));
    std::vector<uint64_t> words;
    for (uint64_t k = 0; k < rng() % 10; ++k) words.push_back(rng() % 3 == 0 ? rng() % 32 : rng());
    (void)decode(types, words, e, static_cast<uint32_t>(rng() % 128));
  }
}

}  // namespace
}  // namespace ringtail::reader
