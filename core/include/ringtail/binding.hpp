// Run-time typed call sites and frames, for language bindings (the Python
// module in python/). C++ code uses ringtail/log.hpp, context.hpp and span.hpp.
//
// A C++ call site knows its message, keys and value types at compile time. A
// binding learns them from the first call: it makes a Site for each distinct
// (level, message, keys, types) and keeps it for the life of the process
// (the site's id lives in it, and the segment's call-site table is bounded:
// the binding decides how many distinct sites it lets a program make).
//
// Frames: a binding whose contexts and spans do not nest in one thread's
// stack order (asyncio tasks interleave on one thread) encodes each frame
// once (encode_frame), then binds onto the calling thread the chain of
// frames that is current for the code about to log (bind_frame, with
// resent = true for a frame the reader has already seen, unbind_frames to
// drop the rest). Resent records make no span.start or span.end line; only
// end_frame() ends a span in the reader's output.
//
// Everything here is the same wire format as the C++ call sites (the reader
// cannot tell them apart), and keeps the hot path's rules: no lock, syscall
// or allocation once the thread has its ring and the site is described.
// Not thread-safe per Site for registration only in the way C++ sites are:
// the runtime lock serialises it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ringtail/detail/producer_state.hpp"
#include "ringtail/log.hpp"
#include "ringtail/span.hpp"
#include "ringtail/trace_context.hpp"

namespace ringtail::binding {

// One field value. Scalars (bool, integers, floats, durations, null) are
// the 8-byte word as it is stored (integers sign- or zero-extended, floats
// by their bits, durations in nanoseconds, null 0). A string is `text`. An
// error is `error_type`, `text` (its message), `stack` and, when has_code,
// `code`.
struct Value {
  shm::FieldType type = shm::FieldType::kNull;
  bool has_code = false;
  uint64_t word = 0;
  std::string_view text;
  std::string_view error_type;
  std::string_view stack;
  int64_t code = 0;
};

// A call site described at run time. It owns its strings (a NUL in them is
// written as U+FFFD: the call-site table holds NUL-terminated text); it must not move
// or be destroyed while events may use it (keep it for the process's life).
class Site {
 public:
  Site(Level level, std::string_view message, std::string_view file, uint32_t line, std::string_view function,
       const std::vector<std::string>& keys, const std::vector<shm::FieldType>& types);
  Site(const Site&) = delete;
  Site& operator=(const Site&) = delete;

  Level level() const noexcept { return site_.level; }
  uint32_t field_count() const noexcept { return static_cast<uint32_t>(types_.size()); }
  const std::vector<shm::FieldType>& types() const noexcept { return types_; }

 private:
  friend EmitResult emit(Site& site, const Value* values, uint32_t count, FullRing on_full) noexcept;

  std::string message_;
  std::string file_;
  std::string function_;
  std::vector<std::string> keys_;
  std::vector<const char*> key_pointers_;
  std::vector<shm::FieldType> types_;
  detail::CallSite site_;
};

// Writes one event of `site` with `count` values (count == site.field_count(),
// at most shm::kMaxFields, each of its site's type; anything else is refused
// as kLost without writing or counting: the binding checks it first).
// As RINGTAIL_LOG (kDrop), RINGTAIL_TRY_LOG (kReport) or RINGTAIL_AUDIT
// (kWait); the caller tests the level first (enabled()), except for audit
// events, which are never filtered. kWait may wait up to Options::audit_wait.
EmitResult emit(Site& site, const Value* values, uint32_t count, FullRing on_full) noexcept;

// A frame's push record, encoded once: bound again as often as needed.
struct FrameRecord {
  std::string bytes;  // FrameHeader (depth, seq and timestamp filled when bound) and what follows
  bool is_span = false;
  uint32_t trace_draw = 0;  // a span's sampling draw (detail::trace_draw of its trace id)
};

// A context frame: fields with their keys.
FrameRecord encode_context(const std::string* keys, const Value* values, uint32_t count);
// A span frame: its ids, name and attributes.
FrameRecord encode_span(const TraceId& trace_id, uint64_t span_id, uint64_t parent_span_id, uint8_t trace_flags,
                        std::string_view name, const std::string* keys, const Value* values, uint32_t count);

// Frames bound on the calling thread (contexts and spans, from C++ or a binding).
uint32_t frame_depth() noexcept;
// Binds `frame` as the calling thread's innermost frame and writes it to the
// ring. resent: the reader has seen this frame before (on this thread or
// another): it makes no span.start line. The first binding stamps the
// record's timestamp into `frame` (a span's duration runs from it), and
// later ones keep it. Returns the frame's depth, or -1 when it cannot be
// bound (too deep or too large: counted as a record too big).
int bind_frame(FrameRecord& frame, bool resent) noexcept;
// Drops the calling thread's frames at `depth` and above without ending
// them (a resent pop: no span.end line). Nothing when fewer are bound.
void unbind_frames(uint32_t depth) noexcept;
// Ends the frame at `depth` (and drops any above it): a span's end writes
// its span.end line with `status` ("OK" or "ERROR") and, when `error` is
// not null, the error; a context's end writes only the pop.
void end_frame(uint32_t depth, bool is_span, std::string_view status, const Value* error) noexcept;

}  // namespace ringtail::binding
