#!/usr/bin/env python3
"""python_agent: the Python twin of examples/agent_sim, a simulated AI agent runtime.

    PYTHONPATH=build/python /usr/bin/python3 examples/python_agent/agent.py [--runs 6] [--seed 1]

Every run is a user's request, handled by its own asyncio task (all runs at
once): a span for the request and one per tool step, the user's session in a
ringtail.context, policy checks (some BLOCK), tool calls (web_search fans out
three queries in parallel tasks), a model call per step with its tokens and
cost, memory operations, audit decisions, and tool failures logged with their
exception. The retriever is ordinary `logging` code: one handler makes it
ringtail's. At start an operator opens a breakglass. The same seed gives the
same events (measured durations aside).
"""

import argparse
import asyncio
import json
import logging
import random
import sys
import time

import ringtail
from ringtail import agent

# name, policy checked before each call ("" = not risky), why the policy blocks, typical ms, failure rate
TOOLS = [
    ("web_search", "", "", 60.0, 0.06),
    ("read_file", "", "", 15.0, 0.02),
    ("write_file", "fs.workspace_only", "path outside the workspace", 25.0, 0.03),
    ("run_code", "sandbox.no_network", "code opens a network socket", 80.0, 0.08),
    ("vector_recall", "", "", 20.0, 0.01),
]
MODELS = [("gpt-4o", 0.005, "openai"), ("claude-sonnet", 0.003, "anthropic"), ("llama-3-70b", 0.0009, "meta")]
TOOL_ERRORS = [
    ("TIMEOUT", "tool did not answer within 30 s"),
    ("RATE_LIMITED", "upstream answered 429 Too Many Requests"),
    ("NOT_FOUND", "no such file or URL"),
]
STEPS_PER_RUN = 8

# The retriever logs through the standard library; main() adds ringtail.LoggingHandler.
log = logging.getLogger("python_agent.retriever")


