// The storage layout (names, level classes) and StoreSink: one file per
// process and level class, rotation by size, age and date, closed names with
// the first and last line's stamps, discard, adopting a file a killed drain
// left open, closing orphans, links never adopted or entered, and the time a
// closed file carries.
#include "ringtail/reader/sinks/store_sink.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "fork_child.hpp"
#include "ringtail/reader/output/json_text.hpp"
#include "ringtail/reader/storage/store_checkpoint.hpp"
#include "ringtail/reader/storage/store_files.hpp"
#include "ringtail/reader/storage/store_names.hpp"
#include "shaped_text.hpp"

namespace ringtail::reader {
namespace {

constexpr int64_t kNs = 1'000'000'000;
// 2026-11-30T10:00:00Z
constexpr int64_t kMorning = int64_t{1796032800} * kNs;

// A line the way ringtail writes it: timestamp, level, then anything.
std::string line(int64_t ns, std::string_view level, int n) {
  TimestampFormatter formatter;
  std::string out = R"({"timestamp":)";
  formatter.append(out, ns);
  out += R"(,"level":")";
  out += level;
  out += R"(","message":"m","n":)" + std::to_string(n) + "}\n";
  return out;
}

std::string read(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

class StoreSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("ringtail-store-sink-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override {
    std::filesystem::remove_all(dir_);
    std::filesystem::remove_all(outside());
  }
  // Beside dir_, not in it: where planted links point.
  std::filesystem::path outside() const { return dir_.string() + "-outside"; }

  StoreSinkOptions options() {
    StoreSinkOptions o;
    o.directory = dir_.string();
    o.now_ns = [this] { return now_; };
    o.on_closed = [this](const std::string& path, std::optional<FileIndex> /*index*/) { closed_.push_back(path); };
    return o;
  }
  static SegmentIdentity identity(uint32_t pid, std::string service, uint64_t start = 1) {
    SegmentIdentity id;
    id.pid = pid;
    id.process_start_ticks = start;
    id.service = std::move(service);
    return id;
  }
  // Every regular file under dir_ but the checkpoints, by file name.
  std::map<std::string, std::string> files() const {
    std::map<std::string, std::string> out;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_)) {
      if (entry.path().parent_path().filename() == kCheckpointDirectory) continue;
      if (entry.is_regular_file()) out[entry.path().filename().string()] = entry.path().string();
    }
    return out;
  }

  std::filesystem::path dir_;
  int64_t now_ = kMorning;
  std::vector<std::string> closed_;
};

TEST(StorageLayout, NamesRoundTrip) {
  StoredFileName name;
  name.service = "my-svc";
  name.pid = 4242;
  name.level_class = LevelClass::kWarn;
  name.first = "20261130T100000.000000001Z";
  name.last = "20261130T105959.999999999Z";
  for (auto kind : {StoredFileName::Kind::kClosed, StoredFileName::Kind::kCompressed, StoredFileName::Kind::kIndex}) {
    name.kind = kind;
    const std::optional<StoredFileName> parsed = parse_stored_file_name(name.file_name());
    ASSERT_TRUE(parsed.has_value()) << name.file_name();
    EXPECT_EQ(parsed->kind, kind);
    EXPECT_EQ(parsed->service, "my-svc");
    EXPECT_EQ(parsed->pid, 4242u);
    EXPECT_EQ(parsed->level_class, LevelClass::kWarn);
    EXPECT_EQ(parsed->first, name.first);
    EXPECT_EQ(parsed->last, name.last);
    EXPECT_EQ(parsed->base_name(), "my-svc-4242-warn-20261130T100000.000000001Z-20261130T105959.999999999Z");
  }
  name.kind = StoredFileName::Kind::kOpen;
  EXPECT_EQ(name.file_name(), "my-svc-4242-warn-20261130T100000.000000001Z-open.jsonl");
  const std::optional<StoredFileName> open = parse_stored_file_name(name.file_name());
  ASSERT_TRUE(open.has_value());
  EXPECT_EQ(open->kind, StoredFileName::Kind::kOpen);
  EXPECT_EQ(open->first, name.first);
  EXPECT_TRUE(open->last.empty());
  for (const char* foreign :
       {"notes.txt", "svc-1.jsonl", "svc-x-info-20261130T100000.000000001Z-open.jsonl",
        "svc-1-loud-20261130T100000.000000001Z-open.jsonl", "-1-info-20261130T100000.000000001Z-open.jsonl",
        "svc-1-info-2026113T100000.000000001Z-open.jsonl"}) {
    EXPECT_FALSE(parse_stored_file_name(foreign).has_value()) << foreign;
  }
  EXPECT_EQ(name_stamp_from_timestamp("2026-11-30T15:45:00.123456789Z"), "20261130T154500.123456789Z");
  EXPECT_EQ(timestamp_from_name_stamp("20261130T154500.123456789Z"), "2026-11-30T15:45:00.123456789Z");
  EXPECT_EQ(name_stamp_from_ns(kMorning + 5), "20261130T100000.000000005Z");
  EXPECT_EQ(name_stamp_from_timestamp("2026-11-30 15:45:00.123456789Z"), "");
}

