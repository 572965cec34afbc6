"""ringtail.context and ringtail.span: nesting, span lines, traceparent, decorators, threads, asyncio
(docs/FORMAT.md, "Context and spans" and "Key collisions")."""

import re

from conftest import by_message, events, one, span_lines, stdout_json

HEX32 = re.compile(r"[0-9a-f]{32}")
HEX16 = re.compile(r"[0-9a-f]{16}")


def test_context_nesting_and_collisions(rt):
    p = rt.run_ok(
        """
        import ringtail
        ringtail.init(service="ctx")
        ringtail.info("before")
        with ringtail.context(a=1, shared="outer", deep="outer-deep"):
            ringtail.info("outer only")
            with ringtail.context(b=2, shared="inner"):
                ringtail.info("inner", own=3)
                ringtail.info("event wins", shared="event", own=4)
                with ringtail.context(deep="innermost", pid="ctx-pid"):
                    ringtail.info("three deep")
            ringtail.info("outer again")
        ringtail.info("after")
        """
    )
    evs = events(rt.drain([p.pid]))
    before, after = one(evs, "before"), one(evs, "after")
    for line in (before, after):
        assert not {"a", "b", "shared", "deep"} & set(line), line
    outer = one(evs, "outer only")
    assert outer["a"] == 1 and outer["shared"] == "outer" and "b" not in outer
    inner = one(evs, "inner")
    assert inner["a"] == 1 and inner["b"] == 2 and inner["shared"] == "inner" and inner["own"] == 3
    # The innermost binding wins and the outer one is not written at all.
    assert not any(k.strip("_") == "shared" and k != "shared" for k in inner), inner
    keys = list(inner)
    assert keys.index("own") < keys.index("a") and keys.index("own") < keys.index("b"), keys
    wins = one(evs, "event wins")
    assert wins["shared"] == "event" and wins["own"] == 4 and wins["a"] == 1 and wins["b"] == 2
    assert not any(k.strip("_") == "shared" and k != "shared" for k in wins), wins
    deep = one(evs, "three deep")
    assert deep["deep"] == "innermost" and deep["shared"] == "inner"
    # A context key equal to a reserved key gets a leading underscore.
    assert deep["pid"] == p.pid and deep["_pid"] == "ctx-pid"
    again = one(evs, "outer again")
    assert again["shared"] == "outer" and "b" not in again and again["deep"] == "outer-deep"


SPANS = """
import json, time, ringtail
ringtail.init(service="spans")
r = {}
with ringtail.span("outer", attr=1, who="outer-attr") as s1:
    r["outer"] = [s1.trace_id, s1.span_id, s1.traceparent, ringtail.current_traceparent()]
    ringtail.info("in outer")
    with ringtail.span("inner") as s2:
        r["inner"] = [s2.trace_id, s2.span_id, s2.traceparent]
        time.sleep(0.02)
        ringtail.info("in inner")
    ringtail.info("back in outer")
r["outside"] = ringtail.current_traceparent()
ringtail.info("outside")
try:
    with ringtail.span("raising") as s3:
        r["raising"] = s3.span_id
        def innermost_raiser():
            raise ValueError("kaput")
        innermost_raiser()
except ValueError:
    pass
with ringtail.span("failing") as s4:
    r["failing"] = s4.span_id
    s4.fail(KeyError("gone"))
    ringtail.info("after fail")
with ringtail.span("marked") as s5:
    r["marked"] = s5.span_id
    s5.set_status("ERROR")
with ringtail.span("okay") as s6:
    s6.set_status("OK")
    try:
        s6.set_status("BROKEN")
    except ValueError:
        r["bad_status"] = "ValueError"
remote = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
with ringtail.span("joined", traceparent=remote) as s7:
    r["joined"] = [s7.trace_id, s7.span_id, s7.traceparent]
    ringtail.info("in joined")
    with ringtail.span("joined child") as s8:
        r["joined_child"] = [s8.trace_id, s8.span_id]
with ringtail.span("bad header", traceparent="not-a-traceparent") as s9:
    r["bad_header"] = [s9.trace_id, s9.span_id]
print(json.dumps(r))
"""


