#include "ringtail/reader/sinks/otlp_encoder.hpp"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "ringtail/reader/output/json_text.hpp"
#include "ringtail/shm/level.hpp"
#include "sinks/otlp_wire.hpp"

namespace ringtail::reader {
namespace {

using internal::OtlpJsonWriter;
using internal::ProtobufWriter;

// Field numbers of opentelemetry-proto (v1): the collector requests, then
// the messages they hold. Resource{Logs,Spans} and Scope{Logs,Spans} number
// their members alike, so one set serves both requests.
constexpr uint32_t kResourceItems = 1;  // resource_logs, resource_spans
constexpr uint32_t kResource = 1;
constexpr uint32_t kScopeItems = 2;  // scope_logs, scope_spans
constexpr uint32_t kScope = 1;
constexpr uint32_t kRecordItems = 2;  // log_records, spans
constexpr uint32_t kScopeName = 1;
constexpr uint32_t kScopeVersion = 2;
constexpr uint32_t kResourceAttributes = 1;
constexpr uint32_t kKey = 1;
constexpr uint32_t kValue = 2;
constexpr uint32_t kStringValue = 1;
constexpr uint32_t kBoolValue = 2;
constexpr uint32_t kIntValue = 3;
constexpr uint32_t kDoubleValue = 4;
// LogRecord
constexpr uint32_t kLogTime = 1;
constexpr uint32_t kLogSeverityNumber = 2;
constexpr uint32_t kLogSeverityText = 3;
constexpr uint32_t kLogBody = 5;
constexpr uint32_t kLogAttributes = 6;
constexpr uint32_t kLogTraceId = 9;
constexpr uint32_t kLogSpanId = 10;
constexpr uint32_t kLogObservedTime = 11;
constexpr uint32_t kLogEventName = 12;
// Span
constexpr uint32_t kSpanTraceId = 1;
constexpr uint32_t kSpanSpanId = 2;
constexpr uint32_t kSpanParentSpanId = 4;
constexpr uint32_t kSpanName = 5;
constexpr uint32_t kSpanKind = 6;
constexpr uint32_t kSpanStart = 7;
constexpr uint32_t kSpanEnd = 8;
constexpr uint32_t kSpanAttributes = 9;
constexpr uint32_t kSpanStatus = 15;
constexpr uint32_t kStatusMessage = 2;
constexpr uint32_t kStatusCode = 3;

constexpr uint32_t kSpanKindInternal = 1;
constexpr uint32_t kSpanKindClient = 3;
constexpr uint32_t kStatusUnset = 0;
constexpr uint32_t kStatusOk = 1;
constexpr uint32_t kStatusError = 2;

constexpr std::string_view kScopeNameText = "ringtail";
constexpr std::string_view kScopeVersionText = "0.1.0";

// Plans kept per line layout before the table starts again (layouts are few;
// this bounds a hostile producer that makes many).
constexpr size_t kMaxPlans = 4096;

// SeverityNumber of the OTel log data model: the first of each range.
uint32_t severity_number(shm::Level level) {
  switch (level) {
    case shm::Level::kTrace:
      return 1;
    case shm::Level::kDebug:
      return 5;
    case shm::Level::kInfo:
      return 9;
    case shm::Level::kWarn:
      return 13;
    case shm::Level::kError:
      return 17;
    case shm::Level::kCritical:
      return 21;  // FATAL
    default:
      return 0;
  }
}

// What a line's message says about it, for the GenAI mapping.
enum class Vocabulary : uint8_t { kNone, kStep, kStepEnd, kLlmCall, kMemoryOp };

// What a field is beside an attribute.
enum class Special : uint8_t {
  kNone,
  kTraceId,
  kSpanId,
  kParentSpanId,
  kSpanName,
  kStatus,
  kError,
  kDurationMs,
  kTool,
  kModel,
  kOperation,
  kRunId,
};

struct FieldPlan {
  std::string key;  // the attribute's name: the key unescaped, or its GenAI name
  Special special = Special::kNone;
  bool attribute = true;  // exported as an attribute (ids only when they do not parse)
};

struct LinePlan {
  Vocabulary vocabulary = Vocabulary::kNone;
  std::vector<FieldPlan> fields;
};

Vocabulary vocabulary_of(std::string_view message) {
  if (message == "step.end") return Vocabulary::kStepEnd;
  if (message == "step.start") return Vocabulary::kStep;
  if (message == "llm.call") return Vocabulary::kLlmCall;
  if (message == "memory.op") return Vocabulary::kMemoryOp;
  return Vocabulary::kNone;
}

void plan_field(LineKind kind, Vocabulary vocabulary, std::string_view key, FieldPlan& plan) {
  plan.key.assign(key);
  plan.special = Special::kNone;
  plan.attribute = true;
  if (kind == LineKind::kSpanStart || kind == LineKind::kSpanEnd) {
    // A span's own keys (docs/FORMAT.md, "Context and spans") are its ids,
    // name and outcome, not attributes.
    if (key == "trace_id") plan.special = Special::kTraceId;
    if (key == "span_id") plan.special = Special::kSpanId;
    if (key == "parent_span_id") plan.special = Special::kParentSpanId;
    if (key == "span") plan.special = Special::kSpanName;
    if (key == "status") plan.special = Special::kStatus;
    if (key == "error") plan.special = Special::kError;
    if (key == "duration_ms") plan.special = Special::kDurationMs;
    plan.attribute = plan.special == Special::kNone;
    return;
  }
  if (key == "trace_id") plan.special = Special::kTraceId;
  if (key == "span_id") plan.special = Special::kSpanId;
  if (kind != LineKind::kEvent) return;
  switch (vocabulary) {
    case Vocabulary::kStep:
    case Vocabulary::kStepEnd:
      if (key == "tool") {
        plan.special = Special::kTool;
        plan.key = "gen_ai.tool.name";
      }
      if (key == "status") plan.special = Special::kStatus;
      if (key == "duration_ms") plan.special = Special::kDurationMs;
      if (key == "run_id") plan.special = Special::kRunId;
      break;
    case Vocabulary::kLlmCall:
      if (key == "model") {
        plan.special = Special::kModel;
        plan.key = "gen_ai.request.model";
      }
      if (key == "provider") plan.key = "gen_ai.provider.name";
      if (key == "input_tokens") plan.key = "gen_ai.usage.input_tokens";
      if (key == "output_tokens") plan.key = "gen_ai.usage.output_tokens";
      if (key == "duration_ms") plan.special = Special::kDurationMs;
      break;
    case Vocabulary::kMemoryOp:
      if (key == "operation") plan.special = Special::kOperation;
      if (key == "status") plan.special = Special::kStatus;
      if (key == "duration_ms") plan.special = Special::kDurationMs;
      break;
    case Vocabulary::kNone:
      break;
  }
}

// The GenAI memory operation name of a memory.op "operation", or empty.
std::string_view memory_operation_name(std::string_view operation) {
  if (operation == "STORE") return "update_memory";
  if (operation == "RECALL") return "search_memory";
  if (operation == "FORGET") return "delete_memory";
  return {};
}

// 2 * size hex digits in a JSON string, not all zero (an invalid id in OTLP).
bool parse_hex_id(std::string_view json_value, uint8_t* out, size_t size) {
  if (json_value.size() != 2 * size + 2 || json_value.front() != '"' || json_value.back() != '"') return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  uint8_t any = 0;
  for (size_t i = 0; i < size; ++i) {
    const int high = nibble(json_value[1 + 2 * i]);
    const int low = nibble(json_value[2 + 2 * i]);
    if (high < 0 || low < 0) return false;
    out[i] = static_cast<uint8_t>(high << 4 | low);
    any |= out[i];
  }
  return any != 0;
}

// Ids made up for spans the producer did not name (the vocabulary's events):
// the same inputs give the same id in every reader (FNV-1a, then the
// splitmix64 finalizer to spread it).
class IdHash {
 public:
  IdHash& add(uint64_t value) {
    for (int i = 0; i < 8; ++i) byte(static_cast<uint8_t>(value >> (8 * i)));
    return *this;
  }
  IdHash& add(std::string_view text) {
    for (const char c : text) byte(static_cast<uint8_t>(c));
    return add(text.size());
  }
  uint64_t value(uint64_t salt) const {
    uint64_t x = state_ ^ salt;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x == 0 ? 1 : x;
  }

