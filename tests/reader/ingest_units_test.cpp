// Unit tests of the ingest pieces that need no producer: timestamp
// conversion, call-site entry parsing and field decoding of hand-built bytes.
#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <system_error>
#include <typeinfo>
#include <vector>

#include <gtest/gtest.h>

#include "ingest_test_support.hpp"
#include "ringtail/field.hpp"
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

// kNull: one word, which must be zero; the field reads as NullValue, also
// into a DecodedEvent whose slots held other types (the decoder reuses them).
TEST(IngestFields, NullEncodings) {
  using F = shm::FieldType;
  DecodedEvent e;
  ASSERT_TRUE(decode({F::kI64, F::kNull}, {7, 0}, e).ok());
  EXPECT_EQ(std::get<int64_t>(e.fields[0].value), 7);
  EXPECT_TRUE(std::holds_alternative<NullValue>(e.fields[1].value));
  EXPECT_EQ(e.fields[1].type, F::kNull);
  ASSERT_TRUE(decode({F::kNull, F::kI64, F::kNull}, {0, 9, 0}, e).ok());
  EXPECT_TRUE(std::holds_alternative<NullValue>(e.fields[0].value));  // was an int64_t
  EXPECT_EQ(std::get<int64_t>(e.fields[1].value), 9);                 // was a null
  EXPECT_TRUE(std::holds_alternative<NullValue>(e.fields[2].value));

  // A null word that is not zero is corrupt; the reason names its place, not its bytes.
  for (const uint64_t word : {uint64_t{1}, uint64_t{1} << 63, uint64_t{0x2121544552434553}}) {
    const absl::Status s = decode({F::kI64, F::kNull}, {7, word}, e);
    ASSERT_FALSE(s.ok()) << word;
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
    const std::string reason(s.message());
    EXPECT_NE(reason.find("field 1 (f1): the word at byte 32 is not zero"), std::string::npos) << reason;
    EXPECT_EQ(reason.find("2121544552434553"), std::string::npos) << reason;
    EXPECT_EQ(reason.find("SECRET"), std::string::npos) << reason;
  }
  EXPECT_FALSE(decode({F::kNull}, {}, e).ok());      // missing word
  EXPECT_FALSE(decode({F::kNull}, {0, 0}, e).ok());  // trailing word
}