def test_span_lines(rt):
    p = rt.run_ok(SPANS)
    r = stdout_json(p)
    lines = rt.drain([p.pid])
    evs = events(lines)
    outer_trace, outer_id, outer_tp, current = r["outer"]
    assert HEX32.fullmatch(outer_trace) and HEX16.fullmatch(outer_id)
    assert outer_tp == f"00-{outer_trace}-{outer_id}-01" and current == outer_tp
    assert r["outside"] is None

    start = span_lines(lines, "span.start", "outer")
    end = span_lines(lines, "span.end", "outer")
    assert len(start) == 1 and len(end) == 1
    start, end = start[0], end[0]
    assert start["trace_id"] == outer_trace and start["span_id"] == outer_id and "parent_span_id" not in start
    assert start["attr"] == 1 and start["who"] == "outer-attr" and start["level"] == "INFO"
    assert end["status"] == "OK" and end["level"] == "INFO" and "error" not in end
    assert end["trace_id"] == outer_trace and end["span_id"] == outer_id
    assert isinstance(end["duration_ms"], (int, float)) and end["duration_ms"] >= 15
    assert start["tid"] == end["tid"] == p.pid

    inner_trace, inner_id, inner_tp = r["inner"]
    assert inner_trace == outer_trace and inner_id != outer_id
    istart = span_lines(lines, "span.start", "inner")
    assert len(istart) == 1 and istart[0]["parent_span_id"] == outer_id and istart[0]["span_id"] == inner_id
    iend = span_lines(lines, "span.end", "inner")
    assert len(iend) == 1 and 15 <= iend[0]["duration_ms"] < 60_000
    assert iend[0]["duration_ms"] <= end["duration_ms"]

    in_outer, in_inner, back = one(evs, "in outer"), one(evs, "in inner"), one(evs, "back in outer")
    for line, span_id in ((in_outer, outer_id), (in_inner, inner_id), (back, outer_id)):
        assert line["trace_id"] == outer_trace and line["span_id"] == span_id, line
        assert "attr" not in line and "who" not in line  # attributes only on span.start
    assert "trace_id" not in one(evs, "outside") and "span_id" not in one(evs, "outside")
    # Order in time: start < event < end.
    assert start["timestamp"] <= in_outer["timestamp"] <= end["timestamp"]

    # Leaving by an exception: ERROR, WARN, and the exception with its stack.
    rend = span_lines(lines, "span.end", "raising")
    assert len(rend) == 1 and rend[0]["span_id"] == r["raising"]
    assert rend[0]["status"] == "ERROR" and rend[0]["level"] == "WARN"
    err = rend[0]["error"]
    assert err["type"] == "ValueError" and err["message"] == "kaput"
    assert isinstance(err.get("stack"), list) and err["stack"] and "innermost_raiser" in err["stack"][0]

    # fail(exc): one span.end, at once, with the error; leaving the block adds nothing.
    fend = span_lines(lines, "span.end", "failing")
    assert len(fend) == 1 and fend[0]["status"] == "ERROR" and fend[0]["error"]["type"] == "KeyError"
    assert fend[0]["error"]["message"] == str(KeyError("gone"))
    assert fend[0]["timestamp"] <= one(evs, "after fail")["timestamp"]

    mend = span_lines(lines, "span.end", "marked")
    assert len(mend) == 1 and mend[0]["status"] == "ERROR" and "error" not in mend[0]
    assert mend[0]["level"] == "WARN"
    oend = span_lines(lines, "span.end", "okay")
    assert len(oend) == 1 and oend[0]["status"] == "OK"
    assert r["bad_status"] == "ValueError"

    # Joining a remote trace: its trace id, the remote span as parent.
    j_trace, j_id, j_tp = r["joined"]
    assert j_trace == "4bf92f3577b34da6a3ce929d0e0e4736" and j_id != "00f067aa0ba902b7"
    assert j_tp == f"00-{j_trace}-{j_id}-01"
    jstart = span_lines(lines, "span.start", "joined")
    assert len(jstart) == 1 and jstart[0]["parent_span_id"] == "00f067aa0ba902b7"
    assert jstart[0]["trace_id"] == j_trace and jstart[0]["span_id"] == j_id
    assert one(evs, "in joined")["trace_id"] == j_trace and one(evs, "in joined")["span_id"] == j_id
    jc = span_lines(lines, "span.start", "joined child")
    assert len(jc) == 1 and jc[0]["trace_id"] == j_trace and jc[0]["parent_span_id"] == j_id

    # A header that does not parse starts a new trace.
    b_trace, b_id = r["bad_header"]
    bstart = span_lines(lines, "span.start", "bad header")
    assert len(bstart) == 1 and "parent_span_id" not in bstart[0] and bstart[0]["trace_id"] == b_trace
    assert b_trace not in (outer_trace, j_trace)

    # Every span: exactly one start and one end.
    starts = span_lines(lines, "span.start")
    ends = span_lines(lines, "span.end")
    assert sorted(l["span_id"] for l in starts) == sorted(l["span_id"] for l in ends)
    assert len({l["span_id"] for l in starts}) == len(starts) == 9


