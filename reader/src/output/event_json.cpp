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

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <optional>
#include <type_traits>
#include <unordered_map>

#include "demangle.hpp"
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

constexpr std::string_view kSeqKey = R"(,"seq":)";
constexpr std::string_view kCutOpen = R"(,"_cut":{)";

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
  const size_t message_start = out.size();
  append_json_string(out, message);
  head_shape(realtime_ns, level, message_start + 1, out.size() - message_start - 2);
  out.append(service_pid_);
}

void EventJsonFormatter::begin_line(ShapedLines& out, LineKind kind) {
  shaped_ = &out;
  shape_ = LineShape{};
  shape_.offset = out.text.size();
  shape_.kind = kind;
  first_field_ = out.fields.size();
}

void EventJsonFormatter::head_shape(int64_t realtime_ns, shm::Level level, size_t message_offset, size_t message_size) {
  shape_.time_ns = realtime_ns;
  shape_.level = level;
  shape_.message_offset = static_cast<uint32_t>(message_offset - shape_.offset);
  shape_.message_size = static_cast<uint32_t>(message_size);
}

void EventJsonFormatter::field_span(size_t key_offset, size_t key_size, size_t value_offset, size_t value_end) {
  const size_t line = shape_.offset;
  shaped_->fields.push_back(FieldSpan{static_cast<uint32_t>(key_offset - line), static_cast<uint32_t>(key_size),
                                      static_cast<uint32_t>(value_offset - line),
                                      static_cast<uint32_t>(value_end - value_offset)});
}

void EventJsonFormatter::end_line() {
  // Copied first, completed in the copy: stores into shape_ just before a
  // wide copy of it would stall the copy's loads (store forwarding).
  LineShape& line = shaped_->lines.emplace_back(shape_);
  line.size = static_cast<uint32_t>(shaped_->text.size() - shape_.offset);
  line.first_field = static_cast<uint32_t>(first_field_);
  line.field_count = static_cast<uint32_t>(shaped_->fields.size() - first_field_);
  shaped_ = nullptr;
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

namespace {

// LineShape::layout values: one counter for the process, so that no two
// formatters (segments, or a segment's drainer made again) share one.
uint64_t next_layout() {
  static std::atomic<uint64_t> last{0};
  return last.fetch_add(1, std::memory_order_relaxed) + 1;
}

}  // namespace

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
  cache.layout = next_layout();
  cache.rules.clear();
  cache.trusted_hash = kNoTrustedHashField;
  if (redactor_ != nullptr) {
    cache.trusted_hash = trusted_hash_field(*site);
    bool any = false;
    for (const DecodedField& field : fields) {
      cache.rules.push_back(rule_for(field.name));
      any = any || cache.rules.back() != nullptr;
    }
    if (!any) cache.rules.clear();  // empty: no field of this call site is redacted
  }
  cache.head.assign(head_level_key(site->level));
  append_json_string(cache.head, site->message);
  cache.message_size = static_cast<uint32_t>(cache.head.size() - head_level_key(site->level).size() - 2);
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
  cache.fixed_bound = kHeadStart.size() + TimestampFormatter::kBytes + cache.head.size() + kJsonNumberBound +
                      kSeqKey.size() + kJsonNumberBound + cache.keys.size() + 2 + fields.size() * kJsonNumberBound;
  return &cache;
}

