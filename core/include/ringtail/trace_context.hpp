// Trace and span ids, and the W3C traceparent header that carries them
// between processes (W3C Trace Context, level 1:
// https://www.w3.org/TR/trace-context/).
//
//   std::optional<ringtail::TraceParent> in = ringtail::parse_traceparent(request_header);
//   const ringtail::TraceId trace = in ? in->trace_id : ringtail::new_trace_id();
//   const uint64_t span = ringtail::new_span_id();
//   char header[ringtail::kTraceParentChars];
//   ringtail::format_traceparent(trace, span, /*trace_flags=*/1, header);
//
// Ids are plain integers: a trace id is 128 bits (high, low), a span id 64.
// Their text is lowercase hex, most significant digit first, so that
// high = 0x4bf92f3577b34da6 and low = 0xa3ce929d0e0e4736 read
// "4bf92f3577b34da6a3ce929d0e0e4736". An all-zero id is invalid in W3C
// Trace Context, and none of these functions makes one.
//
// Threading: every function is thread-safe and noexcept except the
// std::string overload of format_traceparent (it allocates). new_trace_id()
// and new_span_id() draw from a generator of the calling thread (no lock, no
// syscall, no allocation once the thread has drawn once); a fork child
// reseeds before its first draw, so it never repeats its parent's ids. A
// process made by a raw clone() or vfork() that skips pthread_atfork handlers
// is not detected.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ringtail {

// A 128-bit trace id; all zero means "none".
struct TraceId {
  uint64_t high = 0;
  uint64_t low = 0;
  bool valid() const noexcept { return (high | low) != 0; }
  friend bool operator==(const TraceId&, const TraceId&) = default;
};

// The fields of a traceparent header.
struct TraceParent {
  TraceId trace_id;
  uint64_t parent_span_id = 0;
  uint8_t trace_flags = 0;
  // Flag bit 0: the caller recorded (sampled) its span.
  bool sampled() const noexcept { return (trace_flags & 1) != 0; }
};

// "00-" 32 hex "-" 16 hex "-" 2 hex.
inline constexpr size_t kTraceParentChars = 55;
inline constexpr size_t kTraceIdChars = 32;
inline constexpr size_t kSpanIdChars = 16;

// Parses a traceparent header value, "00-<32 lowercase hex>-<16 lowercase
// hex>-<2 lowercase hex>", with leading and trailing spaces and tabs (HTTP
// optional whitespace) ignored. nullopt when the spec says the header is
// invalid: version ff, an all-zero trace id or parent id, uppercase or other
// non-hex digits, wrong lengths or separators, and version 00 with anything
// after the flags. A version above 00 is accepted when its first 55
// characters parse as above and what follows them, if anything, starts with
// '-': later versions may only append fields, which are ignored here.
std::optional<TraceParent> parse_traceparent(std::string_view header) noexcept;

// Writes the version-00 header, exactly kTraceParentChars characters, at
// `out` (no NUL). Ids are written as given, zero included: the caller
// validates what it did not make with new_trace_id() / new_span_id().
void format_traceparent(const TraceId& trace_id, uint64_t span_id, uint8_t trace_flags, char* out) noexcept;
// The same text as a string.
std::string format_traceparent(const TraceId& trace_id, uint64_t span_id, uint8_t trace_flags);

// Lowercase hex: kTraceIdChars characters for a trace id, kSpanIdChars for a
// span id, at `out` (no NUL).
void format_trace_id(const TraceId& id, char* out) noexcept;
void format_span_id(uint64_t id, char* out) noexcept;

// Random ids, never zero, from the calling thread's generator (xoshiro256**
// seeded from getrandom(2)). Unpredictable enough that ids from separate
// processes and threads do not collide in practice; not a cryptographic
// source (do not use them as secrets).
TraceId new_trace_id() noexcept;
uint64_t new_span_id() noexcept;

}  // namespace ringtail
