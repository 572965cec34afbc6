// The event functions: ringtail.trace ... critical, log, audit, and the
// text-keyed path of the logging and structlog adapters.
#pragma once

#include <Python.h>
#include <pybind11/pybind11.h>

namespace ringtail::python {

// trace, debug, info, warn, error, critical, log, audit: vectorcall
// functions (no argument tuple or dict is built), added to the module as is.
PyMethodDef* event_methods();

// Options init() sets for events: exceptions in ERROR and CRITICAL events
// carry their traceback (Options::error_stacks).
void set_error_stacks(bool on);

// _log_fields(level, message, fields, file, line, function, audit, stack):
// keys and values from a dict, the site's origin given by the caller.
bool log_fields(const std::string& level, const pybind11::object& message, const pybind11::dict& fields,
                const pybind11::object& file, uint32_t line, const pybind11::object& function, bool audit, bool stack);

}  // namespace ringtail::python