namespace {

// Lines up to this long are written through one reservation (fast path);
// longer ones (big strings) piece by piece, without zero-filling a large
// reservation that the escaping will mostly not use.
constexpr size_t kMaxReservedLine = size_t{64} << 10;

// ShownValue switches on the alternative's index.
static_assert(std::variant_size_v<FieldValue> == 9);
static_assert(std::is_same_v<std::variant_alternative_t<0, FieldValue>, bool>);
static_assert(std::is_same_v<std::variant_alternative_t<1, FieldValue>, int64_t>);
static_assert(std::is_same_v<std::variant_alternative_t<2, FieldValue>, uint64_t>);
static_assert(std::is_same_v<std::variant_alternative_t<3, FieldValue>, float>);
static_assert(std::is_same_v<std::variant_alternative_t<4, FieldValue>, double>);
static_assert(std::is_same_v<std::variant_alternative_t<5, FieldValue>, StringValue>);
static_assert(std::is_same_v<std::variant_alternative_t<6, FieldValue>, DurationValue>);
static_assert(std::is_same_v<std::variant_alternative_t<7, FieldValue>, ErrorValue>);
static_assert(std::is_same_v<std::variant_alternative_t<8, FieldValue>, NullValue>);
constexpr size_t kStringType = 5;
constexpr size_t kErrorType = 7;
constexpr size_t kNullType = 8;

// An error value's JSON object as written unredacted.
JsonError json_error(const ErrorValue& error) {
  const std::string_view type =
      error.type_mangled ? detail::shown_mangled_type(error.type.bytes) : std::string_view{error.type.bytes};
  return JsonError{type, error.message.bytes, error.stack.bytes, error.code, error.has_code, &detail::shown_frame};
}

// The text whose cut "_cut" lists for a value: a string's, an error's
// message (type and stack cuts are not listed); nullptr for other types.
const StringValue* listed_text(const FieldValue& value) {
  if (const auto* text = std::get_if<StringValue>(&value)) return text;
  if (const auto* error = std::get_if<ErrorValue>(&value)) return &error->message;
  return nullptr;
}

}  // namespace

// A field's value as a line shows it: the value, and for a string or an
// error the text shown (scrubbed of credentials or not: whoever made it
// chose). The one rendering of every type, for the fast path (into room
// reserved for the whole line) and the piecewise path alike.
struct EventJsonFormatter::ShownValue {
  const FieldValue* value;
  std::string_view text;  // a string's
  JsonError error;        // an error's

  // As logged, nothing scrubbed.
  static ShownValue plain(const FieldValue& value) {
    ShownValue shown{&value, {}, {}};
    if (const auto* text = std::get_if<StringValue>(&value)) {
      shown.text = text->bytes;
    } else if (const auto* error = std::get_if<ErrorValue>(&value)) {
      shown.error = json_error(*error);
    }
    return shown;
  }
  // Only strings and errors have text to look at (most fields are numbers).
  bool holds_credentials() const {
    switch (value->index()) {
      case kStringType:
        return reader::holds_credentials(text);
      case kErrorType:
        return reader::holds_credentials(error.type) || reader::holds_credentials(error.message) ||
               reader::holds_credentials(error.stack);
      default:
        return false;
    }
  }
  size_t bound() const {
    switch (value->index()) {
      case kStringType:
        return json_string_bound(text.size());
      case kErrorType:
        return json_error_bound(error);
      default:
        return kJsonNumberBound;
    }
  }
  // Writes at most bound() bytes at `p`; returns the end.
  char* write(char* p) const {
    switch (value->index()) {
      case kStringType:
        return write_json_string(p, text);
      case kErrorType:
        return write_json_error(p, error);
      default:
        return write_number(p, *value);
    }
  }
  // A value that is neither a string nor an error (nothing to scrub, at
  // most kJsonNumberBound bytes), without a ShownValue.
  static char* write_number(char* p, const FieldValue& value) {
    switch (value.index()) {
      case 0:
        return write_raw(p, *std::get_if<bool>(&value) ? "true" : "false");
      case 1:
        return write_json_int(p, *std::get_if<int64_t>(&value));
      case 2:
        return write_json_uint(p, *std::get_if<uint64_t>(&value));
      case 3:
        return write_json_float(p, *std::get_if<float>(&value));
      case 4:
        return write_json_double(p, *std::get_if<double>(&value));
      case kNullType:
        return write_raw(p, "null");
      default:
        // integer nanoseconds, see docs/FORMAT.md
        return write_json_int(p, std::get_if<DurationValue>(&value)->ns);
    }
  }
};

EventJsonFormatter::ShownValue EventJsonFormatter::shown_value(const FieldValue& value, bool scrub) {
  ShownValue shown = ShownValue::plain(value);
  if (scrub) {
    shown.text = shown_string(shown.text, true, 0);
    if (const auto* error = std::get_if<ErrorValue>(&value)) shown.error = shown_error(*error, true);
  }
  return shown;
}