 private:
  void byte(uint8_t b) { state_ = (state_ ^ b) * 0x100000001b3ULL; }
  uint64_t state_ = 0xcbf29ce484222325ULL;
};

void store_big_endian(uint64_t value, uint8_t* out) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(value >> (56 - 8 * i));
}

struct Ids {
  uint8_t trace[16] = {};
  uint8_t span[8] = {};
  uint8_t parent[8] = {};
  bool has_trace = false;
  bool has_span = false;
  bool has_parent = false;
};

// A trace, span or parent span id field's value into `ids` (its has_ flag
// says whether it parsed).
void read_id(Special special, std::string_view value, Ids& ids) {
  switch (special) {
    case Special::kTraceId:
      ids.has_trace = parse_hex_id(value, ids.trace, sizeof(ids.trace));
      break;
    case Special::kSpanId:
      ids.has_span = parse_hex_id(value, ids.span, sizeof(ids.span));
      break;
    case Special::kParentSpanId:
      ids.has_parent = parse_hex_id(value, ids.parent, sizeof(ids.parent));
      break;
    default:
      break;
  }
}

uint64_t span_key(const uint8_t* span) {
  uint64_t key = 0;
  for (int i = 0; i < 8; ++i) key = key << 8 | span[i];
  return key;
}

// Text valid for a protobuf string (UTF-8), from bytes that may not be.
std::string valid_utf8(std::string_view bytes) {
  std::string json;
  append_json_string(json, bytes);
  std::string scratch;
  return std::string(json_string_text(json, scratch));
}

uint64_t unsigned_time(int64_t ns) { return ns > 0 ? static_cast<uint64_t>(ns) : 0; }

// A JSON number as a double (0 when it is not one).
double number_value(std::string_view value) {
  double out = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), out);
  if (error != std::errc() || end != value.data() + value.size() || !std::isfinite(out)) return 0;
  return out;
}

}  // namespace