TEST(StorageLayout, LevelClassOfLines) {
  EXPECT_EQ(level_class_of_line(line(kMorning, "TRACE", 1)), LevelClass::kDebug);
  EXPECT_EQ(level_class_of_line(line(kMorning, "DEBUG", 1)), LevelClass::kDebug);
  EXPECT_EQ(level_class_of_line(line(kMorning, "INFO", 1)), LevelClass::kInfo);
  EXPECT_EQ(level_class_of_line(line(kMorning, "WARN", 1)), LevelClass::kWarn);
  EXPECT_EQ(level_class_of_line(line(kMorning, "ERROR", 1)), LevelClass::kError);
  EXPECT_EQ(level_class_of_line(line(kMorning, "CRITICAL", 1)), LevelClass::kError);
  EXPECT_EQ(level_class_of_line(line(kMorning, "OFF", 1)), LevelClass::kInfo);
  EXPECT_EQ(level_class_of_line(R"({"level":"ERROR"})"), LevelClass::kInfo);  // not ringtail's shape
  EXPECT_EQ(level_class_of_line(""), LevelClass::kInfo);
  EXPECT_EQ(line_timestamp(line(kMorning, "INFO", 1)), "2026-11-30T10:00:00.000000000Z");
  EXPECT_EQ(safe_service_name("../../etc/passwd"), "_._.__etc_passwd");
  EXPECT_EQ(safe_service_name(""), "unknown");
}

TEST_F(StoreSinkTest, LinesGoToTheirClassFilesInOrder) {
  StoreSink sink(options());
  const SegmentIdentity id = identity(42, "svc/x");
  std::map<LevelClass, std::string> want;
  std::string chunk;
  const char* levels[] = {"INFO", "INFO", "WARN", "DEBUG", "INFO", "ERROR", "CRITICAL", "TRACE", "INFO"};
  for (int i = 0; i < 9; ++i) {
    const std::string l = line(kMorning + i * kNs, levels[i], i);
    chunk += l;
    want[level_class_of(levels[i])] += l;
  }
  ASSERT_TRUE(sink.write(testing::batch_of(id, chunk)).ok());
  EXPECT_EQ(sink.open_files(), 4u);
  ASSERT_TRUE(sink.flush().ok());
  std::map<std::string, std::string> found = files();
  ASSERT_EQ(found.size(), 4u);
  for (const auto& [name, path] : found) {
    const std::optional<StoredFileName> parsed = parse_stored_file_name(name);
    ASSERT_TRUE(parsed.has_value()) << name;
    EXPECT_EQ(parsed->kind, StoredFileName::Kind::kOpen);
    EXPECT_EQ(parsed->service, "svc_x");
    EXPECT_EQ(parsed->pid, 42u);
    EXPECT_EQ(parsed->first, "20261130T100000.000000000Z");  // when the sink opened it
    EXPECT_EQ(read(path), want[parsed->level_class]) << name;
    EXPECT_EQ(std::filesystem::path(path).parent_path().filename(), "2026-11-30");
    EXPECT_EQ(std::filesystem::path(path).parent_path().parent_path().filename(), "svc_x");
  }
  sink.segment_finished(id);
  EXPECT_EQ(sink.open_files(), 0u);
  ASSERT_EQ(closed_.size(), 4u);
  found = files();
  for (const auto& [name, path] : found) {
    const std::optional<StoredFileName> parsed = parse_stored_file_name(name);
    ASSERT_TRUE(parsed.has_value()) << name;
    EXPECT_EQ(parsed->kind, StoredFileName::Kind::kClosed);
    EXPECT_EQ(read(path), want[parsed->level_class]);
    EXPECT_NE(std::find(closed_.begin(), closed_.end(), path), closed_.end());
  }
  // The info file: first line at +0 s, last at +8 s.
  const std::string info = "svc_x-42-info-20261130T100000.000000000Z-20261130T100008.000000000Z.jsonl";
  EXPECT_EQ(found.count(info), 1u) << info;
}

