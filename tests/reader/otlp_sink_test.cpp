// `ringtail drain --sink otlp+http://...` (the real tool) against a test
// collector (http_receiver.py --otlp-proto-dir) that decodes every request
// with the official opentelemetry-proto definitions compiled by protoc:
// protobuf bodies with ParseFromString, JSON bodies with the OTLP JSON
// mapping. The decoded log records and spans are checked against the JSONL
// store the same drain wrote: one log record per stored line but the spans'
// own, with its time, severity, body, event name, trace and span ids and
// every field as an attribute; one span per span.end with its start's time
// and attributes and its parent; the GenAI spans of step.end, llm.call and
// memory.op; the resource of the process. Both encodings decode to the same
// requests; 503 and 429 answers are retried; the redacted secret is in no
// request.
//
// RINGTAIL_OTEL_PROTO_DIR names the definitions (.ci/run sets it). Unset,
// the test is skipped with a message saying why (it fails when CI is set);
// set to a folder without them, it fails.
#include <signal.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "eventually.hpp"
#include "http_collector.hpp"
#include "producer_child.hpp"
#include "ringtail/agent.hpp"
#include "ringtail/reader/output/json_text.hpp"
#include "ringtail/reader/sinks/otlp_sink.hpp"
#include "ringtail/ringtail.hpp"
#include "stored_files.hpp"
#include "subprocess.hpp"

namespace ringtail::reader {
namespace {

using ringtail::kv;
using ringtail::test::ProducerChild;

constexpr const char* kService = "otlp-sink";
constexpr const char* kSecret = "hunter2-otlp";
constexpr int kPlainEvents = 40;

// The definitions RINGTAIL_OTEL_PROTO_DIR names: nullopt when it is unset,
// "" when it names no definitions.
std::optional<std::string> proto_dir() {
  const char* dir = std::getenv("RINGTAIL_OTEL_PROTO_DIR");
  if (dir == nullptr || *dir == '\0') return std::nullopt;
  if (!std::filesystem::exists(std::string(dir) + "/opentelemetry/proto/logs/v1/logs.proto")) return "";
  return std::string(dir);
}

// The test collector, decoding OTLP requests with the definitions in `protos`.
class Collector : public ringtail::test::HttpCollector {
 public:
  Collector(const std::filesystem::path& dir, const std::string& protos, std::vector<std::string> flags)
      : HttpCollector(dir, with_protos(protos, std::move(flags))) {}

