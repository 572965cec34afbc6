// The store's index counted from the lines' shapes as the drain writes them
// (StoreSink, file_index.hpp) is the index of the data: a real producer logs
// every kind of line (events with context, spans, cut strings, keys that need
// escapes or underscores, errors, drops, a crash), a real drain stores it, and
// each index the sink hands on equals the one built by parsing the file.
// Files whose lines the sink did not all count are handed on without one.
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

#include "every_kind_of_line.hpp"
#include "producer_child.hpp"
#include "ringtail/reader/drain/drain_engine.hpp"
#include "ringtail/reader/sinks/store_sink.hpp"
#include "ringtail/reader/storage/file_index.hpp"
#include "ringtail/ringtail.hpp"
#include "shaped_text.hpp"

namespace ringtail::reader {
namespace {

using ringtail::test::ProducerChild;

struct Closed {
  std::string path;
  std::optional<FileIndex> index;
};

class CountedIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("ringtail-counted-index-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  StoreSinkOptions options() {
    StoreSinkOptions o;
    o.directory = dir_.string();
    o.on_closed = [this](const std::string& path, std::optional<FileIndex> index) {
      closed_.push_back(Closed{path, std::move(index)});
    };
    return o;
  }

  std::filesystem::path dir_;
  std::vector<Closed> closed_;
};

TEST_F(CountedIndexTest, EqualsTheIndexOfTheDataForEveryKindOfLine) {
  ProducerChild child = testing::start_every_kind_of_line();
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 128 + SIGKILL);
  {
    StoreSink sink(options());
    DrainOptions drain;
    drain.discovery.pids = {child.pid()};
    DrainEngine engine(drain, sink, nullptr);
    ASSERT_TRUE(engine.drain_once().ok());
  }
  // debug, info, warn and error classes: one file each.
  ASSERT_EQ(closed_.size(), 4u);
  uint64_t lines = 0;
  for (const Closed& file : closed_) {
    SCOPED_TRACE(file.path);
    ASSERT_TRUE(file.index.has_value()) << "every line was counted";
    absl::StatusOr<FileIndex> parsed = build_index(file.path);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*file.index, *parsed);
    EXPECT_EQ(parsed->bad_lines, 0u);
    lines += parsed->lines;
  }
  EXPECT_GT(lines, 10u);
  bool dropped = false, crashed = false, span_end = false, escaped_key = false;
  for (const Closed& file : closed_) {
    dropped = dropped || file.index->messages.contains("ringtail.dropped");
    crashed = crashed || file.index->messages.contains("ringtail.crashed");
    span_end = span_end || file.index->messages.contains("span.end");
    escaped_key = escaped_key || file.index->keys.contains("key\"with\tescapes");
  }
  EXPECT_TRUE(dropped && crashed && span_end && escaped_key) << "the producer logged every kind of line";
}

TEST_F(CountedIndexTest, LinesTakenBackLeaveTheIndexToTheData) {
  SegmentIdentity id;
  id.pid = 5;
  id.process_start_ticks = 1;
  id.service = "svc";
  auto line = [](int second, std::string_view message, uint32_t pid) {
    return absl::StrCat(R"({"timestamp":"2026-11-30T10:00:0)", second, R"(.000000000Z","level":"INFO","message":")",
                        std::string(message), R"(","service":"svc","pid":)", pid, "}\n");
  };
  const std::string first = line(0, "kept", 5);
  const std::string second = line(1, "taken back", 5);
  {
    StoreSink sink(options());
    ASSERT_TRUE(sink.write(testing::batch_of(id, first)).ok());
    ASSERT_TRUE(sink.flush().ok());
    ASSERT_TRUE(sink.write(testing::batch_of(id, second)).ok());
    sink.discard();  // the second line is taken back: the counts no longer describe the file
  }
  ASSERT_EQ(closed_.size(), 1u);
  EXPECT_FALSE(closed_[0].index.has_value());

  // Flushed and closed with nothing taken back: counted.
  closed_.clear();
  id.pid = 6;
  {
    StoreSink sink(options());
    ASSERT_TRUE(sink.write(testing::batch_of(id, line(0, "kept", 6) + line(1, "taken back", 6))).ok());
    ASSERT_TRUE(sink.flush().ok());
  }
  ASSERT_EQ(closed_.size(), 1u);
  ASSERT_TRUE(closed_[0].index.has_value());
  absl::StatusOr<FileIndex> parsed = build_index(closed_[0].path);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*closed_[0].index, *parsed);
  EXPECT_EQ(closed_[0].index->messages.at("taken back"), 1u);
}

}  // namespace
}  // namespace ringtail::reader
