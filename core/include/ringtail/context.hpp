// ScopedContext: fields bound to the calling thread until the scope ends.
//
//   ringtail::ScopedContext ctx{ringtail::kv("session_id", session), ringtail::kv("user_id", user)};
//   RINGTAIL_INFO("tool call", ringtail::kv("tool", "write_file"));   // the line also has session_id, user_id
//
// The fields are not copied into each event: binding writes one frame record
// into the thread's ring and the scope's end another, and the reader attaches
// the thread's current frames to every event it decodes (docs/FORMAT.md,
// "Context and spans"). Scopes nest; an inner field wins over an outer one
// of the same name, and an event's own field over both. Values are copied
// when the context is bound (strings cut at max_string_bytes like any value).
//
// A context must end on the thread that bound it (it is neither copyable nor
// movable; one ended elsewhere unbinds nothing). At most shm::kMaxFrameDepth
// frames (contexts and spans) are bound per thread; one beyond that, or whose
// fields do not fit detail::kFrameStackBytes, binds nothing and is counted as
// a dropped record. Binding works before init() too: the frames reach the
// ring with the thread's first event.
#pragma once

#include "ringtail/detail/frame_encoding.hpp"
#include "ringtail/field.hpp"

namespace ringtail {

class ScopedContext {
 public:
  template <class... V>
  explicit ScopedContext(const Field<V>&... fields) noexcept : owner_(&detail::t_thread_state) {
    static_assert(sizeof...(V) <= shm::kMaxFields, "a context has at most 32 fields");
    const uint32_t max_string = detail::frame_string_cap();
    const uint32_t size =
        sizeof(shm::FrameHeader) + (uint32_t{0} + ... + detail::inline_field_bytes(fields, max_string));
    std::byte* out = detail::begin_push(size, shm::FrameKind::kContext, sizeof...(V));
    if (out == nullptr) return;
    ((out = detail::encode_inline_field(out, fields, max_string)), ...);
    depth_ = detail::finish_push(out, /*is_span=*/false, 0);
  }
  ~ScopedContext() {
    if (depth_ < 0 || owner_ != &detail::t_thread_state) return;
    const detail::PopWrite pop = detail::begin_pop(depth_, sizeof(shm::FrameHeader), shm::FrameKind::kContext, 0);
    if (pop.at != nullptr) detail::finish_pop(pop);
  }

  ScopedContext(const ScopedContext&) = delete;
  ScopedContext& operator=(const ScopedContext&) = delete;

  // False if the context could not be bound (too deep or too large).
  bool bound() const noexcept { return depth_ >= 0; }

 private:
  detail::ThreadState* owner_;
  int depth_ = -1;
};

}  // namespace ringtail