def test_events_after_fail_are_outside_the_span(rt):
    """s.fail(exc) ends the span at once (as C++'s Span::fail pops its frame): an event
    logged after it, still inside the with block, is not in the ended span; it keeps the
    frames around the span."""
    p = rt.run_ok(
        """
        import ringtail
        ringtail.init(service="failed")
        with ringtail.context(c=1), ringtail.span("outer") as outer:
            with ringtail.span("failing") as s:
                ringtail.info("before fail")
                s.fail(KeyError("gone"))
                ringtail.info("after fail")
            ringtail.info("after with")
        """
    )
    lines = rt.drain([p.pid])
    evs = events(lines)
    outer = span_lines(lines, "span.start", "outer")[0]
    failing = span_lines(lines, "span.start", "failing")[0]
    assert one(evs, "before fail")["span_id"] == failing["span_id"]
    end = span_lines(lines, "span.end", "failing")
    assert len(end) == 1 and end[0]["status"] == "ERROR"
    after = one(evs, "after fail")
    assert after["c"] == 1
    assert after["span_id"] == outer["span_id"], "an event after fail() still carries the ended span"
    assert one(evs, "after with")["span_id"] == outer["span_id"]


def test_decorators(rt):
    p = rt.run_ok(
        """
        import asyncio, ringtail
        ringtail.init(service="decorated")

        @ringtail.span("sync_op", kind="sync")
        def sync_op(n):
            ringtail.info("in sync", n=n)
            return n * 2

        @ringtail.context(request="r-async")
        @ringtail.span("async_op")
        async def async_op(n):
            ringtail.info("async first", n=n)
            await asyncio.sleep(0)
            ringtail.info("async second", n=n)
            return n + 1

        assert sync_op(1) == 2 and sync_op(2) == 4
        async def main():
            return await asyncio.gather(async_op(10), async_op(20))
        assert asyncio.run(main()) == [11, 21]
        ringtail.info("outside")
        """
    )
    lines = rt.drain([p.pid])
    evs = events(lines)
    starts = span_lines(lines, "span.start", "sync_op")
    assert len(starts) == 2 and len(span_lines(lines, "span.end", "sync_op")) == 2
    assert starts[0]["span_id"] != starts[1]["span_id"] and all(s["kind"] == "sync" for s in starts)
    # Each call is a root span of its own trace.
    assert starts[0]["trace_id"] != starts[1]["trace_id"]
    for ev in by_message(evs, "in sync"):
        start = starts[ev["n"] - 1]
        assert ev["span_id"] == start["span_id"] and ev["trace_id"] == start["trace_id"]

    astarts = span_lines(lines, "span.start", "async_op")
    aends = span_lines(lines, "span.end", "async_op")
    assert len(astarts) == 2 and len(aends) == 2
    assert {s["span_id"] for s in astarts} == {s["span_id"] for s in aends}
    for n in (10, 20):
        first = [e for e in by_message(evs, "async first") if e["n"] == n]
        second = [e for e in by_message(evs, "async second") if e["n"] == n]
        assert len(first) == 1 and len(second) == 1
        assert first[0]["request"] == second[0]["request"] == "r-async"
        assert first[0]["span_id"] == second[0]["span_id"]
    span_ids = {e["span_id"] for e in by_message(evs, "async first")}
    assert span_ids == {s["span_id"] for s in astarts}
    out = one(evs, "outside")
    assert "request" not in out and "span_id" not in out


