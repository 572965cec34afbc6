// Contexts and spans for Python: see frames.hpp.
#include "frames.hpp"

#include <pybind11/pybind11.h>

#include <optional>
#include <string>
#include <vector>

#include "frames_api.hpp"
#include "ringtail/binding.hpp"
#include "ringtail/trace_context.hpp"
#include "values.hpp"

namespace ringtail::python {
namespace {

namespace py = pybind11;

PyObject* g_frame_var = nullptr;

// The chain bound on this thread (a strong reference to its innermost
// frame) and how many frames that left bound. A thread that exits holding
// one leaks that reference: a thread-local destructor may not touch Python.
thread_local PyObject* t_bound = nullptr;
thread_local uint32_t t_bound_depth = 0;

Frame* frame_of(PyObject* object) {
  if (object == nullptr || object == Py_None) return nullptr;
  return py::handle(object).cast<Frame*>();
}

void set_bound(PyObject* frame) {
  Py_XINCREF(frame);
  Py_XDECREF(t_bound);
  t_bound = frame;
  t_bound_depth = binding::frame_depth();
}

// Binds `target`'s chain (target may be null: no frames).
void bind_chain(PyObject* target) {
  if (binding::frame_depth() != t_bound_depth) {
    // Something else changed the thread's frames (a failed record, a fork):
    // start again from nothing.
    binding::unbind_frames(0);
    set_bound(nullptr);
  }
  if (t_bound == target) return;
  Frame* current = frame_of(t_bound);
  Frame* wanted = frame_of(target);
  Frame* a = current;
  Frame* b = wanted;
  while (a != nullptr && (b == nullptr || a->length > b->length)) a = a->parent_frame;
  while (b != nullptr && (a == nullptr || b->length > a->length)) b = b->parent_frame;
  while (a != b) {
    a = a->parent_frame;
    b = b->parent_frame;
  }
  uint32_t keep = a != nullptr ? a->length : 0;
  if (keep > t_bound_depth) keep = t_bound_depth;  // part of the chain never bound
  std::vector<Frame*> path;
  for (Frame* f = wanted; f != nullptr && f->length > keep; f = f->parent_frame) path.push_back(f);
  binding::unbind_frames(keep);
  for (auto it = path.rbegin(); it != path.rend(); ++it) {
    if (binding::bind_frame((*it)->record, /*resent=*/true) < 0) break;
  }
  set_bound(target);
}

// The innermost frame of `object`'s chain that has not ended (a span ended
// early by fail() stays current until its with-block exits, but events
// after it are outside it, as in C++), as an object; null for none.
PyObject* live_frame(PyObject* object) {
  Frame* frame = frame_of(object);
  while (frame != nullptr && frame->ended) {
    object = frame->parent.ptr();
    frame = frame->parent_frame;
  }
  return frame != nullptr ? object : nullptr;
}

PyObject* current_frame() {
  PyObject* value = nullptr;
  if (PyContextVar_Get(g_frame_var, nullptr, &value) < 0) {
    PyErr_Clear();
    return nullptr;
  }
  Py_XDECREF(value);  // the context keeps it alive; compared by address only
  return value;
}

std::vector<std::string> g_empty_keys;

// Fields of a dict as keys and values.
struct FrameFields {
  std::vector<std::string> keys;
  std::vector<binding::Value> values;
  ValueScratch scratch;
};

void collect(const py::dict& fields, FrameFields& out) {
  if (fields.size() > shm::kMaxFields) throw py::value_error("a context or span has at most 32 fields");
  for (auto [key, value] : fields) {
    out.keys.push_back(text_of(key.ptr()));
    binding::Value converted;
    to_value(value.ptr(), false, out.scratch, converted);
    out.values.push_back(converted);
  }
}

py::object begin(Frame* frame, py::object parent) {
  frame->parent = parent;
  frame->parent_frame = frame_of(parent.ptr());
  frame->length = frame->parent_frame != nullptr ? frame->parent_frame->length + 1 : 1;
  py::object handle = py::cast(frame, py::return_value_policy::take_ownership);
  bind_chain(parent.ptr());
  (void)binding::bind_frame(frame->record, /*resent=*/false);
  set_bound(handle.ptr());
  return handle;
}

py::object current_parent() {
  PyObject* current = live_frame(current_frame());
  return current != nullptr ? py::reinterpret_borrow<py::object>(current) : py::none();
}

}  // namespace

PyObject* create_frame_var() {
  g_frame_var = PyContextVar_New("ringtail_frame", nullptr);
  return g_frame_var;
}

void sync_frames() {
  PyObject* current = current_frame();
  if (current == t_bound && binding::frame_depth() == t_bound_depth) return;
  bind_chain(live_frame(current));
}

py::object begin_context(const py::dict& fields) {
  FrameFields collected;
  collect(fields, collected);
  auto* frame = new Frame();
  frame->record = binding::encode_context(collected.keys.data(), collected.values.data(),
                                          static_cast<uint32_t>(collected.values.size()));
  return begin(frame, current_parent());
}

py::object begin_span(const py::object& name_object, const py::dict& attributes,
                      const std::optional<std::string>& remote) {
  const std::string name = text_of(name_object.ptr());
  FrameFields collected;
  collect(attributes, collected);
  py::object parent = current_parent();
  const Frame* parent_span = frame_of(parent.ptr());
  while (parent_span != nullptr && !parent_span->is_span) parent_span = parent_span->parent_frame;
  auto* frame = new Frame();
  frame->is_span = true;
  frame->name = name;
  std::optional<TraceParent> incoming;
  if (remote.has_value()) incoming = parse_traceparent(*remote);
  if (incoming.has_value()) {
    frame->trace_id = incoming->trace_id;
    frame->parent_span_id = incoming->parent_span_id;
    frame->trace_flags = incoming->trace_flags;
  } else if (parent_span != nullptr) {
    frame->trace_id = parent_span->trace_id;
    frame->parent_span_id = parent_span->span_id;
    frame->trace_flags = parent_span->trace_flags;
  } else {
    frame->trace_id = new_trace_id();
    frame->trace_flags = 1;  // sampled
  }
  frame->span_id = new_span_id();
  frame->record = binding::encode_span(frame->trace_id, frame->span_id, frame->parent_span_id, frame->trace_flags, name,
                                       collected.keys.data(), collected.values.data(),
                                       static_cast<uint32_t>(collected.values.size()));
  return begin(frame, parent);
}

void end_frame(py::object handle, const py::object& error) {
  Frame* frame = frame_of(handle.ptr());
  if (frame == nullptr || frame->ended) return;
  frame->ended = true;
  bind_chain(handle.ptr());
  if (t_bound_depth == frame->length) {
    ValueScratch scratch;
    binding::Value error_value;
    const bool failed = !error.is_none();
    if (failed) to_value(error.ptr(), true, scratch, error_value);
    binding::end_frame(frame->length - 1, frame->is_span, failed || frame->failed ? "ERROR" : "OK",
                       failed ? &error_value : nullptr);
  } else {
    binding::unbind_frames(frame->length - 1);
  }
  set_bound(frame->parent.ptr() == Py_None ? nullptr : frame->parent.ptr());
}

std::string Frame::traceparent() const {
  const Frame* span = this;
  while (span != nullptr && !span->is_span) span = span->parent_frame;
  if (span == nullptr) return {};
  return format_traceparent(span->trace_id, span->span_id, span->trace_flags);
}

}  // namespace ringtail::python
