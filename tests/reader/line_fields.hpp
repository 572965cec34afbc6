// Lines a real drain wrote, parsed into their top-level keys: for tests that
// run a producer (ProducerChild) and check what the reader made of it.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "drain_test_support.hpp"
#include "ringtail/reader/drain/drain_engine.hpp"
#include "ringtail/reader/output/redaction.hpp"

namespace ringtail::reader::testing {

// A line's top-level keys, in order, with string values unescaped and other
// values as their JSON text.
struct Fields {
  std::vector<std::string> keys;
  std::map<std::string, std::string> values;
  std::string raw;
  bool has(const std::string& key) const { return values.count(key) != 0; }
  std::string operator[](const std::string& key) const {
    auto it = values.find(key);
    return it == values.end() ? "<absent>" : it->second;
  }
};

inline std::vector<Fields> parse_lines(const std::string& text) {
  std::vector<Fields> out;
  simdjson::dom::parser parser;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    const std::string line = text.substr(start, end - start);
    start = end == std::string::npos ? text.size() : end + 1;
    simdjson::dom::object object;
    if (parser.parse(line).get(object) != simdjson::SUCCESS) {
      ADD_FAILURE() << "not JSON: " << line;
      continue;
    }
    Fields fields;
    fields.raw = line;
    for (auto [key, value] : object) {
      fields.keys.emplace_back(key);
      std::string_view text_value;
      if (value.get(text_value) == simdjson::SUCCESS) {
        fields.values[std::string(key)] = std::string(text_value);
      } else {
        fields.values[std::string(key)] = simdjson::minify(value);
      }
    }
    out.push_back(std::move(fields));
  }
  return out;
}

// Drains `pid`'s segments once (in this process) and parses what came out.
inline std::vector<Fields> drain_lines(pid_t pid, std::shared_ptr<const Redactor> redactor = nullptr) {
  MemorySink sink;
  DrainOptions options;
  options.discovery.pids = {pid};
  options.redactor = std::move(redactor);
  DrainEngine engine(options, sink, nullptr);
  EXPECT_TRUE(engine.drain_once().ok());
  return parse_lines(sink.text);
}

// The first line with this message (a failure, and an empty line, if none).
inline const Fields* find_line(const std::vector<Fields>& lines, const std::string& message) {
  for (const Fields& line : lines) {
    if (line["message"] == message) return &line;
  }
  ADD_FAILURE() << "no line with message " << message;
  static const Fields kNone;
  return &kNone;
}

// Every line with this message, in order.
inline std::vector<const Fields*> lines_with(const std::vector<Fields>& lines, const std::string& message) {
  std::vector<const Fields*> out;
  for (const Fields& line : lines) {
    if (line["message"] == message) out.push_back(&line);
  }
  return out;
}

}  // namespace ringtail::reader::testing
