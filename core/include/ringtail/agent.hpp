// The agent vocabulary: typed call sites with fixed keys for what agent
// runtimes log, so that every producer writes the same names and the
// reader's queries, statistics and cost report (docs/QUERY.md) work on them.
// docs/FORMAT.md ("Agent vocabulary") lists each event's message and keys.
//
//   ringtail::agent::step_start(run_id, step_id, "write_file");
//   ringtail::agent::step_end(run_id, step_id, "write_file", ringtail::agent::Status::kSuccess, 1.5);
//   ringtail::agent::policy_check("fs.workspace_only", "path_validator", ringtail::agent::Decision::kBlock,
//                                 "path outside the workspace");
//
// Each function is one call site (its event costs what a RINGTAIL_INFO with
// the same fields costs) and returns whether the event was committed.
// Policy checks, audit decisions and breakglass activations are the audit
// class (RINGTAIL_AUDIT): in a full ring they wait for the reader up to
// Options::audit_wait.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ringtail/field.hpp"
#include "ringtail/log.hpp"
#include "ringtail/shm/hmac_token.hpp"

namespace ringtail::detail {

// "hmac:" and 16 lowercase hex digits (ringtail/shm/hmac_token.hpp).
inline constexpr size_t kTokenHashChars = shm::kHmacTokenChars;
// Writes "hmac:" and the first 8 bytes, in lowercase hex, of HMAC-SHA256 of
// the token's JSON text (with its quotes, escaped as the reader escapes
// strings) under the process's hash key (Options::hash_key), into `out`, and
// returns that text: the value the reader's `hash` redaction rule writes for
// the same string under the same key. Returns "hmac:unavailable" (and leaves
// `out` alone) before init() or when the hash cannot be computed. Tokens of
// ill-formed UTF-8 are hashed as raw bytes (the reader would have replaced
// them by U+FFFD first). Thread-safe, no lock; the token's text is built on
// the stack (on the heap past about 170 bytes) and OpenSSL allocates.
std::string_view token_hash(std::string_view token, char (&out)[kTokenHashChars]) noexcept;

// "2026-11-30T18:00:00.000Z": RFC 3339, UTC, milliseconds (rounded down).
inline constexpr size_t kUtcMillisChars = 24;
void format_utc_millis(std::chrono::system_clock::time_point time, char (&out)[kUtcMillisChars]) noexcept;

}  // namespace ringtail::detail