void EventJsonFormatter::note_cut(const FieldValue& value, KeySpan key) {
  if (const StringValue* text = listed_text(value); text != nullptr && text->cut) {
    cuts_.push_back(CutField{key, text->original_bytes});
  }
}

const RedactionRule* EventJsonFormatter::rule_for(std::string_view name) const {
  return redactor_ != nullptr ? redactor_->rule_for(name) : nullptr;
}

char* EventJsonFormatter::write_cut_object(char* p, const char* line) const {
  p = write_raw(p, kCutOpen);
  for (size_t i = 0; i < cuts_.size(); ++i) {
    if (i != 0) *p++ = ',';
    *p++ = '"';
    // The key as written earlier on this line.
    p = write_raw(p, std::string_view(line + cuts_[i].key.offset, cuts_[i].key.size));
    *p++ = '"';
    *p++ = ':';
    p = write_json_uint(p, cuts_[i].original_bytes);
  }
  *p++ = '}';
  return p;
}

void EventJsonFormatter::finish_line(std::string& out) {
  if (!cuts_.empty()) {
    size_t bound = kCutOpen.size() + 1;
    for (const CutField& cut : cuts_) bound += cut.key.size + 4 + kJsonNumberBound;  // "key": and ','
    const size_t start = out.size();
    out.resize(start + bound);
    char* const end = write_cut_object(out.data() + start, out.data());
    out.resize(static_cast<size_t>(end - out.data()));
    field_span(start + 2, 4, start + kCutOpen.size() - 1, out.size());  // ,"_cut":{…}
  }
  out.append("}\n", 2);
}

size_t EventJsonFormatter::reserved_line_bound(const SiteCache& cache, const DecodedEvent& event) const {
  // Numbers are in fixed_bound: only text is looked at (and scanned), most
  // fields cost one type test.
  size_t bound = cache.fixed_bound;
  bool any_cut = false;
  for (const DecodedField& field : event.fields) {
    const size_t type = field.value.index();
    if (type == kStringType) {
      const StringValue& text = *std::get_if<StringValue>(&field.value);
      if (scrub_ && reader::holds_credentials(text.bytes)) return SIZE_MAX;
      bound += json_string_bound(text.bytes.size());
      any_cut = any_cut || text.cut;
      continue;
    }
    if (type != kErrorType) continue;
    const ShownValue shown = ShownValue::plain(field.value);
    if (scrub_ && shown.holds_credentials()) return SIZE_MAX;
    bound += shown.bound();
    const StringValue* text = listed_text(field.value);
    any_cut = any_cut || text->cut;
  }
  // "_cut":{ then "key":N per cut field: at most each key again, plus a number and 3 bytes.
  if (any_cut) bound += kCutOpen.size() + 1 + cache.keys.size() + event.fields.size() * (kJsonNumberBound + 3);
  return bound;
}

char* EventJsonFormatter::write_tid(char* p, uint64_t tid) {
  static_assert(sizeof(tid_text_) <= kJsonNumberBound, "the copy stays within the room reserved for the tid");
  if (tid_size_ == 0 || tid != tid_) {
    tid_ = tid;
    tid_size_ = static_cast<uint8_t>(write_json_uint(tid_text_, tid) - tid_text_);
  }
  std::memcpy(p, tid_text_, sizeof(tid_text_));  // within the number's bound; the line's size ends the copy
  return p + tid_size_;
}

char* EventJsonFormatter::write_seq(char* p, uint64_t seq) {
  static_assert(sizeof(seq_text_) <= kJsonNumberBound, "the copy stays within the room reserved for the seq");
  if (seq_size_ != 0 && seq == seq_ + 1 && seq_text_[seq_size_ - 1] != '9') {
    // Copied before the digit changes: a wide load of the text right after
    // a one-byte store to it would wait for that store (store forwarding).
    std::memcpy(p, seq_text_, sizeof(seq_text_));  // within the number's bound; the line's size ends the copy
    ++p[seq_size_ - 1];
    ++seq_text_[seq_size_ - 1];
    seq_ = seq;
    return p + seq_size_;
  }
  seq_size_ = static_cast<uint8_t>(write_json_uint(seq_text_, seq) - seq_text_);
  seq_ = seq;
  std::memcpy(p, seq_text_, sizeof(seq_text_));
  return p + seq_size_;
}

