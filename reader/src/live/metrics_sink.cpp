#include "ringtail/reader/live/metrics_sink.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string_view>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "ringtail/reader/output/json_text.hpp"
#include "ringtail/shm/level.hpp"

namespace ringtail::reader {
namespace {

enum class Merge : uint8_t { kSum, kMax };

// One metric family: its label sets and, per set, `width` values, both as
// published (committed) and as counted since the last flush (pending).
struct Family {
  Family(std::string name_, std::string help_, std::string type_, std::vector<std::string> labels_,
         const MetricsOptions& options, size_t width_ = 1, Merge merge_ = Merge::kSum)
      : name(std::move(name_)),
        help(std::move(help_)),
        type(std::move(type_)),
        label_names(std::move(labels_)),
        table(label_names.size(), options.max_label_sets, options.max_label_value_bytes),
        width(width_),
        merge(merge_) {}

  // The pending values of set `index`, marked for the next flush.
  double* pending_of(uint32_t index) {
    if (index >= published.size()) {
      const size_t sets = static_cast<size_t>(index) + 1;
      committed.resize(sets * width, 0.0);
      pending.resize(sets * width, 0.0);
      published.resize(sets, 0);
      dirty_flag.resize(sets, 0);
    }
    if (dirty_flag[index] == 0) {
      dirty_flag[index] = 1;
      dirty.push_back(index);
    }
    return &pending[static_cast<size_t>(index) * width];
  }
  void add(uint32_t index, double value) {
    double* slot = pending_of(index);
    *slot = merge == Merge::kMax ? std::max(*slot, value) : *slot + value;
  }
  void flush() {
    for (const uint32_t index : dirty) {
      const size_t base = static_cast<size_t>(index) * width;
      for (size_t k = 0; k < width; ++k) {
        double& to = committed[base + k];
        to = merge == Merge::kMax ? std::max(to, pending[base + k]) : to + pending[base + k];
        pending[base + k] = 0.0;
      }
      published[index] = 1;
      dirty_flag[index] = 0;
    }
    dirty.clear();
  }
  void discard() {
    for (const uint32_t index : dirty) {
      std::fill_n(pending.begin() + static_cast<std::ptrdiff_t>(index * width), width, 0.0);
      dirty_flag[index] = 0;
    }
    dirty.clear();
  }