namespace ringtail::agent {

enum class Status : uint8_t { kSuccess, kFailure, kPartial };
enum class Decision : uint8_t { kAllow, kBlock, kWarn };
enum class MemoryOp : uint8_t { kStore, kRecall, kForget, kCompact, kExport, kImport };

// "SUCCESS", "FAILURE", "PARTIAL".
constexpr std::string_view status_name(Status status) {
  switch (status) {
    case Status::kSuccess:
      return "SUCCESS";
    case Status::kFailure:
      return "FAILURE";
    case Status::kPartial:
      return "PARTIAL";
  }
  return "FAILURE";
}
// "ALLOW", "BLOCK", "WARN".
constexpr std::string_view decision_name(Decision decision) {
  switch (decision) {
    case Decision::kAllow:
      return "ALLOW";
    case Decision::kBlock:
      return "BLOCK";
    case Decision::kWarn:
      return "WARN";
  }
  return "BLOCK";
}
// "STORE", "RECALL", "FORGET", "COMPACT", "EXPORT", "IMPORT".
constexpr std::string_view memory_op_name(MemoryOp op) {
  switch (op) {
    case MemoryOp::kStore:
      return "STORE";
    case MemoryOp::kRecall:
      return "RECALL";
    case MemoryOp::kForget:
      return "FORGET";
    case MemoryOp::kCompact:
      return "COMPACT";
    case MemoryOp::kExport:
      return "EXPORT";
    case MemoryOp::kImport:
      return "IMPORT";
  }
  return "STORE";
}

// step.start (INFO): run_id, step_id, tool.
inline bool step_start(std::string_view run_id, int64_t step_id, std::string_view tool) {
  return RINGTAIL_INFO("step.start", kv("run_id", run_id), kv("step_id", step_id), kv("tool", tool));
}

// step.end (INFO; WARN when it failed): run_id, step_id, tool, status, duration_ms.
inline bool step_end(std::string_view run_id, int64_t step_id, std::string_view tool, Status status,
                     double duration_ms) {
  if (status == Status::kFailure) {
    return RINGTAIL_WARN("step.end", kv("run_id", run_id), kv("step_id", step_id), kv("tool", tool),
                         kv("status", status_name(status)), kv("duration_ms", duration_ms));
  }
  return RINGTAIL_INFO("step.end", kv("run_id", run_id), kv("step_id", step_id), kv("tool", tool),
                       kv("status", status_name(status)), kv("duration_ms", duration_ms));
}

// policy.check (audit class; INFO when allowed, WARN otherwise): policy,
// validator, decision, allow (decision is ALLOW), reason.
inline bool policy_check(std::string_view policy, std::string_view validator, Decision decision,
                         std::string_view reason) {
  if (decision == Decision::kAllow) {
    return RINGTAIL_AUDIT(Level::kInfo, "policy.check", kv("policy", policy), kv("validator", validator),
                          kv("decision", decision_name(decision)), kv("allow", true), kv("reason", reason));
  }
  return RINGTAIL_AUDIT(Level::kWarn, "policy.check", kv("policy", policy), kv("validator", validator),
                        kv("decision", decision_name(decision)), kv("allow", false), kv("reason", reason));
}

// cost (INFO): model, tokens, cost_usd.
inline bool cost(std::string_view model, int64_t tokens, double cost_usd) {
  return RINGTAIL_INFO("cost", kv("model", model), kv("tokens", tokens), kv("cost_usd", cost_usd));
}

// llm.call (INFO): model, input_tokens, output_tokens, cost_usd,
// duration_ms, and provider when given. `report --cost` counts its tokens as
// input_tokens + output_tokens.
inline bool llm_call(std::string_view model, int64_t input_tokens, int64_t output_tokens, double cost_usd,
                     double duration_ms) {
  return RINGTAIL_INFO("llm.call", kv("model", model), kv("input_tokens", input_tokens),
                       kv("output_tokens", output_tokens), kv("cost_usd", cost_usd), kv("duration_ms", duration_ms));
}
inline bool llm_call(std::string_view model, int64_t input_tokens, int64_t output_tokens, double cost_usd,
                     double duration_ms, std::string_view provider) {
  return RINGTAIL_INFO("llm.call", kv("model", model), kv("input_tokens", input_tokens),
                       kv("output_tokens", output_tokens), kv("cost_usd", cost_usd), kv("duration_ms", duration_ms),
                       kv("provider", provider));
}

// audit.decision (audit class; INFO when allowed, WARN when denied): agent_id,
// tool, function, arguments (a JSON text; the reader's redaction rules apply
// to it by key), allow, reason, duration_ms.
inline bool audit_decision(std::string_view agent_id, std::string_view tool, std::string_view function,
                           std::string_view arguments_json, bool allow, std::string_view reason, double duration_ms) {
  if (allow) {
    return RINGTAIL_AUDIT(Level::kInfo, "audit.decision", kv("agent_id", agent_id), kv("tool", tool),
                          kv("function", function), kv("arguments", arguments_json), kv("allow", true),
                          kv("reason", reason), kv("duration_ms", duration_ms));
  }
  return RINGTAIL_AUDIT(Level::kWarn, "audit.decision", kv("agent_id", agent_id), kv("tool", tool),
                        kv("function", function), kv("arguments", arguments_json), kv("allow", false),
                        kv("reason", reason), kv("duration_ms", duration_ms));
}

// memory.op (INFO; WARN when it failed): operation, user_id, session_id,
// entry_ids (comma-separated), status, duration_ms, error_message (empty when none).
inline bool memory_op(MemoryOp op, std::string_view user_id, std::string_view session_id, std::string_view entry_ids,
                      Status status, double duration_ms, std::string_view error_message = {}) {
  if (status == Status::kFailure) {
    return RINGTAIL_WARN("memory.op", kv("operation", memory_op_name(op)), kv("user_id", user_id),
                         kv("session_id", session_id), kv("entry_ids", entry_ids), kv("status", status_name(status)),
                         kv("duration_ms", duration_ms), kv("error_message", error_message));
  }
  return RINGTAIL_INFO("memory.op", kv("operation", memory_op_name(op)), kv("user_id", user_id),
                       kv("session_id", session_id), kv("entry_ids", entry_ids), kv("status", status_name(status)),
                       kv("duration_ms", duration_ms), kv("error_message", error_message));
}

// breakglass (audit class, WARN): a person switched policy enforcement off
// for a while. enabled_by, reason, expires_at (RFC 3339 UTC with
// milliseconds, "2026-11-30T18:00:00.000Z"), token_hash, affected_validators
// and affected_decisions (comma-separated lists, as given). The token that
// authorised it is never written: token_hash is "hmac:" and 16 hex digits of
// a keyed hash of it (detail::token_hash), equal for equal tokens under the
// same key, so activations with one token correlate. Hashing costs a few
// microseconds (an HMAC), only when WARN events are enabled. The reader
// trusts token_hash as a keyed hash (and writes it past its default
// redaction) only at a call site with exactly this message, level and field
// list (reader/output/redaction.hpp, trusted_hash_field): change them together.
inline bool breakglass(std::string_view enabled_by, std::string_view reason,
                       std::chrono::system_clock::time_point expires_at, std::string_view token,
                       std::string_view affected_validators, std::string_view affected_decisions) {
  if (!enabled(Level::kWarn)) return false;
  char hash_buffer[detail::kTokenHashChars];
  const std::string_view token_hash = detail::token_hash(token, hash_buffer);
  char expires_buffer[detail::kUtcMillisChars];
  detail::format_utc_millis(expires_at, expires_buffer);
  const std::string_view expires(expires_buffer, sizeof(expires_buffer));
  return RINGTAIL_AUDIT(Level::kWarn, "breakglass", kv("enabled_by", enabled_by), kv("reason", reason),
                        kv("expires_at", expires), kv("token_hash", token_hash),
                        kv("affected_validators", affected_validators), kv("affected_decisions", affected_decisions));
}

}  // namespace ringtail::agent
