// EventJsonFormatter: decoded events, drop gaps and reader notes as JSONL
// lines (docs/FORMAT.md is the reference for what is written here).
//
// Per-event cost matters (this runs for every record the reader drains), so a
// line is built by appending straight into the caller's buffer, and what a
// call site's lines share is formatted once per call site: level, escaped
// message, service and pid in one piece, and each field's escaped key with
// collisions already resolved. An event then costs its timestamp, its
// numbers and string values (the cache is found by id and checked against the
// event's CallSiteInfo address, see the header's contract); with redaction's
// default rules, also a quick look at each string for credentials (a string
// that holds one sends its line down the piecewise path, which scrubs it).
// Such a line (unless a huge string makes it long) is written through one
// reservation of an upper bound of its length, with the pointer-based
// write_* primitives, rather than a dozen appends that each check capacity.
// Key collisions are resolved on the escaped text, against the reserved names
// and the keys already written (offsets into the line, in vectors whose
// capacity is reused). Nothing is allocated per event once the caches and
// `out` have grown.
#include "ringtail/reader/output/event_json.hpp"

#include <cxxabi.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <optional>
#include <type_traits>
#include <unordered_map>

#include "ringtail/reader/ingest/timestamp.hpp"
#include "ringtail/reader/output/line_head.hpp"