def test_threads_do_not_share_frames(rt):
    p = rt.run_ok(
        """
        import threading, ringtail
        ringtail.init(service="threads")
        def worker():
            ringtail.info("worker plain")
            with ringtail.context(worker_field="w"):
                ringtail.info("worker bound")
                ready.set()
                go.wait(10)
                ringtail.info("worker still bound")
        ready, go = threading.Event(), threading.Event()
        with ringtail.context(main_field="m"), ringtail.span("main span"):
            t = threading.Thread(target=worker)
            t.start()
            ready.wait(10)
            ringtail.info("main while worker bound")
            go.set()
            t.join()
            ringtail.info("main after")
        """
    )
    lines = rt.drain([p.pid])
    evs = events(lines)
    main_tid = p.pid
    plain, bound, still = one(evs, "worker plain"), one(evs, "worker bound"), one(evs, "worker still bound")
    assert plain["tid"] != main_tid and bound["tid"] == plain["tid"] == still["tid"]
    for line in (plain, bound, still):
        assert "main_field" not in line and "trace_id" not in line and "span_id" not in line, line
    assert "worker_field" not in plain and bound["worker_field"] == "w" and still["worker_field"] == "w"
    for msg in ("main while worker bound", "main after"):
        line = one(evs, msg)
        assert line["tid"] == main_tid and line["main_field"] == "m" and "worker_field" not in line
        assert line["span_id"] == span_lines(lines, "span.start", "main span")[0]["span_id"]


ASYNC = """
import asyncio, json, ringtail
ringtail.init(service="tasks")
r = {}

async def worker(name, rounds):
    with ringtail.context(task=name, only=name), ringtail.span(f"span-{name}") as s:
        for i in range(rounds):
            ringtail.info("tick", owner=name, i=i)
            await asyncio.sleep(0)
        ringtail.info("tick", owner=name, i=rounds)

async def child(label):
    ringtail.info("child event", owner=label)
    with ringtail.span("child span"):
        ringtail.info("in child span", owner=label)
        await asyncio.sleep(0)

async def parent():
    with ringtail.span("parent span") as s:
        r["parent"] = [s.trace_id, s.span_id]
        task = asyncio.create_task(child("kid"))
        ringtail.info("parent before await", owner="parent")
        await task
        ringtail.info("parent after await", owner="parent")

async def long_runner():
    with ringtail.span("long span", owner="long") as s:
        r["long"] = s.span_id
        ringtail.info("long start", owner="long")
        for _ in range(10):
            await asyncio.sleep(0)
        ringtail.info("long end", owner="long")

def in_thread():
    ringtail.info("in worker thread", owner="thread")

async def with_thread():
    with ringtail.context(via="to_thread"), ringtail.span("thread span") as s:
        r["thread_span"] = [s.trace_id, s.span_id]
        await asyncio.to_thread(in_thread)
        ringtail.info("after to_thread", owner="thread-main")

async def main():
    await asyncio.gather(long_runner(), worker("A", 6), worker("B", 6), worker("C", 3), parent())
    await with_thread()
    ringtail.info("after all", owner="none")

asyncio.run(main())
print(json.dumps(r))
"""


def test_asyncio_tasks(rt):
    p = rt.run_ok(ASYNC)
    r = stdout_json(p)
    lines = rt.drain([p.pid])
    evs = events(lines)
    main_tid = p.pid

    # Interleaved tasks: each tick carries only its own task's context and span.
    ticks = by_message(evs, "tick")
    assert len(ticks) == 7 + 7 + 4
    spans = {}
    for name in "ABC":
        s = span_lines(lines, "span.start", f"span-{name}")
        e = span_lines(lines, "span.end", f"span-{name}")
        assert len(s) == 1 and len(e) == 1, name
        assert "parent_span_id" not in s[0]
        spans[name] = s[0]
    assert len({s["trace_id"] for s in spans.values()}) == 3
    for t in ticks:
        name = t["owner"]
        assert t["task"] == name and t["only"] == name, t
        assert t["span_id"] == spans[name]["span_id"] and t["trace_id"] == spans[name]["trace_id"], t
        assert t["tid"] == main_tid
    # They did interleave on the one thread (so the binding switched between tasks).
    owners = [t["owner"] for t in sorted(ticks, key=lambda l: l["seq"])]
    switches = sum(1 for a, b in zip(owners, owners[1:]) if a != b)
    assert switches >= 6, owners
    for name in "ABC":
        mine = sorted((t for t in ticks if t["owner"] == name), key=lambda l: l["seq"])
        assert [t["i"] for t in mine] == list(range(len(mine)))

    # The other events carry none of the workers' context.
    for e in evs:
        if e["message"] != "tick":
            assert "task" not in e and "only" not in e, e

    # A child task created inside a span inherits it.
    p_trace, p_id = r["parent"]
    kid = one(evs, "child event")
    assert kid["trace_id"] == p_trace and kid["span_id"] == p_id
    cs = span_lines(lines, "span.start", "child span")
    assert len(cs) == 1 and cs[0]["trace_id"] == p_trace and cs[0]["parent_span_id"] == p_id
    assert one(evs, "in child span")["span_id"] == cs[0]["span_id"]
    for msg in ("parent before await", "parent after await"):
        assert one(evs, msg)["span_id"] == p_id, msg
    assert len(span_lines(lines, "span.end", "child span")) == 1
    assert len(span_lines(lines, "span.end", "parent span")) == 1

    # A span that ends after other tasks logged: exactly one start and one end.
    assert len(span_lines(lines, "span.start", "long span")) == 1
    lend = span_lines(lines, "span.end", "long span")
    assert len(lend) == 1 and lend[0]["span_id"] == r["long"] and lend[0]["status"] == "OK"
    assert one(evs, "long end")["span_id"] == r["long"]
    assert one(evs, "long end")["seq"] - one(evs, "long start")["seq"] > 5  # others logged in between

    # Every span of the run: one start and one end each.
    starts = span_lines(lines, "span.start")
    ends = span_lines(lines, "span.end")
    assert sorted(l["span_id"] for l in starts) == sorted(l["span_id"] for l in ends)
    assert len(starts) == len({l["span_id"] for l in starts})

    # asyncio.to_thread: the worker thread's event carries the span and the context.
    t_trace, t_id = r["thread_span"]
    worker = one(evs, "in worker thread")
    assert worker["tid"] != main_tid
    assert worker["trace_id"] == t_trace and worker["span_id"] == t_id and worker["via"] == "to_thread"
    after = one(evs, "after to_thread")
    assert after["span_id"] == t_id and after["tid"] == main_tid
    last = one(evs, "after all")
    assert "span_id" not in last and "via" not in last


