// FileSink: paths, appending, flush, discard (truncation back to the last
// flush), partial last lines, and file closing. StreamSink: writes, and a
// closed pipe as an error.
#include "ringtail/reader/drain/file_sink.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>

#include "ringtail/reader/drain/stream_sink.hpp"

namespace ringtail::reader {
namespace {

class FileSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("ringtail-file-sink-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static SegmentIdentity identity(uint32_t pid, std::string service, uint64_t start = 1) {
    SegmentIdentity id;
    id.pid = pid;
    id.process_start_ticks = start;
    id.service = std::move(service);
    return id;
  }
  static std::string read(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  // The one file under dir_.
  std::string only_file() const {
    std::string found;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_)) {
      if (entry.is_regular_file()) {
        EXPECT_TRUE(found.empty()) << "more than one file";
        found = entry.path().string();
      }
    }
    return found;
  }

  std::filesystem::path dir_;
};

TEST_F(FileSinkTest, SafeServiceNames) {
  EXPECT_EQ(FileSink::safe_service_name("agent"), "agent");
  EXPECT_EQ(FileSink::safe_service_name("my-svc_2.v1"), "my-svc_2.v1");
  EXPECT_EQ(FileSink::safe_service_name(""), "unknown");
  EXPECT_EQ(FileSink::safe_service_name("."), "_");
  EXPECT_EQ(FileSink::safe_service_name(".."), "_.");
  EXPECT_EQ(FileSink::safe_service_name("../../etc/passwd"), "_._.__etc_passwd");
  EXPECT_EQ(FileSink::safe_service_name("a..b"), "a._b");
  EXPECT_EQ(FileSink::safe_service_name(".hidden"), "_hidden");
  EXPECT_EQ(FileSink::safe_service_name(std::string("a/b\0c d\xff", 8)), "a_b_c_d_");
}

TEST_F(FileSinkTest, PathLayoutAndAppend) {
  FileSink sink(FileSinkOptions{dir_.string()});
  const SegmentIdentity id = identity(42, "svc/x");
  EXPECT_EQ(sink.path_for(id, "2026-01-02"), dir_.string() + "/svc_x/2026-01-02/svc_x-42.jsonl");
  ASSERT_TRUE(sink.write(id, "{\"a\":1}\n").ok());
  EXPECT_EQ(read(only_file()), "");  // buffered until flush
  ASSERT_TRUE(sink.flush().ok());
  const std::string path = only_file();
  ASSERT_FALSE(path.empty());
  EXPECT_EQ(std::filesystem::path(path).filename(), "svc_x-42.jsonl");
  EXPECT_EQ(std::filesystem::path(path).parent_path().parent_path().filename(), "svc_x");
  EXPECT_EQ(read(path), "{\"a\":1}\n");

  // Another sink continues the same file.
  FileSink again(FileSinkOptions{dir_.string()});
  ASSERT_TRUE(again.write(id, "{\"a\":2}\n").ok());
  ASSERT_TRUE(again.flush().ok());
  EXPECT_EQ(read(path), "{\"a\":1}\n{\"a\":2}\n");
}

TEST_F(FileSinkTest, DiscardTakesBackWhatWasNotFlushed) {
  FileSinkOptions options{dir_.string()};
  options.buffer_bytes = 4;  // every write goes to the file at once
  FileSink sink(options);
  const SegmentIdentity id = identity(7, "svc");
  ASSERT_TRUE(sink.write(id, "one\n").ok());
  ASSERT_TRUE(sink.flush().ok());
  ASSERT_TRUE(sink.write(id, "two\n").ok());
  ASSERT_TRUE(sink.write(id, "three\n").ok());
  const std::string path = only_file();
  EXPECT_EQ(read(path), "one\ntwo\nthree\n");
  sink.discard();
  EXPECT_EQ(read(path), "one\n");
  ASSERT_TRUE(sink.write(id, "two\n").ok());
  ASSERT_TRUE(sink.flush().ok());
  EXPECT_EQ(read(path), "one\ntwo\n");
}

TEST_F(FileSinkTest, PartialLastLineIsCutOnOpen) {
  const SegmentIdentity id = identity(9, "svc");
  std::string path;
  {
    FileSink sink(FileSinkOptions{dir_.string()});
    ASSERT_TRUE(sink.write(id, "whole\n").ok());
    ASSERT_TRUE(sink.flush().ok());
    path = only_file();
  }
  {
    std::ofstream append(path, std::ios::app);
    append << "{\"cut\":";  // as if a reader died mid-write
  }
  FileSink sink(FileSinkOptions{dir_.string()});
  ASSERT_TRUE(sink.write(id, "next\n").ok());
  ASSERT_TRUE(sink.flush().ok());
  EXPECT_EQ(read(path), "whole\nnext\n");
}

TEST_F(FileSinkTest, SeparateFilesPerProcessAndClosing) {
  FileSinkOptions options{dir_.string()};
  options.max_open_files = 2;
  FileSink sink(options);
  for (uint32_t pid = 1; pid <= 3; ++pid) {
    ASSERT_TRUE(sink.write(identity(pid, "svc"), "x\n").ok());
    ASSERT_TRUE(sink.flush().ok());
  }
  EXPECT_LE(sink.open_files(), 2u);
  sink.segment_finished(identity(3, "svc"));
  EXPECT_LE(sink.open_files(), 1u);
  size_t files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_)) files += entry.is_regular_file();
  EXPECT_EQ(files, 3u);
}

TEST_F(FileSinkTest, UnwritableDirectoryIsAnError) {
  std::filesystem::create_directories(dir_);
  std::ofstream(dir_ / "file") << "x";
  FileSink sink(FileSinkOptions{(dir_ / "file").string()});
  EXPECT_FALSE(sink.write(identity(1, "svc"), "x\n").ok());
}

TEST(StreamSink, WritesAndFlushes) {
  char buffer[64] = {};
  std::FILE* stream = ::fmemopen(buffer, sizeof(buffer), "w");
  ASSERT_NE(stream, nullptr);
  StreamSink sink(stream, "memory");
  ASSERT_TRUE(sink.write(SegmentIdentity{}, "a\n").ok());
  ASSERT_TRUE(sink.write(SegmentIdentity{}, "b\n").ok());
  ASSERT_TRUE(sink.flush().ok());
  EXPECT_STREQ(buffer, "a\nb\n");
  std::fclose(stream);
}

TEST(StreamSink, ClosedPipeIsAnError) {
  struct sigaction ignore {};
  struct sigaction old {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, &old);
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[0]);
  std::FILE* stream = ::fdopen(fds[1], "w");
  ASSERT_NE(stream, nullptr);
  StreamSink sink(stream, "the pipe");
  const absl::Status written = sink.write(SegmentIdentity{}, "line\n");  // buffered by stdio: may pass
  const absl::Status flushed = sink.flush();
  EXPECT_FALSE(written.ok() && flushed.ok());
  const absl::Status& error = written.ok() ? flushed : written;
  EXPECT_NE(std::string(error.message()).find("the pipe"), std::string::npos) << error;
  EXPECT_NE(std::string(error.message()).find("Broken pipe"), std::string::npos) << error;
  std::fclose(stream);
  ::sigaction(SIGPIPE, &old, nullptr);
}

}  // namespace
}  // namespace ringtail::reader
