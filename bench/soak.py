#!/usr/bin/env python3
"""Soak: a long `ringtail drain --follow` under churn, then an exact audit of what it stored.

    sudo python3 bench/soak.py --minutes 30            # needs root (mounts a tmpfs store)

For --minutes it keeps --producers ringtail-loadgen processes running (each
with two threads logging inside a ScopedContext, every 50th event an audit
event, small rings so that they drop while the drain is away; one in four is
SIGKILLed part-way, as a crash), SIGKILLs the drain and starts it again every
few minutes, and once fills the store's file system for a minute. Then it
lets the producers finish, stops the drain with SIGTERM and reads everything
stored. It checks, per producer thread:

  * every seq is stored exactly once or inside one "ringtail.dropped" range
    (0 missing, 0 duplicated), for producers that finished and crashed alike;
  * for producers that finished, stored events == what loadgen committed, and
    stored + dropped == what it logged plus the frame records a full ring
    lost (a context's push or pop, counted as a dropped event by design; at
    most two per thread): every loss counted; audit events missing <= the
    "ringtail.audit_lost" notes;
  * every event carries its thread's context ("worker").

and reports the drain's resident memory (VmRSS, sampled every 5 s) per drain
run and overall. It runs in a mount namespace of its own with a private
/dev/shm: its drain sees only its producers, and other drains and tests on
the machine never see them.
Exit status 0 when every check holds, 1 otherwise, 2 on a usage or setup error.
"""

import argparse
import collections
import glob
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time


def log(text):
    print(time.strftime("%H:%M:%S"), text, flush=True)


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class Drain:
    """The drain under test, restarted after every kill; RSS sampled per run."""

    def __init__(self, tool, store, stderr_path):
        self.tool = tool
        self.store = store
        self.stderr = open(stderr_path, "ab")
        self.proc = None
        self.runs = []  # per run: {"start": t, "rss": [kib...], "end": how}

    def start(self):
        self.proc = subprocess.Popen([self.tool, "drain", "--follow", "--out", self.store],
                                     stdout=subprocess.DEVNULL, stderr=self.stderr)
        self.runs.append({"pid": self.proc.pid, "start": time.time(), "rss": [], "end": None})

    def sample(self):
        if self.proc is not None and self.proc.poll() is None:
            kib = rss_kib(self.proc.pid)
            if kib is not None:
                self.runs[-1]["rss"].append((time.time() - self.runs[-1]["start"], kib))

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.runs[-1]["end"] = "SIGKILL"

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=300)
        self.runs[-1]["end"] = f"exit {code}"
        return code