def test_one_scope_object_shared_by_tasks(rt):
    """The same ringtail.context / ringtail.span object used by overlapping tasks (a module-level
    scope, as the decorator form allows): each task enters and leaves its own frame."""
    p = rt.run_ok(
        """
        import asyncio, json, ringtail
        ringtail.init(service="shared")
        shared_ctx = ringtail.context(area="shared")
        shared_span = ringtail.span("shared span")
        errors = []

        async def task(name, delay):
            try:
                with shared_ctx, shared_span:
                    ringtail.info("in", who=name)
                    await asyncio.sleep(delay)
                    ringtail.info("still in", who=name)
                ringtail.info("out", who=name)
            except Exception as e:
                errors.append(f"{name}: {type(e).__name__}: {e}")

        async def main():
            await asyncio.gather(task("A", 0.01), task("B", 0.05))

        asyncio.run(main())
        print(json.dumps(errors))
        """
    )
    assert stdout_json(p) == [], "leaving a shared scope in one task broke the other"
    lines = rt.drain([p.pid])
    evs = events(lines)
    starts = span_lines(lines, "span.start", "shared span")
    ends = span_lines(lines, "span.end", "shared span")
    assert len(starts) == 2 and len(ends) == 2
    assert {s["span_id"] for s in starts} == {e["span_id"] for e in ends}
    for name in "AB":
        mine = [e for e in evs if e["who"] == name]
        assert [e["message"] for e in mine] == ["in", "still in", "out"]
        assert mine[0]["area"] == mine[1]["area"] == "shared" and "area" not in mine[2]
        assert mine[0]["span_id"] == mine[1]["span_id"] and "span_id" not in mine[2]
    assert one([e for e in evs if e["who"] == "A"], "in")["span_id"] != one(
        [e for e in evs if e["who"] == "B"], "in")["span_id"]


def test_ring_taken_over_by_a_new_thread_starts_without_frames(rt):
    """A thread that exits inside a context and a span leaves its ring to the next thread (max_threads=2),
    whose events carry none of them."""
    p = rt.run_ok(
        """
        import threading, ringtail
        ringtail.init(service="takeover", max_threads=2)
        ringtail.info("main")
        def leaky():
            ringtail.context(leaked="yes").__enter__()
            ringtail.span("leaked span").__enter__()
            ringtail.info("leaky thread")
        def clean():
            ringtail.info("clean thread")
        for f in (leaky, clean):
            t = threading.Thread(target=f)
            t.start()
            t.join()
        assert ringtail.loss_counters()["no_ring"] == 0
        """
    )
    evs = events(rt.drain([p.pid]))
    leaky, clean = one(evs, "leaky thread"), one(evs, "clean thread")
    assert leaky["leaked"] == "yes" and "span_id" in leaky
    assert clean["tid"] != leaky["tid"]
    assert "leaked" not in clean and "span_id" not in clean and "trace_id" not in clean