class ToolFailed(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def elapsed_ms(since):
    return (time.perf_counter() - since) * 1000


async def search_one(rng, query):
    await asyncio.sleep(rng.uniform(0.02, 0.06))
    if rng.random() < 0.05:
        raise ToolFailed(*rng.choice(TOOL_ERRORS))
    return rng.randint(0, 12)


async def run_tool(rng, tool, typical_ms, failure_rate):
    """The tool call itself; web_search runs three queries as parallel tasks."""
    if tool == "web_search":
        queries = [f"q{k}" for k in range(3)]
        hits = await asyncio.gather(*(search_one(random.Random(rng.random()), q) for q in queries))
        log.info("retrieved %d documents", sum(hits), extra={"queries": len(queries)})
        return
    await asyncio.sleep(min(typical_ms * rng.uniform(0.5, 1.5), 100.0) / 1000)
    if rng.random() < failure_rate:
        raise ToolFailed(*rng.choice(TOOL_ERRORS))


@ringtail.span("llm_call")
async def ask_model(rng, model, usd_per_1k, provider):
    """The model reads the result and picks the next step: a span of its own (the decorator)."""
    started = time.perf_counter()
    input_tokens, output_tokens = rng.randint(200, 3000), rng.randint(20, 800)
    await asyncio.sleep(rng.uniform(0.02, 0.06))
    cost = (input_tokens + output_tokens) * usd_per_1k / 1000
    agent.llm_call(model, input_tokens, output_tokens, cost, elapsed_ms(started), provider=provider)


async def step(rng, run_id, step_id, agent_id, user_id, session_id, model):
    tool, policy, block_reason, typical_ms, failure_rate = rng.choice(TOOLS)
    with ringtail.span("step", tool=tool, step_id=step_id) as span:
        ringtail.debug("planner.choose", run_id=run_id, step_id=step_id, tool=tool)
        agent.step_start(run_id, step_id, tool)
        started = time.perf_counter()
        # Risky tools pass a policy check first; a blocked call ends the step.
        if policy:
            if rng.random() < 0.15:
                agent.policy_check(policy, "validator." + tool, "BLOCK", block_reason)
                agent.step_end(run_id, step_id, tool, "FAILURE", elapsed_ms(started))
                span.set_status("ERROR")
                return
            agent.policy_check(policy, "validator." + tool, "ALLOW", "within policy")
        if tool == "run_code":
            arguments = json.dumps({"language": "python", "lines": rng.randint(3, 80)})
            allow = rng.random() > 0.1
            agent.audit_decision(agent_id, tool, "execute", arguments, allow,
                                 "sandboxed" if allow else "exceeds CPU quota", rng.uniform(0.05, 0.4))
            if not allow:
                agent.step_end(run_id, step_id, tool, "FAILURE", elapsed_ms(started))
                span.set_status("ERROR")
                return
        status = "SUCCESS"
        try:
            await run_tool(rng, tool, typical_ms, failure_rate)
        except ToolFailed as e:  # the error path: the exception, with its traceback, is the field "error"
            status = "FAILURE"
            span.set_status("ERROR")
            ringtail.error("tool.error", tool=tool, error_code=e.code, error=e)
        if tool == "vector_recall":
            hit = rng.random() < 0.7
            agent.memory_op("RECALL", user_id, session_id, [f"mem-{rng.randint(1, 999)}"],
                            "SUCCESS" if hit else "FAILURE", rng.uniform(0.05, 0.8))
            agent.cost("text-embedding-3-small", rng.randint(8, 64), 0.00002)
        elif status == "SUCCESS" and rng.random() < 0.2:
            agent.memory_op("STORE", user_id, session_id, f"mem-{rng.randint(1, 999)}", "SUCCESS",
                            rng.uniform(0.05, 0.8))
        agent.step_end(run_id, step_id, tool, status, elapsed_ms(started))
        await ask_model(rng, *model)


async def handle_request(seed, index):
    """One run: a user's request, in its own task, context and trace."""
    rng = random.Random(seed * 1000 + index)
    run_id, session_id = f"run-{rng.getrandbits(32):08x}", f"sess-{rng.getrandbits(32):08x}"
    user_id, agent_id = f"user-{rng.randint(1, 40)}", f"agent-{index % 4}"
    model = rng.choice(MODELS)
    with ringtail.context(session_id=session_id, user_id=user_id), \
            ringtail.span("request", run_id=run_id, agent_id=agent_id):
        for step_id in range(1, STEPS_PER_RUN + 1):
            await step(rng, run_id, step_id, agent_id, user_id, session_id, model)
        try:
            if rng.random() < 0.3:
                raise ConnectionResetError(104, "memory store closed the connection")
            agent.memory_op("FORGET", user_id, session_id, "", "SUCCESS", rng.uniform(0.05, 0.3))
        except OSError:
            log.exception("memory.forget failed", extra={"session_id": session_id})  # logging's error path


async def serve(seed, runs):
    await asyncio.gather(*(handle_request(seed, i) for i in range(runs)))


def main(argv=None):
    parser = argparse.ArgumentParser(description="Simulates an AI agent runtime (asyncio) that logs to ringtail.")
    parser.add_argument("--runs", type=int, default=6, help="concurrent agent runs of %d steps (default: 6)"
                        % STEPS_PER_RUN)
    parser.add_argument("--seed", type=int, default=1, help="seed of the simulation (default: 1)")
    parser.add_argument("--service", default="python_agent", help="service name (default: python_agent)")
    args = parser.parse_args(argv)

    # error_stacks: an exception logged at ERROR or above carries its traceback.
    ringtail.init(service=args.service, error_stacks=True)
    # The one-line switch: every logging call of the process becomes a ringtail event.
    logging.getLogger().addHandler(ringtail.LoggingHandler())
    logging.getLogger().setLevel(logging.INFO)

    agent.breakglass("oncall@example.com", "incident 4711: sandbox blocks the hotfix build", time.time() + 900,
                     "bg-" + "%016x" % random.Random(args.seed).getrandbits(64), ["sandbox.no_network"],
                     ["BLOCK"])
    started = time.perf_counter()
    asyncio.run(serve(args.seed, args.runs))
    seconds = time.perf_counter() - started
    lost = {k: v for k, v in ringtail.loss_counters().items() if v}
    segment = ringtail.segment_name()
    ringtail.shutdown()
    print(f"python_agent: {args.runs} runs x {STEPS_PER_RUN} steps in {seconds:.2f} s, lost={lost or 0}, "
          f"segment /dev/shm/{segment}", file=sys.stderr)
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
