// What happens to closed storage files: the index (built, stored, trusted
// only while it matches, rebuilt otherwise), compression (finish_closed_file),
// recovery after a killed drain, the StoreMaintainer behind a StoreSink,
// retention by class age, max age and size, with archive, and links planted
// in the store or the archive, which are never followed.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

#include "eventually.hpp"
#include "ringtail/reader/output/json_text.hpp"
#include "ringtail/reader/sinks/store_sink.hpp"
#include "ringtail/reader/storage/compress_file.hpp"
#include "ringtail/reader/storage/file_index.hpp"
#include "ringtail/reader/storage/jsonl_reader.hpp"
#include "ringtail/reader/storage/retention.hpp"
#include "ringtail/reader/storage/store_checkpoint.hpp"
#include "ringtail/reader/storage/store_dir.hpp"
#include "ringtail/reader/storage/store_maintainer.hpp"
#include "ringtail/reader/storage/store_names.hpp"
#include "shaped_text.hpp"
#include "tmpfs_mount.hpp"

namespace ringtail::reader {
namespace {

namespace fs = std::filesystem;
using ringtail::test::eventually;

constexpr int64_t kNs = 1'000'000'000;
constexpr int64_t kHour = 3600 * kNs;
constexpr int64_t kDay = 24 * kHour;
constexpr int64_t kNow = int64_t{1796032800} * kNs;  // 2026-11-30T10:00:00Z

std::string line(int64_t ns, std::string_view level, std::string_view message, std::string_view extra = "") {
  TimestampFormatter formatter;
  std::string out = R"({"timestamp":)";
  formatter.append(out, ns);
  out += R"(,"level":")";
  out += level;
  out += R"(","message":)";
  append_json_string(out, message);
  out += R"(,"service":"svc","pid":77)";
  out += extra;
  out += "}\n";
  return out;
}

std::string read_text(const std::string& path) {
  absl::StatusOr<JsonlReader> file = JsonlReader::open(path);
  EXPECT_TRUE(file.ok()) << file.status();
  if (!file.ok()) return {};
  std::string text;
  for (;;) {
    absl::StatusOr<std::string_view> block = file->next_block();
    EXPECT_TRUE(block.ok()) << block.status();
    if (!block.ok() || block->empty()) break;
    text.append(*block);
  }
  return text;
}

class StoreMaintenanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ringtail-store-maint-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::remove_all(outside());
    fs::create_directories(day());
    fs::create_directories(outside());
  }
  void TearDown() override {
    fs::remove_all(dir_);
    fs::remove_all(outside());
  }
  fs::path day() const { return dir_ / "svc" / "2026-11-30"; }
  // Beside the store, not in it: where planted links point.
  fs::path outside() const { return dir_.string() + "-outside"; }

  // A file outside the store with a torn last line (what adopting it as an
  // "-open" file would cut), for links to point at.
  static constexpr std::string_view kVictimText = "precious\n{\"torn";
  std::string victim() const {
    const std::string path = (outside() / "victim").string();
    if (!fs::exists(path)) std::ofstream(path) << kVictimText;
    return path;
  }
  static std::string raw(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

  // A closed (plain) file of `level_class` whose last line is at `last_ns`,
  // written (its modification time, as the drain sets it) at `last_ns` too.
  std::string closed_file(LevelClass level_class, int64_t first_ns, int64_t last_ns, const std::string& text) {
    StoredFileName name;
    name.kind = StoredFileName::Kind::kClosed;
    name.service = "svc";
    name.pid = 77;
    name.level_class = level_class;
    name.first = name_stamp_from_ns(first_ns);
    name.last = name_stamp_from_ns(last_ns);
    const std::string path = (day() / name.file_name()).string();
    std::ofstream(path) << text;
    set_written(path, last_ns);
    return path;
  }
  static void set_written(const std::string& path, int64_t ns) {
    const timespec times[2] = {{0, UTIME_OMIT}, {static_cast<time_t>(ns / kNs), static_cast<long>(ns % kNs)}};
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW), 0) << path;
  }

  fs::path dir_;
};

// Counts by message and by key stop at kMaxDistinct distinct values (then
// marked incomplete, so no query skips the file by them); levels are never
// cut, since the index has no flag for them.
TEST_F(StoreMaintenanceTest, IndexCountsStopAtTheirLimitButLevelsDoNot) {
  const size_t n = FileIndex::kMaxDistinct + 5;
  std::string text;
  for (size_t i = 0; i < n; ++i) {
    const std::string level = i % 2 == 0 ? std::string("INFO") : absl::StrCat("L", i);
    text +=
        line(kNow + static_cast<int64_t>(i), level, absl::StrCat("m", i), absl::StrCat(",\"k", i, "\":1,\"same\":2"));
  }
  const std::string plain = closed_file(LevelClass::kInfo, kNow, kNow + static_cast<int64_t>(n), text);
  absl::StatusOr<FileIndex> index = build_index(plain);
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_EQ(index->lines, n);
  EXPECT_EQ(index->messages.size(), FileIndex::kMaxDistinct);
  EXPECT_FALSE(index->messages_complete);
  EXPECT_EQ(index->keys.size(), FileIndex::kMaxDistinct);
  EXPECT_FALSE(index->keys_complete);
  EXPECT_EQ(index->keys.at("same"), n);  // seen first: counted on every line
  EXPECT_EQ(index->keys.at("timestamp"), n);
  EXPECT_EQ(index->levels.size(), 1 + n / 2);
  EXPECT_EQ(index->levels.at("INFO"), (n + 1) / 2);
  EXPECT_EQ(index->services, std::set<std::string>{"svc"});
}