TEST_F(StoreSinkTest, RotatesBySizeAgeAndDate) {
  StoreSinkOptions o = options();
  o.max_file_bytes = 1000;
  o.max_file_age = std::chrono::seconds(600);
  StoreSink sink(o);
  const SegmentIdentity id = identity(7, "svc");
  std::string all;
  int n = 0;
  auto write_lines = [&](int count) {
    for (int i = 0; i < count; ++i, ++n) {
      const std::string l = line(now_ + n, "INFO", n);  // distinct stamps: no two files share a name
      all += l;
      ASSERT_TRUE(sink.write(testing::batch_of(id, l)).ok());
    }
    ASSERT_TRUE(sink.flush().ok());
  };
  // Size: lines of 81+ bytes, 13 per flush: every flush passes 1000 bytes.
  for (int pass = 0; pass < 3; ++pass) write_lines(13);
  EXPECT_EQ(closed_.size(), 3u);
  // Age: a small file rotates once it is 600 s old.
  write_lines(1);
  EXPECT_EQ(closed_.size(), 3u);
  now_ += 599 * kNs;
  write_lines(1);
  EXPECT_EQ(closed_.size(), 3u);
  now_ += 1 * kNs;
  write_lines(1);
  EXPECT_EQ(closed_.size(), 4u);
  // Date: a file opened before midnight UTC closes at the first flush after it.
  now_ = kMorning + 14 * 3600 * kNs - kNs;  // 23:59:59
  write_lines(1);
  EXPECT_EQ(closed_.size(), 4u);
  now_ += kNs;
  write_lines(1);
  EXPECT_EQ(closed_.size(), 5u);
  write_lines(1);  // opens a file in the new date's directory
  EXPECT_EQ(sink.open_paths().size(), 1u);
  EXPECT_NE(sink.open_paths()[0].find("/2026-12-01/"), std::string::npos) << sink.open_paths()[0];

  // Every line once, in order, across the closed files and the open one.
  std::vector<std::string> paths = closed_;
  paths.push_back(sink.open_paths()[0]);
  std::string joined;
  for (const std::string& path : paths) joined += read(path);
  EXPECT_EQ(joined, all);
  for (const std::string& path : closed_) {
    const std::optional<StoredFileName> parsed =
        parse_stored_file_name(std::filesystem::path(path).filename().string());
    ASSERT_TRUE(parsed.has_value());
    const std::string text = read(path);
    EXPECT_EQ(timestamp_from_name_stamp(parsed->first), line_timestamp(text));
    EXPECT_EQ(timestamp_from_name_stamp(parsed->last),
              line_timestamp(text.substr(text.rfind('\n', text.size() - 2) + 1)));
  }
}