 private:
  static std::vector<std::string> with_protos(const std::string& protos, std::vector<std::string> flags) {
    flags.insert(flags.end(), {"--otlp-proto-dir", protos});
    return flags;
  }
};

// An attribute value as text: "s:text", "i:123", "d:1.5", "b:true", "-" (empty).
using Attributes = std::map<std::string, std::string>;

std::string any_value_text(simdjson::dom::element value) {
  std::string_view text;
  if (value["stringValue"].get_string().get(text) == simdjson::SUCCESS) return "s:" + std::string(text);
  if (value["intValue"].get_string().get(text) == simdjson::SUCCESS) return "i:" + std::string(text);
  double number = 0;
  if (value["doubleValue"].get_double().get(number) == simdjson::SUCCESS) {
    std::ostringstream out;
    out.precision(17);
    out << "d:" << number;
    return out.str();
  }
  if (value["doubleValue"].get_string().get(text) == simdjson::SUCCESS) return "d:" + std::string(text);
  bool flag = false;
  if (value["boolValue"].get_bool().get(flag) == simdjson::SUCCESS) return flag ? "b:true" : "b:false";
  return "-";
}

Attributes attributes_of(simdjson::dom::element holder) {
  Attributes out;
  simdjson::dom::array list;
  if (holder["attributes"].get_array().get(list) != simdjson::SUCCESS) return out;
  for (simdjson::dom::element pair : list) {
    const std::string key(pair["key"].get_string().value_unsafe());
    EXPECT_EQ(out.count(key), 0U) << "attribute " << key << " twice";
    simdjson::dom::element value;
    out[key] = pair["value"].get(value) == simdjson::SUCCESS ? any_value_text(value) : "-";
  }
  return out;
}

std::string text_or_empty(simdjson::dom::element e, const char* key) {
  std::string_view text;
  if (e[key].get_string().get(text) != simdjson::SUCCESS) return "";
  return std::string(text);
}

struct Record {  // a log record or a span, flattened
  Attributes resource;
  Attributes attributes;
  std::map<std::string, std::string> fields;  // the record's own scalar members, as text
};

struct Decoded {
  std::vector<Record> logs;
  std::vector<Record> spans;
  size_t refused = 0;
  std::vector<std::string> undecodable;
  std::set<std::string> paths;
  std::set<std::string> content_types;
  std::vector<std::string> requests;  // each decoded request as JSON text
};

// Records as text, without when they were observed (which differs between sinks).
std::vector<std::string> texts(const std::vector<Record>& records) {
  std::vector<std::string> out;
  for (const Record& record : records) {
    std::string text;
    for (const auto* part : {&record.resource, &record.attributes, &record.fields}) {
      for (const auto& [key, value] : *part) {
        if (key != "observedTimeUnixNano") text += key + "=" + value + ";";
      }
      text += "|";
    }
    out.push_back(std::move(text));
  }
  return out;
}

void flatten(simdjson::dom::object object, std::map<std::string, std::string>& fields) {
  for (auto [key, value] : object) {
    std::string_view text;
    int64_t integer = 0;
    if (value.get_string().get(text) == simdjson::SUCCESS) {
      fields[std::string(key)] = std::string(text);
    } else if (value.get_int64().get(integer) == simdjson::SUCCESS) {
      fields[std::string(key)] = std::to_string(integer);
    }
  }
}

Decoded decode(const Collector& collector) {
  Decoded out;
  out.refused = collector.each_accepted([&](simdjson::dom::element entry) {
    std::string_view why;
    if (entry["undecodable"].get_string().get(why) == simdjson::SUCCESS) {
      out.undecodable.emplace_back(why);
      return;
    }
    out.paths.insert(text_or_empty(entry, "path"));
    out.content_types.insert(text_or_empty(entry, "content_type"));
    simdjson::dom::element request = entry["otlp"].value_unsafe();
    out.requests.push_back(simdjson::minify(request));
    for (const char* kind : {"resourceLogs", "resourceSpans"}) {
      simdjson::dom::array resources;
      if (request[kind].get_array().get(resources) != simdjson::SUCCESS) continue;
      const bool logs = std::string_view(kind) == "resourceLogs";
      for (simdjson::dom::element resource : resources) {
        const Attributes resource_attributes = attributes_of(resource["resource"].value_unsafe());
        // Each array is held in a variable: a range-for over value_unsafe() of
        // a temporary result would iterate a dangling array.
        simdjson::dom::array scopes;
        if (resource[logs ? "scopeLogs" : "scopeSpans"].get_array().get(scopes) != simdjson::SUCCESS) continue;
        for (simdjson::dom::element scope : scopes) {
          EXPECT_EQ(text_or_empty(scope["scope"].value_unsafe(), "name"), "ringtail");
          simdjson::dom::array items;
          if (scope[logs ? "logRecords" : "spans"].get_array().get(items) != simdjson::SUCCESS) continue;
          for (simdjson::dom::element item : items) {
            Record record;
            record.resource = resource_attributes;
            record.attributes = attributes_of(item);
            simdjson::dom::object members;
            if (item.get_object().get(members) == simdjson::SUCCESS) flatten(members, record.fields);
            simdjson::dom::element body;
            if (item["body"].get(body) == simdjson::SUCCESS) record.fields["body"] = any_value_text(body);
            simdjson::dom::element status;
            if (item["status"].get(status) == simdjson::SUCCESS) {
              record.fields["status.code"] = text_or_empty(status, "code");
              record.fields["status.message"] = text_or_empty(status, "message");
            }
            (logs ? out.logs : out.spans).push_back(std::move(record));
          }
        }
      }
    }
  });
  return out;
}

// A stored line, parsed.
struct Line {
  std::string text;
  std::string timestamp;  // as stored
  std::string level, message;
  std::map<std::string, std::string> values;  // every key after the head, as an attribute value text
};

std::string value_text(simdjson::dom::element value) {
  switch (value.type()) {
    case simdjson::dom::element_type::STRING:
      return "s:" + std::string(value.get_string().value_unsafe());
    case simdjson::dom::element_type::INT64:
      return "i:" + std::to_string(value.get_int64().value_unsafe());
    case simdjson::dom::element_type::UINT64:
      return "s:" + std::to_string(value.get_uint64().value_unsafe());  // beyond int64: exact as text
    case simdjson::dom::element_type::DOUBLE: {
      std::ostringstream out;
      out.precision(17);
      out << "d:" << value.get_double().value_unsafe();
      return out.str();
    }
    case simdjson::dom::element_type::BOOL:
      return value.get_bool().value_unsafe() ? "b:true" : "b:false";
    case simdjson::dom::element_type::NULL_VALUE:
      return "-";
    default:
      return "s:" + simdjson::minify(value);  // objects and arrays as their JSON text
  }
}

std::vector<Line> stored(const std::string& store) {
  std::vector<Line> out;
  simdjson::dom::parser parser;
  for (const std::string& text : ringtail::test::read_stored_texts(store)) {
    std::istringstream in(text);
    for (std::string raw; std::getline(in, raw);) {
      Line line;
      line.text = raw;
      simdjson::dom::object object;
      if (parser.parse(raw).get_object().get(object) != simdjson::SUCCESS) {
        ADD_FAILURE() << "a stored line does not parse: " << raw;
        continue;
      }
      for (auto [key, value] : object) {
        if (key == "timestamp") {
          line.timestamp = std::string(value.get_string().value_unsafe());
        } else if (key == "level") {
          line.level = std::string(value.get_string().value_unsafe());
        } else if (key == "message") {
          line.message = std::string(value.get_string().value_unsafe());
        } else if (key != "service" && key != "pid") {
          line.values[std::string(key)] = value_text(value);
        }
      }
      out.push_back(std::move(line));
    }
  }
  return out;
}

// timeUnixNano as the store writes a timestamp.
std::string stamp(const std::string& unix_nano) {
  TimestampFormatter formatter;
  std::string out;
  formatter.append(out, std::stoll(unix_nano));
  return out.substr(1, out.size() - 2);
}

std::string attribute_or_empty(const Attributes& attributes, const std::string& key) {
  const auto it = attributes.find(key);
  return it == attributes.end() ? "" : it->second;
}

class OtlpSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::optional<std::string> dir = proto_dir();
    if (!dir) {
      if (std::getenv("CI") != nullptr) FAIL() << "CI must set RINGTAIL_OTEL_PROTO_DIR (.ci/run does)";
      GTEST_SKIP() << "RINGTAIL_OTEL_PROTO_DIR is not set to the opentelemetry-proto definitions "
                      "(.ci/run sets it to ../shared/otel-proto): nothing to decode the requests with";
    }
    ASSERT_FALSE(dir->empty()) << "RINGTAIL_OTEL_PROTO_DIR=" << std::getenv("RINGTAIL_OTEL_PROTO_DIR")
                               << " holds no opentelemetry/proto/logs/v1/logs.proto";
    protos_ = *dir;
    ASSERT_TRUE(ringtail::test::tool_built("ringtail"));
    char templ[] = "/tmp/ringtail-otlp-sink-XXXXXX";
    ASSERT_NE(::mkdtemp(templ), nullptr);
    dir_ = templ;
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // A finished producer: plain events of every value type with hostile
  // strings and a secret, a trace of nested spans with the agent vocabulary
  // inside, a failed span, and vocabulary events outside any span.
  static ProducerChild producer() {
    ringtail::Options options;
    options.service = kService;
    options.min_level = ringtail::Level::kTrace;
    return ProducerChild::start(options, [](ProducerChild::Link&) {
      int lost = 0;
      for (int i = 0; i < kPlainEvents; ++i) {
        lost += !RINGTAIL_INFO("plain", kv("i", i), kv("neg", -1 - i), kv("big", uint64_t{18446744073709551615U}),
                               kv("ratio", 0.25 * i), kv("ok", i % 2 == 0),
                               kv("text", "q\"uote\\ ]\n\x01 \xC3\xA9 \xFF"), kv("api_key", kSecret),
                               kv("trace_id", "not-hex"), kv("blob", std::string(i % 4 == 0 ? 3000 : 1, 'x')));
      }
      lost += !RINGTAIL_TRACE("fine", kv("n", 1));
      lost += !RINGTAIL_DEBUG("detail", kv("n", 2));
      lost += !RINGTAIL_WARN("careful", kv("n", 3));
      lost += !RINGTAIL_ERROR("broken", kv("n", 4));
      lost += !RINGTAIL_CRITICAL("down", kv("n", 5));
      {
        ringtail::ScopedContext context{kv("session_id", "s-1")};
        ringtail::Span root("handle_request", kv("route", "/ask"), kv("attempt", 2));
        lost += !RINGTAIL_INFO("inside", kv("n", 6));
        {
          ringtail::Span child("plan");
          lost += !ringtail::agent::step_start("run-1", 1, "write_file");
          lost += !ringtail::agent::step_end("run-1", 1, "write_file", ringtail::agent::Status::kSuccess, 12.5);
          lost += !ringtail::agent::llm_call("gpt-x", 120, 30, 0.0042, 800.0, "openai");
          lost += !ringtail::agent::memory_op(ringtail::agent::MemoryOp::kRecall, "u-7", "s-1", "e1,e2",
                                              ringtail::agent::Status::kSuccess, 3.0);
        }
        {
          ringtail::Span failing("call_tool", kv("tool", "search"));
          failing.fail(std::runtime_error("tool timed out"));
        }
      }
      lost += !ringtail::agent::step_end("run-2", 7, "read_file", ringtail::agent::Status::kFailure, 4.0);
      lost += !ringtail::agent::memory_op(ringtail::agent::MemoryOp::kCompact, "u-7", "s-2", "",
                                          ringtail::agent::Status::kSuccess, 1.0);
      return lost;
    });
  }

