// decode_frame (reader/ingest/frame_decoder.hpp): frame records built byte by
// byte as the ABI describes them decode to what they say, and every
// corruption of one is an error that names the problem.
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ringtail/reader/ingest/frame_decoder.hpp"
#include "ringtail/shm/layout.hpp"

namespace ringtail::reader {
namespace {

// Builds a frame record the way the producer lays it out.
class FrameBuilder {
 public:
  FrameBuilder(uint32_t id, shm::FrameKind kind, uint16_t depth) {
    shm::FrameHeader header{};
    header.header.callsite_id = id;
    header.header.timestamp = 12345;
    header.depth = depth;
    header.kind = static_cast<uint8_t>(kind);
    put(&header, sizeof(header));
  }
  FrameBuilder& span_ids(uint64_t high, uint64_t low, uint64_t span, uint64_t parent, std::string_view name) {
    const shm::SpanIds ids{high, low, span, parent, 1, {}};
    put(&ids, sizeof(ids));
    string(name);
    return *this;
  }
  FrameBuilder& field(std::string_view key, shm::FieldType type, const void* value, size_t bytes) {
    const shm::InlineFieldHeader header{static_cast<uint8_t>(type), 0, static_cast<uint16_t>(key.size()), 0};
    put(&header, sizeof(header));
    put(key.data(), key.size());
    pad();
    put(value, bytes);
    pad();
    ++fields_;
    return *this;
  }
  FrameBuilder& int_field(std::string_view key, int64_t value) {
    return field(key, shm::FieldType::kI64, &value, sizeof(value));
  }
  FrameBuilder& null_field(std::string_view key) {
    const uint64_t zero = 0;
    return field(key, shm::FieldType::kNull, &zero, sizeof(zero));
  }
  FrameBuilder& string_field(std::string_view key, std::string_view value) {
    const shm::InlineFieldHeader header{static_cast<uint8_t>(shm::FieldType::kString), 0,
                                        static_cast<uint16_t>(key.size()), 0};
    put(&header, sizeof(header));
    put(key.data(), key.size());
    pad();
    string(value);
    ++fields_;
    return *this;
  }
  std::vector<std::byte> build() {
    std::vector<std::byte> out = bytes_;
    const uint32_t size = static_cast<uint32_t>(out.size());
    std::memcpy(out.data(), &size, sizeof(size));
    std::memcpy(out.data() + offsetof(shm::FrameHeader, field_count), &fields_, sizeof(fields_));
    return out;
  }