// Size rotation within a pass: however much one pass writes, no file holds
// more than max_file_bytes plus one line. A full file stays open and listed
// in the checkpoint until the flush covers it, then it is closed; a discard
// takes back what was written since the last flush, in full files too.
TEST_F(StoreSinkTest, RotatesBySizeWithinAPass) {
  StoreSinkOptions o = options();
  o.max_file_bytes = 1000;
  o.buffer_bytes = 256;
  StoreSink sink(o);
  const SegmentIdentity id = identity(7, "svc", 5);
  std::string chunk;
  size_t longest = 0;
  for (int n = 0; n < 60; ++n) {
    const std::string l = line(now_ + n, n % 10 == 9 ? "WARN" : "INFO", n);
    longest = std::max(longest, l.size());
    chunk += l;
  }
  std::string singles;
  for (int n = 60; n < 80; ++n) singles += line(now_ + n, "INFO", n);
  ASSERT_TRUE(sink.write(testing::batch_of(id, chunk)).ok());  // one piece: ~4.6 KB of INFO lines
  for (size_t at = 0; at < singles.size();) {
    const size_t end = singles.find('\n', at) + 1;
    ASSERT_TRUE(sink.write(testing::batch_of(id, std::string_view(singles).substr(at, end - at))).ok());
    at = end;
  }
  // Nothing closed before the flush covers it; every open file is listed.
  EXPECT_TRUE(closed_.empty());
  const std::vector<std::string> open_before = sink.open_paths();
  EXPECT_GE(open_before.size(), 7u);  // ~6 INFO files and the WARN one
  absl::StatusOr<std::optional<StoreCheckpoint>> stored = read_checkpoint(dir_.string(), 7, 5);
  ASSERT_TRUE(stored.ok() && stored->has_value()) << stored.status();
  EXPECT_EQ((*stored)->files.size(), open_before.size());

  ASSERT_TRUE(sink.flush_with({SegmentCheckpoint{id, "r1"}}).ok());
  EXPECT_EQ(closed_.size() + sink.open_paths().size(), open_before.size());
  EXPECT_GE(closed_.size(), 5u);
  std::string info;
  std::string warn;
  std::vector<std::string> paths = closed_;
  for (const std::string& path : sink.open_paths()) paths.push_back(path);
  // Closed in the order they filled, then the open ones: each class's lines in order.
  for (const std::string& path : paths) {
    const std::string text = read(path);
    EXPECT_LE(text.size(), o.max_file_bytes + longest) << path;
    (path.find("-warn-") != std::string::npos ? warn : info) += text;
  }
  std::string want_info;
  std::string want_warn;
  const std::string written = chunk + singles;
  for (std::string_view rest = written; !rest.empty();) {
    const std::string_view l = rest.substr(0, rest.find('\n') + 1);
    (l.find("\"WARN\"") != std::string_view::npos ? want_warn : want_info) += l;
    rest.remove_prefix(l.size());
  }
  EXPECT_EQ(info, want_info);
  EXPECT_EQ(warn, want_warn);

  // A failed pass that filled files: all of it is taken back, and nothing
  // but flushed lines stays stored.
  const size_t closed_before = closed_.size();
  for (int n = 80; n < 110; ++n) ASSERT_TRUE(sink.write(testing::batch_of(id, line(now_ + n, "INFO", n))).ok());
  EXPECT_GT(sink.open_paths().size(), 2u);
  sink.discard();
  std::string kept;
  for (const auto& [name, path] : files()) kept += read(path);
  EXPECT_EQ(kept.size(), want_info.size() + want_warn.size());
  EXPECT_EQ(kept.find("\"n\":80}"), std::string::npos);
  // The file that was open at the flush filled up and was closed, holding
  // only what that flush covered; the new ones were emptied and removed.
  EXPECT_EQ(closed_.size(), closed_before + 1);
  for (const auto& [name, path] : files()) {
    if (name.find("-open") == std::string::npos) {
      EXPECT_GT(std::filesystem::file_size(path), 0u) << name;
    }
  }
}

