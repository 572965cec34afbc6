// Frame records (shm FrameHeader): how ScopedContext and Span write the
// thread's frames. Not API: use ringtail/context.hpp and ringtail/span.hpp.
//
// A push record is encoded once, into the thread's frame stack (process
// memory, kFrameStackBytes per thread), and copied from there into the ring;
// the copy in the stack is what the producer writes again after a loss. A
// pop record goes straight into the ring: nothing needs it afterwards.
//
// Frames are not on the event hot path: binding and unbinding cost a record
// each, and an event inside them costs what it costs outside.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "ringtail/detail/producer_state.hpp"
#include "ringtail/field.hpp"

namespace ringtail::detail {

// Bytes of push records one thread may have bound at once (the ABI's limit).
inline constexpr uint32_t kFrameStackBytes = shm::kMaxFrameStackBytes;

// Keys are string literals (kv() takes only those), so the length folds to a
// constant once inlined; longer keys are cut at kMaxInlineKeyBytes.
inline uint32_t inline_key_bytes(const char* key) noexcept {
  const size_t length = std::char_traits<char>::length(key);
  return static_cast<uint32_t>(length < shm::kMaxInlineKeyBytes ? length : shm::kMaxInlineKeyBytes);
}

// Bytes a field takes in a frame record: header, padded key, value.
template <class V>
uint32_t inline_field_bytes(const Field<V>& field, uint32_t max_string) noexcept {
  return sizeof(shm::InlineFieldHeader) + ((inline_key_bytes(field.key) + 7U) & ~7U) +
         encoded_bytes(field.value, max_string);
}

// Writes an InlineFieldHeader and the key (at most kMaxInlineKeyBytes,
// zero-padded to 8); returns where the value goes.
inline std::byte* encode_inline_key(std::byte* out, shm::FieldType type, std::string_view key) noexcept {
  const auto key_bytes =
      static_cast<uint32_t>(key.size() < shm::kMaxInlineKeyBytes ? key.size() : shm::kMaxInlineKeyBytes);
  const shm::InlineFieldHeader header{static_cast<uint8_t>(type), 0, static_cast<uint16_t>(key_bytes), 0};
  std::memcpy(out, &header, sizeof(header));
  out += sizeof(header);
  const uint32_t padded = (key_bytes + 7U) & ~7U;
  if (padded != 0) {
    const uint64_t zero = 0;
    std::memcpy(out + padded - 8, &zero, sizeof(zero));
    std::memcpy(out, key.data(), key_bytes);
  }
  return out + padded;
}

template <class V>
std::byte* encode_inline_field(std::byte* out, const Field<V>& field, uint32_t max_string) noexcept {
  out = encode_inline_key(out, field_type<V>(), std::string_view(field.key, inline_key_bytes(field.key)));
  return encode(out, field.value, max_string);
}

// The cap on string values in frames: the segment's max_string_bytes (the
// thread may not have its ring yet, so it is asked for, not read from TLS).
uint32_t frame_string_cap() noexcept;

// Starts a push record of `size` bytes in the thread's frame stack and fills
// its FrameHeader but for seq and timestamp; returns where the rest goes
// (right after the header), or nullptr when the frame cannot be bound (the
// stack is kMaxFrameDepth deep, or the record does not fit the stack or the
// ring's largest record): the caller then binds nothing, and a thread with a
// ring counts it as a record too big (a seq gap the reader reports).
std::byte* begin_push(uint32_t size, shm::FrameKind kind, uint32_t field_count) noexcept;
// Publishes the record begun by begin_push (`end` is where its bytes end) as
// the thread's innermost frame and writes it to the ring (or marks the
// thread to re-send its frames when the ring lacks room). A span passes the
// sampling draw of its trace. The record is stamped with `timestamp`, or
// with the time now when it is 0. Returns the frame's depth.
int finish_push(const std::byte* end, bool is_span, uint32_t trace_draw, uint64_t timestamp = 0) noexcept;

// A pop record of `size` bytes for the frame at `depth`, reserved in the
// ring; `at` is where the bytes after its FrameHeader go, nullptr when it is
// not to be written (the frame was never bound, the thread has no ring, or
// the ring lacks room: then counted and the thread re-sends its frames).
// The thread's stack drops the frame (and any above it) either way.
struct PopWrite {
  std::byte* at;
  shm::RingWriter::Reservation reservation;
};
// `flags`: kFrameResent for a pop that unbinds without ending (no span.end line).
PopWrite begin_pop(int depth, uint32_t size, shm::FrameKind kind, uint32_t field_count, uint8_t flags = 0) noexcept;
void finish_pop(const PopWrite& pop) noexcept;

}  // namespace ringtail::detail