TEST_F(StoreMaintenanceTest, FinishCompressesIndexesAndRemovesThePlainFile) {
  const std::string text = line(kNow, "INFO", "tool call", R"(,"tool":"grep","ms":1.5)") +
                           line(kNow + 2 * kNs, "WARN", "slow", R"(,"ms":900)") + "not json\n" +
                           line(kNow + kNs, "INFO", "tool call", R"(,"tool":"ls")");
  const std::string plain = closed_file(LevelClass::kInfo, kNow, kNow + kNs, text);
  ASSERT_TRUE(finish_closed_file(plain, 3).ok());
  EXPECT_FALSE(fs::exists(plain));
  const std::string compressed = plain + ".zst";
  ASSERT_TRUE(fs::exists(compressed));
  EXPECT_EQ(read_text(compressed), text);

  bool rebuilt = true;
  absl::StatusOr<FileIndex> index = load_or_rebuild_index(compressed, &rebuilt);
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_FALSE(rebuilt);  // the one written at finish
  EXPECT_EQ(index->data_file, fs::path(compressed).filename().string());
  EXPECT_EQ(index->data_bytes, fs::file_size(compressed));
  EXPECT_EQ(index->lines, 4u);
  EXPECT_EQ(index->bad_lines, 1u);
  EXPECT_EQ(index->first_timestamp, "2026-11-30T10:00:00.000000000Z");
  EXPECT_EQ(index->last_timestamp, "2026-11-30T10:00:02.000000000Z");  // the highest, not the last line's
  EXPECT_EQ(index->levels, (std::map<std::string, uint64_t>{{"INFO", 2}, {"WARN", 1}}));
  EXPECT_EQ(index->messages, (std::map<std::string, uint64_t>{{"tool call", 2}, {"slow", 1}}));
  EXPECT_TRUE(index->messages_complete);
  EXPECT_EQ(index->keys.at("tool"), 2u);
  EXPECT_EQ(index->keys.at("ms"), 2u);
  EXPECT_EQ(index->keys.at("timestamp"), 3u);
  EXPECT_EQ(index->services, std::set<std::string>{"svc"});
  EXPECT_EQ(index->pids, std::set<uint64_t>{77});
  // The index round-trips through its text.
  absl::StatusOr<FileIndex> parsed = parse_index(serialize_index(*index));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, *index);
}

TEST_F(StoreMaintenanceTest, ABadIndexIsRebuiltNeverTrusted) {
  const std::string plain = closed_file(LevelClass::kWarn, kNow, kNow, line(kNow, "WARN", "w"));
  ASSERT_TRUE(finish_closed_file(plain, 3).ok());
  const std::string compressed = plain + ".zst";
  const std::string index_path = index_path_for(compressed);
  absl::StatusOr<FileIndex> good = load_or_rebuild_index(compressed);
  ASSERT_TRUE(good.ok());
  const std::vector<std::string> damages = {"", "{", "not json", R"({"version":99})",
                                            serialize_index(*good).substr(0, 40)};
  for (const std::string& damage : damages) {
    std::ofstream(index_path, std::ios::trunc) << damage;
    bool rebuilt = false;
    absl::StatusOr<FileIndex> index = load_or_rebuild_index(compressed, &rebuilt);
    ASSERT_TRUE(index.ok()) << index.status();
    EXPECT_TRUE(rebuilt) << damage;
    EXPECT_EQ(*index, *good);
  }
  // Stale: it describes another size of the data file.
  FileIndex stale = *good;
  stale.data_bytes += 1;
  stale.lines = 1000;
  ASSERT_TRUE(write_index(stale, index_path).ok());
  bool rebuilt = false;
  absl::StatusOr<FileIndex> index = load_or_rebuild_index(compressed, &rebuilt);
  ASSERT_TRUE(index.ok());
  EXPECT_TRUE(rebuilt);
  EXPECT_EQ(index->lines, 1u);
  // Missing: rebuilt and written again.
  fs::remove(index_path);
  ASSERT_TRUE(load_or_rebuild_index(compressed, &rebuilt).ok());
  EXPECT_TRUE(rebuilt);
  EXPECT_TRUE(fs::exists(index_path));
}