TEST_F(StoreSinkTest, DiscardTakesBackWhatWasNotFlushed) {
  StoreSinkOptions o = options();
  o.buffer_bytes = 4;  // every write goes to the file at once
  StoreSink sink(o);
  const SegmentIdentity id = identity(7, "svc");
  const std::string one = line(kMorning, "INFO", 1), two = line(kMorning + kNs, "INFO", 2),
                    three = line(kMorning + 2 * kNs, "INFO", 3);
  ASSERT_TRUE(sink.write(testing::batch_of(id, one)).ok());
  ASSERT_TRUE(sink.flush().ok());
  ASSERT_TRUE(sink.write(testing::batch_of(id, two + three)).ok());
  const std::string path = sink.open_paths().at(0);
  EXPECT_EQ(read(path), one + two + three);
  sink.discard();
  EXPECT_EQ(read(path), one);
  ASSERT_TRUE(sink.write(testing::batch_of(id, two)).ok());
  ASSERT_TRUE(sink.flush().ok());
  sink.segment_finished(id);
  ASSERT_EQ(closed_.size(), 1u);
  EXPECT_EQ(read(closed_[0]), one + two);
  // The last stamp is two's, not three's (taken back).
  EXPECT_NE(closed_[0].find("-20261130T100001.000000000Z.jsonl"), std::string::npos) << closed_[0];
}

TEST_F(StoreSinkTest, AdoptsAFileAKilledDrainLeftOpenAndCutsItsTornLine) {
  const SegmentIdentity id = identity(9, "svc");
  const std::string first = line(kMorning, "INFO", 1);
  // As a killed drain leaves it: "-open", unlocked, with a torn last line.
  const std::filesystem::path day = dir_ / "svc" / "2026-11-30";
  std::filesystem::create_directories(day);
  const std::filesystem::path left = day / "svc-9-info-20261130T095000.000000000Z-open.jsonl";
  std::ofstream(left) << first << R"({"timestamp":"2026-11-30T10:00)";
  {
    // A file some other drain holds (locked) is not taken over.
    const std::filesystem::path held = day / "svc-9-info-20261130T094000.000000000Z-open.jsonl";
    std::ofstream(held) << line(kMorning, "INFO", 0);
    const int fd = ::open(held.c_str(), O_RDONLY);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::flock(fd, LOCK_EX), 0);
    StoreSink sink(options());
    ASSERT_TRUE(sink.write(testing::batch_of(id, line(kMorning + kNs, "INFO", 2))).ok());
    ASSERT_TRUE(sink.flush().ok());
    EXPECT_EQ(sink.open_paths().at(0), left.string());  // the unlocked one
    ::close(fd);
    std::filesystem::remove(held);
  }
  ASSERT_EQ(closed_.size(), 1u);  // the sink closed it when it went away
  EXPECT_EQ(read(closed_[0]), first + line(kMorning + kNs, "INFO", 2));
  EXPECT_EQ(std::filesystem::path(closed_[0]).filename(),
            "svc-9-info-20261130T100000.000000000Z-20261130T100001.000000000Z.jsonl");
}

TEST_F(StoreSinkTest, OrphansAreClosedUnlessHeld) {
  const std::filesystem::path day = dir_ / "svc" / "2026-11-30";
  std::filesystem::create_directories(day);
  const std::filesystem::path orphan = day / "svc-3-warn-20261130T095000.000000000Z-open.jsonl";
  std::ofstream(orphan) << line(kMorning, "WARN", 1) << line(kMorning + 5 * kNs, "WARN", 2) << "{\"torn";
  const std::filesystem::path empty = day / "svc-3-info-20261130T095000.000000000Z-open.jsonl";
  std::ofstream(empty) << "{\"torn only";
  const std::filesystem::path held = day / "svc-4-warn-20261130T095000.000000000Z-open.jsonl";
  std::ofstream(held) << line(kMorning, "WARN", 1);
  const int fd = ::open(held.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);

  absl::StatusOr<std::optional<std::string>> closed = close_orphan(orphan.string());
  ASSERT_TRUE(closed.ok()) << closed.status();
  ASSERT_TRUE(closed->has_value());
  EXPECT_EQ(std::filesystem::path(**closed).filename(),
            "svc-3-warn-20261130T100000.000000000Z-20261130T100005.000000000Z.jsonl");
  EXPECT_EQ(read(**closed), line(kMorning, "WARN", 1) + line(kMorning + 5 * kNs, "WARN", 2));
  absl::StatusOr<std::optional<std::string>> nothing = close_orphan(empty.string());
  ASSERT_TRUE(nothing.ok());
  EXPECT_FALSE(nothing->has_value());
  EXPECT_FALSE(std::filesystem::exists(empty));
  absl::StatusOr<std::optional<std::string>> busy = close_orphan(held.string());
  ASSERT_TRUE(busy.ok());
  EXPECT_FALSE(busy->has_value());
  EXPECT_TRUE(std::filesystem::exists(held));
  ::close(fd);
  EXPECT_FALSE(close_orphan((day / "notes.txt").string()).ok());
}

