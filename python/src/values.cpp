// Python objects as field values: see values.hpp for the mapping.
#include "values.hpp"

#include <datetime.h>

#include <bit>
#include <cstring>

namespace ringtail::python {
namespace {

using shm::FieldType;

PyObject* g_b64encode = nullptr;   // base64.b64encode
PyObject* g_extract_tb = nullptr;  // traceback.extract_tb

// Frames of a traceback kept in an error's stack: the innermost ones, as C++ stacks keep.
constexpr Py_ssize_t kMaxStackFrames = 64;

void set_text(binding::Value& value, const char* data, Py_ssize_t size) {
  value.type = FieldType::kString;
  value.text = std::string_view(data, static_cast<size_t>(size));
}

// The UTF-8 of a str; lone surrogates (which UTF-8 cannot carry) as \udXXX escapes.
std::string_view utf8(PyObject* text, ValueScratch& scratch) {
  Py_ssize_t size = 0;
  if (const char* data = PyUnicode_AsUTF8AndSize(text, &size); data != nullptr) {
    return {data, static_cast<size_t>(size)};
  }
  PyErr_Clear();
  PyObject* bytes = scratch.keep(PyUnicode_AsEncodedString(text, "utf-8", "backslashreplace"));
  if (bytes == nullptr) {
    PyErr_Clear();
    return "<str that is not text>";
  }
  return {PyBytes_AS_STRING(bytes), static_cast<size_t>(PyBytes_GET_SIZE(bytes))};
}

// str(), repr() or another call that returns a str, as a string value.
void from_str_result(PyObject* result, const char* failed, ValueScratch& scratch, binding::Value& value) {
  if (result == nullptr || !PyUnicode_Check(result)) {
    PyErr_Clear();
    value.type = FieldType::kString;
    value.text = failed;
    return;
  }
  scratch.keep(result);
  value.type = FieldType::kString;
  value.text = utf8(result, scratch);
}

// "ValueError", "json.decoder.JSONDecodeError": the module is left out for builtins.
std::string_view qualified_type(PyObject* type, ValueScratch& scratch) {
  std::string& out = scratch.text();
  PyObject* module = scratch.keep(PyObject_GetAttrString(type, "__module__"));
  if (module != nullptr && PyUnicode_Check(module) && PyUnicode_CompareWithASCIIString(module, "builtins") != 0) {
    out.append(utf8(module, scratch)).push_back('.');
  }
  PyErr_Clear();
  PyObject* name = scratch.keep(PyObject_GetAttrString(type, "__qualname__"));
  if (name != nullptr && PyUnicode_Check(name)) {
    out.append(utf8(name, scratch));
  } else {
    out.append(reinterpret_cast<PyTypeObject*>(type)->tp_name);
  }
  PyErr_Clear();
  return out;
}

// "app.py:42 (run_one)" per frame, innermost first, one a line: the order
// and the one-frame-a-line shape of a C++ stack.
std::string_view traceback_text(PyObject* exception, ValueScratch& scratch) {
  PyObject* traceback = scratch.keep(PyException_GetTraceback(exception));
  if (traceback == nullptr || g_extract_tb == nullptr) return {};
  PyObject* frames = scratch.keep(PyObject_CallOneArg(g_extract_tb, traceback));
  if (frames == nullptr || !PyList_Check(frames)) {
    PyErr_Clear();
    return {};
  }
  std::string& out = scratch.text();
  const Py_ssize_t count = PyList_GET_SIZE(frames);
  for (Py_ssize_t i = count; i-- > 0 && count - i <= kMaxStackFrames;) {
    PyObject* frame = PyList_GET_ITEM(frames, i);
    PyObject* file = scratch.keep(PyObject_GetAttrString(frame, "filename"));
    PyObject* line = scratch.keep(PyObject_GetAttrString(frame, "lineno"));
    PyObject* name = scratch.keep(PyObject_GetAttrString(frame, "name"));
    PyErr_Clear();
    if (!out.empty()) out.push_back('\n');
    out.append(file != nullptr && PyUnicode_Check(file) ? utf8(file, scratch) : "?");
    out.push_back(':');
    out.append(line != nullptr && PyLong_Check(line) ? std::to_string(PyLong_AsLong(line)) : "?");
    PyErr_Clear();
    out.append(" (");
    out.append(name != nullptr && PyUnicode_Check(name) ? utf8(name, scratch) : "?");
    out.push_back(')');
  }
  return out;
}

void from_exception(PyObject* exception, bool with_stack, ValueScratch& scratch, binding::Value& value) {
  value.type = FieldType::kError;
  PyObject* type = reinterpret_cast<PyObject*>(Py_TYPE(exception));
  value.error_type = qualified_type(type, scratch);
  PyObject* message = PyObject_Str(exception);
  binding::Value text;
  from_str_result(message, "<str() of the exception failed>", scratch, text);
  value.text = text.text;
  if (PyErr_GivenExceptionMatches(type, PyExc_OSError)) {
    PyObject* code = scratch.keep(PyObject_GetAttrString(exception, "errno"));
    if (code != nullptr && PyLong_Check(code)) {
      int overflow = 0;
      const long long number = PyLong_AsLongLongAndOverflow(code, &overflow);
      if (overflow == 0 && !PyErr_Occurred()) {
        value.code = number;
        value.has_code = true;
      }
    }
    PyErr_Clear();
  }
  if (with_stack) value.stack = traceback_text(exception, scratch);
}

void from_int(PyObject* object, ValueScratch& scratch, binding::Value& value) {
  int overflow = 0;
  const long long number = PyLong_AsLongLongAndOverflow(object, &overflow);
  if (overflow == 0 && !(number == -1 && PyErr_Occurred())) {
    value.type = FieldType::kI64;
    value.word = static_cast<uint64_t>(number);
    return;
  }
  PyErr_Clear();
  if (overflow > 0) {
    const unsigned long long unsigned_number = PyLong_AsUnsignedLongLong(object);
    if (!(unsigned_number == static_cast<unsigned long long>(-1) && PyErr_Occurred())) {
      value.type = FieldType::kU64;
      value.word = unsigned_number;
      return;
    }
    PyErr_Clear();
  }
  // Beyond 64 bits: the exact decimal digits, as a string (a JSON number
  // would be rounded by most parsers; a string says it was not a 64-bit integer).
  from_str_result(PyNumber_ToBase(object, 10), "<int beyond 64 bits>", scratch, value);
}

void from_timedelta(PyObject* object, ValueScratch& scratch, binding::Value& value) {
  const __int128 micros =
      (static_cast<__int128>(PyDateTime_DELTA_GET_DAYS(object)) * 86400 + PyDateTime_DELTA_GET_SECONDS(object)) *
          1000000 +
      PyDateTime_DELTA_GET_MICROSECONDS(object);
  const __int128 nanos = micros * 1000;
  if (nanos >= INT64_MIN && nanos <= INT64_MAX) {
    value.type = FieldType::kDurationNs;
    value.word = static_cast<uint64_t>(static_cast<int64_t>(nanos));
    return;
  }
  // Past ±292 years: the text str() gives.
  from_str_result(PyObject_Str(object), "<timedelta>", scratch, value);
}

}  // namespace

std::string text_of(PyObject* object) {
  ValueScratch scratch;
  if (PyUnicode_Check(object)) return std::string(utf8(object, scratch));
  PyObject* text = scratch.keep(PyObject_Str(object));
  if (text == nullptr || !PyUnicode_Check(text)) {
    PyErr_Clear();
    return "?";
  }
  return std::string(utf8(text, scratch));
}

ValueScratch::~ValueScratch() {
  for (int i = 0; i < count_; ++i) Py_XDECREF(objects_[i]);
  for (PyObject* object : more_) Py_XDECREF(object);
}

PyObject* ValueScratch::keep(PyObject* object) {
  if (object == nullptr) return nullptr;
  if (count_ < static_cast<int>(std::size(objects_))) {
    objects_[count_++] = object;
  } else {
    more_.push_back(object);
  }
  return object;
}

std::string& ValueScratch::text() { return texts_.emplace_front(); }

bool init_values() {
  PyDateTime_IMPORT;
  if (PyDateTimeAPI == nullptr) return false;
  PyObject* base64 = PyImport_ImportModule("base64");
  PyObject* traceback = PyImport_ImportModule("traceback");
  if (base64 == nullptr || traceback == nullptr) {
    Py_XDECREF(base64);
    Py_XDECREF(traceback);
    return false;
  }
  g_b64encode = PyObject_GetAttrString(base64, "b64encode");
  g_extract_tb = PyObject_GetAttrString(traceback, "extract_tb");
  Py_DECREF(base64);
  Py_DECREF(traceback);
  return g_b64encode != nullptr && g_extract_tb != nullptr;
}

void to_value(PyObject* object, bool with_stack, ValueScratch& scratch, binding::Value& value) {
  value = binding::Value{};
  if (PyUnicode_Check(object)) {
    value.type = FieldType::kString;
    value.text = utf8(object, scratch);
  } else if (PyBool_Check(object)) {
    value.type = FieldType::kBool;
    value.word = object == Py_True ? 1 : 0;
  } else if (PyLong_Check(object)) {
    from_int(object, scratch, value);
  } else if (PyFloat_Check(object)) {
    value.type = FieldType::kF64;
    value.word = std::bit_cast<uint64_t>(PyFloat_AS_DOUBLE(object));
  } else if (object == Py_None) {
    value.type = FieldType::kNull;
  } else if (PyExceptionInstance_Check(object)) {
    from_exception(object, with_stack, scratch, value);
  } else if (PyBytes_Check(object) || PyByteArray_Check(object)) {
    PyObject* encoded = scratch.keep(PyObject_CallOneArg(g_b64encode, object));
    if (encoded != nullptr && PyBytes_Check(encoded)) {
      set_text(value, PyBytes_AS_STRING(encoded), PyBytes_GET_SIZE(encoded));
    } else {
      PyErr_Clear();
      set_text(value, "<bytes>", 7);
    }
  } else if (PyDelta_Check(object)) {
    from_timedelta(object, scratch, value);
  } else if (PyIndex_Check(object)) {
    // Integers that are not ints (numpy's, for one): their __index__ value.
    PyObject* index = scratch.keep(PyNumber_Index(object));
    if (index != nullptr) {
      from_int(index, scratch, value);
    } else {
      PyErr_Clear();
      from_str_result(PyObject_Repr(object), "<repr() failed>", scratch, value);
    }
  } else if (PyDateTime_Check(object) || PyDate_Check(object) || PyTime_Check(object)) {
    from_str_result(PyObject_CallMethod(object, "isoformat", nullptr), "<isoformat() failed>", scratch, value);
  } else {
    from_str_result(PyObject_Repr(object), "<repr() failed>", scratch, value);
  }
}

}  // namespace ringtail::python
