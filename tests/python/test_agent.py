"""ringtail.agent: the agent vocabulary from Python, with the messages, levels
and keys of docs/FORMAT.md ("Agent vocabulary"), through a real drain."""

import json

from conftest import all_output_bytes, by_message, events

# message -> keys after the line head, in order (docs/FORMAT.md).
KEYS = {
    "step.start": ["run_id", "step_id", "tool"],
    "step.end": ["run_id", "step_id", "tool", "status", "duration_ms"],
    "policy.check": ["policy", "validator", "decision", "allow", "reason"],
    "cost": ["model", "tokens", "cost_usd"],
    "llm.call": ["model", "input_tokens", "output_tokens", "cost_usd", "duration_ms"],
    "audit.decision": ["agent_id", "tool", "function", "arguments", "allow", "reason", "duration_ms"],
    "memory.op": ["operation", "user_id", "session_id", "entry_ids", "status", "duration_ms", "error_message"],
    "breakglass": ["enabled_by", "reason", "expires_at", "token_hash", "affected_validators", "affected_decisions"],
}
HEAD = ["timestamp", "level", "message", "service", "pid", "tid", "seq"]


def test_agent_vocabulary(rt):
    p = rt.run_ok(
        """
        import datetime, json, ringtail
        from ringtail import agent
        ringtail.init(service="agentpy")
        results = [
            agent.step_start("run-1", 1, "search"),
            agent.step_end("run-1", 1, "search", "SUCCESS", 12.5),
            agent.step_end("run-1", 2, "write_file", agent.Status.FAILURE, 3.0),
            agent.policy_check("fs.workspace_only", "path_validator", "ALLOW", "inside"),
            agent.policy_check("fs.workspace_only", "path_validator", agent.Decision.BLOCK, "outside"),
            agent.cost("gpt-x", 1200, 0.0125),
            agent.llm_call("gpt-x", 1000, 200, 0.0125, 812.5),
            agent.llm_call("gpt-x", 10, 20, 0.5, 1.0, provider="openai"),
            agent.audit_decision("agent-7", "shell", "run", '{"cmd":"ls"}', False, "denied", 0.25),
            agent.memory_op("recall", "u-1", "s-1", ["m1", "m2"], "SUCCESS", 4.0),
            agent.memory_op(agent.MemoryOp.FORGET, "u-1", "s-1", "m3", "FAILURE", 1.0, "no such entry"),
            agent.breakglass("alice", "incident 42",
                             datetime.datetime(2026, 11, 30, 18, 0, 0, 123456, tzinfo=datetime.timezone.utc),
                             "SECRET-TOKEN-CANARY", ["v1", "v2"], "BLOCK,WARN"),
        ]
        try:
            agent.step_end("run-1", 3, "x", "DONE", 1.0)
        except ValueError as e:
            results.append(str(e))
        print(json.dumps(results))
        """
    )
    results = json.loads(p.stdout.strip().splitlines()[-1])
    assert results[:-1] == [True] * 12
    assert "SUCCESS, FAILURE or PARTIAL" in results[-1]
    lines = rt.drain([p.pid])
    evs = events(lines)
    assert len(evs) == 12
    for line in evs:
        assert list(line)[: len(HEAD)] == HEAD, line
        keys = list(line)[len(HEAD):]
        expected = KEYS[line["message"]]
        if line["message"] == "llm.call" and "provider" in line:
            expected = expected + ["provider"]
        assert keys == expected, line

    ends = by_message(evs, "step.end")
    assert [e["level"] for e in ends] == ["INFO", "WARN"]
    assert ends[0]["status"] == "SUCCESS" and ends[0]["duration_ms"] == 12.5
    checks = by_message(evs, "policy.check")
    assert [(c["level"], c["decision"], c["allow"]) for c in checks] == [("INFO", "ALLOW", True), ("WARN", "BLOCK", False)]
    calls = by_message(evs, "llm.call")
    assert calls[0]["input_tokens"] == 1000 and calls[0]["output_tokens"] == 200 and "provider" not in calls[0]
    assert calls[1]["provider"] == "openai"
    memory = by_message(evs, "memory.op")
    assert memory[0]["operation"] == "RECALL" and memory[0]["entry_ids"] == "m1,m2" and memory[0]["error_message"] == ""
    assert memory[1]["level"] == "WARN" and memory[1]["operation"] == "FORGET"
    assert memory[1]["error_message"] == "no such entry"
    decision = by_message(evs, "audit.decision")[0]
    assert decision["level"] == "WARN" and decision["allow"] is False
    glass = by_message(evs, "breakglass")[0]
    assert glass["level"] == "WARN"
    assert glass["expires_at"] == "2026-11-30T18:00:00.123Z"
    assert glass["token_hash"].startswith("hmac:") and len(glass["token_hash"]) == 21
    assert glass["affected_validators"] == "v1,v2" and glass["affected_decisions"] == "BLOCK,WARN"
    assert all(b"SECRET-TOKEN-CANARY" not in data for _, data in all_output_bytes(rt.out_dir))