TEST_F(StoreMaintenanceTest, RecoveryAfterAKilledDrain) {
  // An "-open" file nobody holds, a closed plain file, and a closed plain
  // file whose compression finished (its twin .zst is complete).
  const fs::path orphan = day() / "svc-77-error-20261130T095000.000000000Z-open.jsonl";
  std::ofstream(orphan) << line(kNow, "ERROR", "e") << "{\"torn";
  const std::string plain = closed_file(LevelClass::kInfo, kNow, kNow, line(kNow, "INFO", "i"));
  const std::string twin = closed_file(LevelClass::kWarn, kNow, kNow, line(kNow, "WARN", "w"));
  ASSERT_TRUE(compress_file(twin, twin + ".zst", 3).ok());
  // Temporary files of an unfinished compression: an old one goes, a fresh one
  // (maybe another drain's work in progress) stays.
  const fs::path old_temporary = day() / (fs::path(plain).filename().string() + ".zst.tmp.AbC123");
  const fs::path fresh_temporary = day() / (fs::path(plain).filename().string() + ".zst.tmp.XyZ789");
  std::ofstream(old_temporary) << "partial";
  std::ofstream(fresh_temporary) << "partial";
  fs::last_write_time(old_temporary, fs::file_time_type::clock::now() - std::chrono::hours(2));
  std::vector<std::string> finished;
  absl::StatusOr<size_t> count = recover_store(dir_.string(), [&](const std::string& path) {
    finished.push_back(path);
    ASSERT_TRUE(finish_closed_file(path, 3).ok()) << path;
  });
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(*count, 3u);
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(day())) names.insert(entry.path().filename().string());
  EXPECT_EQ(names, (std::set<std::string>{
                       "svc-77-error-20261130T100000.000000000Z-20261130T100000.000000000Z.jsonl.zst",
                       "svc-77-error-20261130T100000.000000000Z-20261130T100000.000000000Z.index.json",
                       fs::path(plain).filename().string() + ".zst",
                       index_path_for(plain + ".zst").substr(day().string().size() + 1),
                       fs::path(twin).filename().string() + ".zst",
                       fresh_temporary.filename().string(),
                   }));  // the twin's index is rebuilt when a query needs it
  EXPECT_EQ(
      read_text((day() / "svc-77-error-20261130T100000.000000000Z-20261130T100000.000000000Z.jsonl.zst").string()),
      line(kNow, "ERROR", "e"));
}

TEST_F(StoreMaintenanceTest, MaintainerFinishesWhatTheSinkCloses) {
  std::vector<std::string> texts;
  {
    StoreMaintainerOptions options;
    options.directory = dir_.string();
    StoreMaintainer maintainer(options);
    StoreSinkOptions sink_options;
    sink_options.directory = dir_.string();
    // Each pass's four lines fill a file exactly: it rotates at every flush below.
    sink_options.max_file_bytes = 4 * line(kNow, "INFO", "tick").size();
    sink_options.on_closed = [&](const std::string& path, std::optional<FileIndex> index) {
      maintainer.file_closed(path, std::move(index));
    };
    StoreSink sink(sink_options);
    SegmentIdentity id;
    id.pid = 77;
    id.service = "svc";
    for (int pass = 0; pass < 5; ++pass) {
      std::string chunk;
      for (int i = 0; i < 4; ++i) chunk += line(kNow + (pass * 4 + i) * kNs, "INFO", "tick");
      texts.push_back(chunk);
      ASSERT_TRUE(sink.write(testing::batch_of(id, chunk)).ok());
      ASSERT_TRUE(sink.flush().ok());
    }
    maintainer.wait_idle();
    EXPECT_EQ(maintainer.files_finished(), 5u);
  }
  size_t compressed = 0, indexes = 0, other = 0;
  std::string joined;
  std::vector<fs::path> data;
  for (const auto& entry : fs::recursive_directory_iterator(dir_)) {
    if (!entry.is_regular_file() || entry.path().parent_path().filename() == kCheckpointDirectory) continue;
    const auto name = parse_stored_file_name(entry.path().filename().string());
    if (name && name->kind == StoredFileName::Kind::kCompressed) {
      ++compressed;
      data.push_back(entry.path());
    } else if (name && name->kind == StoredFileName::Kind::kIndex) {
      ++indexes;
    } else {
      ++other;
    }
  }
  std::sort(data.begin(), data.end());
  for (const fs::path& path : data) joined += read_text(path.string());
  EXPECT_EQ(compressed, 5u);
  EXPECT_EQ(indexes, 5u);
  EXPECT_EQ(other, 0u);
  std::string all;
  for (const std::string& t : texts) all += t;
  EXPECT_EQ(joined, all);
}

