"""The agent vocabulary: the same events, messages and keys as ringtail/agent.hpp.

Each function is the C++ call site itself, so these lines are the C++ ones
byte for byte (docs/FORMAT.md, "Agent vocabulary"). Statuses, decisions and
operations are given by name ("SUCCESS", "BLOCK", "RECALL", any case) or as
the enums below. policy_check, audit_decision and breakglass are audit
events: never filtered, and a full ring is waited for with the GIL released.
"""

import datetime
import enum

from . import _ringtail


class Status(str, enum.Enum):
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    PARTIAL = "PARTIAL"


class Decision(str, enum.Enum):
    ALLOW = "ALLOW"
    BLOCK = "BLOCK"
    WARN = "WARN"


class MemoryOp(str, enum.Enum):
    STORE = "STORE"
    RECALL = "RECALL"
    FORGET = "FORGET"
    COMPACT = "COMPACT"
    EXPORT = "EXPORT"
    IMPORT = "IMPORT"


def _name(value):
    return value.value if isinstance(value, enum.Enum) else str(value).upper()


def _comma_list(value):
    return value if isinstance(value, str) else ",".join(str(v) for v in value)


def step_start(run_id, step_id, tool):
    """step.start (INFO): run_id, step_id, tool."""
    return _ringtail.agent_step_start(str(run_id), step_id, tool)


def step_end(run_id, step_id, tool, status, duration_ms):
    """step.end (INFO; WARN when it failed): run_id, step_id, tool, status, duration_ms."""
    return _ringtail.agent_step_end(str(run_id), step_id, tool, _name(status), float(duration_ms))


def policy_check(policy, validator, decision, reason):
    """policy.check (audit; INFO when allowed, WARN otherwise): policy, validator, decision, allow, reason."""
    return _ringtail.agent_policy_check(policy, validator, _name(decision), reason)


def cost(model, tokens, cost_usd):
    """cost (INFO): model, tokens, cost_usd."""
    return _ringtail.agent_cost(model, tokens, float(cost_usd))


def llm_call(model, input_tokens, output_tokens, cost_usd, duration_ms, provider=None):
    """llm.call (INFO): model, input_tokens, output_tokens, cost_usd, duration_ms, and provider when given."""
    return _ringtail.agent_llm_call(model, input_tokens, output_tokens, float(cost_usd), float(duration_ms), provider)


def audit_decision(agent_id, tool, function, arguments_json, allow, reason, duration_ms):
    """audit.decision (audit; INFO when allowed, WARN when denied)."""
    return _ringtail.agent_audit_decision(
        agent_id, tool, function, arguments_json, bool(allow), reason, float(duration_ms)
    )


def memory_op(operation, user_id, session_id, entry_ids, status, duration_ms, error_message=""):
    """memory.op (INFO; WARN when it failed); entry_ids: a list or a comma-separated str."""
    return _ringtail.agent_memory_op(
        _name(operation), user_id, session_id, _comma_list(entry_ids), _name(status), float(duration_ms),
        error_message or "",
    )


def breakglass(enabled_by, reason, expires_at, token, affected_validators, affected_decisions):
    """breakglass (audit, WARN): the token is never written, only its keyed hash (token_hash).

    expires_at: a datetime (naive means UTC) or seconds since the epoch.
    affected_*: lists or comma-separated strs.
    """
    if isinstance(expires_at, datetime.datetime):
        if expires_at.tzinfo is None:
            expires_at = expires_at.replace(tzinfo=datetime.timezone.utc)
        expires_ms = int(expires_at.timestamp() * 1000)
    else:
        expires_ms = int(float(expires_at) * 1000)
    return _ringtail.agent_breakglass(
        enabled_by, reason, expires_ms, token, _comma_list(affected_validators), _comma_list(affected_decisions)
    )