class OtlpEncoder::Impl {
 public:
  virtual ~Impl() = default;
  virtual void add(const EventBatch& batch, int64_t observed_ns) = 0;
  virtual OtlpRequests take() = 0;
  virtual void segment_finished(const SegmentIdentity& segment) = 0;
  size_t pending_bytes = 0;
  uint64_t pending_records = 0;
  OtlpEncoderCounts counts;
};

template <class Writer>
class OtlpEncoder::EncoderFor final : public OtlpEncoder::Impl {
 public:
  explicit EncoderFor(std::string_view host_name) : host_name_(valid_utf8(host_name)) {}

  void add(const EventBatch& batch, int64_t observed_ns) override {
    if (batch.empty() || batch.segment == nullptr) return;
    Resource& resource = resource_for(*batch.segment);
    const size_t before = resource.logs.size() + resource.spans.size();
    for (const LineShape& shape : batch.lines) {
      const LinePlan& plan = plan_for(batch, shape);
      switch (shape.kind) {
        case LineKind::kSpanStart:
          keep_span_start(resource, batch, shape, plan);
          break;
        case LineKind::kSpanEnd:
          add_span_end(resource, batch, shape, plan);
          break;
        default:
          add_log_record(resource, batch, shape, plan, observed_ns);
          if (shape.kind == LineKind::kEvent &&
              (plan.vocabulary == Vocabulary::kStepEnd || plan.vocabulary == Vocabulary::kLlmCall ||
               plan.vocabulary == Vocabulary::kMemoryOp)) {
            add_vocabulary_span(resource, batch, shape, plan);
          }
          break;
      }
    }
    logs_writer_.release();  // the next batch's resource may move this one
    spans_writer_.release();
    pending_bytes += resource.logs.size() + resource.spans.size() - before;
  }