TEST_F(StoreSinkTest, ClosedNamesNeverClash) {
  StoreSink sink(options());
  const SegmentIdentity a = identity(5, "svc", 1);
  const SegmentIdentity b = identity(5, "svc", 2);  // the pid reused by another process, same second
  ASSERT_TRUE(sink.write(testing::batch_of(a, line(kMorning, "INFO", 1))).ok());
  ASSERT_TRUE(sink.flush().ok());
  sink.segment_finished(a);
  ASSERT_TRUE(sink.write(testing::batch_of(b, line(kMorning, "INFO", 2))).ok());
  ASSERT_TRUE(sink.flush().ok());
  sink.segment_finished(b);
  ASSERT_EQ(closed_.size(), 2u);
  EXPECT_NE(closed_[0], closed_[1]);
  EXPECT_EQ(read(closed_[0]), line(kMorning, "INFO", 1));
  EXPECT_EQ(read(closed_[1]), line(kMorning, "INFO", 2));
}

// A link planted where a killed drain's "-open" file of the process and
// class would be is never adopted (today's code would cut its "partial last
// line" and append to the file it points at): it is reported, and the lines
// go to a file of the sink's own. A linked directory is never entered.
TEST_F(StoreSinkTest, NeverAdoptsOrWritesThroughALink) {
  std::filesystem::remove_all(outside());
  std::filesystem::create_directories(outside());
  const std::string victim_text = "precious\n{\"torn";
  const std::filesystem::path victim = outside() / "victim";
  std::ofstream(victim) << victim_text;
  const std::filesystem::path day = dir_ / "svc" / "2026-11-30";
  std::filesystem::create_directories(day);
  const std::filesystem::path link = day / "svc-9-info-20261130T095000.000000000Z-open.jsonl";
  std::filesystem::create_symlink(victim, link);
  std::vector<std::string> reports;
  StoreSinkOptions o = options();
  o.report = [&](std::string_view report) { reports.emplace_back(report); };
  const std::string text = line(kMorning, "INFO", 1);
  {
    StoreSink sink(o);
    ASSERT_TRUE(sink.write(testing::batch_of(identity(9, "svc"), text)).ok());
    ASSERT_TRUE(sink.flush().ok());
    ASSERT_EQ(sink.open_paths().size(), 1u);
    EXPECT_NE(sink.open_paths()[0], link.string());
    // A linked service directory: the write fails, nothing lands there.
    const std::filesystem::path elsewhere = outside() / "svc2";
    std::filesystem::create_directories(elsewhere);
    std::filesystem::create_symlink(elsewhere, dir_ / "svc2");
    const absl::Status status = sink.write(testing::batch_of(identity(10, "svc2"), text));
    EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
    EXPECT_NE(status.message().find((dir_ / "svc2").string()), std::string_view::npos) << status;
    EXPECT_TRUE(std::filesystem::is_empty(elsewhere));
    sink.discard();
  }
  ASSERT_EQ(closed_.size(), 1u);
  EXPECT_FALSE(std::filesystem::is_symlink(closed_[0]));
  EXPECT_EQ(read(closed_[0]), text);
  EXPECT_EQ(read(victim.string()), victim_text);
  EXPECT_TRUE(std::filesystem::is_symlink(link));
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_NE(reports[0].find(link.string()), std::string::npos) << reports[0];
  EXPECT_NE(reports[0].find("symbolic link"), std::string::npos) << reports[0];
}