  std::string name, help, type;
  std::vector<std::string> label_names;
  LabelTable table;
  size_t width;
  Merge merge;
  std::vector<double> committed, pending;
  std::vector<uint8_t> published;   // per set: counted by a flush (sets only counted and discarded stay out)
  std::vector<uint8_t> dirty_flag;  // per set: in `dirty`
  std::vector<uint32_t> dirty;
};

// A label set's number in its family, and whether it is the "_other" set
// because the family was full.
struct Cell {
  uint32_t index = 0;
  bool overflowed = false;
};

enum class Agent : uint8_t { kNone, kStepEnd, kCost, kLlmCall, kPolicy };

// Where a line's agent fields are: indexes into its fields, -1 if absent.
struct AgentLayout {
  Agent kind = Agent::kNone;
  int32_t tool = -1, status = -1, duration_ms = -1, model = -1, cost_usd = -1, tokens = -1, input_tokens = -1,
          output_tokens = -1, policy = -1, decision = -1;
};

Agent agent_kind(std::string_view message) {
  // The message as written (escaped): these names have nothing to escape.
  if (message == "step.end") return Agent::kStepEnd;
  if (message == "cost") return Agent::kCost;
  if (message == "llm.call") return Agent::kLlmCall;
  if (message == "policy.check") return Agent::kPolicy;
  return Agent::kNone;
}

AgentLayout agent_layout(const EventBatch& batch, const LineShape& shape) {
  AgentLayout a;
  a.kind = agent_kind(batch.message(shape));
  if (a.kind == Agent::kNone) return a;
  for (uint32_t i = 0; i < shape.field_count; ++i) {
    const std::string_view key = batch.key(shape, batch.fields[shape.first_field + i]);
    int32_t* slot = key == "tool"            ? &a.tool
                    : key == "status"        ? &a.status
                    : key == "duration_ms"   ? &a.duration_ms
                    : key == "model"         ? &a.model
                    : key == "cost_usd"      ? &a.cost_usd
                    : key == "tokens"        ? &a.tokens
                    : key == "input_tokens"  ? &a.input_tokens
                    : key == "output_tokens" ? &a.output_tokens
                    : key == "policy"        ? &a.policy
                    : key == "decision"      ? &a.decision
                                             : nullptr;
    if (slot != nullptr && *slot < 0) *slot = static_cast<int32_t>(i);  // keys are unique; keep the first
  }
  return a;
}

// Field `index`'s value as label text: a string's text, another value's JSON
// text, "" when absent.
std::string_view label_text(const EventBatch& batch, const LineShape& shape, int32_t index, std::string& scratch) {
  if (index < 0 || static_cast<uint32_t>(index) >= shape.field_count) return {};
  const std::string_view value = batch.value(shape, batch.fields[shape.first_field + static_cast<uint32_t>(index)]);
  return json_kind(value) == JsonKind::kString ? json_string_text(value, scratch) : value;
}

// Field `index`'s value if it is a finite number >= 0 (counters only go up).
std::optional<double> amount(const EventBatch& batch, const LineShape& shape, int32_t index) {
  if (index < 0 || static_cast<uint32_t>(index) >= shape.field_count) return std::nullopt;
  const std::string_view value = batch.value(shape, batch.fields[shape.first_field + static_cast<uint32_t>(index)]);
  if (json_kind(value) != JsonKind::kNumber) return std::nullopt;
  double number = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), number);
  if (error != std::errc() || end != value.data() + value.size() || !std::isfinite(number) || number < 0) {
    return std::nullopt;
  }
  return number;
}

// The field named `key` (as written), -1 if none: for the rare lines (drop
// records, notes) that are looked at per line.
int32_t field_named(const EventBatch& batch, const LineShape& shape, std::string_view key) {
  for (uint32_t i = 0; i < shape.field_count; ++i) {
    if (batch.key(shape, batch.fields[shape.first_field + i]) == key) return static_cast<int32_t>(i);
  }
  return -1;
}

// The overflow family's labels are this file's family names: never cut, never "_other".
constexpr size_t kFamilies = 16;
constexpr size_t kFamilyNameBytes = 64;

constexpr std::array<std::string_view, 5> kKindNames = {"event", "span_start", "span_end", "gap", "note"};
constexpr size_t kLevels = 7;  // TRACE .. OFF

// A service's label and its cells, each looked up on first use.
struct ServiceCells {
  std::string label;
  std::array<std::optional<Cell>, kLevels> events;
  std::array<std::optional<Cell>, kKindNames.size()> lines;
  std::optional<Cell> newest;
};

