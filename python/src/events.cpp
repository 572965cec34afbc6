// The event functions. ringtail.info("tool call", step_id=3) reaches
// write_event() with the message and the keyword values in one array and
// the keyword names in a tuple (vectorcall): no dict is built, and the site
// is found by the identity of the message and that tuple (sites.hpp).
#include "events.hpp"

#include <string>
#include <vector>

#include "frames.hpp"
#include "ringtail/binding.hpp"
#include "ringtail/options.hpp"
#include "sites.hpp"
#include "values.hpp"

namespace ringtail::python {
namespace {

namespace py = pybind11;
using shm::FieldType;

bool g_error_stacks = false;

PyObject* result(EmitResult emitted) {
  if (emitted == EmitResult::kCommitted) Py_RETURN_TRUE;
  Py_RETURN_FALSE;
}

// Writes the event once its values are converted; audit events release the
// GIL while they may wait for room.
EmitResult write(const SiteChoice& choice, binding::Value* values, uint32_t count, PyObject* message_object,
                 std::string_view message_text, bool audit, ValueScratch& scratch) {
  if (choice.site == nullptr) return EmitResult::kLost;
  const binding::Value* first = values + 1;
  uint32_t total = count;
  if (choice.message_as_text) {
    values[0] = binding::Value{};
    values[0].type = FieldType::kString;
    if (message_object != nullptr) {
      binding::Value text;
      to_value(message_object, false, scratch, text);
      values[0].text = text.text;
    } else {
      values[0].text = message_text;
    }
    first = values;
    total = count + 1;
  }
  if (!audit) return binding::emit(*choice.site, first, total, FullRing::kDrop);
  EmitResult emitted = EmitResult::kLost;
  Py_BEGIN_ALLOW_THREADS;
  emitted = binding::emit(*choice.site, first, total, FullRing::kWait);
  Py_END_ALLOW_THREADS;
  return emitted;
}

PyObject* write_event(Level level, bool audit, const char* name, PyObject* const* args, Py_ssize_t nargs,
                      PyObject* kwnames) {
  if (nargs != 1 || !PyUnicode_Check(args[0])) {
    PyErr_Format(PyExc_TypeError, "ringtail.%s(message, **fields): the message is one str, given positionally", name);
    return nullptr;
  }
  const Py_ssize_t count = kwnames != nullptr ? PyTuple_GET_SIZE(kwnames) : 0;
  if (count > static_cast<Py_ssize_t>(shm::kMaxFields)) {
    PyErr_Format(PyExc_ValueError, "ringtail.%s: an event has at most %u fields, not %zd", name, shm::kMaxFields,
                 count);
    return nullptr;
  }
  ValueScratch scratch;
  binding::Value values[shm::kMaxFields + 1];
  FieldType types[shm::kMaxFields];
  const bool stacks = g_error_stacks && level >= Level::kError;
  for (Py_ssize_t i = 0; i < count; ++i) {
    to_value(args[1 + i], stacks, scratch, values[1 + i]);
    types[i] = values[1 + i].type;
  }
  sync_frames();
  const SiteChoice choice = find_site(level, args[0], kwnames, types, static_cast<uint32_t>(count));
  return result(write(choice, values, static_cast<uint32_t>(count), args[0], {}, audit, scratch));
}

template <Level kLevel>
PyObject* log_at(PyObject*, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
  // The disabled level costs this one load (and the call).
  if (!enabled(kLevel)) Py_RETURN_FALSE;
  static constexpr const char* kNames[] = {"trace", "debug", "info", "warn", "error", "critical"};
  return write_event(kLevel, false, kNames[static_cast<int>(kLevel)], args, PyVectorcall_NARGS(nargsf), kwnames);
}

// The level that log() and audit() take first, by name; false with a
// Python exception set when it is missing or not a level.
bool leading_level(PyObject* const* args, Py_ssize_t nargs, const char* name, Level& level) {
  Py_ssize_t size = 0;
  const char* text = nargs >= 1 && PyUnicode_Check(args[0]) ? PyUnicode_AsUTF8AndSize(args[0], &size) : nullptr;
  const std::optional<Level> parsed =
      text != nullptr ? parse_level(std::string_view(text, static_cast<size_t>(size))) : std::nullopt;
  if (!parsed.has_value() || *parsed == Level::kOff) {
    PyErr_Clear();
    PyErr_Format(nargs < 1 ? PyExc_TypeError : PyExc_ValueError,
                 "ringtail.%s(level, message, **fields): level is one of \"trace\", \"debug\", \"info\", "
                 "\"warn\", \"error\", \"critical\"",
                 name);
    return false;
  }
  level = *parsed;
  return true;
}

// log(level, message, **fields)
PyObject* log_any(PyObject*, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
  const Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  Level level = Level::kInfo;
  if (!leading_level(args, nargs, "log", level)) return nullptr;
  if (!enabled(level)) Py_RETURN_FALSE;
  return write_event(level, false, "log", args + 1, nargs - 1, kwnames);
}

// audit(level, message, **fields): never filtered or sampled; waits for room.
PyObject* audit(PyObject*, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
  const Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
  Level level = Level::kInfo;
  if (!leading_level(args, nargs, "audit", level)) return nullptr;
  return write_event(level, true, "audit", args + 1, nargs - 1, kwnames);
}

#define RINGTAIL_EVENT_METHOD(name, function, doc) \
  { name, reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(function)), METH_FASTCALL | METH_KEYWORDS, doc }

PyMethodDef g_methods[] = {
    RINGTAIL_EVENT_METHOD("trace", log_at<Level::kTrace>, "trace(message, **fields) -> bool"),
    RINGTAIL_EVENT_METHOD("debug", log_at<Level::kDebug>, "debug(message, **fields) -> bool"),
    RINGTAIL_EVENT_METHOD("info", log_at<Level::kInfo>,
                          "info(message, **fields) -> bool: writes an INFO event; True if it was committed"),
    RINGTAIL_EVENT_METHOD("warn", log_at<Level::kWarn>, "warn(message, **fields) -> bool"),
    RINGTAIL_EVENT_METHOD("error", log_at<Level::kError>, "error(message, **fields) -> bool"),
    RINGTAIL_EVENT_METHOD("critical", log_at<Level::kCritical>, "critical(message, **fields) -> bool"),
    RINGTAIL_EVENT_METHOD("log", log_any, "log(level, message, **fields) -> bool"),
    RINGTAIL_EVENT_METHOD("audit", audit,
                          "audit(level, message, **fields) -> bool: an audit event, never filtered or sampled; "
                          "a full ring is waited for (the GIL released) up to audit_wait_ms"),
    {nullptr, nullptr, 0, nullptr},
};

}  // namespace

