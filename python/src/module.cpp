// ringtail._ringtail: the native half of the Python package (python/ringtail/).
// Set-up (init, shutdown, levels, counters), the event functions
// (events.cpp), frames (frames.cpp) and the agent vocabulary (agent.cpp).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <optional>
#include <string>

#include "agent_bindings.hpp"
#include "events.hpp"
#include "frames.hpp"
#include "frames_api.hpp"
#include "ringtail/options.hpp"
#include "sites.hpp"
#include "values.hpp"

namespace py = pybind11;

namespace ringtail::python {
namespace {

Level level_from(const std::string& text) {
  const std::optional<Level> level = parse_level(text);
  if (!level.has_value()) {
    throw py::value_error("not a level: \"" + text + "\" (trace, debug, info, warn, error, critical or off)");
  }
  return *level;
}

RingMode mode_from(const std::string& text) {
  if (text == "normal") return RingMode::kNormal;
  if (text == "flight") return RingMode::kFlight;
  throw py::value_error("mode is \"normal\" or \"flight\", not \"" + text + "\"");
}

template <class T>
T bounded(const std::optional<long long>& value, const char* name, long long low, long long high, T fallback) {
  if (!value.has_value()) return fallback;
  if (*value < low || *value > high) {
    throw py::value_error(std::string(name) + " is between " + std::to_string(low) + " and " + std::to_string(high) +
                          ", not " + std::to_string(*value));
  }
  return static_cast<T>(*value);
}

// init(): RINGTAIL_* variables first, then the arguments given.
void init_producer(const std::optional<std::string>& service, const std::optional<std::string>& level,
                   const std::optional<long long>& ring_bytes, const std::optional<std::string>& mode,
                   const std::optional<long long>& max_threads, const std::optional<long long>& max_callsites,
                   const std::optional<long long>& max_string_bytes, const std::optional<long long>& shm_mode,
                   const std::optional<long long>& audit_wait_ms, const std::optional<std::string>& sample,
                   const std::optional<py::bytes>& hash_key, const std::optional<bool>& error_stacks) {
  absl::StatusOr<Options> from_env = options_from_env();
  if (!from_env.ok()) throw py::value_error(std::string{from_env.status().message()});
  Options options = *std::move(from_env);
  if (service.has_value()) options.service = *service;
  if (level.has_value()) options.min_level = level_from(*level);
  options.ring_bytes = bounded<uint64_t>(ring_bytes, "ring_bytes", 0, 1LL << 40, options.ring_bytes);
  if (mode.has_value()) options.mode = mode_from(*mode);
  options.max_threads = bounded<uint32_t>(max_threads, "max_threads", 1, 1 << 20, options.max_threads);
  options.max_callsites = bounded<uint32_t>(max_callsites, "max_callsites", 1, 1 << 20, options.max_callsites);
  options.max_string_bytes =
      bounded<uint32_t>(max_string_bytes, "max_string_bytes", 0, 0xFFFFFFFFLL, options.max_string_bytes);
  options.shm_mode = bounded<uint32_t>(shm_mode, "shm_mode", 0, 0777, options.shm_mode);
  options.audit_wait = std::chrono::milliseconds(
      bounded<long long>(audit_wait_ms, "audit_wait_ms", 0, 3'600'000LL, options.audit_wait.count()));
  if (sample.has_value()) options.sample = *sample;
  if (hash_key.has_value()) options.hash_key = std::string(*hash_key);
  if (error_stacks.has_value()) options.error_stacks = *error_stacks;
  absl::Status status;
  {
    py::gil_scoped_release release;  // init calibrates the clock (milliseconds)
    status = init(options);
  }
  if (!status.ok()) {
    if (absl::IsInvalidArgument(status)) throw py::value_error(std::string{status.message()});
    throw std::runtime_error(std::string{status.message()});
  }
  set_error_stacks(options.error_stacks);
  set_site_budget(options.max_callsites / 2);
}

py::dict loss_counts() {
  const LossCounters c = loss_counters();
  py::dict out;
  out["before_init"] = c.before_init;
  out["no_ring"] = c.no_ring;
  out["callsite_table_full"] = c.callsite_table_full;
  out["ring_full"] = c.ring_full;
  out["too_big"] = c.too_big;
  out["audit"] = c.audit;
  out["audit_before_init"] = c.audit_before_init;
  return out;
}

}  // namespace
}  // namespace ringtail::python

