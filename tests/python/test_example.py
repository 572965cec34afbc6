"""examples/python_agent runs and its lines come through a real drain: the
demo's Python agent keeps working as the package changes."""

import os

from conftest import REPO, by_message, events, span_lines


def test_python_agent_example(rt):
    script = os.path.join(REPO, "examples", "python_agent", "agent.py")
    p = rt.run_producer(f"import runpy, sys\nsys.argv = [{script!r}, '--runs', '3']\nrunpy.run_path({script!r}, run_name='__main__')\n")
    assert p.returncode == 0, p.stderr
    assert "lost=0" in p.stderr, p.stderr
    lines = rt.drain([p.pid])
    evs = events(lines)
    assert len(by_message(evs, "step.start")) == 3 * 8
    assert len(by_message(evs, "step.end")) == 3 * 8
    assert by_message(evs, "llm.call") and by_message(evs, "breakglass")
    requests = span_lines(lines, "span.end", "request")
    assert len(requests) == 3
    # Every step event carries its run's context and the trace of its request span.
    traces = {r["trace_id"]: r["session_id"] for r in requests}
    for e in by_message(evs, "step.start"):
        assert traces[e["trace_id"]] == e["session_id"], e
