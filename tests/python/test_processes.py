"""Processes and threads: fork, multiprocessing (fork and spawn), SIGKILL, many threads, and the
GIL released while an audit event waits for room."""

import json
import os
import signal
import subprocess
import time

from conftest import by_message, events, one, ringtail_bin, stdout_json


def test_os_fork_children_get_segments_of_their_own(rt):
    p = rt.run_ok(
        """
        import json, os, ringtail
        ringtail.init(service="forker")
        ringtail.info("parent before fork")
        children = []
        with ringtail.context(request="before-fork"):
            for k in range(2):
                pid = os.fork()
                if pid == 0:
                    for i in range(5):
                        ringtail.info("child event", k=k, i=i, mypid=os.getpid())
                    os._exit(0)
                children.append(pid)
        for pid in children:
            _, status = os.waitpid(pid, 0)
            assert status == 0
        ringtail.info("parent after fork")
        print(json.dumps(children))
        """
    )
    children = stdout_json(p)
    rt.track(*children)
    assert len(set(children)) == 2 and p.pid not in children
    lines = rt.drain([p.pid, *children])
    evs = events(lines)
    assert [e["message"] for e in evs if e["pid"] == p.pid] == ["parent before fork", "parent after fork"]
    for k, child in enumerate(children):
        mine = [e for e in evs if e["pid"] == child]
        assert [e["i"] for e in mine] == list(range(5)), mine
        assert all(e["mypid"] == child and e["k"] == k and e["service"] == "forker" for e in mine)
        # The child keeps the context it was forked in.
        assert all(e["request"] == "before-fork" for e in mine), mine
        assert all(e["tid"] == child for e in mine)
        seqs = [e["seq"] for e in mine]
        assert seqs == list(range(seqs[0], seqs[0] + 5))
    assert "request" not in one(evs, "parent after fork")


MP_FORK = """
import json, multiprocessing as mp, os, ringtail

def work(n):
    for i in range(3):
        assert ringtail.info("mp child", n=n, i=i, mypid=os.getpid())
    with ringtail.span("child span", n=n):
        ringtail.info("in child span", n=n, mypid=os.getpid())

if __name__ == "__main__":
    ringtail.init(service="mpfork")
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=work, args=(n,)) for n in range(3)]
    for q in procs: q.start()
    for q in procs: q.join()
    assert all(q.exitcode == 0 for q in procs), [q.exitcode for q in procs]
    ringtail.info("parent done")
    print(json.dumps([q.pid for q in procs]))
"""


def test_multiprocessing_fork(rt):
    p = rt.run_ok(MP_FORK)
    children = stdout_json(p)
    lines = rt.drain([p.pid, *children])
    evs = events(lines)
    assert [e["message"] for e in evs if e["pid"] == p.pid] == ["parent done"]
    for n, child in enumerate(children):
        mine = [e for e in evs if e["pid"] == child]
        assert [e["message"] for e in mine] == ["mp child"] * 3 + ["in child span"]
        assert all(e["mypid"] == child and e["n"] == n and e["service"] == "mpfork" for e in mine)
        starts = [l for l in lines if l["message"] == "span.start" and l["pid"] == child]
        ends = [l for l in lines if l["message"] == "span.end" and l["pid"] == child]
        assert len(starts) == 1 and len(ends) == 1 and starts[0]["n"] == n
        assert mine[-1]["span_id"] == starts[0]["span_id"]


MP_SPAWN = """
import json, multiprocessing as mp, os, sys, ringtail

def work(n):
    r = [ringtail.debug("spawn child debug", n=n, mypid=os.getpid()),
         ringtail.info("spawn child", n=n, mypid=os.getpid(), long="c" * 40),
         ringtail.segment_name(), ringtail.level()]
    print(json.dumps(r), file=sys.stderr)

if __name__ == "__main__":
    ringtail.init(service="spawnparent", level="debug", max_string_bytes=16)
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=work, args=(n,)) for n in range(2)]
    for q in procs: q.start()
    for q in procs: q.join()
    assert all(q.exitcode == 0 for q in procs), [q.exitcode for q in procs]
    ringtail.info("parent done", long="p" * 40)
    print(json.dumps([q.pid for q in procs]))
"""