class Producers:
    """Keeps `count` loadgen processes running until told to stop."""

    def __init__(self, loadgen, count, rate, events, ring_bytes, seed):
        self.loadgen = loadgen
        self.count = count
        self.rate = rate
        self.events = events
        self.ring_bytes = ring_bytes
        self.random = random.Random(seed)
        self.serial = 0
        self.running = []
        self.done = []  # {"pid", "service", "threads", "events", "crashed", "result"}
        self.lock = threading.Lock()

    def spawn(self):
        self.serial += 1
        service = f"soak-{os.getpid()}-{self.serial}"
        threads = 2
        crash = self.random.random() < 0.25
        args = [self.loadgen, "--threads", str(threads), "--events", str(self.events), "--rate", str(self.rate),
                "--context", "--audit-every", "50", "--service", service]
        if crash:
            args += ["--abort-after", str(self.random.randint(self.events // 10, self.events - 1))]
        env = dict(os.environ, RINGTAIL_RING_BYTES=str(self.ring_bytes), RINGTAIL_MAX_THREADS="4")
        proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.running.append({"proc": proc, "pid": proc.pid, "service": service, "threads": threads,
                             "events": self.events, "crashed": crash})

    def reap(self):
        still = []
        for p in self.running:
            code = p["proc"].poll()
            if code is None:
                still.append(p)
                continue
            out, err = p["proc"].communicate()
            p["code"] = code
            p["result"] = json.loads(out.decode().strip().splitlines()[-1]) if code == 0 and out.strip() else None
            if code not in (0, -signal.SIGKILL):
                log(f"producer {p['pid']} exited {code}: {err.decode().strip()}")
            del p["proc"]
            self.done.append(p)
        self.running = still

    def keep_up(self):
        self.reap()
        while len(self.running) < self.count:
            self.spawn()

    def finish(self):
        while self.running:
            self.reap()
            time.sleep(0.2)


def read_store(store):
    """Every stored line, parsed, from plain and zstd files."""
    lines = []
    paths = sorted(glob.glob(os.path.join(store, "*", "*", "*.jsonl")) +
                   glob.glob(os.path.join(store, "*", "*", "*.jsonl.zst")))
    for path in paths:
        if path.endswith(".zst"):
            data = subprocess.run(["zstd", "-dc", path], check=True, stdout=subprocess.PIPE).stdout
        else:
            with open(path, "rb") as f:
                data = f.read()
        for raw in data.decode("utf-8").splitlines():
            lines.append(json.loads(raw))
    return lines, len(paths)


def audit(producers, lines):
    """The checks of the module docstring; returns (failures, figures)."""
    by_pid = {p["pid"]: p for p in producers}
    seqs = collections.defaultdict(collections.Counter)   # (pid, tid) -> seq -> times stored
    ranges = collections.defaultdict(list)                # (pid, tid) -> [(first, last)]
    events = collections.Counter()                        # pid -> event lines
    audit_events = collections.Counter()                  # pid -> audit event lines
    audit_lost = collections.Counter()                    # pid -> audit_lost noted
    crashed_notes = collections.Counter()
    without_context = 0
    for d in lines:
        pid = d.get("pid")
        if pid not in by_pid:
            continue
        message = d.get("message", "")
        if "seq" in d:
            seqs[(pid, d["tid"])][d["seq"]] += 1
            events[pid] += 1
            if message == "loadgen.audit":
                audit_events[pid] += 1
            if d.get("worker") != d.get("thread_index"):
                without_context += 1
        elif message == "ringtail.dropped":
            ranges[(pid, d["tid"])].append((d["first_seq"], d["last_seq"]))
        elif message == "ringtail.audit_lost":
            audit_lost[pid] += d.get("audit_lost", 0)
        elif message == "ringtail.crashed":
            crashed_notes[pid] += 1

    failures = []
    missing = duplicated = dropped_total = frame_records_lost = 0
    keys = set(seqs) | set(ranges)
    for key in sorted(keys):
        stored = seqs[key]
        covered = collections.Counter(stored)
        for first, last in ranges[key]:
            dropped_total += last - first + 1
            for s in range(first, last + 1):
                covered[s] += 1
        top = max(covered) if covered else -1
        for s in range(top + 1):
            if covered[s] == 0:
                missing += 1
            elif covered[s] > 1:
                duplicated += covered[s] - 1
    for p in producers:
        pid = p["pid"]
        threads_seen = [k for k in keys if k[0] == pid]
        if p["crashed"]:
            if crashed_notes[pid] != 1:
                failures.append(f"producer {pid} (crashed): {crashed_notes[pid]} crash notes")
            continue
        if p["result"] is None:
            failures.append(f"producer {pid} exited {p.get('code')} without a result")
            continue
        logged = p["threads"] * p["events"]
        stored = events[pid]
        dropped = sum(last - first + 1 for k in threads_seen for first, last in ranges[k])
        # A frame record the ring has no room for (the context's push, or its
        # pop when the thread ends with a full ring) is counted as a dropped
        # event and spends a seq, by design (docs/ARCHITECTURE.md): at most
        # two per thread here, which loadgen, counting only its events, does not see.
        frames_lost = dropped - p["result"]["dropped"]
        frame_records_lost += max(frames_lost, 0)
        if stored != p["result"]["committed"]:
            failures.append(f"producer {pid}: {stored} events stored, loadgen committed {p['result']['committed']}")
        if not 0 <= frames_lost <= 2 * p["threads"] or stored + dropped != logged + frames_lost:
            failures.append(f"producer {pid}: {stored} stored + {dropped} dropped for {logged} logged "
                            f"(loadgen dropped {p['result']['dropped']})")
        audit_logged = p["threads"] * ((p["events"] + 49) // 50)
        if audit_logged - audit_events[pid] > audit_lost[pid]:
            failures.append(f"producer {pid}: {audit_logged - audit_events[pid]} audit events missing, "
                            f"{audit_lost[pid]} noted lost")
    if missing:
        failures.append(f"{missing} seqs neither stored nor in a dropped range")
    if duplicated:
        failures.append(f"{duplicated} seqs stored (or dropped) more than once")
    if without_context:
        failures.append(f"{without_context} events without their thread's context")
    figures = {
        "producers": len(producers),
        "crashed_producers": sum(1 for p in producers if p["crashed"]),
        "event_lines": sum(events.values()),
        "audit_event_lines": sum(audit_events.values()),
        "audit_lost_noted": sum(audit_lost.values()),
        "dropped_in_lines": dropped_total,
        "frame_records_lost": frame_records_lost,
        "missing": missing,
        "duplicated": duplicated,
        "without_context": without_context,
    }
    return failures, figures


def interrupted(signum, frame):
    raise KeyboardInterrupt


def own_namespace():
    """Re-runs this script in a mount namespace of its own with a private
    /dev/shm, so that its drain sees only its producers' segments and nothing
    else on the machine sees them (tests may run beside it)."""
    if os.environ.get("RINGTAIL_SOAK_NAMESPACE") != "1":
        env = dict(os.environ, RINGTAIL_SOAK_NAMESPACE="1")
        os.execvpe("unshare", ["unshare", "--mount", "--propagation", "private", sys.executable,
                               os.path.abspath(__file__)] + sys.argv[1:], env)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1g,mode=1777", "tmpfs", "/dev/shm"], check=True)


def main():
    signal.signal(signal.SIGTERM, interrupted)
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default=os.path.join(here, "..", "build"), help="build directory holding tools/")
    parser.add_argument("--minutes", type=float, default=30, help="how long producers churn (default: 30)")
    parser.add_argument("--producers", type=int, default=3, help="loadgen processes at a time (default: 3)")
    parser.add_argument("--rate", type=float, default=400, help="events/s per producer (default: 400)")
    parser.add_argument("--events", type=int, default=20000, help="events per producer thread (default: 20000)")
    parser.add_argument("--ring-bytes", type=int, default=256 << 10, help="producers' ring size (default: 256 KiB)")
    parser.add_argument("--kill-every", type=float, default=180, help="mean seconds between drain kills (default: 180)")
    parser.add_argument("--store-mib", type=int, default=512, help="size of the tmpfs store (default: 512)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default: 1)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("soak.py: needs root (it mounts a tmpfs for the store, to fill it, and one for /dev/shm)",
              file=sys.stderr)
        return 2
    own_namespace()
    tool = os.path.join(args.build, "tools", "ringtail")
    loadgen = os.path.join(args.build, "tools", "ringtail-loadgen")
    for path in (tool, loadgen):
        if not os.access(path, os.X_OK):
            print(f"soak.py: {path} is not built", file=sys.stderr)
            return 2

    work = tempfile.mkdtemp(prefix="ringtail-soak-")
    store = os.path.join(work, "store")
    os.mkdir(store)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={args.store_mib}m", "tmpfs", store], check=True)
    rng = random.Random(args.seed)
    drain = Drain(tool, store, os.path.join(work, "drain.err"))
    producers = Producers(loadgen, args.producers, args.rate, args.events, args.ring_bytes, args.seed)
    try:
        drain.start()
        start = time.time()
        end = start + args.minutes * 60
        next_kill = start + rng.uniform(0.5, 1.5) * args.kill_every
        fill_at = start + (end - start) * 0.4
        filler = os.path.join(store, "filler")
        fill_until = None
        kills = 0
        last_sample = 0
        log(f"soak for {args.minutes} min, store {store} ({args.store_mib} MiB tmpfs), log {work}/drain.err")
        while time.time() < end:
            now = time.time()
            producers.keep_up()
            if now - last_sample >= 5:
                drain.sample()
                last_sample = now
            if now >= next_kill:
                drain.kill()
                kills += 1
                time.sleep(rng.uniform(1, 5))
                drain.start()
                log(f"drain killed and restarted ({kills})")
                next_kill = time.time() + rng.uniform(0.5, 1.5) * args.kill_every
            if fill_at is not None and now >= fill_at:
                chunk = b"\0" * (1 << 20)
                with open(filler, "wb", buffering=0) as f:
                    try:
                        while True:
                            f.write(chunk)  # tmpfs: written pages are taken, so the disk is full after
                    except OSError:
                        pass
                log(f"store filled ({os.path.getsize(filler) >> 20} MiB filler) for 60 s")
                fill_until = now + 60
                fill_at = None
            if fill_until is not None and now >= fill_until:
                os.unlink(filler)
                log("filler removed")
                fill_until = None
            time.sleep(0.2)
        if fill_until is not None:
            os.unlink(filler)
        log("churn over: producers finish")
        producers.finish()
        # Every finished producer's segment drained and removed (pids are theirs).
        deadline = time.time() + 300
        pids = {p["pid"] for p in producers.done}
        while time.time() < deadline:
            left = [n for n in os.listdir("/dev/shm") if n.startswith("ringtail.") and int(n.split(".")[1]) in pids]
            if not left:
                break
            drain.sample()
            time.sleep(1)
        code = drain.stop()
        log(f"drain stopped: exit {code}")
        lines, files = read_store(store)
        failures, figures = audit(producers.done, lines)
        if code != 0:
            failures.append(f"the drain exited {code} on SIGTERM")
        rss = [(run["pid"], [k for _, k in run["rss"]]) for run in drain.runs]
        figures.update({
            "minutes": args.minutes,
            "drain_kills": kills,
            "files": files,
            "rss_kib_max": max((max(r) for _, r in rss if r), default=0),
            "rss_kib_per_run": [{"first": r[0], "after_60s": r[min(12, len(r) - 1)], "max": max(r), "last": r[-1]}
                                for _, r in rss if r],
        })
        print(json.dumps(figures, indent=1))
        if args.json:
            with open(args.json, "w") as f:
                json.dump(figures, f, indent=1)
        for failure in failures:
            print("FAIL:", failure)
        print("soak: " + ("OK" if not failures else f"{len(failures)} FAILURES"))
        return 0 if not failures else 1
    finally:
        if drain.proc is not None and drain.proc.poll() is None:
            drain.proc.kill()
        for p in producers.running:
            p["proc"].kill()
        subprocess.run(["umount", store], check=False)


if __name__ == "__main__":
    sys.exit(main())