void EventJsonFormatter::write_cached_line(std::string& out, const SiteCache& cache, const DecodedEvent& event,
                                           int64_t ns, size_t bound) {
  const size_t start = out.size();
  out.resize(start + bound);
  char* const base = out.data();
  char* p = base + start;
  p = write_raw(p, kHeadStart);
  p = timestamps_.write(p, ns);
  head_shape(ns, cache.site->level,
             start + kHeadStart.size() + TimestampFormatter::kBytes + head_level_key(cache.site->level).size() + 1,
             cache.message_size);
  p = write_raw(p, cache.head);
  p = write_tid(p, event.tid);
  p = write_raw(p, kSeqKey);
  p = write_seq(p, event.seq);
  cuts_.clear();
  // The fields' spans are written in place (one resize rather than a
  // push_back each); offsets are relative to the line.
  // Sizes and data pointers are read once: the writes through `p` (a char*)
  // may alias anything, so the compiler would reload them per field.
  const size_t field_count = event.fields.size();
  const DecodedField* const fields = event.fields.data();
  const uint32_t* const key_ends = cache.key_ends.data();
  const char* const keys = cache.keys.data();
  std::vector<FieldSpan>& spans = shaped_->fields;
  const size_t first_span = spans.size();
  spans.resize(first_span + field_count);
  FieldSpan* span = spans.data() + first_span;
  const char* const line = base + shape_.offset;
  for (size_t i = 0; i < field_count; ++i, ++span) {
    const uint32_t begin = i == 0 ? 0 : key_ends[i - 1];
    const uint32_t size = key_ends[i] - begin;
    const size_t key_offset = static_cast<size_t>(p - base) + 2;  // inside ,"…":
    span->key_offset = static_cast<uint32_t>(p + 2 - line);
    span->key_size = size - 4u;
    p = write_raw(p, std::string_view(keys + begin, size));
    // Scrubbing finds nothing here: reserved_line_bound() looked.
    const FieldValue& value = fields[i].value;
    char* const value_start = p;
    const size_t type = value.index();
    if (type == kStringType) {
      // Straight from the string: a ShownValue (an error's room too) would
      // be zeroed and stored to the stack per field, then reloaded.
      const StringValue& text = *std::get_if<StringValue>(&value);
      p = write_json_string(p, text.bytes);
      if (text.cut) [[unlikely]]
        cuts_.push_back(CutField{KeySpan{key_offset, size - 4u}, text.original_bytes});
    } else if (type == kErrorType) [[unlikely]] {
      p = ShownValue::plain(value).write(p);
      note_cut(value, KeySpan{key_offset, size - 4u});
    } else {
      p = ShownValue::write_number(p, value);
    }
    span->value_offset = static_cast<uint32_t>(value_start - line);
    span->value_size = static_cast<uint32_t>(p - value_start);
  }
  if (!cuts_.empty()) {
    const size_t cut_start = static_cast<size_t>(p - base);
    p = write_cut_object(p, base);
    field_span(cut_start + 2, 4, cut_start + kCutOpen.size() - 1, static_cast<size_t>(p - base));
  } else {
    shape_.layout = cache.layout;  // the site's keys alone (append_event clears it for a context)
  }
  *p++ = '}';
  *p++ = '\n';
  out.resize(static_cast<size_t>(p - base));
}

void EventJsonFormatter::append_event(ShapedLines& shaped, const DecodedEvent& event, int64_t ns) {
  std::string& out = shaped.text;
  begin_line(shaped, LineKind::kEvent);
  shape_.has_tid = true;
  shape_.has_seq = true;
  shape_.tid = event.tid;
  shape_.seq = event.seq;
  const SiteCache* cache = site_cache(event);
  if (event.context != nullptr && !event.context->frames.empty()) [[unlikely]] {
    // The line as without a context, then its context fields before the closing brace.
    const ContextCache& context = context_cache(event.slot_index, *event.context, event.context->frames.size());
    append_event_fields(out, cache, event, ns);
    shape_.layout = 0;           // its context's keys follow the site's
    out.resize(out.size() - 2);  // "}\n"
    uint64_t bloom = 0;
    if (cache != nullptr) {
      bloom = cache->name_bloom;
    } else {
      for (const DecodedField& field : event.fields) bloom |= name_bit(field.name);
    }
    append_context(out, context, event.fields, bloom);
    out.append("}\n", 2);
    end_line();
    return;
  }
  append_event_fields(out, cache, event, ns);
  end_line();
}