def test_multiprocessing_spawn_inherits_init(rt):
    p = rt.run_ok(MP_SPAWN)
    children = stdout_json(p)
    assert "cannot init" not in p.stderr, p.stderr
    lines = rt.drain([p.pid, *children])
    evs = events(lines)
    parent = one(evs, "parent done")
    assert parent["pid"] == p.pid and parent["service"] == "spawnparent"
    assert parent["long"] == "p" * 16
    for n, child in enumerate(children):
        mine = [e for e in evs if e["pid"] == child]
        # The inherited level (debug) and service.
        assert [e["message"] for e in mine] == ["spawn child debug", "spawn child"], (mine, p.stderr)
        assert all(e["service"] == "spawnparent" and e["mypid"] == child and e["n"] == n for e in mine)
        assert mine[1]["long"] == "c" * 16 and mine[1]["_cut"] == {"long": 40}  # inherited max_string_bytes


def test_child_python_process_inherits_init(rt):
    """Any Python program the process starts inherits the init through RINGTAIL_PYTHON_INIT."""
    p = rt.run_ok(
        """
        import json, os, subprocess, sys, ringtail
        ringtail.init(service="grandparent", level="warn")
        code = "import os, ringtail; ringtail.info('dropped'); ringtail.warn('child warn', mypid=os.getpid())"
        child = subprocess.run([sys.executable, "-c", code + "; print(os.getpid())"], capture_output=True, text=True)
        assert child.returncode == 0, child.stderr
        print(json.dumps([int(child.stdout), os.environ.get("RINGTAIL_PYTHON_INIT")]))
        """
    )
    child, exported = stdout_json(p)
    assert exported and "grandparent" in exported
    evs = events(rt.drain([p.pid, child]))
    assert [(e["message"], e["pid"], e["service"]) for e in evs] == [("child warn", child, "grandparent")]


def _read_until(stream, word, deadline_s=30):
    start = time.monotonic()
    seen = []
    while time.monotonic() - start < deadline_s:
        line = stream.readline()
        if not line:
            break
        seen.append(line)
        if line.strip() == word:
            return seen
    raise AssertionError(f"no {word!r} from the producer: {seen}")


def test_sigkill_keeps_committed_events(rt):
    n = 300
    proc = rt.start_producer(
        f"""
        import sys, time, ringtail
        ringtail.init(service="killed")
        ok = [ringtail.info("committed", i=i, pad="x" * (i % 50)) for i in range({n})]
        if all(ok):
            print("ready", flush=True)
        else:
            print("lost", ok.count(False), flush=True)
        time.sleep(120)
        """
    )
    _read_until(proc.stdout, "ready")
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    lines = rt.drain([proc.pid])
    evs = events(lines)
    assert [e["seq"] for e in evs] == list(range(n))
    assert [e["i"] for e in evs] == list(range(n))
    assert all(e["pad"] == "x" * (e["i"] % 50) for e in evs)
    assert not by_message(lines, "ringtail.dropped")
    crashed = by_message(lines, "ringtail.crashed")
    assert len(crashed) == 1, "a killed producer gets a ringtail.crashed note"


def test_threads_all_events_drained(rt):
    threads, per_thread = 8, 1000
    p = rt.run_ok(
        f"""
        import json, threading, ringtail
        ringtail.init(service="threads", ring_bytes=1 << 20)
        barrier = threading.Barrier({threads})
        failed = []
        def work(t):
            barrier.wait()
            for i in range({per_thread}):
                if not ringtail.info("thread event", t=t, i=i):
                    failed.append((t, i))
        ts = [threading.Thread(target=work, args=(t,)) for t in range({threads})]
        for x in ts: x.start()
        for x in ts: x.join()
        print(json.dumps({{"failed": len(failed), "losses": ringtail.loss_counters()}}))
        """
    )
    r = stdout_json(p)
    assert r["failed"] == 0 and all(v == 0 for v in r["losses"].values()), r
    lines = rt.drain([p.pid])
    evs = events(lines)
    assert len(evs) == threads * per_thread
    assert not by_message(lines, "ringtail.dropped")
    tids = {e["tid"] for e in evs}
    assert len(tids) == threads
    for tid in tids:
        mine = [e for e in evs if e["tid"] == tid]
        assert len(mine) == per_thread
        assert len({e["t"] for e in mine}) == 1
        seqs = [e["seq"] for e in mine]
        assert seqs == list(range(seqs[0], seqs[0] + per_thread))
        assert [e["i"] for e in mine] == list(range(per_thread))
    assert sorted({e["t"] for e in evs}) == list(range(threads))