PYBIND11_MODULE(_ringtail, m) {
  using namespace ringtail::python;
  m.doc() = "ringtail's native producer: use the ringtail package";
  if (!init_values()) throw py::error_already_set();
  if (PyModule_AddFunctions(m.ptr(), event_methods()) < 0) throw py::error_already_set();
  PyObject* var = create_frame_var();
  if (var == nullptr) throw py::error_already_set();
  m.attr("frame_var") = py::reinterpret_borrow<py::object>(var);

  m.def("init", &init_producer, py::arg("service") = py::none(), py::arg("level") = py::none(),
        py::arg("ring_bytes") = py::none(), py::arg("mode") = py::none(), py::arg("max_threads") = py::none(),
        py::arg("max_callsites") = py::none(), py::arg("max_string_bytes") = py::none(),
        py::arg("shm_mode") = py::none(), py::arg("audit_wait_ms") = py::none(), py::arg("sample") = py::none(),
        py::arg("hash_key") = py::none(), py::arg("error_stacks") = py::none());
  m.def("shutdown", [] {
    py::gil_scoped_release release;
    ringtail::shutdown();
  });
  m.def("set_level", [](const std::string& level) { ringtail::set_min_level(level_from(level)); });
  m.def("level", [] { return std::string(ringtail::level_name(ringtail::min_level())); });
  m.def("enabled", [](const std::string& level) { return ringtail::enabled(level_from(level)); });
  m.def("segment_name", &ringtail::segment_name);
  m.def("max_event_bytes", &ringtail::max_event_bytes);
  m.def("loss_counters", &loss_counts);
  m.def("site_counts", [] {
    const SiteCounts c = site_counts();
    py::dict out;
    out["sites"] = c.sites;
    out["dynamic_sites"] = c.dynamic_sites;
    out["budget"] = c.budget;
    return out;
  });
  m.def("log_fields", &log_fields, py::arg("level"), py::arg("message"), py::arg("fields"), py::arg("file"),
        py::arg("line"), py::arg("function"), py::arg("audit") = false, py::arg("stack") = false);

  py::class_<Frame>(m, "Frame")
      .def_property_readonly("is_span", [](const Frame& f) { return f.is_span; })
      .def_property_readonly("name", [](const Frame& f) { return f.name; })
      .def_property_readonly("ended", [](const Frame& f) { return f.ended; })
      .def_property_readonly("parent", [](const Frame& f) { return f.parent; })
      .def_property_readonly("trace_id",
                             [](const Frame& f) {
                               char out[ringtail::kTraceIdChars];
                               ringtail::format_trace_id(f.trace_id, out);
                               return f.is_span ? std::string(out, sizeof(out)) : std::string();
                             })
      .def_property_readonly("span_id",
                             [](const Frame& f) {
                               char out[ringtail::kSpanIdChars];
                               ringtail::format_span_id(f.span_id, out);
                               return f.is_span ? std::string(out, sizeof(out)) : std::string();
                             })
      .def_property_readonly("traceparent", &Frame::traceparent)
      .def("set_failed", [](Frame& f) { f.failed = true; });
  m.def("begin_context", &begin_context);
  m.def("begin_span", &begin_span, py::arg("name"), py::arg("attributes"), py::arg("traceparent") = py::none());
  m.def("end_frame", &end_frame, py::arg("frame"), py::arg("error") = py::none());
  add_agent_functions(m);
}
