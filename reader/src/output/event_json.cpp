// EventJsonFormatter: decoded events, drop gaps and reader notes as JSONL
// lines (docs/FORMAT.md is the reference for what is written here).
//
// Per-event cost matters (this runs for every record the reader drains), so a
// line is built by appending straight into the caller's buffer, and what a
// call site's lines share is formatted once per call site: level, escaped
// message, service and pid in one piece, and each field's escaped key with
// collisions already resolved. An event then costs its timestamp, its
// numbers and string values, and a comparison of the cached text's source
// (level, message, names) with its call site's, which keeps the cache correct
// even if a CallSiteInfo is replaced by another at the same address.
// Key collisions are resolved on the escaped text, against the reserved names
// and the keys already written (offsets into the line, in vectors whose
// capacity is reused). Nothing is allocated per event once the caches and
// `out` have grown.
#include "ringtail/reader/output/event_json.hpp"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <optional>
#include <type_traits>

#include "ringtail/reader/ingest/timestamp.hpp"

namespace ringtail::reader {
namespace {

// Keys that fields never take, whether or not the line writes them.
constexpr std::string_view kEventReserved[] = {"timestamp", "level", "message", "service", "pid", "tid", "seq", "_cut"};
// A note line writes no tid or seq of its own. It may carry a tid (same
// meaning as on other lines), but never a "seq": only event lines have one,
// which is how a consumer tells them apart (docs/FORMAT.md).
constexpr std::string_view kNoteReserved[] = {"timestamp", "level", "message", "service", "pid", "seq", "_cut"};

// `,"level":"<LEVEL>","message":` by level; index 6 for kOff and anything out
// of range (a call site may declare kOff; no honest producer logs at it).
constexpr std::string_view kLevelText[] = {
    R"(,"level":"TRACE","message":)", R"(,"level":"DEBUG","message":)", R"(,"level":"INFO","message":)",
    R"(,"level":"WARN","message":)",  R"(,"level":"ERROR","message":)", R"(,"level":"CRITICAL","message":)",
    R"(,"level":"OFF","message":)",
};

// Call-site ids are below the table capacity, at most 65536 (shm limits); an
// event claiming a larger one is formatted without a cache.
constexpr uint32_t kMaxCachedSiteId = 65536;

std::string_view level_text(shm::Level level) {
  const auto index = static_cast<size_t>(level);
  return kLevelText[std::min<size_t>(index, std::size(kLevelText) - 1)];
}

}  // namespace

EventJsonFormatter::EventJsonFormatter(const SegmentIdentity& identity) : identity_(identity) {
  append_json_string(service_json_, identity_.service);
  service_pid_ = R"(,"service":)";
  service_pid_ += service_json_;
  service_pid_ += R"(,"pid":)";
  append_json_uint(service_pid_, identity_.pid);
  keys_.reserve(shm::kMaxFields);
  cuts_.reserve(shm::kMaxFields);
}

int64_t EventJsonFormatter::realtime_ns(uint64_t timestamp_raw) const {
  const std::optional<uint64_t> ns = to_realtime_ns(identity_.clock, timestamp_raw);
  if (!ns) return 0;
  return static_cast<int64_t>(std::min<uint64_t>(*ns, INT64_MAX));
}

void EventJsonFormatter::append_head(std::string& out, int64_t realtime_ns, shm::Level level,
                                     std::string_view message) {
  keys_.clear();
  cuts_.clear();
  out.append(R"({"timestamp":)");
  timestamps_.append(out, realtime_ns);
  out.append(level_text(level));
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
  bool same = cache.level == site->level && cache.message == site->message && cache.names.size() == fields.size() &&
              !cache.head.empty();
  for (size_t i = 0; i < fields.size() && same; ++i) same = cache.names[i] == fields[i].name;
  if (same) return &cache;

  // (Re)build: first use of this id, or another call site under it.
  cache.level = site->level;
  cache.message = site->message;
  cache.names.resize(fields.size());
  cache.head.assign(level_text(site->level));
  append_json_string(cache.head, site->message);
  cache.head.append(service_pid_);
  cache.head.append(R"(,"tid":)");
  cache.keys.clear();
  cache.key_ends.clear();
  keys_.clear();
  for (size_t i = 0; i < fields.size(); ++i) {
    cache.names[i].assign(fields[i].name);
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

void EventJsonFormatter::append_event(std::string& out, const DecodedEvent& event) {
  const SiteCache* cache = site_cache(event);
  const int64_t ns = realtime_ns(event.timestamp_raw);
  if (cache != nullptr) {
    keys_.clear();
    cuts_.clear();
    out.append(R"({"timestamp":)");
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
    std::visit(
        [&](const auto& value) {
          using T = std::decay_t<decltype(value)>;
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
          } else if constexpr (std::is_same_v<T, StringValue>) {
            append_json_string(out, value.bytes);
            if (value.cut) cuts_.push_back(CutField{key, value.original_bytes});
          } else {
            static_assert(std::is_same_v<T, DurationValue>);
            append_json_int(out, value.ns);  // integer nanoseconds, see docs/FORMAT.md
          }
        },
        field.value);
  }
  finish_line(out);
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
                                     std::initializer_list<NoteField> fields) {
  append_head(out, realtime_ns, level, message);
  for (const NoteField& field : fields) {
    append_key(out, field.key, kNoteReserved, std::size(kNoteReserved));
    std::visit(
        [&](const auto& value) {
          using T = std::decay_t<decltype(value)>;
          if constexpr (std::is_same_v<T, bool>) {
            out.append(value ? "true" : "false");
          } else if constexpr (std::is_same_v<T, int64_t>) {
            append_json_int(out, value);
          } else if constexpr (std::is_same_v<T, uint64_t>) {
            append_json_uint(out, value);
          } else if constexpr (std::is_same_v<T, double>) {
            append_json_double(out, value);
          } else {
            static_assert(std::is_same_v<T, std::string_view>);
            append_json_string(out, value);
          }
        },
        field.value);
  }
  finish_line(out);
}

}  // namespace ringtail::reader