// A closed file's modification time is the sink's clock at the last flush
// that wrote to it (retention goes by it), whatever its lines say.
TEST_F(StoreSinkTest, AClosedFileCarriesTheTimeTheSinkLastWroteIt) {
  StoreSink sink(options());
  const SegmentIdentity id = identity(7, "svc");
  const std::string far = R"({"timestamp":"9999-12-31T23:59:59.999999999Z","level":"INFO","message":"m"})"
                          "\n";
  now_ = kMorning + 5 * kNs;
  ASSERT_TRUE(sink.write(testing::batch_of(id, far)).ok());
  ASSERT_TRUE(sink.flush().ok());
  now_ += 100 * kNs;
  ASSERT_TRUE(sink.flush().ok());  // nothing written: the time stays
  now_ += 100 * kNs;
  sink.segment_finished(id);
  ASSERT_EQ(closed_.size(), 1u);
  EXPECT_NE(closed_[0].find("-99991231T235959.999999999Z.jsonl"), std::string::npos) << closed_[0];
  struct stat st {};
  ASSERT_EQ(::stat(closed_[0].c_str(), &st), 0);
  EXPECT_EQ(st.st_mtim.tv_sec, (kMorning + 5 * kNs) / kNs);
  EXPECT_EQ(st.st_mtim.tv_nsec, 0);
}

TEST_F(StoreSinkTest, UnwritableDirectoryIsAnError) {
  std::filesystem::create_directories(dir_);
  std::ofstream(dir_ / "file") << "x";
  StoreSinkOptions o = options();
  o.directory = (dir_ / "file").string();
  StoreSink sink(o);
  EXPECT_FALSE(sink.write(testing::batch_of(identity(1, "svc"), line(kMorning, "INFO", 1))).ok());
}

}  // namespace
}  // namespace ringtail::reader

