// JsonlReader and compress_file on real files: plain and zstd round trips at
// several block sizes (one line of several MiB, empty lines), blocks made of
// whole lines, files written and read by the zstd CLI (multi-frame, skippable
// frames), truncated and damaged .zst files (a DataLoss error after the lines
// before the damage, never a crash or a hang), a partial last line, missing and
// empty files, moves, jsonl_content_bytes(), and links, FIFOs and planted
// temporaries that are never read or written through.
#include "ringtail/reader/storage/jsonl_reader.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "ringtail/reader/storage/compress_file.hpp"
#include "ringtail/reader/storage/store_dir.hpp"

namespace ringtail::reader {
namespace {

namespace fs = std::filesystem;

class JsonlReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ringtail-jsonl-reader-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    fs::remove_all(dir_);
    fs::remove_all(outside());
  }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  // Beside dir_, not in it: where planted links point.
  fs::path outside() const { return dir_.string() + "-outside"; }

  static void write(const std::string& file, std::string_view bytes) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    ASSERT_TRUE(out.good()) << file;
  }
  static std::string read(const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

  // Reads `file` to its end or first error: the blocks' concatenation, and the
  // status that stopped it. Checks every block's shape and offset on the way,
  // and that a read never runs away (a hang would show as too many blocks).
  struct ReadResult {
    std::string content;
    absl::Status status;
    uint64_t truncated_tail_bytes = 0;
  };
  static ReadResult read_all(const std::string& file, size_t block_bytes = kJsonlBlockBytes) {
    ReadResult result;
    absl::StatusOr<JsonlReader> reader = JsonlReader::open(file, block_bytes);
    if (!reader.ok()) {
      result.status = reader.status();
      return result;
    }
    for (int blocks = 0;; ++blocks) {
      if (blocks > 10'000'000) {
        ADD_FAILURE() << "no end after 10M blocks: " << file;
        break;
      }
      absl::StatusOr<std::string_view> block = reader->next_block();
      if (!block.ok()) {
        result.status = block.status();
        break;
      }
      if (block->empty()) break;
      EXPECT_EQ(block->back(), '\n') << "block " << blocks << " of " << file;
      EXPECT_EQ(reader->block_offset(), result.content.size());
      result.content.append(*block);
    }
    result.truncated_tail_bytes = reader->truncated_tail_bytes();
    return result;
  }

  // `count` lines of random letters, 0 to max_length bytes (0 gives empty
  // lines), each ended by '\n'. Random letters compress only about 1.6x, so a
  // few MiB make a frame of many zstd blocks.
  static std::string random_lines(uint64_t seed, size_t count, size_t max_length) {
    std::mt19937_64 random(seed);
    std::string text;
    for (size_t i = 0; i < count; ++i) {
      const size_t length = random() % 8 == 0 ? 0 : random() % (max_length + 1);
      text += "{\"i\":" + std::to_string(i) + ",\"s\":\"";
      for (size_t j = 0; j < length; ++j) text += static_cast<char>('a' + random() % 26);
      text += "\"}\n";
      if (random() % 8 == 0) text += '\n';  // an empty line
    }
    return text;
  }

  // Lines with one line of 5 MiB in the middle.
  static std::string lines_with_a_huge_one() {
    std::string text = random_lines(1, 3000, 1000);
    text += "{\"big\":\"" + std::string(size_t{5} << 20, 'x') + "\"}\n";
    text += random_lines(2, 3000, 1000);
    return text;
  }

  static bool have_zstd_cli() { return std::system("command -v zstd >/dev/null 2>&1") == 0; }
  static int run(const std::string& command) { return std::system(command.c_str()); }

  fs::path dir_;
};

TEST_F(JsonlReaderTest, PlainRoundTripAtSeveralBlockSizes) {
  const std::string text = lines_with_a_huge_one();
  const std::string file = path("a.jsonl");
  write(file, text);
  for (const size_t block_bytes : {kJsonlBlockBytes, size_t{1}, size_t{100}, size_t{4096}, size_t{1} << 20}) {
    SCOPED_TRACE(block_bytes);
    const ReadResult result = read_all(file, block_bytes);
    ASSERT_TRUE(result.status.ok()) << result.status;
    EXPECT_TRUE(result.content == text);
    EXPECT_EQ(result.truncated_tail_bytes, 0u);
  }
}