 private:
  void string(std::string_view value) {
    const shm::StringHeader header{static_cast<uint32_t>(value.size()), static_cast<uint32_t>(value.size())};
    put(&header, sizeof(header));
    put(value.data(), value.size());
    pad();
  }
  void put(const void* data, size_t size) {
    const auto* p = static_cast<const std::byte*>(data);
    bytes_.insert(bytes_.end(), p, p + size);
  }
  void pad() {
    while (bytes_.size() % 8 != 0) bytes_.push_back(std::byte{0});
  }
  std::vector<std::byte> bytes_;
  uint32_t fields_ = 0;
};

absl::Status decode(const std::vector<std::byte>& record, DecodedFrame& out) {
  return decode_frame(record.data(), static_cast<uint32_t>(record.size()), 4096, out);
}

TEST(FrameDecoder, ContextPushDecodes) {
  const std::vector<std::byte> record = FrameBuilder(shm::kFramePushId, shm::FrameKind::kContext, 2)
                                            .string_field("session_id", "s-1")
                                            .int_field("attempt", -3)
                                            .null_field("parent")
                                            .build();
  DecodedFrame frame;
  ASSERT_TRUE(decode(record, frame).ok());
  EXPECT_TRUE(frame.push);
  EXPECT_FALSE(frame.resent);
  EXPECT_EQ(frame.frame.depth, 2u);
  EXPECT_EQ(frame.frame.kind, shm::FrameKind::kContext);
  EXPECT_EQ(frame.frame.timestamp_raw, 12345u);
  ASSERT_EQ(frame.frame.fields.size(), 3u);
  EXPECT_EQ(frame.frame.fields[0].name, "session_id");
  EXPECT_EQ(std::get<StringValue>(frame.frame.fields[0].value).bytes, "s-1");
  EXPECT_EQ(frame.frame.fields[1].name, "attempt");
  EXPECT_EQ(std::get<int64_t>(frame.frame.fields[1].value), -3);
  EXPECT_EQ(frame.frame.fields[2].name, "parent");
  EXPECT_EQ(frame.frame.fields[2].type, shm::FieldType::kNull);
  EXPECT_TRUE(std::holds_alternative<NullValue>(frame.frame.fields[2].value));
}

TEST(FrameDecoder, SpanPushDecodesIdsAsHex) {
  const std::vector<std::byte> record =
      FrameBuilder(shm::kFramePushId, shm::FrameKind::kSpan, 0)
          .span_ids(0x4bf92f3577b34da6ULL, 0xa3ce929d0e0e4736ULL, 0x00f067aa0ba902b7ULL, 0, "process_query")
          .int_field("query_id", 7)
          .build();
  DecodedFrame frame;
  ASSERT_TRUE(decode(record, frame).ok());
  EXPECT_EQ(frame.frame.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(frame.frame.span_id, "00f067aa0ba902b7");
  EXPECT_EQ(frame.frame.parent_span_id, "") << "0 is a root span";
  EXPECT_EQ(frame.frame.span_name, "process_query");
  EXPECT_EQ(frame.frame.trace_flags, 1);
  ASSERT_EQ(frame.frame.fields.size(), 1u);
}

TEST(FrameDecoder, PopDecodesItsOutcome) {
  const std::vector<std::byte> record =
      FrameBuilder(shm::kFramePopId, shm::FrameKind::kSpan, 1).string_field("status", "ERROR").build();
  DecodedFrame frame;
  ASSERT_TRUE(decode(record, frame).ok());
  EXPECT_FALSE(frame.push);
  EXPECT_EQ(frame.frame.depth, 1u);
  ASSERT_EQ(frame.frame.fields.size(), 1u);
  EXPECT_EQ(std::get<StringValue>(frame.frame.fields[0].value).bytes, "ERROR");
}

TEST(FrameDecoder, EveryCorruptionIsNamed) {
  const std::vector<std::byte> good = FrameBuilder(shm::kFramePushId, shm::FrameKind::kContext, 0)
                                          .string_field("session_id", "s-1")
                                          .int_field("n", 1)
                                          .build();
  struct Mutation {
    const char* what;
    std::function<void(std::vector<std::byte>&)> apply;
    const char* reason;
  };
  auto at = [](std::vector<std::byte>& r, size_t offset, auto value) {
    std::memcpy(r.data() + offset, &value, sizeof(value));
  };
  const size_t first_field = sizeof(shm::FrameHeader);
  const std::vector<Mutation> mutations = {
      {"flags", [&](auto& r) { at(r, offsetof(shm::FrameHeader, flags), uint8_t{0x80}); }, "unknown bits"},
      {"kind", [&](auto& r) { at(r, offsetof(shm::FrameHeader, kind), uint8_t{9}); }, "kind 9 is unknown"},
      {"depth", [&](auto& r) { at(r, offsetof(shm::FrameHeader, depth), uint16_t{32}); }, "depth 32"},
      {"field count", [&](auto& r) { at(r, offsetof(shm::FrameHeader, field_count), uint32_t{33}); }, "33 fields"},
      {"one field too many", [&](auto& r) { at(r, offsetof(shm::FrameHeader, field_count), uint32_t{3}); },
       "past the end"},
      {"one field too few", [&](auto& r) { at(r, offsetof(shm::FrameHeader, field_count), uint32_t{1}); },
       "contents end at byte"},
      {"field type", [&](auto& r) { at(r, first_field, uint8_t{0}); }, "unknown type code 0"},
      {"field type past the last", [&](auto& r) { at(r, first_field, uint8_t{shm::kMaxFieldType + 1}); },
       "unknown type code 16"},
      {"reserved", [&](auto& r) { at(r, first_field + 1, uint8_t{1}); }, "nonzero reserved"},
      {"key length", [&](auto& r) { at(r, first_field + 2, uint16_t{65}); }, "longer than 64"},
      {"key past the end", [&](auto& r) { at(r, first_field + 2, uint16_t{64}); }, "past the end"},
      {"key padding", [&](auto& r) { at(r, first_field + 8 + 10, uint8_t{'x'}); }, "padding"},
      {"string length", [&](auto& r) { at(r, first_field + 8 + 16, uint32_t{5000}); }, "string"},
  };
  for (const Mutation& m : mutations) {
    SCOPED_TRACE(m.what);
    std::vector<std::byte> record = good;
    m.apply(record);
    DecodedFrame frame;
    const absl::Status status = decode(record, frame);
    ASSERT_FALSE(status.ok());
    EXPECT_NE(std::string(status.message()).find(m.reason), std::string::npos) << status.message();
  }
  // Too short for a header, and a span push too short for its ids.
  DecodedFrame frame;
  EXPECT_FALSE(decode_frame(good.data(), 24, 4096, frame).ok());
  const std::vector<std::byte> span = FrameBuilder(shm::kFramePushId, shm::FrameKind::kSpan, 0).build();
  EXPECT_NE(std::string(decode(span, frame).message()).find("no room for its ids"), std::string::npos);
}

// A corruption's reason (it reaches a "ringtail.ring_corrupt" note and the
// report) names places, sizes and type codes, never bytes of the record: a
// bad value's word may be a secret's bytes, and a key read from a corrupt
// record may be any bytes at all.
TEST(FrameDecoder, Malicious_ReasonsHoldNoRecordBytes) {
  // "SECRET!!" as a little-endian word: 0x2121544552434553.
  const uint64_t word = 0x2121544552434553ULL;
  for (const shm::FieldType type : {shm::FieldType::kBool, shm::FieldType::kI8, shm::FieldType::kU16,
                                    shm::FieldType::kF32, shm::FieldType::kNull}) {
    SCOPED_TRACE(static_cast<int>(type));
    const std::vector<std::byte> record = FrameBuilder(shm::kFramePushId, shm::FrameKind::kContext, 0)
                                              .field("SECRET-KEY-BYTES", type, &word, sizeof(word))
                                              .build();
    DecodedFrame frame;
    const absl::Status status = decode(record, frame);
    ASSERT_FALSE(status.ok());
    const std::string reason(status.message());
    EXPECT_NE(reason.find("frame field 0"), std::string::npos) << reason;
    EXPECT_NE(reason.find("the word at byte"), std::string::npos) << reason;
    EXPECT_EQ(reason.find("SECRET"), std::string::npos) << reason;
    EXPECT_EQ(reason.find("2121544552434553"), std::string::npos) << reason;
    EXPECT_EQ(reason.find("52434553"), std::string::npos) << reason;  // nor its low half (a float's bits)
  }
}

}  // namespace
}  // namespace ringtail::reader