def test_gil_released_while_audit_waits(rt):
    p = rt.run_ok(
        """
        import json, threading, time, ringtail
        ringtail.init(service="gil", ring_bytes=4096, audit_wait_ms=2000)
        counter = 0
        stop = False
        def count():
            global counter
            while not stop:
                counter += 1
        result = {}
        def auditor():
            filled = 0
            # Big records, then the smallest, so that not even a small record fits.
            for size in (200, 16, 0):
                while ringtail.info("filler", pad="f" * size):
                    filled += 1
            result["filled"] = filled
            before = counter
            t0 = time.monotonic()
            result["audit"] = ringtail.audit("warn", "audit waits", who="auditor")
            result["waited_s"] = time.monotonic() - t0
            result["advanced"] = counter - before
        counting = threading.Thread(target=count)
        counting.start()
        time.sleep(0.05)
        a = threading.Thread(target=auditor)
        a.start()
        a.join()
        stop = True
        counting.join()
        result["losses"] = ringtail.loss_counters()
        print(json.dumps(result))
        """
    )
    r = stdout_json(p)
    assert r["filled"] > 0
    # Nothing drained the ring: the audit event waited its bound (2 s) and was lost.
    assert r["audit"] is False and r["waited_s"] >= 1.0, r
    assert r["losses"]["audit"] >= 1
    # The counting thread ran meanwhile: the GIL was released during the wait.
    assert r["advanced"] > 10000, r
    lines = rt.drain([p.pid])
    evs = events(lines)
    assert len(by_message(evs, "filler")) == r["filled"]
    assert not by_message(evs, "audit waits")
    assert by_message(lines, "ringtail.audit_lost"), "the lost audit event is reported"


def test_audit_waits_for_the_reader_and_commits(rt):
    """A full ring: the audit event waits (up to audit_wait_ms) until a running drain makes room,
    then is committed; nothing is reported lost for it."""
    proc = rt.start_producer(
        """
        import json, sys, time, ringtail
        ringtail.init(service="auditwait", ring_bytes=4096, audit_wait_ms=20000)
        filled = 0
        for size in (200, 16, 0):
            while ringtail.info("filler", pad="f" * size):
                filled += 1
        print("full", flush=True)
        t0 = time.monotonic()
        ok = ringtail.audit("warn", "audit after wait", who="auditor")
        print(json.dumps({"ok": ok, "filled": filled, "waited_s": time.monotonic() - t0,
                          "losses": ringtail.loss_counters()}), flush=True)
        """
    )
    _read_until(proc.stdout, "full")
    follow = subprocess.Popen([ringtail_bin(), "drain", "--follow", "--no-retention", "--reorder-window", "0",
                               "-o", rt.out_dir, "--pid", str(proc.pid)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=60)
    finally:
        follow.send_signal(signal.SIGTERM)
        follow_out, follow_err = follow.communicate(timeout=60)
    assert proc.returncode == 0, err
    r = json.loads(out.strip().splitlines()[-1])
    assert r["ok"] is True and r["losses"]["audit"] == 0, r
    assert follow.returncode == 0, follow_err
    lines = rt.drain([proc.pid])  # whatever the follow left, and the segment's removal
    evs = events(lines)
    audit = one(evs, "audit after wait")
    assert audit["level"] == "WARN" and audit["who"] == "auditor"
    fillers = by_message(evs, "filler")
    assert len(fillers) == r["filled"]
    # The fillers that did not fit were dropped (a gap before the audit event), the audit event was not.
    assert not by_message(lines, "ringtail.audit_lost")
    assert audit["seq"] > fillers[-1]["seq"]