// Every count and cache, used under MetricsSink::State::mutex.
struct Counters {
  explicit Counters(MetricsOptions o)
      : options(std::move(o)),
        events("ringtail_events_total", "Event lines the drain stored (producers' events; not spans, drops or notes)",
               "counter", {"service", "level"}, options),
        lines("ringtail_lines_total", "Lines the drain stored, by kind: event, span_start, span_end, gap, note",
              "counter", {"service", "kind"}, options),
        newest("ringtail_last_event_timestamp_seconds",
               "Time (Unix seconds) of the newest event stored per service; time() minus it is the drain's lag "
               "while the service logs",
               "gauge", {"service"}, options, 1, Merge::kMax),
        dropped("ringtail_dropped_events_total",
                "Events producers lost, as the drain stored their drop records and loss notes, by cause", "counter",
                {"service", "cause"}, options),
        audit_lost("ringtail_audit_lost_total", "Audit events producers lost (ringtail.audit_lost notes)", "counter",
                   {"service"}, options),
        notes("ringtail_notes_total", "Notes the reader stored about what it noticed (ringtail.crashed ...)", "counter",
              {"service", "message"}, options),
        steps("ringtail_agent_steps_total", "Agent steps ended (step.end lines) by tool and status", "counter",
              {"service", "tool", "status"}, options),
        step_duration("ringtail_agent_step_duration_seconds", "Duration of agent steps (step.end duration_ms)",
                      "histogram", {"tool"}, options, options.step_duration_buckets.size() + 2),
        cost("ringtail_agent_cost_usd_total", "Cost in USD of cost and llm.call lines (cost_usd), by model", "counter",
             {"model"}, options),
        tokens("ringtail_agent_tokens_total",
               "Tokens of llm.call lines (type input, output) and cost lines (type unsplit: their tokens)", "counter",
               {"model", "type"}, options),
        decisions("ringtail_policy_decisions_total", "Policy checks (policy.check lines) by policy and decision",
                  "counter", {"policy", "decision"}, options),
        overflow("ringtail_metrics_label_overflow_total",
                 "Lines counted under the label value _other because their family had reached its label sets",
                 "counter", {"family"}, MetricsOptions{kFamilies, kFamilyNameBytes, {}}) {}

  std::vector<Family*> families() {
    return {&events, &lines,         &newest, &dropped, &audit_lost, &notes,
            &steps,  &step_duration, &cost,   &tokens,  &decisions,  &overflow};
  }

  Cell cell(Family& family, std::initializer_list<std::string_view> values) {
    Cell c;
    c.index = family.table.find_or_add(values, &c.overflowed);
    return c;
  }
  // Adds `value` to `c` of `family`, and counts the line once in the
  // overflow family when `c` is "_other" for lack of room.
  void add(Family& family, const Cell& c, double value) {
    family.add(c.index, value);
    if (c.overflowed) {
      bool unused = false;
      overflow.add(overflow.table.find_or_add({family.name}, &unused), 1);
    }
  }

  ServiceCells& service(const SegmentIdentity* segment) {
    const std::string_view raw = segment != nullptr ? segment->service : std::string_view();
    if (const auto found = services.find(absl::string_view(raw.data(), raw.size())); found != services.end())
      return found->second;
    if (services.size() >= MetricsSink::kMaxServices) services.clear();  // cells are only numbers: looked up again
    ServiceCells& cells = services.try_emplace(std::string(raw)).first->second;
    cells.label = utf8_label_value(raw);  // as the lines write it
    return cells;
  }

  const AgentLayout& layout_of(const EventBatch& batch, const LineShape& shape) {
    if (shape.layout == 0) {
      per_line = agent_layout(batch, shape);
      return per_line;
    }
    if (const auto found = layouts.find(shape.layout); found != layouts.end()) return found->second;
    if (layouts.size() >= MetricsSink::kMaxLayouts) layouts.clear();
    return layouts.emplace(shape.layout, agent_layout(batch, shape)).first->second;
  }