TEST_F(StoreMaintenanceTest, RetentionKeepsExactlyWhatItShould) {
  // Last lines: debug 8 d and 6 d old, info 31 d and 29 d, warn 181 d and 179 d,
  // error 366 d and 364 d; one old plain file with an index; an old "-open" file.
  struct Made {
    std::string path;
    bool goes;
  };
  std::vector<Made> made;
  const std::pair<LevelClass, int> classes[] = {
      {LevelClass::kDebug, 7}, {LevelClass::kInfo, 30}, {LevelClass::kWarn, 180}, {LevelClass::kError, 365}};
  for (const auto& [level_class, days] : classes) {
    for (int delta : {+1, -1}) {
      const int64_t last = kNow - (days + delta) * kDay;
      const std::string plain = closed_file(level_class, last - kHour, last, line(last, "INFO", "x"));
      ASSERT_TRUE(finish_closed_file(plain, 3).ok());
      made.push_back({plain + ".zst", delta > 0});
    }
  }
  const fs::path open = day() / "svc-77-debug-20250101T000000.000000000Z-open.jsonl";
  std::ofstream(open) << line(kNow - 400 * kDay, "DEBUG", "old but open");
  std::ofstream(day() / "notes.txt") << "not ringtail's";

  absl::StatusOr<RetentionPlan> plan = plan_retention(dir_.string(), RetentionPolicy{}, kNow);
  ASSERT_TRUE(plan.ok()) << plan.status();
  std::set<std::string> going;
  for (const RetentionAction& action : plan->actions) {
    going.insert(action.path);
    ASSERT_EQ(action.companions.size(), 1u);  // the index
    EXPECT_EQ(action.companions[0], index_path_for(action.path));
    EXPECT_NE(action.reason.find("older than"), std::string::npos) << action.reason;
  }
  for (const Made& m : made) EXPECT_EQ(going.count(m.path), m.goes ? 1u : 0u) << m.path;
  EXPECT_EQ(plan->skipped_open, std::vector<std::string>{open.string()});
  // Oldest first, by the time each was written (kept through compression).
  for (size_t i = 1; i < plan->actions.size(); ++i) {
    EXPECT_LE(plan->actions[i - 1].written_ns, plan->actions[i].written_ns);
  }
  for (const RetentionAction& action : plan->actions) {
    const std::optional<StoredFileName> name = parse_stored_file_name(fs::path(action.path).filename().string());
    ASSERT_TRUE(name.has_value());
    EXPECT_EQ(name_stamp_from_ns(action.written_ns), name->last) << action.path;
  }

  // Archive instead of delete: same relative paths, companions too.
  const fs::path archive = dir_.string() + "-archive";
  ASSERT_TRUE(apply_retention(*plan, dir_.string(), archive.string(), nullptr).ok());
  for (const Made& m : made) {
    const fs::path relative = fs::relative(m.path, dir_);
    EXPECT_EQ(fs::exists(m.path), !m.goes) << m.path;
    EXPECT_EQ(fs::exists(archive / relative), m.goes) << relative;
    EXPECT_EQ(fs::exists(index_path_for(m.path)), !m.goes);
  }
  EXPECT_TRUE(fs::exists(open));
  EXPECT_TRUE(fs::exists(day() / "notes.txt"));
  fs::remove_all(archive);

  // max-age: everything older than 100 d goes too (the warn file of 179 d, the error one of 364 d).
  RetentionPolicy policy;
  policy.max_age = std::chrono::hours(24 * 100);
  plan = plan_retention(dir_.string(), policy, kNow);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->actions.size(), 2u);
  for (const RetentionAction& action : plan->actions) EXPECT_NE(action.reason.find("max-age"), std::string::npos);

  // max-bytes: the oldest go until what is left (the open file included) fits.
  policy = RetentionPolicy{};
  policy.class_age = {};  // ages off: size only
  policy.max_bytes = plan->bytes_before - 1;
  plan = plan_retention(dir_.string(), policy, kNow);
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->actions.size(), 1u);
  EXPECT_NE(plan->actions[0].path.find("-error-"), std::string::npos);  // the oldest left: error, 364 d
  EXPECT_LE(plan->bytes_after, *policy.max_bytes);
  policy.max_bytes = 0;
  plan = plan_retention(dir_.string(), policy, kNow);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->actions.size(), 4u);  // every closed file; the open one stays
  ASSERT_TRUE(apply_retention(*plan, dir_.string(), "", nullptr).ok());
  for (const Made& m : made) EXPECT_FALSE(fs::exists(m.path));
  EXPECT_TRUE(fs::exists(open));
}

