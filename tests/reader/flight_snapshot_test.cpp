// Snapshots (reader/snapshot/process_snapshot.hpp, `ringtail snapshot`) of
// flight-mode producers: the current window as drain's lines, taken without a
// lease and without moving read_pos, of a live process (also while it keeps
// writing) and of a crashed one.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "producer_child.hpp"
#include "ringtail/reader/ingest/segment_view.hpp"
#include "ringtail/reader/snapshot/process_snapshot.hpp"
#include "ringtail/ringtail.hpp"
#include "subprocess.hpp"

namespace ringtail::reader {
namespace {

using ringtail::kv;
using ringtail::test::ProducerChild;

Options flight_options() {
  Options options = ringtail::test::small_producer_options("rt-snapshot");
  options.ring_bytes = 16384;
  options.mode = RingMode::kFlight;
  return options;
}

class StringSink : public EventSink {
 public:
  absl::Status write(const EventBatch& batch) override {
    text.append(batch.text);
    return absl::OkStatus();
  }
  absl::Status flush() override { return absl::OkStatus(); }
  std::string text;
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(at, end - at));
    at = end + 1;
  }
  return lines;
}

bool has(std::string_view text, std::string_view needle) { return text.find(needle) != std::string_view::npos; }

// The "i" values of the "flight" event lines, in order.
std::vector<uint64_t> event_values(const std::vector<std::string>& lines) {
  std::vector<uint64_t> values;
  for (const std::string& line : lines) {
    if (!has(line, R"("message":"flight")")) continue;
    const size_t at = line.find(R"("i":)");
    if (at == std::string::npos) continue;
    values.push_back(std::stoull(line.substr(at + 4)));
  }
  return values;
}

// The window of a live flight producer, twice: the same events both times
// (nothing consumed), the last one logged at the end, the overwritten head
// counted in one ringtail.dropped line, read_pos and the lease untouched.
TEST(FlightSnapshot, CopiesTheWindowOfALiveProducerWithoutConsumingIt) {
  constexpr uint64_t kEvents = 500;
  ProducerChild child = ProducerChild::start_held(flight_options(), [] {
    for (uint64_t i = 0; i < kEvents; ++i) RINGTAIL_INFO("flight", kv("i", i), kv("pad", std::string(i % 97, 'x')));
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_TRUE(child.wait_signal());
  SnapshotOptions options;
  options.pid = child.pid();
  std::vector<std::string> reports;
  StringSink first;
  absl::StatusOr<SnapshotResult> result =
      snapshot_process(options, first, [&](std::string_view line) { reports.emplace_back(line); });
  ASSERT_TRUE(result.ok()) << result.status();
  const std::vector<uint64_t> values = event_values(lines_of(first.text));
  ASSERT_FALSE(values.empty());
  EXPECT_EQ(values.back(), kEvents - 1);
  for (size_t k = 1; k < values.size(); ++k) EXPECT_EQ(values[k], values[k - 1] + 1);
  EXPECT_EQ(result->events, values.size());
  EXPECT_EQ(result->dropped, values.front());
  EXPECT_EQ(result->overwritten, values.front()) << "every missing event was overwritten, none dropped";
  EXPECT_EQ(result->segments, 1u);
  EXPECT_TRUE(has(first.text, absl::StrCat(R"("message":"ringtail.dropped")")));
  EXPECT_TRUE(
      has(first.text, absl::StrCat(R"("first_seq":0,"last_seq":)", values.front() - 1, R"(,"cause":"overwritten"})")));

  StringSink second;
  ASSERT_TRUE(snapshot_process(options, second, [](std::string_view) {}).ok());
  EXPECT_EQ(event_values(lines_of(second.text)), values);

  absl::StatusOr<SegmentView> view = SegmentView::open(child.segment_name(), SegmentView::Access::kReadOnly);
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ((*view->slot(0))->read_pos.load(), 0u);
  EXPECT_EQ(view->reader_lease_word()->load(), 0u);
  ASSERT_TRUE(child.resume());
  ASSERT_EQ(child.join(), 0);
}

TEST(FlightSnapshot, AProcessWithoutASegmentIsNotFound) {
  SnapshotOptions options;
  options.pid = ::getpid();  // the test itself never inits a producer
  StringSink sink;
  const absl::StatusOr<SnapshotResult> result = snapshot_process(options, sink, [](std::string_view) {});
  EXPECT_EQ(result.status().code(), absl::StatusCode::kNotFound) << result.status();
  EXPECT_TRUE(sink.text.empty());
}

// The CLI: --help, a crashed producer's window to a file (whole, mode 0600),
// and clear errors.
TEST(FlightSnapshot, CliWritesACrashedProcessWindowToAFile) {
  ASSERT_TRUE(ringtail::test::tool_built("ringtail"));
  const ringtail::test::Result help = ringtail::test::run({"snapshot", "--help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_TRUE(has(help.out, "flight-recorder")) << help.out;
  EXPECT_TRUE(has(help.out, "Exit status")) << help.out;

  ProducerChild child = ProducerChild::start(flight_options(), [](ProducerChild::Link&) {
    for (uint64_t i = 0; i < 400; ++i) RINGTAIL_INFO("flight", kv("i", i));
    ::kill(::getpid(), SIGKILL);
    return 0;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 128 + SIGKILL);
  const std::string out = ::testing::TempDir() + "flight-snapshot-" + std::to_string(::getpid()) + ".jsonl";
  const ringtail::test::Result r = ringtail::test::run({"snapshot", std::to_string(child.pid()), "--out", out});
  ASSERT_EQ(r.code, 0) << r.err;
  std::ifstream file(out);
  const std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  const std::vector<uint64_t> values = event_values(lines_of(text));
  ASSERT_FALSE(values.empty()) << text;
  EXPECT_EQ(values.back(), 399u);
  EXPECT_TRUE(has(text, R"("message":"ringtail.crashed")")) << text;
  EXPECT_TRUE(has(r.err, absl::StrCat(values.size(), " events"))) << r.err;
  struct stat st = {};
  ASSERT_EQ(::stat(out.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ::unlink(out.c_str());

  const ringtail::test::Result missing = ringtail::test::run({"snapshot", std::to_string(::getpid()), "--out", out});
  EXPECT_EQ(missing.code, 1);
  EXPECT_TRUE(has(missing.err, "no ringtail segment of pid")) << missing.err;
  EXPECT_NE(::access(out.c_str(), F_OK), 0);  // nothing left behind
  EXPECT_EQ(ringtail::test::run({"snapshot", "--out", out}).code, 2);
}

}  // namespace
}  // namespace ringtail::reader
