// StreamSink: writes, and a closed pipe as an error. (The storage
// directory's sink has its own tests: store_sink_test.cpp.)
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include <gtest/gtest.h>

#include "ringtail/reader/sinks/stream_sink.hpp"
#include "shaped_text.hpp"

namespace ringtail::reader {
namespace {

const SegmentIdentity segment;

TEST(StreamSink, WritesAndFlushes) {
  char buffer[64] = {};
  std::FILE* stream = ::fmemopen(buffer, sizeof(buffer), "w");
  ASSERT_NE(stream, nullptr);
  StreamSink sink(stream, "memory");
  ASSERT_TRUE(sink.write(testing::batch_of(segment, "a\n")).ok());
  ASSERT_TRUE(sink.write(testing::batch_of(segment, "b\n")).ok());
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
  const absl::Status written = sink.write(testing::batch_of(segment, "line\n"));  // buffered by stdio: may pass
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