TEST_F(JsonlReaderTest, BlocksAreLargeAndTheHugeLineComesWhole) {
  const std::string text = lines_with_a_huge_one();
  const std::string file = path("a.jsonl");
  write(file, text);
  absl::StatusOr<JsonlReader> reader = JsonlReader::open(file, size_t{1} << 20);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_FALSE(reader->compressed());
  EXPECT_EQ(reader->path(), file);
  std::vector<size_t> sizes;
  size_t huge_block = SIZE_MAX;
  std::string content;
  for (;;) {
    absl::StatusOr<std::string_view> block = reader->next_block();
    ASSERT_TRUE(block.ok()) << block.status();
    if (block->empty()) break;
    sizes.push_back(block->size());
    // The 5 MiB line is whole in one block: it starts a line of the block.
    const size_t at = block->find("{\"big\":");
    if (at != std::string_view::npos) {
      EXPECT_TRUE(at == 0 || (*block)[at - 1] == '\n');
      EXPECT_NE(block->find("\"}\n", at), std::string_view::npos);
      huge_block = sizes.size() - 1;
    }
    content.append(*block);
  }
  ASSERT_NE(huge_block, SIZE_MAX);
  EXPECT_TRUE(content == text);
  // Every block fills most of the buffer (a line of at most about 1 KiB is
  // left over for the next one), but the last one and the one before the huge
  // line (which left the huge line's start over).
  ASSERT_GE(sizes.size(), 3u);
  EXPECT_GT(sizes[huge_block], size_t{5} << 20);
  for (size_t i = 0; i + 1 < sizes.size(); ++i) {
    if (i + 1 != huge_block) {
      EXPECT_GE(sizes[i], (size_t{1} << 20) - 1100) << "block " << i;
    }
  }
}

TEST_F(JsonlReaderTest, CompressedRoundTripAtSeveralBlockSizes) {
  const std::string text = lines_with_a_huge_one();
  const std::string plain = path("a.jsonl");
  const std::string zst = path("a.jsonl.zst");
  write(plain, text);
  ASSERT_TRUE(compress_file(plain, zst).ok());
  EXPECT_TRUE(read(plain) == text);  // the source stays
  EXPECT_LT(fs::file_size(zst), text.size());
  for (const size_t block_bytes : {kJsonlBlockBytes, size_t{1}, size_t{100}, size_t{4096}, size_t{1} << 20}) {
    SCOPED_TRACE(block_bytes);
    const ReadResult result = read_all(zst, block_bytes);
    ASSERT_TRUE(result.status.ok()) << result.status;
    EXPECT_TRUE(result.content == text);
    EXPECT_EQ(result.truncated_tail_bytes, 0u);
  }
  absl::StatusOr<JsonlReader> reader = JsonlReader::open(zst);
  ASSERT_TRUE(reader.ok());
  EXPECT_TRUE(reader->compressed());
}