// kv(key, nullptr) (ringtail/field.hpp) encodes the zero word the reader decodes.
TEST(IngestFields, ProducerNullEncodingRoundTrips) {
  const auto field = ringtail::kv("none", nullptr);
  static_assert(ringtail::detail::field_type<decltype(field.value)>() == shm::FieldType::kNull);
  static_assert(ringtail::detail::kMaxFieldBytes<decltype(field.value)> == 8);
  ASSERT_EQ(ringtail::detail::encoded_bytes(field.value, 64), 8u);
  std::vector<uint64_t> words = {0xA5A5A5A5A5A5A5A5ULL, 0xA5A5A5A5A5A5A5A5ULL};  // stale ring bytes
  std::byte* end = ringtail::detail::encode(reinterpret_cast<std::byte*>(words.data()), field.value, 64);
  EXPECT_EQ(end, reinterpret_cast<std::byte*>(words.data()) + 8);
  EXPECT_EQ(words[0], 0u);
  EXPECT_EQ(words[1], 0xA5A5A5A5A5A5A5A5ULL);  // nothing past its word
  DecodedEvent e;
  ASSERT_TRUE(decode({shm::FieldType::kNull}, {words[0]}, e).ok());
  EXPECT_TRUE(std::holds_alternative<NullValue>(e.fields[0].value));
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

// ---------------------------------------------------------------------------
// kError values: an ErrorHeader (flags | reserved << 32, then the code) and
// three strings (type, message, stack).

// One string as record words: its header, then its bytes zero-padded.
std::vector<uint64_t> string_words(std::string_view bytes, uint32_t original) {
  std::vector<uint64_t> words = {uint64_t{static_cast<uint32_t>(bytes.size())} | (uint64_t{original} << 32)};
  std::vector<uint64_t> body((bytes.size() + 7) / 8, 0);
  for (size_t i = 0; i < bytes.size(); ++i) {  // little-endian, as the words are read
    body[i / 8] |= uint64_t{static_cast<uint8_t>(bytes[i])} << (8 * (i % 8));
  }
  words.insert(words.end(), body.begin(), body.end());
  return words;
}
std::vector<uint64_t> error_words(uint32_t flags, uint32_t reserved, int64_t code, std::string_view type,
                                  std::string_view message, std::string_view stack) {
  std::vector<uint64_t> words = {uint64_t{flags} | (uint64_t{reserved} << 32), static_cast<uint64_t>(code)};
  for (std::string_view part : {type, message, stack}) {
    const std::vector<uint64_t> string = string_words(part, static_cast<uint32_t>(part.size()));
    words.insert(words.end(), string.begin(), string.end());
  }
  return words;
}

TEST(IngestFields, ErrorEncodings) {
  using F = shm::FieldType;
  DecodedEvent e;
  std::vector<uint64_t> words =
      error_words(shm::kErrorHasCode | shm::kErrorTypeMangled, 0, -111, "St12system_error", "refused", "a+0x1\nb+0x2");
  words.push_back(7);  // an integer after it: the error's end is found exactly
  ASSERT_TRUE(decode({F::kError, F::kI64}, words, e).ok());
  const ErrorValue& error = std::get<ErrorValue>(e.fields[0].value);
  EXPECT_EQ(error.type, (StringValue{"St12system_error", 16, false}));
  EXPECT_EQ(error.message.bytes, "refused");
  EXPECT_EQ(error.stack.bytes, "a+0x1\nb+0x2");
  EXPECT_TRUE(error.has_code);
  EXPECT_EQ(error.code, -111);
  EXPECT_TRUE(error.type_mangled);
  EXPECT_FALSE(error.cut());
  EXPECT_EQ(std::get<int64_t>(e.fields[1].value), 7);

  // No flags: no code (whatever the word holds), not mangled; empty strings.
  ASSERT_TRUE(decode({F::kError}, error_words(0, 0, 5, "Timeout", "", ""), e).ok());
  const ErrorValue& plain = std::get<ErrorValue>(e.fields[0].value);
  EXPECT_FALSE(plain.has_code);
  EXPECT_EQ(plain.code, 0);
  EXPECT_FALSE(plain.type_mangled);
  EXPECT_EQ(plain.type.bytes, "Timeout");
  EXPECT_EQ(plain.message.bytes, "");
  EXPECT_EQ(plain.stack.bytes, "");

  // A cut message is reported per part.
  std::vector<uint64_t> cut = {0, 0};
  for (const std::vector<uint64_t>& part : {string_words("E", 1), string_words("hello", 900), string_words("", 0)}) {
    cut.insert(cut.end(), part.begin(), part.end());
  }
  ASSERT_TRUE(decode({F::kError}, cut, e).ok());
  EXPECT_EQ(std::get<ErrorValue>(e.fields[0].value).message, (StringValue{"hello", 900, true}));
  EXPECT_TRUE(std::get<ErrorValue>(e.fields[0].value).cut());
}

TEST(IngestFields, Malicious_ErrorHeaderAndStringsRejected) {
  using F = shm::FieldType;
  DecodedEvent e;
  // Unknown flag bits, a reserved word that is not zero.
  EXPECT_FALSE(decode({F::kError}, error_words(1U << 2, 0, 0, "T", "m", ""), e).ok());
  EXPECT_FALSE(decode({F::kError}, error_words(0x80000000U, 0, 0, "T", "m", ""), e).ok());
  EXPECT_FALSE(decode({F::kError}, error_words(shm::kErrorHasCode, 1, 0, "T", "m", ""), e).ok());
  // Truncated: inside the header, or before a string.
  EXPECT_FALSE(decode({F::kError}, {0}, e).ok());
  EXPECT_FALSE(decode({F::kError}, {0, 0}, e).ok());
  std::vector<uint64_t> two_strings = error_words(0, 0, 0, "T", "m", "");
  two_strings.pop_back();  // the stack's header
  EXPECT_FALSE(decode({F::kError}, two_strings, e).ok());
  // A string longer than max_string_bytes, stored > original, or bad padding.
  EXPECT_FALSE(decode({F::kError}, error_words(0, 0, 0, std::string(65, 'T'), "m", ""), e, 64).ok());
  std::vector<uint64_t> lying = error_words(0, 0, 0, "T", "message", "");
  lying[2 + 2] = uint64_t{7} | (uint64_t{3} << 32);  // the message's header: 7 stored of 3
  EXPECT_FALSE(decode({F::kError}, lying, e).ok());
  std::vector<uint64_t> padded = error_words(0, 0, 0, "T", "m", "");
  padded[3] |= uint64_t{0xFF} << 56;  // a byte of the type's padding
  EXPECT_FALSE(decode({F::kError}, padded, e).ok());
  // And the error must end where the record says.
  std::vector<uint64_t> trailing = error_words(0, 0, 0, "T", "m", "");
  trailing.push_back(0);
  EXPECT_FALSE(decode({F::kError}, trailing, e).ok());
}

// What the producer encodes (ringtail/field.hpp) is what the reader decodes:
// strings cut at max_string_bytes, flags and code as kv() made them.
TEST(IngestFields, ProducerErrorEncodingRoundTrips) {
  using F = shm::FieldType;
  constexpr uint32_t kMaxString = 24;
  auto round_trip = [&](const auto& field, ErrorValue& out) {
    const uint32_t bytes = ringtail::detail::encoded_bytes(field.value, kMaxString);
    std::vector<uint64_t> words(bytes / 8, 0xA5A5A5A5A5A5A5A5ULL);  // stale ring bytes
    ASSERT_EQ(bytes % 8, 0u);
    std::byte* end = ringtail::detail::encode(reinterpret_cast<std::byte*>(words.data()), field.value, kMaxString);
    ASSERT_EQ(end, reinterpret_cast<std::byte*>(words.data()) + bytes);
    DecodedEvent e;
    ASSERT_TRUE(decode({F::kError}, words, e, kMaxString).ok());
    out = std::get<ErrorValue>(e.fields[0].value);
  };
  ErrorValue out;
  const std::string long_message(100, 'x');
  round_trip(ringtail::kv("error", ringtail::error("Timeout", long_message, 504)), out);
  EXPECT_EQ(out.type.bytes, "Timeout");
  EXPECT_EQ(out.message, (StringValue{std::string(kMaxString, 'x'), 100, true}));
  EXPECT_TRUE(out.has_code);
  EXPECT_EQ(out.code, 504);
  EXPECT_FALSE(out.type_mangled);

  round_trip(ringtail::kv("error", ringtail::error("Timeout", "no code")), out);
  EXPECT_FALSE(out.has_code);

  const std::system_error system(std::make_error_code(std::errc::connection_refused), "connect");
  round_trip(ringtail::kv("error", system), out);
  EXPECT_TRUE(out.type_mangled);
  EXPECT_EQ(out.type.bytes, typeid(std::system_error).name());
  EXPECT_TRUE(out.has_code);
  EXPECT_EQ(out.code, static_cast<int>(std::errc::connection_refused));
  // Through a std::exception reference the dynamic type and the code still show.
  const std::exception& base = system;
  round_trip(ringtail::kv("error", base), out);
  EXPECT_EQ(out.type.bytes, typeid(std::system_error).name());
  EXPECT_EQ(out.code, static_cast<int>(std::errc::connection_refused));

  round_trip(ringtail::kv("error", std::make_error_code(std::errc::timed_out)), out);
  EXPECT_FALSE(out.type_mangled);
  EXPECT_EQ(out.type.bytes, "generic");
  EXPECT_EQ(out.message.bytes, std::make_error_code(std::errc::timed_out).message().substr(0, kMaxString));
  EXPECT_EQ(out.code, static_cast<int>(std::errc::timed_out));
  EXPECT_EQ(out.stack.bytes, "");
}

}  // namespace
}  // namespace ringtail::reader
