// The agent vocabulary's functions, after the caller's frames are bound.
#include "agent_bindings.hpp"

#include <pybind11/stl.h>  // std::optional arguments; every file that binds one includes it

#include <chrono>
#include <optional>
#include <string>

#include "frames.hpp"
#include "ringtail/agent.hpp"

namespace ringtail::python {
namespace {

namespace py = pybind11;

agent::Status status_from(const std::string& text) {
  if (text == "SUCCESS") return agent::Status::kSuccess;
  if (text == "FAILURE") return agent::Status::kFailure;
  if (text == "PARTIAL") return agent::Status::kPartial;
  throw py::value_error("status is SUCCESS, FAILURE or PARTIAL, not " + text);
}

agent::Decision decision_from(const std::string& text) {
  if (text == "ALLOW") return agent::Decision::kAllow;
  if (text == "BLOCK") return agent::Decision::kBlock;
  if (text == "WARN") return agent::Decision::kWarn;
  throw py::value_error("decision is ALLOW, BLOCK or WARN, not " + text);
}

agent::MemoryOp memory_op_from(const std::string& text) {
  static constexpr std::pair<const char*, agent::MemoryOp> kOps[] = {
      {"STORE", agent::MemoryOp::kStore},   {"RECALL", agent::MemoryOp::kRecall},
      {"FORGET", agent::MemoryOp::kForget}, {"COMPACT", agent::MemoryOp::kCompact},
      {"EXPORT", agent::MemoryOp::kExport}, {"IMPORT", agent::MemoryOp::kImport},
  };
  for (const auto& [name, op] : kOps) {
    if (text == name) return op;
  }
  throw py::value_error("operation is STORE, RECALL, FORGET, COMPACT, EXPORT or IMPORT, not " + text);
}

}  // namespace

void add_agent_functions(py::module_& m) {
  m.def("agent_step_start", [](const std::string& run_id, int64_t step_id, const std::string& tool) {
    sync_frames();
    return agent::step_start(run_id, step_id, tool);
  });
  m.def("agent_step_end", [](const std::string& run_id, int64_t step_id, const std::string& tool,
                             const std::string& status, double duration_ms) {
    const agent::Status s = status_from(status);
    sync_frames();
    return agent::step_end(run_id, step_id, tool, s, duration_ms);
  });
  m.def("agent_cost", [](const std::string& model, int64_t tokens, double cost_usd) {
    sync_frames();
    return agent::cost(model, tokens, cost_usd);
  });
  m.def("agent_llm_call", [](const std::string& model, int64_t input_tokens, int64_t output_tokens, double cost_usd,
                             double duration_ms, const std::optional<std::string>& provider) {
    sync_frames();
    if (provider.has_value()) {
      return agent::llm_call(model, input_tokens, output_tokens, cost_usd, duration_ms, *provider);
    }
    return agent::llm_call(model, input_tokens, output_tokens, cost_usd, duration_ms);
  });
  m.def("agent_memory_op", [](const std::string& operation, const std::string& user_id, const std::string& session_id,
                              const std::string& entry_ids, const std::string& status, double duration_ms,
                              const std::string& error_message) {
    const agent::MemoryOp op = memory_op_from(operation);
    const agent::Status s = status_from(status);
    sync_frames();
    return agent::memory_op(op, user_id, session_id, entry_ids, s, duration_ms, error_message);
  });
  // The audit class may wait for room: the GIL is released meanwhile.
  m.def("agent_policy_check", [](const std::string& policy, const std::string& validator, const std::string& decision,
                                 const std::string& reason) {
    const agent::Decision d = decision_from(decision);
    sync_frames();
    py::gil_scoped_release release;
    return agent::policy_check(policy, validator, d, reason);
  });
  m.def("agent_audit_decision",
        [](const std::string& agent_id, const std::string& tool, const std::string& function,
           const std::string& arguments_json, bool allow, const std::string& reason, double duration_ms) {
          sync_frames();
          py::gil_scoped_release release;
          return agent::audit_decision(agent_id, tool, function, arguments_json, allow, reason, duration_ms);
        });
  m.def("agent_breakglass",
        [](const std::string& enabled_by, const std::string& reason, int64_t expires_at_ms, const std::string& token,
           const std::string& affected_validators, const std::string& affected_decisions) {
          sync_frames();
          py::gil_scoped_release release;
          const std::chrono::system_clock::time_point expires{std::chrono::milliseconds(expires_at_ms)};
          return agent::breakglass(enabled_by, reason, expires, token, affected_validators, affected_decisions);
        });
}

}  // namespace ringtail::python