  void count_agent(const EventBatch& batch, const LineShape& shape, ServiceCells& svc) {
    const AgentLayout& a = layout_of(batch, shape);
    switch (a.kind) {
      case Agent::kNone:
        return;
      case Agent::kStepEnd: {
        const std::string_view tool = label_text(batch, shape, a.tool, scratch[0]);
        add(steps, cell(steps, {svc.label, tool, label_text(batch, shape, a.status, scratch[1])}), 1);
        if (const std::optional<double> ms = amount(batch, shape, a.duration_ms)) observe_duration(tool, *ms / 1000);
        return;
      }
      case Agent::kCost:
      case Agent::kLlmCall: {
        const std::string_view model = label_text(batch, shape, a.model, scratch[0]);
        if (const std::optional<double> usd = amount(batch, shape, a.cost_usd)) add(cost, cell(cost, {model}), *usd);
        const std::pair<int32_t, std::string_view> kinds[] = {
            {a.input_tokens, "input"}, {a.output_tokens, "output"}, {a.tokens, "unsplit"}};
        for (const auto& [index, type] : kinds) {
          // A line with input and output tokens counts those, as report --cost does.
          if (type == "unsplit" && (a.input_tokens >= 0 || a.output_tokens >= 0)) continue;
          if (const std::optional<double> n = amount(batch, shape, index)) add(tokens, cell(tokens, {model, type}), *n);
        }
        return;
      }
      case Agent::kPolicy:
        add(decisions,
            cell(decisions,
                 {label_text(batch, shape, a.policy, scratch[0]), label_text(batch, shape, a.decision, scratch[1])}),
            1);
        return;
    }
  }

  void observe_duration(std::string_view tool, double seconds) {
    const Cell c = cell(step_duration, {tool});
    double* values = step_duration.pending_of(c.index);
    const std::vector<double>& bounds = options.step_duration_buckets;
    const size_t bucket = static_cast<size_t>(std::lower_bound(bounds.begin(), bounds.end(), seconds) - bounds.begin());
    values[bucket] += 1;                   // bucket `bounds.size()` is +Inf
    values[bounds.size() + 1] += seconds;  // the sum
    if (c.overflowed) {
      bool unused = false;
      overflow.add(overflow.table.find_or_add({step_duration.name}, &unused), 1);
    }
  }

  void count_gap(const EventBatch& batch, const LineShape& shape, ServiceCells& svc) {
    const std::optional<double> n = amount(batch, shape, field_named(batch, shape, "dropped"));
    if (!n) return;
    const std::string_view cause = label_text(batch, shape, field_named(batch, shape, "cause"), scratch[0]);
    add(dropped, cell(dropped, {svc.label, cause == "overwritten" ? "overwritten" : "ring_full_or_too_big"}), *n);
  }

  void count_note(const EventBatch& batch, const LineShape& shape, ServiceCells& svc) {
    const std::string_view message = batch.message(shape);
    // Reader notes: names of the reader's own vocabulary (docs/FORMAT.md), never producer text.
    add(notes, cell(notes, {svc.label, json_string_text(message, scratch[0])}), 1);
    if (message == "ringtail.lost") {
      if (const auto n = amount(batch, shape, field_named(batch, shape, "lost_no_ring")); n && *n > 0) {
        add(dropped, cell(dropped, {svc.label, "no_ring"}), *n);
      }
      if (const auto n = amount(batch, shape, field_named(batch, shape, "lost_callsite_table_full")); n && *n > 0) {
        add(dropped, cell(dropped, {svc.label, "callsite_table_full"}), *n);
      }
    } else if (message == "ringtail.too_big") {
      add(dropped, cell(dropped, {svc.label, "too_big_for_reader"}), 1);
    } else if (message == "ringtail.audit_lost") {
      if (const auto n = amount(batch, shape, field_named(batch, shape, "audit_lost"))) {
        add(audit_lost, cell(audit_lost, {svc.label}), *n);
      }
    }
  }

  void count(const EventBatch& batch) {
    ServiceCells& svc = service(batch.segment);
    for (const LineShape& shape : batch.lines) {
      const auto kind = static_cast<size_t>(shape.kind);
      if (kind >= kKindNames.size()) continue;
      std::optional<Cell>& line_cell = svc.lines[kind];
      if (!line_cell) line_cell = cell(lines, {svc.label, kKindNames[kind]});
      add(lines, *line_cell, 1);
      switch (shape.kind) {
        case LineKind::kEvent: {
          const auto level = static_cast<size_t>(shape.level);
          if (level < kLevels) {
            std::optional<Cell>& c = svc.events[level];
            if (!c) c = cell(events, {svc.label, shm::level_name(shape.level)});
            add(events, *c, 1);
          }
          if (!svc.newest) svc.newest = cell(newest, {svc.label});
          add(newest, *svc.newest, static_cast<double>(shape.time_ns) / 1e9);
          count_agent(batch, shape, svc);
          break;
        }
        case LineKind::kGap:
          count_gap(batch, shape, svc);
          break;
        case LineKind::kNote:
          count_note(batch, shape, svc);
          break;
        case LineKind::kSpanStart:
        case LineKind::kSpanEnd:
          break;
      }
    }
  }

