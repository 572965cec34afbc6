// Python objects as ringtail field values (binding::Value).
//
// bool, int (exact to 64 bits; wider ints as the string of their decimal
// digits; objects with __index__, numpy's integers, as their int), float, str, None (null), bytes and bytearray (base64
// text), datetime/date/time (isoformat() text), timedelta (a duration in nanoseconds), exceptions (the error object:
// qualified type name, str(), errno of an OSError as its code, and its traceback when asked), anything else as its
// repr(). Needs the GIL; the values point into the objects and into a ValueScratch, which must outlive their use.
#pragma once

#include <Python.h>

#include <forward_list>
#include <string>
#include <vector>

#include "ringtail/binding.hpp"

namespace ringtail::python {

// What converting a batch of values had to make: Python objects (decref'd
// when it ends) and strings. One lives on the stack of each call.
class ValueScratch {
 public:
  ValueScratch() = default;
  ValueScratch(const ValueScratch&) = delete;
  ValueScratch& operator=(const ValueScratch&) = delete;
  ~ValueScratch();

  // Keeps `object` (a new reference) until the scratch ends.
  PyObject* keep(PyObject* object);
  std::string& text();

 private:
  // Neither container allocates until used: most events need neither.
  PyObject* objects_[8] = {};
  int count_ = 0;
  std::vector<PyObject*> more_;
  std::forward_list<std::string> texts_;  // stable references
};

// Loads the modules conversion needs (datetime's C API, base64, traceback):
// at module import, with the GIL.
bool init_values();

// The UTF-8 text of a str (lone surrogates as \udXXX escapes), or of
// str(object) for anything else; "?" when even that fails. For keys,
// messages and names, which must never raise on the logging path.
std::string text_of(PyObject* object);

// Converts `object`. with_stack: an exception carries its traceback in the
// error's stack. Never fails: what cannot be converted is written as a
// string saying so (a repr() that raises, a str() that raises).
void to_value(PyObject* object, bool with_stack, ValueScratch& scratch, binding::Value& value);

}  // namespace ringtail::python
