// The agent vocabulary (ringtail/agent.hpp) for Python: the C++ call sites
// themselves, so a Python agent's lines are the C++ ones byte for byte.
#pragma once

#include <pybind11/pybind11.h>

namespace ringtail::python {

// Adds _ringtail.agent_step_start ... agent_breakglass; ringtail/agent.py
// gives them their Python names and accepts enums by name.
void add_agent_functions(pybind11::module_& m);

}  // namespace ringtail::python