// Retention goes by when the reader wrote a file, never by the timestamps in
// its lines (a producer chose those): a file whose lines say 9999 neither
// outlives its class's age nor, with one whose lines say 1970, makes others
// go first. The files go through the real path: a StoreSink on a clock of
// its own closes them, the StoreMaintainer compresses them.
TEST_F(StoreMaintenanceTest, RetentionGoesByWhenTheReaderWroteAFile) {
  struct Written {
    uint32_t pid;
    std::string_view level;
    std::string timestamp;  // what its line says
    int64_t written_ns;     // when the sink wrote it
  };
  auto timestamp_at = [](int64_t ns) { return timestamp_from_name_stamp(name_stamp_from_ns(ns)); };
  const std::string future = "9999-12-31T23:59:59.999999999Z";
  const std::string past = "1970-01-01T00:00:00.000000001Z";
  const std::vector<Written> written = {
      {1, "INFO", future, kNow - 40 * kDay},
      {2, "INFO", timestamp_at(kNow - 40 * kDay), kNow - 40 * kDay + kNs},
      {3, "DEBUG", future, kNow - 6 * kDay},
      {4, "INFO", past, kNow - kDay},
      {5, "INFO", timestamp_at(kNow - 2 * kHour), kNow - 2 * kHour},
  };
  int64_t clock = 0;
  {
    StoreMaintainerOptions maintainer_options;
    maintainer_options.directory = dir_.string();
    StoreMaintainer maintainer(maintainer_options);
    StoreSinkOptions options;
    options.directory = dir_.string();
    options.now_ns = [&] { return clock; };
    options.on_closed = [&](const std::string& path, std::optional<FileIndex> index) {
      maintainer.file_closed(path, std::move(index));
    };
    StoreSink sink(options);
    for (const Written& file : written) {
      SegmentIdentity id;
      id.pid = file.pid;
      id.service = "svc";
      clock = file.written_ns;
      const std::string text = absl::StrCat(R"({"timestamp":")", file.timestamp, R"(","level":")",
                                            std::string(file.level), R"(","message":"m","pid":)", file.pid, "}\n");
      ASSERT_TRUE(sink.write(testing::batch_of(id, text)).ok());
      ASSERT_TRUE(sink.flush().ok());
      sink.segment_finished(id);
    }
    maintainer.wait_idle();
    EXPECT_EQ(maintainer.files_finished(), written.size());
  }
  auto pids = [](const RetentionPlan& plan) {
    std::vector<uint32_t> out;
    for (const RetentionAction& action : plan.actions) {
      const std::optional<StoredFileName> name = parse_stored_file_name(fs::path(action.path).filename().string());
      out.push_back(name ? name->pid : 0);
    }
    return out;
  };
  RetentionPolicy off;
  off.class_age = {};

  // Every file, oldest first: the order they were written in.
  RetentionPolicy everything = off;
  everything.max_bytes = 0;
  absl::StatusOr<RetentionPlan> plan = plan_retention(dir_.string(), everything, kNow);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(pids(*plan), (std::vector<uint32_t>{1, 2, 3, 4, 5}));
  std::map<uint32_t, uint64_t> bytes;
  for (size_t i = 0; i < plan->actions.size(); ++i) {
    bytes[written[i].pid] = plan->actions[i].bytes;
    EXPECT_EQ(plan->actions[i].written_ns, written[i].written_ns) << plan->actions[i].path;
  }
  const uint64_t before = plan->bytes_before;

  // The class ages: info 30 d takes the two files written 40 d ago, the 9999
  // one included; debug 7 d keeps the 9999 debug file written 6 d ago; the
  // 1970 file written yesterday stays.
  plan = plan_retention(dir_.string(), RetentionPolicy{}, kNow);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(pids(*plan), (std::vector<uint32_t>{1, 2}));
  // max-age 5 d: the debug file too.
  RetentionPolicy max_age = off;
  max_age.max_age = std::chrono::hours(24 * 5);
  plan = plan_retention(dir_.string(), max_age, kNow);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(pids(*plan), (std::vector<uint32_t>{1, 2, 3}));

  // max-bytes: the oldest written go first, whatever their lines say.
  RetentionPolicy size = off;
  size.max_bytes = before - bytes[1];
  plan = plan_retention(dir_.string(), size, kNow);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(pids(*plan), (std::vector<uint32_t>{1}));
  size.max_bytes = before - bytes[1] - bytes[2] - bytes[3];
  plan = plan_retention(dir_.string(), size, kNow);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(pids(*plan), (std::vector<uint32_t>{1, 2, 3}));
  size.max_bytes = *size.max_bytes - 1;
  plan = plan_retention(dir_.string(), size, kNow);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(pids(*plan), (std::vector<uint32_t>{1, 2, 3, 4}));
  ASSERT_TRUE(apply_retention(*plan, dir_.string(), "", nullptr).ok());
  absl::StatusOr<RetentionPlan> left = plan_retention(dir_.string(), everything, kNow);
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(pids(*left), (std::vector<uint32_t>{5}));
}