template <class Names>
void EventJsonFormatter::append_context(std::string& out, const ContextCache& cache, const Names& names,
                                        uint64_t name_bloom) {
  // Each entry is ,"<key>":<value> with the key at text[2].
  auto span_of = [&](const ContextEntry& entry, size_t at) {
    field_span(at + 2, entry.key_size, at + 4 + entry.key_size, at + entry.text.size());
  };
  if ((cache.name_bloom & name_bloom) == 0) {
    size_t at = out.size();
    out.append(cache.all);
    for (const ContextEntry& entry : cache.entries) {
      span_of(entry, at);
      at += entry.text.size();
    }
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
    if (!own) {
      span_of(entry, out.size());
      out.append(entry.text);
    }
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
    entry.key_size = static_cast<uint32_t>(key.size);
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
        append_field_value(text, rule_for(field.name), field.value, key, false);
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

void EventJsonFormatter::append_span(ShapedLines& shaped, const SpanEdge& edge, int64_t realtime_ns) {
  std::string& out = shaped.text;
  const ContextFrame& span = edge.context->frames[edge.span_index];
  begin_line(shaped, edge.end ? LineKind::kSpanEnd : LineKind::kSpanStart);
  shape_.has_tid = true;
  shape_.tid = edge.tid;
  append_head(out, realtime_ns, span_level(edge), edge.end ? "span.end" : "span.start");
  out.append(R"(,"tid":)");
  append_json_uint(out, edge.tid);
  // A key by the event rule, then its value from `write`.
  auto field = [&](std::string_view name, auto&& write) {
    const KeySpan key = append_key(out, name, kEventReserved, std::size(kEventReserved));
    const size_t value = out.size();
    write(key);
    field_span(key.offset, key.size, value, out.size());
  };
  // The span's own keys first; its fields then follow the event rule.
  static constexpr std::string_view kSpanKeys[] = {"span", "trace_id", "span_id", "parent_span_id"};
  field("span", [&](KeySpan) { append_json_string(out, shown_string(span.span_name, scrub_, 0)); });
  field("trace_id", [&](KeySpan) { append_json_string(out, span.trace_id); });
  field("span_id", [&](KeySpan) { append_json_string(out, span.span_id); });
  if (!span.parent_span_id.empty()) {
    field("parent_span_id", [&](KeySpan) { append_json_string(out, span.parent_span_id); });
  }
  const std::vector<ContextField>& fields = edge.end ? edge.outcome : span.fields;
  for (const ContextField& f : fields) {
    field(f.name, [&](KeySpan key) { append_field_value(out, rule_for(f.name), f.value, key, false); });
  }
  if (edge.end) {
    const int64_t start_ns = this->realtime_ns(span.timestamp_raw);
    field("duration_ms", [&](KeySpan) { append_json_double(out, static_cast<double>(realtime_ns - start_ns) / 1e6); });
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
  end_line();
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
    head_shape(ns, cache->site->level, out.size() + head_level_key(cache->site->level).size() + 1, cache->message_size);
    out.append(cache->head);
  } else {
    const CallSiteInfo* site = event.callsite;
    append_head(out, ns, site != nullptr ? site->level : shm::Level::kOff,
                site != nullptr ? std::string_view{site->message} : std::string_view());
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
    } else {
      rule = rule_for(field.name);
    }
    const size_t value = out.size();
    append_field_value(out, rule, field.value, key, trusted_hash == i);
    field_span(key.offset, key.size, value, out.size());
  }
  finish_line(out);
}

namespace {

// A note field's bool, integer or floating-point value as JSON; false
// (nothing written) for any other type. (Event fields: ShownValue.)
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

void EventJsonFormatter::append_field_value(std::string& out, const RedactionRule* rule, const FieldValue& value,
                                            KeySpan key, bool trusted_hash) {
  if (rule != nullptr) {
    append_redacted(out, *rule, value, key, trusted_hash);
  } else {
    append_value(out, value, key, scrub_);
  }
}

void EventJsonFormatter::append_value(std::string& out, const FieldValue& value, KeySpan key, bool scrub) {
  const ShownValue shown = shown_value(value, scrub);
  const size_t start = out.size();
  out.resize(start + shown.bound());
  char* const end = shown.write(out.data() + start);
  out.resize(static_cast<size_t>(end - out.data()));
  note_cut(value, key);
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
  const bool cuts_text =
      rule.action == RedactionRule::Action::kTruncate || rule.action == RedactionRule::Action::kKeepEnds;
  if (const StringValue* listed = listed_text(value); cuts_text && listed != nullptr) {
    // A string, or an error's message: the one text these rules cut.
    ShownValue shown = shown_value(value, scrub_);
    std::string_view& shown_text = text != nullptr ? shown.text : shown.error.message;
    std::string kept;
    bool cut = listed->cut;
    if (rule.action == RedactionRule::Action::kTruncate) {
      if (utf8_length(shown_text) > rule.n) {
        shown_text = utf8_prefix(shown_text, rule.n);
        cut = true;
      }
    } else {
      shown_text = keep_ends(shown_text, rule.n, kept);
      cut = false;  // keep-ends lists no cut: the ends say what there is
    }
    const size_t start = out.size();
    out.resize(start + shown.bound());
    char* const end = shown.write(out.data() + start);
    out.resize(static_cast<size_t>(end - out.data()));
    if (cut) cuts_.push_back(CutField{key, listed->original_bytes});
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
    case RedactionRule::Action::kTruncate:  // not a text: kept
      append_value(out, value, key, scrub_);
      return;
    case RedactionRule::Action::kKeepEnds:  // not a text: redacted
      append_json_string(out, kRedactedText);
      return;
  }
}

void EventJsonFormatter::append_gap(ShapedLines& shaped, const DropGap& gap, int64_t realtime_ns) {
  std::string& out = shaped.text;
  begin_line(shaped, LineKind::kGap);
  shape_.has_tid = true;
  shape_.tid = gap.tid;
  append_head(out, realtime_ns, shm::Level::kWarn, "ringtail.dropped");
  out.append(R"(,"tid":)");
  append_json_uint(out, gap.tid);
  // Keys that need no escape and take no underscore.
  auto count = [&](std::string_view key, uint64_t value) {
    const size_t key_offset = out.size() + 2;
    out.append(",\"").append(key).append("\":");
    const size_t value_offset = out.size();
    append_json_uint(out, value);
    field_span(key_offset, key.size(), value_offset, out.size());
  };
  count("dropped", gap.count);
  count("first_seq", gap.first_seq);
  count("last_seq", gap.last_seq);
  if (gap.cause == DropGap::Cause::kOverwritten) {
    // A flight-recorder ring overwrote them (a full ring or a record too big otherwise).
    constexpr std::string_view kCause = R"(,"cause":"overwritten")";
    const size_t key_offset = out.size() + 2;
    out.append(kCause);
    field_span(key_offset, 5, key_offset + 7, out.size());
  }
  out.append("}\n", 2);
  end_line();
}

void EventJsonFormatter::append_note(ShapedLines& shaped, int64_t realtime_ns, shm::Level level,
                                     std::string_view message, std::span<const NoteField> fields) {
  std::string& out = shaped.text;
  begin_line(shaped, LineKind::kNote);
  append_head(out, realtime_ns, level, message);
  for (const NoteField& field : fields) {
    const KeySpan key = append_key(out, field.key, kNoteReserved, std::size(kNoteReserved));
    const size_t value = out.size();
    std::visit(
        [&](const auto& value) {
          using T = std::decay_t<decltype(value)>;
          if (append_scalar(out, value)) return;
          if constexpr (std::is_same_v<T, std::string_view>) {
            append_json_string(out, shown_string(value, scrub_, 0));
          }
        },
        field.value);
    field_span(key.offset, key.size, value, out.size());
  }
  finish_line(out);
  end_line();
}

}  // namespace ringtail::reader