namespace ringtail::reader {
namespace {

// Exactly once, the store's half (store_checkpoint.hpp): a checkpoint lists
// the segment's open files at the sizes its lines reached, a file is listed
// before its first line, and recovery cuts an open file a killed drain left
// back to what its checkpoint covers.
TEST_F(StoreSinkTest, CheckpointsListTheFilesAtTheSizesTheirLinesReached) {
  const SegmentIdentity id = identity(21, "svc", 77);
  StoreSink sink(options());
  ASSERT_TRUE(sink.write(testing::batch_of(id, line(kMorning, "INFO", 1))).ok());
  // Listed before a line went in (nothing of it is covered yet).
  absl::StatusOr<std::optional<StoreCheckpoint>> stored = read_checkpoint(dir_.string(), 21, 77);
  ASSERT_TRUE(stored.ok() && stored->has_value()) << stored.status();
  ASSERT_EQ((*stored)->files.size(), 1u);
  EXPECT_EQ((*stored)->files[0].size, 0u);
  EXPECT_TRUE((*stored)->resume.empty());
  EXPECT_FALSE(sink.resume_point(id).has_value());

  ASSERT_TRUE(sink.flush_with({SegmentCheckpoint{id, "resume-1"}}).ok());
  stored = read_checkpoint(dir_.string(), 21, 77);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  const std::string info = sink.open_paths().at(0);
  EXPECT_EQ((*stored)->files.at(0).size, std::filesystem::file_size(info));
  EXPECT_EQ((*stored)->resume, "resume-1");
  EXPECT_EQ(sink.resume_point(id), "resume-1");

  // A line of another class: its file is listed at 0, the first at its size, the resume point kept.
  ASSERT_TRUE(sink.write(testing::batch_of(id, line(kMorning + kNs, "WARN", 2))).ok());
  stored = read_checkpoint(dir_.string(), 21, 77);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  ASSERT_EQ((*stored)->files.size(), 2u);
  EXPECT_EQ((*stored)->resume, "resume-1");
  uint64_t listed_total = 0;
  for (const StoreCheckpoint::File& file : (*stored)->files) listed_total += file.size;
  EXPECT_EQ(listed_total, std::filesystem::file_size(info));

  // Finished: nothing will resume it.
  ASSERT_TRUE(sink.flush_with({SegmentCheckpoint{id, "resume-2"}}).ok());
  sink.segment_finished(id);
  stored = read_checkpoint(dir_.string(), 21, 77);
  ASSERT_TRUE(stored.ok());
  EXPECT_FALSE(stored->has_value());
}

TEST_F(StoreSinkTest, RecoveryCutsWhatAKilledDrainWroteAfterItsCheckpoint) {
  const SegmentIdentity id = identity(22, "svc", 78);
  StoreSinkOptions o = options();
  o.buffer_bytes = 1;  // every write reaches the file at once
  ringtail::test::ForkedChild drain = ringtail::test::ForkedChild::start([&](ringtail::test::ChildChannel& ch) {
    // A drain that is killed: lines flushed with a checkpoint, more lines
    // written after it, then gone without closing anything.
    auto* sink = new StoreSink(o);
    CHILD_EXPECT(ch, sink->write(testing::batch_of(id, line(kMorning, "INFO", 1))).ok());
    CHILD_EXPECT(ch, sink->flush_with({SegmentCheckpoint{id, "at-1"}}).ok());
    CHILD_EXPECT(
        ch,
        sink->write(testing::batch_of(id, line(kMorning + kNs, "INFO", 2) + line(kMorning + kNs, "ERROR", 3))).ok());
    return 0;
  });
  ASSERT_CHILD_OK(drain.finish());
  std::map<std::string, std::string> left = files();
  ASSERT_EQ(left.size(), 2u);  // info (lines 1, 2) and error (line 3), both "-open"

  absl::StatusOr<StoreDir> root = StoreDir::open(dir_.string());
  ASSERT_TRUE(root.ok());
  std::vector<std::string> reports;
  apply_checkpoints(*root, [&](std::string_view text) { reports.emplace_back(text); });
  EXPECT_TRUE(reports.empty()) << reports.front();
  for (const auto& [name, path] : files()) {
    if (name.find("-info-") != std::string::npos) {
      EXPECT_EQ(read(path), line(kMorning, "INFO", 1)) << "cut back to what the checkpoint covers";
    } else {
      EXPECT_EQ(read(path), "") << "created after the checkpoint: nothing in it is covered";
    }
  }
  StoreSink restarted(options());
  EXPECT_EQ(restarted.resume_point(id), "at-1");
}

TEST_F(StoreSinkTest, RecoveryLeavesAFileALiveDrainHoldsAndRefusesForeignPaths) {
  const SegmentIdentity id = identity(23, "svc", 79);
  StoreSinkOptions o = options();
  o.buffer_bytes = 1;
  StoreSink live(o);
  ASSERT_TRUE(live.write(testing::batch_of(id, line(kMorning, "INFO", 1))).ok());
  ASSERT_TRUE(live.flush_with({SegmentCheckpoint{id, "at-1"}}).ok());
  ASSERT_TRUE(live.write(testing::batch_of(id, line(kMorning + kNs, "INFO", 2))).ok());  // written, not covered yet
  const std::string path = live.open_paths().at(0);
  absl::StatusOr<StoreDir> root = StoreDir::open(dir_.string());
  ASSERT_TRUE(root.ok());
  apply_checkpoints(*root, {});
  EXPECT_EQ(read(path), line(kMorning, "INFO", 1) + line(kMorning + kNs, "INFO", 2)) << "locked: left alone";

  // A checkpoint naming anything but an open file of the store is refused.
  for (const std::string& bad : {std::string("../../etc/svc-23-info-20261130T100000.000000000Z-open.jsonl"),
                                 std::string("/etc/passwd"), std::string("svc/2026-11-30/notes.txt"),
                                 std::string("svc/2026-11-30/x/svc-23-info-20261130T100000.000000000Z-open.jsonl")}) {
    StoreCheckpoint checkpoint;
    checkpoint.pid = 23;
    checkpoint.files.push_back(StoreCheckpoint::File{bad, 0});
    EXPECT_FALSE(decode_store_checkpoint(encode(checkpoint)).ok()) << bad;
  }
  const std::string good = encode(StoreCheckpoint{23, 79, {}, "r"});
  for (size_t size = 0; size < good.size(); ++size) {
    EXPECT_FALSE(decode_store_checkpoint(good.substr(0, size)).ok()) << "cut to " << size;
  }
}

}  // namespace
}  // namespace ringtail::reader