// A file cut short while it is compressed (another process's truncate)
// fails the compression, which leaves no .zst (and a source read through a
// mapping must not end the process with SIGBUS); one compressed wholly
// before or after the cut is the content of that moment.
TEST_F(JsonlReaderTest, AFileCutShortWhileCompressedFailsAndNeverCrashes) {
  const std::string text = random_lines(4, 60000, 400);  // about 12 MiB: several pieces
  const std::string plain = path("a.jsonl");
  const std::string zst = path("a.jsonl.zst");
  constexpr size_t kCutTo = 4096;
  write(plain, text);
  int failed = 0;
  constexpr int kTries = 8;
  for (int i = 1; i <= kTries; ++i) {
    SCOPED_TRACE(i);
    fs::remove(zst);
    write(plain, text);
    // The cut once compression has begun: compress_file creates its
    // temporary ("<zst>.tmp.<pid>.<tid>") before it reads the source.
    std::thread cutter([&] {
      auto begun = [&] {
        for (const fs::directory_entry& entry : fs::directory_iterator(dir_)) {
          if (entry.path().filename().string().starts_with("a.jsonl.zst.tmp.")) return true;
        }
        return false;
      };
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (!begun() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
      ASSERT_EQ(::truncate(plain.c_str(), kCutTo), 0);
    });
    const absl::Status status = compress_file(plain, zst, 1);
    cutter.join();
    if (status.ok()) {
      const ReadResult result = read_all(zst);
      ASSERT_TRUE(result.status.ok()) << result.status;
      EXPECT_TRUE(result.content == text || result.content == text.substr(0, kCutTo));
    } else {
      EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
      EXPECT_FALSE(fs::exists(zst));
      ++failed;
    }
  }
  EXPECT_GT(failed, 0) << "no cut landed during a compression";
}

TEST_F(JsonlReaderTest, CompressLevelsAndNoTemporaryFilesLeft) {
  const std::string text = random_lines(3, 2000, 300);
  const std::string plain = path("a.jsonl");
  write(plain, text);
  for (const int level : {1, 3, 19, -5}) {
    SCOPED_TRACE(level);
    // Appended piece by piece: GCC 12 warns about "a" + std::to_string() (-Wrestrict).
    std::string name = "a";
    name += std::to_string(level);
    const std::string zst = path(name + ".jsonl.zst");
    ASSERT_TRUE(compress_file(plain, zst, level).ok());
    EXPECT_TRUE(read_all(zst).content == text);
  }
  // An existing .zst is replaced.
  write(plain, "{\"new\":1}\n");
  ASSERT_TRUE(compress_file(plain, path("a3.jsonl.zst")).ok());
  EXPECT_EQ(read_all(path("a3.jsonl.zst")).content, "{\"new\":1}\n");
  for (const auto& entry : fs::directory_iterator(dir_)) {
    EXPECT_EQ(entry.path().string().find(".tmp"), std::string::npos) << entry.path();
  }
}

TEST_F(JsonlReaderTest, CompressErrorsNameTheFile) {
  const std::string plain = path("a.jsonl");
  write(plain, "{}\n");

  absl::Status status = compress_file(path("missing.jsonl"), path("missing.jsonl.zst"));
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound) << status;
  EXPECT_NE(status.message().find("missing.jsonl"), std::string_view::npos) << status;
  EXPECT_FALSE(fs::exists(path("missing.jsonl.zst")));

  status = compress_file(plain, path("no/such/dir/a.jsonl.zst"));
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("no/such/dir/a.jsonl.zst"), std::string_view::npos) << status;

  status = compress_file(plain, path("a.jsonl.zst"), 1000);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  status = compress_file(plain, plain);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_EQ(read(plain), "{}\n");

  status = compress_file(dir_.string(), path("d.jsonl.zst"));
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;

  // Only the source is left: no partial .zst, no temporary file.
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir_)) names.push_back(entry.path().filename().string());
  EXPECT_EQ(names, std::vector<std::string>{"a.jsonl"});
}