// Whoever can write into the store may plant links at the names finishing a
// file creates or touches. None is written or read through: the step fails,
// says which name, and the file the link points at stays as it was.
TEST_F(StoreMaintenanceTest, FinishNeverGoesThroughPlantedLinks) {
  const std::string target = victim();
  const std::string text = line(kNow, "INFO", "i");
  const std::string plain = closed_file(LevelClass::kInfo, kNow, kNow, text);
  const std::string compressed = plain + ".zst";
  const std::string index = index_path_for(compressed);

  // The compression's temporary: nothing compressed, the plain file stays.
  const fs::path zst_temporary = day() / temporary_name(fs::path(compressed).filename().string());
  fs::create_symlink(target, zst_temporary);
  absl::Status status = finish_closed_file(plain, 3);
  EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists) << status;
  EXPECT_NE(status.message().find(zst_temporary.string()), std::string_view::npos) << status;
  EXPECT_EQ(raw(target), kVictimText);
  EXPECT_TRUE(fs::exists(plain));
  EXPECT_FALSE(fs::exists(compressed));
  EXPECT_TRUE(fs::is_symlink(zst_temporary));
  fs::remove(zst_temporary);

  // The index's temporary (and the name older versions gave it): the
  // compressed file is complete, the plain one stays for the next start.
  const fs::path index_temporary = day() / temporary_name(fs::path(index).filename().string());
  fs::create_symlink(target, index_temporary);
  fs::create_symlink(target, index + ".tmp");
  status = finish_closed_file(plain, 3);
  EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists) << status;
  EXPECT_NE(status.message().find(index_temporary.string()), std::string_view::npos) << status;
  EXPECT_EQ(raw(target), kVictimText);
  EXPECT_TRUE(fs::exists(plain));
  EXPECT_EQ(read_text(compressed), text);
  EXPECT_FALSE(fs::exists(fs::symlink_status(index)));
  fs::remove(index_temporary);
  ASSERT_TRUE(finish_closed_file(plain, 3).ok());
  EXPECT_FALSE(fs::exists(plain));

  // A link at the index itself is not read, and is replaced by the index.
  fs::create_symlink(target, index);
  bool rebuilt = false;
  absl::StatusOr<FileIndex> built = load_or_rebuild_index(compressed, &rebuilt);
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_TRUE(rebuilt);
  EXPECT_EQ(built->lines, 1u);
  EXPECT_FALSE(fs::is_symlink(index));
  EXPECT_EQ(raw(target), kVictimText);

  // A link at the compressed name is not a compressed file: the plain file
  // is not given up for it.
  const std::string other = closed_file(LevelClass::kWarn, kNow, kNow, line(kNow, "WARN", "w"));
  fs::create_symlink(target, other + ".zst");
  status = finish_closed_file(other, 3);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_NE(status.message().find(other + ".zst"), std::string_view::npos) << status;
  EXPECT_EQ(raw(other), line(kNow, "WARN", "w"));
  EXPECT_TRUE(fs::is_symlink(other + ".zst"));
  EXPECT_EQ(raw(target), kVictimText);
}

// Recovery (what a drain and `ringtail retain` do first) never adopts, closes
// or compresses a link, nor enters a linked directory: it reports them.
TEST_F(StoreMaintenanceTest, RecoveryAndTheMaintainerLeaveLinksAlone) {
  const std::string target = victim();
  const fs::path open_link = day() / "svc-77-info-20261130T095000.000000000Z-open.jsonl";
  const fs::path closed_link = day() / "svc-77-warn-20261130T095000.000000000Z-20261130T095001.000000000Z.jsonl";
  fs::create_symlink(target, open_link);
  fs::create_symlink(target, closed_link);
  // A linked date directory with an "-open" file in it.
  const fs::path elsewhere = outside() / "day";
  fs::create_directories(elsewhere);
  const fs::path elsewhere_open = elsewhere / "svc-78-info-20261130T095000.000000000Z-open.jsonl";
  std::ofstream(elsewhere_open) << kVictimText;
  const fs::path day_link = dir_ / "svc" / "2026-12-01";
  fs::create_symlink(elsewhere, day_link);
  // Work it must still do: an orphan of a killed drain.
  const fs::path orphan = day() / "svc-77-error-20261130T095000.000000000Z-open.jsonl";
  std::ofstream(orphan) << line(kNow, "ERROR", "e") << "{\"torn";

  std::mutex mutex;
  std::vector<std::string> reports;
  {
    StoreMaintainerOptions options;
    options.directory = dir_.string();
    options.report = [&](std::string_view report) {
      std::lock_guard lock(mutex);
      reports.emplace_back(report);
    };
    StoreMaintainer maintainer(options);
    maintainer.wait_idle();
    EXPECT_EQ(maintainer.files_finished(), 1u);
  }
  EXPECT_EQ(raw(target), kVictimText);
  EXPECT_EQ(raw(elsewhere_open), kVictimText);
  EXPECT_TRUE(fs::is_symlink(open_link));
  EXPECT_TRUE(fs::is_symlink(closed_link));
  EXPECT_TRUE(fs::is_symlink(day_link));
  EXPECT_EQ(
      read_text((day() / "svc-77-error-20261130T100000.000000000Z-20261130T100000.000000000Z.jsonl.zst").string()),
      line(kNow, "ERROR", "e"));
  for (const fs::path& link : {open_link, closed_link, day_link}) {
    const bool reported = std::any_of(reports.begin(), reports.end(), [&](const std::string& r) {
      return r.find(link.string()) != std::string::npos && r.find("symbolic link") != std::string::npos;
    });
    EXPECT_TRUE(reported) << link;
  }
}