  void render(std::string& out) {
    PrometheusWriter writer(out);
    std::vector<std::string_view> names;
    std::vector<std::string_view> values;
    for (Family* family : families()) {
      writer.family(family->name, family->help, family->type);
      names.assign(family->label_names.begin(), family->label_names.end());
      const bool histogram = family->type == "histogram";
      const std::vector<double>& bounds = options.step_duration_buckets;
      for (uint32_t set = 0; set < family->published.size(); ++set) {
        if (family->published[set] == 0) continue;
        values.clear();
        for (size_t l = 0; l < names.size(); ++l) values.push_back(family->table.value(set, l));
        const double* v = &family->committed[static_cast<size_t>(set) * family->width];
        if (!histogram) {
          writer.sample(family->name, names, values, v[0]);
          continue;
        }
        const std::string bucket_name = family->name + "_bucket";
        std::vector<std::string_view> bucket_names = names;
        bucket_names.emplace_back("le");
        std::vector<std::string_view> bucket_values = values;
        bucket_values.emplace_back();
        double cumulative = 0;
        std::string le;
        for (size_t b = 0; b <= bounds.size(); ++b) {
          cumulative += v[b];
          le.clear();
          if (b < bounds.size()) {
            append_sample_value(le, bounds[b]);
          } else {
            le = "+Inf";
          }
          bucket_values.back() = le;
          writer.sample(bucket_name, bucket_names, bucket_values, cumulative);
        }
        writer.sample(family->name + "_sum", names, values, v[bounds.size() + 1]);
        writer.sample(family->name + "_count", names, values, cumulative);
      }
    }
  }

  const MetricsOptions options;
  Family events, lines, newest, dropped, audit_lost, notes, steps, step_duration, cost, tokens, decisions, overflow;
  // count()'s caches: cells by service (bytes as the segment gives them), agent fields by layout.
  absl::flat_hash_map<std::string, ServiceCells> services;
  absl::flat_hash_map<uint64_t, AgentLayout> layouts;
  AgentLayout per_line;
  std::array<std::string, 2> scratch;
};

}  // namespace

// One lock for the counters: the writer takes it once per batch, a scrape
// while it renders. A lock-free scheme (per-line atomics) would cost more
// per line than one uncontended lock per ~1 MiB batch.
struct MetricsSink::State {
  explicit State(MetricsOptions options) : counters(std::move(options)) {}
  std::mutex mutex;
  Counters counters ABSL_GUARDED_BY(mutex);
};

MetricsSink::MetricsSink(MetricsOptions options) : state_(std::make_unique<State>(std::move(options))) {}

MetricsSink::~MetricsSink() = default;

absl::Status MetricsSink::write(const EventBatch& batch) {
  std::lock_guard lock(state_->mutex);
  state_->counters.count(batch);
  return absl::OkStatus();
}

absl::Status MetricsSink::flush() {
  std::lock_guard lock(state_->mutex);
  for (Family* family : state_->counters.families()) family->flush();
  return absl::OkStatus();
}

void MetricsSink::discard() {
  std::lock_guard lock(state_->mutex);
  for (Family* family : state_->counters.families()) family->discard();
}

void MetricsSink::append_prometheus(std::string& out) const {
  std::lock_guard lock(state_->mutex);
  state_->counters.render(out);
}

}  // namespace ringtail::reader
