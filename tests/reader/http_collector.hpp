// HttpCollector: the test collector (http_receiver.py, Python's http.server
// on a free loopback port) as a process of a test: started with the
// receiver's flags (--fail, --status, --retry-after, --hang,
// --otlp-proto-dir; see the script), stopped with SIGTERM at the end. It
// records each POST it gets as one JSON line of DIR/posts.jsonl, which
// posts() and each_accepted() read.
//
// Needs RINGTAIL_TEST_SOURCE_DIR (the folder of http_receiver.py) defined by
// the test's CMake target. Header-only.
#pragma once

#include <signal.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "eventually.hpp"
#include "subprocess.hpp"

namespace ringtail::test {

class HttpCollector {
 public:
  HttpCollector(const std::filesystem::path& dir, const std::vector<std::string>& flags) : dir_(dir) {
    std::filesystem::create_directories(dir);
    std::vector<std::string> args = {std::string(RINGTAIL_TEST_SOURCE_DIR) + "/http_receiver.py", "--port-file",
                                     (dir / "port").string(), "--out", (dir / "posts.jsonl").string()};
    args.insert(args.end(), flags.begin(), flags.end());
    process_.emplace("/usr/bin/python3", args);
  }
  ~HttpCollector() {
    if (process_) {
      process_->signal(SIGTERM);
      process_->wait(20000);
    }
  }
  HttpCollector(const HttpCollector&) = delete;
  HttpCollector& operator=(const HttpCollector&) = delete;

  // The port, once it listens (0 if it never does).
  uint16_t port() {
    uint16_t port = 0;
    (void)eventually([&] {
      std::ifstream in(dir_ / "port");
      unsigned value = 0;
      if (!(in >> value)) return false;
      port = static_cast<uint16_t>(value);
      return true;
    });
    return port;
  }
  // Each POST as the collector recorded it (accepted ones, and {"refused": true}).
  std::vector<std::string> posts() const {
    std::ifstream in(dir_ / "posts.jsonl");
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }
  // Calls `accepted` with each record of a POST the collector did not refuse,
  // parsed (valid during the call); returns how many it refused. A record
  // that does not parse is a test failure.
  size_t each_accepted(const std::function<void(simdjson::dom::element)>& accepted) const {
    size_t refused = 0;
    simdjson::dom::parser parser;
    for (const std::string& post : posts()) {
      simdjson::dom::element entry;
      if (parser.parse(post).get(entry) != simdjson::SUCCESS) {
        ADD_FAILURE() << "a record of the collector does not parse: " << post;
        continue;
      }
      bool was_refused = false;
      if (entry["refused"].get_bool().get(was_refused) == simdjson::SUCCESS && was_refused) {
        ++refused;
        continue;
      }
      accepted(entry);
    }
    return refused;
  }

 private:
  std::filesystem::path dir_;
  std::optional<Subprocess> process_;
};

}  // namespace ringtail::test