// Collects a StoreMaintainer's report lines (from its thread).
class ReportLines {
 public:
  std::function<void(std::string_view)> fn() {
    return [this](std::string_view line) {
      std::lock_guard lock(mutex_);
      lines_.emplace_back(line);
    };
  }
  // Lines holding every one of `parts`.
  size_t count(std::initializer_list<std::string_view> parts) const {
    std::lock_guard lock(mutex_);
    return static_cast<size_t>(std::count_if(lines_.begin(), lines_.end(), [&](const std::string& line) {
      return std::all_of(parts.begin(), parts.end(),
                         [&](std::string_view part) { return line.find(part) != std::string::npos; });
    }));
  }
  std::string all() const {
    std::lock_guard lock(mutex_);
    std::string text;
    for (const std::string& line : lines_) text += line + "\n";
    return text;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

// retain_now() (what the drain calls when its disk is full) runs retention
// at once, not at the next interval; without a policy it does nothing.
TEST_F(StoreMaintenanceTest, RetainNowRunsRetentionAtOnce) {
  // Written 40 and 39 days ago (other names).
  auto compressed_old_file = [&](std::string_view message, int64_t old) {
    const std::string plain = closed_file(LevelClass::kInfo, old, old, line(old, "INFO", message));
    EXPECT_TRUE(finish_closed_file(plain, 3).ok());
    return plain + ".zst";
  };
  {
    StoreMaintainerOptions options;
    options.directory = dir_.string();
    StoreMaintainer maintainer(options);
    EXPECT_FALSE(maintainer.retain_now());
  }
  const std::string first = compressed_old_file("first", kNow - 40 * kDay);
  ReportLines reports;
  StoreMaintainerOptions options;
  options.directory = dir_.string();
  options.retention = RetentionPolicy{};
  options.retention->max_age = std::chrono::hours(24 * 30);
  options.retention_interval = std::chrono::hours(1);
  options.report = reports.fn();
  StoreMaintainer maintainer(options);
  // The run at start; the next one would be an hour away.
  ASSERT_TRUE(eventually([&] { return reports.count({"retention: deleted", first}) == 1; })) << reports.all();
  const std::string second = compressed_old_file("second", kNow - 39 * kDay);
  EXPECT_TRUE(maintainer.retain_now());
  EXPECT_TRUE(eventually([&] { return !fs::exists(second); })) << reports.all();
  EXPECT_EQ(reports.count({"retention: deleted", second}), 1u) << reports.all();
}

// The maintainer on a full disk: a compression whose temporary finds no
// space is reported once, leaves no temporary behind and keeps the plain
// file, and is done again by itself once there is space.
class StoreMaintenanceDiskFullTest : public StoreMaintenanceTest {
 protected:
  void SetUp() override {
    RINGTAIL_SKIP_OR_FAIL_WITHOUT_ROOT("mounts a 1 MiB tmpfs");
    disk_.emplace("1m");
    ASSERT_TRUE(disk_->mounted()) << disk_->error();
    StoreMaintenanceTest::SetUp();
    // The store (and what links would point at) on the small disk instead.
    fs::remove_all(outside());
    fs::remove_all(dir_);
    dir_ = fs::path(disk_->path()) / "store";
    fs::create_directories(day());
    fs::create_directories(outside());
  }
  // Also after a failed assertion.
  void TearDown() override {
    if (!dir_.empty()) StoreMaintenanceTest::TearDown();  // empty: skipped before it was made
    disk_.reset();
  }

  std::optional<ringtail::test::TmpfsMount> disk_;
};

TEST_F(StoreMaintenanceDiskFullTest, ACompressionWithoutSpaceKeepsThePlainFileAndIsDoneLater) {
  ReportLines reports;
  StoreMaintainerOptions options;
  options.directory = dir_.string();
  options.retry_interval = std::chrono::seconds(1);
  options.report = reports.fn();
  StoreMaintainer maintainer(options);
  std::string text;
  for (int i = 0; i < 100; ++i) text += line(kNow + i * kNs, "INFO", "tick");
  const std::string plain = closed_file(LevelClass::kInfo, kNow, kNow + 99 * kNs, text);

  ASSERT_TRUE(disk_->fill("filler"));
  maintainer.file_closed(plain);
  maintainer.wait_idle();
  EXPECT_EQ(reports.count({"compressing", plain, "No space left on device", "tried again every 1 s"}), 1u)
      << reports.all();
  EXPECT_EQ(raw(plain), text);
  EXPECT_FALSE(fs::exists(plain + ".zst"));
  for (const auto& entry : fs::recursive_directory_iterator(dir_)) {
    EXPECT_FALSE(is_temporary_name(entry.path().filename().string())) << entry.path();
  }

  fs::remove(fs::path(disk_->path()) / "filler");
  ASSERT_TRUE(eventually([&] { return fs::exists(plain + ".zst") && !fs::exists(plain); })) << reports.all();
  EXPECT_EQ(read_text(plain + ".zst"), text);
  EXPECT_EQ(reports.count({"compressing"}), 1u) << "the retries are not reported again: " << reports.all();
  bool rebuilt = true;
  absl::StatusOr<FileIndex> index = load_or_rebuild_index(plain + ".zst", &rebuilt);
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_FALSE(rebuilt) << "the index was written with it";
  EXPECT_EQ(index->lines, 100u);
}

// Retention neither counts nor removes a link named like a data file, and
// never archives through a linked directory or over a file in the archive.
TEST_F(StoreMaintenanceTest, RetentionNeverGoesThroughLinks) {
  const std::string target = victim();
  const int64_t old = kNow - 40 * kDay;
  const std::string plain = closed_file(LevelClass::kInfo, old, old, line(old, "INFO", "old"));
  ASSERT_TRUE(finish_closed_file(plain, 3).ok());
  const std::string compressed = plain + ".zst";
  const fs::path link = day() / "svc-78-info-20261021T100000.000000000Z-20261021T100000.000000000Z.jsonl.zst";
  fs::create_symlink(target, link);

  absl::StatusOr<RetentionPlan> plan = plan_retention(dir_.string(), RetentionPolicy{}, kNow);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->actions.size(), 1u);
  EXPECT_EQ(plan->actions[0].path, compressed);
  EXPECT_EQ(plan->bytes_before, fs::file_size(compressed) + fs::file_size(index_path_for(compressed)));
  ASSERT_EQ(plan->skipped.size(), 1u);
  EXPECT_NE(plan->skipped[0].find(link.string()), std::string::npos) << plan->skipped[0];

  const fs::path archive = outside() / "archive";
  const fs::path victim_directory = outside() / "victim-directory";
  fs::create_directories(archive);
  fs::create_directories(victim_directory);
  const fs::path relative = fs::relative(compressed, dir_);
  std::vector<std::string> reports;
  auto report = [&](std::string_view line) { reports.emplace_back(line); };

  // A linked directory in the archive: not entered.
  fs::create_symlink(victim_directory, archive / "svc");
  EXPECT_FALSE(apply_retention(*plan, dir_.string(), archive.string(), report).ok());
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_NE(reports[0].find((archive / "svc").string()), std::string::npos) << reports[0];
  EXPECT_TRUE(fs::is_empty(victim_directory));
  EXPECT_TRUE(fs::exists(compressed));
  EXPECT_TRUE(fs::exists(index_path_for(compressed)));

  // A link at the archive target: never replaced, nor written through; the
  // file and its index stay together in the store.
  fs::remove(archive / "svc");
  fs::create_directories((archive / relative).parent_path());
  fs::create_symlink(target, archive / relative);
  reports.clear();
  EXPECT_FALSE(apply_retention(*plan, dir_.string(), archive.string(), report).ok());
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_NE(reports[0].find(compressed), std::string::npos) << reports[0];
  EXPECT_EQ(raw(target), kVictimText);
  EXPECT_TRUE(fs::is_symlink(archive / relative));
  EXPECT_TRUE(fs::exists(compressed));
  EXPECT_TRUE(fs::exists(index_path_for(compressed)));

  fs::remove(archive / relative);
  ASSERT_TRUE(apply_retention(*plan, dir_.string(), archive.string(), report).ok());
  EXPECT_FALSE(fs::exists(compressed));
  EXPECT_EQ(read_text((archive / relative).string()), line(old, "INFO", "old"));
  EXPECT_TRUE(fs::exists(archive / fs::relative(index_path_for(compressed), dir_)));
  EXPECT_TRUE(fs::is_symlink(link));
  EXPECT_EQ(raw(target), kVictimText);
  EXPECT_TRUE(fs::is_empty(victim_directory));
}

TEST(RetentionText, AgesAndSizes) {
  EXPECT_EQ(*parse_age("7d"), std::chrono::hours(24 * 7));
  EXPECT_EQ(*parse_age("12h"), std::chrono::hours(12));
  EXPECT_EQ(*parse_age("30m"), std::chrono::minutes(30));
  EXPECT_EQ(*parse_age("45s"), std::chrono::seconds(45));
  EXPECT_EQ(*parse_age("2w"), std::chrono::hours(24 * 14));
  for (const char* bad : {"", "d", "7", "7x", "-1d", "1.5d", "99999999999999w"})
    EXPECT_FALSE(parse_age(bad).ok()) << bad;
  EXPECT_EQ(*parse_size("4096"), 4096u);
  EXPECT_EQ(*parse_size("64K"), 64u << 10);
  EXPECT_EQ(*parse_size("500M"), 500u << 20);
  EXPECT_EQ(*parse_size("10G"), uint64_t{10} << 30);
  EXPECT_EQ(*parse_size("1T"), uint64_t{1} << 40);
  for (const char* bad : {"", "M", "10Q", "1.5G", "-5", "99999999999T"}) EXPECT_FALSE(parse_size(bad).ok()) << bad;
  EXPECT_EQ(format_age(std::chrono::hours(24 * 7)), "1w");
  EXPECT_EQ(format_age(std::chrono::hours(24 * 30)), "30d");
  EXPECT_EQ(format_age(std::chrono::seconds(90)), "90s");
}

}  // namespace
}  // namespace ringtail::reader