  OtlpRequests take() override {
    OtlpRequests out;
    for (const Resource& resource : resources_) {
      out.log_records += resource.log_count;
      out.spans += resource.span_count;
    }
    if (out.log_records > 0) request(out.logs, "resourceLogs", "scopeLogs", "logRecords", &Resource::logs);
    if (out.spans > 0) request(out.traces, "resourceSpans", "scopeSpans", "spans", &Resource::spans);
    resources_.clear();
    last_ = 0;
    pending_bytes = 0;
    pending_records = 0;
    return out;
  }

  void segment_finished(const SegmentIdentity& segment) override {
    for (auto it = open_spans_.begin(); it != open_spans_.end();) {
      if (std::get<0>(it->first) == segment.pid && std::get<1>(it->first) == segment.process_start_ticks) {
        open_span_bytes_ -= it->second.attributes.size();
        open_spans_.erase(it++);
      } else {
        ++it;
      }
    }
  }

 private:
  struct Resource {
    uint32_t pid = 0;
    uint64_t start_ticks = 0;
    std::string service;  // valid UTF-8
    std::string logs;     // encoded LogRecord items
    std::string spans;    // encoded Span items
    uint64_t log_count = 0;
    uint64_t span_count = 0;
  };
  struct OpenSpan {
    int64_t start_ns = 0;
    std::string attributes;  // encoded KeyValue items
  };
  using OpenSpanKey = std::tuple<uint32_t, uint64_t, uint64_t>;  // pid, start ticks, span id

  Resource& resource_for(const SegmentIdentity& segment) {
    auto same = [&](const Resource& r) { return r.pid == segment.pid && r.start_ticks == segment.process_start_ticks; };
    if (last_ < resources_.size() && same(resources_[last_])) return resources_[last_];
    for (size_t i = 0; i < resources_.size(); ++i) {
      if (same(resources_[i])) {
        last_ = i;
        return resources_[i];
      }
    }
    Resource& added = resources_.emplace_back();
    added.pid = segment.pid;
    added.start_ticks = segment.process_start_ticks;
    added.service = valid_utf8(segment.service);
    last_ = resources_.size() - 1;
    return added;
  }

  const LinePlan& plan_for(const ShapedLines& lines, const LineShape& shape) {
    if (shape.layout != 0) {
      if (const auto it = plans_.find(shape.layout); it != plans_.end()) return it->second;
      if (plans_.size() >= kMaxPlans) plans_.clear();
      LinePlan& plan = plans_[shape.layout];
      make_plan(lines, shape, plan);
      return plan;
    }
    make_plan(lines, shape, scratch_plan_);
    return scratch_plan_;
  }

  void make_plan(const ShapedLines& lines, const LineShape& shape, LinePlan& plan) {
    plan.vocabulary = shape.kind == LineKind::kEvent ? vocabulary_of(json_string_text(lines.message(shape), scratch_))
                                                     : Vocabulary::kNone;
    plan.fields.resize(shape.field_count);
    for (uint32_t i = 0; i < shape.field_count; ++i) {
      const FieldSpan& field = lines.fields[shape.first_field + i];
      plan_field(shape.kind, plan.vocabulary, json_string_text(lines.key(shape, field), scratch_), plan.fields[i]);
    }
  }