PyMethodDef* event_methods() { return g_methods; }

void set_error_stacks(bool on) { g_error_stacks = on; }

bool log_fields(const std::string& level_name, const py::object& message_object, const py::dict& fields,
                const py::object& file, uint32_t line, const py::object& function, bool audit, bool stack) {
  const std::optional<Level> level = parse_level(level_name);
  if (!level.has_value() || *level == Level::kOff) throw py::value_error("not a level: " + level_name);
  if (!audit && !enabled(*level)) return false;
  if (fields.size() > shm::kMaxFields) {
    throw py::value_error("an event has at most 32 fields, not " + std::to_string(fields.size()));
  }
  ValueScratch scratch;
  binding::Value values[shm::kMaxFields + 1];
  FieldType types[shm::kMaxFields];
  std::vector<std::string> keys;
  keys.reserve(fields.size());
  uint32_t count = 0;
  const bool stacks = stack || (g_error_stacks && *level >= Level::kError);
  for (auto [key, value] : fields) {
    keys.push_back(text_of(key.ptr()));
    to_value(value.ptr(), stacks, scratch, values[1 + count]);
    types[count] = values[1 + count].type;
    ++count;
  }
  sync_frames();
  const std::string message = text_of(message_object.ptr());
  const SiteOrigin origin{text_of(file.ptr()), line, text_of(function.ptr())};
  const SiteChoice choice = find_site(*level, message, keys, types, count, &origin);
  return write(choice, values, count, nullptr, message, audit, scratch) == EmitResult::kCommitted;
}

}  // namespace ringtail::python
