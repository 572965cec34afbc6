// Run-time typed call sites and frames for language bindings: the same
// records as the C++ templates write, from values typed at run time.
#include "ringtail/binding.hpp"

#include <cstring>

#include "ringtail/detail/frame_encoding.hpp"

namespace ringtail::binding {
namespace {

using shm::FieldType;

detail::ErrorValue error_value(const Value& value) {
  return detail::ErrorValue{value.error_type, value.text, value.has_code ? value.code : 0,
                            value.has_code ? shm::kErrorHasCode : 0U, value.stack};
}

uint32_t value_bytes(const Value& value, uint32_t max_string) noexcept {
  switch (value.type) {
    case FieldType::kString:
      return detail::encoded_bytes(value.text, max_string);
    case FieldType::kError:
      return detail::encoded_bytes(error_value(value), max_string);
    default:
      return 8;
  }
}

std::byte* encode_value(std::byte* out, const Value& value, uint32_t max_string) noexcept {
  switch (value.type) {
    case FieldType::kString:
      return detail::encode(out, value.text, max_string);
    case FieldType::kError:
      return detail::encode(out, error_value(value), max_string);
    default:
      std::memcpy(out, &value.word, sizeof(value.word));
      return out + sizeof(value.word);
  }
}

uint32_t inline_bytes(std::string_view key, const Value& value, uint32_t max_string) noexcept {
  const size_t key_bytes = key.size() < shm::kMaxInlineKeyBytes ? key.size() : shm::kMaxInlineKeyBytes;
  return static_cast<uint32_t>(sizeof(shm::InlineFieldHeader) + ((key_bytes + 7U) & ~size_t{7}) +
                               value_bytes(value, max_string));
}

std::byte* encode_inline(std::byte* out, std::string_view key, const Value& value, uint32_t max_string) noexcept {
  return encode_value(detail::encode_inline_key(out, value.type, key), value, max_string);
}

FrameRecord encode_frame(shm::FrameKind kind, const shm::SpanIds* ids, std::string_view name, const std::string* keys,
                         const Value* values, uint32_t count) {
  const uint32_t max_string = detail::frame_string_cap();
  size_t size = sizeof(shm::FrameHeader);
  if (ids != nullptr) size += sizeof(shm::SpanIds) + detail::encoded_bytes(name, max_string);
  for (uint32_t i = 0; i < count; ++i) size += inline_bytes(keys[i], values[i], max_string);
  FrameRecord frame;
  frame.bytes.assign(size, '\0');
  auto* record = reinterpret_cast<std::byte*>(frame.bytes.data());
  shm::FrameHeader header{};
  header.header.size = static_cast<uint32_t>(size);
  header.header.callsite_id = shm::kFramePushId;
  header.kind = static_cast<uint8_t>(kind);
  header.field_count = count;
  std::memcpy(record, &header, sizeof(header));
  std::byte* out = record + sizeof(header);
  if (ids != nullptr) {
    std::memcpy(out, ids, sizeof(*ids));
    out = detail::encode(out + sizeof(*ids), name, max_string);
  }
  for (uint32_t i = 0; i < count; ++i) out = encode_inline(out, keys[i], values[i], max_string);
  return frame;
}

template <FullRing kOnFull>
EmitResult emit_values(detail::CallSite& site, const char* function, const char* const* keys, const FieldType* types,
                       const Value* values, uint32_t count) noexcept {
  detail::ThreadState& thread = detail::t_thread_state;
  if (const EmitResult ready = detail::ready_thread<kOnFull>(thread); ready != EmitResult::kCommitted) return ready;
  uint32_t id = site.id.load(std::memory_order_relaxed);
  if (id >= detail::kSiteRejected) [[unlikely]] {
    id = detail::register_site(site, function, types, keys, count);
    if (id >= detail::kSiteRejected) {
      if constexpr (kOnFull == FullRing::kWait) detail::count_audit_lost_outside_rings();
      return EmitResult::kLost;
    }
  }
  if (detail::sampled_out<kOnFull>(thread, id)) return EmitResult::kSampledOut;
  const uint32_t max_string = thread.max_string_bytes;
  uint64_t size = sizeof(shm::RecordHeader);
  for (uint32_t i = 0; i < count; ++i) size += value_bytes(values[i], max_string);
  return detail::write_event<kOnFull, true>(thread, id, size, [&](std::byte* out) {
    for (uint32_t i = 0; i < count; ++i) out = encode_value(out, values[i], max_string);
    return out;
  });
}

// The call-site table takes NUL-terminated text (a C++ site's literals): a
// NUL inside a run-time message, key or name would cut it there, and two
// keys that differ after it would read the same. It becomes U+FFFD.
std::string without_nul(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '\0') {
      out.append("\xEF\xBF\xBD");
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

Site::Site(Level level, std::string_view message, std::string_view file, uint32_t line, std::string_view function,
           const std::vector<std::string>& keys, const std::vector<FieldType>& types)
    : message_(without_nul(message)),
      file_(without_nul(file)),
      function_(without_nul(function)),
      types_(types),
      site_(level, message_.c_str(), file_.c_str(), line) {
  keys_.reserve(keys.size());
  for (const std::string& key : keys) keys_.push_back(without_nul(key));
  key_pointers_.reserve(keys_.size() + 1);
  for (const std::string& key : keys_) key_pointers_.push_back(key.c_str());
  key_pointers_.push_back(nullptr);
}

EmitResult emit(Site& site, const Value* values, uint32_t count, FullRing on_full) noexcept {
  // A site the table cannot describe (more than kMaxFields fields, or keys
  // and types out of step), or values that do not match it: the binding's
  // mistake, refused before anything is written or counted.
  if (count != site.types_.size() || count != site.keys_.size() || count > shm::kMaxFields) return EmitResult::kLost;
  for (uint32_t i = 0; i < count; ++i) {
    if (values[i].type != site.types_[i]) return EmitResult::kLost;
  }
  const char* const* keys = site.key_pointers_.data();
  switch (on_full) {
    case FullRing::kDrop:
      return emit_values<FullRing::kDrop>(site.site_, site.function_.c_str(), keys, site.types_.data(), values, count);
    case FullRing::kReport:
      return emit_values<FullRing::kReport>(site.site_, site.function_.c_str(), keys, site.types_.data(), values,
                                            count);
    case FullRing::kWait:
      return emit_values<FullRing::kWait>(site.site_, site.function_.c_str(), keys, site.types_.data(), values, count);
  }
  return EmitResult::kLost;
}

FrameRecord encode_context(const std::string* keys, const Value* values, uint32_t count) {
  return encode_frame(shm::FrameKind::kContext, nullptr, {}, keys, values, count);
}

FrameRecord encode_span(const TraceId& trace_id, uint64_t span_id, uint64_t parent_span_id, uint8_t trace_flags,
                        std::string_view name, const std::string* keys, const Value* values, uint32_t count) {
  const shm::SpanIds ids{trace_id.high, trace_id.low, span_id, parent_span_id, trace_flags, {}};
  FrameRecord frame = encode_frame(shm::FrameKind::kSpan, &ids, name, keys, values, count);
  frame.is_span = true;
  frame.trace_draw = detail::trace_draw(trace_id);
  return frame;
}

uint32_t frame_depth() noexcept { return detail::t_thread_state.frame_depth; }

int bind_frame(FrameRecord& frame, bool resent) noexcept {
  if (frame.bytes.size() < sizeof(shm::FrameHeader)) return -1;
  shm::FrameHeader header;
  std::memcpy(&header, frame.bytes.data(), sizeof(header));
  const auto size = static_cast<uint32_t>(frame.bytes.size());
  std::byte* out = detail::begin_push(size, static_cast<shm::FrameKind>(header.kind), header.field_count);
  if (out == nullptr) return -1;
  std::byte* record = out - sizeof(shm::FrameHeader);
  if (resent) record[offsetof(shm::FrameHeader, flags)] = static_cast<std::byte>(shm::kFrameResent);
  std::memcpy(out, frame.bytes.data() + sizeof(header), size - sizeof(header));
  const int depth = detail::finish_push(record + size, frame.is_span, frame.trace_draw, header.header.timestamp);
  if (header.header.timestamp == 0) {
    // Keep the first binding's time: a span's duration runs from it.
    std::memcpy(frame.bytes.data() + offsetof(shm::RecordHeader, timestamp),
                record + offsetof(shm::RecordHeader, timestamp), sizeof(uint64_t));
  }
  return depth;
}

void unbind_frames(uint32_t depth) noexcept {
  if (depth >= detail::t_thread_state.frame_depth) return;
  const detail::PopWrite pop = detail::begin_pop(static_cast<int>(depth), sizeof(shm::FrameHeader),
                                                 shm::FrameKind::kContext, 0, shm::kFrameResent);
  if (pop.at != nullptr) detail::finish_pop(pop);
}

void end_frame(uint32_t depth, bool is_span, std::string_view status, const Value* error) noexcept {
  if (!is_span) {
    const detail::PopWrite pop =
        detail::begin_pop(static_cast<int>(depth), sizeof(shm::FrameHeader), shm::FrameKind::kContext, 0);
    if (pop.at != nullptr) detail::finish_pop(pop);
    return;
  }
  const uint32_t max_string = detail::frame_string_cap();
  Value status_value;
  status_value.type = FieldType::kString;
  status_value.text = status;
  uint32_t size = sizeof(shm::FrameHeader) + inline_bytes("status", status_value, max_string);
  if (error != nullptr) size += inline_bytes("error", *error, max_string);
  const detail::PopWrite pop =
      detail::begin_pop(static_cast<int>(depth), size, shm::FrameKind::kSpan, error != nullptr ? 2 : 1);
  if (pop.at == nullptr) return;
  std::byte* out = encode_inline(pop.at, "status", status_value, max_string);
  if (error != nullptr) out = encode_inline(out, "error", *error, max_string);
  (void)out;  // the encoders fill exactly the reserved size
  detail::finish_pop(pop);
}

}  // namespace ringtail::binding