  // AnyValue members for a value as the drain wrote it.
  static void any_value(Writer& w, std::string_view value) {
    switch (json_kind(value)) {
      case JsonKind::kString:
        w.json_string(kStringValue, "stringValue", value);
        return;
      case JsonKind::kBool:
        w.boolean(kBoolValue, "boolValue", value.front() == 't');
        return;
      case JsonKind::kNull:
        return;  // an empty AnyValue
      case JsonKind::kNumber: {
        if (value.find_first_of(".eE") == std::string_view::npos) {
          int64_t integer = 0;
          const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), integer);
          if (error == std::errc() && end == value.data() + value.size()) {
            w.int64(kIntValue, "intValue", integer);
          } else {
            w.string(kStringValue, "stringValue", value);  // beyond int64: exact as text
          }
          return;
        }
        double number = 0;
        const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), number);
        if (error == std::errc() && end == value.data() + value.size()) {
          w.float64(kDoubleValue, "doubleValue", number);
        } else {
          w.string(kStringValue, "stringValue", value);
        }
        return;
      }
      case JsonKind::kObject:
      case JsonKind::kArray:
        w.string(kStringValue, "stringValue", value);  // the JSON text
        return;
    }
  }
  static void attribute(Writer& w, uint32_t field, std::string_view key, std::string_view value) {
    w.open(field, "");
    w.string(kKey, "key", key);
    w.open(kValue, "value");
    any_value(w, value);
    w.close();
    w.close();
  }
  static void int_attribute(Writer& w, uint32_t field, std::string_view key, uint64_t value) {
    w.open(field, "");
    w.string(kKey, "key", key);
    w.open(kValue, "value");
    if (value <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      w.int64(kIntValue, "intValue", static_cast<int64_t>(value));
    } else {
      w.string(kStringValue, "stringValue", std::to_string(value));
    }
    w.close();
    w.close();
  }
  static void string_attribute(Writer& w, uint32_t field, std::string_view key, std::string_view text) {
    w.open(field, "");
    w.string(kKey, "key", key);
    w.open(kValue, "value");
    w.string(kStringValue, "stringValue", text);
    w.close();
    w.close();
  }

  // The GenAI operation of an event of the vocabulary, or empty.
  std::string_view operation_name(const ShapedLines& lines, const LineShape& shape, const LinePlan& plan) {
    switch (plan.vocabulary) {
      case Vocabulary::kStep:
      case Vocabulary::kStepEnd:
        return "execute_tool";
      case Vocabulary::kLlmCall:
        return "chat";
      case Vocabulary::kMemoryOp:
        for (uint32_t i = 0; i < shape.field_count; ++i) {
          if (plan.fields[i].special != Special::kOperation) continue;
          const std::string_view value = lines.value(shape, lines.fields[shape.first_field + i]);
          if (json_kind(value) == JsonKind::kString) return memory_operation_name(json_string_text(value, scratch_));
        }
        return {};
      case Vocabulary::kNone:
        return {};
    }
    return {};
  }

  // Attributes of an event's fields; its context ids go to `ids` instead
  // when they parse.
  void event_attributes(Writer& w, uint32_t field, const ShapedLines& lines, const LineShape& shape,
                        const LinePlan& plan, Ids& ids) {
    if (shape.has_tid) int_attribute(w, field, "thread.id", shape.tid);
    if (shape.has_seq) int_attribute(w, field, "ringtail.seq", shape.seq);
    for (uint32_t i = 0; i < shape.field_count; ++i) {
      const FieldPlan& fp = plan.fields[i];
      const std::string_view value = lines.value(shape, lines.fields[shape.first_field + i]);
      if (fp.special == Special::kTraceId && parse_hex_id(value, ids.trace, sizeof(ids.trace))) {
        ids.has_trace = true;
        continue;
      }
      if (fp.special == Special::kSpanId && parse_hex_id(value, ids.span, sizeof(ids.span))) {
        ids.has_span = true;
        continue;
      }
      attribute(w, field, fp.key, value);
    }
    if (const std::string_view operation = operation_name(lines, shape, plan); !operation.empty()) {
      string_attribute(w, field, "gen_ai.operation.name", operation);
    }
  }

  void add_log_record(Resource& resource, const ShapedLines& lines, const LineShape& shape, const LinePlan& plan,
                      int64_t observed_ns) {
    Writer& w = logs_writer_;
    w.target(resource.logs);
    w.open_record(kRecordItems, "");
    w.fixed64(kLogTime, "timeUnixNano", unsigned_time(shape.time_ns));
    w.fixed64(kLogObservedTime, "observedTimeUnixNano", unsigned_time(observed_ns));
    w.enumeration(kLogSeverityNumber, "severityNumber", severity_number(shape.level));
    w.string(kLogSeverityText, "severityText", shm::level_name(shape.level));
    w.open(kLogBody, "body");
    w.escaped(kStringValue, "stringValue", lines.message(shape));
    w.close();
    w.escaped(kLogEventName, "eventName", lines.message(shape));
    Ids ids;
    w.open_list("attributes");
    event_attributes(w, kLogAttributes, lines, shape, plan, ids);
    w.close_list();
    if (ids.has_trace) w.id(kLogTraceId, "traceId", ids.trace, sizeof(ids.trace));
    if (ids.has_span) w.id(kLogSpanId, "spanId", ids.span, sizeof(ids.span));
    w.close();
    ++resource.log_count;
    ++pending_records;
  }

  void keep_span_start(const Resource& resource, const ShapedLines& lines, const LineShape& shape,
                       const LinePlan& plan) {
    uint8_t span[8];
    bool has_span = false;
    for (uint32_t i = 0; i < shape.field_count && !has_span; ++i) {
      if (plan.fields[i].special != Special::kSpanId) continue;
      has_span = parse_hex_id(lines.value(shape, lines.fields[shape.first_field + i]), span, sizeof(span));
    }
    if (!has_span) return;  // an end cannot name it either
    if (open_spans_.size() >= kMaxOpenSpans || open_span_bytes_ >= kMaxOpenSpanBytes) {
      ++counts.span_starts_not_kept;
      return;
    }
    OpenSpan open;
    open.start_ns = shape.time_ns;
    Writer& w = scratch_writer_;
    w.target(open.attributes);
    for (uint32_t i = 0; i < shape.field_count; ++i) {
      if (!plan.fields[i].attribute) continue;
      attribute(w, kSpanAttributes, plan.fields[i].key, lines.value(shape, lines.fields[shape.first_field + i]));
    }
    w.release();
    const OpenSpanKey key{resource.pid, resource.start_ticks, span_key(span)};
    auto [it, added] = open_spans_.try_emplace(key);
    if (!added) open_span_bytes_ -= it->second.attributes.size();  // a span id used again: the later start wins
    open_span_bytes_ += open.attributes.size();
    it->second = std::move(open);
  }

  void add_span_end(Resource& resource, const ShapedLines& lines, const LineShape& shape, const LinePlan& plan) {
    const SpanFields f = read_span_fields(lines, shape, plan);
    if (!f.ids.has_trace || !f.ids.has_span) return;  // not a span OTLP can hold
    int64_t start_ns = started_before(shape.time_ns, f.duration_ms);
    std::string kept;
    const auto it = open_spans_.find(OpenSpanKey{resource.pid, resource.start_ticks, span_key(f.ids.span)});
    const bool found = it != open_spans_.end();
    if (found) {
      start_ns = it->second.start_ns;
      kept = std::move(it->second.attributes);
      open_span_bytes_ -= kept.size();
      open_spans_.erase(it);
    } else {
      ++counts.spans_without_start;
    }
    Writer& w = begin_span(resource, f.ids, kSpanKindInternal, start_ns, shape.time_ns);
    if (f.name.empty()) {
      w.string(kSpanName, "name", "span");
    } else {
      w.json_string(kSpanName, "name", f.name);
    }
    w.open_list("attributes");
    if (shape.has_tid) int_attribute(w, kSpanAttributes, "thread.id", shape.tid);
    if (found) {
      w.raw_items(kept);
    } else {
      // The end's own fields are the context around the span, which its
      // start holds too: only when the start is missing are they the best
      // there is.
      for (uint32_t i = 0; i < shape.field_count; ++i) {
        if (!plan.fields[i].attribute) continue;
        attribute(w, kSpanAttributes, plan.fields[i].key, lines.value(shape, lines.fields[shape.first_field + i]));
      }
    }
    w.close_list();
    const std::string_view status = f.status.empty() ? std::string_view() : json_string_text(f.status, scratch_);
    w.open(kSpanStatus, "status");
    if (!f.error.empty()) w.string(kStatusMessage, "message", f.error);
    w.enumeration(kStatusCode, "code", status == "ERROR" ? kStatusError : (status == "OK" ? kStatusOk : kStatusUnset));
    w.close();
    end_span(resource);
  }

  // step.end, llm.call and memory.op as the GenAI spans they stand for:
  // ending at the event, started duration_ms before it, children of the
  // span the event was logged in (when it was).
  void add_vocabulary_span(Resource& resource, const ShapedLines& lines, const LineShape& shape, const LinePlan& plan) {
    const SpanFields f = read_span_fields(lines, shape, plan);  // ids: the span it was logged in
    std::string name;
    uint32_t kind = kSpanKindInternal;
    const std::string subject(f.subject.empty() ? std::string_view() : json_string_text(f.subject, scratch_));
    switch (plan.vocabulary) {
      case Vocabulary::kStepEnd:
        name = "execute_tool " + subject;
        break;
      case Vocabulary::kLlmCall:
        name = "chat " + subject;
        kind = kSpanKindClient;
        break;
      default: {
        const std::string_view operation = memory_operation_name(subject);
        name = operation.empty() ? "memory " + subject : std::string(operation);
        break;
      }
    }
    if (name.back() == ' ') name.pop_back();

    Ids ids;
    IdHash hash;
    hash.add(resource.pid).add(resource.start_ticks);
    if (f.ids.has_trace) {
      std::memcpy(ids.trace, f.ids.trace, sizeof(ids.trace));
      if (f.ids.has_span) {
        std::memcpy(ids.parent, f.ids.span, sizeof(ids.parent));
        ids.has_parent = true;
      }
    } else {
      // No span around it: a step joins its run's trace, the others a trace of their own.
      IdHash trace = hash;
      if (plan.vocabulary == Vocabulary::kStepEnd && !f.run_id.empty()) {
        trace.add(f.run_id);
      } else {
        trace.add(shape.tid).add(shape.seq);
      }
      store_big_endian(trace.value(1), ids.trace);
      store_big_endian(trace.value(2), ids.trace + 8);
    }
    store_big_endian(hash.add(shape.tid).add(shape.seq).value(3), ids.span);

    Writer& w = begin_span(resource, ids, kind, started_before(shape.time_ns, f.duration_ms), shape.time_ns);
    w.string(kSpanName, "name", name);
    Ids unused;
    w.open_list("attributes");
    event_attributes(w, kSpanAttributes, lines, shape, plan, unused);
    w.close_list();
    const std::string_view status = f.status.empty() ? std::string_view() : json_string_text(f.status, scratch_);
    w.open(kSpanStatus, "status");
    w.enumeration(kStatusCode, "code", status == "FAILURE" ? kStatusError : kStatusUnset);
    w.close();
    end_span(resource);
  }

  // What a span line or an event of the vocabulary says about its span.
  struct SpanFields {
    Ids ids;                   // a span line's own; an event's context (the span around it)
    std::string_view name;     // "span", as written
    std::string_view status;   // "status", as written
    std::string_view error;    // "error", its JSON text
    std::string_view subject;  // the tool, the model or the memory operation, as written
    std::string_view run_id;   // "run_id", its JSON text
    double duration_ms = 0;
  };
  static SpanFields read_span_fields(const ShapedLines& lines, const LineShape& shape, const LinePlan& plan) {
    SpanFields f;
    for (uint32_t i = 0; i < shape.field_count; ++i) {
      const std::string_view value = lines.value(shape, lines.fields[shape.first_field + i]);
      const bool text = json_kind(value) == JsonKind::kString;
      switch (plan.fields[i].special) {
        case Special::kTraceId:
        case Special::kSpanId:
        case Special::kParentSpanId:
          read_id(plan.fields[i].special, value, f.ids);
          break;
        case Special::kSpanName:
          if (text) f.name = value;
          break;
        case Special::kStatus:
          if (text) f.status = value;
          break;
        case Special::kError:
          f.error = value;
          break;
        case Special::kDurationMs:
          f.duration_ms = number_value(value);
          break;
        case Special::kTool:
        case Special::kModel:
        case Special::kOperation:
          if (text) f.subject = value;
          break;
        case Special::kRunId:
          f.run_id = value;
          break;
        case Special::kNone:
          break;
      }
    }
    return f;
  }

  // A span's time, duration_ms before its end.
  static int64_t started_before(int64_t end_ns, double duration_ms) {
    return end_ns - static_cast<int64_t>(duration_ms * 1e6);
  }

  // Opens a Span of `resource` and writes its ids, kind and times; the
  // caller adds its name, attributes and status, then end_span().
  Writer& begin_span(Resource& resource, const Ids& ids, uint32_t kind, int64_t start_ns, int64_t end_ns) {
    Writer& w = spans_writer_;
    w.target(resource.spans);
    w.open_record(kRecordItems, "");
    w.id(kSpanTraceId, "traceId", ids.trace, sizeof(ids.trace));
    w.id(kSpanSpanId, "spanId", ids.span, sizeof(ids.span));
    if (ids.has_parent) w.id(kSpanParentSpanId, "parentSpanId", ids.parent, sizeof(ids.parent));
    w.enumeration(kSpanKind, "kind", kind);
    w.fixed64(kSpanStart, "startTimeUnixNano", unsigned_time(start_ns));
    w.fixed64(kSpanEnd, "endTimeUnixNano", unsigned_time(end_ns));
    return w;
  }
  void end_span(Resource& resource) {
    spans_writer_.close();
    ++resource.span_count;
    ++pending_records;
  }

  // One export request: a ResourceLogs (ResourceSpans) per process with
  // records, each with one scope.
  void request(std::string& out, std::string_view resources_name, std::string_view scopes_name,
               std::string_view records_name, std::string Resource::*records) {
    Writer& w = scratch_writer_;
    w.target(out);
    begin_document(out);
    w.open_list(resources_name);
    for (const Resource& resource : resources_) {
      if ((resource.*records).empty()) continue;
      w.open(kResourceItems, "");
      w.open(kResource, "resource");
      w.open_list("attributes");
      string_attribute(w, kResourceAttributes, "service.name", resource.service);
      int_attribute(w, kResourceAttributes, "process.pid", resource.pid);
      string_attribute(w, kResourceAttributes, "host.name", host_name_);
      w.close_list();
      w.close();
      w.open_list(scopes_name);
      w.open(kScopeItems, "");
      w.open(kScope, "scope");
      w.string(kScopeName, "name", kScopeNameText);
      w.string(kScopeVersion, "version", kScopeVersionText);
      w.close();
      w.open_list(records_name);
      w.raw_items(resource.*records);
      w.close_list();
      w.close();
      w.close_list();
      w.close();
    }
    w.close_list();
    w.release();
    end_document(out);
  }

  // A JSON request is one object; a protobuf one is its fields.
  static void begin_document(std::string& out) {
    if constexpr (std::is_same_v<Writer, OtlpJsonWriter>) out.push_back('{');
  }
  static void end_document(std::string& out) {
    if constexpr (std::is_same_v<Writer, OtlpJsonWriter>) out.push_back('}');
  }

  const std::string host_name_;
  // One writer per string written in turn, so that a batch whose lines go to
  // the log records and to the spans does not switch one writer back and
  // forth; each is released before the strings it writes may move.
  Writer logs_writer_;
  Writer spans_writer_;
  Writer scratch_writer_;  // a span start's attributes, a request
  std::vector<Resource> resources_;
  size_t last_ = 0;
  absl::flat_hash_map<uint64_t, LinePlan> plans_;
  LinePlan scratch_plan_;
  absl::flat_hash_map<OpenSpanKey, OpenSpan> open_spans_;
  size_t open_span_bytes_ = 0;
  std::string scratch_;
};

OtlpEncoder::OtlpEncoder(OtlpEncoding encoding, std::string_view host_name) {
  if (encoding == OtlpEncoding::kJson) {
    impl_ = std::make_unique<EncoderFor<OtlpJsonWriter>>(host_name);
  } else {
    impl_ = std::make_unique<EncoderFor<ProtobufWriter>>(host_name);
  }
}

OtlpEncoder::~OtlpEncoder() = default;

void OtlpEncoder::add(const EventBatch& batch, int64_t observed_ns) { impl_->add(batch, observed_ns); }
size_t OtlpEncoder::pending_bytes() const { return impl_->pending_bytes; }
uint64_t OtlpEncoder::pending_records() const { return impl_->pending_records; }
OtlpRequests OtlpEncoder::take() { return impl_->take(); }
void OtlpEncoder::segment_finished(const SegmentIdentity& segment) { impl_->segment_finished(segment); }
OtlpEncoderCounts OtlpEncoder::counts() const { return impl_->counts; }

}  // namespace ringtail::reader
