// Helpers for the drain engine tests: an in-memory EventSink, the JSONL lines
// parsed back (simdjson), and ringtail-loadgen run as a child process.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "absl/status/status.h"
#include "bin_dir.hpp"
#include "ringtail/reader/sinks/event_sink.hpp"
#include "shape_check.hpp"
#include "subprocess.hpp"

namespace ringtail::reader::testing {

// Keeps what was flushed; can be told to fail. Checks every batch's shapes.
class MemorySink : public EventSink {
 public:
  absl::Status write(const EventBatch& batch) override {
    if (fail_write) return absl::ResourceExhaustedError("test: write fails");
    const std::string_view lines = batch.text;
    if (lines.empty() || lines.back() != '\n') ADD_FAILURE() << "write() got lines not ending in a newline";
    check_shapes(batch);
    pending.append(lines);
    pids.push_back(batch.segment->pid);
    return absl::OkStatus();
  }
  absl::Status flush() override {
    ++flushes;
    if (fail_flush) return absl::ResourceExhaustedError("test: flush fails");
    text.append(pending);
    pending.clear();
    return absl::OkStatus();
  }
  void discard() override {
    ++discards;
    pending.clear();
  }
  void segment_finished(const SegmentIdentity& segment) override { finished.push_back(segment.pid); }

  bool fail_write = false;
  bool fail_flush = false;
  std::string text;     // flushed
  std::string pending;  // written, not flushed
  std::vector<uint32_t> pids;
  std::vector<uint32_t> finished;
  int flushes = 0;
  int discards = 0;
};

// One JSONL line, the fields the tests look at.
struct Line {
  std::string raw;
  std::string message;
  std::string level;
  std::string timestamp;
  uint64_t pid = 0;
  uint64_t tid = 0;
  std::optional<uint64_t> seq;
  std::map<std::string, int64_t> ints;  // every integer field, by key
  int64_t get(const std::string& key) const {
    auto it = ints.find(key);
    return it == ints.end() ? -1 : it->second;
  }
  bool has(const std::string& key) const { return ints.count(key) != 0; }
};

inline std::vector<Line> parse_lines(std::string_view text) {
  std::vector<Line> lines;
  simdjson::dom::parser parser;
  size_t at = 0;
  while (at < text.size()) {
    const size_t end = text.find('\n', at);
    if (end == std::string_view::npos) {
      ADD_FAILURE() << "text does not end with a newline: " << text.substr(at);
      break;
    }
    Line line;
    line.raw = std::string(text.substr(at, end - at));
    at = end + 1;
    simdjson::dom::element doc;
    if (parser.parse(line.raw).get(doc) != simdjson::SUCCESS) {
      ADD_FAILURE() << "not JSON: " << line.raw;
      continue;
    }
    simdjson::dom::object object;
    if (doc.get(object) != simdjson::SUCCESS) {
      ADD_FAILURE() << "not an object: " << line.raw;
      continue;
    }
    for (simdjson::dom::key_value_pair kv : object) {
      const std::string key(kv.key);
      std::string_view s;
      int64_t i = 0;
      uint64_t u = 0;
      if (kv.value.get(s) == simdjson::SUCCESS) {
        if (key == "message") line.message = s;
        if (key == "level") line.level = s;
        if (key == "timestamp") line.timestamp = s;
      } else if (kv.value.get(i) == simdjson::SUCCESS) {
        line.ints[key] = i;
      } else if (kv.value.get(u) == simdjson::SUCCESS) {
        line.ints[key] = static_cast<int64_t>(u);
      }
    }
    line.pid = static_cast<uint64_t>(line.get("pid"));
    line.tid = static_cast<uint64_t>(line.get("tid"));
    if (line.has("seq")) line.seq = static_cast<uint64_t>(line.get("seq"));
    lines.push_back(std::move(line));
  }
  return lines;
}

inline std::vector<Line> with_message(const std::vector<Line>& lines, std::string_view message) {
  std::vector<Line> out;
  for (const Line& line : lines) {
    if (line.message == message) out.push_back(line);
  }
  return out;
}

// ringtail-loadgen as a child process: its options from `env_overrides`
// alone (not the test's RINGTAIL_* variables), stdout to /dev/null. The
// destructor kills it if it still runs and removes its segment.
class Loadgen : public ringtail::test::Subprocess {
 public:
  Loadgen(const std::vector<std::string>& args, std::vector<std::string> env_overrides)
      : Subprocess(ringtail::test::tool_path("ringtail-loadgen"), args,
                   {.env = std::move(env_overrides), .without_ringtail_env = true, .discard_stdout = true}) {}
  ~Loadgen() {
    signal(SIGKILL);
    Subprocess::wait();
    remove_segments();
  }

  // Waits for the exit (SIGKILL after timeout, a test failure); the exit
  // code, or 128 + signal.
  int wait(std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
    const int code = Subprocess::wait(static_cast<int>(timeout.count()));
    if (timed_out()) ADD_FAILURE() << "ringtail-loadgen did not finish in time";
    return code;
  }
  void remove_segments() {
    if (pid() <= 0) return;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/dev/shm", ec)) {
      if (entry.path().filename().string().rfind(prefix(), 0) == 0) std::filesystem::remove(entry.path(), ec);
    }
  }
  bool segment_exists() const {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/dev/shm", ec)) {
      if (entry.path().filename().string().rfind(prefix(), 0) == 0) return true;
    }
    return false;
  }

 private:
  std::string prefix() const { return "ringtail." + std::to_string(pid()) + "."; }
};

// Checks that the "loadgen" event lines hold (thread_index, i) for i in
// [0, events) exactly once per thread, each thread's in increasing order.
inline void expect_each_once_in_thread_order(const std::vector<Line>& lines, int threads, int64_t events) {
  std::map<int64_t, std::vector<int64_t>> by_thread;
  for (const Line& line : lines) {
    if (line.message != "loadgen") continue;
    by_thread[line.get("thread_index")].push_back(line.get("i"));
  }
  ASSERT_EQ(by_thread.size(), static_cast<size_t>(threads));
  for (const auto& [thread, is] : by_thread) {
    ASSERT_EQ(is.size(), static_cast<size_t>(events)) << "thread " << thread;
    for (int64_t k = 0; k < events; ++k) {
      if (is[k] != k) {
        ADD_FAILURE() << "thread " << thread << ": line " << k << " has i " << is[k];
        return;
      }
    }
  }
}

}  // namespace ringtail::reader::testing
