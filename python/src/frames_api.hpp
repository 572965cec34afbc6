// The frame objects the Python layer (ringtail/_frames.py) holds: what
// begin_context and begin_span return, and end_frame ends.
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <optional>
#include <string>

#include "ringtail/binding.hpp"
#include "ringtail/trace_context.hpp"

namespace ringtail::python {

struct Frame {
  pybind11::object parent;        // the enclosing Frame, or None
  Frame* parent_frame = nullptr;  // the same, kept alive by `parent`
  uint32_t length = 1;            // frames in the chain, this one included
  binding::FrameRecord record;
  bool is_span = false;
  bool ended = false;
  bool failed = false;  // set_status("ERROR")
  std::string name;
  TraceId trace_id;
  uint64_t span_id = 0;
  uint64_t parent_span_id = 0;
  uint8_t trace_flags = 0;

  // The innermost span's traceparent header, "" when the chain has no span.
  std::string traceparent() const;
};

// Begins a context or span as the child of the current frame and binds it
// on the calling thread; the caller then makes it current (ContextVar.set).
pybind11::object begin_context(const pybind11::dict& fields);
pybind11::object begin_span(const pybind11::object& name, const pybind11::dict& attributes,
                            const std::optional<std::string>& traceparent);
// Ends a frame (once): a span writes its span.end, with the error when one is given.
void end_frame(pybind11::object frame, const pybind11::object& error);

}  // namespace ringtail::python