TEST_F(JsonlReaderTest, CompressKeepsThePermissions) {
  const std::string plain = path("a.jsonl");
  write(plain, "{}\n");
  fs::permissions(plain, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  ASSERT_TRUE(compress_file(plain, path("a.jsonl.zst")).ok());
  EXPECT_EQ(fs::status(path("a.jsonl.zst")).permissions(),
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
}

TEST_F(JsonlReaderTest, ZstdCliReadsCompressFileOutput) {
  if (!have_zstd_cli()) GTEST_SKIP() << "zstd is not on PATH";
  const std::string text = lines_with_a_huge_one();
  const std::string plain = path("a.jsonl");
  write(plain, text);
  ASSERT_TRUE(compress_file(plain, path("a.jsonl.zst"), 5).ok());
  ASSERT_EQ(run("zstd -q -dc '" + path("a.jsonl.zst") + "' > '" + path("out.jsonl") + "'"), 0);
  EXPECT_TRUE(read(path("out.jsonl")) == text);
  // `zstd -t` checks the frame, the checksum included.
  EXPECT_EQ(run("zstd -q -t '" + path("a.jsonl.zst") + "'"), 0);

  // And an empty file: one empty frame.
  write(path("empty.jsonl"), "");
  ASSERT_TRUE(compress_file(path("empty.jsonl"), path("empty.jsonl.zst")).ok());
  ASSERT_EQ(run("zstd -q -dc '" + path("empty.jsonl.zst") + "' > '" + path("empty.out") + "'"), 0);
  EXPECT_EQ(read(path("empty.out")), "");
  const ReadResult result = read_all(path("empty.jsonl.zst"));
  EXPECT_TRUE(result.status.ok()) << result.status;
  EXPECT_EQ(result.content, "");
}

TEST_F(JsonlReaderTest, ReadsZstdCliOutputWithConcatenatedFrames) {
  if (!have_zstd_cli()) GTEST_SKIP() << "zstd is not on PATH";
  const std::string first = random_lines(4, 20000, 200);
  const std::string second = lines_with_a_huge_one();
  write(path("1.jsonl"), first);
  write(path("2.jsonl"), second);
  ASSERT_EQ(run("zstd -q -3 -c '" + path("1.jsonl") + "' > '" + path("1.jsonl.zst") + "'"), 0);
  ASSERT_EQ(run("zstd -q -9 -c '" + path("2.jsonl") + "' > '" + path("2.jsonl.zst") + "'"), 0);
  // A skippable frame between the two and one at the end (magic 0x184D2A5?, a
  // 4-byte size, data): zstd -dc skips them.
  const std::string skippable("\x50\x2a\x4d\x18\x03\x00\x00\x00xyz", 11);
  write(path("both.jsonl.zst"), read(path("1.jsonl.zst")) + skippable + read(path("2.jsonl.zst")) + skippable);
  ASSERT_EQ(run("zstd -q -dc '" + path("both.jsonl.zst") + "' > '" + path("both.out") + "'"), 0);
  ASSERT_TRUE(read(path("both.out")) == first + second);

  for (const size_t block_bytes : {kJsonlBlockBytes, size_t{1000}}) {
    SCOPED_TRACE(block_bytes);
    const ReadResult result = read_all(path("both.jsonl.zst"), block_bytes);
    ASSERT_TRUE(result.status.ok()) << result.status;
    EXPECT_TRUE(result.content == first + second);
  }
  // A frame may end inside a line: the line continues in the next frame.
  write(path("x"), "{\"a\":");
  write(path("y"), "1}\n{\"b\":2}\n");
  ASSERT_EQ(run("zstd -q -c '" + path("x") + "' '" + path("y") + "' > '" + path("split.jsonl.zst") + "'"), 0);
  EXPECT_EQ(read_all(path("split.jsonl.zst")).content, "{\"a\":1}\n{\"b\":2}\n");
}

TEST_F(JsonlReaderTest, TruncatedZstdIsDataLossAfterTheLinesBeforeIt) {
  const std::string text = random_lines(5, 30000, 400);  // ~6 MiB, many zstd blocks
  write(path("a.jsonl"), text);
  ASSERT_TRUE(compress_file(path("a.jsonl"), path("a.jsonl.zst")).ok());
  const std::string compressed = read(path("a.jsonl.zst"));
  for (const size_t cut : {size_t{1}, size_t{5}, size_t{13}, compressed.size() / 3, compressed.size() / 2,
                           compressed.size() - 5, compressed.size() - 1}) {
    SCOPED_TRACE(cut);
    const std::string file = path("cut.jsonl.zst");
    write(file, std::string_view(compressed).substr(0, cut));
    const ReadResult result = read_all(file, size_t{64} << 10);
    EXPECT_EQ(result.status.code(), absl::StatusCode::kDataLoss) << result.status;
    EXPECT_NE(result.status.message().find(file), std::string_view::npos) << result.status;
    EXPECT_NE(result.status.message().find("byte " + std::to_string(cut)), std::string_view::npos) << result.status;
    // What came back is whole lines from the start of the file.
    EXPECT_TRUE(text.starts_with(result.content));
    EXPECT_TRUE(result.content.empty() || result.content.back() == '\n');
    if (cut >= compressed.size() / 3) {
      EXPECT_GT(result.content.size(), text.size() / 5);
    }
  }
}

TEST_F(JsonlReaderTest, ErrorsAreSticky) {
  const std::string text = random_lines(6, 10000, 400);
  write(path("a.jsonl"), text);
  ASSERT_TRUE(compress_file(path("a.jsonl"), path("a.jsonl.zst")).ok());
  const std::string compressed = read(path("a.jsonl.zst"));
  write(path("cut.jsonl.zst"), std::string_view(compressed).substr(0, compressed.size() / 2));
  absl::StatusOr<JsonlReader> reader = JsonlReader::open(path("cut.jsonl.zst"), 4096);
  ASSERT_TRUE(reader.ok());
  absl::StatusOr<std::string_view> block;
  uint64_t returned = 0;
  while ((block = reader->next_block()).ok()) {
    ASSERT_FALSE(block->empty()) << "an end instead of an error";
    returned += block->size();
  }
  EXPECT_EQ(block.status().code(), absl::StatusCode::kDataLoss);
  const uint64_t tail = reader->truncated_tail_bytes();
  EXPECT_LE(returned + tail, text.size());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(reader->next_block().status(), block.status());
    EXPECT_EQ(reader->truncated_tail_bytes(), tail);
  }
}

TEST_F(JsonlReaderTest, DamagedZstdIsAnErrorNeverACrashOrAHang) {
  const std::string text = random_lines(7, 20000, 400);
  write(path("a.jsonl"), text);
  ASSERT_TRUE(compress_file(path("a.jsonl"), path("a.jsonl.zst")).ok());
  const std::string compressed = read(path("a.jsonl.zst"));
  std::mt19937_64 random(8);
  for (int trial = 0; trial < 40; ++trial) {
    SCOPED_TRACE(trial);
    std::string damaged = compressed;
    // 1 to 64 bytes, each changed, somewhere after the frame header.
    const size_t length = 1 + random() % 64;
    const size_t at = 16 + random() % (damaged.size() - 16 - length);
    for (size_t i = 0; i < length; ++i) damaged[at + i] = static_cast<char>(damaged[at + i] ^ (1 + random() % 255));
    const std::string file = path("damaged.jsonl.zst");
    write(file, damaged);
    const ReadResult result = read_all(file, trial % 2 == 0 ? kJsonlBlockBytes : size_t{4096});
    EXPECT_EQ(result.status.code(), absl::StatusCode::kDataLoss) << result.status;
    EXPECT_NE(result.status.message().find(file), std::string_view::npos) << result.status;
  }
  // Not zstd at all (a plain file named .zst): an error at byte 0.
  write(path("plain.jsonl.zst"), text);
  const ReadResult result = read_all(path("plain.jsonl.zst"));
  EXPECT_EQ(result.status.code(), absl::StatusCode::kDataLoss) << result.status;
  EXPECT_NE(result.status.message().find("near byte 0 "), std::string_view::npos) << result.status;
  EXPECT_EQ(result.content, "");
}

TEST_F(JsonlReaderTest, PartialLastLineIsNotReturned) {
  const std::string whole = random_lines(9, 5000, 300);
  const std::string partial = "{\"cut\":\"in the midd";
  const std::string file = path("a.jsonl");
  write(file, whole + partial);
  for (const size_t block_bytes : {kJsonlBlockBytes, size_t{1}, size_t{7}, size_t{4096}}) {
    SCOPED_TRACE(block_bytes);
    const ReadResult result = read_all(file, block_bytes);
    ASSERT_TRUE(result.status.ok()) << result.status;
    EXPECT_TRUE(result.content == whole);
    EXPECT_EQ(result.truncated_tail_bytes, partial.size());
  }
  absl::StatusOr<uint64_t> bytes = jsonl_content_bytes(file);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(*bytes, whole.size());

  // Compressed as it is: the same lines and tail.
  ASSERT_TRUE(compress_file(file, path("a.jsonl.zst")).ok());
  const ReadResult result = read_all(path("a.jsonl.zst"), 1000);
  ASSERT_TRUE(result.status.ok()) << result.status;
  EXPECT_TRUE(result.content == whole);
  EXPECT_EQ(result.truncated_tail_bytes, partial.size());

  // No newline at all: no blocks, all tail.
  write(path("b.jsonl"), "abc");
  const ReadResult only_tail = read_all(path("b.jsonl"));
  EXPECT_TRUE(only_tail.status.ok());
  EXPECT_EQ(only_tail.content, "");
  EXPECT_EQ(only_tail.truncated_tail_bytes, 3u);
  EXPECT_EQ(*jsonl_content_bytes(path("b.jsonl")), 0u);
}

TEST_F(JsonlReaderTest, MissingFileIsNotFound) {
  for (const std::string name : {"missing.jsonl", "missing.jsonl.zst"}) {
    absl::StatusOr<JsonlReader> reader = JsonlReader::open(path(name));
    EXPECT_EQ(reader.status().code(), absl::StatusCode::kNotFound) << reader.status();
    EXPECT_NE(reader.status().message().find(path(name)), std::string_view::npos) << reader.status();
    EXPECT_EQ(jsonl_content_bytes(path(name)).status().code(), absl::StatusCode::kNotFound);
  }
  EXPECT_EQ(JsonlReader::open(dir_.string()).status().code(), absl::StatusCode::kFailedPrecondition);
}

// A link or a FIFO named like a data file (planted by whoever can write
// into the store) is never read through: a query run as root must not
// disclose the file it points at, nor hang on a FIFO.
TEST_F(JsonlReaderTest, LinksAndFifosAreNotRead) {
  fs::create_directories(outside());
  const std::string victim = (outside() / "victim.jsonl").string();
  write(victim, "{\"secret\":1}\n");
  fs::create_symlink(victim, path("link.jsonl"));
  ASSERT_EQ(::mkfifo(path("fifo.jsonl").c_str(), 0600), 0);
  for (const std::string name : {"link.jsonl", "fifo.jsonl"}) {
    SCOPED_TRACE(name);
    absl::StatusOr<JsonlReader> reader = JsonlReader::open(path(name));
    EXPECT_EQ(reader.status().code(), absl::StatusCode::kFailedPrecondition) << reader.status();
    EXPECT_NE(reader.status().message().find(path(name)), std::string_view::npos) << reader.status();
    EXPECT_EQ(jsonl_content_bytes(path(name)).status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_FALSE(compress_file(path(name), path(name + ".zst")).ok());
    EXPECT_FALSE(fs::exists(path(name + ".zst")));
  }
  EXPECT_NE(JsonlReader::open(path("link.jsonl")).status().message().find("symbolic link"), std::string_view::npos);
  EXPECT_EQ(read(victim), "{\"secret\":1}\n");
}

// compress_file writes its temporary under a name known in advance, created
// O_EXCL: a link planted there makes it fail (naming the name), and the file
// the link points at is left as it was.
TEST_F(JsonlReaderTest, CompressNeverWritesThroughAPlantedTemporary) {
  fs::create_directories(outside());
  const std::string victim = (outside() / "victim").string();
  write(victim, "precious\n");
  const std::string plain = path("a.jsonl");
  write(plain, "{\"a\":1}\n");
  const std::string temporary = path(temporary_name("a.jsonl.zst"));
  fs::create_symlink(victim, temporary);
  absl::Status status = compress_file(plain, path("a.jsonl.zst"));
  EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists) << status;
  EXPECT_NE(status.message().find(temporary), std::string_view::npos) << status;
  EXPECT_EQ(read(victim), "precious\n");
  EXPECT_FALSE(fs::exists(path("a.jsonl.zst")));
  EXPECT_TRUE(fs::is_symlink(temporary));
  // A link at the final name is replaced, never written through.
  fs::remove(temporary);
  fs::create_symlink(victim, path("a.jsonl.zst"));
  ASSERT_TRUE(compress_file(plain, path("a.jsonl.zst")).ok());
  EXPECT_FALSE(fs::is_symlink(path("a.jsonl.zst")));
  EXPECT_EQ(read_all(path("a.jsonl.zst")).content, "{\"a\":1}\n");
  EXPECT_EQ(read(victim), "precious\n");
}

TEST_F(JsonlReaderTest, EmptyFileHasNoBlocks) {
  for (const std::string name : {"empty.jsonl", "empty.jsonl.zst"}) {
    SCOPED_TRACE(name);
    write(path(name), "");
    absl::StatusOr<JsonlReader> reader = JsonlReader::open(path(name));
    ASSERT_TRUE(reader.ok()) << reader.status();
    for (int i = 0; i < 2; ++i) {
      absl::StatusOr<std::string_view> block = reader->next_block();
      ASSERT_TRUE(block.ok()) << block.status();
      EXPECT_TRUE(block->empty());
    }
    EXPECT_EQ(reader->truncated_tail_bytes(), 0u);
    EXPECT_EQ(*jsonl_content_bytes(path(name)), 0u);
  }
}

TEST_F(JsonlReaderTest, MovesKeepTheStreamAndCloseTheFile) {
  const auto open_fds = [] { return std::distance(fs::directory_iterator("/proc/self/fd"), fs::directory_iterator()); };
  const std::string text = random_lines(10, 3000, 300);
  write(path("a.jsonl"), text);
  ASSERT_TRUE(compress_file(path("a.jsonl"), path("a.jsonl.zst")).ok());
  for (const std::string name : {"a.jsonl", "a.jsonl.zst"}) {
    SCOPED_TRACE(name);
    const auto fds_before = open_fds();
    {
      absl::StatusOr<JsonlReader> opened = JsonlReader::open(path(name), 4096);
      ASSERT_TRUE(opened.ok());
      JsonlReader reader = *std::move(opened);
      absl::StatusOr<std::string_view> first = reader.next_block();
      ASSERT_TRUE(first.ok());
      std::string content(*first);
      JsonlReader moved(std::move(reader));
      for (;;) {
        absl::StatusOr<std::string_view> block = moved.next_block();
        ASSERT_TRUE(block.ok()) << block.status();
        if (block->empty()) break;
        content.append(*block);
      }
      EXPECT_TRUE(content == text);
      EXPECT_EQ(moved.path(), path(name));
      EXPECT_EQ(open_fds(), fds_before + 1);
      // Move assignment closes the file it replaces.
      absl::StatusOr<JsonlReader> other = JsonlReader::open(path("a.jsonl"));
      ASSERT_TRUE(other.ok());
      EXPECT_EQ(open_fds(), fds_before + 2);
      moved = *std::move(other);
      EXPECT_EQ(open_fds(), fds_before + 1);
    }
    EXPECT_EQ(open_fds(), fds_before);
  }
}

TEST_F(JsonlReaderTest, ContentBytes) {
  const std::string text = lines_with_a_huge_one();
  write(path("a.jsonl"), text);
  ASSERT_TRUE(compress_file(path("a.jsonl"), path("a.jsonl.zst")).ok());
  EXPECT_EQ(*jsonl_content_bytes(path("a.jsonl")), text.size());
  EXPECT_EQ(*jsonl_content_bytes(path("a.jsonl.zst")), text.size());
  // Damage is reported, not counted.
  const std::string compressed = read(path("a.jsonl.zst"));
  write(path("cut.jsonl.zst"), std::string_view(compressed).substr(0, compressed.size() / 2));
  EXPECT_EQ(jsonl_content_bytes(path("cut.jsonl.zst")).status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace ringtail::reader
