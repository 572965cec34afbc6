// ReorderBuffer on its own: the merge rule of reorder_buffer.hpp, line by line.
#include "ringtail/reader/drain/reorder_buffer.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace ringtail::reader {
namespace {

constexpr int64_t kWindow = 100;

ReorderBuffer make(uint32_t lanes, uint64_t max_lines = 1000, uint64_t max_bytes = 1 << 20) {
  return ReorderBuffer(lanes, ReorderBuffer::Limits{kWindow, max_lines, max_bytes});
}

// Appends line "<text>\n" with key `key` to `lines`; returns its size. Its
// shape has the key as its time and one field whose key and value are the
// text, so that text_of() can tell the shapes followed their lines.
uint32_t append_line(ShapedLines& lines, int64_t key, const std::string& text) {
  LineShape shape;
  shape.offset = lines.text.size();
  shape.size = static_cast<uint32_t>(text.size() + 1);
  shape.time_ns = key;
  shape.first_field = static_cast<uint32_t>(lines.fields.size());
  shape.field_count = 1;
  const auto size = static_cast<uint32_t>(text.size());
  lines.fields.push_back(FieldSpan{0, size, 0, size});
  lines.text += text;
  lines.text += '\n';
  lines.lines.push_back(shape);
  return shape.size;
}

// Pushes that line into `lane`; end_pos = key * 8.
void push(ReorderBuffer& buffer, uint32_t lane, int64_t key, const std::string& text,
          ReorderBuffer::Kind kind = ReorderBuffer::Kind::kEvent) {
  append_line(buffer.lane_lines(lane), key, text);
  buffer.push(lane, key, static_cast<uint64_t>(key) * 8, kind);
}

// The released text, once each shape is checked against its line.
std::string text_of(const ShapedLines& out) {
  uint64_t offset = 0;
  for (const LineShape& shape : out.lines) {
    EXPECT_EQ(shape.offset, offset);
    offset += shape.size;
    const std::string_view line = out.line(shape);
    EXPECT_EQ(shape.field_count, 1u);
    if (shape.field_count == 1) {
      const FieldSpan& field = out.fields[shape.first_field];
      EXPECT_EQ(out.key(shape, field), line.substr(0, line.size() - 1));
      EXPECT_EQ(out.value(shape, field), line.substr(0, line.size() - 1));
    }
  }
  EXPECT_EQ(offset, out.text.size());
  EXPECT_EQ(out.fields.size(), out.lines.size());
  return out.text;
}

TEST(ReorderBuffer, MergesLanesByKey) {
  ReorderBuffer buffer = make(3);
  buffer.begin_pass(0);
  push(buffer, 0, 10, "a10");
  push(buffer, 0, 40, "a40");
  push(buffer, 1, 20, "b20");
  push(buffer, 1, 30, "b30");
  push(buffer, 2, 15, "n15", ReorderBuffer::Kind::kNote);
  ShapedLines out;
  const ReorderBuffer::Released r = buffer.release(INT64_MIN, /*flush_all=*/true, 0, out);
  EXPECT_EQ(text_of(out), "a10\nn15\nb20\nb30\na40\n");
  EXPECT_EQ(r.lines, 5u);
  EXPECT_EQ(r.events, 4u);
  EXPECT_EQ(r.notes, 1u);
  EXPECT_EQ(r.bytes, out.text.size());
  EXPECT_EQ(r.late, 0u);
  EXPECT_TRUE(buffer.empty());
}

TEST(ReorderBuffer, KeepsLaneOrderWhenTimestampsGoBackwards) {
  ReorderBuffer buffer = make(2);
  buffer.begin_pass(0);
  push(buffer, 0, 50, "a50");
  push(buffer, 0, 10, "a10");  // this thread's clock went backwards
  push(buffer, 1, 30, "b30");
  ShapedLines out;
  const ReorderBuffer::Released r = buffer.release(INT64_MIN, true, 0, out);
  // a10 never overtakes a50; it is late (below the 50 already written).
  EXPECT_EQ(text_of(out), "b30\na50\na10\n");
  EXPECT_EQ(r.late, 1u);
}

TEST(ReorderBuffer, HoldsLinesAboveTheWatermark) {
  ReorderBuffer buffer = make(2);
  buffer.begin_pass(0);
  push(buffer, 0, 100, "a100");
  push(buffer, 1, 150, "b150");
  push(buffer, 0, 200, "a200");
  ShapedLines out;
  buffer.release(/*watermark=*/150, false, 0, out);
  EXPECT_EQ(text_of(out), "a100\nb150\n");
  EXPECT_EQ(buffer.held_lines(), 1u);
  EXPECT_EQ(buffer.released_end_pos(0), 800u);  // a100's end: a200 is still held
  EXPECT_EQ(buffer.released_end_pos(1), 1200u);
  EXPECT_FALSE(buffer.lane_empty(0));
  EXPECT_TRUE(buffer.lane_empty(1));

  // A line below what was written arrives later: out at once, counted late.
  buffer.begin_pass(10);
  push(buffer, 1, 120, "b120");
  out.clear();
  const ReorderBuffer::Released r = buffer.release(150, false, 10, out);
  EXPECT_EQ(text_of(out), "b120\n");
  EXPECT_EQ(r.late, 1u);
}

TEST(ReorderBuffer, AgeRuleWritesLinesHeldForTheWindow) {
  ReorderBuffer buffer = make(1);
  buffer.begin_pass(1000);
  push(buffer, 0, 5000, "future");  // far above any watermark
  ShapedLines out;
  buffer.release(0, false, 1000 + kWindow - 1, out);
  EXPECT_TRUE(out.text.empty());
  buffer.release(0, false, 1000 + kWindow, out);
  EXPECT_EQ(text_of(out), "future\n");
}

TEST(ReorderBuffer, LimitsWriteTheOldestEarly) {
  ReorderBuffer buffer = make(2, /*max_lines=*/3);
  buffer.begin_pass(0);
  for (int64_t k = 0; k < 5; ++k) {
    std::string text(1, 'l');
    text += std::to_string(k);
    push(buffer, static_cast<uint32_t>(k % 2), 1000 + k, text);
  }
  ShapedLines out;
  const ReorderBuffer::Released r = buffer.release(0, false, 0, out);
  EXPECT_EQ(text_of(out), "l0\nl1\n");
  EXPECT_EQ(r.forced, 2u);
  EXPECT_EQ(buffer.held_lines(), 3u);

  ReorderBuffer by_bytes = make(1, 1000, /*max_bytes=*/10);
  by_bytes.begin_pass(0);
  for (int64_t k = 0; k < 4; ++k) push(by_bytes, 0, 1000 + k, "1234");  // 5 bytes each
  out.clear();
  by_bytes.release(0, false, 0, out);
  EXPECT_EQ(by_bytes.held_bytes(), 10u);
  EXPECT_EQ(text_of(out), "1234\n1234\n");
}

TEST(ReorderBuffer, OutLimitStopsAndResumes) {
  ReorderBuffer buffer = make(1);
  buffer.begin_pass(0);
  for (int k = 0; k < 10; ++k) push(buffer, 0, k, "x");
  ShapedLines out;
  buffer.release(INT64_MAX, false, 0, out, /*out_limit=*/4);
  EXPECT_EQ(text_of(out), "x\nx\n");
  buffer.release(INT64_MAX, false, 0, out);
  EXPECT_EQ(text_of(out).size(), 20u);
}

// Writes line "<text>\n" with key `key` straight into `out` when the buffer
// allows it (as the drain does below its watermark), else pushes it into
// `lane`; tells which.
bool write_or_push(ReorderBuffer& buffer, ShapedLines& out, uint32_t lane, int64_t key, const std::string& text) {
  if (!buffer.can_write_through(lane, key)) {
    push(buffer, lane, key, text);
    return false;
  }
  const uint32_t size = append_line(out, key, text);
  buffer.wrote_through(lane, key, static_cast<uint64_t>(key) * 8, ReorderBuffer::Kind::kEvent,
                       static_cast<uint64_t>(key) + 1, size);
  return true;
}

TEST(ReorderBuffer, WriteThroughOnlyForTheNextLineInMergeOrder) {
  ReorderBuffer buffer = make(3);
  buffer.begin_pass(0);
  ShapedLines out;
  // Nothing held: the first line may go straight out.
  EXPECT_TRUE(write_or_push(buffer, out, 0, 10, "a10"));
  // Lane 1 holds b30: a line of lane 0 before it goes through, one after it does not.
  push(buffer, 1, 30, "b30");
  EXPECT_TRUE(write_or_push(buffer, out, 0, 20, "a20"));
  EXPECT_FALSE(write_or_push(buffer, out, 0, 40, "a40"));
  // Lane 0 now holds a line: its later lines wait behind it (lane order), even below b30.
  EXPECT_FALSE(write_or_push(buffer, out, 0, 25, "a25"));
  // Equal keys: the lower lane comes first.
  push(buffer, 2, 5, "n5", ReorderBuffer::Kind::kNote);
  EXPECT_FALSE(buffer.can_write_through(1, 5));
  // A line below one already written would be late: it takes the merge's way.
  EXPECT_FALSE(buffer.can_write_through(1, 15));

  const ReorderBuffer::Released r = buffer.release(INT64_MIN, true, 0, out);
  EXPECT_EQ(text_of(out), "a10\na20\nn5\nb30\na40\na25\n");
  // The lines written through are in the counts of the release that follows them.
  EXPECT_EQ(r.lines, 6u);
  EXPECT_EQ(r.events, 5u);
  EXPECT_EQ(r.bytes, out.text.size());
  EXPECT_EQ(r.late, 1u);  // a25, after a40 (n5 also comes after a higher key, but notes are not counted)
  EXPECT_TRUE(buffer.empty());
}

TEST(ReorderBuffer, WriteThroughMovesTheLanesCommitPoint) {
  ReorderBuffer buffer = make(2);
  buffer.begin_pass(0);
  ShapedLines out;
  ASSERT_TRUE(write_or_push(buffer, out, 0, 10, "a10"));
  EXPECT_EQ(buffer.released_end_pos(0), 80u);
  EXPECT_EQ(buffer.released_next_seq(0), 11u);
  EXPECT_TRUE(buffer.lane_empty(0));
  // A held line after it: the commit point stays at the line written through.
  push(buffer, 1, 15, "b15");
  ASSERT_FALSE(write_or_push(buffer, out, 0, 20, "a20"));
  EXPECT_EQ(buffer.released_end_pos(0), 80u);
  // Counted once: by the next release, not again by the one after.
  ReorderBuffer::Released r = buffer.release(/*watermark=*/15, false, 0, out);
  EXPECT_EQ(r.lines, 2u);  // a10 (through) and b15
  r = buffer.release(15, false, 0, out);
  EXPECT_EQ(r.lines, 0u);
  EXPECT_EQ(text_of(out), "a10\nb15\n");
}

TEST(ReorderBuffer, ManyLinesThroughCompaction) {
  // Lines pushed and released in waves, so lanes compact while holding some.
  ReorderBuffer buffer = make(2, 1 << 20);
  ShapedLines out;
  int64_t next = 0;
  int64_t expected = 0;
  std::string expected_out;
  for (int wave = 0; wave < 50; ++wave) {
    buffer.begin_pass(wave);
    for (int k = 0; k < 1000; ++k, ++next) push(buffer, static_cast<uint32_t>(next % 2), next, std::to_string(next));
    buffer.release(next - 300, false, wave, out);
  }
  buffer.release(0, true, 0, out);
  for (; expected < next; ++expected) expected_out += std::to_string(expected) + "\n";
  EXPECT_EQ(text_of(out), expected_out);
  EXPECT_TRUE(buffer.empty());
}

}  // namespace
}  // namespace ringtail::reader