namespace ringtail::reader {
namespace {

// Keys that fields never take, whether or not the line writes them.
constexpr std::string_view kEventReserved[] = {"timestamp", "level", "message", "service", "pid", "tid", "seq", "_cut"};
// A note line writes no tid or seq of its own. It may carry a tid (same
// meaning as on other lines), but never a "seq": only event lines have one,
// which is how a consumer tells them apart (docs/FORMAT.md).
constexpr std::string_view kNoteReserved[] = {"timestamp", "level", "message", "service", "pid", "seq", "_cut"};

// Call-site ids are below the table capacity, at most 65536 (shm limits); an
// event claiming a larger one is formatted without a cache.
constexpr uint32_t kMaxCachedSiteId = 65536;

// One bit of a 64-bit filter for a field name: two lines' field sets that
// share no bit share no name, the common case that needs no comparisons.
uint64_t name_bit(std::string_view name) { return uint64_t{1} << (std::hash<std::string_view>{}(name)&63); }

}  // namespace

EventJsonFormatter::EventJsonFormatter(const SegmentIdentity& identity, const Redactor* redactor)
    : identity_(identity),
      clock_(identity.clock),
      redactor_(redactor),
      scrub_(redactor != nullptr && redactor->scrubs_values()) {
  append_json_string(service_json_, identity_.service);
  service_pid_ = R"(,"service":)";
  service_pid_ += service_json_;
  service_pid_ += R"(,"pid":)";
  append_json_uint(service_pid_, identity_.pid);
  keys_.reserve(shm::kMaxFields);
  cuts_.reserve(shm::kMaxFields);
}

int64_t EventJsonFormatter::realtime_ns(uint64_t timestamp_raw) {
  return static_cast<int64_t>(std::min<uint64_t>(clock_(timestamp_raw), INT64_MAX));
}

void EventJsonFormatter::append_head(std::string& out, int64_t realtime_ns, shm::Level level,
                                     std::string_view message) {
  keys_.clear();
  cuts_.clear();
  out.append(kHeadStart);
  timestamps_.append(out, realtime_ns);
  out.append(head_level_key(level));
  append_json_string(out, message);
  out.append(service_pid_);
}

EventJsonFormatter::KeySpan EventJsonFormatter::append_key(std::string& out, std::string_view name,
                                                           const std::string_view* reserved, size_t reserved_count) {
  out.push_back(',');
  const size_t offset = out.size() + 1;  // after the opening quote
  append_json_string(out, name);
  KeySpan key{offset, out.size() - 1 - offset};
  // Compare escaped keys: the escaping is canonical, so two names give the
  // same escaped text exactly when a JSON parser would read the same key
  // (e.g. two different invalid bytes both become U+FFFD).
  for (;;) {
    const std::string_view text(out.data() + key.offset, key.size);
    bool taken = false;
    for (size_t i = 0; i < reserved_count && !taken; ++i) taken = reserved[i] == text;
    for (size_t i = 0; i < keys_.size() && !taken; ++i) {
      taken = keys_[i].size == key.size && std::string_view(out.data() + keys_[i].offset, keys_[i].size) == text;
    }
    if (!taken) break;
    out.insert(key.offset, 1, '_');
    ++key.size;
  }
  keys_.push_back(key);
  out.push_back(':');
  return key;
}

const EventJsonFormatter::SiteCache* EventJsonFormatter::site_cache(const DecodedEvent& event) {
  const CallSiteInfo* site = event.callsite;
  const uint32_t id = event.callsite_id;
  if (site == nullptr || id >= kMaxCachedSiteId) return nullptr;
  if (id >= site_index_.size()) site_index_.resize(id + 1, 0);
  if (site_index_[id] == 0) {
    sites_.emplace_back();
    site_index_[id] = static_cast<uint32_t>(sites_.size());
  }
  SiteCache& cache = sites_[site_index_[id] - 1];
  const std::vector<DecodedField>& fields = event.fields;
  if (cache.site == site && cache.key_ends.size() == fields.size() && !cache.head.empty()) return &cache;

  // (Re)build: first use of this id, or another call site under it.
  cache.site = site;
  cache.rules.clear();
  cache.trusted_hash = kNoTrustedHashField;
  if (redactor_ != nullptr) {
    cache.trusted_hash = trusted_hash_field(*site);
    bool any = false;
    for (const DecodedField& field : fields) {
      cache.rules.push_back(redactor_->rule_for(field.name));
      any = any || cache.rules.back() != nullptr;
    }
    if (!any) cache.rules.clear();  // empty: no field of this call site is redacted
  }
  cache.head.assign(head_level_key(site->level));
  append_json_string(cache.head, site->message);
  cache.head.append(service_pid_);
  cache.head.append(R"(,"tid":)");
  cache.keys.clear();
  cache.key_ends.clear();
  cache.name_bloom = 0;
  for (const DecodedField& field : fields) cache.name_bloom |= name_bit(field.name);
  keys_.clear();
  for (size_t i = 0; i < fields.size(); ++i) {
    append_key(cache.keys, fields[i].name, kEventReserved, std::size(kEventReserved));
    cache.key_ends.push_back(static_cast<uint32_t>(cache.keys.size()));
  }
  keys_.clear();
  return &cache;
}

void EventJsonFormatter::finish_line(std::string& out) {
  if (!cuts_.empty()) {
    out.append(R"(,"_cut":{)");
    for (size_t i = 0; i < cuts_.size(); ++i) {
      if (i != 0) out.push_back(',');
      out.push_back('"');
      // The key as written earlier on this line (appending a string's own
      // substring to itself is allowed).
      out.append(out, cuts_[i].key.offset, cuts_[i].key.size);
      out.append("\":", 2);
      append_json_uint(out, cuts_[i].original_bytes);
    }
    out.push_back('}');
  }
  out.append("}\n", 2);
}

namespace {

// Lines up to this long are written through one reservation (fast path);
// longer ones (big strings) piece by piece, without zero-filling a large
// reservation that the escaping will mostly not use.
constexpr size_t kMaxReservedLine = size_t{64} << 10;

// write_cached_line() switches on the alternative's index.
static_assert(std::variant_size_v<FieldValue> == 8);
static_assert(std::is_same_v<std::variant_alternative_t<0, FieldValue>, bool>);
static_assert(std::is_same_v<std::variant_alternative_t<1, FieldValue>, int64_t>);
static_assert(std::is_same_v<std::variant_alternative_t<2, FieldValue>, uint64_t>);
static_assert(std::is_same_v<std::variant_alternative_t<3, FieldValue>, float>);
static_assert(std::is_same_v<std::variant_alternative_t<4, FieldValue>, double>);
static_assert(std::is_same_v<std::variant_alternative_t<5, FieldValue>, StringValue>);
static_assert(std::is_same_v<std::variant_alternative_t<6, FieldValue>, DurationValue>);
static_assert(std::is_same_v<std::variant_alternative_t<7, FieldValue>, ErrorValue>);

// Error type names and stack frames as a line shows them: a C++ type name
// (kErrorTypeMangled) demangled, and in a frame the symbol of
// "<module>+0x<offset> (<symbol>+0x<offset>)" (what the producer writes).
// The text is untrusted shared memory and abi::__cxa_demangle parses a rich
// grammar, so only names of at most kMaxMangledBytes made of [A-Za-z0-9_$.]
// are given to it; other names, names that do not demangle and names that
// would demangle to more than kMaxShownBytes are shown as they are. The same
// few types and frames repeat, so what is demangled is cached, per thread (a
// formatter runs on whichever decode thread drains its segment; no lock),
// up to kMaxCachedNames names of each kind, after which the cache starts
// over. The text returned is the same for the same input every time (line
// bounds rely on it) and valid until the next call of the same function on
// the same thread.
constexpr size_t kMaxMangledBytes = 512;
constexpr size_t kMaxShownBytes = 4096;
constexpr size_t kMaxFrameBytes = 1024;  // longer frames are shown as they are, uncached
constexpr size_t kMaxCachedNames = 1024;

bool demanglable(std::string_view name) {
  if (name.empty() || name.size() > kMaxMangledBytes) return false;
  for (const char c : name) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// `name` demangled, or empty when it does not demangle (or too long).
std::string demangle(std::string_view name) {
  char mangled[kMaxMangledBytes + 1];
  std::memcpy(mangled, name.data(), name.size());
  mangled[name.size()] = '\0';
  int status = 0;
  char* text = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string shown;
  if (status == 0 && text != nullptr && std::strlen(text) <= kMaxShownBytes) shown = text;
  std::free(text);
  return shown;
}

struct TextHash {
  using is_transparent = void;
  size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
};
using ShownCache = std::unordered_map<std::string, std::string, TextHash, std::equal_to<>>;

// The cached text for `key`, made by make(key) on a miss.
template <class Make>
std::string_view cached(ShownCache& cache, std::string_view key, Make make) {
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  if (cache.size() >= kMaxCachedNames) cache.clear();
  return cache.emplace(std::string(key), make(key)).first->second;
}

std::string_view shown_type(const ErrorValue& error) {
  const std::string_view type = error.type.bytes;
  if (!error.type_mangled || !demanglable(type)) return type;
  thread_local ShownCache types;
  return cached(types, type, [](std::string_view name) {
    std::string shown = demangle(name);
    return shown.empty() ? std::string(name) : shown;
  });
}

std::string_view shown_frame(std::string_view frame) {
  // "… (<symbol>+0x<offset>)": the symbol is what lies between the last " ("
  // and the last '+'.
  if (frame.size() > kMaxFrameBytes || !frame.ends_with(')')) return frame;
  const size_t open = frame.rfind(" (");
  if (open == std::string_view::npos) return frame;
  const std::string_view inner = frame.substr(open + 2, frame.size() - open - 3);
  const size_t plus = inner.rfind('+');
  if (plus == std::string_view::npos) return frame;
  const std::string_view symbol = inner.substr(0, plus);
  if (!symbol.starts_with("_Z") || !demanglable(symbol)) return frame;
  thread_local ShownCache frames;
  return cached(frames, frame, [&](std::string_view) {
    const std::string name = demangle(symbol);
    if (name.empty()) return std::string(frame);
    std::string shown(frame.substr(0, open + 2));
    shown += name;
    shown += inner.substr(plus);
    shown += ')';
    return shown;
  });
}

// An error value's JSON object as written unredacted.
JsonError json_error(const ErrorValue& error) {
  return JsonError{shown_type(error), error.message.bytes, error.stack.bytes, error.code, error.has_code, &shown_frame};
}

constexpr std::string_view kSeqKey = R"(,"seq":)";
constexpr std::string_view kCutOpen = R"(,"_cut":{)";

}  // namespace

size_t EventJsonFormatter::reserved_line_bound(const SiteCache& cache, const DecodedEvent& event) const {
  size_t bound = kHeadStart.size() + TimestampFormatter::kBytes + cache.head.size() + kJsonNumberBound +
                 kSeqKey.size() + kJsonNumberBound + cache.keys.size() + 2;
  bool any_cut = false;
  for (const DecodedField& field : event.fields) {
    if (const auto* text = std::get_if<StringValue>(&field.value)) {
      if (scrub_ && holds_credentials(text->bytes)) return SIZE_MAX;
      bound += json_string_bound(text->bytes.size());
      any_cut = any_cut || text->cut;
    } else if (const auto* error = std::get_if<ErrorValue>(&field.value)) {
      const JsonError shown = json_error(*error);
      if (scrub_ &&
          (holds_credentials(shown.type) || holds_credentials(shown.message) || holds_credentials(shown.stack))) {
        return SIZE_MAX;
      }
      bound += json_error_bound(shown);
      any_cut = any_cut || error->message.cut;
    } else {
      bound += kJsonNumberBound;
    }
  }
  // "_cut":{ then "key":N per cut field: at most each key again, plus a number and 3 bytes.
  if (any_cut) bound += kCutOpen.size() + 1 + cache.keys.size() + event.fields.size() * (kJsonNumberBound + 3);
  return bound;
}

void EventJsonFormatter::write_cached_line(std::string& out, const SiteCache& cache, const DecodedEvent& event,
                                           int64_t ns, size_t bound) {
  const size_t start = out.size();
  out.resize(start + bound);
  char* const base = out.data();
  char* p = base + start;
  p = write_raw(p, kHeadStart);
  p = timestamps_.write(p, ns);
  p = write_raw(p, cache.head);
  p = write_json_uint(p, event.tid);
  p = write_raw(p, kSeqKey);
  p = write_json_uint(p, event.seq);
  cuts_.clear();
  for (size_t i = 0; i < event.fields.size(); ++i) {
    const uint32_t begin = i == 0 ? 0 : cache.key_ends[i - 1];
    const uint32_t size = cache.key_ends[i] - begin;
    const size_t key_offset = static_cast<size_t>(p - base) + 2;  // inside ,"…":
    p = write_raw(p, std::string_view(cache.keys.data() + begin, size));
    const FieldValue& value = event.fields[i].value;
    switch (value.index()) {
      case 0:
        p = write_raw(p, std::get<bool>(value) ? "true" : "false");
        break;
      case 1:
        p = write_json_int(p, std::get<int64_t>(value));
        break;
      case 2:
        p = write_json_uint(p, std::get<uint64_t>(value));
        break;
      case 3:
        p = write_json_float(p, std::get<float>(value));
        break;
      case 4:
        p = write_json_double(p, std::get<double>(value));
        break;
      case 5: {
        const StringValue& text = std::get<StringValue>(value);
        p = write_json_string(p, text.bytes);
        if (text.cut) cuts_.push_back(CutField{KeySpan{key_offset, size - 4u}, text.original_bytes});
        break;
      }
      case 6:
        p = write_json_int(p, std::get<DurationValue>(value).ns);  // integer nanoseconds, see docs/FORMAT.md
        break;
      default: {
        const ErrorValue& error = std::get<ErrorValue>(value);
        p = write_json_error(p, json_error(error));
        // "_cut" reports an error by its message (type and stack cuts are not listed).
        if (error.message.cut) cuts_.push_back(CutField{KeySpan{key_offset, size - 4u}, error.message.original_bytes});
        break;
      }
    }
  }
  if (!cuts_.empty()) {
    p = write_raw(p, kCutOpen);
    for (size_t i = 0; i < cuts_.size(); ++i) {
      if (i != 0) *p++ = ',';
      *p++ = '"';
      p = write_raw(p, std::string_view(base + cuts_[i].key.offset, cuts_[i].key.size));
      *p++ = '"';
      *p++ = ':';
      p = write_json_uint(p, cuts_[i].original_bytes);
    }
    *p++ = '}';
  }
  *p++ = '}';
  *p++ = '\n';
  out.resize(static_cast<size_t>(p - base));
}

void EventJsonFormatter::append_event(std::string& out, const DecodedEvent& event, int64_t ns) {
  const SiteCache* cache = site_cache(event);
  if (event.context != nullptr && !event.context->frames.empty()) [[unlikely]] {
    // The line as without a context, then its context fields before the closing brace.
    const ContextCache& context = context_cache(event.slot_index, *event.context, event.context->frames.size());
    append_event_fields(out, cache, event, ns);
    out.resize(out.size() - 2);  // "}\n"
    uint64_t bloom = 0;
    if (cache != nullptr) {
      bloom = cache->name_bloom;
    } else {
      for (const DecodedField& field : event.fields) bloom |= name_bit(field.name);
    }
    append_context(out, context, event.fields, bloom);
    out.append("}\n", 2);
    return;
  }
  append_event_fields(out, cache, event, ns);
}

template <class Names>
void EventJsonFormatter::append_context(std::string& out, const ContextCache& cache, const Names& names,
                                        uint64_t name_bloom) {
  if ((cache.name_bloom & name_bloom) == 0) {
    out.append(cache.all);
    return;
  }
  for (const ContextEntry& entry : cache.entries) {
    bool own = false;
    for (const auto& field : names) {
      if (field.name == entry.name) {
        own = true;
        break;
      }
    }
    if (!own) out.append(entry.text);
  }
}

const EventJsonFormatter::ContextCache& EventJsonFormatter::context_cache(uint32_t slot, const ThreadContext& context,
                                                                          size_t frame_count) {
  if (slot >= contexts_.size()) contexts_.resize(static_cast<size_t>(slot) + 1);
  ContextCache& cache = contexts_[slot];
  if (cache.version == context.version && context.version != 0 && frame_count == context.frames.size()) {
    return cache;
  }
  cache.version = frame_count == context.frames.size() ? context.version : 0;
  cache.entries.clear();
  cache.all.clear();
  cache.name_bloom = 0;
  // Innermost first, so that the innermost frame's field of a name is the one kept.
  auto add = [&](std::string_view name, auto&& write_value) {
    for (const ContextEntry& entry : cache.entries) {
      if (entry.name == name) return;
    }
    ContextEntry& entry = cache.entries.emplace_back();
    entry.name = std::string(name);
    const size_t cuts = cuts_.size();
    keys_.clear();
    const KeySpan key = append_key(entry.text, name, kEventReserved, std::size(kEventReserved));
    write_value(entry.text, key);
    cuts_.resize(cuts);  // a cut context value is not listed in "_cut"
    keys_.clear();
  };
  // Each frame's fields last to first, so that the reversal below leaves
  // them in the order they were bound.
  for (size_t i = frame_count; i-- > 0;) {
    const ContextFrame& frame = context.frames[i];
    if (frame.kind == shm::FrameKind::kSpan) {
      add("span_id", [&](std::string& text, KeySpan) { append_json_string(text, frame.span_id); });
      add("trace_id", [&](std::string& text, KeySpan) { append_json_string(text, frame.trace_id); });
      continue;  // a span's attributes are on its span.start line, not on its events
    }
    for (auto it = frame.fields.rbegin(); it != frame.fields.rend(); ++it) {
      const ContextField& field = *it;
      add(field.name, [&](std::string& text, KeySpan key) {
        const RedactionRule* rule = redactor_ != nullptr ? redactor_->rule_for(field.name) : nullptr;
        if (rule != nullptr) {
          append_redacted(text, *rule, field.value, key, false);
        } else {
          append_value(text, field.value, key, scrub_);
        }
      });
    }
  }
  std::reverse(cache.entries.begin(), cache.entries.end());
  for (const ContextEntry& entry : cache.entries) {
    cache.all.append(entry.text);
    cache.name_bloom |= name_bit(entry.name);
  }
  return cache;
}

shm::Level EventJsonFormatter::span_level(const SpanEdge& edge) {
  for (const ContextField& field : edge.outcome) {
    const auto* text = std::get_if<StringValue>(&field.value);
    if (field.name == "status" && text != nullptr && text->bytes == "ERROR") return shm::Level::kWarn;
  }
  return shm::Level::kInfo;
}

void EventJsonFormatter::append_span(std::string& out, const SpanEdge& edge, int64_t realtime_ns) {
  const ContextFrame& span = edge.context->frames[edge.span_index];
  append_head(out, realtime_ns, span_level(edge), edge.end ? "span.end" : "span.start");
  out.append(R"(,"tid":)");
  append_json_uint(out, edge.tid);
  // The span's own keys first; its fields then follow the event rule.
  static constexpr std::string_view kSpanKeys[] = {"span", "trace_id", "span_id", "parent_span_id"};
  append_key(out, "span", kEventReserved, std::size(kEventReserved));
  append_json_string(out, shown_string(span.span_name, scrub_, 0));
  append_key(out, "trace_id", kEventReserved, std::size(kEventReserved));
  append_json_string(out, span.trace_id);
  append_key(out, "span_id", kEventReserved, std::size(kEventReserved));
  append_json_string(out, span.span_id);
  if (!span.parent_span_id.empty()) {
    append_key(out, "parent_span_id", kEventReserved, std::size(kEventReserved));
    append_json_string(out, span.parent_span_id);
  }
  const std::vector<ContextField>& fields = edge.end ? edge.outcome : span.fields;
  for (const ContextField& field : fields) {
    const KeySpan key = append_key(out, field.name, kEventReserved, std::size(kEventReserved));
    const RedactionRule* rule = redactor_ != nullptr ? redactor_->rule_for(field.name) : nullptr;
    if (rule != nullptr) {
      append_redacted(out, *rule, field.value, key, false);
    } else {
      append_value(out, field.value, key, scrub_);
    }
  }
  if (edge.end) {
    append_key(out, "duration_ms", kEventReserved, std::size(kEventReserved));
    const int64_t start_ns = this->realtime_ns(span.timestamp_raw);
    append_json_double(out, static_cast<double>(realtime_ns - start_ns) / 1e6);
  }
  // The frames outside the span: their fields, and the trace ids of an outer
  // span only where this one's are absent (never: a span has both).
  if (edge.span_index > 0) {
    const ContextCache& context = context_cache(edge.slot_index, *edge.context, edge.span_index);
    uint64_t bloom = 0;
    for (std::string_view key : kSpanKeys) bloom |= name_bit(key);
    for (const ContextField& field : fields) bloom |= name_bit(field.name);
    bloom |= name_bit("duration_ms");
    struct Name {
      std::string_view name;
    };
    std::vector<Name> names;
    for (std::string_view key : kSpanKeys) names.push_back({key});
    for (const ContextField& field : fields) names.push_back({field.name});
    names.push_back({"duration_ms"});
    append_context(out, context, names, bloom);
  }
  finish_line(out);
}

void EventJsonFormatter::append_event_fields(std::string& out, const SiteCache* cache, const DecodedEvent& event,
                                             int64_t ns) {
  if (cache != nullptr && cache->rules.empty()) {
    const size_t bound = reserved_line_bound(*cache, event);
    if (bound <= kMaxReservedLine) {
      write_cached_line(out, *cache, event, ns, bound);
      return;
    }
  }
  if (cache != nullptr) {
    keys_.clear();
    cuts_.clear();
    out.append(kHeadStart);
    timestamps_.append(out, ns);
    out.append(cache->head);
  } else {
    const CallSiteInfo* site = event.callsite;
    append_head(out, ns, site != nullptr ? site->level : shm::Level::kOff,
                site != nullptr ? std::string_view(site->message) : std::string_view());
    out.append(R"(,"tid":)");
  }
  append_json_uint(out, event.tid);
  out.append(R"(,"seq":)");
  append_json_uint(out, event.seq);
  size_t trusted_hash = kNoTrustedHashField;
  if (cache != nullptr) {
    trusted_hash = cache->trusted_hash;
  } else if (redactor_ != nullptr && event.callsite != nullptr) {
    trusted_hash = trusted_hash_field(*event.callsite);
  }
  for (size_t i = 0; i < event.fields.size(); ++i) {
    const DecodedField& field = event.fields[i];
    KeySpan key;
    if (cache != nullptr) {
      const uint32_t begin = i == 0 ? 0 : cache->key_ends[i - 1];
      const uint32_t size = cache->key_ends[i] - begin;
      key = KeySpan{out.size() + 2, size - 4u};  // inside ,"…":
      out.append(cache->keys.data() + begin, size);
    } else {
      key = append_key(out, field.name, kEventReserved, std::size(kEventReserved));
    }
    const RedactionRule* rule = nullptr;
    if (cache != nullptr) {
      rule = cache->rules.empty() ? nullptr : cache->rules[i];
    } else if (redactor_ != nullptr) {
      rule = redactor_->rule_for(field.name);
    }
    if (rule != nullptr) {
      append_redacted(out, *rule, field.value, key, trusted_hash == i);
    } else {
      append_value(out, field.value, key, scrub_);
    }
  }
  finish_line(out);
}

namespace {

// A bool, an integer or a floating-point value as JSON; false (nothing
// written) for any other type. Shared by event fields and note fields.
template <class T>
bool append_scalar(std::string& out, const T& value) {
  if constexpr (std::is_same_v<T, bool>) {
    out.append(value ? "true" : "false");
  } else if constexpr (std::is_same_v<T, int64_t>) {
    append_json_int(out, value);
  } else if constexpr (std::is_same_v<T, uint64_t>) {
    append_json_uint(out, value);
  } else if constexpr (std::is_same_v<T, float>) {
    append_json_float(out, value);
  } else if constexpr (std::is_same_v<T, double>) {
    append_json_double(out, value);
  } else {
    return false;
  }
  return true;
}

}  // namespace

std::string_view EventJsonFormatter::shown_string(std::string_view text, bool scrub, size_t scratch) {
  return scrub ? scrub_credentials(text, scratch_[scratch]) : text;
}

JsonError EventJsonFormatter::shown_error(const ErrorValue& error, bool scrub) {
  JsonError shown = json_error(error);
  shown.type = shown_string(shown.type, scrub, 0);
  shown.message = shown_string(shown.message, scrub, 1);
  shown.stack = shown_string(shown.stack, scrub, 2);
  return shown;
}

void EventJsonFormatter::append_value(std::string& out, const FieldValue& field_value, KeySpan key, bool scrub) {
  std::visit(
      [&](const auto& value) {
        using T = std::decay_t<decltype(value)>;
        if (append_scalar(out, value)) return;
        // The other alternatives (FieldValue's are asserted above).
        if constexpr (std::is_same_v<T, StringValue>) {
          append_json_string(out, shown_string(value.bytes, scrub, 0));
          if (value.cut) cuts_.push_back(CutField{key, value.original_bytes});
        } else if constexpr (std::is_same_v<T, DurationValue>) {
          append_json_int(out, value.ns);  // integer nanoseconds, see docs/FORMAT.md
        } else if constexpr (std::is_same_v<T, ErrorValue>) {
          append_json_error(out, shown_error(value, scrub));
          if (value.message.cut) cuts_.push_back(CutField{key, value.message.original_bytes});
        }
      },
      field_value);
}

// An error field's rule applies to the whole object: redact and hash replace
// it (hash: of its JSON text), like any value; truncate and keep-ends apply
// to its message only, and the object keeps its type, code and stack.
// Strings are scrubbed of credentials (when the redactor scrubs) before
// truncate and keep-ends; hash reads the value as logged.
void EventJsonFormatter::append_redacted(std::string& out, const RedactionRule& rule, const FieldValue& value,
                                         KeySpan key, bool trusted_hash) {
  const StringValue* text = std::get_if<StringValue>(&value);
  if (trusted_hash && text != nullptr && !text->cut && is_keyed_hash(text->bytes) &&
      (redactor_->is_default_rule(&rule) || rule.action == RedactionRule::Action::kHash)) {
    append_json_string(out, text->bytes);  // the producer's keyed hash (breakglass token_hash)
    return;
  }
  if (const ErrorValue* error = std::get_if<ErrorValue>(&value);
      error != nullptr &&
      (rule.action == RedactionRule::Action::kTruncate || rule.action == RedactionRule::Action::kKeepEnds)) {
    JsonError shown = shown_error(*error, scrub_);
    const std::string_view message = shown.message;
    std::string kept;
    bool cut = error->message.cut;
    if (rule.action == RedactionRule::Action::kTruncate) {
      if (utf8_length(message) > rule.n) {
        shown.message = utf8_prefix(message, rule.n);
        cut = true;
      }
    } else if (utf8_length(message) > 2 * rule.n + 3) {
      kept.assign(utf8_prefix(message, rule.n));
      kept += "...";
      kept += utf8_suffix(message, rule.n);
      shown.message = kept;
      cut = false;  // as for a string: keep-ends lists no cut
    } else {
      shown.message = kRedactedText;
      cut = false;
    }
    append_json_error(out, shown);
    if (cut) cuts_.push_back(CutField{key, error->message.original_bytes});
    return;
  }
  switch (rule.action) {
    case RedactionRule::Action::kRedact:
      append_json_string(out, kRedactedText);  // and no "_cut" entry: not even the length shows
      return;
    case RedactionRule::Action::kHash: {
      std::string json;
      const size_t cuts = cuts_.size();
      append_value(json, value, key, false);
      cuts_.resize(cuts);
      append_json_string(out, redactor_->hash_text(json));
      return;
    }
    case RedactionRule::Action::kTruncate:
      if (text != nullptr) {
        const std::string_view shown = shown_string(text->bytes, scrub_, 0);
        if (utf8_length(shown) > rule.n) {
          append_json_string(out, utf8_prefix(shown, rule.n));
          cuts_.push_back(CutField{key, text->original_bytes});
          return;
        }
      }
      append_value(out, value, key, scrub_);
      return;
    case RedactionRule::Action::kKeepEnds:
      if (text != nullptr) {
        const std::string_view shown = shown_string(text->bytes, scrub_, 0);
        if (utf8_length(shown) > 2 * rule.n + 3) {
          std::string kept(utf8_prefix(shown, rule.n));
          kept += "...";
          kept += utf8_suffix(shown, rule.n);
          append_json_string(out, kept);
          return;
        }
      }
      append_json_string(out, kRedactedText);
      return;
  }
}

void EventJsonFormatter::append_gap(std::string& out, const DropGap& gap, int64_t realtime_ns) {
  append_head(out, realtime_ns, shm::Level::kWarn, "ringtail.dropped");
  out.append(R"(,"tid":)");
  append_json_uint(out, gap.tid);
  out.append(R"(,"dropped":)");
  append_json_uint(out, gap.count);
  out.append(R"(,"first_seq":)");
  append_json_uint(out, gap.first_seq);
  out.append(R"(,"last_seq":)");
  append_json_uint(out, gap.last_seq);
  out.append("}\n", 2);
}

void EventJsonFormatter::append_note(std::string& out, int64_t realtime_ns, shm::Level level, std::string_view message,
                                     std::span<const NoteField> fields) {
  append_head(out, realtime_ns, level, message);
  for (const NoteField& field : fields) {
    append_key(out, field.key, kNoteReserved, std::size(kNoteReserved));
    std::visit(
        [&](const auto& value) {
          using T = std::decay_t<decltype(value)>;
          if (append_scalar(out, value)) return;
          if constexpr (std::is_same_v<T, std::string_view>) {
            append_json_string(out, shown_string(value, scrub_, 0));
          }
        },
        field.value);
  }
  finish_line(out);
}

}  // namespace ringtail::reader