  struct Drained {
    int status = -1;
    std::string out, err;
    std::string store;
  };
  Drained drain(const std::vector<std::string>& sinks) {
    Drained result;
    ProducerChild child = producer();
    EXPECT_TRUE(child.ok()) << child.error();
    EXPECT_EQ(child.join(), 0);
    result.store = (dir_ / "store").string();
    std::vector<std::string> args = {"drain", "--once", "--pid", std::to_string(child.pid()), "--out", result.store};
    for (const std::string& sink : sinks) {
      args.push_back("--sink");
      args.push_back(sink);
    }
    ringtail::test::Tool tool(args);
    result.status = tool.wait();
    result.out = tool.out();
    result.err = tool.err();
    return result;
  }

  std::string protos_;
  std::filesystem::path dir_;
};

TEST_F(OtlpSinkTest, LogRecordsAndSpansMatchTheStoreInBothEncodings) {
  Collector protobuf(dir_ / "protobuf", protos_, {});
  Collector json(dir_ / "json", protos_, {});
  const uint16_t protobuf_port = protobuf.port();
  const uint16_t json_port = json.port();
  ASSERT_NE(protobuf_port, 0);
  ASSERT_NE(json_port, 0);
  const Drained drained = drain({"otlp+http://127.0.0.1:" + std::to_string(protobuf_port) + "/otlp/",
                                 "otlp+http://127.0.0.1:" + std::to_string(json_port) + "?encoding=json"});
  ASSERT_EQ(drained.status, 0) << drained.err;

  const Decoded got = decode(protobuf);
  const Decoded got_json = decode(json);
  EXPECT_TRUE(got.undecodable.empty()) << got.undecodable.front();
  EXPECT_TRUE(got_json.undecodable.empty()) << got_json.undecodable.front();
  EXPECT_EQ(got.paths, (std::set<std::string>{"/otlp/v1/logs", "/otlp/v1/traces"}));
  EXPECT_EQ(got_json.paths, (std::set<std::string>{"/v1/logs", "/v1/traces"}));
  EXPECT_EQ(got.content_types, std::set<std::string>{"application/x-protobuf"});
  EXPECT_EQ(got_json.content_types, std::set<std::string>{"application/json"});
  // The same records, whichever the encoding (but for when they were observed).
  EXPECT_EQ(texts(got.logs), texts(got_json.logs));
  EXPECT_EQ(texts(got.spans), texts(got_json.spans));

  const std::vector<Line> lines = stored(drained.store);
  std::vector<const Line*> log_lines;
  std::map<std::string, const Line*> span_starts;  // by span_id
  std::vector<const Line*> span_ends;
  for (const Line& line : lines) {
    if (line.message == "span.start") {
      span_starts[line.values.at("span_id")] = &line;
    } else if (line.message == "span.end") {
      span_ends.push_back(&line);
    } else {
      log_lines.push_back(&line);
    }
    ASSERT_EQ(line.text.find(kSecret), std::string::npos) << "the store holds the secret: " << line.text;
  }
  // The plain events, one per level, one inside the spans, four of the vocabulary in them and two after.
  ASSERT_EQ(log_lines.size(), static_cast<size_t>(kPlainEvents + 5 + 1 + 4 + 2));
  ASSERT_EQ(span_ends.size(), 3U);

  // Log records: one per line. The store splits lines into files by level
  // class, so records are matched to lines by their seq.
  ASSERT_EQ(got.logs.size(), log_lines.size());
  std::map<std::string, const Record*> logs_by_seq;
  for (const Record& record : got.logs) {
    EXPECT_TRUE(logs_by_seq.emplace(attribute_or_empty(record.attributes, "ringtail.seq"), &record).second);
  }
  char host[256] = {};
  ASSERT_EQ(::gethostname(host, sizeof(host) - 1), 0);
  const std::map<std::string, std::string> severity = {
      {"TRACE", "SEVERITY_NUMBER_TRACE"}, {"DEBUG", "SEVERITY_NUMBER_DEBUG"}, {"INFO", "SEVERITY_NUMBER_INFO"},
      {"WARN", "SEVERITY_NUMBER_WARN"},   {"ERROR", "SEVERITY_NUMBER_ERROR"}, {"CRITICAL", "SEVERITY_NUMBER_FATAL"}};
  const std::map<std::string, std::string> genai_keys = {{"model", "gen_ai.request.model"},
                                                         {"provider", "gen_ai.provider.name"},
                                                         {"input_tokens", "gen_ai.usage.input_tokens"},
                                                         {"output_tokens", "gen_ai.usage.output_tokens"}};
  for (size_t i = 0; i < log_lines.size(); ++i) {
    const Line& line = *log_lines[i];
    SCOPED_TRACE(line.text);
    ASSERT_EQ(logs_by_seq.count(line.values.at("seq")), 1U);
    const Record& record = *logs_by_seq.at(line.values.at("seq"));
    EXPECT_EQ(record.resource.at("service.name"), std::string("s:") + kService);
    EXPECT_EQ(record.resource.at("host.name"), std::string("s:") + host);
    EXPECT_EQ(record.resource.count("process.pid"), 1U);
    EXPECT_EQ(stamp(record.fields.at("timeUnixNano")), line.timestamp);
    EXPECT_FALSE(record.fields.at("observedTimeUnixNano").empty());
    EXPECT_EQ(record.fields.at("severityText"), line.level);
    EXPECT_EQ(record.fields.at("severityNumber"), severity.at(line.level));
    EXPECT_EQ(record.fields.at("body"), "s:" + line.message);
    EXPECT_EQ(record.fields.at("eventName"), line.message);
    Attributes expected;
    for (const auto& [key, value] : line.values) {
      const bool context_id = (key == "trace_id" || key == "span_id") && value.size() >= 2 + 16 &&
                              value.find_first_not_of("0123456789abcdef", 2) == std::string::npos;
      if (context_id) continue;  // the record's own ids (below)
      if (key == "tid") {
        expected["thread.id"] = value;
      } else if (key == "seq") {
        expected["ringtail.seq"] = value;
      } else if (line.message == "llm.call" && genai_keys.count(key) != 0) {
        expected[genai_keys.at(key)] = value;
      } else if ((line.message == "step.start" || line.message == "step.end") && key == "tool") {
        expected["gen_ai.tool.name"] = value;
      } else {
        expected[key] = value;
      }
    }
    if (line.message == "llm.call") expected["gen_ai.operation.name"] = "s:chat";
    if (line.message == "step.start" || line.message == "step.end")
      expected["gen_ai.operation.name"] = "s:execute_tool";
    if (line.message == "memory.op" && line.values.at("operation") == "s:RECALL") {
      expected["gen_ai.operation.name"] = "s:search_memory";
    }
    EXPECT_EQ(record.attributes, expected);
    const auto trace = line.values.find("trace_id");
    if (trace != line.values.end() && trace->second != "s:not-hex") {
      EXPECT_EQ("s:" + record.fields.at("traceId"), trace->second);
      EXPECT_EQ("s:" + record.fields.at("spanId"), line.values.at("span_id"));
    } else {
      EXPECT_EQ(record.fields.count("traceId"), 0U);
    }
  }

  // Spans: the three of the producer, then the vocabulary's.
  std::map<std::string, const Record*> spans_by_name;
  for (const Record& span : got.spans) spans_by_name[span.fields.at("name")] = &span;
  for (const Line* end : span_ends) {
    const std::string id = end->values.at("span_id").substr(2);
    const std::string name = end->values.at("span").substr(2);
    SCOPED_TRACE(name);
    ASSERT_EQ(spans_by_name.count(name), 1U);
    const Record& span = *spans_by_name.at(name);
    const Line& start = *span_starts.at(end->values.at("span_id"));
    EXPECT_EQ(span.fields.at("spanId"), id);
    EXPECT_EQ("s:" + span.fields.at("traceId"), end->values.at("trace_id"));
    const auto parent = end->values.find("parent_span_id");
    EXPECT_EQ(span.fields.count("parentSpanId") ? "s:" + span.fields.at("parentSpanId") : "",
              parent == end->values.end() ? "" : parent->second);
    EXPECT_EQ(stamp(span.fields.at("startTimeUnixNano")), start.timestamp);
    EXPECT_EQ(stamp(span.fields.at("endTimeUnixNano")), end->timestamp);
    EXPECT_EQ(span.fields.at("kind"), "SPAN_KIND_INTERNAL");
    const bool failed = end->values.at("status") == "s:ERROR";
    EXPECT_EQ(span.fields.at("status.code"), failed ? "STATUS_CODE_ERROR" : "STATUS_CODE_OK");
    if (failed) {
      EXPECT_NE(span.fields.at("status.message").find("tool timed out"), std::string::npos);
    }
    for (const auto& [key, value] : start.values) {
      if (key == "span" || key == "trace_id" || key == "span_id" || key == "parent_span_id" || key == "tid") continue;
      EXPECT_EQ(attribute_or_empty(span.attributes, key), value) << key;
    }
  }
  const Record& root = *spans_by_name.at("handle_request");
  const Record& plan = *spans_by_name.at("plan");
  EXPECT_EQ(root.attributes.at("route"), "s:/ask");
  EXPECT_EQ(root.attributes.at("attempt"), "i:2");
  EXPECT_EQ(root.fields.count("parentSpanId"), 0U);
  EXPECT_EQ(plan.fields.at("parentSpanId"), root.fields.at("spanId"));

  // GenAI spans: children of the span they were logged in.
  const Record& tool = *spans_by_name.at("execute_tool write_file");
  EXPECT_EQ(tool.attributes.at("gen_ai.operation.name"), "s:execute_tool");
  EXPECT_EQ(tool.attributes.at("gen_ai.tool.name"), "s:write_file");
  EXPECT_EQ(tool.fields.at("parentSpanId"), plan.fields.at("spanId"));
  EXPECT_EQ(tool.fields.at("traceId"), root.fields.at("traceId"));
  EXPECT_EQ(std::stoll(tool.fields.at("endTimeUnixNano")) - std::stoll(tool.fields.at("startTimeUnixNano")),
            12'500'000);
  EXPECT_EQ(tool.fields.count("status.code") ? tool.fields.at("status.code") : "", "");
  const Record& chat = *spans_by_name.at("chat gpt-x");
  EXPECT_EQ(chat.fields.at("kind"), "SPAN_KIND_CLIENT");
  EXPECT_EQ(chat.attributes.at("gen_ai.operation.name"), "s:chat");
  EXPECT_EQ(chat.attributes.at("gen_ai.request.model"), "s:gpt-x");
  EXPECT_EQ(chat.attributes.at("gen_ai.provider.name"), "s:openai");
  EXPECT_EQ(chat.attributes.at("gen_ai.usage.input_tokens"), "i:120");
  EXPECT_EQ(chat.attributes.at("gen_ai.usage.output_tokens"), "i:30");
  EXPECT_EQ(chat.fields.at("parentSpanId"), plan.fields.at("spanId"));
  const Record& memory = *spans_by_name.at("search_memory");
  EXPECT_EQ(memory.attributes.at("gen_ai.operation.name"), "s:search_memory");
  EXPECT_EQ(memory.fields.at("parentSpanId"), plan.fields.at("spanId"));
  // Outside any span: a failed step in its run's own trace; a memory
  // operation the conventions have no name for.
  const Record& failed_step = *spans_by_name.at("execute_tool read_file");
  EXPECT_EQ(failed_step.fields.at("status.code"), "STATUS_CODE_ERROR");
  EXPECT_EQ(failed_step.fields.count("parentSpanId"), 0U);
  EXPECT_NE(failed_step.fields.at("traceId"), root.fields.at("traceId"));
  EXPECT_EQ(spans_by_name.count("memory COMPACT"), 1U);
  EXPECT_EQ(got.spans.size(), 3U + 5U);

  // Nothing of the secret went out; the summary counts what was sent.
  for (const std::string& request : got.requests) EXPECT_EQ(request.find(kSecret), std::string::npos);
  EXPECT_NE(drained.out.find(std::to_string(log_lines.size() + span_starts.size() + span_ends.size()) + " lines sent"),
            std::string::npos)
      << drained.out;
  EXPECT_NE(drained.out.find(std::to_string(log_lines.size() + got.spans.size()) + " OTLP records delivered"),
            std::string::npos)
      << drained.out;
}

TEST_F(OtlpSinkTest, ServerErrorsAndTooManyRequestsAreRetriedUntilEverythingArrives) {
  Collector collector(dir_ / "flaky", protos_, {"--fail", "2", "--status", "503", "--retry-after", "1"});
  const uint16_t port = collector.port();
  ASSERT_NE(port, 0);
  const Drained drained = drain({"otlp+http://127.0.0.1:" + std::to_string(port)});
  ASSERT_EQ(drained.status, 0) << drained.err;
  const Decoded got = decode(collector);
  EXPECT_EQ(got.refused, 2U);
  EXPECT_TRUE(got.undecodable.empty());
  size_t log_lines = 0;
  for (const Line& line : stored(drained.store))
    log_lines += line.message != "span.start" && line.message != "span.end";
  EXPECT_EQ(got.logs.size(), log_lines);
  EXPECT_EQ(got.spans.size(), 8U);
  EXPECT_NE(drained.out.find("requests sent again"), std::string::npos) << drained.out;
}

TEST_F(OtlpSinkTest, ACollectorThatFailsCostsTheStoreNothingAndItsLossesAreCounted) {
  Collector collector(dir_ / "down", protos_, {"--fail", "1000000", "--status", "500"});
  const uint16_t port = collector.port();
  ASSERT_NE(port, 0);
  const Drained drained = drain({"otlp+http://127.0.0.1:" + std::to_string(port)});
  ASSERT_EQ(drained.status, 0) << drained.err;
  const std::vector<Line> lines = stored(drained.store);
  size_t log_lines = 0;
  for (const Line& line : lines) log_lines += line.message != "span.start" && line.message != "span.end";
  EXPECT_EQ(log_lines, static_cast<size_t>(kPlainEvents + 5 + 1 + 4 + 2));
  const Decoded got = decode(collector);
  EXPECT_TRUE(got.logs.empty());
  EXPECT_GE(got.refused, 1U);
  // Every record the sink made is counted as lost: the log records, the
  // producer's three spans and the vocabulary's five.
  EXPECT_NE(drained.out.find("0 OTLP records delivered, " + std::to_string(log_lines + 8) + " in failed requests"),
            std::string::npos)
      << drained.out;
  EXPECT_NE(drained.out.find("last error: POST http://127.0.0.1:" + std::to_string(port) + "/v1/logs: HTTP 500"),
            std::string::npos)
      << drained.out;
}

TEST(OtlpSinkParse, Uris) {
  absl::StatusOr<OtlpTarget> t = parse_otlp_uri("otlp+http://collector.example");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_FALSE(t->http.https);
  EXPECT_EQ(t->http.host, "collector.example");
  EXPECT_EQ(t->http.port, 4318);
  EXPECT_EQ(t->http.path, "");
  EXPECT_EQ(t->encoding, OtlpEncoding::kProtobuf);
  t = parse_otlp_uri("otlp+https://[::1]:4443/api/otel/?encoding=json");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_TRUE(t->http.https);
  EXPECT_EQ(t->http.host, "::1");
  EXPECT_EQ(t->http.port, 4443);
  EXPECT_EQ(t->http.path, "/api/otel");
  EXPECT_EQ(t->encoding, OtlpEncoding::kJson);
  for (const char* bad : {"otlp://x", "otlp+http://", "otlp+http://h:0", "otlp+http://h?encoding=xml",
                          "otlp+http://h?batch=1", "otlp+http://h/a b"}) {
    EXPECT_FALSE(parse_otlp_uri(bad).ok()) << bad;
  }
  const absl::StatusOr<OtlpTarget> with_password = parse_otlp_uri("otlp+http://user:pa55word@h/");
  ASSERT_FALSE(with_password.ok());
  EXPECT_EQ(with_password.status().message().find("pa55word"), std::string_view::npos) << with_password.status();
}

}  // namespace
}  // namespace ringtail::reader
