#include "ringtail/reader/report/trace_waterfall.hpp"

#include <string.h>

#include <algorithm>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "report/report_json.hpp"
#include "ringtail/reader/output/time_text.hpp"
#include "ringtail/reader/query/cost.hpp"

namespace ringtail::reader {
namespace {

struct SpanData {
  std::string span_id;
  std::optional<std::string> parent;
  std::optional<std::string> name;
  std::optional<std::string> service;
  std::optional<int64_t> start_ns;
  std::optional<int64_t> end_ns;
  std::optional<double> duration_ms;
  std::optional<std::string> end_status;
  std::optional<std::string> error_type, error_message;
  std::optional<std::string> tool, model;
  std::optional<Decimal> tokens, cost;
  uint64_t events = 0;

  // Where the waterfall draws it from.
  std::optional<int64_t> begin() const {
    if (start_ns) return start_ns;
    if (end_ns && duration_ms) return *end_ns - static_cast<int64_t>(*duration_ms * 1e6);
    return end_ns;
  }
  std::optional<int64_t> finish() const {
    if (end_ns) return end_ns;
    if (start_ns && duration_ms) return *start_ns + static_cast<int64_t>(*duration_ms * 1e6);
    return std::nullopt;
  }
};

void add_amount(std::optional<Decimal>& sum, const std::optional<Decimal>& amount) {
  if (!amount) return;
  if (!sum) sum = Decimal();
  *sum += *amount;
}

}  // namespace

struct TraceWaterfalls::Trace {
  absl::flat_hash_map<std::string, SpanData> spans;
  uint64_t left_out = 0;
};

struct TraceWaterfalls::State {
  absl::flat_hash_map<std::string, Trace> traces;
  LineAmountReader amounts;
  StoredTimestampReader clock;
};

TraceWaterfalls::TraceWaterfalls(const std::vector<std::string>& trace_ids) : state_(std::make_unique<State>()) {
  for (const std::string& id : trace_ids) state_->traces.try_emplace(id);
}

TraceWaterfalls::~TraceWaterfalls() = default;

void TraceWaterfalls::add(std::string_view raw, simdjson::dom::element line) {
  std::string_view trace_id, span_id;
  if (line["trace_id"].get(trace_id) != simdjson::SUCCESS || line["span_id"].get(span_id) != simdjson::SUCCESS) return;
  const auto found = state_->traces.find(absl::string_view(trace_id.data(), trace_id.size()));
  if (found == state_->traces.end()) return;
  Trace& trace = found->second;
  auto span_at = trace.spans.find(absl::string_view(span_id.data(), span_id.size()));
  if (span_at == trace.spans.end()) {
    if (trace.spans.size() >= kMaxSpans) {
      std::string_view message;
      if (line["message"].get(message) == simdjson::SUCCESS && message == "span.start") ++trace.left_out;
      return;
    }
    span_at = trace.spans.try_emplace(std::string(span_id)).first;
    span_at->second.span_id = std::string(span_id);
  }
  SpanData& span = span_at->second;
  std::string_view message, timestamp;
  if (line["message"].get(message) != simdjson::SUCCESS) message = {};
  std::optional<int64_t> time_ns;
  if (line["timestamp"].get(timestamp) == simdjson::SUCCESS) time_ns = state_->clock.ns(timestamp);
  const bool span_line = message == "span.start" || message == "span.end";
  if (span_line) {
    if (!span.name) span.name = report_json::text_of(line, "span");
    if (!span.parent) span.parent = report_json::text_of(line, "parent_span_id");
    if (!span.service) span.service = report_json::text_of(line, "service");
    if (!span.tool) span.tool = report_json::text_of(line, "tool");
  }
  if (message == "span.start") {
    span.start_ns = time_ns;
    return;
  }
  if (message == "span.end") {
    span.end_ns = time_ns;
    span.duration_ms = report_json::number_of(line, "duration_ms");
    span.end_status = report_json::text_of(line, "status").value_or("OK");
    simdjson::dom::element error;
    if (line["error"].get(error) == simdjson::SUCCESS && error.is_object()) {
      span.error_type = report_json::text_of(error, "type");
      span.error_message = report_json::text_of(error, "message");
    }
    return;
  }
  ++span.events;
  if (!span.tool) span.tool = report_json::text_of(line, "tool");
  if (!span.model) span.model = report_json::text_of(line, "model");
  simdjson::dom::element cost;
  if (line["cost_usd"].get(cost) == simdjson::SUCCESS || line["tokens"].get(cost) == simdjson::SUCCESS ||
      line["input_tokens"].get(cost) == simdjson::SUCCESS) {
    const LineAmounts amounts = state_->amounts.read(raw);
    add_amount(span.cost, amounts.cost);
    add_amount(span.tokens, amounts.tokens);
  }
}

bool TraceWaterfalls::append_json(std::string& out, std::string_view trace_id) const {
  const auto found = state_->traces.find(absl::string_view(trace_id.data(), trace_id.size()));
  if (found == state_->traces.end() || found->second.spans.empty()) return false;
  const Trace& trace = found->second;

  std::optional<int64_t> trace_begin, trace_end;
  for (const auto& [id, span] : trace.spans) {
    for (const std::optional<int64_t>& t : {span.begin(), span.finish()}) {
      if (!t) continue;
      trace_begin = trace_begin ? std::min(*trace_begin, *t) : *t;
      trace_end = trace_end ? std::max(*trace_end, *t) : *t;
    }
  }
  // Parents first, siblings by start (then id, for a stable order).
  absl::flat_hash_map<std::string_view, std::vector<const SpanData*>> children;
  std::vector<const SpanData*> roots;
  for (const auto& [id, span] : trace.spans) {
    if (span.parent && trace.spans.contains(*span.parent) && *span.parent != id) {
      children[*span.parent].push_back(&span);
    } else {
      roots.push_back(&span);
    }
  }
  const auto by_start = [](const SpanData* a, const SpanData* b) {
    const int64_t ta = a->begin().value_or(INT64_MAX), tb = b->begin().value_or(INT64_MAX);
    return ta != tb ? ta < tb : a->span_id < b->span_id;
  };
  std::sort(roots.begin(), roots.end(), by_start);
  for (auto& [parent, list] : children) std::sort(list.begin(), list.end(), by_start);
  std::vector<std::pair<const SpanData*, int>> ordered;
  // Depth-first without recursion (a hostile parent chain may be long); a
  // span is listed once even if parent ids form a cycle (such spans have no
  // root and are not reached).
  std::vector<std::pair<const SpanData*, int>> stack;
  for (auto it = roots.rbegin(); it != roots.rend(); ++it) stack.emplace_back(*it, 0);
  while (!stack.empty()) {
    const auto [span, depth] = stack.back();
    stack.pop_back();
    ordered.emplace_back(span, depth);
    const auto kids = children.find(span->span_id);
    if (kids == children.end()) continue;
    for (auto it = kids->second.rbegin(); it != kids->second.rend(); ++it) stack.emplace_back(*it, depth + 1);
  }

  const SpanData* root = roots.empty() ? nullptr : roots.front();
  for (const SpanData* candidate : roots) {
    if (!candidate->parent) {
      root = candidate;
      break;
    }
  }
  bool failed = false;
  for (const auto& [id, span] : trace.spans) failed = failed || span.end_status == "ERROR";

  using report_json::key;
  out += '{';
  key(out, "trace_id", true);
  append_json_string(out, trace_id);
  key(out, "root");
  report_json::string_or_null(out, root ? root->name : std::nullopt);
  key(out, "service");
  report_json::string_or_null(out, root ? root->service : std::nullopt);
  key(out, "start");
  report_json::string_or_null(out,
                              trace_begin ? std::optional<std::string>(format_timestamp(*trace_begin)) : std::nullopt);
  key(out, "duration_ms");
  report_json::number(out, trace_begin ? static_cast<double>(*trace_end - *trace_begin) / 1e6 : 0);
  key(out, "status");
  out += failed ? "\"ERROR\"" : "\"OK\"";
  key(out, "spans_truncated");
  append_json_uint(out, trace.left_out + (trace.spans.size() - ordered.size()));
  key(out, "spans");
  out += '[';
  for (size_t i = 0; i < ordered.size(); ++i) {
    const SpanData& span = *ordered[i].first;
    if (i != 0) out += ',';
    out += '{';
    key(out, "span_id", true);
    append_json_string(out, span.span_id);
    key(out, "parent_span_id");
    report_json::string_or_null(out, span.parent);
    key(out, "depth");
    append_json_int(out, ordered[i].second);
    key(out, "name");
    report_json::string_or_null(out, span.name);
    key(out, "offset_ms");
    const std::optional<int64_t> begin = span.begin();
    report_json::number(out, begin && trace_begin ? static_cast<double>(*begin - *trace_begin) / 1e6 : 0);
    key(out, "duration_ms");
    std::optional<double> duration = span.duration_ms;
    if (!duration && span.end_ns && begin) duration = static_cast<double>(*span.end_ns - *begin) / 1e6;
    report_json::number_or_null(out, span.end_status ? duration : std::nullopt);
    key(out, "status");
    append_json_string(out, !span.end_status ? "UNENDED" : *span.end_status == "ERROR" ? "ERROR" : "OK");
    key(out, "error");
    if (span.error_type || span.error_message) {
      out += '{';
      key(out, "type", true);
      report_json::string_or_null(out, span.error_type);
      key(out, "message");
      report_json::string_or_null(out, span.error_message);
      out += '}';
    } else {
      out += "null";
    }
    key(out, "tool");
    report_json::string_or_null(out, span.tool);
    key(out, "model");
    report_json::string_or_null(out, span.model);
    key(out, "tokens");
    report_json::string_or_null(out, span.tokens ? std::optional<std::string>(span.tokens->exact()) : std::nullopt);
    key(out, "cost_usd");
    report_json::string_or_null(out, span.cost ? std::optional<std::string>(span.cost->exact()) : std::nullopt);
    key(out, "cost_text");
    report_json::string_or_null(out, span.cost ? std::optional<std::string>(dollars_text(*span.cost)) : std::nullopt);
    key(out, "events");
    append_json_uint(out, span.events);
    out += '}';
  }
  out += "]}";
  return true;
}

bool is_trace_id(std::string_view id) {
  return id.size() == 32 && id.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

LinePrefilter trace_line_prefilter(std::vector<std::string> trace_ids) {
  static constexpr size_t kIdDigits = 32;
  for (const std::string& id : trace_ids) {
    if (!is_trace_id(id)) return {};
  }
  std::sort(trace_ids.begin(), trace_ids.end());
  return [ids = std::move(trace_ids)](std::string_view raw) {
    static constexpr std::string_view kKey = "\"trace_id\":\"";
    // Every occurrence: an event's own field or a nested object may hold the
    // key too. memmem, not string_view::find, which stops at every '"'.
    const char* const end = raw.data() + raw.size();
    for (const char* at = raw.data(); at < end;) {
      const void* hit = ::memmem(at, static_cast<size_t>(end - at), kKey.data(), kKey.size());
      if (hit == nullptr) return false;
      const char* id_at = static_cast<const char*>(hit) + kKey.size();
      const std::string_view id(id_at, std::min(kIdDigits, static_cast<size_t>(end - id_at)));
      if (std::binary_search(ids.begin(), ids.end(), id)) return true;
      at = static_cast<const char*>(hit) + 1;
    }
    return false;
  };
}

}  // namespace ringtail::reader
